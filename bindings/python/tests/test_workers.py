"""The worker registry: adding, replacing, removing, updating and listing workers."""

import pytest

import smgcore
from conftest import urls


def test_add_worker_returns_a_live_view():
    r = smgcore.Router()
    w = r.add_worker(
        "http://10.0.0.7:30000",
        model="llama",
        type="prefill",
        bootstrap_port=8998,
        labels={"zone": "a", "gpu": "h100"},
        weight=3,
    )
    assert (w.id, w.url, w.model, w.type) == (1, "http://10.0.0.7:30000", "llama", "prefill")
    assert w.bootstrap_port == 8998
    assert w.bootstrap_host == "10.0.0.7"
    assert w.labels == {"gpu": "h100", "zone": "a"}
    assert w.weight == 3
    assert w.health == "ready"
    assert w.breaker_state == "closed"
    assert w.routable and not w.removed
    assert w.in_flight == 0 and w.leg_in_flight == 0
    assert w.engine_load is None
    assert (w.selections, w.requests_served, w.successes, w.failures, w.cancelled) == (0, 0, 0, 0, 0)
    assert (w.probes_passed, w.probes_failed) == (0, 0)
    assert w.breaker_stats == {
        "state": "closed",
        "consecutive_failures": 0,
        "consecutive_successes": 0,
        "openings": 0,
        "rejected": 0,
        "closed_to_open": 0,
        "open_to_half_open": 0,
        "half_open_to_closed": 0,
        "half_open_to_open": 0,
    }
    assert "url='http://10.0.0.7:30000'" in repr(w)
    # Live: the view follows the worker's state.
    r.set_weight(w, 5)
    r.set_labels("http://10.0.0.7:30000", {"zone": "b"})
    r.set_engine_load(w.id, 0.75)
    assert (w.weight, w.labels, w.engine_load) == (5, {"zone": "b"}, 0.75)
    r.set_engine_load(w, None)
    assert w.engine_load is None


def test_worker_defaults():
    r = smgcore.Router(default_model="dflt")
    w = r.add_worker("http://h:1")
    assert (w.model, w.type, w.weight, w.health, w.labels, w.bootstrap_port) == ("dflt", "regular", 1, "ready", {}, None)
    pending = r.add_worker("http://h:2", health="pending")
    assert pending.health == "pending" and not pending.routable


def test_workers_compare_by_registration():
    r = smgcore.Router()
    a = r.add_worker("http://a:1")
    assert a == r.get_worker(a.id) == r.get_worker("http://a:1") == r.get_worker(a)
    assert hash(a) == hash(r.get_worker(a.id))
    b = r.add_worker("http://b:1")
    assert a != b and a != "http://a:1"
    assert len({a, b, r.get_worker(a.id)}) == 2


def test_list_workers_and_models():
    r = smgcore.Router(pd_mode=True)
    r.add_worker("http://p:1", model="m1", type="prefill")
    r.add_worker("http://d:1", model="m1", type="decode")
    r.add_worker("http://p:2", model="m2", type="prefill")
    assert [w.url for w in r.list_workers()] == ["http://p:1", "http://d:1", "http://p:2"]
    assert [w.url for w in r.list_workers(model="m1")] == ["http://p:1", "http://d:1"]
    assert [w.url for w in r.list_workers(type="prefill")] == ["http://p:1", "http://p:2"]
    assert [w.url for w in r.list_workers(model="m2", type="decode")] == []
    assert r.list_models() == ["m1", "m2"]
    assert r.worker_count == 3
    with pytest.raises(smgcore.InvalidArgument, match="unknown worker type"):
        r.list_workers(type="encoder")


def test_remove_by_id_url_and_worker():
    r = smgcore.Router()
    ws = [r.add_worker(u) for u in urls(3)]
    r.remove_worker(ws[0].id)
    r.remove_worker(ws[1].url)
    r.remove_worker(ws[2])
    assert r.worker_count == 0
    assert all(w.removed for w in ws)
    assert r.list_models() == []
    for ref in (ws[0].id, ws[1].url, ws[2]):
        with pytest.raises(smgcore.NotFound) as e:
            r.remove_worker(ref)
        assert isinstance(e.value, LookupError)
        assert e.value.code == "NOT_FOUND"


def test_removed_worker_keeps_outstanding_decisions_valid(router):
    d = router.select()
    w = d.worker
    router.remove_worker(w)
    assert w.removed and w.in_flight == 1
    d.finish(200)
    assert w.in_flight == 0 and w.successes == 1
    assert all(router.select().worker != w for _ in range(10))


def test_replace_worker_swaps_atomically():
    r = smgcore.Router()
    old = r.add_worker("http://a:1", labels={"v": "1"})
    new = r.replace_worker("http://a:1", labels={"v": "2"}, weight=2)
    assert new.id != old.id and old.removed and not new.removed
    assert r.get_worker("http://a:1") == new
    assert (new.labels, new.weight) == ({"v": "2"}, 2)
    fresh = r.replace_worker("http://b:1")  # nothing to replace: an add
    assert r.worker_count == 2 and fresh.url == "http://b:1"


def test_duplicate_and_malformed_workers():
    r = smgcore.Router()
    r.add_worker("http://a:1")
    with pytest.raises(smgcore.AlreadyExists, match="already registered"):
        r.add_worker("http://a:1")
    for bad in ("", "no-scheme", "http://", "http://has space:1"):
        with pytest.raises(smgcore.InvalidArgument):
            r.add_worker(bad)
    with pytest.raises(smgcore.InvalidArgument, match="bootstrap_port is only meaningful for prefill"):
        r.add_worker("http://d:1", type="decode", bootstrap_port=8998)
    with pytest.raises(smgcore.InvalidArgument, match="unknown worker type"):
        r.add_worker("http://x:1", type="encode")
    with pytest.raises(smgcore.InvalidArgument, match="joins ready, pending or not_ready"):
        r.add_worker("http://x:1", health="draining")
    with pytest.raises(smgcore.InvalidArgument, match="unknown health"):
        r.add_worker("http://x:1", health="fine")
    with pytest.raises(smgcore.InvalidArgument, match="model name longer"):
        r.add_worker("http://x:1", model="m" * 100000)
    assert r.worker_count == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weight": 0}, "weight"),
        ({"weight": 2**32}, "weight"),
        ({"weight": -1}, "weight"),
        ({"bootstrap_port": 0, "type": "prefill"}, "bootstrap_port"),
        ({"bootstrap_port": 65536, "type": "prefill"}, "bootstrap_port"),
        ({"bootstrap_port": 10**30, "type": "prefill"}, "bootstrap_port"),
    ],
)
def test_out_of_range_worker_fields(kwargs, match):
    with pytest.raises(smgcore.InvalidArgument, match=match):
        smgcore.Router().add_worker("http://x:1", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weight": 1.5},
        {"weight": "2"},
        {"labels": ["a"]},
        {"labels": {"a": 1}},
        {"labels": {b"a": "b"}},
        {"model": b"bytes-model"},
        {"circuit_breaker": "off"},
    ],
)
def test_wrong_types_are_type_errors(kwargs):
    with pytest.raises(TypeError):
        smgcore.Router().add_worker("http://x:1", **kwargs)
    with pytest.raises(TypeError):
        smgcore.Router().add_worker(b"http://x:1")


def test_worker_references_are_checked(router):
    other = smgcore.Router()
    foreign = other.add_worker("http://10.0.0.0:30000")  # same URL and id as router's first
    with pytest.raises(smgcore.NotFound, match="not registered with this router"):
        router.get_worker(foreign)
    with pytest.raises(smgcore.NotFound):
        router.get_worker(999)
    with pytest.raises(smgcore.InvalidArgument):
        router.get_worker(-1)
    with pytest.raises(smgcore.InvalidArgument):
        router.get_worker(2**40)
    with pytest.raises(TypeError):
        router.get_worker(1.0)
    with pytest.raises(TypeError):
        router.get_worker(True)
    with pytest.raises(smgcore.NotFound):
        router.get_worker("http://nowhere:1")


def test_updates_validate_their_values(router):
    w = router.list_workers()[0]
    with pytest.raises(smgcore.InvalidArgument):
        router.set_weight(w, 0)
    with pytest.raises(smgcore.InvalidArgument, match="engine load"):
        router.set_engine_load(w, -1.0)
    with pytest.raises(smgcore.InvalidArgument, match="engine load"):
        router.set_engine_load(w, float("nan"))
    with pytest.raises(smgcore.InvalidArgument, match="unknown health"):
        router.set_health(w, "sleepy")
    with pytest.raises(TypeError):
        router.set_labels(w, "zone=a")
    with pytest.raises(smgcore.NotFound):
        router.set_weight(12345, 2)


def test_per_worker_breaker_and_classifier():
    r = smgcore.Router(seed=1)
    w = r.add_worker(
        "http://a:1",
        circuit_breaker=smgcore.CircuitBreakerOptions(consecutive_failures=1, failure_rate_threshold=0),
        failure_classifier=smgcore.FailureClassifier([503]),
    )
    r.select().finish(500)  # not a failure for this worker
    assert w.breaker_state == "closed" and w.successes == 1
    r.select().finish(503)
    assert w.breaker_state == "open" and w.failures == 1
    with pytest.raises(smgcore.Unavailable, match="circuit breaker"):
        r.select()
