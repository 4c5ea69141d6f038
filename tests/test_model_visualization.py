"""`utils.model_to_dot` / `plot_model` against the graphs Keras 3.15.1
draws for the same models (tests/data/keras_model_dot.json, recorded by
tests/data/model_dot_cases.py)."""

import json
import os
import shutil
import sys

import pytest

import gkeras
from gkeras.utils import model_visualization

DATA = os.path.join(os.path.dirname(__file__), "data")
sys.path.insert(0, DATA)
import model_dot_cases  # noqa: E402

with open(os.path.join(DATA, "keras_model_dot.json")) as _f:
    KERAS_DOT = json.load(_f)

pydot = pytest.importorskip("pydot")  # the `plot` extra (in `test`)


@pytest.mark.parametrize("case", sorted(KERAS_DOT))
def test_model_to_dot_draws_what_keras_draws(case):
    model, kwargs = model_dot_cases.build_models(gkeras)[case]
    got = model_dot_cases.describe(gkeras.utils.model_to_dot(model,
                                                             **kwargs))
    assert got == KERAS_DOT[case]


def test_plot_model_writes_the_image(tmp_path):
    if shutil.which("dot") is None:
        with pytest.raises(ImportError, match="Graphviz"):
            gkeras.utils.plot_model(gkeras.Sequential(
                [gkeras.Input((2,)), gkeras.layers.Dense(1)]))
        return
    model, _ = model_dot_cases.build_models(gkeras)["functional"]
    png = tmp_path / "model.png"
    gkeras.utils.plot_model(model, to_file=png, show_shapes=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot_file = tmp_path / "model.dot"
    gkeras.utils.plot_model(model, to_file=str(dot_file), rankdir="LR")
    text = dot_file.read_text()
    assert "rankdir=LR" in text and "Concatenate" in text


def test_errors_name_the_extra_and_the_argument(monkeypatch):
    model = gkeras.Sequential([gkeras.Input((2,)), gkeras.layers.Dense(1)])
    with pytest.raises(ValueError, match="layer_range"):
        gkeras.utils.model_to_dot(model, layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword"):
        gkeras.utils.model_to_dot(model, color="red")
    with pytest.raises(ValueError, match="not yet been built"):
        gkeras.utils.plot_model(gkeras.Sequential([gkeras.layers.Dense(1)]))
    monkeypatch.setattr(model_visualization, "_pydot", lambda: None)
    with pytest.raises(ImportError, match=r"gkeras\[plot\]"):
        gkeras.utils.plot_model(model)
    with pytest.raises(ImportError, match=r"gkeras\[plot\]"):
        gkeras.utils.model_to_dot(model)


def test_subclassed_model_is_one_box():
    class M(gkeras.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.d = gkeras.layers.Dense(2)

        def call(self, x):
            return self.d(x)
    m = M()
    m(gkeras.ops.ones((1, 3)))
    got = model_dot_cases.describe(gkeras.utils.model_to_dot(m))
    assert got["edges"] == [] and len(got["nodes"]) == 1
    assert "<b>sub</b> (M)" in got["nodes"][0]
