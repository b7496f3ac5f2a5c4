"""select()'s arguments: text as str or bytes, tokens as a list or a uint32 buffer, keys, headers."""

import array
import inspect

import pytest

import smgcore
from conftest import urls


def cache_router(n=4, **policy_options):
    r = smgcore.Router(smgcore.Policy("cache_aware", **policy_options), seed=9)
    for url in urls(n):
        r.add_worker(url)
    return r


def test_select_signature_is_introspectable():
    sig = inspect.signature(smgcore.Router.select)
    assert list(sig.parameters) == [
        "self", "text", "tokens", "model", "routing_key", "headers", "tenant", "estimated_tokens", "exclude_workers",
    ]
    assert all(p.kind is p.KEYWORD_ONLY for name, p in sig.parameters.items() if name != "self")
    assert "Chooses the worker(s)" in smgcore.Router.select.__doc__


def test_str_and_bytes_prompts_are_the_same_bytes():
    r = cache_router()
    prompt = "Résumé: naïve café, 東京, emoji 🚀. " * 40
    first = r.select(text=prompt)
    first.finish()
    # The prompt is now cached on that worker: the same bytes, as str or
    # UTF-8 bytes, go there again.
    for again in (prompt, prompt.encode("utf-8"), prompt + " more"):
        with r.select(text=again) as d:
            assert d.worker == first.worker
    stats = r.model_stats("default")["policy"]["regular"]
    assert stats["cache_hits"] == 3 and stats["tree_units"] > 0


def test_invalid_utf8_bytes_are_routed_as_bytes():
    r = cache_router()
    blob = b"\xff\xfe\x00binary\xc3(" * 100
    first = r.select(text=blob)
    first.finish()
    assert r.select(text=blob).worker == first.worker


def test_unencodable_str_is_invalid_argument():
    r = cache_router()
    with pytest.raises(smgcore.InvalidArgument, match="not valid Unicode") as e:
        r.select(text="lone surrogate \udcff")
    assert isinstance(e.value, ValueError)
    with pytest.raises(smgcore.InvalidArgument):
        r.select(text="ok", routing_key="\ud800")
    with pytest.raises(smgcore.InvalidArgument):
        r.select(model="\udfff")


def test_empty_and_missing_prompts_route():
    r = cache_router()
    for kwargs in ({}, {"text": ""}, {"text": b""}, {"tokens": []}, {"tokens": array.array("I")}):
        with r.select(**kwargs) as d:
            assert d.worker.url in urls(4)


def test_tokens_as_list_tuple_range_generator_and_array():
    r = cache_router(token_page_size=4)
    ids = list(range(1000, 1256))
    first = r.select(tokens=ids)
    first.finish()
    for again in (tuple(ids), range(1000, 1256), (t for t in ids), array.array("I", ids), ids + [7, 8, 9, 10]):
        with r.select(tokens=again) as d:
            assert d.worker == first.worker
    assert r.model_stats("default")["policy"]["regular"]["tree_units"] >= 256


def test_tokens_buffer_is_borrowed_and_unlocked_after_the_call():
    r = cache_router()
    buf = array.array("I", range(64))
    r.select(tokens=buf).finish()
    buf.append(1)  # a buffer still exported would refuse to resize
    assert len(buf) == 65
    r.select(tokens=memoryview(buf)).finish()
    r.select(tokens=memoryview(buf)[::1]).finish()


@pytest.mark.parametrize(
    "tokens, error, match",
    [
        ([1, 2, -1], smgcore.InvalidArgument, r"tokens\[2\] = -1 is not a token id"),
        ([2**32], smgcore.InvalidArgument, r"tokens\[0\]"),
        ([10**40], smgcore.InvalidArgument, r"tokens\[0\]"),
        ([1, 2.0], TypeError, r"tokens\[1\] must be an int"),
        ([1, "2"], TypeError, r"tokens\[1\]"),
        ("hello", TypeError, "pass a prompt as text="),
        (b"hello", TypeError, "pass a prompt as text="),
        (bytearray(b"hi"), TypeError, "pass a prompt as text="),
        (42, TypeError, "tokens must be"),
        (array.array("i", [1, 2]), smgcore.InvalidArgument, "4-byte unsigned"),
        (array.array("H", [1, 2]), smgcore.InvalidArgument, "4-byte unsigned"),
        (array.array("Q", [1, 2]), smgcore.InvalidArgument, "4-byte unsigned"),
        (array.array("f", [1, 2]), smgcore.InvalidArgument, "4-byte unsigned"),
        (memoryview(bytes(8)), smgcore.InvalidArgument, "4-byte unsigned"),
        (memoryview(array.array("I", range(8)))[::2], BufferError, ""),
    ],
)
def test_bad_tokens_raise_clearly(tokens, error, match):
    r = cache_router()
    with pytest.raises(error, match=match):
        r.select(tokens=tokens)
    # Nothing leaked: the router is unaffected.
    assert all(w.in_flight == 0 for w in r.list_workers())


def test_huge_token_list_is_routed():
    r = cache_router()
    big = array.array("I", range(200_000))
    with r.select(tokens=big) as d:
        assert d.worker.in_flight == 1
    with r.select(tokens=list(range(50_000))) as d:
        pass


def test_long_text_prompt_takes_the_gil_free_path():
    # Above the GIL-release threshold (request.h): same result as below it.
    r = cache_router()
    long_prompt = "x" * (64 * 1024)
    first = r.select(text=long_prompt)
    first.finish()
    assert r.select(text=long_prompt).worker == first.worker
    tokens = array.array("I", range(10_000))
    first = r.select(tokens=tokens)
    first.finish()
    assert r.select(tokens=tokens).worker == first.worker


def test_routing_key_and_headers_feed_consistent_hash():
    r = smgcore.Router("consistent_hash", seed=1)
    for url in urls(8):
        r.add_worker(url)

    def target(**kwargs):
        with r.select(**kwargs) as d:
            return d.worker.url

    by_key = target(routing_key="session-1")
    assert all(target(routing_key="session-1") == by_key for _ in range(10))
    assert target(routing_key=b"session-1") == by_key
    assert target(headers={"X-SMG-Routing-Key": "session-1"}) == by_key
    assert target(headers=[("x-smg-routing-key", "session-1")]) == by_key
    assert target(headers=[(b"x-smg-routing-key", b"session-1")]) == by_key
    # An explicit key takes precedence over headers.
    assert target(routing_key="session-1", headers={"x-smg-routing-key": "other"}) == by_key
    # Implicit keys: authorization.
    auth = target(headers={"authorization": "Bearer abc"})
    assert all(target(headers={"Authorization": "Bearer abc"}) == auth for _ in range(5))
    distinct = {target(routing_key=f"user-{i}") for i in range(64)}
    assert len(distinct) > 4


@pytest.mark.parametrize(
    "headers",
    [
        "x-smg-routing-key: a",
        [("only-a-name",)],
        [("a", "b", "c")],
        [("a", 1)],
        {1: "a"},
        [42],
    ],
)
def test_bad_headers_are_type_errors(router, headers):
    with pytest.raises(TypeError):
        router.select(headers=headers)


def test_exclude_workers(router):
    ws = router.list_workers()
    for _ in range(10):
        with router.select(exclude_workers=[ws[0], ws[1].id]) as d:
            assert d.worker == ws[2]
    # Excluding everyone is ignored rather than failing the request.
    with router.select(exclude_workers=ws) as d:
        assert d.worker in ws
    with pytest.raises(TypeError):
        router.select(exclude_workers=["http://10.0.0.0:30000"])
    with pytest.raises(TypeError):
        router.select(exclude_workers=5)
    with pytest.raises(smgcore.InvalidArgument):
        router.select(exclude_workers=[-1])


def test_model_selection_and_errors():
    r = smgcore.Router()
    r.add_worker("http://a:1", model="llama")
    assert r.select(model="llama").worker.model == "llama"
    with pytest.raises(smgcore.NotFound, match='no worker registered for model "mistral"') as e:
        r.select(model="mistral")
    assert isinstance(e.value, LookupError)
    with pytest.raises(smgcore.NotFound):
        r.select()  # the default model has no worker


def test_unavailable_names_the_reason():
    r = smgcore.Router()
    w = r.add_worker("http://a:1")
    r.drain_worker(w)
    with pytest.raises(smgcore.Unavailable, match="draining") as e:
        r.select()
    assert e.value.code == "UNAVAILABLE"


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("prompt",), {}, "keyword arguments only"),
        ((), {"prompt": "x"}, "unexpected keyword argument 'prompt'"),
        ((), {"text": 5}, "text must be str or bytes"),
        ((), {"text": bytearray(b"x")}, "text must be str or bytes"),
        ((), {"model": b"m"}, "model must be str"),
        ((), {"routing_key": 1}, "routing_key must be str or bytes"),
        ((), {"tenant": 1}, "tenant must be str"),
        ((), {"estimated_tokens": 1.5}, "estimated_tokens must be int"),
    ],
)
def test_bad_select_arguments_are_type_errors(router, args, kwargs, match):
    with pytest.raises(TypeError, match=match):
        router.select(*args, **kwargs)


def test_estimated_tokens_range(router):
    with pytest.raises(smgcore.InvalidArgument, match="estimated_tokens"):
        router.select(estimated_tokens=-1)
    with pytest.raises(smgcore.InvalidArgument, match="estimated_tokens"):
        router.select(estimated_tokens=2**64)
    router.select(estimated_tokens=2**64 - 1).finish()


def test_none_means_not_given(router):
    with router.select(
        text=None, tokens=None, model=None, routing_key=None, headers=None, tenant=None, exclude_workers=None
    ) as d:
        assert d.worker in router.list_workers()


def test_non_interned_keyword_names_work(router):
    name = "".join(["te", "xt"])  # built at run time: not the interned constant
    with router.select(**{name: "hello"}) as d:
        assert d.worker in router.list_workers()
