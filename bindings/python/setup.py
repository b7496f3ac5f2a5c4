"""Builds the smgcore wheel: the package in smgcore/ plus the extension
smgcore._smgcore, compiled by CMake from the repository root.

build_ext configures the whole project with only the Python module on
(no tests, benchmarks or examples) for the interpreter running this script,
builds the target `_smgcore`, and copies the result into the wheel.

Environment:
  SMGCORE_CMAKE_BUILD_DIR  an already configured smgcore build directory
                           (e.g. build/release; relative paths are taken
                           from the repository root) to build the target in
                           instead of a fresh one: an incremental build. Its
                           interpreter (SMGCORE_PYTHON) must have the same
                           version as the one running pip.
  CMAKE_BUILD_PARALLEL_LEVEL  parallel compile jobs (default 2).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
SOURCE_DIR = HERE.parents[1]  # the repository root: the CMake project


def project_version():
    text = (SOURCE_DIR / "CMakeLists.txt").read_text()
    match = re.search(r"project\(smgcore VERSION (\d+\.\d+\.\d+)", text)
    if not match:
        raise RuntimeError(f"no project(smgcore VERSION x.y.z) in {SOURCE_DIR / 'CMakeLists.txt'}")
    return match.group(1)


class CMakeExtension(Extension):
    """An extension whose sources CMake knows: no sources for setuptools."""

    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        existing = os.environ.get("SMGCORE_CMAKE_BUILD_DIR")
        if existing:
            build_dir = (SOURCE_DIR / existing).resolve()  # relative: to the repository root
            if not (build_dir / "CMakeCache.txt").exists():
                raise RuntimeError(f"SMGCORE_CMAKE_BUILD_DIR={existing} is not a configured CMake build directory")
        else:
            build_dir = pathlib.Path(self.build_temp).resolve() / "cmake"
            build_dir.mkdir(parents=True, exist_ok=True)
            self.run_command_checked(
                [
                    "cmake",
                    "-S", str(SOURCE_DIR),
                    "-B", str(build_dir),
                    "-DCMAKE_BUILD_TYPE=Release",
                    "-DSMGCORE_BUILD_PYTHON=ON",
                    "-DSMGCORE_BUILD_TESTS=OFF",
                    "-DSMGCORE_BUILD_BENCH=OFF",
                    "-DSMGCORE_BUILD_EXAMPLES=OFF",
                    "-DSMGCORE_INSTALL=OFF",
                    f"-DSMGCORE_PYTHON={sys.executable}",
                ]
            )
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        self.run_command_checked(["cmake", "--build", str(build_dir), "--target", "_smgcore", "-j", jobs])

        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = build_dir / "bindings" / "python" / "smgcore" / f"_smgcore{suffix}"
        if not built.exists():
            raise RuntimeError(
                f"{built} was not built: the build directory's interpreter (SMGCORE_PYTHON) does not "
                f"match {sys.executable} (extension suffix {suffix})"
            )
        destination = pathlib.Path(self.get_ext_fullpath(ext.name))
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, destination)

    @staticmethod
    def run_command_checked(command):
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)


def setuptools_options():
    """With SMGCORE_CMAKE_BUILD_DIR, setuptools' own build files (build/,
    *.egg-info) go there too, so that a test leaves the source tree as it was.
    Otherwise they go where pip's in-tree build puts them (both ignored by
    git)."""
    existing = os.environ.get("SMGCORE_CMAKE_BUILD_DIR")
    if not existing:
        return {}
    base = (SOURCE_DIR / existing).resolve() / "bindings" / "python" / "setuptools"
    base.mkdir(parents=True, exist_ok=True)
    return {"build": {"build_base": str(base / "build")}, "egg_info": {"egg_base": str(base)}}


setup(
    version=project_version(),
    options=setuptools_options(),
    packages=["smgcore"],
    package_data={"smgcore": ["py.typed", "_smgcore.pyi"]},
    ext_modules=[CMakeExtension("smgcore._smgcore")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
