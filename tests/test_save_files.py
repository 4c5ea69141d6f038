"""Saved files get the mode `open(path, "w")` would give them (umask
respected, an existing file's mode kept), and temporary files of saves
killed mid-write are removed by the next save to the same target."""

import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gkeras
from gkeras import layers
from gkeras.saving import file_io

pytest.importorskip("h5py")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


def _model():
    return gkeras.Sequential([gkeras.Input((3,)), layers.Dense(2)])


@pytest.fixture
def umask():
    def set_mask(mask):
        old.append(os.umask(mask))
    old = []
    yield set_mask
    if old:
        os.umask(old[0])


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.weights.h5"])
def test_new_file_mode_follows_umask(tmp_path, umask, mask, name):
    umask(mask)
    path = str(tmp_path / name)
    model = _model()
    if name.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)
    with open(tmp_path / "plain", "w"):
        pass
    expected = stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    assert expected == 0o666 & ~mask
    assert stat.S_IMODE(os.stat(path).st_mode) == expected


@posix_only
def test_existing_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = str(tmp_path / "m.keras")
    _model().save(path)
    os.chmod(path, 0o640)
    _model().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


_KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys
    os.environ["GKERAS_BACKEND"] = "numpy"
    import gkeras
    from gkeras.saving import file_io
    path = sys.argv[1]
    with file_io.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half a model")
        os.kill(os.getpid(), signal.SIGKILL)
""")


@posix_only
def test_stale_temporaries_of_killed_saves_are_removed(tmp_path):
    path = str(tmp_path / "m.keras")
    _model().save(path)
    script = tmp_path / "kill.py"
    script.write_text(_KILLED_SAVE)
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, str(script), path], capture_output=True,
            timeout=120, env={**os.environ, "PYTHONPATH": os.path.dirname(
                os.path.dirname(gkeras.__file__))})
        assert proc.returncode == -signal.SIGKILL
    # Each killed save removed its predecessor's leftover: repeated
    # crashes do not fill the disk.
    stale = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(stale) == 1
    # A live save of another process and other targets are left alone.
    live = tmp_path / f".m.keras.{file_io._host()}-{os.getppid()}.x.tmp"
    live.write_bytes(b"")
    other = tmp_path / f".other.keras.{file_io._host()}-999999999.x.tmp"
    other.write_bytes(b"")
    gkeras.models.load_model(path)  # the kills left the old file intact
    _model().save(path)
    left = sorted(n for n in os.listdir(tmp_path) if n.endswith(".tmp"))
    assert left == sorted([live.name, other.name])
