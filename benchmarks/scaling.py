"""How cost grows: the scaling tables of RESULTS.md.

Times the tutorial models of `benchmarks/models.py` over a range of batch
sizes (MLP, CNN) and sequence lengths (LSTM, Transformer block) on gkeras
and on every peer (Keras 3 on JAX and on PyTorch, plain PyTorch eager),
one `bench_one.py` subprocess per run, the frameworks interleaved per size
as `run.py` interleaves them, and renders each sweep as a markdown table:
time per sample (or per timestep, per token) of a training step and of
`predict_on_batch`, gkeras's ratio to the fastest peer with the range of
its paired ratios, and each run's peak memory. The attention table comes
from `benchmarks/attention_scaling.py` (fused attention against PyTorch's
`scaled_dot_product_attention`) when that module is there.

`write_results.py` calls `measure` and `markdown_section`; run alone, this
module prints the section:

    python benchmarks/scaling.py [--sweeps mlp-batch lstm-seq] [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FRAMEWORKS = ["gkeras", "keras-jax", "keras-torch", "torch"]
START = "<!-- scaling:start -->"
END = "<!-- scaling:end -->"

# Each sweep: the model, its cases as (batch, seq) pairs (seq None: the
# model has none), what the time is divided by, and the table's heading.
SWEEPS = {
    "mlp-batch": {
        "model": "mlp", "vary": "batch", "per": "sample",
        "cases": [(b, None) for b in (1, 8, 32, 128, 512)],
        "title": "MLP (784-128-64-10): batch size"},
    "cnn-batch": {
        "model": "cnn", "vary": "batch", "per": "sample",
        "cases": [(b, None) for b in (1, 8, 32, 128, 512)],
        "title": "BatchNorm CNN (32x32x3): batch size"},
    "lstm-seq": {
        "model": "lstm", "vary": "seq", "per": "timestep",
        "cases": [(32, s) for s in (25, 50, 100, 200, 400, 800)],
        "title": "Embedding + LSTM(128), batch 32: sequence length"},
    "transformer-seq": {
        "model": "transformer", "vary": "batch x seq", "per": "token",
        # Batch 8 at 1024 costs 30-80 s per run: left out.
        "cases": [(1, 64), (1, 256), (1, 1024), (8, 64), (8, 256)],
        "title": "2-block Transformer encoder (embed 128, 8 heads): "
                 "sequence length"},
}
ATTENTION_SEQS = (64, 256, 1024, 4096)


def per_unit(sweep, batch, seq):
    """What one step's time is divided by in `sweep`: samples, timesteps
    (the LSTM's batch is fixed) or tokens."""
    return {"sample": batch, "timestep": seq,
            "token": batch * (seq or 1)}[SWEEPS[sweep]["per"]]


def run_one(framework, model, batch, seq=None, steps=20, warmup=2,
            max_seconds=0.5, timeout=180):
    """One `bench_one.py` run in its own process (no fit, no predict over
    rows); its JSON row, or a row with `error`."""
    cmd = [sys.executable, os.path.join(HERE, "bench_one.py"),
           "--framework", framework, "--model", model, "--batch", str(batch),
           "--steps", str(steps), "--warmup", str(warmup), "--no-fit",
           "--max-seconds", str(max_seconds)]
    if seq is not None:
        cmd += ["--seq", str(seq)]
    row = {"framework": framework, "model": model, "batch": batch,
           "seq": seq}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {timeout} s"}
    row["wall_s"] = round(time.perf_counter() - t0, 1)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {**row, "error": err}
    return {**row, **json.loads(lines[-1])}


def median_row(runs):
    """One row from a case's interleaved runs of one framework: the
    median of each time and of the peak memory, every run's times under
    `runs`; the last error when no run worked."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return dict(runs[-1])
    row = dict(ok[-1])
    for key in ("train_ms", "predict_ms", "peak_mib"):
        vals = [r[key] for r in ok if r.get(key) is not None]
        row[key] = statistics.median(vals) if vals else None
    row["runs"] = [{k: r[k] for k in ("train_ms", "predict_ms")}
                   for r in ok]
    return row


def measure_sweep(name, frameworks=FRAMEWORKS, repeats=1, steps=20,
                  max_seconds=0.5, quick=False, runner=run_one,
                  log=print):
    """Runs one sweep: per case, every framework `repeats` times,
    interleaved. `quick` keeps the two smallest cases (smoke runs).

    Returns:
        {"name", "rows" (one per case and framework), "seconds" (the
        sweep's wall time), "repeats", "steps", "max_seconds"}.
    """
    sweep = SWEEPS[name]
    cases = sweep["cases"][:2] if quick else sweep["cases"]
    t0 = time.perf_counter()
    rows = []
    # A framework that timed out is not run at the larger sizes (the cases
    # grow), so one slow peer cannot eat the run's time.
    gave_up = {}
    for batch, seq in cases:
        runs = {f: [] for f in frameworks}
        for _ in range(repeats):
            for f in frameworks:
                if f in gave_up:
                    runs[f].append({"framework": f, "error": gave_up[f]})
                    continue
                r = runner(f, sweep["model"], batch, seq, steps=steps,
                           max_seconds=max_seconds)
                if "timed out" in r.get("error", ""):
                    gave_up[f] = (f"not run: {r['error']} at batch {batch}"
                                  + (f", seq {seq}" if seq else ""))
                runs[f].append(r)
        for f in frameworks:
            row = median_row(runs[f])
            row.update(batch=batch, seq=seq)
            rows.append(row)
            wall = sum(r.get("wall_s", 0) for r in runs[f])
            log(f"  {name} batch {batch} seq {seq} {f}: "
                + (row["error"][:60] if "error" in row else
                   f"train {row['train_ms']:.2f} ms, predict "
                   f"{row['predict_ms']:.2f} ms, peak {row['peak_mib']} MiB")
                + f" ({wall:.1f} s)")
    return {"name": name, "rows": rows, "repeats": repeats, "steps": steps,
            "max_seconds": max_seconds,
            "seconds": time.perf_counter() - t0}


def attention_rows(seq_lens=ATTENTION_SEQS, timeout=300):
    """`attention_scaling.attention_scaling_rows` run in a subprocess.

    Returns:
        `(rows, None, seconds)`, or `(None, reason, seconds)` when the
        module is missing or fails.
    """
    t0 = time.perf_counter()
    if not os.path.exists(os.path.join(HERE, "attention_scaling.py")):
        return None, "benchmarks/attention_scaling.py is not there", 0.0
    code = ("import json, sys; sys.path.insert(0, %r); "
            "from attention_scaling import attention_scaling_rows as f; "
            "print(json.dumps(f(seq_lens=%r, batch=1, heads=8, key_dim=16, "
            "repeats=3)))" % (HERE, tuple(seq_lens)))
    try:
        proc = subprocess.run([sys.executable, "-c", code],
                              capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s", \
            time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    lines = [l for l in proc.stdout.splitlines() if l.startswith("[")]
    if proc.returncode != 0 or not lines:
        return None, (proc.stderr.strip().splitlines()
                      or ["no output"])[-1], seconds
    return json.loads(lines[-1]), None, seconds


def _num(x):
    """Three significant figures or so; `-` for None."""
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _duration(seconds):
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s} s" if m else f"{s} s"


def fastest_peer(rows, key):
    """The non-gkeras row with the smallest `key` (None if none has it)."""
    peers = [r for r in rows if r["framework"] != "gkeras"
             and "error" not in r and r.get(key) is not None]
    return min(peers, key=lambda r: r[key]) if peers else None


def paired_range(base, peer, key):
    """(lowest, highest) of gkeras run i / peer run i for `key`, or None
    without paired runs."""
    if not base or not peer or "runs" not in base or "runs" not in peer:
        return None
    pairs = [b[key] / p[key] for b, p in zip(base["runs"], peer["runs"])
             if b.get(key) and p.get(key)]
    return (min(pairs), max(pairs)) if pairs else None


def ratio_cell(rows, key):
    """`ratio (peer; low-high)`: gkeras over the fastest peer for `key`."""
    base = next((r for r in rows if r["framework"] == "gkeras"
                 and "error" not in r), None)
    peer = fastest_peer(rows, key)
    if base is None or peer is None:
        return "-"
    text = f"{base[key] / peer[key]:.2f} ({peer['framework']}"
    span = paired_range(base, peer, key)
    if span and len(base["runs"]) > 1:
        text += f"; {span[0]:.2f}-{span[1]:.2f}"
    return text + ")"


def render_sweep(result, frameworks=FRAMEWORKS):
    """Markdown lines of one measured sweep (see `measure_sweep`)."""
    name = result["name"]
    sweep = SWEEPS[name]
    unit = f"µs per {sweep['per']}"
    by_case = {}
    for r in result["rows"]:
        by_case.setdefault((r["batch"], r["seq"]), []).append(r)
    present = [f for f in frameworks
               if any(r["framework"] == f for r in result["rows"])]
    out = [f"### {sweep['title']}", "",
           f"{unit} of one training step (`train_on_batch`; PyTorch: "
           "zero_grad/forward/backward/Adam) and of one `predict_on_batch` "
           "(PyTorch: `eval()` + `inference_mode` forward); ratio = gkeras "
           "/ the fastest peer of that size (below 1: gkeras faster), with "
           "the range of the paired ratios of the interleaved runs; peak = "
           "the run's peak resident memory over its memory after imports "
           "(model, data, optimizer state and working memory), MiB. "
           f"{result['repeats']} interleaved run(s) per framework and size, "
           f"each the median of up to {result['steps']} steps (at least 3, "
           f"stopped after {result['max_seconds']:g} s) after 2 warm-up "
           f"steps. Made in {_duration(result['seconds'])}.", ""]
    head = ([sweep["vary"]] + [f"train {f}" for f in present] + ["train ratio"]
            + [f"predict {f}" for f in present] + ["predict ratio"]
            + ["peak MiB " + " / ".join(present)])
    out += ["| " + " | ".join(head) + " |",
            "|" + "---:|" * len(head)]
    for (batch, seq), rows in by_case.items():
        div = per_unit(name, batch, seq)
        row_of = {r["framework"]: r for r in rows}
        key = {"batch": str(batch), "seq": str(seq),
               "batch x seq": f"{batch} x {seq}"}[sweep["vary"]]

        def cell(f, k):
            r = row_of.get(f)
            if r is None or "error" in r:
                return "failed" if r is not None else "-"
            return _num(r[k] * 1e3 / div)
        peaks = " / ".join(
            _num(row_of[f].get("peak_mib")) if f in row_of
            and "error" not in row_of[f] else "-" for f in present)
        out.append("| " + " | ".join(
            [key] + [cell(f, "train_ms") for f in present]
            + [ratio_cell(rows, "train_ms")]
            + [cell(f, "predict_ms") for f in present]
            + [ratio_cell(rows, "predict_ms"), peaks]) + " |")
    errors = sorted({f"{r['framework']}: {r['error'][:120]}"
                     for r in result["rows"] if "error" in r})
    if errors:
        out += ["", "Failed runs: " + "; ".join(errors) + "."]
    return out + [""]


def render_attention(rows, error, seconds):
    """Markdown lines of the attention table (or why it was not run)."""
    out = ["### Attention alone: sequence length", ""]
    if rows is None:
        return out + [f"Not run: {error}. (`benchmarks/attention_scaling."
                      "py`'s `attention_scaling_rows` measures gkeras's "
                      "fused attention against PyTorch's "
                      "`scaled_dot_product_attention`.)", ""]
    frameworks = []
    for r in rows:
        if r["framework"] not in frameworks:
            frameworks.append(r["framework"])
    out += ["Batch 1, 8 heads, key_dim 16 (`attention_scaling_rows` in "
            "`benchmarks/attention_scaling.py`): forward and forward + "
            "backward time (ms) and peak memory (MiB) of the attention; "
            "ratio = gkeras / torch; growth = the peak's growth over the "
            "previous length (linear memory: the same factor as the "
            f"length's). Made in {_duration(seconds)}.", ""]
    head = ["seq"]
    for f in frameworks:
        head += [f"{f} fwd ms", f"{f} fwd+bwd ms", f"{f} peak MiB",
                 f"{f} peak growth"]
    head += ["fwd ratio", "fwd+bwd ratio"]
    out += ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    table = {(r["framework"], r["seq"]): r for r in rows}
    seqs = sorted({r["seq"] for r in rows})
    for i, s in enumerate(seqs):
        cells = [str(s)]
        for f in frameworks:
            r = table.get((f, s), {})
            prev = table.get((f, seqs[i - 1]), {}) if i else {}
            growth = "-"
            if r.get("peak_mib") and prev.get("peak_mib"):
                growth = (f"x{r['peak_mib'] / prev['peak_mib']:.1f} "
                          f"(seq x{s // seqs[i - 1]})")
            cells += [_num(r.get("fwd_ms")), _num(r.get("fwd_bwd_ms")),
                      _num(r.get("peak_mib")), growth]
        g, t = table.get(("gkeras", s), {}), table.get(("torch", s), {})
        for k in ("fwd_ms", "fwd_bwd_ms"):
            cells.append(f"{g[k] / t[k]:.2f}" if g.get(k) and t.get(k)
                         else "-")
        out.append("| " + " | ".join(cells) + " |")
    errors = [f"{r['framework']} at seq {r['seq']}: "
              f"{r['error'].strip().splitlines()[-1][:120]}"
              for r in rows if r.get("error", "").strip()]
    if errors:
        out += ["", "Failed: " + "; ".join(errors) + "."]
    return out + [""]


def markdown_section(results, attention=None, date="", command="",
                     load=None):
    """The whole scaling section, between the markers `splice` finds.

    Args:
        results: `measure_sweep` results, in order.
        attention: `(rows, error, seconds)` from `attention_rows`, or None
            when it was not asked for.
        date, command: when and how the section was made.
        load: (before, after) load averages, or None.
    """
    out = [START, "## How cost grows", "",
           f"Made {date} by `{command}`. Each framework runs in its own "
           "process per size, interleaved with the peers; the same "
           "machine as stated at the top"
           + (f"; load average (1, 5, 15 min) before: {load[0]}, after: "
              f"{load[1]}" if load else "") + ".", ""]
    for result in results:
        out += render_sweep(result)
    if attention is not None:
        out += render_attention(*attention)
    return out + [END]


def splice(text, section):
    """`text` with its scaling section replaced by `section` (lines), or
    with `section` inserted before `## Import time` (else appended)."""
    block = "\n".join(section)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    marker = "\n## Import time"
    if marker in text:
        head, rest = text.split(marker, 1)
        return head.rstrip("\n") + "\n\n" + block + "\n" + marker + rest
    return text.rstrip("\n") + "\n\n" + block + "\n"


def existing_section(text):
    """The scaling section of a rendered file (lines), or None."""
    if START not in text or END not in text:
        return None
    inner = text.split(START, 1)[1].split(END, 1)[0]
    return [START] + inner.strip("\n").splitlines() + [END]


def measure(sweeps=tuple(SWEEPS), frameworks=FRAMEWORKS, repeats=1,
            steps=20, max_seconds=0.5, quick=False, attention=True,
            log=print):
    """Runs the chosen sweeps (and the attention table); returns
    `(results, attention)` for `markdown_section`."""
    results = []
    for name in sweeps:
        log(f"scaling: {name}")
        results.append(measure_sweep(name, frameworks, repeats, steps,
                                     max_seconds, quick, log=log))
        log(f"scaling: {name} took {_duration(results[-1]['seconds'])}")
    att = None
    if attention:
        log("scaling: attention")
        att = attention_rows(ATTENTION_SEQS[:2] if quick else ATTENTION_SEQS)
        log(f"scaling: attention took {_duration(att[2])}"
            + (f" (not run: {att[1]})" if att[0] is None else ""))
    return results, att


def main(argv=None):
    """Measures the sweeps and prints their markdown."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sweeps", nargs="*", default=list(SWEEPS),
                   choices=list(SWEEPS))
    p.add_argument("--frameworks", nargs="*", default=FRAMEWORKS)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--max-seconds", type=float, default=0.5)
    p.add_argument("--quick", action="store_true",
                   help="the two smallest sizes of each sweep")
    p.add_argument("--no-attention", action="store_true")
    a = p.parse_args(argv)
    results, att = measure(a.sweeps, a.frameworks, a.repeats, a.steps,
                           a.max_seconds, a.quick, not a.no_attention,
                           log=lambda s: print(s, file=sys.stderr))
    print("\n".join(markdown_section(
        results, att, command="python benchmarks/scaling.py "
        + " ".join(argv if argv is not None else sys.argv[1:]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
