"""Packaging: every package is listed in setup.cfg, and the wheel ships
every kernels/*.cu, loadable from an installed (non-editable) copy."""

import configparser
import glob
import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir))


def _listed_packages():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    return {p.strip() for p in cfg["options"]["packages"].split("\n")
            if p.strip()}


def test_every_package_is_listed_in_setup_cfg():
    found = set()
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "gkeras")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if "__init__.py" in filenames:
            rel = os.path.relpath(dirpath, ROOT)
            found.add(rel.replace(os.sep, "."))
    listed = _listed_packages()
    missing = sorted(found - listed)
    assert not missing, f"add to setup.cfg [options] packages: {missing}"
    assert "gkeras._kernels" in listed


@pytest.mark.slow
def test_wheel_ships_kernels_and_installed_copy_loads_them(tmp_path):
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out), ROOT],
                   check=True, capture_output=True)
    wheel = glob.glob(str(out / "gkeras-*.whl"))[0]
    names = zipfile.ZipFile(wheel).namelist()
    sources = sorted(os.path.basename(p) for p in
                     glob.glob(os.path.join(ROOT, "kernels", "*.cu")))
    assert sources
    shipped = sorted(os.path.basename(n) for n in names
                     if n.startswith("gkeras/_kernels/") and n.endswith(".cu"))
    assert shipped == sources
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                    "-q", "--target", str(target), wheel], check=True,
                   capture_output=True)
    code = ("import gkeras.backend.kernel_source as k, os, sys;"
            "d = k.kernels_dir(); assert d.startswith(sys.argv[1]), d;"
            "print(sorted(f for f in os.listdir(d) if f.endswith('.cu')));"
            "[k.read_kernel(f) for f in os.listdir(d) if f.endswith('.cu')]")
    env = dict(os.environ, PYTHONPATH=str(target))
    res = subprocess.run([sys.executable, "-c", code, str(target)],
                         capture_output=True, text=True, env=env,
                         cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert eval(res.stdout.strip()) == sources


def test_only_the_backend_imports_cupy():
    """DESIGN.md: nothing above gkeras/backend knows NumPy from CuPy; only
    the GPU side (and the backend switch itself) imports CuPy."""
    import re
    allowed = {os.path.join("gkeras", "backend", "__init__.py")}
    pattern = re.compile(r"^\s*(import cupy|import cupyx|from cupy)",
                         re.MULTILINE)
    offenders = []
    for dirpath, _, filenames in os.walk(os.path.join(ROOT, "gkeras")):
        for f in filenames:
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), ROOT)
            if rel in allowed or rel.startswith(
                    os.path.join("gkeras", "backend", "gpu")):
                continue
            with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                if pattern.search(fh.read()):
                    offenders.append(rel)
    assert not offenders, f"CuPy imported outside the GPU backend: {offenders}"


def test_cpu_and_gpu_backends_export_the_same_names():
    from gkeras.backend import cpu, gpu
    assert sorted(cpu.__all__) == sorted(gpu.__all__)
    for name in cpu.__all__:
        assert callable(getattr(cpu, name)) == callable(getattr(gpu, name))
