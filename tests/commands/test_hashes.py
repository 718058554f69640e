"""Hash commands, differential against real Redis 7.0 (exact reply bytes) unless noted.

A hash that Redis has converted to a hash table has no defined field order, so replies listing
its fields are compared as unordered collections; small (listpack) hashes keep insertion order
and are compared byte for byte.
"""

from __future__ import annotations

import re

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vermilion.testing import flush_all, run_in_server

FIXTURE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

LONG = "f" * 70  # longer than hash-max-listpack-value (64)


def redis_dirty(conn) -> int:
    info = conn.call("INFO", "persistence")
    for line in info.split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, server, *cmd) -> bytes:
    ours_before = run_in_server(server, lambda: server.dirty)
    theirs_before = redis_dirty(diff.theirs)
    reply = diff.check(*cmd)
    ours = run_in_server(server, lambda: server.dirty) - ours_before
    theirs = redis_dirty(diff.theirs) - theirs_before
    assert ours == theirs, f"{cmd!r}: dirty +{ours} here, +{theirs} in Redis"
    return reply


def parse(reply: bytes):
    reader = hiredis.Reader()
    reader.feed(reply)
    return reader.gets()


def pairs_of(reply: bytes) -> dict:
    flat = parse(reply)
    return dict(zip(flat[::2], flat[1::2]))


# -- the notes' session ------------------------------------------------------------------------


def test_user_profile_session(diff):
    diff.check("HSET", "user:123", "name", "John Doe", "age", "30", "email", "john@example.com")
    diff.check("HGET", "user:123", "name")
    diff.check("HGETALL", "user:123")
    diff.check("HSET", "user:123", "name", "Jane Doe", "email", "jane@example.com", "role", "admin")
    diff.check("HSET", "user:123", "email", "newemail@example.com")
    diff.check("HGETALL", "user:123")
    diff.run(
        """
        HSET key field value
        HGET key field
        HGETALL key
        HDEL key field
        HGETALL key
        EXISTS key
        SET plain x
        HGET plain field
        """
    )


# -- writes --------------------------------------------------------------------------------------


def test_hset_hmset_hsetnx(diff):
    diff.run(
        """
        HSET h a
        HSET h a 1 b
        HMSET h a 1 b
        HSET h a 1 b 2 a 3
        HGETALL h
        HMSET h c 4
        HSETNX h a 9
        HSETNX h d 9
        HSETNX nokey f v
        HGETALL h
        HGETALL nokey
        HLEN h
        """
    )


def test_binary_fields_and_values(diff):
    fields = [b"", b"\x00", b"a\r\nb", b"\xff", b"x" * 60]
    args = []
    for index, field in enumerate(fields):
        args += [field, b"v\x00%d\r\n" % index]
    diff.check("HSET", "bin", *args)
    diff.check("HGETALL", "bin")
    diff.check("HMGET", "bin", *fields, b"missing")
    for field in fields:
        diff.check("HGET", "bin", field)
        diff.check("HSTRLEN", "bin", field)
        diff.check("HEXISTS", "bin", field)
    diff.check("HDEL", "bin", b"\x00", b"")
    diff.check("HKEYS", "bin")
    diff.check("HVALS", "bin")


def test_hdel(diff):
    diff.run(
        """
        HDEL nokey a
        HSET h a 1 b 2 c 3
        HDEL h a zz a
        HDEL h zz
        HGETALL h
        HDEL h b c d
        EXISTS h
        """
    )


def test_hincrby(diff):
    diff.run(
        """
        HINCRBY h a 5
        HINCRBY h a -7
        HINCRBY h a abc
        HINCRBY h a 1.5
        HINCRBY h a 9223372036854775807
        HINCRBY h b 9223372036854775807
        HINCRBY h b 1
        HINCRBY h c -9223372036854775808
        HINCRBY h c -1
        HINCRBY h c 0
        HSET h s xyz sp " 1" z 007
        HINCRBY h s 1
        HINCRBY h sp 1
        HINCRBY h z 1
        HINCRBY nokey f abc
        EXISTS nokey
        HGETALL h
        """
    )


def test_hincrbyfloat(diff):
    diff.run(
        """
        HINCRBYFLOAT h a 1.5
        HINCRBYFLOAT h a 0.1
        HINCRBYFLOAT h a -1.6
        HINCRBYFLOAT h a abc
        HINCRBYFLOAT h a inf
        HINCRBYFLOAT h a -inf
        HINCRBYFLOAT h a nan
        HINCRBYFLOAT h a 1e
        HINCRBYFLOAT h n 1e308
        HINCRBYFLOAT h n 1e308
        HINCRBYFLOAT h n2 1.0e1
        HINCRBYFLOAT h n3 0x10
        HINCRBYFLOAT h n3 -16
        HINCRBYFLOAT h n4 5.0e-1
        HINCRBYFLOAT h n5 3
        HINCRBYFLOAT h n5 1e4000
        HSET h s xyz big 1e5000 infv inf num 10
        HINCRBYFLOAT h s 1
        HINCRBYFLOAT h big 1
        HINCRBYFLOAT h infv 1
        HINCRBYFLOAT h num 0.25
        HINCRBYFLOAT nokey f abc
        EXISTS nokey
        HGET h n
        HLEN h
        """
    )


# -- reads ---------------------------------------------------------------------------------------


def test_reads(diff):
    diff.run(
        """
        HGET nokey a
        HMGET nokey a b
        HLEN nokey
        HSTRLEN nokey a
        HEXISTS nokey a
        HKEYS nokey
        HVALS nokey
        HGETALL nokey
        HSET h a 1 b 22 c 333
        HGET h b
        HGET h zz
        HMGET h c zz a
        HSTRLEN h c
        HSTRLEN h zz
        HEXISTS h a
        HEXISTS h zz
        HKEYS h
        HVALS h
        HGETALL h
        """
    )


def test_reads_resp3(diff3):
    diff3.run(
        """
        HGETALL nokey
        HGET nokey a
        HMGET nokey a
        HRANDFIELD nokey
        HRANDFIELD nokey 2 WITHVALUES
        HSCAN nokey 0
        HSET h a 1 b 2
        HGETALL h
        HMGET h a zz
        HGET h zz
        HRANDFIELD h 5 WITHVALUES
        HRANDFIELD h 5
        HSCAN h 0
        """
    )


def test_wrongtype_everywhere(diff):
    diff.check("SET", "s", "x")
    for cmd in [
        ("HSET", "s", "a", "b"), ("HMSET", "s", "a", "b"), ("HSETNX", "s", "a", "b"),
        ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HLEN", "s"),
        ("HSTRLEN", "s", "a"), ("HEXISTS", "s", "a"), ("HKEYS", "s"), ("HVALS", "s"),
        ("HGETALL", "s"), ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"),
        ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "1"), ("HRANDFIELD", "s", "0"),
        ("HSCAN", "s", "0"), ("HSCAN", "s", "0", "COUNT", "0"), ("HINCRBY", "s", "a", "x"),
    ]:
        diff.check(*cmd)
    diff.check("RPUSH", "l", "a")
    diff.check("HGET", "l", "a")


# -- encodings -----------------------------------------------------------------------------------


def test_encoding_conversions(diff):
    diff.run(
        f"""
        HSET small a 1
        OBJECT ENCODING small
        HSET h2 a 1
        HINCRBYFLOAT h2 {LONG} 1
        OBJECT ENCODING h2
        HINCRBY h3 {LONG} 1
        OBJECT ENCODING h3
        HSET h4 a 1
        HINCRBYFLOAT h4 a 1e100
        OBJECT ENCODING h4
        HSET h5 a 1
        HSETNX h5 {LONG} 1
        OBJECT ENCODING h5
        HSET h6 a 1
        HSETNX h6 a {LONG}
        OBJECT ENCODING h6
        HMSET h7 a {LONG}
        OBJECT ENCODING h7
        HSET h8 {LONG} 1
        HDEL h8 {LONG}
        EXISTS h8
        """
    )


def test_encoding_thresholds_follow_config(diff):
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "hash-max-listpack-entries", "3")
        conn.call("CONFIG", "SET", "hash-max-listpack-value", "5")
    try:
        diff.run(
            """
            HSET h a 1 b 2 c 3
            OBJECT ENCODING h
            HSET h d 4
            OBJECT ENCODING h
            HDEL h a b c
            OBJECT ENCODING h
            HSET v a 12345
            OBJECT ENCODING v
            HSET v b 123456
            OBJECT ENCODING v
            COPY v w
            OBJECT ENCODING w
            """
        )
    finally:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", "hash-max-listpack-entries", "512")
            conn.call("CONFIG", "SET", "hash-max-listpack-value", "64")


def _debug_object(conn, key) -> str:
    text = conn.call("DEBUG", "OBJECT", key).decode()
    return re.sub(r"(Value at:\S+ )|( lru:\d+ lru_seconds_idle:\d+)", "", text)


@pytest.mark.parametrize("size", [1, 7, 120, 600])
def test_debug_object_sizes(diff, size):
    args = []
    for index in range(size):
        choices = [str(index * 37), "v" * (index % 60), "abcabcabcabcabcabcabcabc", str(-(2**63))]
        value = choices[index % 4]
        args += [f"field{index}", value]
    diff.check("HSET", "h", *args)
    assert _debug_object(diff.ours, "h") == _debug_object(diff.theirs, "h")


def test_big_hash_replies_as_collections(diff):
    args = []
    for index in range(600):
        args += [f"f{index}", f"v{index}"]
    diff.check("HSET", "big", *args)
    diff.check("OBJECT", "ENCODING", "big")
    ours, theirs = diff.both("HGETALL", "big")
    assert pairs_of(ours) == pairs_of(theirs)
    diff.check_unordered("HKEYS", "big")
    diff.check_unordered("HVALS", "big")
    diff.check("HLEN", "big")
    diff.check("HMGET", "big", "f1", "f599", "nope")


# -- HRANDFIELD ----------------------------------------------------------------------------------


def test_hrandfield_arguments(diff):
    diff.run(
        """
        HRANDFIELD nokey
        HRANDFIELD nokey 5
        HRANDFIELD nokey -5 WITHVALUES
        HRANDFIELD nokey 0
        HSET h a 1 b 2 c 3
        HRANDFIELD h 0
        HRANDFIELD h 0 WITHVALUES
        HRANDFIELD h abc
        HRANDFIELD h 1 foo
        HRANDFIELD h 1 withvalues foo
        HRANDFIELD h -9223372036854775808
        HRANDFIELD h -9223372036854775807 WITHVALUES
        HRANDFIELD h 9223372036854775807 WITHVALUES
        HRANDFIELD h 4611686018427387904 WITHVALUES
        HRANDFIELD h -4611686018427387904 WITHVALUES
        HRANDFIELD h 4611686018427387903
        HRANDFIELD h 3 WITHVALUES
        HRANDFIELD h 100
        HRANDFIELD h 100 withvalues
        HRANDFIELD nokey abc
        """
    )


@pytest.mark.parametrize("size", [5, 300, 1000])
def test_hrandfield_draws(r, r3, size):
    mapping = {f"f{i}".encode(): f"v{i}".encode() for i in range(size)}
    r.hset("h", mapping=mapping)
    fields = list(mapping)
    assert r.hrandfield("h") in mapping
    for count in (1, 2, 3, size - 1, size, size + 5):
        drawn = r.hrandfield("h", count)
        assert len(drawn) == min(count, size)
        assert len(set(drawn)) == len(drawn)
        assert set(drawn) <= set(mapping)
        if size <= 512 and count < size:
            # A listpack hash yields distinct picks in hash order, as Redis does.
            positions = [fields.index(f) for f in drawn]
            assert positions == sorted(positions)
    drawn = r.hrandfield("h", -(size * 3))
    assert len(drawn) == size * 3 and set(drawn) <= set(mapping)
    if size == 5:
        # 200 draws with repetition from 5 fields miss one with probability ~1e-19
        assert len(set(r.hrandfield("h", -200))) == 5
    flat = r.hrandfield("h", 4, withvalues=True)
    assert len(flat) == 8
    for field, value in zip(flat[::2], flat[1::2]):
        assert mapping[field] == value
    nested = r3.hrandfield("h", -3, withvalues=True)
    assert len(nested) == 3 and all(mapping[pair[0]] == pair[1] for pair in nested)


# -- HSCAN ---------------------------------------------------------------------------------------


def test_hscan_arguments(diff):
    diff.run(
        """
        HSCAN nokey 0
        HSCAN nokey 0 COUNT 0
        HSCAN nokey abc
        HSET h a 1 b 2 n1 3 n2 4
        HSCAN h abc
        HSCAN h 0 COUNT 0
        HSCAN h 0 COUNT -1
        HSCAN h 0 COUNT abc
        HSCAN h 0 MATCH
        HSCAN h 0 FOO bar
        HSCAN h 0 TYPE string
        HSCAN h 0
        HSCAN h 0 MATCH n*
        HSCAN h 0 match * count 1
        HSCAN h 17 MATCH n* COUNT 1
        HSCAN h 18446744073709551615
        HSCAN h 18446744073709551616
        HSCAN h -1
        HSCAN h +3
        HSCAN h " 1"
        """
    )
    diff.check("HSCAN", "h", "")


def _full_scan(r, key, **options) -> list[tuple[bytes, bytes]]:
    cursor, seen = 0, []
    while True:
        cursor, batch = r.hscan(key, cursor, **options)
        seen.extend(batch.items())
        if cursor == 0:
            return seen


def test_hscan_hash_table(r):
    mapping = {f"f{i}": i for i in range(1000)}
    r.hset("big", mapping=mapping)
    assert r.object("ENCODING", "big") == b"hashtable"
    first_cursor, first = r.hscan("big", 0, count=10)
    assert first_cursor != 0 and 5 <= len(first) <= 20
    seen = _full_scan(r, "big", count=37)
    assert {k.decode() for k, _ in seen} == set(mapping)
    matched = _full_scan(r, "big", match="f1*", count=50)
    assert {k.decode() for k, _ in matched} == {k for k in mapping if k.startswith("f1")}


def test_hscan_survives_changes(r):
    """Fields present for the whole scan are returned at least once, whatever changes."""
    r.hset("big", mapping={f"f{i}": i for i in range(2000)})
    stable = {f"f{i}".encode() for i in range(0, 2000, 2)}
    cursor, seen, step = 0, set(), 0
    while True:
        cursor, batch = r.hscan("big", cursor, count=25)
        seen.update(batch)
        step += 1
        # Delete odd fields (some not yet scanned) and add new ones while scanning.
        r.hdel("big", *[f"f{i}" for i in range(2 * step + 1, 2000, 98)])
        r.hset("big", f"new{step}", step)
        if cursor == 0:
            break
    assert stable <= seen


def test_small_hash_scan_is_one_call(diff):
    diff.check("HSET", "h", *[str(x) for i in range(100) for x in (f"f{i}", i)])
    diff.check("HSCAN", "h", "0", "COUNT", "1")
    diff.check("HSCAN", "h", "12345")


# -- changes counted and keyspace events -----------------------------------------------------


def test_dirty_counts(diff, server):
    for cmd in [
        ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"),
        ("HMSET", "h", "c", "3", "d", "4"),
        ("HSETNX", "h", "a", "9"), ("HSETNX", "h", "e", "9"), ("HSETNX", "new", "f", "v"),
        ("HDEL", "h", "a", "zz", "b"), ("HDEL", "h", "zz"), ("HINCRBY", "h", "n", "3"),
        ("HINCRBY", "h", "c", "x"), ("HINCRBYFLOAT", "h", "f", "1.5"),
        ("HINCRBYFLOAT", "h2", "f", "1"),
        ("HINCRBY", "h3", "f", "1"), ("HGET", "h", "c"), ("HGETALL", "h"),
        ("HDEL", "h", "c", "d", "e", "n", "f"), ("HDEL", "new", "f"),
    ]:
        check_dirty(diff, server, *cmd)


def test_keyspace_events(diff, server):
    from tests.resp_raw import RawConnection

    subscribers = [RawConnection(server.port), RawConnection(diff.theirs.sock.getpeername()[1])]
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEAn")
    try:
        for sub in subscribers:
            sub.call("PSUBSCRIBE", "__key*__:*")
        diff.run(
            """
            HSET h a 1 b 2
            HMSET h c 3
            HSETNX h a 1
            HSETNX h d 1
            HINCRBY h n 1
            HINCRBYFLOAT h f 1.5
            HDEL h zz
            HDEL h a b
            HDEL h c d n f
            HSET h2 x 1
            HDEL h2 x
            """
        )
        events = []
        for sub in subscribers:
            sub.send_raw(b"*1\r\n$4\r\nPING\r\n")
            received = []
            while not (reply := sub.read_reply()).startswith(b"*2\r\n$4\r\npong"):
                received.append(reply)
            events.append(received)
        assert events[0] == events[1]
        assert len(events[0]) > 20
    finally:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        for sub in subscribers:
            sub.close()


# -- random operation sequences against Redis ------------------------------------------------

_FIELDS = st.sampled_from(["a", "b", "c", "1", "", "x" * 70])
_VALUES = st.sampled_from(["1", "-2", "1.5", "abc", "", "9223372036854775807", "y" * 70])
_KEYS = st.sampled_from(["k1", "k2"])
_OPS = st.one_of(
    st.tuples(st.just("HSET"), _KEYS, _FIELDS, _VALUES, _FIELDS, _VALUES),
    st.tuples(st.just("HSETNX"), _KEYS, _FIELDS, _VALUES),
    st.tuples(st.just("HDEL"), _KEYS, _FIELDS, _FIELDS),
    st.tuples(st.just("HINCRBY"), _KEYS, _FIELDS,
              st.sampled_from(["1", "-5", "x", "9223372036854775807"])),
    st.tuples(st.just("HINCRBYFLOAT"), _KEYS, _FIELDS,
              st.sampled_from(["1", "-0.5", "x", "1e300"])),
    st.tuples(st.sampled_from(["HGET", "HSTRLEN", "HEXISTS"]), _KEYS, _FIELDS),
    st.tuples(st.just("HMGET"), _KEYS, _FIELDS, _FIELDS),
    st.tuples(st.sampled_from(["HLEN", "HGETALL", "HKEYS", "HVALS", "EXISTS"]), _KEYS),
    st.tuples(st.just("OBJECT"), st.just("ENCODING"), _KEYS),
)


@FIXTURE_SETTINGS
@given(ops=st.lists(_OPS, max_size=25))
def test_random_operations_match_redis(diff, server, ops):
    flush_all(server)
    diff.theirs.call("FLUSHALL")
    for op in ops:
        if op[0] in ("HGETALL", "HKEYS", "HVALS"):
            diff.check_unordered(*op)  # a converted hash lists its fields in hash order
        else:
            diff.check(*op)


# -- the HSCAN cursor model (no sockets) -------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(1, 300),
    count=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    concurrent=st.integers(0, 12),
)
def test_hash_scan_cursor_survives_lost_snapshots(size, count, seed, concurrent):
    """With other scans evicting this one's snapshot and fields removed and added between
    steps, every field present throughout is still returned."""
    import random

    from vermilion.types.hash import HashValue

    rng = random.Random(seed)
    value = HashValue({b"f%d" % i: b"v" for i in range(size)}, big=True)
    stable = {f for f in value.fields if rng.random() < 0.5}
    seen: set[bytes] = set()
    cursor = 0
    for step in range(10_000):
        cursor, batch = value.scan(cursor, count)
        seen.update(batch)
        for _ in range(concurrent):
            value.scan(0, 1)  # other scans: their snapshots push this one's out
        for field in rng.sample(sorted(value.fields), min(3, len(value.fields))):
            if field not in stable:
                value.delete_field(field)
        value.fields[b"new%d" % step] = b"v"
        if cursor == 0:
            break
    assert cursor == 0, "the scan never ended"
    assert stable <= seen
