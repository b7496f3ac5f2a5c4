#!/usr/bin/env python3
"""Runs smgcore_route_replay configurations in interleaved rounds.

On a shared virtual machine one replay's figure moves with the host's load
and phases (two-thread runs by 2x or more from one minute to the next), so
comparing two configurations run once each, or one after the other in
batches, compares the machine's moments as much as the configurations.
This runs every configuration once per round, round after round, rotating
which goes first, and reports per configuration the minimum, median and
maximum ns_per_request over the rounds; for every configuration after the
first, also the per-round speedup over the first (its ns_per_request over
this one's, in the same round), as a median with its range. The two-thread
target of issue 6 is that speedup for "--threads 2" against "--threads 1".

usage: paired_rounds.py --tool TOOL --rounds N --config='ARGS' --config='ARGS' [...]
(write --config=ARGS with the "=": replay arguments start with "--")

Prints one line per configuration:
  paired_rounds config=1 rounds=N min=... median=... max=... args="..."
and one per configuration after the first:
  paired_rounds speedup=K_over_1 median=... min=... max=...
Exit status 2 on a usage error, 1 when a replay fails.
"""
import argparse
import shlex
import statistics
import subprocess
import sys


def replay_ns(tool, args):
    """One replay: its ns_per_request."""
    out = subprocess.run([tool, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"paired_rounds: {tool} {' '.join(args)}: exit {out.returncode}: {out.stderr.strip()}")
    for field in out.stdout.split():
        if field.startswith("ns_per_request="):
            return float(field.split("=", 1)[1])
    sys.exit(f"paired_rounds: no ns_per_request in {out.stdout!r}")


def main():
    parser = argparse.ArgumentParser(description="Interleaved rounds of route replays.")
    parser.add_argument("--tool", required=True, help="the smgcore_route_replay binary")
    parser.add_argument("--rounds", type=int, required=True, help="rounds (each runs every configuration once)")
    parser.add_argument("--config", action="append", required=True, help="one configuration's arguments")
    opts = parser.parse_args()
    if opts.rounds < 1 or len(opts.config) < 1:
        parser.error("need at least one round and one configuration")
    configs = [shlex.split(c) for c in opts.config]

    ns = [[0.0] * opts.rounds for _ in configs]
    for r in range(opts.rounds):
        # Rotate the order so that no configuration always runs first.
        for k in range(len(configs)):
            c = (r + k) % len(configs)
            ns[c][r] = replay_ns(opts.tool, configs[c])

    for c, (args, values) in enumerate(zip(opts.config, ns)):
        print(f"paired_rounds config={c + 1} rounds={opts.rounds} min={min(values):.1f} "
              f"median={statistics.median(values):.1f} max={max(values):.1f} args=\"{args}\"")
    for c in range(1, len(configs)):
        speedups = [ns[0][r] / ns[c][r] for r in range(opts.rounds)]
        print(f"paired_rounds speedup={c + 1}_over_1 median={statistics.median(speedups):.2f} "
              f"min={min(speedups):.2f} max={max(speedups):.2f}")


if __name__ == "__main__":
    main()
