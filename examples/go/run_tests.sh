#!/usr/bin/env bash
# CTest's host_go test: builds the Go example with cgo against
# libsmgcore_c.so, runs go vet, go test (with the race detector where Go has
# one) and the demo.
#
#   run_tests.sh <dir with libsmgcore_c.so> <dir with smgcore/smgcore_c.h> <work dir>
#
# Exits 77 (CTest's SKIP_RETURN_CODE) only when no usable go exists: not on
# PATH, in /usr/lib/go/bin or /usr/bin, or older than 1.19. Works offline
# (the module has no dependencies) with every Go cache in the build tree.
set -euo pipefail

lib_dir=$1
include_dir=$2
work_dir=$3
here=$(cd "$(dirname "$0")" && pwd)

# The first go that runs and is at least 1.19 (Debian 12's).
usable() {
  local version
  version=$("$1" env GOVERSION 2>/dev/null) || return 1
  version=${version#go}
  local major=${version%%.*} rest=${version#*.}
  local minor=${rest%%[!0-9]*}
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 19 ]; }
}
go=""
tried=()
for candidate in "$(command -v go || true)" /usr/lib/go/bin/go /usr/bin/go; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  if usable "$candidate"; then go=$candidate; break; fi
  tried+=("$candidate ($({ "$candidate" version 2>&1 || true; } | head -n1))")
done
if [ -z "$go" ]; then
  if [ ${#tried[@]} -eq 0 ]; then
    echo "SKIPPED: go not found (looked on PATH, /usr/lib/go/bin, /usr/bin; Debian: apt-get install golang-go)"
  else
    echo "SKIPPED: no go >= 1.19 found; tried: ${tried[*]}"
  fi
  exit 77
fi
echo "using $("$go" version) ($go)"

export GOCACHE=$work_dir/cache GOPATH=$work_dir/gopath GOMODCACHE=$work_dir/gopath/pkg/mod
export GOPROXY=off GOFLAGS=-mod=readonly GOWORK=off GO111MODULE=on
export GOTOOLCHAIN=local GOTELEMETRY=off # newer Go only; 1.19 ignores them
export CGO_ENABLED=1
export CGO_CFLAGS="-I$include_dir"
export CGO_LDFLAGS="-L$lib_dir -Wl,-rpath,$lib_dir"

race=""
case "$("$go" env GOOS)/$("$go" env GOARCH)" in
  linux/amd64 | linux/arm64) race=-race ;;
esac

cd "$here"
"$go" vet ./...
"$go" test $race -count=1 ./...
"$go" run ./cmd/demo
