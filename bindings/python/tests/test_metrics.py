"""Router.export_metrics(): Prometheus text 0.0.4, read back with a real parser."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

import smgcore


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_export_parses_and_counts_requests(clock):
    r = smgcore.Router("cache_aware", clock=clock, circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=2))
    a = r.add_worker("http://a:1", model="llama")
    r.add_worker("http://b:1", model="llama")
    for i in range(10):
        r.select(model="llama", text=f"prompt {i}").finish(200)
    r.select(model="llama", exclude_workers=[a]).finish(503)
    held = r.select(model="llama")
    lim = smgcore.ConcurrencyLimiter(3, clock=clock)
    r.track_admission("chat", lim)
    permit = lim.acquire()

    text = r.export_metrics()
    assert isinstance(text, str) and text.endswith("\n")
    parsed = families(text)
    for name in ("smg_worker_pool_size", "smg_worker_requests_active", "smg_worker_cb_state", "smg_tree_units"):
        assert name in parsed
    pool = [s for s in parsed["smg_worker_pool_size"].samples if s.labels.get("model") == "llama"]
    assert sum(s.value for s in pool) == 2
    samples = [s for f in parsed.values() for s in f.samples]
    selections = sum(s.value for s in samples if s.name == "smg_worker_selection_total")
    assert selections == 12
    in_flight = {s.labels.get("worker"): s.value for s in samples if s.name == "smg_worker_requests_active"}
    assert sum(in_flight.values()) == 1
    assert [s.value for s in samples if s.name == "smg_scheduler_inflight" and s.labels["limiter"] == "chat"] == [1]
    held.finish()
    permit.release()


def test_export_of_an_empty_router_is_valid():
    text = smgcore.Router().export_metrics()
    families(text)
