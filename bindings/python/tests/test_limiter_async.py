"""ConcurrencyLimiter.acquire_async(): the awaitable form, bridged to asyncio futures."""

import asyncio
import gc
import sys
import threading

import pytest

import smgcore


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def spin_until(predicate, max_iterations=10_000):
    """Yields to the loop until `predicate()` holds (bounded; no sleeping)."""
    for _ in range(max_iterations):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def test_immediate_admission_and_rejection(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, max_queue=0, clock=clock)
        fut = lim.acquire_async()
        assert fut.done()
        permit = await fut
        assert isinstance(permit, smgcore.Permit) and lim.in_flight == 1
        with pytest.raises(smgcore.ResourceExhausted) as e:
            await lim.acquire_async()
        assert e.value.retry_after == 1.0
        permit.release()
        async_permit = await lim.acquire_async()
        with async_permit:
            assert lim.in_flight == 1
        assert lim.in_flight == 0

    run(main())


def test_outside_a_running_loop_is_an_error():
    with pytest.raises(RuntimeError):
        smgcore.ConcurrencyLimiter(1).acquire_async()


def test_queued_waiters_are_admitted_in_fifo_order(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, clock=clock)
        first = await lim.acquire_async()
        order = []

        async def waiter(i):
            permit = await lim.acquire_async()
            order.append(i)
            permit.release()

        tasks = [asyncio.create_task(waiter(i)) for i in range(5)]
        await spin_until(lambda: lim.queue_depth == 5)
        first.release()
        await asyncio.gather(*tasks)
        assert order == [0, 1, 2, 3, 4]
        assert lim.in_flight == 0 and lim.stats()["admitted_after_wait"] == 5

    run(main())


def test_release_from_another_thread_resolves_on_the_loop(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, clock=clock)
        held = lim.acquire()
        fut = lim.acquire_async()
        assert not fut.done()
        loop_thread = threading.get_ident()
        resolved_on = []
        fut.add_done_callback(lambda f: resolved_on.append(threading.get_ident()))
        t = threading.Thread(target=held.release)
        t.start()
        permit = await fut
        t.join(10)
        assert resolved_on == [loop_thread]
        permit.release()

    run(main())


def test_timeout_on_the_manual_clock_needs_expire_waiters(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, queue_timeout=5, clock=clock)
        held = await lim.acquire_async()
        fut = lim.acquire_async()
        clock.advance(5)
        assert lim.expire_waiters() == 1
        with pytest.raises(smgcore.DeadlineExceeded):
            await fut
        held.release()

    run(main())


def test_timeout_on_the_steady_clock_fires_by_itself():
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, queue_timeout=0.02)
        held = await lim.acquire_async()
        with pytest.raises(smgcore.DeadlineExceeded) as e:
            await lim.acquire_async()
        assert isinstance(e.value, TimeoutError)
        assert lim.queue_depth == 0
        held.release()

    run(main())


def test_cancelled_task_withdraws_its_waiter(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, clock=clock)
        held = await lim.acquire_async()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(lim.acquire_async(), 0.01)
        await spin_until(lambda: lim.queue_depth == 0)
        assert lim.stats()["cancelled"] == 1
        held.release()
        assert lim.in_flight == 0  # the slot was not handed to the withdrawn waiter

    run(main())


def test_grant_racing_a_cancellation_gives_the_slot_back(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, clock=clock)
        held = await lim.acquire_async()
        fut = lim.acquire_async()
        held.release()  # grants the slot: resolution is scheduled on the loop
        fut.cancel()  # ...but the awaiting side gives up first
        await spin_until(lambda: lim.in_flight == 0)
        assert lim.queue_depth == 0

    run(main())


def test_cancel_all_cancels_async_waiters(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, clock=clock)
        held = await lim.acquire_async()
        futures = [lim.acquire_async() for _ in range(3)]
        assert lim.cancel_all() == 3
        for fut in futures:
            with pytest.raises(smgcore.Cancelled):
                await fut
        held.release()
        assert lim.in_flight == 0

    run(main())


def test_queued_waiter_keeps_nothing_alive_but_its_permit_holder(clock):
    async def main():
        lim = smgcore.ConcurrencyLimiter(1, clock=clock)
        permit = lim.try_acquire()
        waiter = lim.acquire_async()
        del lim
        gc.collect()
        # The held permit keeps the limiter alive; releasing it (here by
        # dropping it) hands the slot to the waiter.
        assert not waiter.done()
        del permit
        gc.collect()
        second = await waiter
        second.release()

    run(main())


def test_loop_closed_before_the_grant_releases_the_slot(clock, monkeypatch):
    reports = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reports.append(u.exc_type))
    lim = smgcore.ConcurrencyLimiter(1, clock=clock)
    held = lim.acquire()

    async def enqueue():
        return lim.acquire_async()

    loop = asyncio.new_event_loop()
    fut = loop.run_until_complete(enqueue())
    loop.close()
    held.release()  # the grant cannot reach the closed loop
    assert lim.in_flight == 0 and lim.queue_depth == 0
    assert reports == [RuntimeError]
    del fut


def test_many_async_requests_through_a_small_limiter():
    async def main():
        lim = smgcore.ConcurrencyLimiter(3, max_queue=1000)
        active = 0
        peak = 0

        async def request():
            nonlocal active, peak
            with await lim.acquire_async():
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0)
                active -= 1

        await asyncio.gather(*(request() for _ in range(300)))
        assert peak == 3 and lim.in_flight == 0 and lim.stats()["admitted"] == 300

    run(main())
