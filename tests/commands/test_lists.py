"""List commands, differential against real Redis 7.0 (exact reply bytes) unless noted.

Blocking behaviour over TCP (waiters, timeouts, CLIENT UNBLOCK) is in test_blocking.py.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vermilion.testing import flush_all, run_in_server

FIXTURE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def redis_dirty(conn) -> int:
    info = conn.call("INFO", "persistence")
    for line in info.split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, server, *cmd) -> bytes:
    """Same reply on both servers, and the same number of changes counted (server.dirty)."""
    ours_before = run_in_server(server, lambda: server.dirty)
    theirs_before = redis_dirty(diff.theirs)
    reply = diff.check(*cmd)
    ours = run_in_server(server, lambda: server.dirty) - ours_before
    theirs = redis_dirty(diff.theirs) - theirs_before
    assert ours == theirs, f"{cmd!r}: dirty +{ours} here, +{theirs} in Redis"
    return reply


def both(diff, *cmd) -> None:
    """Set up the same state on both servers (the replies are compared too)."""
    diff.check(*cmd)


# -- the notes' session ------------------------------------------------------------------------


def test_queue_session(diff):
    diff.run(
        """
        LPUSH queue task1
        RPUSH queue task2
        LPOP queue
        RPOP queue
        LPUSH job_queue task1
        LPUSH job_queue task2
        LPOP job_queue
        RPUSH task_queue task1
        LPUSH task_queue task2
        LRANGE task_queue 0 -1
        LPUSH myqueue task1
        RPUSH myqueue task2
        RPOP myqueue
        BRPOP myqueue 0
        LPUSH key value
        RPUSH key value2
        LRANGE key 0 -1
        LPOP key
        RPOP key
        LPOP key
        EXISTS key myqueue queue
        """
    )


# -- pushes --------------------------------------------------------------------------------------


def test_push_variants(diff):
    diff.run(
        """
        LPUSH l a b c
        RPUSH l d e
        LRANGE l 0 -1
        LPUSHX l x
        RPUSHX l y z
        LPUSHX nolist a
        RPUSHX nolist a b
        EXISTS nolist
        LRANGE l 0 -1
        LLEN l
        LLEN nolist
        RPUSH n 1 2 3 100000000000000000000 -0 01 9223372036854775807 -9223372036854775808
        LRANGE n 0 -1
        """
    )


def test_push_binary_elements(diff):
    values = [b"", b"\x00", b"a\r\nb", b"\xff\xfe", b"x" * 10000, b"$3\r\nfoo\r\n"]
    diff.check("RPUSH", "bin", *values)
    diff.check("LRANGE", "bin", "0", "-1")
    for index in range(len(values)):
        diff.check("LINDEX", "bin", str(index))
    diff.check("LPOS", "bin", b"a\r\nb")
    diff.check("LPOS", "bin", b"")
    diff.check("LREM", "bin", "0", b"\x00")
    diff.check("LINSERT", "bin", "BEFORE", b"\xff\xfe", b"\r\n")
    diff.check("LSET", "bin", "0", b"\x00\x00")
    diff.check("LRANGE", "bin", "0", "-1")
    diff.check("LPOP", "bin", "10")


def test_linsert(diff):
    diff.run(
        """
        RPUSH l a b c b
        LINSERT l BEFORE b x
        LINSERT l after b y
        LINSERT l AfTeR c z
        LINSERT l BEFORE nope x
        LINSERT l MIDDLE b x
        LINSERT nolist BEFORE a b
        LINSERT nolist MIDDLE a b
        EXISTS nolist
        LRANGE l 0 -1
        """
    )
    diff.check("LINSERT", "l", b"before\x00junk", "a", "q")
    diff.check("LRANGE", "l", "0", "-1")


# -- pops ----------------------------------------------------------------------------------------


def test_pop_counts_and_errors(diff):
    diff.run(
        """
        LPOP nokey
        LPOP nokey 0
        LPOP nokey 3
        LPOP nokey abc
        LPOP nokey -1
        RPUSH l a b c d e
        LPOP l 0
        LPOP l -1
        LPOP l 1.5
        LPOP l 1 2
        RPOP l 1 2
        LPOP l 2
        RPOP l 2
        RPOP l 9223372036854775807
        EXISTS l
        RPUSH l a
        RPOP l
        RPOP l
        RPUSH l a b
        LPOP l 1
        RPOP l 1
        EXISTS l
        """
    )


def test_pop_resp3_shapes(diff3):
    diff3.run(
        """
        LPOP nokey
        LPOP nokey 2
        RPOP nokey 0
        LMPOP 1 nokey LEFT
        LINDEX nokey 0
        LPOS nokey a
        LPOS nokey a COUNT 0
        LMOVE nokey x LEFT LEFT
        RPOPLPUSH nokey x
        RPUSH l a b c
        LPOP l 2
        RPOP l 0
        LPOS l zz
        LINDEX l 9
        LMPOP 1 l RIGHT COUNT 9
        """
    )


def test_lmpop(diff):
    diff.run(
        """
        LMPOP 0 l LEFT
        LMPOP -1 l LEFT
        LMPOP abc l LEFT
        LMPOP 1 l
        LMPOP 2 l LEFT
        LMPOP 1 l MIDDLE
        LMPOP 1 l LEFT COUNT 0
        LMPOP 1 l LEFT COUNT -1
        LMPOP 1 l LEFT COUNT abc
        LMPOP 1 l LEFT COUNT
        LMPOP 1 l LEFT FOO
        LMPOP 1 l left
        SET s x
        RPUSH l a b c d
        LMPOP 1 l LEFT COUNT 1 COUNT 1
        LMPOP 2 nokey s LEFT
        LMPOP 2 s l LEFT
        LMPOP 2 nokey l RIGHT COUNT 2
        LMPOP 3 nokey l s LEFT
        LMPOP 2 nokey l left count 10
        EXISTS l
        LMPOP 2 nokey l LEFT
        """
    )


# -- reads ---------------------------------------------------------------------------------------


def test_lrange_and_lindex_indexes(diff):
    diff.check("RPUSH", "l", *[str(i) for i in range(50)])
    bounds = ["0", "1", "-1", "-2", "25", "-25", "49", "50", "-50", "-51", "100", "-100",
              "9223372036854775807", "-9223372036854775808"]
    for start in bounds:
        diff.check("LINDEX", "l", start)
        for end in bounds:
            diff.check("LRANGE", "l", start, end)
    diff.run(
        """
        LRANGE l a 0
        LRANGE l 0 a
        LRANGE l 0 1.0
        LRANGE nokey 0 -1
        LRANGE nokey a b
        LINDEX l abc
        LINDEX nokey abc
        LINDEX l 01
        """
    )


def test_lrange_long_list_from_both_ends(diff):
    diff.check("RPUSH", "big", *[f"e{i}" for i in range(3000)])
    for start, end in [(0, 99), (2900, -1), (-100, -1), (1400, 1600), (0, -1), (-3000, 10)]:
        diff.check("LRANGE", "big", str(start), str(end))


def test_lpos(diff):
    diff.run(
        """
        RPUSH l a b a c a b a
        LPOS l a
        LPOS l b
        LPOS l zz
        LPOS l a RANK 2
        LPOS l a RANK -1
        LPOS l a RANK -3
        LPOS l a RANK 9
        LPOS l a COUNT 0
        LPOS l a COUNT 2
        LPOS l a RANK 2 COUNT 2
        LPOS l a RANK -2 COUNT 0
        LPOS l a MAXLEN 1
        LPOS l c MAXLEN 3
        LPOS l c MAXLEN 4
        LPOS l a RANK -1 MAXLEN 2
        LPOS l a COUNT 0 MAXLEN 5
        LPOS l a COUNT 0 COUNT 1
        LPOS l a rank 1 rank 3
        LPOS l a RANK 9223372036854775807
        LPOS l a RANK -9223372036854775807
        LPOS l a RANK -9223372036854775808
        LPOS l a RANK -9223372036854775808 COUNT 1
        LPOS l a RANK -9223372036854775808 COUNT 0
        LPOS l a RANK 0
        LPOS l a RANK abc
        LPOS l a COUNT -1
        LPOS l a COUNT abc
        LPOS l a MAXLEN -1
        LPOS l a MAXLEN abc
        LPOS l a FOO
        LPOS l a RANK
        LPOS l a COUNT 1 MAXLEN
        LPOS nokey a
        LPOS nokey a COUNT 0
        LPOS nokey a RANK 0
        SET s x
        LPOS s a
        LPOS s a RANK 0
        """
    )


# -- in-place changes ------------------------------------------------------------------------------


def test_lset(diff):
    diff.run(
        """
        LSET nokey 0 x
        LSET nokey abc x
        RPUSH l a b c
        LSET l 0 x
        LSET l -1 z
        LSET l 1 yy
        LSET l 3 q
        LSET l -4 q
        LSET l abc q
        LRANGE l 0 -1
        SET s v
        LSET s 0 x
        LSET s abc x
        """
    )


def test_ltrim(diff):
    diff.run(
        """
        LTRIM nokey 0 1
        LTRIM nokey a b
        EXISTS nokey
        RPUSH l 0 1 2 3 4 5 6 7 8 9
        LTRIM l 1 -2
        LRANGE l 0 -1
        LTRIM l -3 100
        LRANGE l 0 -1
        LTRIM l 0 0
        LRANGE l 0 -1
        LTRIM l 1 0
        EXISTS l
        RPUSH l 0 1 2
        LTRIM l -9223372036854775808 9223372036854775807
        LRANGE l 0 -1
        LTRIM l 5 10
        EXISTS l
        RPUSH l a b
        LTRIM l a 0
        LTRIM l 0 a
        """
    )


def test_ltrim_large_cuts(diff):
    diff.check("RPUSH", "l", *[str(i) for i in range(1000)])
    diff.check("LTRIM", "l", "10", "20")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("RPUSH", "l", *[str(i) for i in range(1000)])
    diff.check("LTRIM", "l", "500", "-400")
    diff.check("LRANGE", "l", "0", "-1")


def test_lrem(diff):
    diff.run(
        """
        LREM nokey 0 a
        LREM nokey abc a
        RPUSH l a b a c a b a
        LREM l 1 a
        LRANGE l 0 -1
        LREM l -2 a
        LRANGE l 0 -1
        LREM l 0 b
        LRANGE l 0 -1
        LREM l 0 zz
        LREM l abc a
        LREM l -9223372036854775808 a
        LRANGE l 0 -1
        LREM l 5 c
        EXISTS l
        RPUSH one x
        LREM one 0 x
        EXISTS one
        """
    )


# -- moves ---------------------------------------------------------------------------------------


def test_lmove_and_rpoplpush(diff):
    diff.run(
        """
        RPUSH src a b c
        LMOVE src dst LEFT RIGHT
        LMOVE src dst RIGHT LEFT
        LMOVE src dst left left
        LRANGE dst 0 -1
        EXISTS src
        LMOVE src dst LEFT LEFT
        LMOVE dst dst LEFT RIGHT
        LRANGE dst 0 -1
        RPOPLPUSH dst dst
        LRANGE dst 0 -1
        RPOPLPUSH dst other
        RPOPLPUSH nokey other
        LRANGE other 0 -1
        LMOVE dst other UP LEFT
        LMOVE dst other LEFT DOWN
        LMOVE nokey other LEFT DOWN
        SET s x
        LMOVE s dst LEFT LEFT
        LMOVE dst s LEFT LEFT
        RPOPLPUSH dst s
        RPOPLPUSH s dst
        LMOVE nokey s LEFT LEFT
        BLMOVE dst s LEFT LEFT 0
        BRPOPLPUSH dst s 0
        BLMOVE dst dst RIGHT LEFT 0
        BLMOVE dst fresh LEFT RIGHT 0
        LRANGE fresh 0 -1
        LRANGE dst 0 -1
        """
    )


def test_wrongtype_everywhere(diff):
    diff.check("SET", "s", "x")
    for cmd in [
        ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
        ("LPOP", "s"), ("RPOP", "s"), ("LPOP", "s", "1"), ("RPOP", "s", "0"), ("LLEN", "s"),
        ("LRANGE", "s", "0", "-1"), ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"),
        ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", "0", "a"), ("LTRIM", "s", "0", "1"),
        ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"),
        ("LMPOP", "1", "s", "LEFT"), ("BLPOP", "s", "0"), ("BRPOP", "s", "0"),
        ("BLMPOP", "0", "1", "s", "LEFT"), ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"),
        ("BRPOPLPUSH", "s", "d", "0"),
    ]:
        diff.check(*cmd)
    diff.check("HSET", "h", "f", "v")
    diff.check("LPUSH", "h", "a")
    diff.check("GET", "s")


def test_object_encoding_is_quicklist(diff):
    diff.check("RPUSH", "small", "a")
    diff.check("OBJECT", "ENCODING", "small")
    diff.check("RPUSH", "big", *["x" * 100] * 200)
    diff.check("OBJECT", "ENCODING", "big")
    diff.check("LTRIM", "big", "0", "0")
    diff.check("OBJECT", "ENCODING", "big")
    diff.check("COPY", "big", "copied")
    diff.check("OBJECT", "ENCODING", "copied")
    diff.check("LRANGE", "copied", "0", "-1")
    diff.check("TYPE", "copied")


def _debug_object(conn, key) -> str:
    text = conn.call("DEBUG", "OBJECT", key).decode()
    return re.sub(r"(Value at:\S+ )|( lru:\d+ lru_seconds_idle:\d+)", "", text)


@pytest.mark.parametrize("fill", ["-2", "-1", "-5", "-9", "0", "3", "128"])
def test_debug_object_of_pushed_lists(diff, fill):
    """Quicklist node figures and RDB size match Redis for lists built by tail pushes."""
    values = [str(i * 7919 % 100003) if i % 3 else "v" * (i % 90) for i in range(700)]
    values += ["y" * 2000] * 6 + [str(2**63 - 1), str(-(2**63)), "-5000", "abcabc"] * 30
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "list-max-listpack-size", fill)
    try:
        for start in range(0, len(values), 100):
            diff.check("RPUSH", "l", *values[start : start + 100])
        assert _debug_object(diff.ours, "l") == _debug_object(diff.theirs, "l")
        diff.check("RPUSH", "tiny", "a")
        assert _debug_object(diff.ours, "tiny") == _debug_object(diff.theirs, "tiny")
    finally:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", "list-max-listpack-size", "-2")


def test_long_queue_churn_at_both_ends(diff):
    """Many pushes and pops at both ends (the array's free room grows and is reclaimed),
    checked with reads of every kind along the way."""
    for round_ in range(6):
        diff.check("LPUSH", "q", *[f"h{round_}-{i}" for i in range(150)])
        diff.check("RPUSH", "q", *[f"t{round_}-{i}" for i in range(90)])
        for _ in range(40):
            diff.check("LPOP", "q")
        diff.check("RPOP", "q", "25")
        diff.check("LPOP", "q", "70")
        diff.check("LPUSH", "q", "x")
        diff.check("LINDEX", "q", "0")
        diff.check("LINDEX", "q", "-1")
        diff.check("LINDEX", "q", "77")
        diff.check("LSET", "q", "5", f"set{round_}")
        diff.check("LINSERT", "q", "AFTER", f"set{round_}", "ins")
        diff.check("LPOS", "q", "ins")
        diff.check("LPOS", "q", "x", "RANK", "-1", "COUNT", "0")
        diff.check("LREM", "q", "-1", "x")
        diff.check("LRANGE", "q", "10", "40")
        diff.check("LRANGE", "q", "-30", "-1")
        diff.check("LLEN", "q")
    diff.check("LTRIM", "q", "3", "-3")
    diff.check("LMOVE", "q", "q", "RIGHT", "LEFT")
    diff.check("LRANGE", "q", "0", "-1")
    diff.check("LPOP", "q", "100000")
    diff.check("EXISTS", "q")


# -- changes counted and keyspace events -----------------------------------------------------


def test_dirty_counts(diff, server):
    for cmd in [
        ("LPUSH", "l", "a", "b", "c"), ("RPUSH", "l", "d"), ("LPUSHX", "l", "e", "f"),
        ("RPUSHX", "nokey", "a"), ("LPOP", "l"), ("RPOP", "l", "2"), ("LPOP", "l", "0"),
        ("LPOP", "nokey", "2"), ("LINSERT", "l", "BEFORE", "b", "x"),
        ("LINSERT", "l", "BEFORE", "zz", "x"), ("LSET", "l", "0", "y"), ("LREM", "l", "0", "zz"),
        ("RPUSH", "l", "a", "a", "a"), ("LREM", "l", "-2", "a"), ("LTRIM", "l", "0", "-1"),
        ("LTRIM", "l", "1", "2"), ("LMOVE", "l", "m", "LEFT", "RIGHT"),
        ("RPOPLPUSH", "l", "m"), ("RPOPLPUSH", "nokey", "m"), ("LMOVE", "m", "m", "LEFT", "RIGHT"),
        ("LMPOP", "2", "nokey", "m", "LEFT", "COUNT", "5"), ("RPUSH", "n", "a", "b", "c"),
        ("BLPOP", "n", "0"), ("BRPOP", "n", "0"), ("BLMPOP", "0", "1", "n", "LEFT"),
        ("RPUSH", "n", "a", "b", "c"), ("BLMOVE", "n", "o", "LEFT", "LEFT", "0"),
        ("BRPOPLPUSH", "n", "o", "0"), ("LTRIM", "o", "5", "1"), ("RPUSH", "p", "x"),
        ("LREM", "p", "0", "x"), ("LPOS", "o", "a"), ("LRANGE", "o", "0", "-1"),
    ]:
        check_dirty(diff, server, *cmd)


def _set_events(diff, classes: str) -> None:
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "notify-keyspace-events", classes)


def _collect_events(subscriber) -> list[bytes]:
    """Messages received before the reply to a PING (in subscriber mode: ["pong", ""])."""
    subscriber.send_raw(b"*1\r\n$4\r\nPING\r\n")
    events = []
    while True:
        reply = subscriber.read_reply()
        if reply.startswith(b"*2\r\n$4\r\npong"):
            return events
        events.append(reply)


def test_keyspace_events(diff, server):
    from tests.resp_raw import RawConnection

    subscribers = [RawConnection(server.port), RawConnection(diff.theirs.sock.getpeername()[1])]
    _set_events(diff, "KEAn")
    try:
        for sub in subscribers:
            sub.call("PSUBSCRIBE", "__key*__:*")
        diff.run(
            """
            LPUSH l a b c
            RPUSH l d
            LPUSHX l e
            RPUSHX nokey e
            LINSERT l BEFORE a x
            LINSERT l BEFORE zz x
            LSET l 0 y
            LREM l 0 zz
            LREM l 1 y
            LTRIM l 0 -1
            LTRIM l 1 -1
            LPOP l
            RPOP l 2
            LMOVE l m LEFT RIGHT
            RPOPLPUSH m m
            RPUSH q 1 2
            LMPOP 1 q RIGHT COUNT 5
            RPUSH q 1
            BLPOP q 0
            RPUSH q 1
            BLMOVE q r LEFT LEFT 0
            RPUSH q 1 2
            LTRIM q 3 4
            """
        )
        ours, theirs = (_collect_events(sub) for sub in subscribers)
        assert ours == theirs
        assert len(ours) > 40
    finally:
        _set_events(diff, "")
        for sub in subscribers:
            sub.close()


# -- random operation sequences against Redis ------------------------------------------------

_VALUES = st.sampled_from(["a", "b", "c", "1", "-2", "", "xyz"])
_INDEXES = st.integers(-8, 8).map(str)
_KEYS = st.sampled_from(["k1", "k2"])
_OPS = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), _KEYS, _VALUES, _VALUES),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), _KEYS),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), _KEYS, st.integers(0, 4).map(str)),
    st.tuples(st.just("LRANGE"), _KEYS, _INDEXES, _INDEXES),
    st.tuples(st.just("LTRIM"), _KEYS, _INDEXES, _INDEXES),
    st.tuples(st.just("LINDEX"), _KEYS, _INDEXES),
    st.tuples(st.just("LSET"), _KEYS, _INDEXES, _VALUES),
    st.tuples(st.just("LREM"), _KEYS, st.integers(-3, 3).map(str), _VALUES),
    st.tuples(st.just("LINSERT"), _KEYS, st.sampled_from(["BEFORE", "AFTER"]), _VALUES, _VALUES),
    st.tuples(st.just("LPOS"), _KEYS, _VALUES,
              st.just("RANK"), st.sampled_from(["1", "-1", "2", "-2"]),
              st.just("COUNT"), st.integers(0, 3).map(str),
              st.just("MAXLEN"), st.integers(0, 5).map(str)),
    st.tuples(st.just("LMOVE"), _KEYS, _KEYS, st.sampled_from(["LEFT", "RIGHT"]),
              st.sampled_from(["LEFT", "RIGHT"])),
    st.tuples(st.just("LMPOP"), st.just("2"), _KEYS, _KEYS, st.sampled_from(["LEFT", "RIGHT"]),
              st.just("COUNT"), st.integers(1, 3).map(str)),
    st.tuples(st.just("LLEN"), _KEYS),
)


@FIXTURE_SETTINGS
@given(ops=st.lists(_OPS, max_size=30))
def test_random_operations_match_redis(diff, server, ops):
    flush_all(server)
    diff.theirs.call("FLUSHALL")
    for op in ops:
        diff.check(*op)
    for key in ("k1", "k2"):
        diff.check("LRANGE", key, "0", "-1")
