"""Streams over real TCP connections: a consumer group surviving a failed consumer, and blocked
XREAD / XREADGROUP clients woken by other clients' writes, compared with real Redis 7.0."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from tests.resp_raw import RawConnection, encode_command
from vermilion.testing import flush_all

ENTRIES = 300


@pytest.fixture(params=["vermilion", "redis"])
def port(request, server):
    """The scenario runs against both servers: real Redis shows the expectations are Redis's."""
    if request.param == "vermilion":
        flush_all(server)
        return server.port
    oracle = request.getfixturevalue("oracle_port")
    redis.Redis(port=oracle).flushall()
    return oracle


def _consume(port: int, name: str, seen: dict, acked: set, stop: threading.Event,
             fail_after: int | None) -> None:
    client = redis.Redis(port=port)
    handled = 0
    try:
        while not stop.is_set():
            reply = client.xreadgroup("workers", name, {"jobs": ">"}, count=5, block=100)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    seen.setdefault(entry_id, []).append((name, fields[b"n"]))
                for entry_id, _fields in entries:
                    if fail_after is not None and handled >= fail_after:
                        return  # crashes holding the rest of its batch unacknowledged
                    client.xack("jobs", "workers", entry_id)
                    acked.add(entry_id)
                    handled += 1
    finally:
        client.close()


def test_three_consumers_one_fails_and_autoclaim_recovers(port):
    admin = redis.Redis(port=port)
    admin.xgroup_create("jobs", "workers", id="$", mkstream=True)
    seen: dict[bytes, list] = {}
    acked: set[bytes] = set()
    stop = threading.Event()
    workers = [
        threading.Thread(target=_consume, args=(port, name, seen, acked, stop, fail_after))
        for name, fail_after in (("alice", None), ("bob", 8), ("carol", None))
    ]
    for worker in workers:
        worker.start()
    producer = redis.Redis(port=port)
    added = [producer.xadd("jobs", {"n": str(i)}) for i in range(ENTRIES)]
    deadline = time.time() + 20
    while time.time() < deadline:
        info = admin.xinfo_groups("jobs")[0]
        if info["entries-read"] == ENTRIES and info["lag"] == 0:
            break
        time.sleep(0.05)
    stop.set()
    for worker in workers:
        worker.join(10)

    # Bob died holding entries: they stay pending, owned by bob, until claimed.
    pending = admin.xpending("jobs", "workers")
    bob_held = {entry_id for entry_id, owners in seen.items() if owners[-1][0] == "bob"} - acked
    assert pending["pending"] == len(bob_held) >= 1
    assert {c["name"]: c["pending"] for c in pending["consumers"]} == {b"bob": len(bob_held)}

    time.sleep(0.05)
    cursor, recovered = "0-0", []
    while True:
        cursor, claimed, deleted = admin.xautoclaim("jobs", "workers", "rescuer", 20, cursor, count=2)
        assert deleted == []
        for entry_id, fields in claimed:
            seen[entry_id].append(("rescuer", fields[b"n"]))
            recovered.append(entry_id)
            admin.xack("jobs", "workers", entry_id)
        if cursor in (b"0-0", "0-0"):
            break
    assert set(recovered) == bob_held

    # Nothing lost; only bob's unacknowledged entries were delivered twice, each to the rescuer.
    assert set(seen) == set(added)
    for entry_id, owners in seen.items():
        values = {value for _name, value in owners}
        assert len(values) == 1
        if entry_id in bob_held:
            assert [name for name, _ in owners] == ["bob", "rescuer"]
        else:
            assert len(owners) == 1 and owners[0][0] in ("alice", "bob", "carol")
    assert admin.xpending("jobs", "workers")["pending"] == 0
    group = admin.xinfo_groups("jobs")[0]
    assert group["entries-read"] == ENTRIES and group["lag"] == 0
    consumers = {c["name"]: c["pending"] for c in admin.xinfo_consumers("jobs", "workers")}
    assert consumers == {b"alice": 0, b"bob": 0, b"carol": 0, b"rescuer": 0}
    producer.close()
    admin.close()


def test_blocked_consumers_get_distinct_entries(port):
    admin = redis.Redis(port=port)
    admin.xgroup_create("q", "g", id="$", mkstream=True)
    results: dict[str, object] = {}

    def wait(name: str) -> None:
        client = redis.Redis(port=port)
        results[name] = client.xreadgroup("g", name, {"q": ">"}, count=1, block=5000)
        client.close()

    threads = [threading.Thread(target=wait, args=(f"c{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 5
    while admin.info("clients")["blocked_clients"] < 3 and time.time() < deadline:
        time.sleep(0.01)
    ids = [admin.xadd("q", {"n": str(i)}, id=f"{i + 1}-0") for i in range(3)]
    for thread in threads:
        thread.join(10)
    delivered = sorted(reply[0][1][0][0] for reply in results.values())
    assert delivered == sorted(ids)
    assert admin.xpending("q", "g")["pending"] == 3
    admin.close()


# -- blocked clients, step by step, against real Redis --------------------------------------------


def _run(port: int, steps: list[tuple]) -> list[tuple[int, bytes]]:
    """Play ``steps`` on fresh connections: ("call", i, cmd) waits for the reply (("setup", i,
    cmd) too, without recording it), ("send", i, cmd) does not, ("read", i) collects a pending
    reply, ("idle", i) checks nothing arrived."""
    conns = [RawConnection(port) for _ in range(4)]
    conns[0].call("FLUSHALL")
    out = []
    try:
        for kind, index, *rest in steps:
            conn = conns[index]
            if kind == "call":
                out.append((index, conn.call(*rest[0])))
            elif kind == "setup":
                conn.call(*rest[0])
            elif kind == "send":
                conn.send_raw(encode_command(tuple(rest[0])))
            elif kind == "read":
                out.append((index, conn.read_reply()))
            else:
                conn.sock.settimeout(0.15)
                try:
                    out.append((index, b"UNEXPECTED " + conn.sock.recv(1 << 16)))
                except socket.timeout:
                    out.append((index, b"(nothing yet)"))
                conn.sock.settimeout(10)
    finally:
        for conn in conns:
            conn.close()
    return out


def _multi(index: int, *cmds) -> list[tuple]:
    return [("call", index, ["MULTI"]), *[("call", index, list(cmd)) for cmd in cmds],
            ("call", index, ["EXEC"])]


SCENARIOS = {
    "xread $ woken by xadd": [
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("idle", 1),
        ("call", 0, ["XADD", "s", "2-1", "b", "2"]),
        ("read", 1),
    ],
    "xread on a missing key, empty stream created first": [
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "s2", "$", "$"]),
        ("idle", 1),
        ("call", 0, ["XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"]),
        ("idle", 1),
        ("call", 0, ["XADD", "s2", "5-1", "b", "2"]),
        ("read", 1),
    ],
    "three group consumers served in turn": [
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("send", 1, ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("send", 2, ["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("send", 3, ["XREADGROUP", "GROUP", "g", "c3", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("idle", 3),
        ("call", 0, ["XINFO", "GROUPS", "s"]),
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("read", 1), ("idle", 2),
        ("call", 0, ["XADD", "s", "2-1", "a", "2"]),
        ("read", 2), ("idle", 3),
        ("call", 0, ["XADD", "s", "3-1", "a", "3"]),
        ("read", 3),
        ("call", 0, ["XPENDING", "s", "g"]),
        ("call", 0, ["XINFO", "GROUPS", "s"]),
    ],
    "one transaction wakes everyone fairly": [
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("send", 1, ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("send", 2, ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("send", 3, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("idle", 1),
        *_multi(0, ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "2-1", "a", "2"),
                ("XADD", "s", "3-1", "a", "3")),
        ("read", 1), ("read", 2), ("read", 3),
        ("call", 0, ["XPENDING", "s", "g"]),
    ],
    "deleting the key fails group readers only": [
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("send", 2, ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("send", 3, ["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("idle", 2),
        ("call", 0, ["DEL", "s"]),
        ("read", 2), ("read", 3), ("idle", 1),
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("read", 1),
    ],
    "overwritten by another type": [
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("send", 2, ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("idle", 2),
        ("call", 0, ["SET", "s", "x"]),
        ("read", 2),
    ],
    "group destroyed": [
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("send", 2, ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("idle", 2),
        ("call", 0, ["XGROUP", "DESTROY", "s", "g"]),
        ("read", 2),
    ],
    "moving the group back does not wake": [
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$"]),
        ("send", 2, ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("idle", 2),
        ("call", 0, ["XGROUP", "SETID", "s", "g", "0"]),
        ("call", 0, ["XACK", "s", "g", "1-1"]),
        ("idle", 2),
        ("call", 0, ["XADD", "s", "2-1", "a", "1"]),
        ("read", 2),
        ("call", 0, ["XINFO", "GROUPS", "s"]),
    ],
    "a future id waits for a bigger one": [
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "5-0"]),
        ("send", 2, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("idle", 1),
        ("call", 0, ["XADD", "s", "3-1", "a", "1"]),
        ("read", 2), ("idle", 1),
        ("call", 0, ["XADD", "s", "7-1", "a", "1"]),
        ("read", 1),
    ],
    "appended then deleted in one transaction": [
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("idle", 1),
        *_multi(0, ("XADD", "s", "3-1", "a", "1"), ("XDEL", "s", "3-1")),
        ("read", 1),
    ],
    "only appends wake readers": [
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("call", 0, ["XDEL", "s", "1-1"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "0"]),
        ("idle", 1),
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "0"]),
        ("call", 0, ["XSETID", "s", "9-9"]),
        ("call", 0, ["XTRIM", "s", "MAXLEN", "0"]),
        ("idle", 1),
        ("call", 0, ["XADD", "s", "10-1", "a", "1"]),
        ("read", 1),
    ],
    "timeouts and transactions": [
        ("call", 1, ["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]),
        ("call", 1, ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "s", ">"]),
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("call", 1, ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "s", ">"]),
        ("call", 1, ["XINFO", "CONSUMERS", "s", "g"]),
        ("call", 1, ["MULTI"]),
        ("call", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("call", 1, ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("call", 1, ["EXEC"]),
    ],
    "blocked reads default to 1000 entries": [
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ("idle", 1),
        *_multi(0, *[("XADD", "s", f"{i}-1", "a", "1") for i in range(2, 1300)]),
        ("read", 1),
    ],
    "resp3 and several keys": [
        ("setup", 1, ["HELLO", "3"]),
        ("call", 0, ["XGROUP", "CREATE", "x", "g", "$", "MKSTREAM"]),
        ("call", 0, ["XGROUP", "CREATE", "y", "g", "$", "MKSTREAM"]),
        ("send", 1, ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "x", "y", ">", ">"]),
        ("idle", 1),
        ("call", 0, ["XADD", "y", "1-1", "a", "1"]),
        ("read", 1),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "x", "y", "$", "$"]),
        ("idle", 1),
        *_multi(0, ("XADD", "y", "2-1", "a", "1"), ("XADD", "x", "2-1", "a", "1")),
        ("read", 1),
        ("send", 1, ["XREAD", "BLOCK", "30", "STREAMS", "x", "$"]),
        ("read", 1),
    ],
    "a key named twice waits for its first id": [
        ("call", 0, ["XADD", "s", "5-1", "a", "1"]),
        ("send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "s", "7-0", "5-1"]),
        ("idle", 1),
        ("call", 0, ["XADD", "s", "6-1", "a", "1"]),
        ("idle", 1),
        ("call", 0, ["XADD", "s", "8-1", "a", "1"]),
        ("read", 1),
    ],
    "a consumer deleted while blocked is recreated": [
        ("call", 0, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ("call", 0, ["XGROUP", "CREATECONSUMER", "s", "g", "c"]),
        ("send", 1, ["XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"]),
        ("idle", 1),
        ("call", 0, ["XGROUP", "DELCONSUMER", "s", "g", "c"]),
        ("call", 0, ["XADD", "s", "1-1", "a", "1"]),
        ("read", 1),
        ("call", 0, ["XINFO", "GROUPS", "s"]),
        ("call", 0, ["XPENDING", "s", "g"]),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_blocking_matches_redis(server, oracle_port, name):
    flush_all(server)
    steps = SCENARIOS[name]
    ours = _run(server.port, steps)
    theirs = _run(oracle_port, steps)
    assert ours == theirs


def test_blocked_serving_counts_changes_as_redis(server, oracle_port):
    """A served XREADGROUP adds a change only when it creates its consumer."""

    def changes(port: int) -> list[int]:
        flush_all(server)
        admin, reader = RawConnection(port), RawConnection(port)
        admin.call("FLUSHALL")
        admin.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")

        def dirty() -> int:
            for line in admin.call("INFO", "persistence").split(b"\r\n"):
                if line.startswith(b"rdb_changes_since_last_save:"):
                    return int(line.split(b":")[1])
            raise AssertionError

        out = []
        for noack in ([], ["NOACK"]):
            before = dirty()
            reader.send_raw(encode_command(("XREADGROUP", "GROUP", "g", "c", *noack, "BLOCK", "0",
                                            "STREAMS", "s", ">")))
            time.sleep(0.1)
            out.append(dirty() - before)
            admin.call("XADD", "s", "*", "a", "1")
            reader.read_reply()
            out.append(dirty() - before)
        admin.close()
        reader.close()
        return out

    assert changes(server.port) == changes(oracle_port)
