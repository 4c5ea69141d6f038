"""verbose=1 where stdout is neither a terminal nor Jupyter (CI logs,
nohup, `| tee`): each epoch prints its header and the bar's final line
once, with callback lines in between, nothing else; terminals and Jupyter
keep the live bar."""

import sys
import time

import numpy as np
import pytest

import gkeras
from gkeras import callbacks, layers
from gkeras.utils import progbar


class _Slow(callbacks.Callback):
    """Batches slower than the bar's redraw interval (0.05 s)."""

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.06)

    def on_epoch_end(self, epoch, logs=None):
        print(f"callback says: epoch {epoch} done")


@pytest.fixture
def piped(monkeypatch):
    """stdout as in CI: captured (not a terminal), no Jupyter kernel (an
    earlier test may have imported ipykernel), not PyCharm."""
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not progbar._dynamic_display()


def _fit(verbose=1):
    model = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((20, 3), "float32")
    model.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=verbose,
              callbacks=[_Slow()])


def test_piped_output_has_one_bar_line_per_epoch(capsys, piped):
    _fit()
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == 6, lines
    assert lines[0] == "Epoch 1/2" and lines[3] == "Epoch 2/2"
    for i in (1, 4):
        assert "5/5" in lines[i] and "loss:" in lines[i]
    assert lines[2] == "callback says: epoch 0 done"
    assert lines[5] == "callback says: epoch 1 done"


def test_terminal_keeps_the_live_bar(capsys, monkeypatch):
    monkeypatch.setattr(progbar, "_dynamic_display", lambda: True)
    _fit()
    out = capsys.readouterr().out
    # Several in-place redraws per epoch, ending on the 5/5 line.
    assert out.count("\r") >= 6
    assert "1/5" in out or "2/5" in out


def test_predict_and_evaluate_piped(capsys, piped):
    model = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((40, 3), "float32")
    model.predict(x, batch_size=4, verbose=1)
    model.evaluate(x, x[:, :1], batch_size=4, verbose=1)
    lines = capsys.readouterr().out.split("\n")[:-1]
    assert len(lines) == 2
    assert all("10/10" in line for line in lines)
