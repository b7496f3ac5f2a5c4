"""The exception hierarchy: every C++ status code maps to one smgcore.Error subclass."""

import pickle

import pytest

import smgcore

HIERARCHY = {
    "InvalidArgument": ("INVALID_ARGUMENT", (ValueError,)),
    "NotFound": ("NOT_FOUND", (LookupError,)),
    "AlreadyExists": ("ALREADY_EXISTS", ()),
    "FailedPrecondition": ("FAILED_PRECONDITION", ()),
    "Unavailable": ("UNAVAILABLE", ()),
    "ResourceExhausted": ("RESOURCE_EXHAUSTED", ()),
    "DeadlineExceeded": ("DEADLINE_EXCEEDED", (TimeoutError,)),
    "Cancelled": ("CANCELLED", ()),
}


@pytest.mark.parametrize("name", sorted(HIERARCHY))
def test_hierarchy(name):
    cls = getattr(smgcore, name)
    code, builtins = HIERARCHY[name]
    assert issubclass(cls, smgcore.Error) and issubclass(cls, Exception)
    for b in builtins:
        assert issubclass(cls, b)
    assert cls.code == code
    assert cls.__module__ == "smgcore"
    assert cls.__doc__


def test_error_is_the_root():
    assert smgcore.Error.__bases__ == (Exception,)
    assert smgcore.Error.code == "UNKNOWN"
    assert smgcore.ResourceExhausted.retry_after is None


def raises_from_cxx():
    """One C++ error of each code, raised through the binding."""
    clock = smgcore.ManualClock()
    r = smgcore.Router()
    w = r.add_worker("http://a:1")
    d = r.select()
    d.finish()
    lim = smgcore.ConcurrencyLimiter(1, max_queue=0, clock=clock)
    held = lim.acquire()
    queued = smgcore.ConcurrencyLimiter(1, clock=clock)
    queued_held = queued.acquire()
    return {
        "InvalidArgument": lambda: r.add_worker("not a url"),
        "NotFound": lambda: r.get_worker(42),
        "AlreadyExists": lambda: r.add_worker(w.url),
        "FailedPrecondition": lambda: d.finish(),
        "Unavailable": lambda: (r.drain_worker(w), r.select()),
        "ResourceExhausted": lambda: lim.acquire(),
        "DeadlineExceeded": lambda: queued.acquire(timeout=0),
    }, (held, queued_held)


@pytest.mark.parametrize("name", sorted(set(HIERARCHY) - {"Cancelled"}))
def test_cxx_errors_map_to_their_class(name):
    calls, _keep = raises_from_cxx()
    with pytest.raises(getattr(smgcore, name)) as e:
        calls[name]()
    assert type(e.value) is getattr(smgcore, name)
    assert e.value.code == HIERARCHY[name][0]
    assert str(e.value)  # the C++ message


def test_messages_are_the_cxx_messages():
    r = smgcore.Router()
    with pytest.raises(smgcore.NotFound) as e:
        r.get_worker(7)
    assert str(e.value) == "no worker with id 7"
    with pytest.raises(smgcore.InvalidArgument) as e:
        r.add_worker("http://a:1", weight=1, type="decode", bootstrap_port=1)
    assert str(e.value) == "bootstrap_port is only meaningful for prefill workers, not decode worker http://a:1"


def test_errors_can_be_caught_as_the_base_class():
    r = smgcore.Router()
    for call in (lambda: r.select(), lambda: r.add_worker(""), lambda: r.remove_worker("http://x:1")):
        with pytest.raises(smgcore.Error):
            call()


def test_errors_can_be_raised_and_pickled_like_exceptions():
    e = smgcore.NotFound("custom")
    assert str(e) == "custom" and e.code == "NOT_FOUND"
    with pytest.raises(LookupError):
        raise e
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is smgcore.NotFound and str(copy) == "custom"
