"""Regenerates benchmarks/RESULTS.md from a fresh benchmark run.

Runs `benchmarks/run.py --json` (every tutorial model on gkeras and on each
installed peer), times `import gkeras` against `import keras`, measures the
NumPy float32 GEMM ceiling of this machine, and renders one markdown file
with the date, the machine, the load, the exact commands, per-step times,
gkeras/peer ratios and each model's achieved share of the GEMM ceiling.
Never edit the numbers in the output by hand: rerun this script.

    python benchmarks/write_results.py [--steps 30] [--out benchmarks/RESULTS.md]
    python benchmarks/write_results.py --dry-run      # tiny run, prints only
    python benchmarks/write_results.py --no-scaling   # main table only
    python benchmarks/write_results.py --only-scaling # scaling tables only

The scaling tables ("How cost grows": batch-size and sequence-length
sweeps, `benchmarks/scaling.py`) run after the main table by default;
`--only-scaling` replaces just that section of an existing file and
`--no-scaling` keeps the one already there.

`--title` and `--out` let `gpu_bench.sh` render the CuPy run into its own
file; the GEMM ceiling is then measured with CuPy (cuBLAS) on the GPU.
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _load(name):
    """A module of benchmarks/ by file (this script runs from anywhere)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


scaling = _load("scaling")


def train_step_flops(model, batch):
    """Approximate FLOPs of one training step of a tutorial model.

    Counts the multiply-adds (2 FLOPs each) of the forward GEMMs and
    convolutions of `benchmarks/models.py`, times 3 for forward + backward
    (the backward pass does two GEMMs of the forward's size: input and
    weight gradients). Element-wise work is left out, so the achieved
    share is a lower bound of how busy the math units are.

    Args:
        model: "mlp", "cnn", "lstm" or "transformer".
        batch: Batch size.

    Returns:
        FLOPs per training step (float).
    """
    def dense(n_in, n_out, rows=1):
        return 2.0 * rows * n_in * n_out

    def conv(h, w, c_in, c_out, k=3):
        return 2.0 * h * w * c_in * c_out * k * k

    if model == "mlp":
        forward = dense(784, 128) + dense(128, 64) + dense(64, 10)
    elif model == "cnn":
        forward = (conv(32, 32, 3, 32) + conv(16, 16, 32, 64)
                   + conv(8, 8, 64, 128) + dense(4 * 4 * 128, 128)
                   + dense(128, 10))
    elif model == "lstm":
        seq, units, embed = 100, 128, 128
        forward = seq * (dense(embed, 4 * units) + dense(units, 4 * units)) \
            + dense(units, 1)
    elif model == "transformer":
        seq, d, ff = 100, 128, 512
        block = (4 * dense(d, d, seq)          # q, k, v, output projections
                 + 2 * 2.0 * seq * seq * d     # scores and scores @ values
                 + dense(d, ff, seq) + dense(ff, d, seq))
        forward = 2 * block + dense(d, 2)
    else:
        raise ValueError(f"Unknown model {model!r}. Expected one of "
                         "'mlp', 'cnn', 'lstm', 'transformer'.")
    return 3.0 * batch * forward


def gemm_ceiling(n=1024, reps=20, use_cupy=False):
    """Median float32 GEMM throughput in GFLOP/s (NumPy BLAS or cuBLAS).

    Args:
        n: Square matrix size.
        reps: Timed repetitions (after 3 warm-up products).
        use_cupy: Time `cupy.matmul` on the GPU instead of `np.matmul`.

    Returns:
        GFLOP/s of the median repetition.
    """
    if use_cupy:
        import cupy as xp
        sync = xp.cuda.Device().synchronize
    else:
        import numpy as xp

        def sync():
            return None
    a = xp.asarray(
        __import__("numpy").random.default_rng(0).random((n, n)),
        dtype="float32")
    b = a.T.copy()
    for _ in range(3):
        xp.matmul(a, b)
    sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        xp.matmul(a, b)
        sync()
        times.append(time.perf_counter() - t)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def import_time(module, env_extra=None, reps=5):
    """Median wall time of `import module` in a fresh interpreter, seconds.

    Returns None (and the error) when the import fails.
    """
    code = ("import time; t = time.perf_counter(); import %s; "
            "print(time.perf_counter() - t)" % module)
    env = dict(os.environ, **(env_extra or {}))
    times = []
    for _ in range(reps):
        proc = subprocess.run([sys.executable, "-c", code], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            return None, (proc.stderr.strip().splitlines() or ["?"])[-1]
        times.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(times), None


def machine_info():
    """A dict describing this machine, its load and the library versions."""
    info = {"platform": platform.platform(), "python":
            platform.python_version(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f
                     if line.startswith("model name")]
        info["cpu"] = names[0] if names else platform.processor()
    except OSError:
        info["cpu"] = platform.processor() or platform.machine()
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["memory_gib"] = round(kb / 2 ** 20, 1)
    except (OSError, ValueError, IndexError):
        pass
    import numpy
    info["numpy"] = numpy.__version__
    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy: no dict mode
        info["blas"] = "unknown"
    for name in ("keras", "jax", "torch", "cupy"):
        try:
            from importlib.metadata import version
            info[name] = version(name)
        except Exception:
            info[name] = None
    info["threads"] = {k: os.environ.get(k) for k in (
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
        "GKERAS_CPU_THREADS")}
    info["jit"] = jit_status()
    return info


def jit_status():
    """How gkeras's optional CPU JIT (numba) stands in this environment,
    as the benchmark subprocesses inherit it: a short phrase."""
    try:
        from importlib.metadata import version
        numba_version = version("numba")
    except Exception:
        return "off (numba not installed)"
    if os.environ.get("GKERAS_CPU_JIT", "1").strip().lower() in (
            "0", "false", "no", "off"):
        return f"off (GKERAS_CPU_JIT=0; numba {numba_version} installed)"
    return f"on (numba {numba_version})"


def load_average():
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return None


def _fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def gpu_status():
    """One paragraph on the GPU measurements, for the CPU results file."""
    runs = os.path.join(HERE, "results_gpu")
    found = sorted(d for d in os.listdir(runs) if not d.endswith(
        "dry-run")) if os.path.isdir(runs) else []
    if found:
        return (f"The latest GPU run is `benchmarks/results_gpu/{found[-1]}/` "
                "(`SUMMARY.md`, `RESULTS_GPU.md`, kernel logs), written by "
                "`benchmarks/gpu_bench.sh` on the machine named there.")
    return ("Not measured yet: no NVIDIA GPU was available to the runs so "
            "far. `benchmarks/gpu_bench.sh` on a GPU machine runs "
            "`pytest -m gpu`, the kernel micro-benchmarks against "
            "cuDNN/cuBLAS and the models on the CuPy backend against "
            "PyTorch, and writes its results under "
            "`benchmarks/results_gpu/`. Targets on an H100: training steps "
            "within 1.5x of PyTorch eager with cuDNN; fused attention at "
            "least 2x faster than the materialised softmax at seq >= 1024.")


def _by_case(results):
    by_case = {}
    for r in results:
        by_case.setdefault((r["model"], r["batch"]), []).append(r)
    return by_case


SUMMARY_KEYS = (("train_ms", "train"), ("fit_ms", "fit"),
                ("predict_ms", "predict"), ("predict_rows_ms", None))


def summary_lines(results, ceiling):
    """Per model: is gkeras at or below the fastest peer, from the numbers.

    For train, fit, predict on one batch and predict over many rows, the
    verdict compares gkeras's median with the fastest peer's median (the
    peer with the smallest median for that measure), with the range of
    the paired ratios of their interleaved runs; then the share of the
    GEMM ceiling of gkeras's training step and of the fastest trainer's.

    Args:
        results: the suite's rows (`run.py --json`).
        ceiling: the GEMM ceiling, GFLOP/s.

    Returns:
        Markdown lines (a heading, one bullet per model and batch).
    """
    out = ["", "## Against the fastest peer", "",
           "Computed from the numbers above: gkeras's median / the fastest "
           "peer's median for each measure (below or at 1: at or below), "
           "with the lowest and highest paired ratio of the interleaved "
           "runs against that peer.", ""]
    tally = [0, 0]
    for (model, batch), rows in _by_case(results).items():
        base = next((r for r in rows if r["framework"] == "gkeras"
                     and "error" not in r), None)
        if base is None:
            out.append(f"- **{model} b{batch}**: gkeras did not run.")
            continue
        parts = []
        for key, name in SUMMARY_KEYS:
            if base.get(key) is None:
                continue
            name = name or f"predict over {base.get('predict_rows')} rows"
            peer = scaling.fastest_peer(rows, key)
            if peer is None:
                parts.append(f"{name}: no peer measured")
                continue
            ratio = base[key] / peer[key]
            ok = ratio <= 1.0
            tally[0] += ok
            tally[1] += 1
            span = scaling.paired_range(base, peer, key)
            if len(base.get("runs", ())) < 2:
                span = None  # one run: the range says nothing more
            # Three decimals near 1, so the shown ratio agrees with the
            # verdict.
            digits = 3 if abs(ratio - 1.0) < 0.005 else 2
            parts.append(
                f"{name} **{'at or below' if ok else 'above'}** "
                f"({ratio:.{digits}f}x {peer['framework']}"
                + (f", paired {span[0]:.2f}-{span[1]:.2f}" if span else "")
                + ")")
        flops = train_step_flops(model, batch)

        def share(r):
            return 100 * flops / (r["train_ms"] * 1e-3) / 1e9 / ceiling
        line = f"- **{model} b{batch}**: " + "; ".join(parts)
        line += (f". Share of the GEMM ceiling of the training step: "
                 f"gkeras {share(base):.1f}%")
        peer = scaling.fastest_peer(rows, "train_ms")
        if peer is not None:
            line += f", {peer['framework']} {share(peer):.1f}%"
        out.append(line + ".")
    if tally[1]:
        out += ["", f"gkeras is at or below the fastest peer in {tally[0]} "
                f"of {tally[1]} comparisons."]
    return out + [""]


def render(data):
    """Renders the collected measurements as markdown (a string)."""
    info, results = data["info"], data["results"]
    ceiling = data["gemm_gflops"]
    out = [f"# {data['title']}", "",
           "Generated by `benchmarks/write_results.py`; do not edit the "
           "numbers by hand, rerun the script.", "",
           f"- date: {data['date']}",
           f"- machine: {info['cpu']}, {info['cpus']} logical CPUs"
           + (f", {info['memory_gib']} GiB" if "memory_gib" in info else "")
           + f"; {info['platform']}",
           f"- device: {data['device']}",
           f"- software: Python {info['python']}, NumPy {info['numpy']} "
           f"({info['blas']}), gkeras backend `{data['backend']}`, "
           + ", ".join(f"{k} {info[k]}" for k in ("keras", "jax", "torch",
                                                  "cupy") if info.get(k))
           + (f"; gkeras CPU JIT {info['jit']}" if info.get("jit") else ""),
           "- threads: " + ", ".join(
               f"{k}={v or 'unset'}" for k, v in info["threads"].items())
           + " (unset: the library's default, all cores)",
           f"- load average (1, 5, 15 min) before: {data['load_before']}, "
           f"after: {data['load_after']}. The machine was shared with "
           "other work while this ran unless these are near zero; "
           "absolute times are then inflated, ratios less so.",
           f"- command: `{data['command']}`",
           f"- suite: `{data['suite_command']}` (medians of "
           f"{data['steps']} steps after 5 warm-up steps; fit: median of 3 "
           "epochs after a warm-up epoch; each framework run "
           f"{info.get('repeats', 1)} time(s) per model, interleaved with "
           "the peers, and the median run reported"
           + (f"; made in {scaling._duration(data['suite_seconds'])}"
              if data.get("suite_seconds") else "") + ")", ""]

    out += ["## Per-step times", "",
            "train = `train_on_batch`, fit = one step inside `fit()`, "
            "predict = `predict_on_batch`. Ratio = gkeras time / peer time "
            "(below 1: gkeras faster). GFLOP/s = approximate training-step "
            "FLOPs (GEMMs and convolutions, forward + backward; "
            "`train_step_flops` in the script) / train time; share = that "
            f"over the GEMM ceiling ({ceiling:.1f} GFLOP/s).", "",
            "fit ratio range = the lowest and highest fit ratio of the "
            "interleaved run pairs (gkeras run i against peer run i).", "",
            "| model | batch | framework | train ms | fit ms | predict ms "
            "| train ratio | fit ratio | fit ratio range | GFLOP/s "
            "| share of ceiling |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by_case = _by_case(results)
    for (model, batch), rows in by_case.items():
        base = next((r for r in rows if r["framework"] == "gkeras"
                     and "train_ms" in r), None)
        flops = train_step_flops(model, batch)
        for r in rows:
            label = r.get("label", r["framework"])
            if "error" in r:
                out.append(f"| {model} | {batch} | {label} | - | - | - | - "
                           f"| - | - | - | failed: {r['error'][:80]} |")
                continue
            ratio = base["train_ms"] / r["train_ms"] if base else None
            fratio = base["fit_ms"] / r["fit_ms"] if base else None
            gflops = flops / (r["train_ms"] * 1e-3) / 1e9
            out.append(
                f"| {model} | {batch} | {label} | {_fmt(r['train_ms'])} | "
                f"{_fmt(r['fit_ms'])} | {_fmt(r['predict_ms'])} | "
                f"{_fmt(ratio)} | {_fmt(fratio)} | "
                f"{_ratio_range(base, r)} | {gflops:.1f} | "
                f"{100 * gflops / ceiling:.1f}% |")

    rows_runs = [r for r in results if "predict_rows_ms" in r]
    if rows_runs:
        out += ["", "## predict over many rows", "",
                "`model.predict(x, batch_size=batch)` over "
                f"{rows_runs[0]['predict_rows']} rows (plain PyTorch: a "
                "batched `eval()` + `inference_mode` forward loop), ms; "
                "ratio = gkeras / peer.", "",
                "| model | batch | framework | predict ms | ratio |",
                "|---|---:|---|---:|---:|"]
        for (model, batch), rows in by_case.items():
            base = next((r for r in rows if r["framework"] == "gkeras"
                         and "predict_rows_ms" in r), None)
            for r in rows:
                if "predict_rows_ms" not in r:
                    continue
                ratio = (base["predict_rows_ms"] / r["predict_rows_ms"]
                         if base else None)
                out.append(f"| {model} | {batch} | "
                           f"{r.get('label', r['framework'])} | "
                           f"{_fmt(r['predict_rows_ms'])} | {_fmt(ratio)} |")
    out += summary_lines(results, ceiling)
    out += data.get("scaling", [])
    out += ["", "## Import time", "",
            "Median of 5 fresh interpreters (`python -c \"import ...\"`, "
            "wall time of the import statement); target: gkeras under "
            "0.5 s.", "", "| import | seconds |", "|---|---:|"]
    for name, (seconds, err) in data["imports"].items():
        out.append(f"| `{name}` | "
                   + (f"{seconds:.3f}" if seconds is not None
                      else f"failed: {err}") + " |")
    out += ["", "## GEMM ceiling", "",
            f"{data['gemm_what']}: **{ceiling:.1f} GFLOP/s** (median of 20 "
            "products after 3 warm-up products).", ""]
    out += data.get("launch_counts", [])
    if not data["backend"] == "cupy":
        out += ["## GPU", "", gpu_status(), ""]
    if data.get("notes"):
        out += ["## Notes", ""] + [f"- {n}" for n in data["notes"]] + [""]
    return "\n".join(out)


def _launch_counts():
    """The counted (not timed) sections: optimizer launches per step and
    the CuPy path's device work per step; each one that cannot be counted
    here says why in one line, and the other still renders."""
    sys.path.insert(0, HERE)
    out = []
    for module, title in (
            ("optimizer_launches", "Optimizer launches per step"),
            ("standin_counts", "Device work per training step (CuPy path)")):
        try:
            out += importlib.import_module(module).markdown_section()
        except Exception as e:  # keep the timing results if counting breaks
            why = (str(e).strip().splitlines() or [""])[-1]
            out += [f"## {title}", "",
                    f"Not counted: {type(e).__name__}: {why}", ""]
    return out


def _ratio_range(base, row):
    """`lowest-highest` fit ratio over paired interleaved runs, or `-`."""
    if not base or "runs" not in base or "runs" not in row:
        return "-"
    pairs = [b["fit_ms"] / r["fit_ms"]
             for b, r in zip(base["runs"], row["runs"])]
    return f"{_fmt(min(pairs))}-{_fmt(max(pairs))}"


def _scaling_section(a, frameworks, command):
    """Measures the scaling sweeps chosen by the flags; markdown lines."""
    before = load_average()
    results, att = scaling.measure(
        a.scaling_sweeps, frameworks, a.scaling_repeats, a.scaling_steps,
        a.scaling_seconds, a.scaling_quick, attention=a.attention,
        log=lambda line: print(line, flush=True))
    return scaling.markdown_section(
        results, att, date=_now(), command=command,
        load=(before, load_average()))


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")


def _parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3,
                   help="interleaved runs per framework and model; each "
                        "time is their median")
    p.add_argument("--models", nargs="*", default=None)
    p.add_argument("--frameworks", nargs="*", default=None)
    p.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    p.add_argument("--predict-rows", type=int, default=10000,
                   help="rows for the predict-over-many-rows table (0: off)")
    p.add_argument("--predict-rows-repeats", type=int, default=1,
                   help="timed predicts over the rows inside each run; the "
                        "runs' median is taken anyway (3 adds ~8 min)")
    p.add_argument("--title", default="Benchmark results (CPU)")
    p.add_argument("--note", action="append", default=[],
                   help="a line for the Notes section (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="MLP only, 3 steps, gkeras only, no scaling unless "
                        "asked; print, write nothing")
    g = p.add_argument_group("scaling tables (benchmarks/scaling.py)")
    g.add_argument("--scaling", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="measure the scaling tables after the main table "
                        "(default: on; --no-scaling keeps the section "
                        "already in --out)")
    g.add_argument("--only-scaling", action="store_true",
                   help="measure only the scaling tables and replace that "
                        "section of --out (the rest is kept)")
    g.add_argument("--scaling-sweeps", nargs="*",
                   default=list(scaling.SWEEPS), choices=list(scaling.SWEEPS))
    g.add_argument("--scaling-repeats", type=int, default=1,
                   help="interleaved runs per framework and size (1 keeps "
                        "the default run near 25 min on 2 cores; 2 gives "
                        "paired-ratio ranges and doubles the tables' time)")
    g.add_argument("--scaling-steps", type=int, default=20,
                   help="most timed steps per run (at least 3)")
    g.add_argument("--scaling-seconds", type=float, default=0.5,
                   help="stop each run's timed loop after this long")
    g.add_argument("--scaling-quick", action="store_true",
                   help="the two smallest sizes of each sweep (smoke runs)")
    g.add_argument("--no-attention", dest="attention", action="store_false",
                   help="leave out the attention table")
    return p


def main(argv=None):
    """Runs the measurements and writes the markdown file."""
    a = _parser().parse_args(argv)
    if a.dry_run:
        a.steps, a.models, a.frameworks = 3, ["mlp"], ["gkeras"]
        a.repeats, a.predict_rows = 1, 0
    if a.scaling is None:
        a.scaling = not a.dry_run
    prefix = (f"GKERAS_BACKEND={os.environ['GKERAS_BACKEND']} "
              if "GKERAS_BACKEND" in os.environ else "")
    command = prefix + " ".join(
        ["python", "benchmarks/write_results.py",
         *(argv if argv is not None else sys.argv[1:])])
    frameworks = a.frameworks or scaling.FRAMEWORKS
    old = ""
    if os.path.exists(a.out):
        with open(a.out, encoding="utf-8") as f:
            old = f.read()
    if a.only_scaling:
        section = _scaling_section(a, frameworks, command)
        if old:
            text = scaling.splice(old, section)
        else:
            info = machine_info()
            text = "\n".join([
                f"# {a.title}", "", f"- date: {_now()}",
                f"- machine: {info['cpu']}, {info['cpus']} logical CPUs; "
                f"{info['platform']}", f"- load average: {load_average()}",
                ""] + section) + "\n"
        return _write(a, text)

    import gkeras
    backend = gkeras.backend.backend()
    use_cupy = backend == "cupy"
    load_before = load_average()
    suite_t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "results.json")
        suite = [sys.executable, os.path.join(HERE, "run.py"), "--steps",
                 str(a.steps), "--repeats", str(a.repeats), "--predict-rows",
                 str(a.predict_rows), "--predict-rows-repeats",
                 str(a.predict_rows_repeats), "--json", json_path]
        if a.models:
            suite += ["--models", *a.models]
        if a.frameworks:
            suite += ["--frameworks", *a.frameworks]
        subprocess.run(suite, check=True, cwd=ROOT)
        with open(json_path) as f:
            suite_data = json.load(f)
    suite_seconds = time.perf_counter() - suite_t0
    imports = {"gkeras": import_time("gkeras")}
    for backend_name in ("jax", "torch"):
        imports[f"keras (KERAS_BACKEND={backend_name})"] = import_time(
            "keras", {"KERAS_BACKEND": backend_name})
    if use_cupy:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        device = props["name"].decode() if isinstance(
            props["name"], bytes) else str(props["name"])
        gemm_what = f"cuBLAS float32 GEMM 4096x4096 on {device}"
        ceiling = gemm_ceiling(4096, use_cupy=True)
    else:
        device = "CPU only (NumPy backend)"
        gemm_what = "NumPy float32 GEMM 1024x1024 (`np.matmul`, BLAS " \
                    "threads as configured above)"
        ceiling = gemm_ceiling(1024)
    rel_suite = " ".join(["python", os.path.relpath(suite[1], ROOT)]
                         + [s for s in suite[2:] if s != json_path
                            and s != "--json"] + ["--json", "<tmp>"])
    if a.scaling:
        scaling_md = _scaling_section(a, frameworks, command)
    else:
        scaling_md = scaling.existing_section(old) or []
    data = {
        "title": a.title,
        "date": _now(),
        # The suite's own record (its repeat count) plus this machine's.
        "info": {**suite_data.get("info", {}), **machine_info()},
        "device": device, "backend": backend,
        "command": command,
        "suite_command": rel_suite, "steps": a.steps,
        "suite_seconds": suite_seconds,
        "results": suite_data["results"], "imports": imports,
        "gemm_gflops": ceiling, "gemm_what": gemm_what,
        "load_before": load_before, "load_after": load_average(),
        "notes": a.note,
        "launch_counts": _launch_counts(),
        "scaling": scaling_md,
    }
    return _write(a, render(data))


def _write(a, text):
    if a.dry_run:
        print(text)
        return 0
    tmp_out = a.out + ".tmp"
    with open(tmp_out, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp_out, a.out)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
