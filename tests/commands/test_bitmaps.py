"""Bitmap and bitfield commands, differential against real Redis 7.0 (exact reply bytes and the
exact bytes of the keys afterwards)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection

FIXTURE_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def dirty(conn) -> int:
    info = conn.call("INFO", "persistence")
    for line in info.split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, *cmd) -> bytes:
    """Same reply and the same number of changes counted (rdb_changes_since_last_save)."""
    before = dirty(diff.ours), dirty(diff.theirs)
    reply = diff.check(*cmd)
    after = dirty(diff.ours), dirty(diff.theirs)
    assert after[0] - before[0] == after[1] - before[1], f"{cmd!r}: dirty {after} - {before}"
    return reply


# -- SETBIT / GETBIT ---------------------------------------------------------------------------


def test_setbit_getbit_and_bytes(diff):
    diff.run(
        """
        SETBIT k 7 1
        GET k
        SETBIT k 7 1
        SETBIT k 7 0
        GET k
        SETBIT k 100 1
        GET k
        STRLEN k
        GETBIT k 100
        GETBIT k 99
        GETBIT k 100000
        GETBIT missing 5
        OBJECT ENCODING k
        SET s hello
        SETBIT s 0 1
        GET s
        OBJECT ENCODING s
        SET n 123
        GETBIT n 2
        SETBIT n 1 0
        GET n
        OBJECT ENCODING n
        """
    )


def test_setbit_unchanged_bit_still_unshares(diff):
    # Redis turns an embstr into a raw string even when the bit already has the value.
    diff.run(
        """
        SET s abc
        OBJECT ENCODING s
        SETBIT s 1 1
        OBJECT ENCODING s
        GET s
        """
    )


def test_setbit_getbit_errors(diff):
    diff.run(
        """
        RPUSH l a
        SETBIT k 1 2
        SETBIT k 1 -1
        SETBIT k 1 x
        SETBIT k 1 01
        SETBIT k -1 1
        SETBIT k x 1
        SETBIT k 4294967296 1
        SETBIT k 1.5 1
        SETBIT l 1 1
        SETBIT l x 1
        SETBIT l 1 x
        GETBIT k -1
        GETBIT k x
        GETBIT k 4294967296
        GETBIT l 1
        GETBIT missing x
        SETBIT k
        GETBIT k
        """
    )


def test_bit_offset_limit_follows_proto_max_bulk_len(diff):
    diff.check("CONFIG", "SET", "proto-max-bulk-len", "1048576")
    try:
        diff.check("SETBIT", "k", str(8 * 1048576), "1")
        diff.check("GETBIT", "k", str(8 * 1048576))
        diff.check("SETBIT", "k", str(8 * 1048576 - 1), "1")
        diff.check("STRLEN", "k")
        diff.check("BITFIELD", "k", "SET", "u8", str(8 * 1048576), "1")
        diff.check("BITFIELD", "k", "GET", "u8", "#1048576")
        diff.check("BITFIELD", "k", "GET", "u8", "#1048575")
    finally:
        diff.check("CONFIG", "SET", "proto-max-bulk-len", "536870912")


def test_setbit_dirty_counts(diff):
    check_dirty(diff, "SETBIT", "k", "3", "1")
    check_dirty(diff, "SETBIT", "k", "3", "1")
    check_dirty(diff, "SETBIT", "k", "3", "0")
    check_dirty(diff, "SETBIT", "k", "40", "0")
    check_dirty(diff, "SETBIT", "k", "40", "0")


# -- BITCOUNT ----------------------------------------------------------------------------------


def test_bitcount_basics(diff):
    diff.run(
        """
        SET s foobar
        BITCOUNT s
        BITCOUNT s 0 0
        BITCOUNT s 1 1
        BITCOUNT s 1 1 BYTE
        BITCOUNT s 5 30 BIT
        BITCOUNT s 5 30 bit
        BITCOUNT s -1 -1
        BITCOUNT s -2 -1 BIT
        BITCOUNT s -1 -2
        BITCOUNT s -100 100
        BITCOUNT s 2 1
        BITCOUNT s 0 -100
        BITCOUNT missing
        BITCOUNT missing 0 1 BIT
        SET n 1234567
        BITCOUNT n
        BITCOUNT n 1 3 BIT
        SET e ""
        BITCOUNT e
        BITCOUNT e 0 -1
        BITCOUNT e 0 -1 BIT
        """
    )


def test_bitcount_errors_in_redis_order(diff):
    diff.run(
        """
        SET s foobar
        RPUSH l a
        BITCOUNT s 0
        BITCOUNT s 0 1 2 3
        BITCOUNT s a 1
        BITCOUNT s 0 a
        BITCOUNT s 0 1 foo
        BITCOUNT s -1 -2 foo
        BITCOUNT s a b foo
        BITCOUNT missing a b
        BITCOUNT missing 0
        BITCOUNT missing 0 1 foo
        BITCOUNT l
        BITCOUNT l a b
        BITCOUNT
        """
    )


@FIXTURE_SETTINGS
@given(
    data=st.binary(min_size=0, max_size=40),
    start=st.integers(-400, 400),
    end=st.integers(-400, 400),
    unit=st.sampled_from([None, "BYTE", "BIT"]),
)
def test_bitcount_ranges_match(diff, data, start, end, unit):
    diff.ours.call("SET", "k", data)
    diff.theirs.call("SET", "k", data)
    args = ["BITCOUNT", "k", str(start), str(end)] + ([unit] if unit else [])
    diff.check(*args)


# -- BITPOS ------------------------------------------------------------------------------------


def test_bitpos_basics(diff):
    diff.ours.call("SET", "s", b"\xff\xf0\x00")
    diff.theirs.call("SET", "s", b"\xff\xf0\x00")
    diff.ours.call("SET", "ones", b"\xff\xff\xff")
    diff.theirs.call("SET", "ones", b"\xff\xff\xff")
    diff.run(
        """
        BITPOS s 0
        BITPOS s 1
        BITPOS s 0 2
        BITPOS s 1 2
        BITPOS s 1 2 -1
        BITPOS s 0 2 -1
        BITPOS s 1 7 15 BIT
        BITPOS s 0 7 15 BIT
        BITPOS s 0 0 11 BIT
        BITPOS s 0 0 12 BIT
        BITPOS s 0 3 BIT
        BITPOS ones 0
        BITPOS ones 0 1
        BITPOS ones 0 1 -1
        BITPOS ones 0 3 BIT
        BITPOS ones 0 3 30 BIT
        BITPOS ones 1 10 5
        BITPOS missing 0
        BITPOS missing 1
        BITPOS missing 1 a
        BITPOS missing 0 1 2 foo
        SET e ""
        BITPOS e 0
        BITPOS e 1
        BITPOS e 0 0
        BITPOS e 0 0 -1 BIT
        """
    )


def test_bitpos_errors_in_redis_order(diff):
    diff.run(
        """
        SET s foobar
        RPUSH l a
        BITPOS s 2
        BITPOS s -1
        BITPOS s a
        BITPOS missing a
        BITPOS missing 2
        BITPOS l 1
        BITPOS l 2
        BITPOS s 1 a
        BITPOS s 1 0 a
        BITPOS s 1 0 1 foo
        BITPOS s 1 0 a foo
        BITPOS s 1 a 1 BIT
        BITPOS s 1 0 1 BIT extra
        BITPOS s
        """
    )


@FIXTURE_SETTINGS
@given(
    data=st.binary(min_size=0, max_size=24),
    bit=st.sampled_from(["0", "1"]),
    start=st.integers(-250, 250),
    end=st.one_of(st.none(), st.integers(-250, 250)),
    unit=st.sampled_from([None, "BYTE", "BIT"]),
)
def test_bitpos_ranges_match(diff, data, bit, start, end, unit):
    diff.ours.call("SET", "k", data)
    diff.theirs.call("SET", "k", data)
    args = ["BITPOS", "k", bit, str(start)]
    if end is not None:
        args.append(str(end))
        if unit:
            args.append(unit)
    diff.check(*args)
    if end is None and not unit:
        diff.check("BITPOS", "k", bit)


@FIXTURE_SETTINGS
@given(data=st.binary(min_size=1, max_size=24).map(lambda b: bytes(x | 0xAA for x in b)))
def test_bitpos_on_mostly_ones(diff, data):
    diff.ours.call("SET", "k", data)
    diff.theirs.call("SET", "k", data)
    diff.check("BITPOS", "k", "0")
    diff.check("BITPOS", "k", "0", "0", "-1")
    diff.check("BITPOS", "k", "0", "1", "-1", "BIT")


# -- BITOP -------------------------------------------------------------------------------------


def test_bitop_operations_and_result_bytes(diff):
    diff.ours.call("SET", "a", b"\x0f\xf0\xaa")
    diff.theirs.call("SET", "a", b"\x0f\xf0\xaa")
    diff.ours.call("SET", "b", b"\xff\x0f")
    diff.theirs.call("SET", "b", b"\xff\x0f")
    diff.run(
        """
        BITOP AND d a b
        GET d
        BITOP OR d a b
        GET d
        BITOP XOR d a b
        GET d
        BITOP NOT d a
        GET d
        OBJECT ENCODING d
        BITOP and d a b missing
        GET d
        BITOP or d missing a
        GET d
        BITOP xor d a a
        GET d
        BITOP NOT d missing
        EXISTS d
        BITOP OR d missing missing2
        EXISTS d
        SET d x
        BITOP AND d missing
        EXISTS d
        SET n 12
        BITOP XOR d n a
        GET d
        """
    )


def test_bitop_replaces_target_and_its_ttl(diff):
    diff.run(
        """
        SET a abc
        SET d old EX 100
        BITOP NOT d a
        TTL d
        GET d
        RPUSH l x
        BITOP NOT l a
        TYPE l
        """
    )


def test_bitop_errors(diff):
    diff.run(
        """
        SET a abc
        RPUSH l x
        BITOP NOT d a a
        BITOP NOT d
        BITOP FOO d a
        BITOP AND d a l
        BITOP AND d l missing
        BITOP OR d
        """
    )


def test_bitop_dirty_counts(diff):
    diff.check("SET", "a", "abc")
    check_dirty(diff, "BITOP", "OR", "d", "a")
    check_dirty(diff, "BITOP", "OR", "d", "missing")
    check_dirty(diff, "BITOP", "OR", "d", "missing")


@FIXTURE_SETTINGS
@given(
    op=st.sampled_from(["AND", "OR", "XOR"]),
    values=st.lists(st.one_of(st.none(), st.binary(max_size=40)), min_size=1, max_size=4),
)
def test_bitop_matches(diff, op, values):
    keys = []
    for n, value in enumerate(values):
        key = f"src{n}"
        keys.append(key)
        for conn in (diff.ours, diff.theirs):
            if value is None:
                conn.call("DEL", key)
            else:
                conn.call("SET", key, value)
    diff.check("BITOP", op, "dest", *keys)
    diff.check("GET", "dest")
    diff.check("BITOP", "NOT", "dest", keys[0])
    diff.check("GET", "dest")


def test_bitop_large_operands(diff):
    rng = random.Random(7)
    first = rng.randbytes(300_000)
    second = rng.randbytes(200_017)
    for conn in (diff.ours, diff.theirs):
        conn.call("SET", "a", first)
        conn.call("SET", "b", second)
    for op in ("AND", "OR", "XOR"):
        diff.check("BITOP", op, "d", "a", "b")
        diff.check("GET", "d")
    diff.check("BITCOUNT", "d")
    diff.check("BITPOS", "d", "1", "250000")
    diff.check("BITPOS", "d", "0", "-5", "-1")


# -- BITFIELD ----------------------------------------------------------------------------------


def test_bitfield_get_set_incrby(diff):
    diff.run(
        """
        BITFIELD k SET i8 0 100 GET i8 0
        GET k
        BITFIELD k INCRBY i8 0 100 GET u4 0
        GET k
        BITFIELD k SET u8 #1 255 GET u8 8 GET i8 #1
        GET k
        BITFIELD k INCRBY u2 100 1 OVERFLOW SAT INCRBY i8 108 1
        GET k
        BITFIELD k GET u63 0 GET i64 0 GET i64 3 GET u1 15 GET i1 15
        BITFIELD k SET i64 13 -9223372036854775808 GET i64 13
        GET k
        BITFIELD k SET u63 70 9223372036854775807 GET u63 70
        GET k
        BITFIELD missing GET i16 0 GET u16 100
        EXISTS missing
        BITFIELD k
        BITFIELD_RO k GET i8 0 GET u5 #3
        SET n 42
        BITFIELD n GET u8 0 GET u8 8 GET u8 16
        BITFIELD n SET u8 8 51
        GET n
        """
    )


def test_bitfield_overflow_modes(diff):
    diff.run(
        """
        BITFIELD k SET u8 0 250
        BITFIELD k INCRBY u8 0 10
        BITFIELD k OVERFLOW SAT INCRBY u8 0 10 INCRBY u8 0 -300
        BITFIELD k OVERFLOW FAIL INCRBY u8 0 300 INCRBY u8 0 -1 GET u8 0
        BITFIELD k OVERFLOW WRAP INCRBY u8 0 -300
        BITFIELD k SET i8 8 127 INCRBY i8 8 1 OVERFLOW SAT INCRBY i8 8 -300 INCRBY i8 8 1000
        BITFIELD k OVERFLOW FAIL INCRBY i8 8 -1000 SET i8 8 200 SET i8 8 -129 SET i8 8 -128
        BITFIELD k OVERFLOW WRAP SET i8 8 200 SET i8 8 -200 SET u8 8 -1 SET u8 8 256
        BITFIELD k OVERFLOW SAT SET u8 8 -1 SET u8 8 300 SET i8 8 -300 SET i8 8 300
        BITFIELD k OVERFLOW FAIL SET u8 8 -1 SET u8 8 300
        GET k
        BITFIELD k SET i64 0 9223372036854775807 INCRBY i64 0 1 GET i64 0
        BITFIELD k OVERFLOW SAT INCRBY i64 0 9223372036854775807 INCRBY i64 0 -9223372036854775808
        BITFIELD k OVERFLOW FAIL INCRBY i64 0 -9223372036854775808 INCRBY i64 0 -1
        BITFIELD k SET u63 0 -1 GET u63 0 INCRBY u63 0 1 OVERFLOW SAT INCRBY u63 0 -5
        BITFIELD k OVERFLOW sat INCRBY u1 3 5 OVERFLOW wrap INCRBY u1 3 5 OVERFLOW fail INCRBY i1 3 5
        GET k
        """
    )


def test_bitfield_errors(diff):
    diff.run(
        """
        RPUSH l a
        SET s hello
        BITFIELD s GET u64 0
        BITFIELD s GET i65 0
        BITFIELD s GET i0 0
        BITFIELD s GET x8 0
        BITFIELD s GET I8 0
        BITFIELD s GET u 0
        BITFIELD s GET u08 0
        BITFIELD s GET u8 -1
        BITFIELD s GET u8 #-1
        BITFIELD s GET u8 x
        BITFIELD s GET u8 4294967296
        BITFIELD s GET u8 #536870912
        BITFIELD s GET u8
        BITFIELD s SET u8 0
        BITFIELD s SET u8 0 x
        BITFIELD s INCRBY u8 0 1.5
        BITFIELD s OVERFLOW
        BITFIELD s OVERFLOW FOO GET u8 0
        BITFIELD s FOO u8 0
        BITFIELD s GET u8 0 BAR
        BITFIELD l GET u8 0
        BITFIELD l SET u8 0 1
        BITFIELD l GET u99 0
        BITFIELD_RO s SET u8 0 1
        BITFIELD_RO s INCRBY u8 0 1 GET u8 0
        BITFIELD_RO s OVERFLOW SAT GET u8 0
        BITFIELD_RO l GET u8 0
        BITFIELD_RO s GET u8 0 GET u99 0
        GET s
        """
    )


def test_bitfield_c_string_arguments(diff):
    # Types and overflow names are read by Redis as C strings: they end at a NUL byte.
    diff.check("BITFIELD", "k", "SET", b"u8\x00junk", "0", "7", "GET", "u8", "0")
    diff.check("BITFIELD", "k", b"OVERFLOW", b"SAT\x00x", "INCRBY", "u8", "0", "1000")
    diff.check("BITFIELD", "k", b"GET\x00x", "u8", "0")
    diff.check("BITFIELD", "k", "GET", "u8", b"#\x001")
    diff.check("GET", "k")


def test_bitfield_hash_offset_wraps_like_c(diff):
    # "#N" multiplies N by the width in a signed 64-bit integer; an overflowing product wraps.
    diff.check("BITFIELD", "k", "GET", "i64", "#144115188075855873")
    diff.check("BITFIELD", "k", "GET", "i64", "#288230376151711745")
    diff.check("BITFIELD", "k", "GET", "i64", "#144115188075855872")


def test_bitfield_resp3_nulls(diff3):
    diff3.check("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "7", "GET", "u2", "0")
    diff3.check("BITFIELD_RO", "k", "GET", "u2", "0")


def test_bitfield_dirty_counts(diff):
    check_dirty(diff, "BITFIELD", "k", "SET", "u8", "0", "0")
    check_dirty(diff, "BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "1")
    check_dirty(diff, "BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "1")
    check_dirty(diff, "BITFIELD", "k2", "SET", "u8", "0", "0", "SET", "u8", "8", "1", "GET", "u8", "0")
    check_dirty(diff, "BITFIELD", "k3", "OVERFLOW", "FAIL", "SET", "u8", "0", "300")
    diff.check("EXISTS", "k3")
    diff.check("GET", "k3")
    check_dirty(diff, "BITFIELD", "k", "GET", "u8", "0")
    check_dirty(diff, "BITFIELD", "k", "INCRBY", "u8", "40", "0")


@FIXTURE_SETTINGS
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["GET", "SET", "INCRBY", "OVERFLOW"]),
            st.booleans(),
            st.integers(1, 64),
            st.integers(0, 200),
            st.integers(-(2**63), 2**63 - 1),
            st.sampled_from(["WRAP", "SAT", "FAIL"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    initial=st.binary(max_size=20),
)
def test_bitfield_random_programs_match(diff, ops, initial):
    for conn in (diff.ours, diff.theirs):
        conn.call("SET", "k", initial)
    args = ["BITFIELD", "k"]
    for name, signed, width, offset, number, overflow, use_hash in ops:
        if name == "OVERFLOW":
            args += ["OVERFLOW", overflow]
            continue
        if not signed:
            width = min(width, 63)
        kind = ("i" if signed else "u") + str(width)
        where = f"#{offset // width}" if use_hash else str(offset)
        args += [name, kind, where]
        if name != "GET":
            # INCRBY: small steps mostly, full-range ones (64-bit edge cases) every other time.
            small = number % 2 and name == "INCRBY"
            args.append(str(number % 1000 - 500 if small else number))
    diff.check(*args)
    diff.check("GET", "k")


# -- keyspace events ---------------------------------------------------------------------------


def collect_events(diff, commands: list[tuple]) -> None:
    """Run ``commands`` on both servers with every keyspace event enabled, and compare the
    events each server published (names, keys and order)."""
    diff.check("CONFIG", "SET", "notify-keyspace-events", "KEA")
    subscribers = []
    try:
        for conn in (diff.ours, diff.theirs):
            subscriber = RawConnection(conn.sock.getpeername()[1])
            subscriber.call("PSUBSCRIBE", "__key*__:*")
            subscribers.append(subscriber)
        for command in commands:
            diff.check(*command)
        seen = []
        for subscriber in subscribers:
            subscriber.send_raw(b"*1\r\n$4\r\nPING\r\n")
            events = []
            while True:
                reply = subscriber.read_reply()
                if reply.startswith(b"*2\r\n$4\r\npong"):
                    break
                events.append(reply)
            seen.append(events)
            subscriber.close()
        assert seen[0] == seen[1]
        assert seen[0], "no events were published"
    finally:
        diff.check("CONFIG", "SET", "notify-keyspace-events", "")


def test_keyspace_events(diff):
    collect_events(diff, [
        ("SETBIT", "k", "7", "1"),
        ("SETBIT", "k", "7", "1"),
        ("SETBIT", "k", "100", "0"),
        ("GETBIT", "missing", "1"),
        ("BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u8", "0"),
        ("BITFIELD", "k", "SET", "u8", "0", "1"),
        ("BITFIELD", "new", "INCRBY", "u8", "0", "1"),
        ("BITFIELD", "new2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"),
        ("BITOP", "OR", "dest", "k", "new"),
        ("BITOP", "OR", "dest", "missing"),
        ("BITOP", "OR", "dest", "missing"),
        ("BITCOUNT", "missing"),
    ])
