"""Keyspace notifications: notify-keyspace-events parsing and display, and the events each
command publishes, compared with real Redis event by event.

A subscriber listens on every keyspace and keyevent channel plus a marker channel; after each
command the test publishes on the marker, so "everything up to the marker" is exactly what that
command published, on both servers.
"""

from __future__ import annotations

import time

import hiredis
import pytest

from tests.resp_raw import RawConnection

MARKER = "__marker__"


class Listener:
    def __init__(self, port: int, resp3: bool = False) -> None:
        self.commands = RawConnection(port)
        self.subscriber = RawConnection(port)
        if resp3:
            self.subscriber.call("HELLO", "3")
        self.subscriber.call("PSUBSCRIBE", "__key*__:*")
        self.subscriber.call("SUBSCRIBE", MARKER)
        self.in_multi = False

    def run(self, *args) -> tuple[bytes, list[bytes]]:
        """The command's reply and the raw pushes it caused."""
        reply = self.commands.call(*args)
        name = str(args[0]).upper()
        if name == "MULTI":
            self.in_multi = True
        elif name in ("EXEC", "DISCARD"):
            self.in_multi = False
        if self.in_multi:
            return reply, []  # queued: the marker would be queued too
        self.commands.call("PUBLISH", MARKER, "x")
        events = []
        while True:
            push = self.subscriber.read_reply()
            reader = hiredis.Reader()
            reader.feed(push)
            item = reader.gets()
            if item[0] == b"message" and item[1] == MARKER.encode():
                return reply, events
            events.append(push)

    def close(self) -> None:
        self.commands.close()
        self.subscriber.close()


@pytest.fixture
def events(diff):
    """``events(flags, script)``: run the script's lines on both servers under ``flags`` and
    compare each reply and the exact pushes it caused."""
    listeners: list[Listener] = []
    ports = (diff.ours.sock.getpeername()[1], diff.theirs.sock.getpeername()[1])

    def run(flags: str, script: str | list[tuple], resp3: bool = False) -> list[tuple]:
        pair = [Listener(port, resp3) for port in ports]
        listeners.extend(pair)
        for side in pair:
            side.commands.call("FLUSHALL")
            side.commands.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
            assert side.commands.call("CONFIG", "SET", "notify-keyspace-events", flags) == b"+OK\r\n"
        lines = script if isinstance(script, list) else [
            tuple(line.split()) for line in script.strip().splitlines() if line.strip()
        ]
        seen = []
        for args in lines:
            if args[0] == "sleep":
                time.sleep(float(args[1]))
                continue
            ours, theirs = pair[0].run(*args), pair[1].run(*args)
            assert ours == theirs, f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
            seen.append(ours)
        return seen

    yield run
    for listener in listeners:
        listener.commands.call("CONFIG", "SET", "notify-keyspace-events", "")
        listener.commands.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        listener.close()


STRING_COMMANDS = """
SET a 1
SET a 2 EX 100
SET b 1 GET
SETNX a 3
SETNX c 3
SETEX d 100 v
PSETEX e 100000 v
GETEX a EX 50
GETEX a PERSIST
GETEX a PERSIST
GETEX a
GETEX a PXAT 1
GETDEL b
GETDEL b
GETSET c new
GETSET f new
MSET a 1 b 2
MSETNX x 1 y 2
MSETNX x 1 z 2
APPEND app v
APPEND app w
SETRANGE sr 3 x
SETRANGE sr 0 y
INCR n
DECR n
INCRBY n 5
DECRBY n 5
INCRBYFLOAT n 1.5
INCR app
SET k v KEEPTTL
SET k v EXAT 99999999999
SET k v XX GET
SET nk v XX
GET nokey
MGET nokey a
STRLEN none
GETRANGE none 0 1
LCS none1 none2
"""

GENERIC_COMMANDS = """
SET a 1
DEL a b
SET a 1
SET b 1
UNLINK a b
SET a 1
EXPIRE a 100
PEXPIRE a 100000
EXPIRE a 50 NX
EXPIRE a 500 GT
PERSIST a
PERSIST a
EXPIRE nokey 10
EXPIREAT a 1
SET a 1
PEXPIREAT a 1
SET a 1
RENAME a b
SET c 1
RENAME b c
RENAMENX c d
SET e 1
RENAMENX d e
RENAME d d
RENAME nokey x
COPY d f
COPY d f
COPY d f REPLACE
COPY d f DB 1
MOVE f 2
MOVE f 2
SWAPDB 0 1
SWAPDB 0 1
EXISTS d none
TYPE none
TTL none
PTTL d
TOUCH d none
OBJECT ENCODING none
OBJECT ENCODING d
FLUSHDB
SET x 1
FLUSHALL
"""

FLAG_SETS = ["KEA", "KEAnm", "K$", "Eg", "Kx", "En", "Km", "KEg$lshzxetdnm", "g$", "AE", "KE"]


OTHER_TYPES_COMMANDS = """
LPUSH l a b c
RPUSH l d
LPUSHX l e
RPUSHX nol e
LPOP l
RPOP l
LPOP l 5
RPUSH l a b c d e
LINSERT l BEFORE c x
LSET l 0 z
LTRIM l 1 2
LREM l 0 x
LMOVE l l2 LEFT RIGHT
RPOPLPUSH l2 l3
LMPOP 1 l3 LEFT
HSET h f v g w
HSETNX h f v
HSETNX h n v
HDEL h f
HINCRBY h c 1
HINCRBYFLOAT h d 1.5
HDEL h g c d n
SADD s a b c
SREM s a
SMOVE s s2 b
SPOP s
SINTERSTORE d s s2
SUNIONSTORE d s2 s2
SDIFFSTORE d s2 nos
ZADD z 1 a 2 b
ZINCRBY z 1 a
ZREM z a
ZPOPMIN z
ZADD z 1 a 2 b 3 c
ZREMRANGEBYRANK z 0 0
ZREMRANGEBYSCORE z 0 2
ZUNIONSTORE zz 1 z
ZRANGESTORE zr z 0 -1
SETBIT bits 5 1
BITOP AND dest bits bits
BITFIELD bf SET u8 0 200
PFADD hll a b
PFADD hll a
PFMERGE hll2 hll
XADD st 1-1 f v
XTRIM st MAXLEN 0
XGROUP CREATE st g $ MKSTREAM
XGROUP CREATECONSUMER st g c
XGROUP DELCONSUMER st g c
XGROUP DESTROY st g
RPUSH srt 3 1 2
SORT srt STORE sorted
LRANGE nolist 0 1
HGET noh f
SMEMBERS nos
ZRANGE noz 0 1
"""


def test_other_type_command_events(events):
    """The events of the other families' commands, those implemented so far."""
    from vermilion.registry import COMMANDS

    lines = [tuple(line.split()) for line in OTHER_TYPES_COMMANDS.strip().splitlines()]
    implemented = [args for args in lines if args[0].lower() in COMMANDS]
    if not implemented:
        pytest.skip("no other data type is implemented yet")
    events("KEAnm", implemented)


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_string_command_events(events, flags):
    events(flags, STRING_COMMANDS)


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_generic_command_events(events, flags):
    events(flags, GENERIC_COMMANDS)


def test_events_carry_the_database_number(events):
    seen = events(
        "KEA",
        """
        SELECT 3
        SET k v
        EXPIRE k 100
        MOVE k 0
        SELECT 0
        COPY k k DB 5
        """,
    )
    assert b"__keyspace@3__:k" in b"".join(seen[1][1])


def test_new_and_keymiss_events(events):
    seen = events(
        "KEnm",
        """
        SET k v
        SET k w
        GET k
        GET missing
        APPEND other x
        INCR counter
        """,
    )
    assert seen[0][1] == [
        b"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nnew\r\n",
        b"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:new\r\n$1\r\nk\r\n",
    ]
    assert seen[1][1] == []


def test_lazy_expiry_publishes_expired_then_keymiss(events):
    events(
        "KEAm",
        """
        SET k v PX 20
        SET j v PX 20
        SET i v PX 20
        SET h v PX 20
        sleep 0.05
        GET k
        SET j new
        DEL i
        EXISTS h
        """,
    )


def test_no_events_without_k_or_e(events):
    seen = events("A", "SET k v\nDEL k")
    assert all(not pushes for _, pushes in seen)


def test_active_expiry_publishes_expired(diff):
    listeners = [Listener(diff.ours.sock.getpeername()[1]), Listener(diff.theirs.sock.getpeername()[1])]
    try:
        collected = []
        for listener in listeners:
            listener.commands.call("CONFIG", "SET", "notify-keyspace-events", "Ex")
            listener.commands.call("SET", "volatile", "v", "PX", "10")
        deadline = time.time() + 5
        for listener in listeners:
            # The active cycle reclaims the key on its own: no command touches it.
            while time.time() < deadline and listener.commands.call("DBSIZE") != b":0\r\n":
                time.sleep(0.02)
            collected.append(listener.subscriber.read_reply())
        assert collected[0] == collected[1] == (
            b"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$22\r\n__keyevent@0__:expired\r\n"
            b"$8\r\nvolatile\r\n"
        )
    finally:
        for listener in listeners:
            listener.commands.call("CONFIG", "SET", "notify-keyspace-events", "")
            listener.close()


def test_resp3_subscriber_gets_events_as_pushes(events):
    seen = events("KEA", "SET k v\nDEL k", resp3=True)
    assert seen[0][1][0].startswith(b">4\r\n$8\r\npmessage")


def test_events_inside_a_transaction(events):
    events(
        "KEA",
        [("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("DEL", "a"), ("EXEC",)],
    )


def test_config_get_shows_the_canonical_form(diff):
    try:
        for value in ["KEA", "AKE", "EKA", "gx$", "Elg", "A", "KA", "nm", "Kn", "KEAnm", "g$lshzxetd", "t",
                      "d", "KEg$lshzxetdmn", "", "Ezlhs", "xe", "K", "E"]:
            diff.check("CONFIG", "SET", "notify-keyspace-events", value)
            diff.check("CONFIG", "GET", "notify-keyspace-events")
        diff.check("CONFIG", "SET", "notify-keyspace-events", "KEq")
        diff.check("CONFIG", "GET", "notify-keyspace-events")
    finally:
        diff.check("CONFIG", "SET", "notify-keyspace-events", "")


def test_turning_notifications_off_stops_them(diff):
    listener = Listener(diff.ours.sock.getpeername()[1])
    try:
        listener.commands.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        assert listener.run("SET", "k", "v")[1]
        listener.commands.call("CONFIG", "SET", "notify-keyspace-events", "")
        assert listener.run("SET", "k", "w")[1] == []
    finally:
        listener.commands.call("CONFIG", "SET", "notify-keyspace-events", "")
        listener.close()


def test_notifications_configured_at_start():
    from vermilion.testing import start_server

    server = start_server(notify_keyspace_events="KEA")
    try:
        listener = Listener(server.port)
        try:
            assert listener.commands.call("CONFIG", "GET", "notify-keyspace-events") == (
                b"*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n"
            )
            reply, pushes = listener.run("SET", "k", "v")
            assert len(pushes) == 2
        finally:
            listener.close()
    finally:
        server.stop()
