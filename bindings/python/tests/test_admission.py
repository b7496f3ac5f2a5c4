"""Token bucket, blocking concurrency limiter with timeouts, tenant limits."""

import gc
import threading
import time

import pytest

import smgcore

# --- TokenBucket ----------------------------------------------------------------


def test_token_bucket_on_the_manual_clock(clock):
    b = smgcore.TokenBucket(10, 5.0, clock=clock)
    assert (b.capacity, b.refill_per_second, b.available, b.token_cost) == (10, 5.0, 10, 0.2)
    assert b.try_acquire(10)
    assert not b.try_acquire()
    assert b.time_until_available() == pytest.approx(0.2)
    assert b.time_until_available(11) == float("inf")
    clock.advance(0.2)
    assert b.try_acquire() and not b.try_acquire()
    clock.advance(100)
    assert b.available == 10
    assert b.try_acquire(0) and not b.try_acquire(11)
    assert repr(b) == "TokenBucket(capacity=10, refill_per_second=5.0, available=10)"


def test_token_bucket_initial_tokens_and_validation(clock):
    assert smgcore.TokenBucket(5, 1, initial_tokens=0, clock=clock).available == 0
    for args, kwargs in [
        ((0, 1.0), {}),
        ((2**41, 1.0), {}),
        ((10, 0.0), {}),
        ((10, float("nan")), {}),
        ((10, 2e9), {}),
        ((10, 1.0), {"initial_tokens": 11}),
        ((-1, 1.0), {}),
    ]:
        with pytest.raises(smgcore.InvalidArgument):
            smgcore.TokenBucket(*args, **kwargs)
    b = smgcore.TokenBucket(5, 1)
    with pytest.raises(smgcore.InvalidArgument):
        b.try_acquire(-1)
    with pytest.raises(TypeError):
        smgcore.TokenBucket(5, 1, clock="now")


def test_token_bucket_keeps_its_clock_alive():
    clock = smgcore.ManualClock()
    b = smgcore.TokenBucket(1, 1.0, clock=clock)
    b.try_acquire()
    del clock
    gc.collect()
    assert b.time_until_available() == pytest.approx(1.0)


# --- ConcurrencyLimiter: blocking form -------------------------------------------


def test_permits_release_exactly_once(clock):
    lim = smgcore.ConcurrencyLimiter(2, clock=clock)
    assert (lim.max_in_flight, lim.max_queue, lim.queue_timeout) == (2, 100, 60.0)
    p1 = lim.try_acquire()
    with lim.acquire() as p2:
        assert lim.in_flight == 2
        assert lim.try_acquire() is None
    assert p2.released and lim.in_flight == 1
    p1.release()
    assert p1.released and lim.in_flight == 0
    with pytest.raises(smgcore.FailedPrecondition, match="already released"):
        p1.release()
    # A dropped permit releases its slot.
    lim.acquire()
    gc.collect()
    assert lim.in_flight == 0
    stats = lim.stats()
    assert stats["admitted"] == 3 and stats["rejected"] == 1 and stats["in_flight"] == 0
    assert repr(lim) == "ConcurrencyLimiter(max_in_flight=2, in_flight=0, queue_depth=0)"


def test_queue_full_is_resource_exhausted_with_retry_after(clock):
    lim = smgcore.ConcurrencyLimiter(1, max_queue=0, clock=clock)
    held = lim.acquire()
    with pytest.raises(smgcore.ResourceExhausted, match="queue of 0 is full") as e:
        lim.acquire(timeout=5)
    assert e.value.retry_after == 1.0 == lim.retry_after_hint
    assert e.value.code == "RESOURCE_EXHAUSTED"
    held.release()


def test_non_positive_timeout_never_queues(clock):
    lim = smgcore.ConcurrencyLimiter(1, clock=clock)
    held = lim.acquire()
    with pytest.raises(smgcore.DeadlineExceeded) as e:
        lim.acquire(timeout=0)
    assert isinstance(e.value, TimeoutError)
    with pytest.raises(smgcore.DeadlineExceeded):
        lim.acquire(timeout=-1)
    with pytest.raises(smgcore.InvalidArgument):
        lim.acquire(timeout=float("nan"))
    held.release()


def run_in_thread(fn):
    """Runs fn() in a thread; returns (thread, result dict with 'value' or 'error')."""
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            result["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, result


def test_blocked_acquire_releases_the_gil_and_gets_the_slot(clock):
    lim = smgcore.ConcurrencyLimiter(1, clock=clock)
    held = lim.acquire()
    t, result = run_in_thread(lambda: lim.acquire(timeout=30))
    # The waiter is queued while this thread keeps running Python: acquire()
    # does not hold the GIL while it blocks.
    assert lim._wait_for_queue_depth(1, 30)
    assert lim.queue_depth == 1 and lim.time_until_next_deadline() == pytest.approx(30)
    held.release()  # hands the slot to the waiter
    t.join(30)
    assert not t.is_alive()
    permit = result["value"]
    assert isinstance(permit, smgcore.Permit) and lim.in_flight == 1
    permit.release()
    assert lim.stats()["admitted_after_wait"] == 1


def test_blocked_acquire_times_out_on_the_manual_clock(clock):
    lim = smgcore.ConcurrencyLimiter(1, queue_timeout=10, clock=clock)
    held = lim.acquire()
    t, result = run_in_thread(lambda: lim.acquire(timeout=5))
    assert lim._wait_for_queue_depth(1, 30)
    clock.advance(4.999)
    assert lim.expire_waiters() == 0
    clock.advance(0.001)
    assert lim.expire_waiters() == 1
    t.join(30)
    assert not t.is_alive()
    assert isinstance(result["error"], smgcore.DeadlineExceeded)
    assert lim.queue_depth == 0 and lim.time_until_next_deadline() is None
    assert lim.stats()["timed_out"] == 1
    held.release()


def test_blocked_acquire_times_out_in_real_time():
    lim = smgcore.ConcurrencyLimiter(1)
    held = lim.acquire()
    start = time.monotonic()
    with pytest.raises(smgcore.DeadlineExceeded, match="timed out"):
        lim.acquire(timeout=0.02)
    assert time.monotonic() - start >= 0.019
    held.release()


def test_cancel_all_wakes_blocked_waiters(clock):
    lim = smgcore.ConcurrencyLimiter(1, clock=clock)
    held = lim.acquire()
    threads = [run_in_thread(lambda: lim.acquire()) for _ in range(3)]
    assert lim._wait_for_queue_depth(3, 30)
    assert lim.cancel_all() == 3
    for t, result in threads:
        t.join(30)
        assert isinstance(result["error"], smgcore.Cancelled)
    held.release()
    assert lim.in_flight == 0


def test_limiter_validation():
    for kwargs in ({"max_in_flight": 0}, {"max_in_flight": -1}, {"max_in_flight": 2**32}):
        with pytest.raises(smgcore.InvalidArgument):
            smgcore.ConcurrencyLimiter(**kwargs)
    for kwargs in ({"max_queue": 2**21}, {"queue_timeout": 0}, {"queue_timeout": -1}, {"queue_timeout": float("inf")},
                   {"queue_timeout": 86401}):
        with pytest.raises(smgcore.InvalidArgument):
            smgcore.ConcurrencyLimiter(1, **kwargs)
    with pytest.raises(smgcore.InvalidArgument):
        smgcore.ConcurrencyLimiter(1)._wait_for_queue_depth(-1, 1)


def test_permit_outlives_its_limiter():
    clock = smgcore.ManualClock()
    lim = smgcore.ConcurrencyLimiter(1, clock=clock)
    p = lim.acquire()
    del lim, clock
    gc.collect()
    p.release()  # the permit keeps the limiter (and its clock) alive


# --- TenantLimiter --------------------------------------------------------------------


def tenant_limits():
    return smgcore.TenantLimits(
        default_tenant=smgcore.RateLimit(requests_per_minute=2, tokens_per_minute=1000),
        tenants={"batch": smgcore.RateLimit(tokens_per_minute=60000)},
        global_limit=smgcore.RateLimit(requests_per_minute=100),
    )


def test_tenant_limits_options():
    limits = tenant_limits()
    assert limits.default_tenant == smgcore.RateLimit(requests_per_minute=2, tokens_per_minute=1000)
    assert limits.tenants == {"batch": smgcore.RateLimit(tokens_per_minute=60000)}
    assert limits.global_limit.requests_per_minute == 100
    assert limits.max_tracked_tenants == 100000
    assert smgcore.TenantLimits().default_tenant == smgcore.RateLimit()
    assert "1 overrides" in repr(limits)
    with pytest.raises(smgcore.InvalidArgument):
        smgcore.RateLimit(requests_per_minute=10**10)
    with pytest.raises(smgcore.InvalidArgument):
        smgcore.TenantLimits(tenants={"": smgcore.RateLimit()})
    with pytest.raises(smgcore.InvalidArgument):
        smgcore.TenantLimits(max_tracked_tenants=0)
    with pytest.raises(TypeError):
        smgcore.TenantLimits(tenants={"a": 5})


def test_tenant_limiter_reserve_and_settle(clock):
    lim = smgcore.TenantLimiter(tenant_limits(), clock=clock)
    assert lim.limit_for("alice") == smgcore.RateLimit(requests_per_minute=2, tokens_per_minute=1000)
    assert lim.limit_for("batch").tokens_per_minute == 60000
    assert lim.limits.global_limit.requests_per_minute == 100
    r1 = lim.reserve("alice", 100)
    assert r1.active and r1.estimated_tokens == 100
    r1.settle(50)
    assert not r1.active
    with pytest.raises(smgcore.FailedPrecondition):
        r1.settle(50)
    lim.reserve("alice", 10)
    with pytest.raises(smgcore.ResourceExhausted, match='tenant "alice" is over its requests per minute') as e:
        lim.reserve("alice", 10)
    assert e.value.retry_after == pytest.approx(30.0)
    assert (e.value.reason, e.value.scope, e.value.dimension) == ("rate_limited", "tenant", "requests")
    with pytest.raises(smgcore.ResourceExhausted, match="exceeds") as e:
        lim.reserve("bob", 5000)
    assert e.value.retry_after is None and e.value.reason == "estimate_too_large"
    with pytest.raises(smgcore.InvalidArgument):
        lim.reserve("", 1)
    with pytest.raises(smgcore.InvalidArgument):
        lim.reserve("x" * 300, 1)
    clock.advance(30)
    lim.reserve("alice", 10)
    stats = lim.stats()
    assert stats["granted"] == 3 and stats["denied_tenant_requests"] == 1
    assert stats["denied_estimate_too_large"] == 1 and stats["denied_invalid_tenant"] == 2
    clock.advance(3600)
    assert lim.evict_idle_tenants() >= 1


def test_router_tenant_limits(clock):
    r = smgcore.Router(tenant_limits=tenant_limits(), clock=clock)
    r.add_worker("http://a:1")
    d1 = r.select(tenant="alice", text="x" * 400)  # estimate: 100 tokens
    d1.settle_tokens(900)
    d1.finish()
    with pytest.raises(smgcore.ResourceExhausted) as e:
        r.select(tenant="alice", estimated_tokens=500)  # 900 + 500 > 1000 tokens per minute
    assert e.value.retry_after > 0 and e.value.reason is None
    r.select(tenant="batch", estimated_tokens=50000).finish()
    r.select().finish()  # anonymous: not limited by tenant
    with pytest.raises(smgcore.InvalidArgument):
        r.select(tenant="t" * 300)
    assert "smg_tenant" in r.export_metrics() or "tenant" in r.export_metrics()


def test_reservation_outlives_its_limiter():
    clock = smgcore.ManualClock()
    lim = smgcore.TenantLimiter(tenant_limits(), clock=clock)
    res = lim.reserve("alice", 10)
    del lim, clock
    gc.collect()
    res.settle(5)


# --- Metrics --------------------------------------------------------------------------


def test_tracked_limiters_and_buckets_are_exported(router, clock):
    lim = smgcore.ConcurrencyLimiter(4, clock=clock)
    bucket = smgcore.TokenBucket(10, 1, clock=clock)
    router.track_admission("chat", lim)
    router.track_admission("rps", bucket)
    with pytest.raises(TypeError):
        router.track_admission("bad", object())
    p = lim.acquire()
    bucket.try_acquire(3)
    text = router.export_metrics()
    assert 'smg_scheduler_inflight{limiter="chat"} 1' in text
    assert 'smg_rate_limit_tokens_available{bucket="rps"} 7' in text
    p.release()
    del lim, p  # the permit, too, holds the limiter
    gc.collect()
    assert 'limiter="chat"' not in router.export_metrics()  # tracked weakly
