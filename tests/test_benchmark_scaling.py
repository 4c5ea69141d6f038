"""The scaling tables and the fastest-peer summary of RESULTS.md.

Rendering is checked on fake rows (no timing); the models' `seq` keyword
on shapes only.
"""

import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")


def _load(name):
    spec = importlib.util.spec_from_file_location(
        "bench_" + name, os.path.join(BENCH, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scaling = _load("scaling")


def _row(framework, train, predict, runs=None, **extra):
    row = {"framework": framework, "train_ms": train, "predict_ms": predict,
           **extra}
    if runs is not None:
        row["runs"] = [{"train_ms": t, "predict_ms": p} for t, p in runs]
    return row


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_fastest_peer_skips_gkeras_failures_and_missing_keys():
    rows = [_row("gkeras", 1.0, 1.0), _row("keras-jax", 3.0, 0.5),
            _row("torch", 2.0, 0.7),
            {"framework": "keras-torch", "error": "not installed"},
            {"framework": "other", "train_ms": 0.1}]
    assert scaling.fastest_peer(rows, "train_ms")["framework"] == "other"
    assert scaling.fastest_peer(rows, "predict_ms")["framework"] == \
        "keras-jax"
    assert scaling.fastest_peer(rows[:1], "train_ms") is None


def test_ratio_cell_is_against_the_fastest_peer_with_paired_range():
    rows = [_row("gkeras", 2.0, 1.0, runs=[(2.0, 1.0), (3.0, 1.0)]),
            _row("keras-jax", 8.0, 4.0, runs=[(8.0, 4.0), (8.0, 4.0)]),
            _row("torch", 4.0, 2.0, runs=[(4.0, 2.0), (2.0, 1.0)])]
    # torch is the fastest: 2/4 = 0.50; pairs 2/4 and 3/2.
    assert scaling.ratio_cell(rows, "train_ms") == "0.50 (torch; 0.50-1.50)"
    assert scaling.ratio_cell(rows[:1], "train_ms") == "-"
    failed = [{"framework": "gkeras", "error": "boom"}] + rows[1:]
    assert scaling.ratio_cell(failed, "train_ms") == "-"


def _sweep_result():
    rows = []
    for batch in (1, 8):
        rows += [
            _row("gkeras", 1.0 * batch, 0.5 * batch, batch=batch, seq=None,
                 peak_mib=3.0, runs=[(1.0 * batch, 0.5 * batch)]),
            _row("keras-jax", 2.0 * batch, 0.25 * batch, batch=batch,
                 seq=None, peak_mib=40.0,
                 runs=[(2.0 * batch, 0.25 * batch)]),
            {"framework": "keras-torch", "batch": batch, "seq": None,
             "error": "not installed: torch"},
            _row("torch", 4.0 * batch, 1.0 * batch, batch=batch, seq=None,
                 peak_mib=None, runs=[(4.0 * batch, 1.0 * batch)])]
    return {"name": "mlp-batch", "rows": rows, "repeats": 1, "steps": 5,
            "max_seconds": 1.0, "seconds": 75.0}


def test_render_sweep_per_sample_times_ratios_and_failures():
    lines = scaling.render_sweep(_sweep_result())
    text = "\n".join(lines)
    assert "Made in 1 min 15 s" in text
    head = next(l for l in lines if l.startswith("| batch"))
    assert _cells(head) == [
        "batch", "train gkeras", "train keras-jax", "train keras-torch",
        "train torch", "train ratio", "predict gkeras", "predict keras-jax",
        "predict keras-torch", "predict torch", "predict ratio",
        "peak MiB gkeras / keras-jax / keras-torch / torch"]
    b8 = _cells(next(l for l in lines if l.startswith("| 8 ")))
    # 8 ms / 8 samples = 1000 µs per sample; 16 ms / 8 = 2000.
    assert b8[1:5] == ["1000", "2000", "failed", "4000"]
    # one run each: no range; jax is the fastest trainer, jax the fastest
    # predictor (0.25 x 8 = 2 ms against gkeras's 4 ms).
    assert b8[5] == "0.50 (keras-jax)" and b8[10] == "2.00 (keras-jax)"
    assert b8[11] == "3.00 / 40.0 / - / -"
    assert "keras-torch: not installed: torch" in text


def test_render_sweep_with_only_gkeras_and_sequence_units():
    result = {"name": "lstm-seq", "repeats": 2, "steps": 20,
              "max_seconds": 0.5, "seconds": 3.0,
              "rows": [_row("gkeras", 50.0, 10.0, batch=32, seq=100,
                            peak_mib=60.0)]}
    lines = scaling.render_sweep(result)
    row = _cells(next(l for l in lines if l.startswith("| 100 ")))
    # µs per timestep: 50 ms / 100 steps = 500 µs.
    assert row == ["100", "500", "-", "100", "-", "60.0"]
    assert "µs per timestep" in "\n".join(lines)
    assert scaling.per_unit("transformer-seq", 8, 256) == 8 * 256


def test_attention_table_and_the_not_run_line():
    rows = [{"framework": f, "seq": s, "fwd_ms": m * s / 64,
             "fwd_bwd_ms": 3 * m * s / 64, "peak_mib": p * s / 64}
            for f, m, p in (("gkeras", 1.0, 2.0), ("torch", 2.0, 4.0))
            for s in (64, 256)]
    lines = scaling.render_attention(rows, None, 12.0)
    row = _cells(next(l for l in lines if l.startswith("| 256 ")))
    assert row == ["256", "4.00", "12.0", "8.00", "x4.0 (seq x4)", "8.00",
                   "24.0", "16.0", "x4.0 (seq x4)", "0.50", "0.50"]
    rows.append({"framework": "torch", "seq": 1024, "fwd_ms": None,
                 "fwd_bwd_ms": None, "peak_mib": None,
                 "error": "Traceback\nMemoryError: out\n"})
    lines = scaling.render_attention(rows, None, 12.0)
    row = _cells(next(l for l in lines if l.startswith("| 1024 ")))
    assert row[5:9] == ["-", "-", "-", "-"] and row[-2:] == ["-", "-"]
    assert "torch at seq 1024: MemoryError: out" in "\n".join(lines)
    missing = "\n".join(scaling.render_attention(None, "no module", 0.0))
    assert "Not run: no module." in missing


def test_attention_rows_reports_a_missing_module(monkeypatch, tmp_path):
    monkeypatch.setattr(scaling, "HERE", str(tmp_path))
    rows, error, _ = scaling.attention_rows((64,))
    assert rows is None and "attention_scaling.py is not there" in error


def test_measure_sweep_interleaves_and_takes_medians():
    calls = []
    times = iter([3.0, 9.0, 1.0, 7.0, 2.0, 8.0])

    def fake(framework, model, batch, seq, steps, max_seconds):
        calls.append((framework, batch))
        t = next(times, 1.0)
        return {"framework": framework, "train_ms": t, "predict_ms": t,
                "peak_mib": t}
    result = scaling.measure_sweep("lstm-seq", ["gkeras", "torch"],
                                   repeats=3, quick=True, runner=fake,
                                   log=lambda s: None)
    assert calls[:6] == [("gkeras", 32), ("torch", 32)] * 3
    first = [r for r in result["rows"] if r["seq"] == 25]
    assert [r["train_ms"] for r in first] == [2.0, 8.0]
    assert [r["seq"] for r in result["rows"]] == [25, 25, 50, 50]


def test_splice_replaces_or_inserts_the_section():
    section = scaling.markdown_section([], None, "D", "cmd")
    base = "# T\n\n## Per-step times\n\n## Import time\n\nx\n"
    once = scaling.splice(base, section)
    assert once.index("How cost grows") < once.index("## Import time")
    again = scaling.splice(once, scaling.markdown_section([], None, "E", "c"))
    assert again.count(scaling.START) == 1 and "Made E" in again
    assert scaling.existing_section(again)[0] == scaling.START
    assert scaling.existing_section(base) is None


def _results():
    def r(framework, train, fit, predict, rows_ms, runs):
        return {"framework": framework, "model": "mlp", "batch": 32,
                "train_ms": train, "fit_ms": fit, "predict_ms": predict,
                "predict_rows": 1000, "predict_rows_ms": rows_ms,
                "runs": [{"train_ms": a, "fit_ms": b, "predict_ms": c,
                          "predict_rows_ms": d} for a, b, c, d in runs]}
    return [r("gkeras", 1.0, 2.0, 0.5, 10.0,
              [(1.0, 2.0, 0.5, 10.0), (1.2, 2.0, 0.5, 10.0)]),
            r("keras-jax", 2.0, 1.0, 0.6, 20.0,
              [(2.0, 1.0, 0.6, 20.0), (1.0, 1.0, 0.6, 20.0)]),
            r("torch", 1.5, 4.0, 0.5, 5.0,
              [(1.5, 4.0, 0.5, 5.0), (1.5, 4.0, 0.5, 5.0)]),
            {"framework": "keras-torch", "model": "mlp", "batch": 32,
             "error": "not installed"}]


def test_summary_lines_verdicts_against_the_fastest_peer():
    wr = _load("write_results")
    lines = wr.summary_lines(_results(), ceiling=100.0)
    line = next(l for l in lines if l.startswith("- **mlp b32**"))
    # train: torch 1.5 is fastest, 1/1.5 = 0.67, pairs 1/1.5, 1.2/1.5.
    assert "train **at or below** (0.67x torch, paired 0.67-0.80)" in line
    # fit: jax 1.0 is fastest, 2.0 -> above.
    assert "fit **above** (2.00x keras-jax, paired 2.00-2.00)" in line
    # predict: a tie with torch counts as at or below.
    assert "predict **at or below** (1.000x torch" in line
    assert "predict over 1000 rows **above** (2.00x torch" in line
    flops = wr.train_step_flops("mlp", 32)
    assert f"gkeras {100 * flops / 1e-3 / 1e9 / 100:.1f}%" in line
    assert f"torch {100 * flops / 1.5e-3 / 1e9 / 100:.1f}%" in line
    assert "in 2 of 4 comparisons" in "\n".join(lines)


def test_summary_lines_without_gkeras_or_peers():
    wr = _load("write_results")
    only_peer = [r for r in _results() if r["framework"] != "gkeras"]
    lines = wr.summary_lines(only_peer, 100.0)
    assert "- **mlp b32**: gkeras did not run." in lines
    alone = wr.summary_lines(_results()[:1], 100.0)
    assert any("train: no peer measured" in l for l in alone)
    assert not any("comparisons" in l for l in alone)


def test_write_results_flags():
    wr = _load("write_results")
    a = wr._parser().parse_args(["--no-scaling"])
    assert a.scaling is False and not a.only_scaling
    a = wr._parser().parse_args(["--only-scaling", "--scaling-sweeps",
                                 "lstm-seq", "--no-attention"])
    assert a.only_scaling and a.scaling_sweeps == ["lstm-seq"]
    assert a.attention is False
    assert wr._parser().parse_args([]).scaling is None


@pytest.mark.parametrize("name,seq", [("lstm", 25), ("transformer", 64)])
def test_sequence_builders_take_a_seq_keyword(name, seq):
    import gkeras
    models = _load("models")
    assert name in models.SEQ_MODELS
    model, x, y, _ = models.MODELS[name](gkeras, 2, seq=seq)
    assert x.shape[:2] == (8, seq) and y.shape[0] == 8
    out = model.predict_on_batch(x[:2])
    assert tuple(out.shape) == (2, y.shape[1])
    _, x100, _, _ = models.MODELS[name](gkeras, 2)
    assert x100.shape[1] == 100


def test_torch_twins_take_a_seq_keyword():
    pytest.importorskip("torch")
    import sys
    sys.path.insert(0, BENCH)
    try:
        import torch_models
    finally:
        sys.path.remove(BENCH)
    for name in ("lstm", "transformer"):
        twin = torch_models.build(name, 2, seq=24)
        assert tuple(twin.xs[0].shape[:2]) == (2, 24)
        assert twin.predict().shape[0] == 2
        assert np.isfinite(twin.train_step())


def test_a_framework_that_timed_out_is_skipped_at_larger_sizes():
    calls = []

    def fake(framework, model, batch, seq, steps, max_seconds):
        calls.append((framework, seq))
        if framework == "slow":
            return {"framework": framework, "error": "timed out after 1 s"}
        return {"framework": framework, "train_ms": 1.0, "predict_ms": 1.0}
    result = scaling.measure_sweep("lstm-seq", ["gkeras", "slow"],
                                   repeats=1, runner=fake, log=lambda s: 0)
    assert calls.count(("slow", 25)) == 1 and ("slow", 50) not in calls
    last = [r for r in result["rows"] if r["framework"] == "slow"][-1]
    assert "not run: timed out after 1 s at batch 32, seq 25" in last["error"]
