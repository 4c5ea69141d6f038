"""The tutorial notebooks: each runs without error on the NumPy backend, the
committed copies carry clean outputs, and the progress bar renders right in
a Jupyter kernel.

The notebooks run in a real Jupyter kernel (nbclient + ipykernel) started
from this Python, as a user's notebook server would run them.
"""

import importlib.util
import json
import os
import re

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NB_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = ["01_quickstart", "02_cnn", "03_text", "04_functional",
             "05_callbacks", "06_gpu"]


def _execute_module():
    spec = importlib.util.spec_from_file_location(
        "notebooks_execute", os.path.join(NB_DIR, "execute.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def numpy_kernel_env(monkeypatch):
    # The kernel inherits this environment: CI checks the NumPy backend.
    monkeypatch.setenv("GKERAS_BACKEND", "numpy")
    monkeypatch.setenv("MPLBACKEND", "agg")


def _stream_text(cell, name="stdout"):
    return "".join(o["text"] for o in cell["outputs"]
                   if o["output_type"] == "stream" and o["name"] == name)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_without_error(name, numpy_kernel_env):
    nb = _execute_module().execute_notebook(
        os.path.join(NB_DIR, name + ".ipynb"), timeout=300)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None
            assert not [o for o in cell.outputs
                        if o["output_type"] == "error"], cell.source
    # Tutorials print to stdout; anything on stderr is a warning or a
    # traceback that a reader would see as a fault.
    stderr = "".join(_stream_text(c, "stderr") for c in nb.cells
                     if c.cell_type == "code")
    assert stderr == "", stderr


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_clean_outputs(name):
    nb = nbformat.read(os.path.join(NB_DIR, name + ".ipynb"), as_version=4)
    nbformat.validate(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells, "a tutorial without code"
    for cell in code_cells:
        assert cell.execution_count is not None, (
            f"{name}: cell not executed; run python notebooks/execute.py")
        for out in cell.outputs:
            assert out["output_type"] != "error", cell.source
            if out["output_type"] == "stream":
                # Committed outputs are the front end's view: no pending
                # carriage returns or backspaces.
                assert "\b" not in out["text"]
                assert not re.search(r"\r(?!\n)", out["text"]), out["text"]
    counts = [c.execution_count for c in code_cells]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{name}: cells were run out of order: {counts}")


# --- the progress bar as a notebook front end shows it -----------------

def render_like_jupyterlab(text):
    """Applies carriage returns as JupyterLab's `fixCarriageReturn` does.

    Text after a `\\r` overwrites the line from its start, and characters of
    the old line beyond the new text's length stay visible: a redraw that
    is shorter than the line it replaces leaves garbage unless padded.
    """
    text = re.sub(r"\r+\n", "\n", text)
    lines = []
    for line in text.split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown)
    return lines


ANSI = re.compile(r"\x1b\[[0-9;]*m")
BAR_LINE = re.compile(
    r"^(\d+)/(\d+) ━{20} \d+s (\d+)(us|ms|s)/step"
    r"((?: - [a-z_]+: -?\d+\.\d+(?:e[+-]\d+)?)*)$")

PROGBAR_CELL = """
import time
import numpy as np
import gkeras as keras

class SlowStep(keras.callbacks.Callback):
    # 20 ms per training step: the per-step time shown must include it.
    def on_train_batch_begin(self, batch, logs=None):
        time.sleep(0.02)

rng = np.random.default_rng(0)
x = rng.random((300, 6), dtype=np.float32)
y = (x.sum(axis=1) > 3).astype("float32")
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2,
                    callbacks=[SlowStep()], verbose=1)
"""


def test_progress_bar_renders_cleanly_in_a_notebook(numpy_kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROGBAR_CELL),
                nbformat.v4.new_code_cell(
                    "model.evaluate(x, y, batch_size=10, verbose=1);"),
                nbformat.v4.new_code_cell(
                    "import json; print(json.dumps({k: [float(v) for v in vs]"
                    " for k, vs in history.history.items()}))")]
    path = os.path.join(NB_DIR, "_progbar_check.ipynb")
    nbformat.write(nb, path)
    try:
        # Raw stream messages, exactly as the kernel sent them.
        nb = _execute_module().execute_notebook(path, timeout=120,
                                                coalesce_streams=False)
    finally:
        os.remove(path)
    fit_raw = [o["text"] for o in nb.cells[0].outputs
               if o["output_type"] == "stream"]
    assert not [o for o in nb.cells[0].outputs
                if o["output_type"] == "stream" and o["name"] == "stderr"]
    joined = "".join(fit_raw)
    assert "\b" not in joined
    # Redraws return to the line start and do not end the line, so the bar
    # animates in place instead of printing one line per update.
    redraws = [t for t in fit_raw if not t.startswith("Epoch")]
    assert len(redraws) > 3 * 2, "the bar was never redrawn"
    assert all(t.startswith("\r") for t in redraws), redraws
    assert sum(t.endswith("\n") for t in redraws) == 3  # once per epoch

    history = json.loads(_stream_text(nb.cells[2]))
    lines = [ANSI.sub("", line).rstrip()
             for line in render_like_jupyterlab(joined)]
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == 6, lines
    for epoch in range(3):
        assert lines[2 * epoch] == f"Epoch {epoch + 1}/3"
        m = BAR_LINE.match(lines[2 * epoch + 1])
        assert m, repr(lines[2 * epoch + 1])
        assert m.group(1) == m.group(2) == "24"  # 240 samples / batch 10
        names = re.findall(r" - ([a-z_]+):", m.group(5))
        assert names == ["accuracy", "loss", "val_accuracy", "val_loss"]
        step_ms = int(m.group(3)) * {"us": 1e-3, "ms": 1, "s": 1e3}[
            m.group(4)]
        assert step_ms >= 15, lines[2 * epoch + 1]
        shown = dict(re.findall(r" - ([a-z_]+): ([-\d.e+]+)", m.group(5)))
        # The end-of-epoch line shows the epoch's logs, as History has them.
        for key, value in shown.items():
            assert float(value) == pytest.approx(history[key][epoch],
                                                 rel=1e-3, abs=1e-4), key

    # The very first redraw (after step 1) already counts step 1's time.
    first = ANSI.sub("", redraws[0]).strip()
    m = BAR_LINE.match(first)
    assert m and m.group(1) == "1", first
    assert int(m.group(3)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(4)] \
        >= 15, first

    eval_lines = [ANSI.sub("", line).rstrip() for line in
                  render_like_jupyterlab(_stream_text(nb.cells[1]))]
    assert eval_lines[-1] == "" and len(eval_lines) == 2, eval_lines
    m = BAR_LINE.match(eval_lines[0])
    assert m and m.group(1) == m.group(2) == "30", eval_lines[0]
    assert re.findall(r" - ([a-z_]+):", m.group(5)) == ["accuracy", "loss"]

