"""The benchmark tooling: RESULTS.md rendering, FLOP counts, the GPU script.

The benchmarks themselves are too slow for CI; these checks keep the
scripts that run them correct.
"""

import importlib.util
import os
import shutil
import subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")


def _write_results():
    spec = importlib.util.spec_from_file_location(
        "write_results", os.path.join(BENCH, "write_results.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _models():
    spec = importlib.util.spec_from_file_location(
        "bench_models", os.path.join(BENCH, "models.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dense_forward_flops(model):
    # 2 FLOPs per multiply-add of each Dense kernel, once per sample.
    return sum(2.0 * np.prod(w.shape) for w in model.weights
               if w.name == "kernel")


def test_mlp_flops_match_the_models_dense_kernels():
    import gkeras
    model, _, _, _ = _models().mlp(gkeras, 32)
    expected = 3 * 32 * _dense_forward_flops(model)
    assert _write_results().train_step_flops("mlp", 32) == expected


def test_cnn_flops_match_the_models_kernels():
    import gkeras
    model, _, _, _ = _models().cnn(gkeras, 8)
    forward, shape = 0.0, (None, 32, 32, 3)
    for layer in model.layers:
        shape = tuple(layer.compute_output_shape(shape))
        if type(layer).__name__ == "Conv2D":
            forward += 2.0 * shape[1] * shape[2] * np.prod(layer.kernel.shape)
        elif type(layer).__name__ == "Dense":
            forward += 2.0 * np.prod(layer.kernel.shape)
    assert _write_results().train_step_flops("cnn", 8) == 3 * 8 * forward


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown model 'vgg'"):
        _write_results().train_step_flops("vgg", 1)


def test_render_computes_ratios_and_shares():
    wr = _write_results()
    data = {
        "title": "T", "date": "2026-01-01 00:00 UTC", "device": "CPU",
        "backend": "numpy", "command": "python benchmarks/write_results.py",
        "suite_command": "python benchmarks/run.py", "steps": 7,
        "info": {"cpu": "X", "cpus": 2, "platform": "P", "python": "3",
                 "numpy": "2", "blas": "b", "threads": {"OMP_NUM_THREADS":
                                                        None}},
        "results": [
            {"framework": "gkeras", "label": "gkeras", "model": "mlp",
             "batch": 32, "train_ms": 2.0, "fit_ms": 1.0, "predict_ms": 0.5,
             "runs": [{"train_ms": 2.0, "fit_ms": 1.0, "predict_ms": 0.5},
                      {"train_ms": 2.0, "fit_ms": 1.2, "predict_ms": 0.5}]},
            {"framework": "keras-jax", "label": "keras (jax)",
             "model": "mlp", "batch": 32, "train_ms": 4.0, "fit_ms": 0.5,
             "predict_ms": 1.0,
             "runs": [{"train_ms": 4.0, "fit_ms": 0.5, "predict_ms": 1.0},
                      {"train_ms": 4.0, "fit_ms": 0.8, "predict_ms": 1.0}]},
            {"framework": "keras-torch", "model": "mlp", "batch": 32,
             "error": "not installed: torch"}],
        "imports": {"gkeras": (0.25, None), "keras": (None, "boom")},
        "gemm_gflops": 10.0, "gemm_what": "GEMM", "load_before": (0, 0, 0),
        "load_after": (0, 0, 0), "notes": ["a note"]}
    text = wr.render(data)
    rows = [line for line in text.splitlines() if line.startswith("| mlp")]
    assert len(rows) == 3
    cells = [c.strip() for c in rows[1].strip("|").split("|")]
    # gkeras 2.0 ms vs 4.0 ms: ratio 0.50; fit 1.0 vs 0.5: 2.00.
    assert cells[6:8] == ["0.50", "2.00"]
    # paired runs: 1.0 / 0.5 = 2.00 and 1.2 / 0.8 = 1.50
    assert cells[8] == "1.50-2.00"
    gflops = 3 * 32 * 2 * (784 * 128 + 128 * 64 + 64 * 10) / 4e-3 / 1e9
    assert cells[9] == f"{gflops:.1f}"
    assert cells[10] == f"{100 * gflops / 10.0:.1f}%"
    assert "failed: not installed: torch" in rows[2]
    assert "| `gkeras` | 0.250 |" in text
    assert "| `keras` | failed: boom |" in text
    assert "- a note" in text and "OMP_NUM_THREADS=unset" in text


def test_gpu_bench_script_is_valid_bash():
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash not found")
    path = os.path.join(BENCH, "gpu_bench.sh")
    subprocess.run([bash, "-n", path], check=True)
    text = open(path).read()
    # Nothing may be installed from the network on the GPU machine: the
    # only install is of local wheels, with --no-index.
    assert "PIP_NO_INDEX=1" in text
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs and all("--no-index" in line for line in installs)
    # Every step runs under a time limit cut to the budget (8 minutes on
    # one H100/H200, installs included).
    assert "timeout -k 5" in text and "BUDGET=450" in text
    for needed in ("gkeras.backend.check", "pytest -m gpu",
                   "torch_eager_gpu.py", "conv_pool_bn_gpu.py"):
        assert needed in text
    out = subprocess.run([bash, path, "--bogus"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "unknown argument --bogus" in out.stderr


def test_run_interleaves_frameworks_and_reports_medians(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "bench_run", os.path.join(BENCH, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    calls, times = [], {"a": iter([3.0, 1.0, 2.0]), "b": iter([5.0, 7.0,
                                                               6.0])}

    def fake(framework, model, batch, steps, predict_rows):
        calls.append(framework)
        t = next(times[framework])
        return {"framework": framework, "model": model, "batch": batch,
                "train_ms": t, "fit_ms": 2 * t, "predict_ms": t / 2,
                "predict_rows": predict_rows, "predict_rows_ms": 10 * t}

    monkeypatch.setattr(run, "run_case", fake)
    rows = run.run_interleaved(["a", "b"], "mlp", 32, 5, 3, 1000)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert [r["train_ms"] for r in rows] == [2.0, 6.0]
    assert [r["predict_rows_ms"] for r in rows] == [20.0, 60.0]
    assert [r["fit_ms"] for r in rows] == [4.0, 12.0]
    assert [x["train_ms"] for x in rows[0]["runs"]] == [3.0, 1.0, 2.0]


def test_optimizer_launch_counts():
    # Before: the ufuncs of the per-variable NumPy/CuPy code, counted by
    # hand from gkeras/optimizers (Adam: 7 for the moments + 5 for the
    # step = 12; SGD with momentum: 4; AdamW adds one decay per variable).
    # After: one fused launch for all six float32 variables.
    import sys
    sys.path.insert(0, BENCH)
    try:
        import optimizer_launches as ol
    finally:
        sys.path.remove(BENCH)
    assert ol.count("mlp", "Adam") == (6, 72, 1)
    assert ol.count("mlp", "SGD(momentum=0.9)") == (6, 24, 1)
    assert ol.count("mlp", "AdamW") == (6, 78, 1)


def test_counted_sections_fail_separately_in_one_line(monkeypatch):
    # A counting script that cannot run (the CuPy stand-in without NVRTC
    # in the peers' interpreter) costs its own section one line, not the
    # other section and not a traceback in RESULTS.md.
    import sys
    wr = _write_results()
    sys.path.insert(0, BENCH)
    try:
        import optimizer_launches
        import standin_counts
    finally:
        sys.path.remove(BENCH)

    def fail():
        raise RuntimeError("Traceback (most recent call last):\n  File x\n"
                           "RuntimeError: libnvrtc not found")
    monkeypatch.setattr(standin_counts, "measure", fail)
    monkeypatch.setattr(optimizer_launches, "markdown_section",
                        lambda: ["## Optimizer launches per step", "", "ok"])
    out = wr._launch_counts()
    assert out[:3] == ["## Optimizer launches per step", "", "ok"]
    assert "## Device work per training step (CuPy path)" in out
    assert "Not counted: RuntimeError: RuntimeError: libnvrtc not found" \
        in out
    assert not any("Traceback" in line for line in out)


def test_standin_counts_names_the_missing_nvrtc(monkeypatch):
    import sys
    sys.path.insert(0, BENCH)
    try:
        import standin_counts
    finally:
        sys.path.remove(BENCH)

    class Done:
        returncode, stdout = 1, ""
        stderr = "RuntimeError: ... NVRTCError: libnvrtc not found (pip ...)"
    monkeypatch.setattr(standin_counts.subprocess, "run",
                        lambda *a, **k: Done())
    with pytest.raises(RuntimeError, match=r"NVRTC.*test extra"):
        standin_counts.measure()


def _applications_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_applications", os.path.join(BENCH, "applications.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_applications_benchmark_measures_and_renders():
    import sys
    bench = _applications_bench()
    assert len(bench.ALL) == 40 and set(bench.FAMILY_MEMBERS) <= \
        set(bench.ALL)
    r = bench.measure(sys.executable, "gkeras", "MobileNetV3Small", 1)
    assert r["params"] == 2_554_968, r  # Keras's count at 224x224
    assert r["build_s"] > 0 and r["predict_s"] > 0
    text = bench.markdown(
        {"MobileNetV3Small": {"gkeras": r, "keras-jax": {"error": ["x"]}}},
        {"command": "c", "machine": "m", "load_before": (0,),
         "load_after": (0,), "keras": None})
    row = [l for l in text.splitlines() if l.startswith("| MobileNetV3")]
    assert row == [f"| MobileNetV3Small | 2,554,968 | {r['build_s']:.2f} | "
                   f"error | {r['predict_s'] * 1000:.1f} | error | error |"]
