#!/usr/bin/env bash
# README command two: installs what is needed, builds smgcore with
# AddressSanitizer + UndefinedBehaviorSanitizer (-Werror), and runs the whole
# test suite with CTest: unit tests, the install/consumer test, and the
# example smoke tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)

cmake --preset asan
cmake --build --preset asan -j"$jobs"
ctest --preset asan -j"$jobs"
