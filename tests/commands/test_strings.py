"""String commands, differential against real Redis 7.0 (exact reply bytes) unless noted."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vermilion.testing import run_in_server
from vermilion.types.string import (
    add_long_double,
    format_long_double_human,
    parse_int,
    parse_long_double,
)

FIXTURE_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class FakeList:
    """Stands in for a list value on Vermilion until lists exist (real Redis gets an RPUSH)."""

    TYPE_NAME = b"list"

    def __init__(self, items):
        self.items = list(items)

    def encoding(self):
        return b"quicklist"

    def copy(self):
        return FakeList(self.items)


def make_list(server, diff, key, *items):
    """The same non-string value on both servers, for WRONGTYPE paths."""
    db_index = 0

    def put():
        server.dbs[db_index].set_value(key.encode() if isinstance(key, str) else key, FakeList(items))

    run_in_server(server, put)
    diff.theirs.call("RPUSH", key, *items)


def redis_dirty(conn) -> int:
    info = conn.call("INFO", "persistence")
    for line in info.split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, server, *cmd) -> bytes:
    """Run a command on both servers: same reply, and the same change count (server.dirty)."""
    ours_before = run_in_server(server, lambda: server.dirty)
    theirs_before = redis_dirty(diff.theirs)
    reply = diff.check(*cmd)
    ours = run_in_server(server, lambda: server.dirty) - ours_before
    theirs = redis_dirty(diff.theirs) - theirs_before
    assert ours == theirs, f"{cmd!r}: dirty +{ours} here, +{theirs} in Redis"
    return reply


def check_ttl(diff, key, tolerance_ms=1500):
    """PTTL on both within a tolerance (they tick), same sign class (-2, -1, positive)."""
    ours = int(diff.ours.call("PTTL", key)[1:-2])
    theirs = int(diff.theirs.call("PTTL", key)[1:-2])
    if ours < 0 or theirs < 0:
        assert ours == theirs, (key, ours, theirs)
    else:
        assert abs(ours - theirs) <= tolerance_ms, (key, ours, theirs)


# -- the redis-cli session from the issue ------------------------------------------------------


def test_redis_cli_session(diff):
    session = [
        ("SET", "mykey", "Hello, Redis!"),
        ("GET", "mykey"),
        ("EXPIRE", "mykey", "3600"),
        ("~", "TTL", "mykey"),
        ("SET", "counter", "10"),
        ("INCR", "counter"),
        ("DECR", "counter"),
        ("SET", "key", "value"),
        ("INCR", "key"),
        ("DEL", "mykey"),
        ("EXISTS", "mykey"),
        ("GET", "mykey"),
        ("MSET", "key1", "value1", "key2", "value2", "key3", "value3"),
        ("MGET", "key1", "key2", "key3", "nosuchkey"),
        ("SET", "a", "1"),
        ("KEYS", "*"),
        ("SET", "key", "value", "EX", "60"),
        ("~", "TTL", "key"),
        ("SET", "key", "value", "PX", "1000"),
        ("~", "PTTL", "key"),
        ("PERSIST", "key"),
        ("TTL", "key"),
        ("SET", "lock_key", "lock_value", "NX", "EX", "60"),
        ("SET", "lock_key", "other", "NX", "EX", "60"),
        ("GET", "lock_key"),
        ("DEL", "lock_key"),
        ("SET", "lock_key", "other", "NX", "EX", "60"),
    ]
    for line in session:
        if line[0] == "~":
            diff.check_type(*line[1:])
        elif line[0] == "KEYS":
            diff.check_unordered(*line)
        else:
            diff.check(*line)
    assert diff.ours.call("TTL", "mykey") == b":-2\r\n"


# -- SET and its options -----------------------------------------------------------------------

SET_OPTIONS = [
    ("NX",), ("XX",), ("GET",), ("KEEPTTL",), ("EX", "100"), ("PX", "100000"),
    ("EXAT", "4102444800"), ("PXAT", "4102444800000"), ("EX",), ("nx",), ("Ex", "50"),
    ("PERSIST",), ("EX", "0"),
]


@pytest.mark.parametrize("start", ["missing", "plain", "volatile"])
def test_set_option_combinations(diff, start):
    """Every sequence of up to three SET options, from three starting states."""
    for size in range(0, 4):
        for combo in itertools.product(SET_OPTIONS, repeat=size):
            args = [arg for option in combo for arg in option]
            for conn in (diff.ours, diff.theirs):
                conn.call("DEL", "k")
                if start != "missing":
                    conn.call("SET", "k", "old")
                if start == "volatile":
                    conn.call("PEXPIREAT", "k", "4102444800123")
            diff.check("SET", "k", "new", *args)
            diff.check("GET", "k")
            diff.check("PEXPIRETIME", "k") if not any(
                o[0].upper() in ("EX", "PX") and len(o) == 2 for o in combo
            ) else check_ttl(diff, "k")


def test_set_errors_and_edges(diff):
    cases = [
        ("SET", "k", "v", "EX"),
        ("SET", "k", "v", "EX", "10", "PX", "10"),
        ("SET", "k", "v", "EX", "0"),
        ("SET", "k", "v", "EX", "-1"),
        ("SET", "k", "v", "PX", "0"),
        ("SET", "k", "v", "EXAT", "0"),
        ("SET", "k", "v", "PXAT", "-5"),
        ("SET", "k", "v", "EX", "abc"),
        ("SET", "k", "v", "EX", "1.5"),
        ("SET", "k", "v", "EX", "9223372036854775"),
        ("SET", "k", "v", "EX", "9223372036854776"),
        ("SET", "k", "v", "EX", "9223372036854775807"),
        ("SET", "k", "v", "EX", "9223372036854775808"),
        ("SET", "k", "v", "PX", "9223372036854775807"),
        ("SET", "k", "v", "PXAT", "9223372036854775807"),
        ("SET", "k", "v", "EXAT", "9223372036854775"),
        ("SET", "k", "v", "EXAT", "9223372036854776"),
        ("SET", "k", "v", "NX", "XX"),
        ("SET", "k", "v", "XX", "NX"),
        ("SET", "k", "v", "KEEPTTL", "EX", "10"),
        ("SET", "k", "v", "EX", "10", "KEEPTTL"),
        ("SET", "k", "v", "NX", "NX", "EX", "10", "EX", "20"),
        ("SET", "k", "v", "GET", "GET"),
        ("SET", "k", "v", "FOO"),
        ("SET", "k", "v", b"NX\x00junk"),
        ("SET", "k", "v", b"KEEPTTL\x00"),
        ("SET", "k"),
        ("SET",),
        ("SET", "", ""),
        ("GET", ""),
    ]
    for case in cases:
        diff.check(*case)
    check_ttl(diff, "k")


def test_set_get_on_wrong_type_does_not_write(diff, server):
    make_list(server, diff, "l", "a")
    diff.check("SET", "l", "v", "GET")
    diff.check("TYPE", "l")
    diff.check("SET", "l", "v", "GET", "NX")
    diff.check("SET", "l", "v", "NX", "GET")
    diff.check("SET", "l", "v", "EX", "0", "GET")  # the expiry error comes first
    diff.check("TYPE", "l")
    diff.check("SET", "l", "v")  # a plain SET overwrites any type
    diff.check("GET", "l")


def test_set_binary_keys_and_values(diff):
    key = b"k\r\n\x00ey\xff"
    value = b"\x00\r\nvalue\r\n\x00" * 20
    diff.check("SET", key, value)
    diff.check("GET", key)
    diff.check("STRLEN", key)
    diff.check("SET", key, b"", "GET")
    diff.check("GET", key)
    diff.check("MGET", key, b"\x00", key)
    diff.check("APPEND", key, b"\r\n")
    diff.check("GETRANGE", key, "0", "-1")


def test_setnx_setex_psetex(diff):
    for cmd in [
        ("SETNX", "k", "v1"),
        ("SETNX", "k", "v2"),
        ("GET", "k"),
        ("SETEX", "k", "100", "v3"),
        ("GET", "k"),
        ("SETEX", "k", "0", "v"),
        ("SETEX", "k", "-10", "v"),
        ("SETEX", "k", "x", "v"),
        ("SETEX", "k", "9223372036854775", "v"),
        ("PSETEX", "k", "0", "v"),
        ("PSETEX", "k", "9223372036854775807", "v"),
        ("PSETEX", "k", "100000", "v4"),
        ("GET", "k"),
        ("SETEX", "k", "10"),
        ("PSETEX", "k"),
    ]:
        diff.check(*cmd)
    check_ttl(diff, "k")


def test_set_expiry_values(diff):
    diff.check("SET", "a", "v", "EX", "100")
    check_ttl(diff, "a")
    diff.check("SET", "b", "v", "PX", "100000")
    check_ttl(diff, "b")
    diff.check("SET", "c", "v", "EXAT", "4102444800")
    diff.check("PEXPIRETIME", "c")
    diff.check("SET", "d", "v", "PXAT", "4102444800999")
    diff.check("PEXPIRETIME", "d")
    diff.check("EXPIRETIME", "d")
    diff.check("SET", "d", "w", "KEEPTTL")
    diff.check("PEXPIRETIME", "d")
    diff.check("SET", "d", "w")
    diff.check("PEXPIRETIME", "d")
    # A past absolute time: stored, but gone for every read.
    diff.check("SET", "e", "v", "PXAT", "1")
    diff.check("GET", "e")
    diff.check("EXISTS", "e")


# -- GETEX, GETDEL, GETSET -----------------------------------------------------------------------


def test_getex(diff, server):
    diff.check("SET", "k", "v")
    for cmd in [
        ("GETEX", "k"),
        ("GETEX", "k", "PERSIST"),
        ("GETEX", "k", "EXAT", "4102444800"),
        ("PEXPIRETIME", "k"),
        ("GETEX", "k", "PXAT", "4102444800555"),
        ("PEXPIRETIME", "k"),
        ("GETEX", "k", "PERSIST"),
        ("PEXPIRETIME", "k"),
        ("GETEX", "k", "PERSIST", "EX", "10"),
        ("GETEX", "k", "EX", "10", "PERSIST"),
        ("GETEX", "k", "EX", "10", "PX", "10"),
        ("GETEX", "k", "KEEPTTL"),
        ("GETEX", "k", "NX"),
        ("GETEX", "k", "GET"),
        ("GETEX", "k", "EX"),
        ("GETEX", "k", "EX", "0"),
        ("GETEX", "k", "EX", "-1"),
        ("GETEX", "k", "EX", "x"),
        ("GETEX", "k", "EX", "9223372036854775"),
        ("GETEX", "k", "PX", "9223372036854775807"),
        ("GETEX", "k", "PERSIST", "PERSIST"),
        ("GETEX", "k", "EX", "10", "EX", "20"),
        ("GETEX", "nokey", "EX", "0"),
        ("GETEX", "nokey", "FOO"),
        ("GETEX", "k", "PXAT", "1"),
        ("EXISTS", "k"),
        ("GETEX",),
    ]:
        diff.check(*cmd)
    diff.check("SET", "k", "v")
    diff.check("GETEX", "k", "EX", "100")
    check_ttl(diff, "k")
    diff.check("GETEX", "k", "PX", "50000")
    check_ttl(diff, "k")
    make_list(server, diff, "l", "a")
    diff.check("GETEX", "l")
    diff.check("GETEX", "l", "EX", "0")
    diff.check("GETEX", "l", "FOO")


def test_getdel_getset(diff, server):
    for cmd in [
        ("GETDEL", "nokey"),
        ("SET", "k", "v"),
        ("EXPIRE", "k", "100"),
        ("GETSET", "k", "w"),
        ("TTL", "k"),
        ("GETSET", "nokey", "x"),
        ("GET", "nokey"),
        ("GETDEL", "k"),
        ("GETDEL", "k"),
        ("EXISTS", "k"),
        ("GETSET", "k"),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("GETDEL", "l")
    diff.check("GETSET", "l", "v")
    diff.check("TYPE", "l")


# -- MSET, MSETNX, MGET --------------------------------------------------------------------------


def test_mset_msetnx_mget(diff, server):
    for cmd in [
        ("MSET", "a", "1", "b", "2"),
        ("MGET", "a", "b", "c", "a"),
        ("MSET", "a"),
        ("MSET", "a", "1", "b"),
        ("MSETNX", "a", "1", "b"),
        ("MSETNX", "c", "3", "a", "9"),
        ("MGET", "a", "c"),
        ("MSETNX", "c", "3", "d", "4"),
        ("MSETNX", "e", "1", "e", "2"),
        ("MGET", "c", "d", "e"),
        ("MSET", "a", "x", "a", "y"),
        ("GET", "a"),
        ("MGET",),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("MGET", "a", "l", "nokey")
    diff.check("MSETNX", "l", "x", "z", "1")
    diff.check("MSET", "l", "x")
    diff.check("TYPE", "l")


def test_mset_keeps_no_ttl(diff):
    diff.check("SET", "a", "1", "EX", "100")
    diff.check("MSET", "a", "2")
    diff.check("TTL", "a")


def test_mget_resp3(diff3):
    diff3.check("SET", "a", "1")
    diff3.check("MGET", "a", "nokey")
    diff3.check("GET", "nokey")
    diff3.check("GETDEL", "nokey")
    diff3.check("SET", "nokey", "v", "XX")


# -- APPEND, STRLEN, GETRANGE, SETRANGE ----------------------------------------------------------


def test_append_strlen(diff, server):
    for cmd in [
        ("APPEND", "k", "abc"),
        ("OBJECT", "ENCODING", "k"),
        ("APPEND", "k", "def"),
        ("OBJECT", "ENCODING", "k"),
        ("GET", "k"),
        ("STRLEN", "k"),
        ("STRLEN", "nokey"),
        ("APPEND", "k", ""),
        ("APPEND", "n", "12"),
        ("OBJECT", "ENCODING", "n"),
        ("APPEND", "n", "3"),
        ("OBJECT", "ENCODING", "n"),
        ("INCR", "n"),
        ("OBJECT", "ENCODING", "n"),
        ("SET", "t", "x", "EX", "100"),
        ("APPEND", "t", "y"),
        ("TTL", "t"),
        ("APPEND", "e", ""),
        ("EXISTS", "e"),
        ("GET", "e"),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("APPEND", "l", "x")
    diff.check("STRLEN", "l")


def test_append_respects_proto_max_bulk_len(diff, server):
    diff.check("SET", "k", "x" * 1000)
    old = server.config.proto_max_bulk_len
    server.config.proto_max_bulk_len = 1024 * 1024
    diff.theirs.call("CONFIG", "SET", "proto-max-bulk-len", str(1024 * 1024))
    try:
        diff.check("APPEND", "k", "y" * (1024 * 1024 - 1000))
        diff.check("APPEND", "k", "z")
        diff.check("SETRANGE", "k", str(1024 * 1024 - 1), "ab")
        diff.check("SETRANGE", "new", str(1024 * 1024), "a")
        diff.check("SETRANGE", "new", str(1024 * 1024 - 1), "a")
        diff.check("STRLEN", "new")
    finally:
        server.config.proto_max_bulk_len = old
        diff.theirs.call("CONFIG", "SET", "proto-max-bulk-len", str(old))


def test_getrange_substr(diff, server):
    diff.check("SET", "s", "Hello World")
    diff.check("SET", "n", "12345")
    diff.check("SET", "empty", "")
    ranges = [
        ("0", "4"), ("-5", "-1"), ("0", "-1"), ("5", "2"), ("-1", "-5"), ("-100", "100"),
        ("100", "200"), ("0", "0"), ("-1", "-1"), ("-9223372036854775808", "9223372036854775807"),
        ("9223372036854775807", "-9223372036854775808"), ("3", "-100"), ("x", "1"), ("1", "1.0"),
        ("9223372036854775808", "1"),
    ]
    for start, end in ranges:
        for key in ("s", "n", "empty", "nokey"):
            diff.check("GETRANGE", key, start, end)
            diff.check("SUBSTR", key, start, end)
    make_list(server, diff, "l", "a")
    diff.check("GETRANGE", "l", "0", "1")
    diff.check("GETRANGE", "l", "x", "1")


@FIXTURE_SETTINGS
@given(
    value=st.binary(max_size=12),
    start=st.integers(-20, 20),
    end=st.integers(-20, 20),
)
def test_getrange_property(diff, value, start, end):
    diff.ours.call("SET", "k", value)
    diff.theirs.call("SET", "k", value)
    diff.check("GETRANGE", "k", str(start), str(end))


def test_setrange(diff, server):
    for cmd in [
        ("SETRANGE", "k", "0", "Hello"),
        ("OBJECT", "ENCODING", "k"),
        ("SETRANGE", "k", "10", "World"),
        ("GET", "k"),
        ("SETRANGE", "k", "2", "XY"),
        ("GET", "k"),
        ("SETRANGE", "k", "-1", "x"),
        ("SETRANGE", "k", "x", "x"),
        ("SETRANGE", "k", "3", ""),
        ("SETRANGE", "nokey", "5", ""),
        ("SETRANGE", "nokey", "-1", ""),
        ("EXISTS", "nokey"),
        ("SETRANGE", "nokey", "536870912", ""),
        ("SETRANGE", "nokey", "536870911", "ab"),
        ("SETRANGE", "nokey", "9223372036854775807", "ab"),
        ("SETRANGE", "nokey", "9223372036854775808", "ab"),
        ("SET", "n", "123"),
        ("SETRANGE", "n", "1", "9"),
        ("GET", "n"),
        ("OBJECT", "ENCODING", "n"),
        ("SET", "t", "abc", "EX", "100"),
        ("SETRANGE", "t", "1", "z"),
        ("TTL", "t"),
        ("SETRANGE", "b", "3", b"\x00\r\n"),
        ("GET", "b"),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("SETRANGE", "l", "0", "x")
    diff.check("SETRANGE", "l", "0", "")


@FIXTURE_SETTINGS
@given(
    initial=st.one_of(st.none(), st.binary(max_size=8)),
    offset=st.integers(0, 12),
    patch=st.binary(max_size=6),
)
def test_setrange_property(diff, initial, offset, patch):
    for conn in (diff.ours, diff.theirs):
        conn.call("DEL", "k")
        if initial is not None:
            conn.call("SET", "k", initial)
    diff.check("SETRANGE", "k", str(offset), patch)
    diff.check("GET", "k")


# -- counters ------------------------------------------------------------------------------------


def test_incr_decr_family(diff, server):
    for cmd in [
        ("INCR", "n"),
        ("INCRBY", "n", "10"),
        ("DECRBY", "n", "3"),
        ("DECR", "n"),
        ("GET", "n"),
        ("INCRBY", "n", "-9223372036854775808"),
        ("INCRBY", "n", "9223372036854775807"),
        ("SET", "n", "9223372036854775806"),
        ("INCR", "n"),
        ("INCR", "n"),
        ("GET", "n"),
        ("SET", "n", "-9223372036854775807"),
        ("DECR", "n"),
        ("DECR", "n"),
        ("DECRBY", "n", "-9223372036854775808"),
        ("DECRBY", "x", "-9223372036854775808"),
        ("SET", "n", "0"),
        ("DECRBY", "n", "-9223372036854775807"),
        ("INCRBY", "n", "x"),
        ("INCRBY", "n", "1.5"),
        ("INCRBY", "n", " 1"),
        ("INCRBY", "n", "+1"),
        ("INCRBY", "n", "01"),
        ("INCRBY", "n", "-0"),
        ("INCRBY", "n", ""),
        ("INCRBY", "n", "9223372036854775808"),
        ("SET", "s", "abc"),
        ("INCR", "s"),
        ("SET", "s", " 1"),
        ("INCR", "s"),
        ("SET", "s", "1 "),
        ("INCR", "s"),
        ("SET", "s", "01"),
        ("INCR", "s"),
        ("SET", "s", "-0"),
        ("INCR", "s"),
        ("SET", "s", ""),
        ("INCR", "s"),
        ("SET", "s", "9223372036854775808"),
        ("INCR", "s"),
        ("SET", "t", "5", "EX", "100"),
        ("INCR", "t"),
        ("TTL", "t"),
        ("INCR",),
        ("INCRBY", "n"),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("INCR", "l")
    diff.check("INCRBY", "l", "x")
    diff.check("DECRBY", "l", "1")


def test_incrbyfloat(diff, server):
    for cmd in [
        ("INCRBYFLOAT", "f", "10.5"),
        ("INCRBYFLOAT", "f", "0.1"),
        ("INCRBYFLOAT", "f", "-5.0e3"),
        ("INCRBYFLOAT", "g", "3.0e3"),
        ("INCRBYFLOAT", "g", "1e20"),
        ("INCRBYFLOAT", "h", "1e300"),
        ("INCRBYFLOAT", "h", "1e300"),
        ("INCRBYFLOAT", "i", "inf"),
        ("INCRBYFLOAT", "i", "-inf"),
        ("INCRBYFLOAT", "i", "nan"),
        ("INCRBYFLOAT", "i", "Infinity"),
        ("INCRBYFLOAT", "i", "0x10"),
        ("INCRBYFLOAT", "i", "0x1.8p1"),
        ("INCRBYFLOAT", "i", "1e-5000"),
        ("INCRBYFLOAT", "i", "1e-4940"),
        ("INCRBYFLOAT", "i", "1e5000"),
        ("INCRBYFLOAT", "i", "1.2e4932"),
        ("INCRBYFLOAT", "i", "-0.0"),
        ("INCRBYFLOAT", "i", " 1"),
        ("INCRBYFLOAT", "i", "1 "),
        ("INCRBYFLOAT", "i", "abc"),
        ("INCRBYFLOAT", "i", ""),
        ("INCRBYFLOAT", "i", "1e"),
        ("INCRBYFLOAT", "i", "."),
        ("INCRBYFLOAT", "i", ".5"),
        ("INCRBYFLOAT", "i", "5."),
        ("INCRBYFLOAT", "i", "+1.5"),
        ("INCRBYFLOAT", "i", b"1\x00"),
        ("INCRBYFLOAT", "j", "-1e-20"),
        ("INCRBYFLOAT", "j", "0.1"),
        ("INCRBYFLOAT", "j", "0.2"),
        ("INCRBYFLOAT", "k", "1.18e4932"),
        ("INCRBYFLOAT", "k", "1.18e4932"),
        ("SET", "s", "abc"),
        ("INCRBYFLOAT", "s", "1"),
        ("SET", "s", "inf"),
        ("INCRBYFLOAT", "s", "1"),
        ("SET", "s", "  2"),
        ("INCRBYFLOAT", "s", "1"),
        ("SET", "s", "9223372036854775807"),
        ("INCRBYFLOAT", "s", "1"),
        ("SET", "t", "1.5", "EX", "100"),
        ("INCRBYFLOAT", "t", "1"),
        ("TTL", "t"),
        ("INCRBYFLOAT", "u", "0x"),
        ("INCRBYFLOAT", "u", "1" * 5200),
        ("INCRBYFLOAT", "u", "0." + "0" * 4000 + "1"),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("INCRBYFLOAT", "l", "1")
    diff.check("INCRBYFLOAT", "l", "x")


float_texts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(0, 25).flatmap(
        lambda places: st.decimals(allow_nan=False, allow_infinity=False, places=places)
    ).map(str),
    st.integers(-(10**20), 10**20).map(str),
    st.from_regex(r"\A[+-]?[0-9]{0,3}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?\Z"),
)


@FIXTURE_SETTINGS
@given(first=float_texts, second=float_texts)
def test_incrbyfloat_property(diff, first, second):
    for conn in (diff.ours, diff.theirs):
        conn.call("DEL", "f")
    diff.check("INCRBYFLOAT", "f", first)
    diff.check("INCRBYFLOAT", "f", second)


def test_long_double_helpers():
    total = add_long_double(parse_long_double(b"10.5"), parse_long_double(b"0.1"))
    assert format_long_double_human(total) == b"10.6"
    assert format_long_double_human(parse_long_double(b"3.0e3")) == b"3000"
    assert parse_long_double(b"nan") is None
    assert parse_long_double(b"1e5000") is None
    assert add_long_double(parse_long_double(b"inf"), parse_long_double(b"1")) is None
    assert parse_int(b"-9223372036854775808") == -(2**63)
    assert parse_int(b"9223372036854775808") is None
    assert parse_int(b"-0") is None and parse_int(b"+1") is None and parse_int(b"") is None


# -- LCS -----------------------------------------------------------------------------------------


def test_lcs(diff, server):
    diff.check("MSET", "key1", "ohmytext", "key2", "mynewtext")
    for cmd in [
        ("LCS", "key1", "key2"),
        ("LCS", "key1", "key2", "LEN"),
        ("LCS", "key1", "key2", "IDX"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5"),
        ("LCS", "key1", "key2", "LEN", "IDX"),
        ("LCS", "key1", "key2", "IDX", "LEN"),
        ("LCS", "key1", "key2", "MINMATCHLEN"),
        ("LCS", "key1", "key2", "MINMATCHLEN", "x"),
        ("LCS", "key1", "key2", "FOO"),
        ("LCS", "key1", "key2", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "LEN", "WITHMATCHLEN", "MINMATCHLEN", "2"),
        ("LCS", "key1", "nokey"),
        ("LCS", "nokey", "nokey2", "IDX"),
        ("LCS", "key1", "key1", "IDX", "WITHMATCHLEN"),
        ("LCS", "key1"),
    ]:
        diff.check(*cmd)
    make_list(server, diff, "l", "a")
    diff.check("LCS", "key1", "l")
    diff.check("LCS", "l", "nokey", "FOO")


def test_lcs_resp3(diff3):
    diff3.check("MSET", "key1", "ohmytext", "key2", "mynewtext")
    diff3.check("LCS", "key1", "key2", "IDX", "WITHMATCHLEN")
    diff3.check("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "3")
    diff3.check("LCS", "key1", "key2", "LEN")


@FIXTURE_SETTINGS
@given(a=st.binary(max_size=14).map(lambda b: bytes(x % 4 + 97 for x in b)),
       b=st.binary(max_size=14).map(lambda b: bytes(x % 4 + 97 for x in b)),
       minlen=st.integers(0, 3))
def test_lcs_property(diff, a, b, minlen):
    for conn in (diff.ours, diff.theirs):
        conn.call("MSET", "a", a, "b", b)
    diff.check("LCS", "a", "b")
    diff.check("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", str(minlen))


def test_lcs_long_strings_are_fast(r):
    a = bytes((i * 7919) % 26 + 97 for i in range(3000))
    b = bytes((i * 104729) % 26 + 97 for i in range(3000))
    r.mset({"a": a, "b": b})
    started = time.perf_counter()
    length = r.execute_command("LCS", "a", "b", "LEN")
    assert 0 < length <= 3000
    assert len(r.execute_command("LCS", "a", "b")) == length
    assert time.perf_counter() - started < 5


# -- encodings, refcounts, dirty counts ----------------------------------------------------------


def test_object_encoding_of_strings(diff):
    values = [
        "0", "1", "9999", "10000", "-1", "12345678901234567890", "-9223372036854775808",
        "9223372036854775807", "9223372036854775808", "01", "-0", " 1", "+1", "",
        "x" * 44, "x" * 45, "1" * 20, "1" * 21, "1" * 44, "1" * 45, "1.5", "abc",
    ]
    for index, value in enumerate(values):
        key = f"k{index}"
        diff.check("SET", key, value)
        diff.check("OBJECT", "ENCODING", key)
        diff.check("OBJECT", "REFCOUNT", key)
    diff.check("MSET", "m1", "5", "m2", "x" * 50)
    diff.check("OBJECT", "ENCODING", "m1")
    diff.check("OBJECT", "ENCODING", "m2")
    diff.check("INCR", "c")
    diff.check("OBJECT", "ENCODING", "c")
    diff.check("OBJECT", "REFCOUNT", "c")
    diff.check("INCRBY", "c", "100000")
    diff.check("OBJECT", "ENCODING", "c")
    diff.check("OBJECT", "REFCOUNT", "c")
    diff.check("INCRBYFLOAT", "fl", "1.5")
    diff.check("OBJECT", "ENCODING", "fl")
    diff.check("SETRANGE", "sr", "0", "5")
    diff.check("OBJECT", "ENCODING", "sr")
    diff.check("GETSET", "gs", "7")
    diff.check("OBJECT", "ENCODING", "gs")
    diff.check("SETEX", "se", "100", "123")
    diff.check("OBJECT", "ENCODING", "se")


DIRTY_SCRIPT = [
    ("SET", "k", "v"),
    ("SET", "k", "v", "EX", "100"),
    ("SET", "k", "v", "EX", "100", "GET"),
    ("SET", "k", "v", "NX"),
    ("SET", "k", "v", "XX", "KEEPTTL"),
    ("SET", "k", "v", "EX", "0"),
    ("SETNX", "k", "v"),
    ("SETNX", "k2", "v"),
    ("SETEX", "k2", "100", "v"),
    ("PSETEX", "k2", "100000", "v"),
    ("GETEX", "k2", "EX", "100"),
    ("GETEX", "k2", "PERSIST"),
    ("GETEX", "k2", "PERSIST"),
    ("GETEX", "k2"),
    ("GETEX", "k2", "PXAT", "1"),
    ("GETSET", "k2", "v"),
    ("GETDEL", "k2"),
    ("GETDEL", "k2"),
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MSETNX", "a", "1", "d", "2"),
    ("MSETNX", "d", "1", "e", "2"),
    ("APPEND", "a", "x"),
    ("APPEND", "a", ""),
    ("APPEND", "new", "x"),
    ("SETRANGE", "a", "0", ""),
    ("SETRANGE", "a", "0", "y"),
    ("SETRANGE", "nokey", "0", ""),
    ("INCR", "n"),
    ("INCRBY", "n", "5"),
    ("DECR", "n"),
    ("INCRBY", "n", "x"),
    ("INCRBYFLOAT", "n", "1.5"),
    ("INCRBYFLOAT", "n", "x"),
    ("GET", "n"),
    ("MGET", "a", "b"),
    ("STRLEN", "a"),
    ("GETRANGE", "a", "0", "1"),
    ("LCS", "a", "b"),
]


def test_dirty_counts(diff, server):
    for cmd in DIRTY_SCRIPT:
        check_dirty(diff, server, *cmd)
