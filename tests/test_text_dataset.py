"""text_dataset_from_directory: files, labels, splits, errors."""

import numpy as np
import pytest

import gkeras as keras
from gkeras.utils import text_dataset_from_directory


def _make_tree(root):
    texts = {"neg": ["bad movie", "awful plot", "boring"],
             "pos": ["great film", "loved it"]}
    for cls, items in texts.items():
        (root / cls).mkdir()
        for i, t in enumerate(items):
            (root / cls / f"{i}.txt").write_text(t, encoding="utf-8")
        (root / cls / "ignored.md").write_text("not a txt file")
    return texts


def test_reads_texts_and_labels(tmp_path, capsys):
    texts = _make_tree(tmp_path)
    ds = text_dataset_from_directory(str(tmp_path), batch_size=2,
                                     shuffle=False)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3
    got = []
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.dtype == object and y.dtype == np.int32
        got += list(zip(x.tolist(), y.tolist()))
    want = [(t, 0) for t in texts["neg"]] + [(t, 1) for t in texts["pos"]]
    assert sorted(got) == sorted(want)


def test_max_length_binary_and_split(tmp_path):
    _make_tree(tmp_path)
    tr, va = text_dataset_from_directory(
        str(tmp_path), label_mode="binary", max_length=4, batch_size=None,
        validation_split=0.4, subset="both", seed=3, verbose=False)
    assert len(tr) + len(va) == 5 and len(va) == 2
    x, y = tr[0]
    assert len(x) <= 4 and y.shape == (1,) and y.dtype == np.float32
    paths = set(tr.file_paths) & set(va.file_paths)
    assert not paths


def test_errors(tmp_path):
    _make_tree(tmp_path)
    with pytest.raises(ValueError, match="max_length"):
        text_dataset_from_directory(str(tmp_path), max_length=0)
    with pytest.raises(ValueError, match="seed"):
        text_dataset_from_directory(str(tmp_path), validation_split=0.2,
                                    subset="training")
    with pytest.raises(ValueError, match="label_mode"):
        text_dataset_from_directory(str(tmp_path), label_mode="sparse")
