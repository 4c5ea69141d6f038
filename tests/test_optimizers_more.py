"""Adafactor, Lamb, Muon, ScheduleFreeAdamW, MultiOptimizer/OptimizerMap,
EMA (`use_ema`) and the SwapEMAWeights callback.

References: a NumPy float64 reimplementation of each of Keras 3.15's update
rules (written from its source, not from gkeras), trajectories recorded
from Keras 3.15.1 (tests/fixtures/optimizer_trajectories_keras315.json,
made by running `_scenario` below on `keras` with KERAS_BACKEND=jax), and
Keras's variable layouts (the order of the saved optimizer state)."""

import json
import math
import os

import numpy as np
import pytest

import gkeras
from gkeras import optimizers

HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "fixtures",
                       "optimizer_trajectories_keras315.json")) as f:
    KERAS_TRAJ = json.load(f)

CONFIGS = {
    "adafactor": ("Adafactor", {"learning_rate": 0.05}),
    "adafactor_sched": ("Adafactor", {"learning_rate": "sched",
                                      "clip_threshold": 0.5,
                                      "epsilon_2": 0.01}),
    "adafactor_norel": ("Adafactor", {"learning_rate": 0.5,
                                      "relative_step": False,
                                      "beta_2_decay": -0.5}),
    "lamb": ("Lamb", {"learning_rate": 0.01}),
    "lamb_wd": ("Lamb", {"learning_rate": 0.02, "beta_1": 0.8,
                         "weight_decay": 0.1, "epsilon": 1e-3}),
    "muon": ("Muon", {"learning_rate": 0.02}),
    "muon_plain": ("Muon", {"learning_rate": 0.01, "nesterov": False,
                            "rms_rate": None, "ns_steps": 3,
                            "adam_lr_ratio": 0.5, "weight_decay": 0.1,
                            "adam_weight_decay": 0.0,
                            "exclude_layers": ["k2"]}),
    "sfadamw": ("ScheduleFreeAdamW", {"learning_rate": 0.01}),
    "sfadamw_warm": ("ScheduleFreeAdamW", {"learning_rate": 0.05,
                                           "warmup_steps": 3, "beta_1": 0.5,
                                           "weight_decay": 0.01}),
    "adam_ema": ("Adam", {"learning_rate": 0.1, "use_ema": True,
                          "ema_momentum": 0.8}),
    "sgd_ema_overwrite": ("SGD", {"learning_rate": 0.1, "momentum": 0.5,
                                  "use_ema": True, "ema_momentum": 0.5,
                                  "ema_overwrite_frequency": 2}),
}
SHAPES = [("k1", (3, 4)), ("b1", (4,)), ("k2", (5, 2)), ("emb", (6, 3))]


def _scenario(K, cls_name, kw, steps=4, dtype="float32"):
    """The run recorded on Keras (K is `keras` or `gkeras`): fixed initial
    values and gradients, `steps` calls of `apply`."""
    rng = np.random.default_rng(0)
    init = [rng.normal(size=s).astype(dtype) for _, s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for _, s in SHAPES]
             for _ in range(steps)]
    kw = dict(kw)
    if kw.get("learning_rate") == "sched":
        kw["learning_rate"] = K.optimizers.schedules.ExponentialDecay(
            0.3, 2, 0.5)
    variables = [K.Variable(v, name=n, dtype=dtype)
                 for v, (n, _) in zip(init, SHAPES)]
    opt = getattr(K.optimizers, cls_name)(**kw)
    for g in grads:
        opt.apply(g, variables)
    return init, grads, variables, opt


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_matches_recorded_keras_trajectory(key):
    cls_name, kw = CONFIGS[key]
    _, _, variables, opt = _scenario(gkeras, cls_name, kw)
    want = KERAS_TRAJ[key]
    for v, w in zip(variables, want["vars"]):
        np.testing.assert_allclose(v.numpy(), np.array(w), rtol=1e-5,
                                   atol=2e-6, err_msg=key)
    # The saved state has Keras's layout (count, order and shapes).
    assert [list(v.shape) for v in opt.variables] == want["opt_shapes"]
    assert [str(v.dtype) for v in opt.variables][1:] == \
        want["opt_dtypes"][1:]


# ------------------------------------------------ NumPy float64 references
def _rms(x):
    return np.sqrt(np.mean(x * x))


def np_adafactor(ws, grads, lr, beta_2_decay=-0.8, eps1=1e-30, eps2=1e-3,
                 clip=1.0, relative_step=True):
    ws = [w.copy() for w in ws]
    r = [np.zeros(w.shape[:-1]) if w.ndim >= 2 else None for w in ws]
    c = [np.zeros(w.shape[:-2] + w.shape[-1:]) if w.ndim >= 2 else None
         for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(grads, 1):
        for i, (w, g) in enumerate(zip(ws, gs)):
            lr_t = min(lr, 1 / math.sqrt(t)) if relative_step else lr
            rho = min(lr_t, 1 / math.sqrt(t))
            alpha = max(eps2, _rms(w)) * rho
            reg = g * g + eps1
            b = 1 - t ** beta_2_decay
            if w.ndim >= 2:
                r[i] = b * r[i] + (1 - b) * reg.mean(-1)
                c[i] = b * c[i] + (1 - b) * reg.mean(-2)
                v[i] = (r[i] / r[i].mean(-1, keepdims=True))[..., None] * \
                    c[i][..., None, :]
            else:
                v[i] = b * v[i] + (1 - b) * reg
            u = g / np.sqrt(v[i])
            u = u / max(1.0, _rms(u) / clip)
            ws[i] = w - alpha * u
    return ws


def np_lamb(ws, grads, lr, b1=0.9, b2=0.999, eps=1e-7, wd=None):
    ws = [w.copy() for w in ws]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(grads, 1):
        for i, g in enumerate(gs):
            if wd:
                ws[i] = ws[i] - ws[i] * wd * lr
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            upd = (m[i] / (1 - b1 ** t)) / (np.sqrt(v[i] / (1 - b2 ** t))
                                             + eps)
            wn, un = np.linalg.norm(ws[i]), np.linalg.norm(upd)
            ratio = wn / un if wn > 0 and un > 0 else 1.0
            ws[i] = ws[i] - ratio * lr * upd
    return ws


def _ns5(x, steps, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def np_muon(ws, names, grads, lr, momentum=0.95, nesterov=True, ns_steps=5,
            rms_rate=0.2, adam_lr_ratio=1.0, b1=0.9, b2=0.999, eps=1e-7,
            wd=0.004, adam_wd=0.004, exclude=()):
    ws = [w.copy() for w in ws]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    adam = [w.ndim != 2 or "embedding" in n or any(e in n for e in exclude)
            for w, n in zip(ws, names)]
    for t, gs in enumerate(grads, 1):
        for i, g in enumerate(gs):
            decay = adam_wd if adam[i] else wd
            if decay:
                ws[i] = ws[i] - ws[i] * decay * lr
            if adam[i]:
                alr = lr * adam_lr_ratio
                m[i] = m[i] + (g - m[i]) * (1 - b1)
                v[i] = v[i] + (g * g - v[i]) * (1 - b2)
                alpha = alr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                ws[i] = ws[i] - alpha * m[i] / (np.sqrt(v[i]) + eps)
            else:
                m[i] = momentum * m[i] + g
                d = g + momentum * m[i] if nesterov else m[i]
                u = lr * _ns5(d, ns_steps)
                if rms_rate is not None:
                    u = u * math.sqrt(max(u.shape)) * rms_rate
                ws[i] = ws[i] - u
    return ws


def np_sfadamw(ws, grads, lr, b1=0.9, b2=0.999, eps=1e-8, warmup=0):
    ys = [w.copy() for w in ws]
    z = [w.copy() for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(grads, 1):
        lr_t = lr * min(t / warmup, 1.0) if warmup else lr
        for i, g in enumerate(gs):
            x = (ys[i] - (1 - b1) * z[i]) / b1
            v[i] = b2 * v[i] + (1 - b2) * g * g
            z[i] = z[i] - lr_t * g / (np.sqrt(v[i] / (1 - b2 ** t)) + eps)
            x = (1 - 1 / t) * x + (1 / t) * z[i]
            ys[i] = (1 - b1) * z[i] + b1 * x
    return ys


# Learning rates exactly representable in float32 (the optimizer keeps
# its rate in a float32 variable, as Keras).
NUMPY_CASES = {
    "adafactor": ("Adafactor", {"learning_rate": 0.25},
                  lambda w, n, g: np_adafactor(w, g, 0.25)),
    "adafactor_norel": ("Adafactor", {"learning_rate": 0.5,
                                      "relative_step": False,
                                      "clip_threshold": 0.25,
                                      "beta_2_decay": -0.5},
                        lambda w, n, g: np_adafactor(
                            w, g, 0.5, beta_2_decay=-0.5, clip=0.25)),
    "lamb": ("Lamb", {"learning_rate": 0.0625, "weight_decay": 0.125},
             lambda w, n, g: np_lamb(w, g, 0.0625, wd=0.125)),
    "muon": ("Muon", {"learning_rate": 0.03125},
             lambda w, n, g: np_muon(w, n, g, 0.03125)),
    "muon_plain": ("Muon", {"learning_rate": 0.0625, "nesterov": False,
                            "rms_rate": None, "ns_steps": 2,
                            "adam_lr_ratio": 0.5, "exclude_layers": ["k2"],
                            "momentum": 0.5},
                   lambda w, n, g: np_muon(w, n, g, 0.0625, momentum=0.5,
                                           nesterov=False, ns_steps=2,
                                           rms_rate=None, adam_lr_ratio=0.5,
                                           exclude=("k2",))),
    "sfadamw": ("ScheduleFreeAdamW", {"learning_rate": 0.0625,
                                      "warmup_steps": 3, "beta_1": 0.75},
                lambda w, n, g: np_sfadamw(w, g, 0.0625, b1=0.75,
                                           warmup=3)),
}


@pytest.mark.parametrize("key", sorted(NUMPY_CASES))
def test_update_rule_vs_numpy_float64(key):
    cls_name, kw, ref = NUMPY_CASES[key]
    init, grads, variables, _ = _scenario(gkeras, cls_name, kw, steps=6,
                                          dtype="float64")
    want = ref([np.array(w) for w in init], [n for n, _ in SHAPES], grads)
    for v, w in zip(variables, want):
        assert v.numpy().dtype == np.float64
        np.testing.assert_allclose(v.numpy(), w, rtol=1e-10, atol=1e-12,
                                   err_msg=key)


def test_variable_names_follow_keras():
    v = [gkeras.Variable(np.zeros((2, 3), "float32"), name="k"),
         gkeras.Variable(np.zeros((3,), "float32"), name="b")]
    names = {}
    for cls in (optimizers.Adafactor, optimizers.Lamb, optimizers.Muon,
                optimizers.ScheduleFreeAdamW, optimizers.Adam,
                optimizers.Adadelta, optimizers.Nadam, optimizers.Ftrl):
        opt = cls()
        opt.build(v)
        names[cls.__name__] = [x.name for x in opt.variables]
    # Read off Keras 3.15.1 (JAX).
    assert names["Adafactor"] == ["iteration", "learning_rate", "k", "k",
                                  "k_velocity", "b", "b", "b_velocity"]
    assert names["Lamb"] == names["ScheduleFreeAdamW"] == names["Adam"] == [
        "iteration", "learning_rate", "k_momentum", "k_velocity",
        "b_momentum", "b_velocity"]
    assert names["Muon"] == ["iteration", "learning_rate", "k_momentum",
                             "b_momentum", "b_velocity"]
    assert names["Adadelta"] == [
        "iteration", "learning_rate", "k_accumulated_grad",
        "k_accumulated_delta_var", "b_accumulated_grad",
        "b_accumulated_delta_var"]
    assert names["Nadam"] == ["iteration", "learning_rate", "k_momentum",
                              "k_velocity", "b_momentum", "b_velocity",
                              "variable"]
    assert names["Ftrl"] == ["iteration", "learning_rate", "k_accumulator",
                             "k_linear", "b_accumulator", "b_linear"]
    opt = optimizers.Adam(use_ema=True, gradient_accumulation_steps=2)
    opt.build(v)
    assert [x.name for x in opt.variables][2:6] == [
        "k_average", "b_average", "k_gradient_accumulator",
        "b_gradient_accumulator"]
    emb = gkeras.layers.Embedding(5, 2)
    emb.build((None,))
    muon = optimizers.Muon(exclude_layers=["skip_me"])
    assert muon._should_use_adamw(emb.embeddings)
    assert not optimizers.Muon(exclude_embeddings=False)._should_use_adamw(
        emb.embeddings)
    k = gkeras.Variable(np.zeros((2, 2), "float32"), name="k")
    k.path = "skip_me/kernel"
    assert muon._should_use_adamw(k)
    assert optimizers.ScheduleFreeAdamW().name.startswith(
        "schedule_free_adam_w")


# Default configs of Keras 3.15.1 (JAX), minus the name.
KERAS_DEFAULT_CONFIGS = {
    "Adafactor": {"learning_rate": 0.0010000000474974513,
                  "beta_2_decay": -0.8, "epsilon_1": 1e-30,
                  "epsilon_2": 0.001, "clip_threshold": 1.0,
                  "relative_step": True},
    "Lamb": {"learning_rate": 0.0010000000474974513, "beta_1": 0.9,
             "beta_2": 0.999, "epsilon": 1e-07},
    "Muon": {"learning_rate": 0.0010000000474974513, "weight_decay": 0.004,
             "adam_beta_1": 0.9, "adam_beta_2": 0.999, "epsilon": 1e-07,
             "exclude_layers": [], "muon_a": 3.4445, "muon_b": -4.775,
             "muon_c": 2.0315, "adam_lr_ratio": 1, "momentum": 0.95,
             "ns_steps": 5, "nesterov": True, "exclude_embeddings": True,
             "adam_weight_decay": 0.004, "rms_rate": 0.2},
    "ScheduleFreeAdamW": {"learning_rate": 0.0024999999441206455,
                          "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-08,
                          "warmup_steps": 0},
}
BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None,
                 "global_clipnorm": None, "clipvalue": None,
                 "use_ema": False, "ema_momentum": 0.99,
                 "ema_overwrite_frequency": None, "loss_scale_factor": None,
                 "gradient_accumulation_steps": None}


@pytest.mark.parametrize("cls_name", sorted(KERAS_DEFAULT_CONFIGS))
def test_configs_match_keras_and_round_trip(cls_name):
    opt = getattr(optimizers, cls_name)()
    cfg = opt.get_config()
    name = cfg.pop("name")
    assert name.startswith({"Adafactor": "adafactor", "Lamb": "lamb",
                            "Muon": "muon", "ScheduleFreeAdamW":
                            "schedule_free_adam_w"}[cls_name])
    want = {**BASE_DEFAULTS, **KERAS_DEFAULT_CONFIGS[cls_name]}
    assert set(cfg) == set(want)
    for k, v in want.items():
        if isinstance(v, float):
            assert cfg[k] == pytest.approx(v, rel=1e-6), k
        else:
            assert cfg[k] == v, k
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt)
    assert again.get_config() == opt.get_config()
    assert type(optimizers.get(cls_name.lower())) is type(opt)


def test_argument_errors():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.Lamb(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.Adafactor(use_ema=True, ema_overwrite_frequency=0.5)
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Muon(bogus=1)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        optimizers.Muon().zeropower_via_newtonschulz5(np.zeros(3), 5)


# ------------------------------------------- optional: the real Keras reads
KERAS_SIDE = r"""
import sys, json, numpy as np, keras
model = keras.models.load_model(sys.argv[1])
opt = model.optimizer
print(json.dumps({"class": type(opt).__name__,
                  "vars": [np.asarray(v.numpy(), dtype=float).ravel().tolist()
                           for v in opt.variables]}))
"""


def _keras_python():
    exe = os.environ.get("GKERAS_REFERENCE_KERAS_PYTHON")
    if exe:
        return exe
    import importlib.util
    if importlib.util.find_spec("keras") and importlib.util.find_spec("jax"):
        import sys
        return sys.executable
    return None


@pytest.mark.parametrize("opt", ["Adafactor", "Lamb", "Muon",
                                 "ScheduleFreeAdamW", "Adam", "Nadam"])
def test_real_keras_reads_optimizer_state(opt, tmp_path):
    exe = _keras_python()
    if exe is None:
        pytest.skip("real Keras (JAX) is not installed; set "
                    "GKERAS_REFERENCE_KERAS_PYTHON to a Python that has it")
    import subprocess
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype("float32")
    model = gkeras.Sequential([gkeras.Input((5,)), gkeras.layers.Dense(4),
                               gkeras.layers.Dense(1)])
    model.compile(optimizer=getattr(optimizers, opt)(use_ema=True),
                  loss="mse")
    model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    res = subprocess.run([exe, "-c", KERAS_SIDE, path], capture_output=True,
                         text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["class"] == opt
    mine = [np.asarray(v.numpy(), dtype=float).ravel()
            for v in model.optimizer.variables]
    assert len(got["vars"]) == len(mine)
    for a, b in zip(got["vars"], mine):
        np.testing.assert_allclose(np.array(a), b, rtol=1e-6)


KERAS_WRITES = r"""
import sys, json, numpy as np, keras
path, name = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
x = rng.normal(size=(16, 5)).astype("float32")
model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4),
                          keras.layers.Dense(1)])
model.compile(optimizer=getattr(keras.optimizers, name)(use_ema=True),
              loss="mse")
model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
model.save(path)
print(json.dumps([np.asarray(v.numpy(), dtype=float).ravel().tolist()
                  for v in model.optimizer.variables]))
"""


@pytest.mark.parametrize("opt", ["Adafactor", "Lamb", "Muon",
                                 "ScheduleFreeAdamW", "Adam", "Adadelta"])
def test_gkeras_reads_real_keras_optimizer_state(opt, tmp_path):
    exe = _keras_python()
    if exe is None:
        pytest.skip("real Keras (JAX) is not installed; set "
                    "GKERAS_REFERENCE_KERAS_PYTHON to a Python that has it")
    import subprocess
    path = str(tmp_path / "k.keras")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    res = subprocess.run([exe, "-c", KERAS_WRITES, path, opt],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    want = json.loads(res.stdout.strip().splitlines()[-1])
    model = gkeras.models.load_model(path)
    assert type(model.optimizer).__name__ == opt
    got = [np.asarray(v.numpy(), dtype=float).ravel()
           for v in model.optimizer.variables]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, np.array(b), rtol=1e-6)


# Names Keras 3.15.1 exports that this change adds (from `dir()` of
# keras.losses / metrics / optimizers / callbacks / utils, minus gkeras's).
ADDED_NAMES = {
    "losses": ["CategoricalGeneralizedCrossEntropy", "Circle",
               "categorical_generalized_cross_entropy", "circle"],
    "metrics": ["ConcordanceCorrelation", "PearsonCorrelation",
                "PrecisionAtRecall", "RecallAtPrecision",
                "SensitivityAtSpecificity", "SpecificityAtSensitivity",
                "categorical_focal_crossentropy", "concordance_correlation",
                "pearson_correlation"],
    "optimizers": ["Adafactor", "Lamb", "MultiOptimizer", "Muon",
                   "OptimizerMap", "ScheduleFreeAdamW", "legacy"],
    "callbacks": ["OrbaxCheckpoint", "SwapEMAWeights"],
    "utils": ["FeatureSpace"],
}


def test_added_keras_names_exist():
    for namespace, names in ADDED_NAMES.items():
        module = getattr(gkeras, namespace)
        missing = [n for n in names if n not in dir(module)]
        assert not missing, (namespace, missing)


def test_legacy_optimizers_and_orbax():
    from gkeras.optimizers.legacy import SGD, Adam
    opt = Adam(lr=0.25)  # Keras-2 spelling
    assert isinstance(opt, optimizers.Adam)
    assert float(opt.learning_rate.numpy()) == 0.25
    assert optimizers.legacy.SGD is SGD is optimizers.SGD
    with pytest.raises(NotImplementedError, match="ModelCheckpoint"):
        gkeras.callbacks.OrbaxCheckpoint("ckpt")
