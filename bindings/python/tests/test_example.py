"""examples/python/dstack_replicas.py runs, keeps the workers in sync and routes correctly."""

import os
import re
import subprocess
import sys


def run_example(source_dir, *args):
    script = source_dir / "examples" / "python" / "dstack_replicas.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def test_replica_example(source_dir):
    result = run_example(source_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "update 1: added ['http://10.0.0.10:30000', 'http://10.0.0.11:30000', 'http://10.0.0.20:30000', 'http://10.0.0.21:30000'] removed []" in out
    assert "update 2: added ['http://10.0.0.12:30000', 'http://10.0.0.22:30000'] removed ['http://10.0.0.11:30000']" in out
    assert "update 3: added [] removed []" in out
    after_update_2 = out.split("-- after update 2")[1].split("update 3")[0]
    assert "10.0.0.11" not in after_update_2
    decisions = re.findall(r"req +\d+: prefill (\S+) decode (\S+) bootstrap (\S+) room (\d+)", out)
    assert len(decisions) == 12
    for prefill, decode, bootstrap, room in decisions:
        assert prefill.startswith("http://10.0.0.1") and decode.startswith("http://10.0.0.2")
        host, port = bootstrap.rsplit(":", 1)
        assert prefill == f"http://{host}:30000"
        assert port in ("8998", "8999")
        assert 0 <= int(room) < 2**63
    # Registered types and ports as read from /server_info.
    assert re.search(r"prefill http://10.0.0.10:30000 bootstrap_port=8998", out)
    assert re.search(r"prefill http://10.0.0.12:30000 bootstrap_port=8998", out)
    assert re.search(r"decode +http://10.0.0.22:30000 served=", out)
    # Every decision finished on its workers: decode workers were never
    # removed, the removed prefill worker took its decisions with it.
    on_removed = sum(1 for prefill, *_ in decisions if prefill == "http://10.0.0.11:30000")
    assert f"served by type: {{'decode': 12, 'prefill': {12 - on_removed}}}" in out
    assert "in_flight=0" in out and "in_flight=1" not in out


def test_replica_example_is_deterministic(source_dir):
    first = run_example(source_dir, "--seed", "3", "--requests", "4")
    second = run_example(source_dir, "--seed", "3", "--requests", "4")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_replica_example_rejects_bad_arguments(source_dir):
    result = run_example(source_dir, "--prefill-policy", "nonsense")
    assert result.returncode != 0
    assert "unknown policy" in result.stderr
