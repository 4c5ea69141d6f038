#!/usr/bin/env bash
# The whole first-contact GPU run, in one command that finishes in under
# 8 minutes on one H100/H200 (installs included), so that the first time a
# GPU is at hand the verdict comes from one call. Nothing is fetched from
# the network (PIP_NO_INDEX is set): the GPU machine is expected to have
# CuPy (with its CUDA toolkit wheels), h5py and, for the comparisons,
# PyTorch with CUDA; wheels missing there can be put in .whl/ beside this
# repository's root and are installed from that folder only.
#
#   benchmarks/gpu_bench.sh [--out DIR] [--steps N] [--budget SECONDS]
#   benchmarks/gpu_bench.sh --dry-run      # on any machine, CPU only
#
# Steps, each under its own time limit and logged to DIR (default
# benchmarks/results_gpu/<date>_<host>):
#   0. install.txt        local wheels from .whl/ (if any, --no-index),
#                         gkeras from this checkout (PYTHONPATH, no install)
#   1. env.txt            nvidia-smi, Python/CuPy/PyTorch versions and devices
#   2. check.txt          python -m gkeras.backend.check: compiles every
#                         kernel, every entry point vs NumPy, the tutorial
#                         models on CuPy vs NumPy (one verdict line each)
#   3. pytest_gpu.txt     pytest -m gpu (CuPy vs NumPy comparisons)
#   4. conv_pool_bn.txt, rnn.txt, attention.txt, attention_causal.txt
#                         kernel micro-benchmarks against cuDNN/cuBLAS
#                         through PyTorch
#   5. torch_eager.txt    the tutorial models, gkeras (CuPy) vs PyTorch
#                         eager with cuDNN, ms per training step
#                         (TORCH_EAGER.md)
#   5b. mixed_amp.txt     the tutorial models under float32 /
#                         mixed_float16 / mixed_bfloat16, gkeras vs PyTorch
#                         AMP (torch.autocast), ms per step (MIXED_AMP.md)
#   6. models.txt         only when Keras is installed: the models against
#                         Keras 3 on PyTorch, rendered by write_results.py
#                         (RESULTS_GPU.md)
#   SUMMARY.md            each step's exit status (124: its time limit) and
#                         duration. The run never outlasts --budget (default
#                         450 s): each step's limit is cut to what is left,
#                         and a step with under 10 s left is skipped and
#                         said so.
# Copy headline numbers into benchmarks/RESULTS.md by rerunning the
# scripts, never by hand.
#
# --dry-run runs every step on the CPU with tiny sizes (GKERAS_BACKEND=numpy;
# the gpu tests skip, the micro-benchmarks report that there is no GPU), to
# check the script itself anywhere.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

ARGS="$*"
DRY=0
STEPS=30
OUT=""
BUDGET=450
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --out) OUT="$2"; shift ;;
        --steps) STEPS="$2"; shift ;;
        --budget) BUDGET="$2"; shift ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) echo "gpu_bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python
    else PY="$(command -v python3 || command -v python)"; fi
fi
export PIP_NO_INDEX=1 PYTHONUNBUFFERED=1
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "$OUT" ]; then
    OUT="benchmarks/results_gpu/$(date -u +%Y%m%d_%H%M%S)_$(hostname -s)"
    [ "$DRY" = 1 ] && OUT="${OUT}_dry-run"
fi
mkdir -p "$OUT"
SUMMARY="$OUT/SUMMARY.md"

if [ "$DRY" = 1 ]; then
    export GKERAS_BACKEND=numpy
    STEPS=2
    CHECK_ARGS=(--steps 1)
    MODELS=(--models mlp)
    FRAMEWORKS=(--frameworks gkeras)
    TORCH_ARGS=(--dry-run --models mlp)
    AMP_ARGS=(--dry-run --models mlp)
    SEQS=128,256
    RNN_SIZES=4x10x16
    CONV_ARGS=(--batch 2 --reps 1)
    REPS=(--reps 1)
else
    export GKERAS_BACKEND=cupy
    CHECK_ARGS=(--steps 3)
    MODELS=()
    FRAMEWORKS=(--frameworks gkeras keras-torch)
    TORCH_ARGS=(--steps "$STEPS")
    AMP_ARGS=(--steps 10 --models mlp cnn transformer)
    SEQS=512,1024,2048,4096
    RNN_SIZES=32x100x128,64x100x256,128x50x512
    CONV_ARGS=(--reps 10)
    REPS=(--reps 5)
    if ! "$PY" -c "import cupy, sys; sys.exit(cupy.cuda.runtime.getDeviceCount() < 1)" 2>/dev/null; then
        echo "gpu_bench.sh: CuPy cannot see a CUDA GPU here. Run it on a GPU" \
             "machine with gkeras[gpu] installed, or use --dry-run." >&2
        exit 1
    fi
fi

{
    echo "# GPU benchmark run"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), host: $(hostname -s), dry run: $DRY"
    echo "- command: \`benchmarks/gpu_bench.sh $ARGS\` (GKERAS_BACKEND=$GKERAS_BACKEND, steps $STEPS, budget ${BUDGET}s)"
    echo
    echo "| step | exit status | seconds | log |"
    echo "|---|---:|---:|---|"
} > "$SUMMARY"

FAILED=0
T0=$SECONDS
step() {  # step NAME LOGFILE LIMIT_SECONDS COMMAND...
    local name="$1" log="$2" limit="$3"; shift 3
    # Each step's limit is cut to what is left of the budget, so the whole
    # run never outlasts it.
    local left=$((BUDGET - (SECONDS - T0)))
    if [ "$left" -lt 10 ]; then
        echo "| $name | skipped: budget of ${BUDGET}s spent | 0 | - |" >> "$SUMMARY"
        echo "== $name: skipped (budget spent)"
        FAILED=1
        return 0
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "== $name (limit ${limit}s): $*" > "$OUT/$log"
    local start=$SECONDS
    STEP_LIMIT=$limit
    if declare -F "$1" >/dev/null; then
        # A shell function (timeout cannot run one): it puts its own long
        # commands under `timeout -k 5 "$STEP_LIMIT"`.
        "$@" >> "$OUT/$log" 2>&1
    else
        timeout -k 5 "$limit" "$@" >> "$OUT/$log" 2>&1
    fi
    local rc=$?
    [ $rc -eq 124 ] && echo "== stopped at its ${limit}s limit" >> "$OUT/$log"
    tail -n 60 "$OUT/$log"
    echo "| $name | $rc | $((SECONDS - start)) | $log |" >> "$SUMMARY"
    [ $rc -ne 0 ] && FAILED=1
    return 0
}

install_local() {
    if compgen -G ".whl/*.whl" >/dev/null; then
        timeout -k 5 "$STEP_LIMIT" "$PY" -m pip install -q --no-index --no-deps \
            --no-compile --no-cache-dir --upgrade --target /tmp/gkeras_site \
            .whl/*.whl || return 1
        echo "installed from .whl/: $(ls .whl)"
    else
        echo "no local wheels (.whl/ absent): using what is installed"
    fi
    echo "gkeras from $ROOT (PYTHONPATH)"
    timeout -k 5 60 "$PY" -c "import numpy, h5py, gkeras; print('numpy', numpy.__version__, 'h5py', h5py.__version__, 'gkeras', gkeras.__version__, gkeras.__file__)"
}
if compgen -G ".whl/*.whl" >/dev/null; then
    export PYTHONPATH="$PYTHONPATH:/tmp/gkeras_site"
fi

env_report() {
    command -v nvidia-smi >/dev/null && timeout 20 nvidia-smi || echo "nvidia-smi: not found"
    timeout -k 5 "$STEP_LIMIT" "$PY" - <<'PYEOF'
import platform
print("python", platform.python_version(), platform.platform())
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
          torch.backends.cudnn.version(), "device",
          torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
except Exception as e:
    print("torch: unavailable:", e)
try:
    import keras
    print("keras", keras.__version__)
except Exception as e:
    print("keras: unavailable:", e)
PYEOF
}

keras_models() {
    if ! "$PY" -c "import keras" 2>/dev/null; then
        echo "Keras is not installed here: the Keras-on-PyTorch comparison is skipped (torch_eager.txt compares with plain PyTorch)."
        return 0
    fi
    timeout -k 5 "$STEP_LIMIT" "$PY" benchmarks/write_results.py \
        --title "Benchmark results (GPU, CuPy backend)" --out "$OUT/RESULTS_GPU.md" \
        --steps "$STEPS" --repeats 1 "${MODELS[@]}" "${FRAMEWORKS[@]}" \
        --note "targets on an H100: training steps within 1.5x of PyTorch eager with cuDNN; fused attention >= 2x faster than materialised at seq >= 1024 (attention.txt)"
}

step "install" install.txt 60 install_local
step "environment" env.txt 30 env_report
step "python -m gkeras.backend.check" check.txt 150 "$PY" -m gkeras.backend.check "${CHECK_ARGS[@]}"
step "pytest -m gpu" pytest_gpu.txt 120 "$PY" -m pytest -m gpu -q -p no:cacheprovider tests
step "conv/pool/batch-norm kernels" conv_pool_bn.txt 40 "$PY" benchmarks/conv_pool_bn_gpu.py "${CONV_ARGS[@]}"
step "LSTM sequence kernels" rnn.txt 30 "$PY" benchmarks/rnn_gpu.py --sizes "$RNN_SIZES" "${REPS[@]}"
step "attention kernels" attention.txt 30 "$PY" benchmarks/attention_gpu.py --seqs "$SEQS" "${REPS[@]}"
step "attention kernels (causal)" attention_causal.txt 25 "$PY" benchmarks/attention_gpu.py --seqs "$SEQS" --causal "${REPS[@]}"
step "tutorial models vs PyTorch eager" torch_eager.txt 90 "$PY" benchmarks/torch_eager_gpu.py "${TORCH_ARGS[@]}" --out "$OUT/TORCH_EAGER.md"
step "mixed precision vs PyTorch AMP" mixed_amp.txt 45 "$PY" benchmarks/mixed_precision.py --vs-torch-amp "${AMP_ARGS[@]}" --out "$OUT/MIXED_AMP.md"
step "models vs Keras on PyTorch" models.txt 60 keras_models

echo "| total | $FAILED | $((SECONDS - T0)) | - |" >> "$SUMMARY"
echo
echo "results in $OUT (summary: $SUMMARY; $((SECONDS - T0)) s)"
exit $FAILED
