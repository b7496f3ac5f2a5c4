"""Router construction: policies and their options, per-model policies, PD mode."""

import pytest

import smgcore
from conftest import urls

# The C++ defaults (include/smgcore/policy_config.h; README "Policies and
# their defaults"), as Policy(kind).options must report them.
CXX_POLICY_DEFAULTS = {
    "random": {},
    "round_robin": {},
    "power_of_two": {"use_engine_load": True},
    "cache_aware": {
        "cache_threshold": 0.3,
        "balance_abs_threshold": 64,
        "balance_rel_threshold": 1.5,
        "eviction_interval": 120.0,
        "max_tree_size": 2**26,
        "token_page_size": 16,
        "evict_inline": False,
        "evict_headroom": 1 / 64,
        "imbalance_locality_window": 0,
        "load_sample_size": 32,
    },
    "consistent_hash": {
        "virtual_nodes": 150,
        "key_header": "x-smg-routing-key",
        "use_implicit_keys": True,
        "load_factor": 1.25,
    },
    "prefix_hash": {"prefix_tokens": 256, "prefix_bytes": 1024, "virtual_nodes": 150, "load_factor": 1.25},
}


@pytest.mark.parametrize("kind", sorted(CXX_POLICY_DEFAULTS))
def test_policy_defaults_are_the_cxx_defaults(kind):
    policy = smgcore.Policy(kind)
    assert policy.kind == kind
    assert policy.options == CXX_POLICY_DEFAULTS[kind]


def test_default_policy_is_round_robin():
    assert smgcore.Policy().kind == "round_robin"
    assert smgcore.PolicySet().policy == smgcore.Policy("round_robin")


def test_policy_options_override_defaults():
    p = smgcore.Policy("cache_aware", cache_threshold=0.5, eviction_interval=30, token_page_size=32)
    assert p.options["cache_threshold"] == 0.5
    assert p.options["eviction_interval"] == 30.0
    assert p.options["token_page_size"] == 32
    assert p.options["balance_abs_threshold"] == 64
    assert p == smgcore.Policy("cache_aware", cache_threshold=0.5, eviction_interval=30.0, token_page_size=32)
    assert p != smgcore.Policy("cache_aware")
    assert hash(p) == hash(smgcore.Policy("cache_aware", cache_threshold=0.5, eviction_interval=30, token_page_size=32))
    assert "cache_threshold=0.5" in repr(p)
    ch = smgcore.Policy("consistent_hashing", virtual_nodes=10, key_header="x-session", load_factor=0)
    assert ch.kind == "consistent_hash"
    assert ch.options == {"virtual_nodes": 10, "key_header": "x-session", "use_implicit_keys": True, "load_factor": 0.0}


def test_policy_option_of_another_kind_is_refused():
    with pytest.raises(smgcore.InvalidArgument, match="cache_threshold applies to cache_aware, not to random"):
        smgcore.Policy("random", cache_threshold=0.5)
    with pytest.raises(smgcore.InvalidArgument, match="virtual_nodes applies to consistent_hash and prefix_hash"):
        smgcore.Policy("cache_aware", virtual_nodes=10)


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("cache_aware", {"cache_threshold": 1.5}, "cache_threshold"),
        ("cache_aware", {"cache_threshold": float("nan")}, "cache_threshold"),
        ("cache_aware", {"balance_rel_threshold": 0.5}, "balance_rel_threshold"),
        ("cache_aware", {"balance_abs_threshold": -1}, "balance_abs_threshold"),
        ("cache_aware", {"token_page_size": 0}, "token_page_size"),
        ("cache_aware", {"max_tree_size": -1}, "max_tree_size"),
        ("cache_aware", {"eviction_interval": 0}, "eviction_interval"),
        ("cache_aware", {"eviction_interval": -5}, "eviction_interval"),
        ("cache_aware", {"load_sample_size": 1}, "load_sample_size"),
        ("cache_aware", {"evict_headroom": 0.75}, "evict_headroom"),
        ("cache_aware", {"evict_headroom": -0.1}, "evict_headroom"),
        ("cache_aware", {"evict_headroom": float("nan")}, "evict_headroom"),
        ("consistent_hash", {"virtual_nodes": 0}, "virtual_nodes"),
        ("consistent_hash", {"virtual_nodes": 2**40}, "virtual_nodes"),
        ("consistent_hash", {"load_factor": 0.5}, "load_factor"),
        ("prefix_hash", {"prefix_tokens": 0}, "prefix_tokens"),
    ],
)
def test_invalid_policy_options_name_the_field(kind, options, message):
    with pytest.raises(smgcore.InvalidArgument, match=message) as e:
        smgcore.Policy(kind, **options)
    assert isinstance(e.value, ValueError)


def test_unknown_and_custom_policies_are_refused():
    with pytest.raises(smgcore.InvalidArgument, match='unknown policy "fastest"'):
        smgcore.Policy("fastest")
    with pytest.raises(smgcore.InvalidArgument, match="custom"):
        smgcore.Policy("custom")
    with pytest.raises(smgcore.InvalidArgument, match="unknown policy"):
        smgcore.Router("fastest")
    with pytest.raises(TypeError):
        smgcore.Router(42)
    with pytest.raises(TypeError):
        smgcore.Policy("cache_aware", cache_threshold="high")


@pytest.mark.parametrize("kind", sorted(CXX_POLICY_DEFAULTS))
def test_every_policy_routes(kind):
    r = smgcore.Router(kind, seed=3)
    for url in urls(4):
        r.add_worker(url)
    chosen = set()
    for i in range(64):
        with r.select(text=f"prompt {i} " * 20, routing_key=f"user-{i}") as d:
            chosen.add(d.worker.url)
    assert chosen <= set(urls(4))
    if kind not in ("cache_aware", "prefix_hash", "consistent_hash"):
        assert len(chosen) > 1


def test_router_accepts_policy_objects_and_reports_options():
    r = smgcore.Router(smgcore.Policy("cache_aware", cache_threshold=0.9), default_model="m0")
    assert r.default_model == "m0"
    assert not r.pd_mode
    w = r.add_worker("http://a:1")
    assert w.model == "m0"
    assert repr(r) == "Router(pd_mode=False, workers=1, models=[m0])"


def test_per_model_policies():
    r = smgcore.Router(
        "round_robin",
        model_policies={
            "hashed": smgcore.Policy("consistent_hash"),
            "cached": "cache_aware",
            "pd": smgcore.PolicySet("random", prefill="cache_aware", decode="power_of_two"),
        },
        seed=5,
    )
    for model in ("hashed", "plain"):
        for url in urls(4, port=1000 + len(model)):
            r.add_worker(url, model=model)
    # consistent_hash: one key always lands on one worker.
    hashed = {r.select(model="hashed", routing_key="user-7").worker.url for _ in range(20)}
    assert len(hashed) == 1
    # round_robin on the other model: every worker in turn.
    plain = [r.select(model="plain").worker.url for _ in range(8)]
    assert set(plain) == set(urls(4, port=1005))
    assert r.list_models() == ["hashed", "plain"]


def test_policy_set_repr_and_fields():
    s = smgcore.PolicySet("random", prefill=smgcore.Policy("cache_aware"), decode="power_of_two")
    assert s.policy.kind == "random"
    assert s.prefill.kind == "cache_aware"
    assert s.decode.kind == "power_of_two"
    assert smgcore.PolicySet("random").prefill is None
    assert repr(s).startswith("PolicySet(Policy('random')")


def test_invalid_router_options():
    with pytest.raises(smgcore.InvalidArgument, match="default_model"):
        smgcore.Router(default_model="")
    with pytest.raises(smgcore.InvalidArgument, match="model name must not be empty"):
        smgcore.Router(model_policies={"": "random"})
    with pytest.raises(TypeError):
        smgcore.Router(model_policies={1: "random"})
    with pytest.raises(TypeError):
        smgcore.Router(on_breaker_transition=42)
    with pytest.raises(smgcore.InvalidArgument, match="seed"):
        smgcore.Router(seed=-1)


def test_pd_mode_pairs_prefill_and_decode(pd_router):
    assert pd_router.pd_mode
    d = pd_router.select(text="hello " * 50)
    assert d.is_pd
    assert d.prefill.type == "prefill" and d.decode.type == "decode"
    assert d.worker == d.prefill
    assert d.bootstrap_host == d.prefill.bootstrap_host
    assert d.bootstrap_port == d.prefill.bootstrap_port
    assert 0 <= d.bootstrap_room < 2**63
    assert d.prefill.in_flight == 1 and d.decode.in_flight == 1
    d.finish(200)
    assert d.prefill.in_flight == 0 and d.decode.in_flight == 0


def test_pd_mode_does_not_route_regular_workers():
    r = smgcore.Router(pd_mode=True)
    r.add_worker("http://regular:1")
    with pytest.raises(smgcore.NotFound):
        r.select(text="x")


def test_seeded_routers_are_deterministic():
    def picks(seed):
        r = smgcore.Router("random", seed=seed)
        for url in urls(8):
            r.add_worker(url)
        return [r.select().worker.url for _ in range(32)]

    assert picks(11) == picks(11)
    assert picks(11) != picks(12)
