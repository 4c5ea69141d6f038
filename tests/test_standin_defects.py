"""Issue 16 part-2 defects of the CuPy path, each checked on the strict
CuPy stand-in (tests/standin_suite/defects.py, one subprocess for all).
Each of these checks failed before its fix."""

import functools
import json

import pytest

from gkeras import backend
from standin_suite import run_in_standin, standin_available

pytestmark = [
    pytest.mark.skipif(not standin_available(),
                       reason=standin_available.reason),
    pytest.mark.skipif(
        backend.backend() != "numpy",
        reason="the stand-in subprocess is started from a NumPy-backend run")]

CHECKS = ("random_flip_training", "variable_from_device_array",
          "stateful_rnn", "rnn_initial_state_numpy",
          "reset_states_with_values", "sparse_labels_out_of_range_fit",
          "sparse_labels_out_of_range_generator",
          "embedding_id_out_of_range_fit", "no_float64_in_float32_step",
          "optimizer_apply_numpy_grads", "repeat_tensor_repeats",
          "random_crop_like_keras_3_15",
          "functional_symbolic_add_save_load", "device_results_convertible",
          "erf_nonzero")


@functools.lru_cache(maxsize=None)
def _results():
    r = run_in_standin(["-m", "standin_suite.defects"], timeout=300)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULTS")]
    assert r.returncode == 0 and line, r.stdout[-2000:] + r.stderr[-4000:]
    return json.loads(line[-1][len("RESULTS"):])


@pytest.mark.parametrize("name", CHECKS)
def test_defect_fixed_on_cupy_path(name):
    result = _results()[name]
    if "ABSENT:" in result:
        pytest.skip(result.rsplit("ABSENT:", 1)[1].strip())
    assert result == "ok", f"{name} on the CuPy stand-in:\n{result}"


def test_every_check_is_listed():
    assert set(_results()) == set(CHECKS)
