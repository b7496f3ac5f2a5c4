"""Decision: finish(), statuses, and its context-manager semantics."""

import asyncio
import gc

import pytest

import smgcore


def one_worker_router(**kwargs):
    r = smgcore.Router(seed=1, **kwargs)
    w = r.add_worker("http://a:1")
    return r, w


def test_finish_records_the_outcome():
    r, w = one_worker_router()
    d = r.select()
    assert not d.finished and d.outcome is None and w.in_flight == 1
    assert not d.is_pd and d.prefill is None and d.decode is None
    assert d.bootstrap_host is None and d.bootstrap_port is None and d.bootstrap_room is None
    assert repr(d) == "Decision(worker='http://a:1', finished=False)"
    d.finish(404)  # a client error is a success for the worker
    assert d.finished and d.outcome == 404 and w.in_flight == 0
    assert (w.successes, w.failures) == (1, 0)
    d = r.select()
    d.finish(503)
    assert (w.successes, w.failures) == (1, 1)
    d = r.select()
    d.finish("transport_error")
    assert w.failures == 2 and d.outcome == "transport_error"
    d = r.select()
    d.finish("cancelled")
    assert w.cancelled == 1 and (w.successes, w.failures) == (1, 2)
    d = r.select()
    d.finish()  # default: 200
    assert d.outcome == 200 and w.successes == 2
    assert w.requests_served == 5 and w.selections == 5


def test_finishing_twice_is_failed_precondition():
    r, _ = one_worker_router()
    d = r.select()
    d.finish(200)
    with pytest.raises(smgcore.FailedPrecondition, match="already finished") as e:
        d.finish(200)
    assert e.value.code == "FAILED_PRECONDITION"
    with pytest.raises(smgcore.FailedPrecondition):
        d.status = 500
    with d:  # entering a finished decision is harmless; leaving it changes nothing
        pass
    assert d.outcome == 200


@pytest.mark.parametrize(
    "status, error",
    [(99, smgcore.InvalidArgument), (600, smgcore.InvalidArgument), (-1, smgcore.InvalidArgument),
     (2**70, smgcore.InvalidArgument), ("timeout", smgcore.InvalidArgument), (200.0, TypeError),
     (True, TypeError), (b"cancelled", TypeError)],
)
def test_invalid_statuses(status, error):
    r, w = one_worker_router()
    d = r.select()
    with pytest.raises(error):
        d.finish(status)
    with pytest.raises(error):
        d.status = status
    assert not d.finished and w.in_flight == 1
    d.finish(200)


def test_with_block_without_exception_finishes_with_200():
    r, w = one_worker_router()
    with r.select() as d:
        assert w.in_flight == 1
    assert d.finished and d.outcome == 200 and w.successes == 1 and w.in_flight == 0


def test_with_block_uses_the_status_set_on_the_decision():
    r, w = one_worker_router()
    with r.select() as d:
        d.status = 502
        assert d.status == 502
    assert d.outcome == 502 and w.failures == 1
    # A status set before an exception wins over the exception.
    with pytest.raises(KeyError):
        with r.select() as d:
            d.status = 200
            raise KeyError("after the response")
    assert d.outcome == 200 and w.successes == 1


def test_exception_in_with_block_is_a_transport_failure():
    r, w = one_worker_router()
    with pytest.raises(ConnectionResetError):
        with r.select() as d:
            raise ConnectionResetError("peer reset")
    assert d.outcome == "transport_error" and w.failures == 1 and w.in_flight == 0


@pytest.mark.parametrize("exc", [KeyboardInterrupt, asyncio.CancelledError, GeneratorExit])
def test_base_exception_in_with_block_is_a_cancellation(exc):
    r, w = one_worker_router()
    with pytest.raises(exc):
        with r.select() as d:
            raise exc()
    assert d.outcome == "cancelled" and w.cancelled == 1 and w.failures == 0


def test_finish_inside_with_block_wins():
    r, w = one_worker_router()
    with pytest.raises(RuntimeError):
        with r.select() as d:
            d.finish(201)
            raise RuntimeError("later")
    assert d.outcome == 201 and w.failures == 0


def test_status_can_be_cleared():
    r, w = one_worker_router()
    with r.select() as d:
        d.status = 503
        d.status = None
        assert d.status is None
    assert d.outcome == 200


def test_dropped_decision_finishes_as_cancelled():
    r, w = one_worker_router()
    d = r.select()
    assert w.in_flight == 1
    del d
    gc.collect()
    assert w.in_flight == 0 and w.cancelled == 1


def test_decision_outlives_its_router():
    clock = smgcore.ManualClock()
    r = smgcore.Router(clock=clock)
    w = r.add_worker("http://a:1")
    d = r.select()
    del r, clock
    gc.collect()
    d.finish(500)  # reads the router's clock, which the decision keeps alive
    assert w.failures == 1 and w.in_flight == 0


def test_pd_decision_and_separate_leg_statuses(pd_router):
    d = pd_router.select(text="hi")
    d.decode_status = "transport_error"
    assert d.decode_status == "transport_error"
    d.finish(200)
    assert d.prefill.successes == 1 and d.decode.failures == 1
    d = pd_router.select(text="hi")
    d.finish(200, decode_status=503)
    assert d.prefill.successes == 2 and d.decode.failures >= 1
    assert "prefill='http://10.1.0." in repr(d)
    with pd_router.select(text="hi") as d:
        d.status = 504
    assert d.prefill.failures == 1 and d.outcome == 504


def test_bootstrap_fields(pd_router):
    rooms = set()
    seen_ports = set()
    for i in range(40):
        with pd_router.select(text=f"prompt {i}" * 10) as d:
            assert d.bootstrap_host in ("10.1.0.1", "10.1.0.2")
            expected = 8998 if d.prefill.url == "http://10.1.0.1:30000" else None
            assert d.bootstrap_port == expected
            seen_ports.add(d.bootstrap_port)
            rooms.add(d.bootstrap_room)
    assert len(rooms) == 40


def test_settle_tokens_without_tenant_limits_is_a_no_op(router):
    d = router.select()
    d.settle_tokens(100)
    with pytest.raises(smgcore.FailedPrecondition):
        d.settle_tokens(100)
    with pytest.raises(smgcore.InvalidArgument):
        router.select().settle_tokens(-1)
    d.finish()


def test_fast_method_argument_errors():
    r, w = one_worker_router()
    d = r.select()
    with pytest.raises(TypeError, match="at most 1 positional argument"):
        d.finish(200, 503)
    with pytest.raises(TypeError, match="unexpected keyword argument 'code'"):
        d.finish(code=200)
    with pytest.raises(TypeError, match="multiple values for argument 'status'"):
        d.finish(200, status=200)
    with pytest.raises(TypeError, match="missing required argument 'traceback'"):
        d.__exit__(None, None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'exc_type'"):
        d.__exit__(exc_type=None, exc_value=None, traceback=None)
    assert not d.finished
    d.finish(status=200, decode_status=None)
    assert d.outcome == 200
    assert d.__enter__() is d
    assert d.__exit__(None, None, None) is False
