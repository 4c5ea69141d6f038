"""Data-parallel training over MPI (gkeras.distribution).

The multi-process cases launch `mpiexec -n 2 python tests/_dist_worker.py`
as subprocesses with a timeout, on the NumPy backend, and compare with
single-process training in this process (independent references: plain
fit on the global batch, or, for per-replica BatchNormalization, a
hand-written average of per-shard gradients)."""

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import _dist_worker as W

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "_dist_worker.py")


def _mpiexec():
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return exe if os.path.exists(exe) else shutil.which("mpiexec")


def _skip_reason():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install gkeras[distributed])"
    if _mpiexec() is None:
        return "no mpiexec on PATH or beside the Python executable"
    return None


needs_mpi = pytest.mark.skipif(_skip_reason() is not None,
                               reason=str(_skip_reason()))


def _launch(mode, out, n=2, timeout=90, env_extra=None):
    env = dict(os.environ, GKERAS_BACKEND="numpy", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=HERE + os.pathsep +
               os.path.dirname(HERE))
    env.update(env_extra or {})
    t0 = time.monotonic()
    proc = subprocess.run(
        [_mpiexec(), "-n", str(n), sys.executable, WORKER, mode, str(out)],
        capture_output=True, text=True, timeout=timeout, env=env)
    return proc, time.monotonic() - t0


@pytest.fixture(scope="module")
def equivalence(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist_eq")
    proc, _ = _launch("equivalence", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [dict(np.load(out / f"eq_rank{r}.npz")) for r in range(2)]


def _weights(res, kind):
    return [res[f"{kind}/w{i}"] for i in range(
        len([k for k in res if k.startswith(f"{kind}/w")]))]


def _per_replica_reference(kind, size=2):
    """SGD on the average of per-shard gradients, each shard normalized
    with its own batch statistics; moving statistics averaged."""
    from gkeras.ops.engine import GradientTape, backward
    x, y = W.data(kind)
    model = W.build(kind)
    bn = [l for l in model.layers if "batch_norm" in l.name][0]
    tv = model.trainable_weights
    n = len(x)
    for _ in range(W.STEPS):
        total = [np.zeros_like(v.numpy(), dtype="float64") for v in tv]
        mm0, mv0 = bn.moving_mean.numpy(), bn.moving_variance.numpy()
        mm, mv = [], []
        for xs, ys in zip(np.array_split(x, size), np.array_split(y, size)):
            bn.moving_mean.assign(mm0)
            bn.moving_variance.assign(mv0)
            with GradientTape():
                pred = model(xs, training=True)
                loss = model.compute_loss(xs, ys, pred)
            for t, g in zip(total, backward(loss, tv)):
                t += np.asarray(g, "float64") * len(xs) / n
            mm.append(bn.moving_mean.numpy())
            mv.append(bn.moving_variance.numpy())
        bn.moving_mean.assign(np.mean(mm, axis=0))
        bn.moving_variance.assign(np.mean(mv, axis=0))
        for v, g in zip(tv, total):
            v.assign((v.numpy() - W.LR * g).astype("float32"))
    return model.get_weights()


@needs_mpi
@pytest.mark.parametrize("kind", ["mlp", "cnn_sync", "lstm"])
def test_two_processes_equal_one_process_on_global_batch(equivalence, kind):
    ref_model, ref_hist = W.train(kind)
    r0, r1 = equivalence
    for a, b in zip(_weights(r0, kind), _weights(r1, kind)):
        np.testing.assert_array_equal(a, b)  # replicas bit-identical
    ref = ref_model.get_weights()
    got = _weights(r0, kind)
    assert len(got) == len(ref)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    for k, v in ref_hist.items():
        np.testing.assert_allclose(r0[f"{kind}/h_{k}"], v, rtol=2e-5,
                                   atol=1e-6, err_msg=k)
        np.testing.assert_array_equal(r0[f"{kind}/h_{k}"],
                                      r1[f"{kind}/h_{k}"])


@needs_mpi
def test_batchnorm_uses_per_replica_statistics(equivalence):
    r0, r1 = equivalence
    ref = _per_replica_reference("cnn")
    got = _weights(r0, "cnn")
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    for a, b in zip(got, _weights(r1, "cnn")):
        np.testing.assert_array_equal(a, b)
    # ...which differs from global-batch statistics (synchronized=True).
    single, _ = W.train("cnn")
    assert not np.allclose(got[-1], single.get_weights()[-1], atol=1e-6) \
        or not np.allclose(got[3], single.get_weights()[3], atol=1e-6)


@needs_mpi
def test_uneven_shards_evaluate_predict_gathered(equivalence):
    r0, r1 = equivalence
    x, y = W.data("mlp")
    x, y = x[:13], y[:13]
    model = W.build("mlp")
    hist = model.fit(x, y, batch_size=5, epochs=2, shuffle=True, verbose=0)
    np.testing.assert_allclose(r0["tail/h_loss"], hist.history["loss"],
                               rtol=2e-5)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(r0[f"tail/w{i}"], w, rtol=2e-5,
                                   atol=2e-6)
    ev = model.evaluate(x, y, batch_size=4, verbose=0)
    np.testing.assert_allclose(r0["tail/eval"], ev, rtol=2e-5)
    np.testing.assert_array_equal(r0["tail/eval"], r1["tail/eval"])
    pred = model.predict(x, batch_size=4, verbose=0)
    assert r0["tail/pred"].shape == pred.shape == (13, 3)
    np.testing.assert_allclose(r0["tail/pred"], pred, rtol=2e-5, atol=1e-6)
    np.testing.assert_array_equal(r0["tail/pred"], r1["tail/pred"])
    assert list(r0["devices"]) == ["cpu:0", "cpu:1"]
    assert int(r0["size"]) == 2


@needs_mpi
def test_only_rank0_prints_and_writes_files(tmp_path):
    proc, _ = _launch("files", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(os.listdir(tmp_path))
    assert "w_rank0.weights.h5" in names and "m_rank0.keras" in names
    assert not [n for n in names if "rank1" in n and
                not n.startswith("stdout")], names
    assert "Epoch 1/2" in (tmp_path / "stdout_rank0.txt").read_text()
    assert (tmp_path / "stdout_rank1.txt").read_text() == ""


@needs_mpi
@pytest.mark.parametrize("how", ["kill", "raise", "hang"])
def test_failed_rank_ends_the_job(tmp_path, how):
    # `hang`: rank 1 stops answering; the watchdog of rank 0 aborts.
    proc, took = _launch(how, tmp_path, timeout=90,
                         env_extra={"GKERAS_COLLECTIVE_TIMEOUT": "3"})
    assert proc.returncode != 0
    assert took < 60
    assert "DONE" not in proc.stdout
    if how == "hang":
        assert "waited more than 3 s" in proc.stderr, proc.stderr


def test_api_without_mpi_job():
    from gkeras import distribution as D
    assert D.distribution() is None
    assert D.rank() == 0 and D.size() == 1 and D.is_chief()
    assert D.list_devices("cpu") == ["cpu:0"]
    with pytest.raises(ValueError, match="device_type"):
        D.list_devices("tpu")
    with pytest.raises(NotImplementedError, match="job_addresses"):
        D.initialize(job_addresses="10.0.0.1:1234")
    with pytest.raises(NotImplementedError, match="ModelParallel"):
        D.ModelParallel()
    with pytest.raises(TypeError, match="DataParallel"):
        D.set_distribution("data")


def test_collectives_name_sets_match():
    from gkeras.backend.cpu import collectives as c
    from gkeras.backend.gpu import collectives as g
    assert set(c.__all__) == set(g.__all__) == {"Communicator",
                                                "select_device"}


class _OneRank:
    """A world of one: the sync-BN collectives are identities."""

    def allreduce_sum_(self, buf):
        return buf


def test_sync_batchnorm_primitive_gradients_world_of_one():
    from harness import check_grad
    from gkeras.distribution.sync_batch_norm import SyncBatchNormTrain
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3, 4))
    gamma = rng.normal(size=(4,))
    beta = rng.normal(size=(4,))
    w = rng.normal(size=(5, 3, 4))

    def f(x, gamma, beta):
        from gkeras import ops
        y = SyncBatchNormTrain(_OneRank(), 1.0, -1, 1e-3)(x, gamma, beta)
        return ops.sum(ops.multiply(y, w))
    check_grad(f, x, gamma, beta)
    # Forward equals the NumPy float64 definition.
    y = SyncBatchNormTrain(_OneRank(), 1.0, -1, 1e-3).forward(x, gamma,
                                                               beta)
    m = x.mean(axis=(0, 1))
    v = x.var(axis=(0, 1))
    np.testing.assert_allclose(y, (x - m) / np.sqrt(v + 1e-3) * gamma + beta,
                               rtol=1e-10)
