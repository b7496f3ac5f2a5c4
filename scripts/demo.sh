#!/usr/bin/env bash
# README command one: installs the Debian build dependencies (only those that
# are missing), builds the release preset's route demo, and routes the
# shared workloads through every policy over simulated workers, printing one
# table per workload.
#
# The workloads come from ../shared (next to the repository): the
# generator's shared-prefix prompts as text and as tokens, multi-turn
# conversations, and the Mooncake conversation trace. Without ../shared the
# demo routes a shared-prefix workload it generates itself.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$(dirname "$repo")/shared"
cd "$repo"

# --- Dependencies: apt only when something is missing -------------------------
scripts/install-deps.sh

# --- Build ---------------------------------------------------------------------
cmake --preset release
cmake --build --preset release -j"$(nproc)" --target smgcore_route_demo
demo="$repo/build/release/examples/smgcore_route_demo"

# --- Workloads and run -----------------------------------------------------------
if [ ! -d "$shared/workloads" ]; then
  echo "demo.sh: $shared not found; using the demo's built-in workload"
  exec "$demo"
fi

out="$repo/build/release/demo-workloads"
mkdir -p "$out"
gen="$shared/workloads/gen_workload.py"
/usr/bin/python3 "$gen" --tokens "$out/shared-prefix"
/usr/bin/python3 "$gen" --shape multi-turn --groups 128 --per-group 8 --system-chars 2048 \
  --tokens "$out/multi-turn"

args=(
  --text "$out/shared-prefix.txt"
  --tokens "$out/shared-prefix.tok"
  --text "$out/multi-turn.txt"
)
trace="$shared/traces/mooncake/conversation_trace.jsonl"
if [ -f "$trace" ]; then
  args+=(--mooncake "$trace")
fi
exec "$demo" "${args[@]}"
