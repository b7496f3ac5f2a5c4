"""Health reporting, circuit breakers on an injected clock, transition callbacks, retries."""

import sys
import threading

import pytest

import smgcore
from conftest import urls


def test_resilience_option_defaults_are_the_cxx_defaults():
    cb = smgcore.CircuitBreakerOptions()
    assert (cb.enabled, cb.consecutive_failures, cb.failure_rate_threshold, cb.minimum_requests) == (True, 10, 0.5, 20)
    assert (cb.window, cb.window_buckets, cb.success_threshold, cb.half_open_max_probes) == (120.0, 12, 3, 3)
    assert (cb.open_duration, cb.max_open_duration) == (60.0, 300.0)
    h = smgcore.HealthOptions()
    assert (h.healthy_threshold, h.unhealthy_threshold, h.failed_threshold, h.pending_failed_threshold) == (2, 3, 9, 30)
    r = smgcore.RetryOptions()
    assert (r.max_attempts, r.initial_backoff, r.backoff_multiplier, r.max_backoff, r.jitter) == (5, 0.05, 1.5, 30.0, 0.2)
    assert r.budget_percent is None and r.budget_min_concurrency is None
    assert r.retryable == smgcore.FailureClassifier()
    f = smgcore.FailureClassifier()
    assert f.statuses == [408, 429, 500, 502, 503, 504] and f.transport_errors_fail
    assert "consecutive_failures=10" in repr(cb)
    assert "healthy_threshold=2" in repr(h)
    assert "max_attempts=5" in repr(r)


def test_failure_classifier():
    f = smgcore.FailureClassifier([500, 503], transport_errors_fail=False)
    assert f.statuses == [500, 503]
    assert f.is_failure(503) and not f.is_failure(502) and not f.is_failure(200)
    assert not f.is_failure("transport_error") and not f.is_failure("cancelled")
    assert smgcore.FailureClassifier().is_failure("transport_error")
    assert f == smgcore.FailureClassifier([503, 500, 500], transport_errors_fail=False)
    assert hash(f) == hash(smgcore.FailureClassifier([503, 500], transport_errors_fail=False))
    assert f != smgcore.FailureClassifier()
    with pytest.raises(smgcore.InvalidArgument):
        smgcore.FailureClassifier([99])
    with pytest.raises(TypeError):
        smgcore.FailureClassifier(["500"])
    with pytest.raises(TypeError):
        smgcore.FailureClassifier("500")


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (smgcore.CircuitBreakerOptions, {"failure_rate_threshold": 1.5}, "failure_rate_threshold"),
        (smgcore.CircuitBreakerOptions, {"minimum_requests": 0}, "minimum_requests"),
        (smgcore.CircuitBreakerOptions, {"window_buckets": 0}, "window_buckets"),
        (smgcore.CircuitBreakerOptions, {"consecutive_failures": -1}, "consecutive_failures"),
        (smgcore.CircuitBreakerOptions, {"open_duration": float("nan")}, "open_duration"),
        (smgcore.CircuitBreakerOptions, {"window": -1.0}, "window"),
        (smgcore.HealthOptions, {"healthy_threshold": 0}, "healthy_threshold"),
        (smgcore.HealthOptions, {"failed_threshold": 1}, "failed_threshold"),
        (smgcore.RetryOptions, {"max_attempts": 0}, "max_attempts"),
        (smgcore.RetryOptions, {"max_attempts": 2**33}, "max_attempts"),
        (smgcore.RetryOptions, {"jitter": 2.0}, "jitter"),
        (smgcore.RetryOptions, {"backoff_multiplier": 0.5}, "backoff_multiplier"),
        (smgcore.RetryOptions, {"budget_percent": 0.0}, "percent"),
    ],
)
def test_invalid_resilience_options(cls, kwargs, match):
    with pytest.raises(smgcore.InvalidArgument, match=match):
        cls(**kwargs)


def test_health_probes_drive_the_state_machine():
    events = []
    r = smgcore.Router(on_health_transition=lambda w, old, new: events.append((w.url, old, new)))
    w = r.add_worker("http://a:1", health="pending")
    assert r.report_probe(w, True) == "pending"
    assert r.report_probe("http://a:1", True) == "ready"
    assert w.routable
    for expected in ("ready", "ready", "not_ready"):
        assert r.report_probe(w.id, False) == expected
    with pytest.raises(smgcore.Unavailable, match="not ready"):
        r.select()
    for _ in range(6):
        r.report_probe(w, False)
    assert w.health == "failed"
    r.report_probe(w, True)
    assert r.report_probe(w, True) == "ready"  # failed workers rejoin (unlike SMG)
    assert (w.probes_passed, w.probes_failed) == (4, 9)
    assert events == [
        ("http://a:1", "pending", "ready"),
        ("http://a:1", "ready", "not_ready"),
        ("http://a:1", "not_ready", "failed"),
        ("http://a:1", "failed", "ready"),
    ]
    with pytest.raises(smgcore.NotFound):
        r.report_probe(99, True)


def test_set_health_and_drain():
    r = smgcore.Router()
    a = r.add_worker("http://a:1")
    b = r.add_worker("http://b:1")
    r.set_health(a, "not_ready")
    assert all(r.select().worker == b for _ in range(5))
    r.set_health(a, "ready")
    d = r.select(exclude_workers=[b])
    r.drain_worker(a)
    assert a.health == "draining" and a.in_flight == 1
    assert all(r.select().worker == b for _ in range(5))
    d.finish(200)
    assert a.in_flight == 0
    r.remove_worker(a)


def test_custom_health_thresholds():
    r = smgcore.Router(health=smgcore.HealthOptions(healthy_threshold=1, unhealthy_threshold=1, failed_threshold=2))
    w = r.add_worker("http://a:1")
    assert r.report_probe(w, False) == "not_ready"
    assert r.report_probe(w, False) == "failed"
    assert r.report_probe(w, True) == "ready"


def test_breaker_opens_and_recovers_on_the_manual_clock(clock):
    transitions = []
    r = smgcore.Router(
        clock=clock,
        circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=3, success_threshold=2, open_duration=10),
        on_breaker_transition=lambda w, old, new: transitions.append((w.id, old, new)),
    )
    w = r.add_worker("http://a:1")
    for _ in range(3):
        r.select().finish(502)
    assert w.breaker_state == "open" and not w.routable
    assert w.breaker_stats["closed_to_open"] == 1
    with pytest.raises(smgcore.Unavailable, match="circuit breaker"):
        r.select()
    clock.advance(9.999)
    with pytest.raises(smgcore.Unavailable):
        r.select()
    clock.advance(0.001)
    r.run_maintenance()
    assert w.breaker_state == "half_open"
    for _ in range(2):
        r.select().finish(200)
    assert w.breaker_state == "closed"
    assert transitions == [(1, "closed", "open"), (1, "open", "half_open"), (1, "half_open", "closed")]
    # An operator reset from open.
    for _ in range(3):
        r.select().finish("transport_error")
    assert w.breaker_state == "open"
    r.reset_circuit_breaker(w)
    assert w.breaker_state == "closed" and w.routable


def test_client_errors_never_trip_the_breaker():
    r = smgcore.Router(circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=2))
    w = r.add_worker("http://a:1")
    for status in (400, 401, 404, 413, 422):
        r.select().finish(status)
    assert w.breaker_state == "closed" and w.failures == 0 and w.successes == 5


def test_raising_callback_is_reported_not_propagated(clock, monkeypatch):
    reports = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reports.append((u.exc_type, str(u.exc_value))))

    def callback(worker, old, new):
        raise RuntimeError(f"callback failed on {old}->{new}")

    r = smgcore.Router(
        clock=clock,
        circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=1),
        on_breaker_transition=callback,
        on_health_transition=callback,
    )
    w = r.add_worker("http://a:1")
    r.select().finish(500)  # trips the breaker: the callback raises inside the core
    assert w.breaker_state == "open"
    r.set_health(w, "not_ready")
    assert reports == [
        (RuntimeError, "callback failed on closed->open"),
        (RuntimeError, "callback failed on ready->not_ready"),
    ]


def test_callback_may_call_back_into_the_router(clock):
    seen = []
    holder = {}

    def on_breaker(worker, old, new):
        router = holder["router"]
        seen.append((new, router.get_worker(worker.id).breaker_state, router.worker_count))

    r = smgcore.Router(
        clock=clock, circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=1), on_breaker_transition=on_breaker
    )
    holder["router"] = r
    r.add_worker("http://a:1")
    r.select().finish(503)
    assert seen == [("open", "open", 1)]


def test_callback_from_another_thread_takes_the_gil(clock):
    seen = []
    r = smgcore.Router(
        clock=clock,
        circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=1),
        on_breaker_transition=lambda w, old, new: seen.append((threading.current_thread().name, new)),
    )
    r.add_worker("http://a:1")
    d = r.select()
    t = threading.Thread(target=d.finish, args=(500,), name="finisher")
    t.start()
    t.join(10)
    assert not t.is_alive()
    assert seen == [("finisher", "open")]


def test_retry_state_excludes_tried_workers_and_backs_off():
    r = smgcore.Router("round_robin", seed=4, retry=smgcore.RetryOptions(max_attempts=3, jitter=0))
    for url in urls(3):
        r.add_worker(url)
    attempts = smgcore.RetryState(r)
    tried = []
    decisions = []
    while True:
        d = attempts.select(text="hello")
        tried.append(d.worker.id)
        decision = attempts.finish(d, 503)
        decisions.append(decision)
        if not decision.retry:
            break
    assert len(set(tried)) == 3 and attempts.tried_workers == tried and attempts.attempts == 3
    assert [d.verdict for d in decisions] == ["retry", "retry", "attempts_exhausted"]
    assert [d.backoff for d in decisions] == pytest.approx([0.05, 0.075, 0.0])
    assert decisions[-1].attempts == 3 and "attempts_exhausted" in repr(decisions[-1])
    with pytest.raises(smgcore.FailedPrecondition):
        attempts.select()


def test_retry_state_success_and_non_retryable(router):
    attempts = smgcore.RetryState(router)
    with attempts.select() as d:
        d.status = 200
    verdict = attempts.finish(d)  # the status it finished with
    assert verdict.verdict == "succeeded" and not verdict.retry
    attempts = smgcore.RetryState(router)
    d = attempts.select()
    d.status = 501  # a failure status outside the retryable list
    assert attempts.finish(d).verdict == "succeeded"
    attempts = smgcore.RetryState(router)
    d = attempts.select()
    with pytest.raises(smgcore.InvalidArgument, match="no status"):
        attempts.finish(d)
    assert attempts.finish(d, "transport_error").verdict == "retry"
    with pytest.raises(smgcore.FailedPrecondition, match="before Finish"):
        attempts.select()
        attempts.select()


def test_retry_budget():
    r = smgcore.Router(retry=smgcore.RetryOptions(budget_percent=10, budget_min_concurrency=1))
    r.add_worker("http://a:1")
    r.add_worker("http://b:1")
    first = smgcore.RetryState(r)
    assert first.finish(first.select(), 503).verdict == "retry"  # takes the only budget slot
    second = smgcore.RetryState(r)
    assert second.finish(second.select(), 503).verdict == "budget_exhausted"
    assert r.export_metrics().count("smg_worker_retries_total") >= 1


def test_retry_state_keeps_its_router_alive():
    r = smgcore.Router()
    r.add_worker("http://a:1")
    attempts = smgcore.RetryState(r)
    del r
    with attempts.select() as d:
        assert d.worker.url == "http://a:1"


def test_maintenance_evicts_trees_on_the_clock(clock):
    r = smgcore.Router(smgcore.Policy("cache_aware", max_tree_size=1000, eviction_interval=60), clock=clock)
    r.add_worker("http://a:1")
    for i in range(20):
        r.select(text=f"{i} " + "x" * 500).finish()
    before = r.model_stats("default")["policy"]["regular"]["tree_units"]
    assert before > 1000
    r.run_maintenance()  # the interval has not elapsed
    assert r.model_stats("default")["policy"]["regular"]["tree_units"] == before
    clock.advance(60)
    r.run_maintenance()
    stats = r.model_stats("default")
    assert stats["policy"]["regular"]["tree_units"] <= 1000
    assert stats["policy"]["regular"]["evicted_units"] > 0
    assert stats["workers"] == {"regular": 1, "prefill": 0, "decode": 0}
    assert stats["available"]["regular"] == 1 and stats["model"] == "default"
    for i in range(20):
        r.select(text=f"{i} " + "y" * 500).finish()
    assert r.evict_now() > 0
    with pytest.raises(smgcore.NotFound):
        r.model_stats("nope")


def test_manual_clock():
    c = smgcore.ManualClock(start_nanos=5)
    assert c.now_nanos == 5
    c.advance(1.5)
    assert c.now_nanos == 1_500_000_005 and c.now == pytest.approx(1.500000005)
    c.set_nanos(10)  # earlier: ignored
    assert c.now_nanos == 1_500_000_005
    c.set_nanos(2_000_000_000)
    assert c.now_nanos == 2_000_000_000
    assert repr(c) == "ManualClock(now_nanos=2000000000)"
    for bad in (-1.0, float("nan"), float("inf"), 1e12):
        with pytest.raises(smgcore.InvalidArgument):
            c.advance(bad)
    with pytest.raises(smgcore.InvalidArgument):
        smgcore.ManualClock(-1)
    with pytest.raises(smgcore.InvalidArgument):
        c.set_nanos(2**63)
