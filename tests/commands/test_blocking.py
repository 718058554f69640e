"""Blocking list commands over TCP: each scenario runs on Vermilion and on real Redis 7.0 and
the bytes every connection receives are compared.

Waiters are started one at a time and each is confirmed blocked (INFO blocked_clients) before
the next, so arrival order is well defined on both servers.
"""

from __future__ import annotations

import socket
import time

import pytest

from vermilion.blocking import parse_timeout
from vermilion.errors import RedisError
from vermilion.testing import flush_all, run_in_server

from tests.resp_raw import RawConnection, encode_command


@pytest.fixture
def ports(server, oracle_port):
    flush_all(server)
    conn = RawConnection(oracle_port)
    conn.call("FLUSHALL")
    conn.close()
    return {"vermilion": server.port, "redis": oracle_port}


def blocked_clients(conn: RawConnection) -> int:
    for line in conn.call("INFO", "clients").split(b"\r\n"):
        if line.startswith(b"blocked_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError("no blocked_clients in INFO")


def wait_blocked(conn: RawConnection, count: int, timeout: float = 5.0) -> None:
    deadline = time.time() + timeout
    while blocked_clients(conn) != count:
        if time.time() > deadline:
            raise AssertionError(f"expected {count} blocked clients, have {blocked_clients(conn)}")
        time.sleep(0.005)


# Connections opened by the running scenario, closed when it ends (even when it fails, so that
# no client stays blocked into the next test).
_OPEN: list[RawConnection] = []


def connect(port: int) -> RawConnection:
    conn = RawConnection(port)
    _OPEN.append(conn)
    return conn


def start_blocked(port: int, control: RawConnection, expected: int, *cmd) -> RawConnection:
    """A new connection that sends ``cmd`` and is confirmed blocked."""
    conn = connect(port)
    conn.send_raw(encode_command(cmd))
    wait_blocked(control, expected)
    return conn


def run_scenario(scenario, port: int):
    try:
        return scenario(port)
    finally:
        while _OPEN:
            _OPEN.pop().close()


def both_ways(ports, scenario) -> None:
    """Run ``scenario(port)`` against both servers; it returns what it observed."""
    ours = run_scenario(scenario, ports["vermilion"])
    theirs = run_scenario(scenario, ports["redis"])
    assert ours == theirs, f"vermilion {ours!r} != redis {theirs!r}"


# -- serving order ---------------------------------------------------------------------------------


def test_waiters_served_in_arrival_order(ports):
    def scenario(port):
        control = connect(port)
        waiters = [start_blocked(port, control, i + 1, "BLPOP", "q", "0") for i in range(5)]
        pushed = control.call("RPUSH", "q", "1", "2", "3")
        replies = [w.read_reply() for w in waiters[:3]]
        wait_blocked(control, 2)
        more = control.call("RPUSH", "q", "4", "5", "6")
        replies += [w.read_reply() for w in waiters[3:]]
        left = control.call("LRANGE", "q", "0", "-1")
        return pushed, more, replies, left

    both_ways(ports, scenario)


def test_mixed_waiters_on_one_key(ports):
    def scenario(port):
        control = connect(port)
        waiters = [
            start_blocked(port, control, 1, "BRPOP", "q", "0"),
            start_blocked(port, control, 2, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "2"),
            start_blocked(port, control, 3, "BLMOVE", "q", "dst", "RIGHT", "LEFT", "0"),
            start_blocked(port, control, 4, "BLPOP", "other", "q", "0"),
            start_blocked(port, control, 5, "BRPOPLPUSH", "q", "dst", "0"),
        ]
        pushed = control.call("RPUSH", "q", "a", "b", "c", "d", "e", "f")
        replies = [w.read_reply() for w in waiters]
        state = control.call("LRANGE", "q", "0", "-1"), control.call("LRANGE", "dst", "0", "-1")
        return pushed, replies, state

    both_ways(ports, scenario)


def test_multi_key_waiter_served_from_the_pushed_key(ports):
    def scenario(port):
        control = connect(port)
        waiter = start_blocked(port, control, 1, "BLPOP", "a", "b", "c", "0")
        control.call("RPUSH", "c", "from-c")
        first = waiter.read_reply()
        control.call("RPUSH", "b", "from-b")
        control.call("RPUSH", "a", "from-a")
        immediate = waiter.call("BLPOP", "a", "b", "c", "0")
        return first, immediate

    both_ways(ports, scenario)


def test_multi_serves_in_signal_order_and_push_pop_wakes_nobody(ports):
    def scenario(port):
        control = connect(port)
        waiter = start_blocked(port, control, 1, "BLPOP", "a", "b", "0")
        control.call("MULTI")
        control.call("RPUSH", "b", "from-b")
        control.call("RPUSH", "a", "x")
        control.call("LPOP", "a")
        control.call("RPUSH", "a", "from-a")
        exec_reply = control.call("EXEC")
        served = waiter.read_reply()
        second = start_blocked(port, control, 1, "BLPOP", "c", "0")
        control.call("MULTI")
        control.call("RPUSH", "c", "1")
        control.call("RPOP", "c")
        control.call("EXEC")
        time.sleep(0.05)
        still_blocked = blocked_clients(control)
        state = control.call("LRANGE", "a", "0", "-1"), control.call("EXISTS", "b", "c")
        return exec_reply, served, still_blocked, state

    both_ways(ports, scenario)


def test_blocking_commands_inside_multi(ports):
    def scenario(port):
        conn = connect(port)
        conn.call("MULTI")
        for cmd in (
            ("BLPOP", "nokey", "0"), ("BRPOP", "nokey", "0"), ("BLMPOP", "0", "1", "nokey", "LEFT"),
            ("BLMOVE", "nokey", "x", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "nokey", "x", "0"),
        ):
            conn.call(*cmd)
        replies = [conn.call("EXEC")]
        conn.call("HELLO", "3")
        conn.call("MULTI")
        conn.call("BLPOP", "nokey", "0")
        conn.call("BLMOVE", "nokey", "x", "LEFT", "LEFT", "0")
        replies.append(conn.call("EXEC"))
        conn.close()
        return replies

    both_ways(ports, scenario)


def test_blmove_chain(ports):
    def scenario(port):
        control = connect(port)
        waiters = [
            start_blocked(port, control, 1, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0"),
            start_blocked(port, control, 2, "BLMOVE", "b", "c", "LEFT", "RIGHT", "0"),
            start_blocked(port, control, 3, "BRPOPLPUSH", "c", "d", "0"),
            start_blocked(port, control, 4, "BLPOP", "d", "0"),
        ]
        pushed = control.call("LPUSH", "a", "item")
        replies = [w.read_reply() for w in waiters]
        state = [control.call("EXISTS", k) for k in ("a", "b", "c", "d")]
        return pushed, replies, state

    both_ways(ports, scenario)


def test_blmove_into_wrong_type_target(ports):
    def scenario(port):
        control = connect(port)
        control.call("SET", "dst", "string")
        waiter = start_blocked(port, control, 1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        second = start_blocked(port, control, 2, "BLPOP", "src", "0")
        control.call("RPUSH", "src", "a", "b")
        replies = waiter.read_reply(), second.read_reply()
        state = control.call("LRANGE", "src", "0", "-1")
        return replies, state

    both_ways(ports, scenario)


def test_key_of_another_type_wakes_nobody(ports):
    def scenario(port):
        control = connect(port)
        waiter = start_blocked(port, control, 1, "BLPOP", "k", "0")
        control.call("SET", "k", "string")
        control.call("HSET", "h", "f", "v")
        time.sleep(0.05)
        still = blocked_clients(control)
        control.call("DEL", "k")
        control.call("RPUSH", "k", "v")
        reply = waiter.read_reply()
        return still, reply

    both_ways(ports, scenario)


def test_pipeline_push_while_another_client_waits(ports):
    def scenario(port):
        control = connect(port)
        waiter = start_blocked(port, control, 1, "BLPOP", "k", "0")
        pipelined = connect(port)
        pipelined.send_raw(
            encode_command(("LPUSH", "k", "x"))
            + encode_command(("LLEN", "k"))
            + encode_command(("RPUSH", "k", "y", "z"))
            + encode_command(("LRANGE", "k", "0", "-1"))
        )
        replies = [pipelined.read_reply() for _ in range(4)]
        served = waiter.read_reply()
        return replies, served

    both_ways(ports, scenario)


def test_blocked_client_pipeline_resumes_after_serving(ports):
    def scenario(port):
        control = connect(port)
        waiter = connect(port)
        waiter.send_raw(
            encode_command(("BLPOP", "k", "0")) + encode_command(("PING",))
            + encode_command(("LLEN", "k"))
        )
        wait_blocked(control, 1)
        control.call("RPUSH", "k", "a", "b")
        replies = [waiter.read_reply() for _ in range(3)]
        return replies

    both_ways(ports, scenario)


# -- timeouts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("resp", ["2", "3"])
@pytest.mark.parametrize(
    "cmd",
    [
        ("BLPOP", "nokey", "0.2"),
        ("BRPOP", "nokey", "other", "0.2"),
        ("BLMPOP", "0.2", "1", "nokey", "LEFT"),
        ("BLMOVE", "nokey", "x", "LEFT", "RIGHT", "0.2"),
        ("BRPOPLPUSH", "nokey", "x", "0.2"),
    ],
)
def test_timeout_replies(ports, cmd, resp):
    def scenario(port):
        conn = connect(port)
        conn.call("HELLO", resp)
        started = time.monotonic()
        reply = conn.call(*cmd)
        elapsed = time.monotonic() - started
        conn.close()
        assert 0.15 <= elapsed < 2.0, elapsed
        return reply

    both_ways(ports, scenario)


def test_timeout_argument_errors(ports):
    def scenario(port):
        conn = connect(port)
        replies = []
        for timeout in ("inf", "-inf", "nan", "abc", " 1", "1 ", "1e", "-1", "-0.001x", "1e400",
                        "9223372036854775807", "9223372036854775.808", "0x", "1e-5000"):
            replies.append(conn.call("BLPOP", "k", timeout))
            replies.append(conn.call("BLMOVE", "k", "d", "LEFT", "LEFT", timeout))
            replies.append(conn.call("BLMPOP", timeout, "1", "k", "LEFT"))
        # Tiny positive timeouts round up to a millisecond and expire.
        for timeout in ("0.0001", "1e-10", "0x1p-20"):
            replies.append(conn.call("BLPOP", "k", timeout))
        conn.close()
        return replies

    both_ways(ports, scenario)


def test_parse_timeout_values():
    assert parse_timeout(b"0") == 0
    assert parse_timeout(b"-0") == 0
    assert parse_timeout(b"1.5") == 1.5
    assert parse_timeout(b"0.0001") == 0.001  # rounded up to whole milliseconds
    assert parse_timeout(b"-0.0009") == 0  # rounds up to 0: blocks forever, as in Redis
    assert parse_timeout(b"0x10") == 16
    assert parse_timeout(b"9223372036854775") == 0  # the deadline overflows: never fires
    for bad in (b"-1", b"inf", b"1e400", b"9223372036854775.808"):
        with pytest.raises(RedisError, match="negative"):
            parse_timeout(bad)
    for bad in (b"nan", b"", b" 1", b"1e", b"abc"):
        with pytest.raises(RedisError, match="not a float"):
            parse_timeout(bad)


# -- disconnects, CLIENT UNBLOCK, introspection ------------------------------------------------


def test_disconnect_while_blocked_leaves_no_trace(server, ports):
    control = RawConnection(server.port)
    waiter = start_blocked(server.port, control, 1, "BLPOP", "k", "other", "0")
    waiter.sock.shutdown(socket.SHUT_RDWR)
    waiter.close()
    wait_blocked(control, 0)
    assert control.call("RPUSH", "k", "v") == b":1\r\n"
    assert control.call("LLEN", "k") == b":1\r\n"

    def leftovers():
        return (
            server.blocking.waiters, server.blocking.blocked_count,
            {k: v for db in server.dbs for k, v in db.blocking_keys.items()},
        )

    assert run_in_server(server, leftovers) == ({}, 0, {})
    control.close()


def client_id_running(control: RawConnection, command_name: bytes) -> bytes:
    """The id of the (single) client whose last command is ``command_name``."""
    for line in control.call("CLIENT", "LIST").split(b"\n"):
        if b" cmd=%s " % command_name in line:
            return line.split(b" ")[0].split(b"=")[1]
    raise AssertionError(f"no client running {command_name!r}")


def test_client_unblock(ports):
    def scenario(port):
        control = connect(port)
        replies = []
        for reason in (None, "TIMEOUT", "error"):
            waiter = start_blocked(port, control, 1, "BLPOP", "k", "0")
            waiter_id = client_id_running(control, b"blpop")
            cmd = ["CLIENT", "UNBLOCK", waiter_id] + ([reason] if reason else [])
            replies.append(control.call(*cmd))
            replies.append(waiter.read_reply())
            replies.append(control.call(*cmd))
            replies.append(waiter.call("PING"))
            waiter.close()
        mover = start_blocked(port, control, 1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0")
        replies.append(control.call("CLIENT", "UNBLOCK", client_id_running(control, b"blmove")))
        replies.append(mover.read_reply())
        mover.close()
        replies += [
            control.call("CLIENT", "UNBLOCK", "999999"),
            control.call("CLIENT", "UNBLOCK", "abc"),
            control.call("CLIENT", "UNBLOCK", "1", "foo"),
            control.call("CLIENT", "UNBLOCK", "abc", "foo"),
            control.call("CLIENT", "UNBLOCK", "1", "timeout", "extra"),
            control.call("CLIENT", "UNBLOCK"),
        ]
        control.close()
        return replies

    both_ways(ports, scenario)


def test_blocked_clients_in_info_and_client_list(ports):
    def scenario(port):
        control = connect(port)
        waiters = [
            start_blocked(port, control, 1, "BLPOP", "k", "0"),
            start_blocked(port, control, 2, "BLMOVE", "k", "d", "LEFT", "LEFT", "10"),
        ]
        info = [
            line for line in control.call("INFO", "clients").split(b"\r\n")
            if line.startswith((b"blocked_clients", b"clients_in_timeout_table"))
        ]
        flags = sorted(
            line.split(b" flags=")[1].split(b" ")[0]
            for line in control.call("CLIENT", "LIST").split(b"\n") if b" flags=" in line
        )
        control.call("RPUSH", "k", "a", "b")
        for waiter in waiters:
            waiter.read_reply()
        wait_blocked(control, 0)
        after = [
            line for line in control.call("INFO", "clients").split(b"\r\n")
            if line.startswith((b"blocked_clients", b"clients_in_timeout_table"))
        ]
        return info, flags, after

    both_ways(ports, scenario)


def test_served_pops_count_changes_as_redis(ports):
    def dirty(conn):
        for line in conn.call("INFO", "persistence").split(b"\r\n"):
            if line.startswith(b"rdb_changes_since_last_save:"):
                return int(line.split(b":")[1])
        raise AssertionError

    def scenario(port):
        control = connect(port)
        counts = []
        for cmd, push in [
            (("BLPOP", "k", "0"), ("RPUSH", "k", "a")),
            (("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "5"), ("RPUSH", "k", "a", "b", "c")),
            (("BLMOVE", "k", "d", "LEFT", "RIGHT", "0"), ("RPUSH", "k", "a")),
            (("BRPOP", "k", "0"), ("RPUSH", "k", "a", "b")),
        ]:
            waiter = start_blocked(port, control, 1, *cmd)
            before = dirty(control)
            control.call(*push)
            waiter.read_reply()
            wait_blocked(control, 0)
            counts.append(dirty(control) - before)
            waiter.close()
        control.close()
        return counts

    both_ways(ports, scenario)


def test_swapdb_serves_waiters(ports):
    def scenario(port):
        control = connect(port)
        waiter = start_blocked(port, control, 1, "BLPOP", "k", "0")
        control.call("SELECT", "1")
        control.call("RPUSH", "k", "from-db1", "second")
        swapped = control.call("SWAPDB", "0", "1")
        served = waiter.read_reply()
        left = control.call("LRANGE", "k", "0", "-1")
        control.call("SELECT", "0")
        return swapped, served, left, control.call("LRANGE", "k", "0", "-1")

    both_ways(ports, scenario)


def test_keyspace_events_of_served_clients(ports):
    def scenario(port):
        control = connect(port)
        control.call("CONFIG", "SET", "notify-keyspace-events", "KEAn")
        try:
            subscriber = connect(port)
            subscriber.call("PSUBSCRIBE", "__keyevent@0__:*")
            waiters = [
                start_blocked(port, control, 1, "BLPOP", "a", "0"),
                start_blocked(port, control, 2, "BLMOVE", "b", "c", "LEFT", "RIGHT", "0"),
                start_blocked(port, control, 3, "BLMPOP", "0", "1", "d", "RIGHT", "COUNT", "3"),
            ]
            control.call("RPUSH", "a", "1", "2")
            control.call("RPUSH", "b", "1")
            control.call("RPUSH", "d", "1", "2")
            for waiter in waiters:
                waiter.read_reply()
            subscriber.send_raw(encode_command(("PING",)))
            events = []
            while not (reply := subscriber.read_reply()).startswith(b"*2\r\n$4\r\npong"):
                events.append(reply)
            return events
        finally:
            control.call("CONFIG", "SET", "notify-keyspace-events", "")

    both_ways(ports, scenario)


def test_waiter_of_another_kind_is_passed_over(ports):
    """A BZPOPMIN waiter ahead of a BLPOP waiter on the same key does not hold it up."""

    def scenario(port):
        control = connect(port)
        zset_waiter = start_blocked(port, control, 1, "BZPOPMIN", "k", "0")
        list_waiter = start_blocked(port, control, 2, "BLPOP", "k", "0")
        control.call("RPUSH", "k", "a")
        served = list_waiter.read_reply()
        still = blocked_clients(control)
        control.call("ZADD", "k", "1", "m")
        return served, still, zset_waiter.read_reply()

    both_ways(ports, scenario)


def test_served_replies_in_resp3(ports):
    def scenario(port):
        control = connect(port)
        replies = []
        for cmd in (("BLPOP", "k", "0"), ("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"),
                    ("BLMOVE", "k", "d", "LEFT", "RIGHT", "0")):
            waiter = connect(port)
            waiter.call("HELLO", "3")
            waiter.send_raw(encode_command(cmd))
            wait_blocked(control, 1)
            control.call("RPUSH", "k", "a", "b", "c")
            replies.append(waiter.read_reply())
            control.call("DEL", "k")
        return replies

    both_ways(ports, scenario)
