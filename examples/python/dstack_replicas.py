#!/usr/bin/env python3
"""A replica manager in the shape of dstack's gateway router layer, on smgcore.

dstack's gateway runs SMG as a subprocess (started with a policy and
--pd-disaggregation) and keeps its worker set equal to the service's
replicas: update_replicas(urls) diffs the registered workers against the new
list, adds the new ones and removes the vanished ones. Each new worker is
registered as regular, prefill (with its bootstrap port) or decode, as read
from the worker's /server_info.

Here the routing core runs in-process: no subprocess, no HTTP to the router.
The example runs without network: /server_info answers come from a table
(FakeFleet) standing in for the replicas.

    PYTHONPATH=build/release/bindings/python /usr/bin/python3 examples/python/dstack_replicas.py

Exits with status 1 if a decision ever names a worker that update_replicas()
removed, or a prefill/decode pair of the wrong types.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable

import smgcore

# SGLang's defaults: ServerArgs.disaggregation_mode and
# disaggregation_bootstrap_port.
DEFAULT_BOOTSTRAP_PORT = 8998


def worker_role(server_info: dict) -> tuple[str, int | None]:
    """The worker type and bootstrap port a replica's /server_info declares."""
    mode = server_info.get("disaggregation_mode") or "null"
    if mode == "prefill":
        return "prefill", int(server_info.get("disaggregation_bootstrap_port") or DEFAULT_BOOTSTRAP_PORT)
    if mode == "decode":
        return "decode", None
    return "regular", None


class ReplicaManager:
    """Keeps a router's workers equal to a service's replica URLs."""

    def __init__(self, router: smgcore.Router, server_info: Callable[[str], dict], model: str):
        self.router = router
        self.server_info = server_info
        self.model = model

    def update_replicas(self, urls: Iterable[str]) -> tuple[list[str], list[str]]:
        """Adds replicas not registered yet and removes vanished ones; returns (added, removed)."""
        wanted = list(dict.fromkeys(urls))  # ordered, without duplicates
        current = {w.url for w in self.router.list_workers(model=self.model)}
        added = []
        for url in wanted:
            if url in current:
                continue
            kind, port = worker_role(self.server_info(url))
            self.router.add_worker(
                url, model=self.model, type=kind, bootstrap_port=port, labels={"managed_by": "dstack"}
            )
            added.append(url)
        removed = sorted(current - set(wanted))
        for url in removed:
            # Outstanding decisions on a removed worker stay valid and finish harmlessly.
            self.router.remove_worker(url)
        return added, removed


class FakeFleet:
    """Stands in for the replicas' /server_info endpoints."""

    def __init__(self) -> None:
        self.info: dict[str, dict] = {}

    def add(self, url: str, mode: str, bootstrap_port: int | None = None) -> str:
        self.info[url] = {"disaggregation_mode": mode, "disaggregation_bootstrap_port": bootstrap_port}
        return url

    def server_info(self, url: str) -> dict:
        return self.info[url]


def workload(n: int) -> list[str]:
    """Chat prompts sharing a few system prompts, as a service sees them."""
    systems = [
        "You are a helpful assistant. Answer concisely. " * 8,
        "You are a code reviewer. Point out bugs and risky changes. " * 8,
        "Translate the user's message into French. " * 8,
    ]
    return [f"{systems[i % len(systems)]}\nUser: question {i}?" for i in range(n)]


def route(router: smgcore.Router, prompts: list[str], removed: set[str], label: str) -> bool:
    """Routes `prompts`, prints each decision, and checks it."""
    ok = True
    print(f"-- {label}")
    for i, prompt in enumerate(prompts):
        with router.select(text=prompt, model=MODEL) as d:
            if d.is_pd:
                names = {d.prefill.url, d.decode.url}
                print(
                    f"  req {i:2d}: prefill {d.prefill.url} decode {d.decode.url} "
                    f"bootstrap {d.bootstrap_host}:{d.bootstrap_port} room {d.bootstrap_room}"
                )
                if d.prefill.type != "prefill" or d.decode.type != "decode":
                    print("  ERROR: wrong worker types in a PD pair")
                    ok = False
            else:
                names = {d.worker.url}
                print(f"  req {i:2d}: {d.worker.url}")
            if names & removed:
                print(f"  ERROR: routed to a removed worker: {sorted(names & removed)}")
                ok = False
            d.status = 200  # the engine answered
    return ok


MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill-policy", default="cache_aware")
    parser.add_argument("--decode-policy", default="power_of_two")
    parser.add_argument("--requests", type=int, default=6, help="requests routed after each update")
    parser.add_argument("--seed", type=int, default=7, help="seed of the router's randomness")
    args = parser.parse_args(argv)

    fleet = FakeFleet()
    router = smgcore.Router(
        pd_mode=True,
        prefill_policy=args.prefill_policy,
        decode_policy=args.decode_policy,
        seed=args.seed,
    )
    manager = ReplicaManager(router, fleet.server_info, MODEL)
    prompts = workload(args.requests)

    # Replicas as dstack first sees them: two prefill and two decode workers.
    p0 = fleet.add("http://10.0.0.10:30000", "prefill", 8998)
    p1 = fleet.add("http://10.0.0.11:30000", "prefill", 8999)
    d0 = fleet.add("http://10.0.0.20:30000", "decode")
    d1 = fleet.add("http://10.0.0.21:30000", "decode")
    added, removed = manager.update_replicas([p0, p1, d0, d1])
    print(f"update 1: added {added} removed {removed}")
    ok = route(router, prompts, set(), "after update 1")

    # A rolling update: p1 is replaced by p2, one more decode worker joins.
    p2 = fleet.add("http://10.0.0.12:30000", "prefill")  # no port declared: SGLang's default
    d2 = fleet.add("http://10.0.0.22:30000", "decode")
    added, removed = manager.update_replicas([p0, p2, d0, d1, d2, d2])
    print(f"update 2: added {added} removed {removed}")
    ok &= route(router, prompts, set(removed), "after update 2")

    # Unchanged replicas: nothing to do.
    added, removed2 = manager.update_replicas([d2, d1, d0, p2, p0])
    print(f"update 3: added {added} removed {removed2}")
    ok &= not added and not removed2

    print("-- workers")
    served = Counter()
    for w in router.list_workers():
        served[w.type] += w.requests_served
        port = f" bootstrap_port={w.bootstrap_port}" if w.bootstrap_port is not None else ""
        print(f"  {w.id} {w.type:7s} {w.url}{port} served={w.requests_served} in_flight={w.in_flight}")
    print(f"served by type: {dict(sorted(served.items()))}")
    if not ok:
        print("FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
