"""CTC: `ops.ctc_loss` / `ops.ctc_decode`, `losses.CTC` and the Keras-2
`K.ctc_batch_cost` / `K.ctc_decode`, against brute-force enumeration of
every alignment (tiny problems, float64)."""

import itertools

import numpy as np
import pytest

import gkeras
from gkeras import backend as K
from gkeras import layers, losses, ops
from harness import check_grad

RNG = np.random.default_rng(31)


def _collapse(path, blank):
    out, prev = [], None
    for p in path:
        if p != prev and p != blank:
            out.append(int(p))
        prev = p
    return tuple(out)


def _labeling_logprobs(logits, blank, frames=None):
    """log P(labeling) for every labeling reachable in `frames` steps."""
    lp = logits[:frames] - np.log(np.exp(logits[:frames]).sum(-1,
                                                              keepdims=True))
    T, C = lp.shape
    acc = {}
    for path in itertools.product(range(C), repeat=T):
        lab = _collapse(path, blank)
        score = sum(lp[t, path[t]] for t in range(T))
        acc[lab] = np.logaddexp(acc.get(lab, -np.inf), score)
    return acc


@pytest.mark.parametrize("blank", [0, 2])
def test_ctc_loss_matches_brute_force(blank):
    B, T, C = 4, 5, 3
    logits = RNG.standard_normal((B, T, C))
    others = [c for c in range(C) if c != blank]
    a, b = others
    target = np.array([[a, b, 0], [a, a, 0], [b, 0, 0], [b, a, b]])
    tlen = np.array([2, 2, 1, 3])
    olen = np.array([5, 5, 3, 5])
    got = np.asarray(ops.ctc_loss(target, logits, tlen, olen,
                                  mask_index=blank))
    for i in range(B):
        want = -_labeling_logprobs(logits[i], blank, olen[i])[
            tuple(int(v) for v in target[i, :tlen[i]])]
        np.testing.assert_allclose(got[i], want, rtol=1e-9)
    check_grad(lambda x: ops.ctc_loss(target, x, tlen, olen,
                                      mask_index=blank), logits, atol=1e-6)


def test_ctc_decode_greedy_and_beam_search():
    probs = np.array([[[.1, .8, .1], [.1, .8, .1], [.9, .05, .05],
                       [.1, .1, .8], [.1, .1, .8]]])
    logits = np.log(probs)
    dec, score = ops.ctc_decode(logits, [5])
    np.testing.assert_array_equal(np.asarray(dec), [[[1, 2, -1, -1, -1]]])
    # The greedy score: minus the sum of the per-frame maxima.
    np.testing.assert_allclose(np.asarray(score),
                               [[-np.log(probs.max(-1)).sum()]])
    dec, _ = ops.ctc_decode(logits, [5], merge_repeated=False)
    np.testing.assert_array_equal(np.asarray(dec), [[[1, 1, 2, 2, -1]]])
    dec, _ = ops.ctc_decode(logits, [3])        # frames past 3 ignored
    np.testing.assert_array_equal(np.asarray(dec), [[[1, -1, -1, -1, -1]]])
    # Beam search with a wide beam finds the most probable labelings and
    # their exact probabilities.
    x = RNG.standard_normal((2, 5, 3))
    dec, scores = ops.ctc_decode(x, [5, 4], strategy="beam_search",
                                 beam_width=50, top_paths=3)
    dec, scores = np.asarray(dec), np.asarray(scores)
    assert dec.shape == (3, 2, 5) and scores.shape == (2, 3)
    for b, frames in enumerate([5, 4]):
        best = sorted(_labeling_logprobs(x[b], 0, frames).items(),
                      key=lambda kv: -kv[1])[:3]
        for p in range(3):
            assert tuple(int(v) for v in dec[p, b] if v >= 0) == best[p][0]
            np.testing.assert_allclose(scores[b, p], best[p][1], rtol=1e-6)
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(x, [5, 5], strategy="prefix")


def test_ctc_loss_class_trains_a_model():
    # Each sequence of 8 frames shows 2 "digits" (one-hot features);
    # the model learns to emit them.
    n, T, C = 64, 8, 4
    labels = RNG.integers(1, C, (n, 2))
    x = np.zeros((n, T, C), "float32")
    x[:, 1:3, :] = np.eye(C)[labels[:, :1]]
    x[:, 5:7, :] = np.eye(C)[labels[:, 1:]]
    model = gkeras.Sequential([gkeras.Input((T, C)),
                               layers.Bidirectional(layers.GRU(
                                   16, return_sequences=True)),
                               layers.Dense(C)])
    model.compile(optimizer=gkeras.optimizers.Adam(0.02), loss=losses.CTC())
    hist = model.fit(x, labels, epochs=40, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.3 * hist.history["loss"][0]
    dec, _ = ops.ctc_decode(model.predict(x, verbose=0), np.full(n, T))
    hits = (np.asarray(dec)[0, :, :2] == labels).all(1).mean()
    assert hits > 0.8
    want = np.asarray(ops.ctc_loss(labels, x, [2] * n, [T] * n))
    np.testing.assert_allclose(np.asarray(losses.ctc(labels, x)), want,
                               rtol=1e-6)
    assert losses.get("CTC").get_config()["name"] == "ctc"


def test_keras2_ctc_batch_cost_and_decode():
    B, T, C = 2, 4, 3                           # blank = last class (2)
    logits = RNG.standard_normal((B, T, C))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y = np.array([[0, 1], [1, 0]])
    cost = np.asarray(K.ctc_batch_cost(y, probs, np.array([[4], [3]]),
                                       np.array([[2], [1]])))
    assert cost.shape == (2, 1)
    want0 = -_labeling_logprobs(np.log(probs[0] + 1e-7), 2)[(0, 1)]
    want1 = -_labeling_logprobs(np.log(probs[1] + 1e-7), 2, 3)[(1,)]
    np.testing.assert_allclose(cost[:, 0], [want0, want1], rtol=1e-5)
    (dense,), logp = K.ctc_decode(probs, np.array([4, 4]))
    best = probs.argmax(-1)
    for b in range(B):
        assert tuple(int(v) for v in np.asarray(dense)[b] if v >= 0) == \
            _collapse(best[b], 2)
    paths, logp = K.ctc_decode(probs, np.array([4, 4]), greedy=False,
                               beam_width=20, top_paths=2)
    assert len(paths) == 2 and np.asarray(logp).shape == (2, 2)


def test_ctc_bad_input_is_named():
    with pytest.raises(ValueError, match="`y_true` are expected"):
        losses.ctc(np.zeros(3), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="`y_pred` are expected"):
        losses.ctc(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        ops.ctc_loss([[1, 5]], np.zeros((1, 4, 3)), [2], [4])
    with pytest.raises(ValueError, match="target_length"):
        ops.ctc_loss([[1, 2]], np.zeros((1, 4, 3)), [2, 2], [4])
