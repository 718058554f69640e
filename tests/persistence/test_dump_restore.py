"""DUMP and RESTORE against real Redis: identical payloads, each other's payloads restore, and
every error and option behaves as Redis 7.0's."""

from __future__ import annotations

import time

import pytest
import redis

from tests.persistence import dataset
from vermilion.persistence.rdb import dump_payload


@pytest.fixture
def pair(server, oracle_port, r):
    real = redis.Redis(port=oracle_port, protocol=2)
    real.flushall()
    yield r, real
    real.flushall()
    real.close()


def test_dump_is_byte_identical_and_cross_restores(pair):
    ours, real = pair
    dataset.build(ours)
    dataset.build(real)
    for db, keys in dataset.keys_by_db(real).items():
        ours.select(db)
        real.select(db)
        for key in keys:
            encoding = real.object("encoding", key)
            theirs_payload = real.dump(key)
            our_payload = ours.dump(key)
            if encoding not in dataset.UNORDERED_ENCODINGS and key not in dataset.TIME_DEPENDENT:
                assert our_payload == theirs_payload, key
            # Each server restores the other's payload to the same value and encoding.
            assert ours.restore(b"copy:" + key, 0, theirs_payload) == b"OK"
            assert real.restore(b"copy:" + key, 0, our_payload) == b"OK"
            # (a restored short string is embstr, whatever the original was)
            restored = real.object("encoding", b"copy:" + key)
            assert ours.object("encoding", b"copy:" + key) == restored, key
            if key in dataset.TIME_DEPENDENT:
                # A copy serialises as the payload it was restored from.
                assert ours.dump(b"copy:" + key) == theirs_payload
                assert real.dump(b"copy:" + key) == our_payload
                assert ours.xinfo_stream(b"copy:" + key, full=True) == real.xinfo_stream(key, full=True)
            else:
                assert dataset.contents(ours, b"copy:" + key) == dataset.contents(real, b"copy:" + key)
    ours.select(0)
    real.select(0)


def test_dump_of_missing_key(diff):
    diff.check("DUMP", "nosuchkey")


def test_restore_errors_match_redis(diff):
    diff.check("SET", "src", "value")
    payload = diff.theirs.call("DUMP", "src")
    raw = payload.split(b"\r\n", 1)[1][:-2]
    bad_crc = raw[:-1] + bytes([raw[-1] ^ 1])
    future = raw[:-10] + b"\x0b\x00" + raw[-8:]
    cases = [
        ("RESTORE", "src", "0", raw),
        ("RESTORE", "new", "-1", raw),
        ("RESTORE", "new", "abc", raw),
        ("RESTORE", "new", "0", bad_crc),
        ("RESTORE", "new", "0", future),
        ("RESTORE", "new", "0", b"short"),
        ("RESTORE", "new", "0", raw, "BOGUS"),
        ("RESTORE", "new", "0", raw, "IDLETIME"),
        ("RESTORE", "new", "0", raw, "IDLETIME", "-1"),
        ("RESTORE", "new", "0", raw, "IDLETIME", "x"),
        ("RESTORE", "new", "0", raw, "FREQ", "256"),
        ("RESTORE", "new", "0", raw, "FREQ", "-1"),
        ("RESTORE", "new", "0", raw, "FREQ", "1", "IDLETIME", "1"),
        ("RESTORE", "new", "0", raw, "IDLETIME", "1", "FREQ", "1"),
        ("RESTORE", "src", "abc", raw),
        ("RESTORE", "new", "0"),
        ("RESTORE", "new", "0", b"\x00\x03abc\x0a\x00" + bytes(8)),
    ]
    for case in cases:
        diff.check(*case)
    diff.check("EXISTS", "new")


def test_restore_bad_data_format(diff):
    from vermilion.persistence.crc64 import crc64_bytes

    for body in (b"\x00\x05ab", b"\x30abc", b"\x0e\x01\x03\xff", b"\x02\x00"):
        payload = body + b"\x0a\x00"
        payload += crc64_bytes(payload)
        diff.check("RESTORE", "k", "0", payload)
    diff.check("EXISTS", "k")


def test_restore_options(diff):
    diff.check("RPUSH", "src", "a", "b")
    raw = diff.theirs.call("DUMP", "src").split(b"\r\n", 1)[1][:-2]
    diff.check("RESTORE", "a", "0", raw, "REPLACE", "ABSTTL", "IDLETIME", "100")
    diff.check("LRANGE", "a", "0", "-1")
    diff.check("RESTORE", "a", "0", raw, "replace")
    diff.check("RESTORE", "b", "100000", raw)
    diff.check_type("PTTL", "b")
    diff.check("RESTORE", "c", str(int(time.time() * 1000) + 100000), raw, "ABSTTL")
    diff.check_type("PTTL", "c")
    # An absolute time in the past: OK, but nothing is created; with REPLACE the old key goes.
    diff.check("RESTORE", "d", "1", raw, "ABSTTL")
    diff.check("EXISTS", "d")
    diff.check("RESTORE", "a", "1", raw, "ABSTTL", "REPLACE")
    diff.check("EXISTS", "a")
    diff.check("RESTORE", "e", "0", raw, "IDLETIME", "1000")
    diff.check("OBJECT", "IDLETIME", "e")
    diff.check("RESTORE", "f", "0", raw, "FREQ", "100")
    diff.check("TYPE", "f")


def test_restore_fires_keyspace_event(r, server):
    r.config_set("notify-keyspace-events", "KEA")
    try:
        r.set("src", "v")
        payload = r.dump("src")
        pubsub = r.pubsub()
        pubsub.psubscribe("__key*__:*")
        pubsub.get_message(timeout=1)
        r.restore("dst", 0, payload)
        events = []
        deadline = time.time() + 2
        while time.time() < deadline and len(events) < 2:
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "pmessage":
                events.append((message["channel"], message["data"]))
        assert (b"__keyspace@0__:dst", b"restore") in events
        assert (b"__keyevent@0__:restore", b"dst") in events
        pubsub.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_dump_honours_rdbcompression(pair):
    ours, real = pair
    for client in (ours, real):
        client.config_set("rdbcompression", "no")
        client.set("long", "z" * 300)
    try:
        assert ours.dump("long") == real.dump("long")
        assert b"z" * 300 in ours.dump("long")
    finally:
        for client in (ours, real):
            client.config_set("rdbcompression", "yes")


def test_payload_layout():
    payload = dump_payload(b"bar")
    assert payload[:5] == b"\x00\x03bar"
    assert payload[5:7] == b"\x0a\x00"
    assert len(payload) == 15


@pytest.mark.parametrize("compression", ["yes", "no"])
def test_compressed_quicklist_nodes(pair, compression):
    """Inner nodes of a list with list-compress-depth are saved LZF-compressed, as Redis holds
    them, even with rdbcompression off."""
    ours, real = pair
    settings = {"list-compress-depth": 1, "rdbcompression": compression, "list-max-listpack-size": 4}
    defaults = {"list-compress-depth": 0, "rdbcompression": "yes", "list-max-listpack-size": -2}
    try:
        for client in (ours, real):
            for name, value in settings.items():
                client.config_set(name, value)
            client.rpush("text", *[("item%d" % i) * 5 for i in range(20)])
            client.rpush("repeats", *["ab" * 30 for _ in range(20)])
            client.rpush("short", *["s%d" % i for i in range(20)])
        for key in ("text", "repeats", "short"):
            assert ours.dump(key) == real.dump(key), key
    finally:
        for client in (ours, real):
            for name, value in defaults.items():
                client.config_set(name, value)


def test_freq_and_idletime_under_lfu_and_lru(pair):
    ours, real = pair
    try:
        for client in (ours, real):
            client.config_set("maxmemory-policy", "allkeys-lfu")
            client.set("src", "v")
            payload = client.dump("src")
            client.restore("hot", 0, payload, frequency=100)
            client.restore("idle", 0, payload, idletime=50)
        for key in ("hot", "idle"):
            assert ours.object("freq", key) == real.object("freq", key), key
        for client in (ours, real):
            client.config_set("maxmemory-policy", "allkeys-lru")
            client.restore("idle2", 0, client.dump("src"), idletime=50)
            client.restore("hot2", 0, client.dump("src"), frequency=100)
        # (a second boundary may pass between the two servers' clocks)
        assert 50 <= ours.object("idletime", "idle2") <= 51
        assert 50 <= real.object("idletime", "idle2") <= 51
        assert ours.object("idletime", "hot2") <= 1 and real.object("idletime", "hot2") <= 1
    finally:
        for client in (ours, real):
            client.config_set("maxmemory-policy", "noeviction")


def test_plain_quicklist_nodes_restore(pair):
    """Redis keeps elements over its packed threshold in plain nodes (container 1)."""
    ours, real = pair
    real.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
    try:
        real.rpush("list", "a", "b" * 200, "c")
        payload = real.dump("list")
        # three nodes; after the first listpack's end byte comes a plain container (1)
        assert payload[1:3] == b"\x03\x02" and b"\xff\x01\xc3" in payload
        ours.restore("list", 0, payload)
        assert ours.lrange("list", 0, -1) == real.lrange("list", 0, -1)
    finally:
        real.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", str(1 << 30))
