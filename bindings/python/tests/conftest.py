"""Shared fixtures of the smgcore Python tests.

CTest runs each test_*.py with PYTHONPATH pointing at the build tree's
package (bindings/python/CMakeLists.txt). SMGCORE_PACKAGE_DIR, set there
too, pins which smgcore must be imported: a stale installed copy earlier on
sys.path would otherwise test the wrong module.
"""

import os
import pathlib

import pytest

import smgcore


def pytest_configure(config):
    expected = os.environ.get("SMGCORE_PACKAGE_DIR")
    if expected:
        actual = pathlib.Path(smgcore.__file__).resolve().parent
        if actual != pathlib.Path(expected).resolve():
            raise pytest.UsageError(f"imported smgcore from {actual}, expected {expected}")


def urls(n, port=30000):
    """`n` distinct worker URLs."""
    return [f"http://10.0.{i // 256}.{i % 256}:{port}" for i in range(n)]


@pytest.fixture
def clock():
    return smgcore.ManualClock()


@pytest.fixture
def router():
    """A round-robin router with three regular workers."""
    r = smgcore.Router("round_robin", seed=1)
    for url in urls(3):
        r.add_worker(url)
    return r


@pytest.fixture
def pd_router():
    """A PD router: two prefill workers (one with a bootstrap port) and two decode workers."""
    r = smgcore.Router(pd_mode=True, prefill_policy="cache_aware", decode_policy="round_robin", seed=2)
    r.add_worker("http://10.1.0.1:30000", type="prefill", bootstrap_port=8998)
    r.add_worker("http://10.1.0.2:30000", type="prefill")
    r.add_worker("http://10.2.0.1:30000", type="decode")
    r.add_worker("http://10.2.0.2:30000", type="decode")
    return r


@pytest.fixture
def source_dir():
    return pathlib.Path(os.environ.get("SMGCORE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
