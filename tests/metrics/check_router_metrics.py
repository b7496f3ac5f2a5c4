"""Checks Router::ExportMetrics() with a real Prometheus parser.

Usage: /usr/bin/python3 check_router_metrics.py <path to router_metrics_main>

router_metrics_main.cc drives a router through a fixed script (round robin
over workers a and b, b failing twice so its breaker opens, c joining after
two passing probes, a request left in flight, a cancelled one, one retry, and
a cache-aware model routing the same prompt three times). This parses the
export with prometheus_client.parser and checks the values the script implies.
"""

import subprocess
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:  # Not a skip: the test must fail without its parser.
    sys.exit(f"FAIL: cannot import prometheus_client ({e}); run scripts/install-deps.sh "
             "(installs Debian's python3-prometheus-client) and use /usr/bin/python3")


def fail(message):
    sys.exit(f"FAIL: {message}")


def main():
    if len(sys.argv) != 2:
        fail("usage: check_router_metrics.py <router_metrics_main>")
    run = subprocess.run([sys.argv[1]], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        fail(f"router_metrics_main exited {run.returncode}: {run.stderr}")

    families = {f.name: f for f in text_string_to_metric_families(run.stdout)}
    samples = {}
    for family in families.values():
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def value(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        if key not in samples:
            fail(f"missing sample {name}{labels}")
        return samples[key]

    def expect(name, expected, **labels):
        got = value(name, **labels)
        if got != expected:
            fail(f"{name}{labels} = {got}, expected {expected}")

    types = {
        "smg_worker_pool_size": "gauge",
        "smg_worker_selection_total": "counter",  # parser strips _total
        "smg_worker_cb_state": "gauge",
        "smg_prefix_match_ratio": "histogram",
        "smg_worker_retry_backoff_seconds": "histogram",
    }
    for name, kind in types.items():
        family = families.get(name.removesuffix("_total"))
        if family is None or family.type != kind:
            fail(f"family {name} missing or not a {kind}: {family}")

    a, b, c, llama = "http://a:1", "http://b:1", "http://c:1", "http://llama:1"
    # Pools.
    expect("smg_worker_pool_size", 3, model="default", worker_type="regular")
    expect("smg_worker_pool_available", 2, model="default", worker_type="regular")  # b is open
    expect("smg_worker_pool_size", 1, model="llama", worker_type="regular")
    # Selections: a took 4 of the first 6, then the 400, the cancelled one and
    # the retry's second attempt; b 2; c the held request and the retry's 503.
    rr = dict(model="default", worker_type="regular", policy="round_robin")
    expect("smg_worker_selection_total", 7, worker=a, **rr)
    expect("smg_worker_selection_total", 2, worker=b, **rr)
    expect("smg_worker_selection_total", 2, worker=c, **rr)
    expect("smg_worker_selection_total", 3, worker=llama, model="llama", worker_type="regular",
           policy="cache_aware")
    expect("smg_worker_requests_active", 1, worker=c)
    expect("smg_worker_requests_active", 0, worker=a)
    # Outcomes: the 400 is a success for the breaker; the dropped ticket is cancelled.
    expect("smg_worker_cb_outcomes_total", 6, worker=a, outcome="success")
    expect("smg_worker_cb_outcomes_total", 1, worker=a, outcome="cancelled")
    expect("smg_worker_cb_outcomes_total", 2, worker=b, outcome="failure")
    expect("smg_worker_cb_outcomes_total", 1, worker=c, outcome="failure")
    # Breakers: b opened once.
    expect("smg_worker_cb_state", 1, worker=b)
    expect("smg_worker_cb_state", 0, worker=a)
    expect("smg_worker_cb_transitions_total", 1, worker=b, **{"from": "closed", "to": "open"})
    expect("smg_worker_cb_transitions_total", 0, worker=a, **{"from": "closed", "to": "open"})
    expect("smg_worker_cb_consecutive_failures", 1, worker=c)
    # Health: c went pending -> ready after two passes, then one failure.
    expect("smg_worker_health", 1, worker=c)
    expect("smg_worker_health_state", 1, worker=c, state="ready")
    expect("smg_worker_health_state", 0, worker=c, state="pending")
    expect("smg_worker_health_transitions_total", 1, worker=c, to="ready")
    expect("smg_worker_health_checks_total", 2, worker_type="regular", result="success")
    expect("smg_worker_health_checks_total", 1, worker_type="regular", result="failure")
    # Retries: one, after attempt 1, with the 50 ms base backoff (jitter off).
    expect("smg_worker_retries_total", 1)
    expect("smg_worker_retries_exhausted_total", 0)
    expect("smg_worker_retry_backoff_seconds_count", 1, attempt="2")
    expect("smg_worker_retry_backoff_seconds_sum", 0.05, attempt="2")
    expect("smg_worker_retry_backoff_seconds_bucket", 0, attempt="2", le="0.032")
    expect("smg_worker_retry_backoff_seconds_bucket", 1, attempt="2", le="0.064")
    # Cache-aware: first prompt misses (ratio 0), the two repeats match fully.
    ll = dict(model="llama", worker_type="regular")
    expect("smg_tree_units", 100, **ll)
    if value("smg_tree_memory_bytes", **ll) <= 100:
        fail("tree memory must exceed the 100 stored bytes")
    expect("smg_tree_evicted_units_total", 0, **ll)
    expect("smg_cache_aware_branch_total", 2, branch="cache_hit", **ll)
    expect("smg_cache_aware_branch_total", 1, branch="cache_miss", **ll)
    expect("smg_cache_aware_branch_total", 0, branch="imbalanced", **ll)
    expect("smg_prefix_match_ratio_count", 3, **ll)
    expect("smg_prefix_match_ratio_sum", 2.0, **ll)
    expect("smg_prefix_match_ratio_bucket", 1, le="0", **ll)
    expect("smg_prefix_match_ratio_bucket", 1, le="0.9", **ll)
    expect("smg_prefix_match_ratio_bucket", 3, le="1", **ll)
    expect("smg_prefix_match_ratio_bucket", 3, le="+Inf", **ll)
    # Tenant limits: every Select() above was granted (none denied).
    expect("smg_tenant_admission_total", 14, result="granted")
    expect("smg_tenant_admission_total", 0, result="denied_tenant_requests")
    expect("smg_tenant_tracked", 1)  # everyone is "anonymous"
    # The host's limiter, exported through the router's registry.
    expect("smg_scheduler_inflight", 1, limiter="chat")
    expect("smg_scheduler_queue_depth", 0, limiter="chat")
    expect("smg_scheduler_admit_total", 2, limiter="chat", result="admitted")
    expect("smg_scheduler_admit_total", 1, limiter="chat", result="rejected")
    expect("smg_scheduler_queue_wait_seconds_total", 1.5, limiter="chat")
    print(f"OK: {len(families)} families, {len(samples)} samples checked")


if __name__ == "__main__":
    main()
