"""CLIENT NO-TOUCH (Redis 7.2): a no-touch client's commands leave the access time (OBJECT
IDLETIME) and the LFU counter (OBJECT FREQ) of their keys alone, except TOUCH.

Redis 7.0 has no CLIENT NO-TOUCH, so these are not differential; the rule is Redis 7.2's
lookupKey (the top-level command of a no-touch client never touches, unless it is TOUCH).
"""

from __future__ import annotations

import time

import pytest
import redis


@pytest.fixture
def no_touch(server, r):
    """A second connection with CLIENT NO-TOUCH ON (``r`` is an ordinary one)."""
    client = redis.Redis(port=server.port, protocol=2)
    assert client.execute_command("CLIENT", "NO-TOUCH", "ON") == b"OK"
    yield client
    client.close()


def _idle(r, *keys: str) -> dict[str, int]:
    return {key: r.object("idletime", key) for key in keys}


def test_access_time_kept_except_by_touch(r, no_touch):
    keys = ["get", "touch", "script", "script-touch", "exec", "exec-touch", "list", "renamed",
            "overwritten", "off", "reset", "plain"]
    r.mset({key: "v" for key in keys if key != "list"})
    r.rpush("list", "a")
    time.sleep(1.1)  # idle times have a resolution of one second

    no_touch.get("get")
    no_touch.execute_command("TOUCH", "touch")
    no_touch.eval("return redis.call('get', KEYS[1])", 1, "script")
    # In a script the top-level command is EVAL, not TOUCH: nothing is touched.
    no_touch.eval("return redis.call('touch', KEYS[1])", 1, "script-touch")
    with no_touch.pipeline(transaction=True) as pipe:
        pipe.get("exec")
        pipe.execute_command("TOUCH", "exec-touch")
        pipe.execute()
    no_touch.lpush("list", "b")  # changed in place: the value keeps its time
    no_touch.rename("renamed", "renamed-to")  # moved: the value keeps its time
    no_touch.set("overwritten", "new value")  # a new value is new
    idle = _idle(r, "get", "touch", "script", "script-touch", "exec", "exec-touch", "list",
                 "renamed-to", "overwritten", "plain")
    assert idle["touch"] == idle["exec-touch"] == idle["overwritten"] == 0, idle
    for key in ("get", "script", "script-touch", "exec", "list", "renamed-to", "plain"):
        assert idle[key] >= 1, idle
    assert no_touch.get("get") == b"v"  # the reply is as ever

    # OFF: back to normal.
    assert no_touch.execute_command("CLIENT", "NO-TOUCH", "OFF") == b"OK"
    no_touch.get("off")
    # RESET clears it too (Redis 7.2's clearClientConnectionState).
    no_touch.execute_command("CLIENT", "NO-TOUCH", "ON")
    assert no_touch.execute_command("RESET") == "RESET"
    no_touch.get("reset")
    assert "T" not in no_touch.client_info()["flags"]
    assert _idle(r, "off", "reset") == {"off": 0, "reset": 0}


def test_object_idletime_itself_does_not_touch(r, no_touch):
    r.set("k", "v")
    r.object("idletime", "k")
    no_touch.object("idletime", "k")
    no_touch.execute_command("OBJECT", "ENCODING", "k")
    assert no_touch.type("k") == b"string"


@pytest.fixture
def lfu(r):
    """allkeys-lfu with a log factor of 0, so every counted access adds one to the counter."""
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)
    try:
        yield r
    finally:
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("lfu-log-factor", 10)


def test_lfu_counter_not_bumped(lfu, no_touch):
    r = lfu
    r.mset({"k": "v", "w": "v"})
    start = r.object("freq", "k")
    assert start == 5  # LFU_INIT_VAL
    for _ in range(3):
        no_touch.get("k")
    no_touch.eval("return redis.call('get', KEYS[1])", 1, "k")
    assert r.object("freq", "k") == start
    # An overwrite keeps the counter (Redis copies it to the new value) without counting.
    no_touch.set("w", "new value")
    assert r.object("freq", "w") == start
    no_touch.execute_command("TOUCH", "k")
    assert r.object("freq", "k") == start + 1
    r.get("k")
    assert r.object("freq", "k") == start + 2
    no_touch.execute_command("CLIENT", "NO-TOUCH", "OFF")
    no_touch.get("k")
    assert r.object("freq", "k") == start + 3


def test_no_touch_client_takes_the_gate_only_while_on(server, no_touch):
    from vermilion.testing import run_in_server

    def gated_flags():
        return sorted(client.gated for client in server.clients.values() if client.no_touch)

    assert run_in_server(server, gated_flags) == [True]
    no_touch.execute_command("CLIENT", "NO-TOUCH", "OFF")
    assert run_in_server(server, gated_flags) == []
