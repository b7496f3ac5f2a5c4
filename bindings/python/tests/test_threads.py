"""Routing from several Python threads at once, short and long prompts."""

import array
import threading

import pytest

import smgcore
from conftest import urls

THREADS = 4


def run_threads(target, n=THREADS):
    """Runs target(i) on n threads started together; re-raises the first failure."""
    barrier = threading.Barrier(n)
    errors = []

    def body(i):
        try:
            barrier.wait(30)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a routing thread hung"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("policy", ["round_robin", "cache_aware", "power_of_two", "consistent_hash", "prefix_hash"])
def test_four_threads_route_concurrently(policy):
    r = smgcore.Router(policy)
    workers = [r.add_worker(u) for u in urls(8)]
    per_thread = 2000
    # Short prompts keep the GIL; long ones (>= 16 KiB, 4096 tokens) route
    # without it, so those selections overlap with other threads' Python.
    long_text = "shared system prompt " * 1000
    long_tokens = array.array("I", range(5000))

    def route(i):
        for n in range(per_thread):
            if n % 50 == 0:
                d = r.select(text=long_text + str(i))
            elif n % 50 == 1:
                d = r.select(tokens=long_tokens)
            else:
                d = r.select(text=f"thread {i} request {n}", routing_key=f"user-{n % 17}")
            with d:
                assert d.worker.in_flight >= 1

    run_threads(route)
    assert sum(w.requests_served for w in workers) == THREADS * per_thread
    assert all(w.in_flight == 0 for w in workers)
    assert sum(w.successes for w in workers) == THREADS * per_thread


def test_threads_route_while_the_registry_changes():
    r = smgcore.Router("cache_aware")
    stable = [r.add_worker(u) for u in urls(4)]
    stop = threading.Event()
    removed_urls = set()

    def churn():
        n = 0
        while not stop.is_set() and n < 500:
            url = f"http://churn-{n}:1"
            r.add_worker(url)
            r.remove_worker(url)
            removed_urls.add(url)
            n += 1

    churner = threading.Thread(target=churn)
    churner.start()
    try:

        def route(i):
            for n in range(1500):
                with r.select(text=f"{i}-{n} " * 30) as d:
                    assert d.worker.url.startswith("http://")

        run_threads(route)
    finally:
        stop.set()
        churner.join(60)
    assert r.worker_count == 4
    assert all(w.in_flight == 0 for w in stable)


def test_threads_share_a_limiter_and_a_bucket():
    lim = smgcore.ConcurrencyLimiter(2, max_queue=THREADS * 10)
    bucket = smgcore.TokenBucket(10**6, 1.0)
    active = 0
    peak = 0
    lock = threading.Lock()

    def work(i):
        nonlocal active, peak
        for _ in range(300):
            assert bucket.try_acquire()
            with lim.acquire(timeout=30):
                with lock:
                    active += 1
                    peak = max(peak, active)
                with lock:
                    active -= 1

    run_threads(work)
    assert peak <= 2 and lim.in_flight == 0
    assert lim.stats()["admitted"] == THREADS * 300
    assert bucket.available == 10**6 - THREADS * 300


def test_threads_retry_on_a_shared_router():
    # Half the attempts fail: breakers off, or their failure-rate rule would
    # open them and the exclusion of tried workers would be moot.
    r = smgcore.Router(
        "round_robin",
        retry=smgcore.RetryOptions(max_attempts=3),
        circuit_breaker=smgcore.CircuitBreakerOptions(enabled=False),
    )
    workers = [r.add_worker(u) for u in urls(3)]
    verdicts = []
    lock = threading.Lock()

    def work(i):
        for n in range(200):
            attempts = smgcore.RetryState(r)  # one per request
            while True:
                d = attempts.select(text=f"{i}-{n}")
                # The first attempt of every request fails.
                decision = attempts.finish(d, 503 if attempts.attempts == 1 else 200)
                if not decision.retry:
                    break
            with lock:
                verdicts.append((decision.verdict, len(set(attempts.tried_workers))))

    run_threads(work)
    assert verdicts == [("succeeded", 2)] * (THREADS * 200)
    assert sum(w.failures for w in workers) == THREADS * 200
    assert all(w.in_flight == 0 for w in workers)
