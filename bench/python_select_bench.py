#!/usr/bin/env python3
"""What the Python binding adds to a request: select() + finish() from Python
against the same in C++ (select_finish_timing), on a 1 KiB prompt.

    PYTHONPATH=build/release/bindings/python /usr/bin/python3 bench/python_select_bench.py \\
        --cxx build/release/bench/select_finish_timing

Each number is the minimum over --runs runs of --iterations requests (noise
on a shared machine only ever adds time). The router, prompt and routing key
are select_benchmark's: 8 workers, 1024 bytes of text, key "session-42".

Cases, Python side:
  select+finish    d = router.select(text=p, routing_key=k); d.finish()
  with+worker.url  with router.select(text=p, routing_key=k) as d: d.worker.url
  tokens+finish    the prompt as 256 token ids in an array('I'), borrowed

The budget (issue 5) is 1500 ns added per request on a 1 KiB prompt for
select+finish; --check makes the script exit 1 when a policy exceeds it.
"""

import argparse
import array
import json
import subprocess
import sys
import time

import smgcore

BUDGET_NS = 1500.0


def make_router(policy, workers):
    router = smgcore.Router(policy)
    for i in range(workers):
        router.add_worker(f"http://10.0.{i // 256}.{i % 256}:30000")
    return router


def best_ns(loop, iterations, runs):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter_ns()
        loop(iterations)
        best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


def python_cases(policy, workers, iterations, runs):
    router = make_router(policy, workers)
    select = router.select
    prompt = "p" * 1024
    key = "session-42"
    tokens = array.array("I", range(256))

    def select_finish(n):
        for _ in range(n):
            select(text=prompt, routing_key=key).finish()

    def with_url(n):
        for _ in range(n):
            with select(text=prompt, routing_key=key) as d:
                d.worker.url

    def tokens_finish(n):
        for _ in range(n):
            select(tokens=tokens, routing_key=key).finish()

    def empty(n):
        for _ in range(n):
            pass

    return {
        "select+finish": best_ns(select_finish, iterations, runs),
        "with+worker.url": best_ns(with_url, iterations, runs),
        "tokens+finish": best_ns(tokens_finish, iterations, runs),
        "empty loop": best_ns(empty, iterations, runs),
    }


def cxx_case(binary, policy, workers, iterations, runs):
    out = subprocess.run(
        [binary, policy, str(workers), str(iterations), str(runs)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)["ns_per_select_finish"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cxx", required=True, help="path of the select_finish_timing binary")
    parser.add_argument("--policies", default="round_robin,cache_aware,power_of_two,consistent_hash,prefix_hash,random")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if Python adds more than {BUDGET_NS:.0f} ns")
    args = parser.parse_args(argv)

    results = []
    for policy in args.policies.split(","):
        # Interleaved, so a burst of load on the machine hits both sides.
        cxx = cxx_case(args.cxx, policy, args.workers, args.iterations, args.runs)
        py = python_cases(policy, args.workers, args.iterations, args.runs)
        cxx = min(cxx, cxx_case(args.cxx, policy, args.workers, args.iterations, args.runs))
        results.append({"policy": policy, "cxx_ns": cxx, **{f"python_ns[{k}]": v for k, v in py.items()},
                        "added_ns": py["select+finish"] - cxx})

    if args.json:
        print(json.dumps({"workers": args.workers, "prompt_bytes": 1024, "results": results}, indent=2))
    else:
        print(f"select + finish, {args.workers} workers, 1 KiB prompt, ns per request "
              f"(min of {args.runs} x {args.iterations}; smgcore {smgcore.__version__})")
        print(f"{'policy':16s} {'C++':>7s} {'Python':>7s} {'added':>7s} {'with+url':>9s} {'tokens':>7s}")
        for r in results:
            print(f"{r['policy']:16s} {r['cxx_ns']:7.0f} {r['python_ns[select+finish]']:7.0f} "
                  f"{r['added_ns']:7.0f} {r['python_ns[with+worker.url]']:9.0f} {r['python_ns[tokens+finish]']:7.0f}")
        print(f"(an empty Python loop iteration: {results[0]['python_ns[empty loop]']:.0f} ns; budget: "
              f"{BUDGET_NS:.0f} ns added)")
    over = [r["policy"] for r in results if r["added_ns"] > BUDGET_NS]
    if args.check and over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
