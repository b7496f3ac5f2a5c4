#!/usr/bin/env bash
# README command two: installs what is needed and runs the whole test suite
# with CTest, in two builds:
#   1. asan: AddressSanitizer + UndefinedBehaviorSanitizer (-Werror): every
#      unit test, the C ABI programs, the install/consumer test and the
#      example smoke tests.
#   2. release: the tests labelled `hosts`, which load smgcore into another
#      language's runtime (Python, Rust, Go). Sanitizer runtimes cannot be
#      preloaded reliably into those interpreters and toolchains, so they
#      run against the optimized build; the C ABI's bad-input test is what
#      runs under the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)

cmake --preset asan
cmake --build --preset asan -j"$jobs"
ctest --preset asan -j"$jobs" -LE hosts

cmake --preset release
cmake --build --preset release -j"$jobs"
ctest --preset release -j"$jobs" -L hosts --no-tests=ignore
