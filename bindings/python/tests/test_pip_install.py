"""The documented pip install works offline into a fresh virtualenv.

Runs the README's command (a venv with --system-site-packages, pip install
--no-build-isolation --no-index ./bindings/python) through pip and the real
setup.py. SMGCORE_CMAKE_BUILD_DIR points setup.py at the build directory
CTest runs in, so the extension is an incremental build of that tree rather
than a second compile of the whole library; everything else is what a user
gets. The installed module is then imported from outside the source tree.
"""

import os
import pathlib
import subprocess
import sys

import pytest


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **extra)
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("pip")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    return venv


def test_pip_install_and_import_outside_the_source_tree(venv, source_dir):
    build_dir = os.environ.get("SMGCORE_BUILD_DIR")
    assert build_dir, "run through CTest (SMGCORE_BUILD_DIR names the build tree)"
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", str(source_dir / "bindings" / "python")],
        env=clean_env(SMGCORE_CMAKE_BUILD_DIR=build_dir),
        cwd=venv.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully installed smgcore" in result.stdout

    probe = """
import pathlib, smgcore
from smgcore import _smgcore
print(pathlib.Path(smgcore.__file__).resolve())
print(smgcore.__version__)
assert (pathlib.Path(smgcore.__file__).parent / "py.typed").exists()
assert (pathlib.Path(smgcore.__file__).parent / "_smgcore.pyi").exists()
r = smgcore.Router("cache_aware")
r.add_worker("http://10.0.0.1:30000")
with r.select(text="hello") as d:
    print(d.worker.url)
"""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        env=clean_env(),
        cwd=venv.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    module_file, version, url = result.stdout.split()
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert pathlib.Path(module_file).is_relative_to(site_packages.resolve())
    assert not pathlib.Path(module_file).is_relative_to(source_dir.resolve())
    assert version == (source_dir / "CMakeLists.txt").read_text().split("project(smgcore VERSION ")[1].split()[0]
    assert url == "http://10.0.0.1:30000"

    # The example runs against the installed module too.
    example = subprocess.run(
        [str(venv / "bin" / "python"), str(source_dir / "examples" / "python" / "dstack_replicas.py")],
        env=clean_env(),
        cwd=venv.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert example.returncode == 0, example.stdout + example.stderr

    # pip can remove it again.
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "uninstall", "-y", "smgcore"], env=clean_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
