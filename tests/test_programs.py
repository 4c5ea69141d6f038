"""Runs every real Keras program in tests/programs/ as one test case.

Each program is a keras.io guide or example with only `keras` changed to
`gkeras` (and the data made tiny); it asserts its own outcomes (loss goes
down, accuracy above chance, reloaded models predict the same, numbers
against NumPy). A program left out of the runner is listed in `LEFT_OUT`
with the gkeras defect that stops it.
"""
import glob
import os
import runpy

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")

# program file -> the open defect that keeps it out of the runner
LEFT_OUT = {}

PROGRAMS = sorted(os.path.basename(p)
                  for p in glob.glob(os.path.join(HERE, "p[0-9]*.py")))


def test_programs_found():
    assert len(PROGRAMS) >= 2
    assert set(LEFT_OUT) <= set(PROGRAMS)


@pytest.mark.parametrize("name", [p for p in PROGRAMS if p not in LEFT_OUT])
def test_program(name, tmp_path, monkeypatch):
    # Programs write their files under tempfile's directory; keep them in
    # the test's own tmp_path.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runpy.run_path(os.path.join(HERE, name), run_name="__main__")
