#!/usr/bin/env python3
"""Smoke test of smgcore_route_replay.

Writes tiny deterministic inputs (a shared-prefix text file, the same prompts
as token ids, a Mooncake-style JSONL trace), runs the tool on each and checks
that its one output line parses and that its numbers are the ones the
route-replay protocol implies. With one thread and no budget the tree holds
every request replayed so far, so request i matches exactly its longest
common prefix with any earlier request (page-aligned), whoever owns it: the
total is computed here by brute force.

Also runs bench/paired_rounds.py over two of those configurations and
checks its report.

usage: check_route_replay.py TOOL WORK_DIR
"""
import json
import os
import random
import subprocess
import sys

REQUIRED = ["input", "threads", "requests", "seconds", "ns_per_request", "requests_per_s",
            "matched_units", "tree_bytes", "peak_rss_bytes", "stored_units"]
FLOOR = ["memcmp_ns_per_request", "xxh3_ns_per_request", "replay_over_memcmp", "replay_over_xxh3",
         "fault_ns_per_page"]
BUDGET = ["budget_units", "evict_headroom", "evict_calls", "evicted_units", "evict_ns_per_request", "evict_share",
          "peak_stored_units", "peak_tree_bytes"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(tool, *args):
    out = subprocess.run([tool, *args], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"{args}: exit {out.returncode}: {out.stderr}")
    lines = out.stdout.strip().splitlines()
    if len(lines) != 1:
        fail(f"{args}: expected one line, got {out.stdout!r}")
    fields = lines[0].split()
    if fields[0] != "route_replay":
        fail(f"line does not start with route_replay: {lines[0]}")
    kv = dict(f.split("=", 1) for f in fields[1:])
    for key in REQUIRED:
        if key not in kv:
            fail(f"{args}: missing {key} in {lines[0]}")
    return kv


def common_prefix(a, b):
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def expected_matched(requests, repeat, page=1):
    """Sum over the replay of the longest page-aligned prefix already stored."""
    total = 0
    seen = []
    for _ in range(repeat):
        for r in requests:
            best = max((common_prefix(r, s) for s in seen), default=0)
            best = min(best, len(r) // page * page) // page * page
            total += best
            seen.append(r)
    return total


def words(rng, n):
    vocab = "alpha beta gamma delta router cache prefix decode".split()
    out = ""
    while len(out) < n:
        out += rng.choice(vocab) + str(rng.randrange(100)) + " "
    return out[:n]


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = random.Random(7)
    prompts = []
    for g in range(4):
        system = f"[sys{g}] " + words(rng, 200)
        for _ in range(5):
            prompts.append(system + " Q: " + words(rng, 40))
    rng.shuffle(prompts)
    vocab = {}
    token_prompts = [[vocab.setdefault(p[i:i + 4], len(vocab)) for i in range(0, len(p), 4)]
                     for p in prompts]
    text_path = os.path.join(work, "tiny.txt")
    tok_path = os.path.join(work, "tiny.tok")
    with open(text_path, "w") as f:
        f.write("".join(p + "\n" for p in prompts))
    with open(tok_path, "w") as f:
        f.write("".join(" ".join(map(str, t)) + "\n" for t in token_prompts))
    trace = []
    next_id = 1
    for c in range(6):
        history = [0]
        for _ in range(4):
            history = history + list(range(next_id, next_id + 3))
            next_id += 3
            trace.append(list(history))
    rng.shuffle(trace)
    moon_path = os.path.join(work, "tiny.jsonl")
    with open(moon_path, "w") as f:
        for i, ids in enumerate(trace):
            f.write(json.dumps({"timestamp": i, "input_length": 512 * len(ids),
                                "output_length": 10, "hash_ids": ids}) + "\n")

    text_bytes = [p.encode() for p in prompts]
    cases = [
        (["--text", text_path], text_bytes, 1, 1),
        (["--text", text_path, "--repeat", "3", "--workers", "3"], text_bytes, 3, 1),
        (["--tokens", tok_path], token_prompts, 1, 1),
        (["--tokens", tok_path, "--page", "4", "--repeat", "2"], token_prompts, 2, 4),
        (["--mooncake", moon_path, "--repeat", "2"], trace, 2, 1),
    ]
    for args, requests, repeat, page in cases:
        kv = run(tool, *args)
        if int(kv["requests"]) != len(requests) * repeat:
            fail(f"{args}: requests {kv['requests']}, expected {len(requests) * repeat}")
        want = expected_matched(requests, repeat, page)
        if int(kv["matched_units"]) != want:
            fail(f"{args}: matched_units {kv['matched_units']}, expected {want}")
        if int(kv["tree_bytes"]) <= 0 or int(kv["stored_units"]) <= 0:
            fail(f"{args}: empty tree")
        print("ok", " ".join(args[0:1] + args[2:]), "matched", want)

    # Two threads: the order between them is not fixed, so only the shape.
    kv = run(tool, "--text", text_path, "--threads", "2", "--repeat", "2")
    if int(kv["threads"]) != 2 or int(kv["requests"]) != 2 * len(prompts):
        fail(f"two threads: {kv}")
    if not 0 <= int(kv.get("handed_over_inserts", -1)) <= 2 * len(prompts):
        fail(f"two threads: bad handed_over_inserts in {kv}")
    # The floor fields.
    kv = run(tool, "--text", text_path, "--floor")
    for key in FLOOR:
        if key not in kv or float(kv[key]) <= 0:
            fail(f"--floor: bad {key} in {kv}")
    # The faults' part of the replay: its own fault count at the probe's price.
    want = int(kv["minor_faults"]) * float(kv["fault_ns_per_page"]) / int(kv["requests"])
    if "fault_ns_per_request" not in kv or abs(float(kv["fault_ns_per_request"]) - want) > 0.1 + 0.001 * want:
        fail(f"--floor: fault_ns_per_request is not minor_faults * fault_ns_per_page / requests in {kv}")
    # Two threads with the floor: also what a cache line's move between them costs.
    kv = run(tool, "--text", text_path, "--threads", "2", "--floor")
    if float(kv.get("line_transfer_ns", 0)) <= 0:
        fail(f"--threads 2 --floor: bad line_transfer_ns in {kv}")
    # Interleaved rounds (bench/paired_rounds.py): one line per
    # configuration, ordered figures, and a speedup per later configuration.
    rounds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "paired_rounds.py")
    out = subprocess.run([sys.executable, rounds, "--tool", tool, "--rounds", "3",
                          f"--config=--text {text_path}", f"--config=--text {text_path} --threads 2"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"paired_rounds.py: exit {out.returncode}: {out.stderr}")
    # The fields before args="..." (whose value has spaces).
    lines = [dict(f.split("=", 1) for f in line.split(" args=")[0].split()[1:])
             for line in out.stdout.strip().splitlines()]
    if len(lines) != 3 or lines[0].get("config") != "1" or lines[1].get("config") != "2" \
            or lines[2].get("speedup") != "2_over_1":
        fail(f"paired_rounds.py: unexpected report {out.stdout!r}")
    for line in lines[:2]:
        if not 0 < float(line["min"]) <= float(line["median"]) <= float(line["max"]):
            fail(f"paired_rounds.py: bad figures in {out.stdout!r}")
    failing = subprocess.run([sys.executable, rounds, "--tool", tool, "--rounds", "1", "--config=--no-such-flag"],
                             capture_output=True, text=True)
    if failing.returncode != 1 or "exit 2" not in failing.stderr:
        fail(f"paired_rounds.py: a failing replay must fail the run: {failing.returncode} {failing.stderr!r}")
    # A budget: the tree is trimmed back after every request that exceeds it.
    budget = 20
    kv = run(tool, "--mooncake", moon_path, "--repeat", "3", "--budget", str(budget))
    for key in BUDGET:
        if key not in kv:
            fail(f"--budget: missing {key}")
    longest = max(len(t) for t in trace)
    if int(kv["stored_units"]) > budget or int(kv["peak_stored_units"]) > budget + longest:
        fail(f"--budget: tree over budget: {kv}")
    if int(kv["evicted_units"]) == 0 or int(kv["evict_calls"]) == 0:
        fail(f"--budget: nothing evicted: {kv}")
    # A headroom: each eviction goes below the budget, so there are fewer of them.
    budget = 40
    exact = run(tool, "--mooncake", moon_path, "--repeat", "3", "--budget", str(budget), "--evict-headroom", "0")
    batched = run(tool, "--mooncake", moon_path, "--repeat", "3", "--budget", str(budget), "--evict-headroom", "0.5")
    if float(exact["evict_headroom"]) != 0 or float(batched["evict_headroom"]) != 0.5:
        fail(f"--evict-headroom not reported: {exact} {batched}")
    if not 0 < int(batched["evict_calls"]) < int(exact["evict_calls"]):
        fail(f"--evict-headroom 0.5: {batched['evict_calls']} evictions, not fewer than {exact['evict_calls']}")
    if int(batched["stored_units"]) > budget:
        fail(f"--evict-headroom 0.5: tree over budget: {batched}")
    # Usage errors exit 2.
    for bad in ([], ["--text"], ["--text", text_path, "--workers", "0"],
                ["--text", text_path, "--tokens", tok_path], ["--bogus", "1"],
                ["--text", text_path, "--evict-headroom", "0.9"],
                ["--text", text_path, "--evict-headroom", "nan"]):
        code = subprocess.run([tool, *bad], capture_output=True).returncode
        if code != 2:
            fail(f"{bad}: exit {code}, expected 2")
    print("PASS")


if __name__ == "__main__":
    main()
