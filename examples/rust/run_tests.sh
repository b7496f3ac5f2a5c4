#!/usr/bin/env bash
# CTest's host_rust test: builds the Rust example against libsmgcore_c.so,
# runs `cargo test` (unit, integration and doc tests) and the demo.
#
#   run_tests.sh <dir with libsmgcore_c.so> <work dir in the build tree>
#
# Exits 77 (CTest's SKIP_RETURN_CODE) only when no usable cargo exists: not
# on PATH nor in $HOME/.cargo/bin, or older than edition 2024 needs. Builds
# offline (the crate has no dependencies) with its target directory in the
# build tree, so the source tree stays clean.
set -euo pipefail

lib_dir=$1
work_dir=$2
here=$(cd "$(dirname "$0")" && pwd)

# The first cargo that runs and supports edition 2024 (Rust 1.85).
usable() {
  local version
  version=$("$1" --version 2>/dev/null) || return 1
  version=${version#cargo }
  local major=${version%%.*} rest=${version#*.}
  local minor=${rest%%.*}
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 85 ]; }
}
cargo=""
tried=()
for candidate in "$(command -v cargo || true)" "${HOME:+$HOME/.cargo/bin/cargo}"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  if usable "$candidate"; then cargo=$candidate; break; fi
  tried+=("$candidate ($({ "$candidate" --version 2>&1 || true; } | head -n1))")
done
if [ -z "$cargo" ]; then
  if [ ${#tried[@]} -eq 0 ]; then
    echo "SKIPPED: cargo not found (looked on PATH and in \$HOME/.cargo/bin)"
  else
    echo "SKIPPED: no cargo >= 1.85 (edition 2024) found; tried: ${tried[*]}"
  fi
  exit 77
fi
echo "using $("$cargo" --version) ($cargo)"

export SMGCORE_LIB_DIR=$lib_dir
export CARGO_TARGET_DIR=$work_dir/target
cd "$here"
# --locked: the committed Cargo.lock is used as is, never rewritten.
"$cargo" test --offline --locked
"$cargo" run --offline --locked --quiet
