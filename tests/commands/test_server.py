"""Server commands: TIME, SHUTDOWN and DEBUG, differential against real Redis where safe."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection
from vermilion import errors
from vermilion.commands.server_cmd import string_serialized_length
from vermilion.persistence.rdbstring import lzf_compress
from vermilion.testing import run_in_server, start_server


def raw(port: int) -> RawConnection:
    return RawConnection(port)


# -- TIME ----------------------------------------------------------------------------------------


def test_time(diff):
    ours, theirs = diff.both("TIME")
    pattern = rb"\*2\r\n\$10\r\n(\d{10})\r\n\$\d\r\n(\d{1,6})\r\n"
    our_match, their_match = re.fullmatch(pattern, ours), re.fullmatch(pattern, theirs)
    assert our_match and their_match, (ours, theirs)
    assert abs(int(our_match.group(1)) - int(their_match.group(1))) <= 1
    diff.check("TIME", "extra")


def test_time_resp3_is_still_bulk_strings(diff3):
    assert re.fullmatch(rb"\*2\r\n\$10\r\n\d{10}\r\n\$\d\r\n\d{1,6}\r\n", diff3.both("TIME")[0])


def test_time_moves(server):
    conn = raw(server.port)
    first = conn.call("TIME")
    time.sleep(0.01)
    assert conn.call("TIME") != first


# -- SHUTDOWN ---------------------------------------------------------------------------------------


def test_shutdown_errors(diff):
    # Every line here is an error in real Redis too: none of them shuts the oracle down.
    diff.run(
        """
        SHUTDOWN foo
        SHUTDOWN ABORT
        SHUTDOWN abort
        SHUTDOWN NOSAVE SAVE
        SHUTDOWN ABORT NOW
        SHUTDOWN ABORT FORCE
        SHUTDOWN NOSAVE ABORT
        SHUTDOWN now now abort
        SHUTDOWN NOW FORCE bogus
        """
    )


@pytest.mark.parametrize("args", [(), ("NOSAVE",), ("SAVE", "NOW", "FORCE"), ("nosave", "now")])
def test_shutdown_stops_the_server(args, tmp_path):
    # SHUTDOWN SAVE writes a dump even without save points: keep it out of the working tree.
    server = start_server(dir=str(tmp_path))
    conn = raw(server.port)
    assert conn.call("PING") == b"+PONG\r\n"
    conn.sock.sendall(b"*%d\r\n$8\r\nSHUTDOWN\r\n" % (1 + len(args)) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args
    ))
    assert conn.closed_by_peer(5)
    server._thread.join(5)
    assert not server._thread.is_alive()


# -- DEBUG -----------------------------------------------------------------------------------------------

MASKS = (
    (re.compile(rb"Value at:0x[0-9a-f]+ "), b"Value at:<addr> "),
    (re.compile(rb" lru:\d+ lru_seconds_idle:\d+"), b" lru:<lru>"),
)


def masked(reply: bytes) -> bytes:
    for pattern, replacement in MASKS:
        reply = pattern.sub(replacement, reply)
    return reply


def check_debug_object(diff, value: bytes) -> None:
    diff.check("SET", "dbgkey", value)
    ours, theirs = diff.both("DEBUG", "OBJECT", "dbgkey")
    assert masked(ours) == masked(theirs), value


def test_debug_errors(diff):
    diff.run(
        """
        DEBUG
        DEBUG foo
        DEBUG object
        DEBUG object nokey
        DEBUG object a b
        DEBUG set-active-expire
        DEBUG sleep
        DEBUG log
        """
    )
    diff.check("Debug", "FooBar", "x")


def test_debug_simple_subcommands(diff):
    diff.run(
        """
        DEBUG set-active-expire 0
        DEBUG SET-ACTIVE-EXPIRE 1
        DEBUG sleep 0
        DEBUG sleep abc
        DEBUG SLEEP 0.01
        DEBUG log hello
        """
    )


def test_set_active_expire_switches_the_cycle(server):
    conn = raw(server.port)
    try:
        assert conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
        assert run_in_server(server, lambda: server.active_expire_enabled) is False
        assert conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "2") == b"+OK\r\n"
        assert run_in_server(server, lambda: server.active_expire_enabled) is True
        assert conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "junk") == b"+OK\r\n"
        assert run_in_server(server, lambda: server.active_expire_enabled) is False
    finally:
        conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_debug_sleep_blocks_the_server(server):
    sleeper, other = raw(server.port), raw(server.port)
    sleeper.send_raw(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n0.3\r\n")
    time.sleep(0.05)
    start = time.monotonic()
    assert other.call("PING") == b"+PONG\r\n"
    assert time.monotonic() - start > 0.15
    assert sleeper.read_reply() == b"+OK\r\n"


@pytest.mark.parametrize(
    "value",
    [
        b"5", b"0", b"9999", b"10000", b"12345", b"-1", b"-128", b"-129", b"32767", b"32768",
        b"2147483647", b"2147483648", b"-2147483648", b"-2147483649", b"99999999999",
        b"123456789012", b"abc", b"", b"01", b"+1", b"a" * 20, b"a" * 21, b"a" * 44, b"a" * 45,
        b"a" * 68, b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN", b"ab" * 100,
        b"hello world " * 30, bytes(range(256)) * 2, b"x" * 20000, b"abcabd" * 3000,
    ],
)
def test_debug_object_strings(diff, value):
    check_debug_object(diff, value)


def test_debug_object_resp3(diff3):
    diff3.check("SET", "k", "v")
    ours, theirs = diff3.both("DEBUG", "OBJECT", "k")
    assert masked(ours) == masked(theirs)


def test_debug_object_raw_after_append(diff):
    if diff.ours.call("APPEND", "nosuch", "x").startswith(b"-ERR unknown command"):
        pytest.skip("APPEND is not implemented yet")
    for start, extra in ((b"123", b"4"), (b"abc", b"d" * 50), (b"a" * 30, b"a" * 30)):
        diff.check("SET", "r", start)
        diff.check("APPEND", "r", extra)
        ours, theirs = diff.both("DEBUG", "OBJECT", "r")
        assert masked(ours) == masked(theirs)


def test_debug_object_does_not_touch_the_key(server):
    conn = raw(server.port)
    conn.call("SET", "k", "v")

    def age_key() -> None:
        server.dbs[0].access[b"k"] = server.lru_clock - 100

    run_in_server(server, age_key)
    reply = conn.call("DEBUG", "OBJECT", "k")
    assert re.search(rb"lru_seconds_idle:(\d+)", reply).group(1) in (b"100", b"101")
    assert run_in_server(server, lambda: server.lru_clock - server.dbs[0].access[b"k"]) >= 100


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=21, max_size=400).map(lambda b: bytes(x % 4 + 97 for x in b)))
def test_lzf_sizes_match_redis(oracle_port, value):
    conn = raw(oracle_port)
    try:
        conn.call("SET", "lzfprobe", value)
        reply = conn.call("DEBUG", "OBJECT", "lzfprobe")
    finally:
        conn.close()
    expected = int(re.search(rb"serializedlength:(\d+)", reply).group(1))
    assert string_serialized_length(value) == expected


def test_lzf_incompressible():
    assert not lzf_compress(bytes(range(100)), 96)
    assert string_serialized_length(bytes(range(100))) == 102  # 2-byte length prefix
    assert string_serialized_length(b"a" * 21, compression=False) == 22


@pytest.fixture
def debug_setting(server):
    def set_to(value):
        def apply() -> None:
            server.config.enable_debug_command = value

        run_in_server(server, apply)

    yield set_to
    set_to("yes")


def test_debug_disabled(server, debug_setting):
    conn = raw(server.port)
    debug_setting("no")
    assert conn.call("DEBUG", "HELP") == b"-" + errors.DEBUG_DISABLED.encode() + b"\r\n"
    assert conn.call("DEBUG", "SLEEP", "0") == b"-" + errors.DEBUG_DISABLED.encode() + b"\r\n"
    debug_setting("local")
    assert conn.call("DEBUG", "SLEEP", "0") == b"+OK\r\n"  # a loopback connection is local


def test_debug_help(server):
    reply = raw(server.port).call("DEBUG", "HELP")
    assert reply.startswith(b"*") and b"+DEBUG <subcommand>" in reply
    for word in (b"OBJECT", b"SLEEP", b"SET-ACTIVE-EXPIRE", b"LOG", b"HELP"):
        assert b"+" + word in reply
