"""Stream commands, differential against real Redis 7.0 (exact reply bytes) unless noted.

Replies that carry clock readings (idle times, delivery times, seen times, generated IDs) are
compared after parsing, with those fields checked for shape and closeness instead of equality.
"""

from __future__ import annotations

import random
import shlex
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection
from vermilion.commands.streams import parse_id
from vermilion.errors import RedisError
from vermilion.testing import run_in_server
from vermilion.types.stream import MASK64, Stream, StreamNode, format_id

FIXTURE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# -- helpers ------------------------------------------------------------------------------------


def parse(raw: bytes):
    """A reply as nested (type, value) pairs: keeps RESP types that hiredis would merge."""

    def item(pos: int):
        end = raw.index(b"\r\n", pos)
        kind, head = raw[pos : pos + 1], raw[pos + 1 : end]
        after = end + 2
        if kind in (b"$", b"="):
            size = int(head)
            if size < 0:
                return (b"$", None), after
            return (kind, raw[after : after + size]), after + size + 2
        if kind in (b"*", b"%", b"~"):
            size = int(head)
            if size < 0:
                return (kind, None), after
            if kind == b"%":
                size *= 2
            items = []
            for _ in range(size):
                value, after = item(after)
                items.append(value)
            return (kind, items), after
        if kind == b":":
            return (kind, int(head)), after
        return (kind, head), after

    value, end = item(0)
    assert end == len(raw)
    return value


def masked(tree, labels=(b"idle", b"seen-time"), positions=None):
    """``tree`` with the integers that follow ``labels`` in maps, and those at ``positions``
    (a dict: row length -> index) of rows, replaced by a marker (they hold clock readings)."""
    kind, value = tree
    if kind in (b"*", b"%") and value is not None:
        out = []
        for index, child in enumerate(value):
            prev = value[index - 1] if index else None
            if prev is not None and prev[0] == b"$" and prev[1] in labels and child[0] == b":":
                out.append((b":", "time"))
                continue
            out.append(masked(child, labels, positions))
        if positions and len(out) in positions and all(c[0] != b"*" for c in out):
            index = positions[len(out)]
            if out[index][0] == b":":
                out[index] = (b":", "time")
        return (kind, out)
    return tree


def check_masked(diff, *cmd, positions=None):
    ours, theirs = diff.both(*cmd)
    assert masked(parse(ours), positions=positions) == masked(parse(theirs), positions=positions), (
        f"{cmd!r}: vermilion {ours!r} != redis {theirs!r}"
    )
    return ours


def dirty(conn: RawConnection) -> int:
    for line in conn.call("INFO", "persistence").split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save")


def check_dirty(diff, *cmd) -> bytes:
    """Same reply and the same change count (server.dirty) on both servers."""
    before = dirty(diff.ours), dirty(diff.theirs)
    reply = diff.check(*cmd)
    after = dirty(diff.ours), dirty(diff.theirs)
    assert after[0] - before[0] == after[1] - before[1], (
        f"{cmd!r}: dirty +{after[0] - before[0]} != redis +{after[1] - before[1]}"
    )
    return reply


def run(diff, script: str) -> None:
    """diff.run with shell quoting, so arguments may hold spaces or be empty."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            diff.check(*shlex.split(line))


def fill(diff, key="s", count=3, start=1):
    for i in range(start, start + count):
        diff.check("XADD", key, f"{i}-1", "f", f"v{i}")


# -- XADD -------------------------------------------------------------------------------------


def test_xadd_explicit_ids_and_errors(diff):
    run(diff, 
        """
        XADD s 1-1 a 1
        XADD s 1-1 a 1
        XADD s 0-5 a 1
        XADD s 0-0 a 1
        XADD fresh 0-0 a 1
        XADD fresh 0 a 1
        XADD s 1 a 1
        XADD s 5-* a 1
        XADD s 5-* a 1
        XADD s 5-* b 2 c 3
        XADD s 6 a 1
        XADD s 6-5 a 1
        XADD s 1-x a 1
        XADD s -1 a 1
        XADD s foo a 1
        XADD s 18446744073709551616-0 a 1
        XADD s 18446744073709551616-* a 1
        XADD s -* a 1
        XADD s 7-** a 1
        XADD s 7--* a 1
        XADD s 7-*7 a 1
        XADD s + a 1
        XADD s - a 1
        XADD s 8-01 a 1
        XADD s 9-+5 a 1
        XADD s 1 a
        XADD s 1 a 1 b
        XADD s * a
        XADD s NOMKSTREAM a
        XRANGE s - +
        XLEN s
        XADD s 18446744073709551615-18446744073709551614 a 1
        XADD s 18446744073709551615-* a 1
        XADD s 18446744073709551615-* a 1
        XADD s * a 1
        XADD fresh 0-* a 1
        XADD fresh 0-* a 1
        XRANGE fresh - +
        """
    )


def test_xadd_generated_ids(diff):
    for conn in (diff.ours, diff.theirs):
        conn.call("XADD", "s", "5-5", "a", "1")
    for _ in range(3):
        ours, theirs = diff.both("XADD", "s", "*", "a", "1")
        ms, seq = parse(ours)[1].split(b"-")
        assert abs(int(ms) - int(parse(theirs)[1].split(b"-")[0])) < 5000
        assert int(ms) > 5 and int(seq) >= 0
    # A top ID in the future makes the next generated ID increment its sequence.
    diff.check("XADD", "t", "99999999999999-5", "a", "1")
    diff.check("XADD", "t", "*", "a", "1")
    diff.check("XADD", "t", "*", "a", "1")
    diff.check("XADD", "u", "99999999999999-18446744073709551615", "a", "1")
    diff.check("XADD", "u", "*", "a", "1")
    diff.check("XRANGE", "u", "-", "+")


def test_xadd_nomkstream_and_wrongtype(diff):
    run(diff, 
        """
        XADD s NOMKSTREAM * a 1
        EXISTS s
        XADD s NOMKSTREAM MAXLEN 5 1-1 a 1
        XADD s 1-1 a 1
        XADD s NOMKSTREAM 2-2 a 1
        SET str x
        XADD str 1-1 a 1
        XADD str NOMKSTREAM 1-1 a 1
        XADD str 0-0 a 1
        XADD str MAXLEN x 1-1 a 1
        TYPE s
        OBJECT ENCODING s
        """
    )


def test_xadd_trim_options_and_errors(diff):
    run(diff, 
        """
        XADD s MAXLEN -1 * a 1
        XADD s MAXLEN x * a 1
        XADD s MAXLEN ~ x * a 1
        XADD s MAXLEN ~ * a 1
        XADD s MINID x * a 1
        XADD s MINID + * a 1
        XADD s LIMIT 10 * a 1
        XADD s LIMIT -1 MAXLEN ~ 1 * a 1
        XADD s MAXLEN 1 LIMIT 10 * a 1
        XADD s MAXLEN 1 MINID 1 * a 1
        XADD s MINID 1 MAXLEN 1 * a 1
        XADD s MAXLEN = 1 LIMIT 10 * a 1
        XADD s LIMIT 0 * a 1
        XADD s FOO * a 1
        XADD s MAXLEN 2 1-1 a 1
        XADD s MAXLEN 2 2-1 a 1
        XADD s MAXLEN 2 3-1 a 1
        XADD s maxlen = 2 4-1 a 1
        XADD s minid 4 5-1 a 1
        XADD s MINID = 5-1 6-1 a 1
        XADD s MAXLEN ~ 0 7-1 a 1
        XADD s MAXLEN ~ 0 LIMIT 0 8-1 a 1
        XRANGE s - +
        XINFO STREAM s
        """
    )


def test_xadd_counts_one_change_with_trimming(diff):
    for i in range(1, 6):
        check_dirty(diff, "XADD", "s", f"{i}-1", "a", "1")
    check_dirty(diff, "XADD", "s", "MAXLEN", "2", "9-1", "a", "1")
    check_dirty(diff, "XADD", "new", "NOMKSTREAM", "1-1", "a", "1")


# -- node layout: approximate trimming and XINFO depend on it ------------------------------------


def _configure(diff, entries: int, size: int) -> None:
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "stream-node-max-entries", str(entries))
        conn.call("CONFIG", "SET", "stream-node-max-bytes", str(size))


@pytest.fixture
def node_limits(diff):
    yield diff
    _configure(diff, 100, 4096)


def _value(rnd: random.Random) -> str:
    kind = rnd.random()
    if kind < 0.3:
        return str(rnd.randrange(-10**12, 10**12))
    if kind < 0.45:
        return str(rnd.randrange(0, 200))
    if kind < 0.5:
        return "w" * rnd.randrange(60, 5000)
    return "v" * rnd.randrange(0, 100)


@pytest.mark.parametrize("seed", range(8))
def test_node_layout_trimming_and_xinfo(node_limits, seed):
    """Nodes are cut where Redis cuts them (entry count, listpack bytes incl. integer
    encodings), so approximate trims remove the same entries and XINFO reports the same
    radix tree."""
    diff = node_limits
    rnd = random.Random(seed)
    _configure(diff, rnd.choice([100, 5, 0, 17]), rnd.choice([4096, 200, 0, 1000]))
    ms, seq = rnd.randrange(1, 10**13), 0
    fieldsets = [("a",), ("a", "b"), ("name", "x", "y"), ("f",), ("7",), ("-12", "x"),
                 tuple(f"k{i}" for i in range(70))]
    for step in range(rnd.randrange(100, 500)):
        if rnd.random() < 0.3:
            ms += rnd.randrange(1, 5000)
            seq = rnd.randrange(0, 5)
        else:
            seq += rnd.randrange(1, 300)
        args = []
        for field in rnd.choice(fieldsets):
            args += [field, _value(rnd)]
        diff.check("XADD", "s", f"{ms}-{seq}", *args)
        roll = rnd.random()
        if roll < 0.05:
            diff.check("XDEL", "s", *[f"{ms - rnd.randrange(0, 20000)}-{rnd.randrange(0, 900)}"
                                     for _ in range(5)])
            entries = parse(diff.check("XRANGE", "s", "-", "+", "COUNT", "50"))[1]
            victims = [entry[1][0][1] for entry in rnd.sample(entries, min(len(entries), 8))]
            if victims:
                diff.check("XDEL", "s", *victims)
        elif roll < 0.07:
            if rnd.random() < 0.5:
                threshold = str(rnd.randrange(0, step + 2))
                strategy = "MAXLEN"
            else:
                threshold = f"{ms - rnd.randrange(0, 40000)}-0"
                strategy = "MINID"
            exact = rnd.choice(["~", "="])
            extra = ["LIMIT", str(rnd.randrange(0, 400))] if exact == "~" and rnd.random() < 0.5 else []
            diff.check("XTRIM", "s", strategy, exact, threshold, *extra)
    diff.check("XINFO", "STREAM", "s")
    diff.check("XRANGE", "s", "-", "+")
    diff.check("XREVRANGE", "s", "+", "-", "COUNT", "9")
    diff.check("XTRIM", "s", "MAXLEN", "~", "10")
    diff.check("XINFO", "STREAM", "s")
    ours, theirs = diff.both("DEBUG", "OBJECT", "s")
    assert ours.split(b" ")[3:5] == theirs.split(b" ")[3:5]  # encoding, serializedlength


def test_default_approximate_limit_when_node_entries_unbounded(node_limits):
    diff = node_limits
    _configure(diff, 0, 4096)
    for conn in (diff.ours, diff.theirs):
        for start in range(0, 30000, 1000):
            args = []
            for i in range(start, start + 1000):
                args.append(("XADD", "s", f"{i + 1}-1", "f", "v"))
            for cmd in args:
                conn.send_raw(b"".join(_encode(cmd)))
            for _ in args:
                conn.read_reply()
    diff.check("XINFO", "STREAM", "s")
    diff.check("XTRIM", "s", "MAXLEN", "~", "0")
    diff.check("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0")
    diff.check("XLEN", "s")


def _encode(cmd):
    yield b"*%d\r\n" % len(cmd)
    for arg in cmd:
        arg = arg.encode() if isinstance(arg, str) else arg
        yield b"$%d\r\n%s\r\n" % (len(arg), arg)


# -- XRANGE / XREVRANGE / XLEN / XDEL / XTRIM ------------------------------------------------------


def test_xrange_bounds_count_and_errors(diff):
    fill(diff, count=5)
    run(diff, 
        """
        XRANGE s - +
        XRANGE s 2 4
        XRANGE s 2-1 4-0
        XRANGE s (2-1 +
        XRANGE s - (4-1
        XRANGE s (1 (5
        XRANGE s ( +
        XRANGE s (- +
        XRANGE s - (+
        XRANGE s (18446744073709551615-18446744073709551615 +
        XRANGE s - (0-0
        XRANGE s (0-0 (18446744073709551615-18446744073709551615
        XRANGE s - + COUNT 2
        XRANGE s - + COUNT 0
        XRANGE s - + COUNT -3
        XRANGE s - + count 1 COUNT 3
        XRANGE s - + COUNT
        XRANGE s - + COUNT x
        XRANGE s - + LIMIT 1
        XRANGE s 4 2
        XRANGE s +1 3
        XRANGE s " 2" 3
        XRANGE s 02-01 3
        XRANGE s 1--01 +
        XRANGE s 1- +
        XRANGE s -1 +
        XRANGE s 1-2-3 +
        XRANGE s 18446744073709551616 +
        XRANGE s 1-18446744073709551616 +
        XREVRANGE s + -
        XREVRANGE s + - COUNT 2
        XREVRANGE s (4-1 (1-1
        XREVRANGE s 2 4
        XREVRANGE s + - COUNT 0
        XRANGE nokey - +
        XRANGE nokey - + COUNT 0
        XREVRANGE nokey + -
        XRANGE nokey x +
        """
    )
    diff.check("XRANGE", "s", "1-1" * 50, "+")
    diff.ours.call("HELLO", "3")
    diff.theirs.call("HELLO", "3")
    run(diff, 
        """
        XRANGE s - + COUNT 2
        XRANGE s - + COUNT 0
        XRANGE nokey - +
        """
    )


def test_xrange_skips_deleted_entries_across_nodes(node_limits):
    diff = node_limits
    _configure(diff, 3, 4096)
    fill(diff, count=12)
    diff.check("XDEL", "s", "2-1", "4-1", "5-1", "6-1", "12-1")
    run(diff, 
        """
        XRANGE s - +
        XRANGE s 4 9
        XREVRANGE s + -
        XREVRANGE s 8 2 COUNT 2
        XRANGE s 5-1 6-1
        XINFO STREAM s
        XADD s 13-1 f v
        XINFO STREAM s
        """
    )


def test_xlen_xdel(diff):
    fill(diff, count=4)
    run(diff, 
        """
        XLEN s
        XLEN nokey
        XDEL s 1-x
        XDEL s 2-1 2-1 9-9
        XDEL s 1
        XDEL s +
        XDEL s -
        XDEL nokey 1-1
        XDEL nokey x
        XLEN s
        XINFO STREAM s
        XDEL s 1-1
        XINFO STREAM s
        XDEL s 3-1 4-1
        XINFO STREAM s
        EXISTS s
        SET str x
        XLEN str
        XDEL str 1-1
        """
    )
    fill(diff, key="d", count=4)
    check_dirty(diff, "XDEL", "d", "1-1", "3-1", "8-8")
    check_dirty(diff, "XDEL", "d", "8-8")


def test_xtrim(diff):
    fill(diff, count=10)
    run(diff, 
        """
        XTRIM s
        XTRIM s MAXLEN
        XTRIM s LIMIT 3
        XTRIM s FOO 1
        XTRIM s MAXLEN x
        XTRIM s MAXLEN -1
        XTRIM s MINID x
        XTRIM s MAXLEN 1 LIMIT 2
        XTRIM s MAXLEN ~ 1 LIMIT -1
        XTRIM s MAXLEN 1 MINID 1
        XTRIM s MAXLEN ~ 5
        XTRIM s MAXLEN 8
        XTRIM s MINID 3
        XTRIM s MINID = 3-2
        XTRIM s MINID ~ 9
        XTRIM s maxlen = 2
        XINFO STREAM s
        XTRIM nokey MAXLEN 1
        XTRIM nokey MAXLEN x
        SET str x
        XTRIM str MAXLEN 1
        """
    )
    fill(diff, key="d", count=10)
    check_dirty(diff, "XTRIM", "d", "MAXLEN", "4")
    check_dirty(diff, "XTRIM", "d", "MAXLEN", "4")
    check_dirty(diff, "XTRIM", "d", "MAXLEN", "~", "0")


# -- XSETID ---------------------------------------------------------------------------------------


def test_xsetid(diff):
    run(diff, 
        """
        XSETID nokey 1-1
        XADD s 5-1 a 1
        XADD s 6-1 a 1
        XSETID s 1-1
        XSETID s 6-1
        XSETID s 9
        XINFO STREAM s
        XSETID s 7-0
        XSETID s 8-1 ENTRIESADDED 1
        XSETID s 8-1 ENTRIESADDED -1
        XSETID s 8-1 ENTRIESADDED x
        XSETID s 8-1 ENTRIESADDED 10 MAXDELETEDID 9-0
        XSETID s 8-1 ENTRIESADDED 10 MAXDELETEDID 3-0
        XSETID s 8-1 MAXDELETEDID 0-0
        XSETID s 8-1 MAXDELETEDID +
        XSETID s 8-1 MAXDELETEDID
        XSETID s 8-1 FOO
        XSETID s +
        XSETID s -
        XSETID s x
        XINFO STREAM s
        XDEL s 6-1
        XDEL s 5-1
        XSETID s 1-1
        XSETID s 0-0
        XINFO STREAM s
        SET str x
        XSETID str 1-1
        XSETID str x
        """
    )
    check_dirty(diff, "XSETID", "s", "20-0")


# -- consumer groups ---------------------------------------------------------------------------


def test_xgroup_subcommands_and_errors(diff):
    fill(diff, count=2)
    run(diff, 
        """
        XGROUP HELP
        XGROUP CREATE s g 0
        XGROUP CREATE s g 0
        XGROUP CREATE s g2 0 FOO
        XGROUP CREATE s g3 0 ENTRIESREAD -2
        XGROUP CREATE s g3 0 ENTRIESREAD x
        XGROUP CREATE s g3 0 ENTRIESREAD
        XGROUP CREATE s g3 0 MKSTREAM MKSTREAM
        XGROUP CREATE s g4 $ ENTRIESREAD -1
        XGROUP CREATE s g5 1-1 ENTRIESREAD 10
        XGROUP CREATE s g6 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM
        XGROUP CREATE s g6 +
        XGROUP CREATE s g6 x
        XGROUP CREATE s g6 1
        XGROUP SETID s nog 0
        XGROUP SETID s g 0 MKSTREAM
        XGROUP SETID s g $ ENTRIESREAD 5
        XGROUP SETID s g +
        XGROUP SETID s g -
        XGROUP SETID s g x
        XGROUP SETID s g 0 ENTRIESREAD
        XGROUP SETID s g 0 ENTRIESREAD 1 ENTRIESREAD 2
        XGROUP SETID nokey g 0
        XGROUP CREATECONSUMER s g alice
        XGROUP CREATECONSUMER s g alice
        XGROUP CREATECONSUMER s nog alice
        XGROUP DELCONSUMER s g alice
        XGROUP DELCONSUMER s g alice
        XGROUP DELCONSUMER s nog alice
        XGROUP DESTROY s g
        XGROUP DESTROY s g
        XGROUP DESTROY nokey g
        XGROUP CREATE nokey g 0
        XGROUP CREATE nokey g $ MKSTREAM
        XGROUP CREATE nokey2 g 7-7 MKSTREAM ENTRIESREAD 3
        XINFO STREAM nokey2
        XGROUP FOO s g
        XGROUP DESTROY s g extra
        XGROUP CREATE s
        XGROUP HELP extra
        XINFO GROUPS s
        XINFO GROUPS nokey2
        SET str x
        XGROUP CREATE str g 0
        XGROUP CREATE str g 0 MKSTREAM
        XGROUP FOO str g
        XGROUP DESTROY str g
        """
    )


def test_xgroup_changes_count_without_touching_watch(diff):
    fill(diff, count=3)
    check_dirty(diff, "XGROUP", "CREATE", "s", "g", "0")
    check_dirty(diff, "XGROUP", "CREATE", "s", "g", "0")
    check_dirty(diff, "XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM")
    check_dirty(diff, "XGROUP", "SETID", "s", "g", "1")
    check_dirty(diff, "XGROUP", "CREATECONSUMER", "s", "g", "c")
    check_dirty(diff, "XGROUP", "CREATECONSUMER", "s", "g", "c")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    check_dirty(diff, "XGROUP", "DELCONSUMER", "s", "g", "c")
    check_dirty(diff, "XGROUP", "DELCONSUMER", "s", "g", "c")
    check_dirty(diff, "XGROUP", "DESTROY", "s", "g")
    check_dirty(diff, "XGROUP", "DESTROY", "s", "g")


def _watch_survives(diff, setup: list[tuple], cmd: tuple, key: str = "s") -> None:
    results = []
    for conn in (diff.ours, diff.theirs):
        for step in setup:
            conn.call(*step)
        watcher = RawConnection(_port_of(conn))
        try:
            watcher.call("WATCH", key)
            conn.call(*cmd)
            watcher.call("MULTI")
            watcher.call("PING")
            results.append(watcher.call("EXEC"))
        finally:
            watcher.close()
    assert results[0] == results[1], f"{cmd!r}: vermilion {results[0]!r} != redis {results[1]!r}"


def _port_of(conn: RawConnection) -> int:
    return conn.sock.getpeername()[1]


@pytest.mark.parametrize(
    "cmd",
    [
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("XACK", "s", "g", "1-1"),
        ("XGROUP", "CREATE", "s", "g2", "0"),
        ("XGROUP", "SETID", "s", "g", "0"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c9"),
        ("XGROUP", "DELCONSUMER", "s", "g", "c"),
        ("XGROUP", "DESTROY", "s", "g"),
        ("XSETID", "s", "99-0"),
        ("XCLAIM", "s", "g", "c2", "0", "1-1"),
        ("XAUTOCLAIM", "s", "g", "c2", "0", "0"),
        ("XDEL", "s", "2-1"),
        ("XTRIM", "s", "MAXLEN", "1"),
        ("XADD", "s", "9-1", "f", "v"),
    ],
)
def test_which_commands_touch_watch(diff, cmd):
    setup = [
        ("DEL", "s"),
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "2-1", "f", "v"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"),
    ]
    _watch_survives(diff, setup, cmd)


def test_xreadgroup_delivery_history_and_noack(diff):
    fill(diff, count=4)
    run(diff, 
        """
        XGROUP CREATE s g 0
        XREADGROUP GROUP g alice COUNT 2 STREAMS s >
        XREADGROUP GROUP g bob STREAMS s >
        XREADGROUP GROUP g bob STREAMS s >
        XREADGROUP GROUP g alice STREAMS s 0
        XREADGROUP GROUP g alice COUNT 1 STREAMS s 0
        XREADGROUP GROUP g alice STREAMS s 1-1
        XREADGROUP GROUP g alice STREAMS s 18446744073709551615-18446744073709551615
        XREADGROUP GROUP g carol STREAMS s 0
        XDEL s 3-1
        XREADGROUP GROUP g bob STREAMS s 0
        XADD s 5-1 f v5
        XADD s 6-1 f v6
        XREADGROUP GROUP g dave NOACK STREAMS s >
        XINFO GROUPS s
        XPENDING s g
        XGROUP SETID s g 0
        XREADGROUP GROUP g erin COUNT 2 STREAMS s >
        XPENDING s g
        XINFO GROUPS s
        XREADGROUP GROUP g alice STREAMS s s > >
        XREADGROUP GROUP g alice STREAMS s s 0 >
        XREADGROUP GROUP g alice STREAMS s s > 0
        """
    )


def test_xreadgroup_counts_changes(diff):
    fill(diff, count=4)
    diff.check("XGROUP", "CREATE", "s", "g", "0")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "9")
    check_dirty(diff, "XREADGROUP", "GROUP", "g", "c4", "STREAMS", "s", ">")
    diff.check("XINFO", "GROUPS", "s")
    check_masked(diff, "XINFO", "CONSUMERS", "s", "g")


def test_xread_and_xreadgroup_errors(diff):
    fill(diff, count=2)
    run(diff, 
        """
        XREAD STREAMS s
        XREAD STREAMS s s 0
        XREAD COUNT x STREAMS s 0
        XREAD BLOCK -1 STREAMS s 0
        XREAD BLOCK x STREAMS s 0
        XREAD BLOCK 1.5 STREAMS s 0
        XREAD BLOCK 9223372036854775808 STREAMS s 0
        XREAD GROUP g c STREAMS s 0
        XREAD NOACK STREAMS s 0
        XREAD FOO STREAMS s 0
        XREAD STREAMS s >
        XREAD STREAMS s +
        XREAD STREAMS s -
        XREAD STREAMS s (0
        XREAD COUNT 1
        XREAD STREAMS s 0-0 COUNT
        XREAD COUNT 1 STREAMS s 0 BLOCK 10
        XREADGROUP STREAMS s 0
        XREADGROUP COUNT 1 BLOCK 1 STREAMS s 0
        XREADGROUP NOACK COUNT 1 STREAMS s 0
        XREADGROUP GROUP g c STREAMS s 0
        XREADGROUP GROUP g c STREAMS s 0 1
        XREADGROUP GROUP g c COUNT 1 STREAMS s
        XGROUP CREATE s g 0
        XREADGROUP GROUP g c STREAMS s $
        XREADGROUP GROUP g c STREAMS s +
        XREADGROUP GROUP g c STREAMS s -
        XREADGROUP GROUP g c STREAMS s (0
        XREADGROUP GROUP g2 c STREAMS s 0
        XREADGROUP GROUP g c STREAMS s nokey > >
        XREADGROUP GROUP g c NOACK NOACK STREAMS s >
        XREADGROUP GROUP g c BLOCK x STREAMS s >
        XREADGROUP GROUP g c GROUP g d STREAMS s >
        XPENDING s g
        SET str x
        XREAD STREAMS str 0
        XREAD STREAMS s str 0 0
        XREAD STREAMS str s 0 x
        XREADGROUP GROUP g c STREAMS str 0
        """
    )


def test_xread_shapes_resp2_and_resp3(diff):
    fill(diff, count=3)
    fill(diff, key="t", count=2)
    script = """
        XREAD STREAMS s 0
        XREAD COUNT 1 STREAMS s t 0 0
        XREAD STREAMS s t 2-1 $
        XREAD STREAMS s t 3-1 $
        XREAD STREAMS nokey s 0 1
        XREAD STREAMS s s 0 1-1
        XREAD COUNT 0 STREAMS s 0
        XREAD COUNT -1 STREAMS s 0
        XREAD STREAMS s 18446744073709551615-18446744073709551615
        XREAD STREAMS nokey $
        XREAD BLOCK 10 STREAMS nokey $
        XREAD BLOCK 10 STREAMS s $
    """
    run(diff, script)
    diff.ours.call("HELLO", "3")
    diff.theirs.call("HELLO", "3")
    run(diff, script)
    run(diff, 
        """
        XGROUP CREATE s g 0
        XREADGROUP GROUP g c STREAMS s >
        XDEL s 2-1
        XREADGROUP GROUP g c STREAMS s 0
        XREADGROUP GROUP g c STREAMS s >
        """
    )


def test_xread_with_deleted_tail(diff):
    fill(diff, count=3)
    run(diff, 
        """
        XDEL s 3-1
        XREAD STREAMS s 2-1
        XREAD STREAMS s 1-1
        XDEL s 1-1 2-1
        XREAD STREAMS s 0
        XINFO STREAM s
        """
    )


def test_xack(diff):
    fill(diff, count=4)
    run(diff, 
        """
        XACK s g 1-1
        XACK nokey g x
        XGROUP CREATE s g 0
        XACK s nog 1-1
        XACK s g x
        XREADGROUP GROUP g alice STREAMS s >
        XACK s g 1-1 x
        XACK s g +
        XACK s g 1-1 2-1 2-1 9-9
        XACK s g 1
        XPENDING s g
        SET str x
        XACK str g 1-1
        """
    )
    check_dirty(diff, "XACK", "s", "g", "3-1", "4-1", "5-1")
    check_dirty(diff, "XACK", "s", "g", "3-1")


def test_xpending(diff):
    fill(diff, count=3)
    run(diff, 
        """
        XPENDING s g
        XGROUP CREATE s g 0
        XPENDING s g
        XPENDING s g - + 10
        XREADGROUP GROUP g c1 COUNT 2 STREAMS s >
        XREADGROUP GROUP g c0 STREAMS s >
        XPENDING s g
        XPENDING s nog
        XPENDING nokey g
        XPENDING s g - +
        XPENDING s g -
        XPENDING s g IDLE x - + 10
        XPENDING s g IDLE 100000 - + 10
        XPENDING s g IDLE 10 - +
        XPENDING s g IDLE 10 - + 10 c1 extra
        XPENDING s g - + x
        XPENDING s g - + -1
        XPENDING s g - + 0
        XPENDING s g x + 10
        XPENDING s g (18446744073709551615-18446744073709551615 + 10
        XPENDING s g - (0 10
        XPENDING s g - + 10 nobody
        XPENDING s nog - + 10
        SET str x
        XPENDING str g
        XPENDING str g x + 10
        """
    )
    check_masked(diff, "XPENDING", "s", "g", "-", "+", "10", positions={4: 2})
    check_masked(diff, "XPENDING", "s", "g", "(1-1", "+", "10", positions={4: 2})
    check_masked(diff, "XPENDING", "s", "g", "-", "+", "1", positions={4: 2})
    check_masked(diff, "XPENDING", "s", "g", "-", "+", "10", "c1", positions={4: 2})
    check_masked(diff, "XPENDING", "s", "g", "-", "+", "10", "c1", "extra", positions={4: 2})
    check_masked(diff, "XPENDING", "s", "g", "IDLE", "-5", "-", "+", "10", positions={4: 2})
    diff.ours.call("HELLO", "3")
    diff.theirs.call("HELLO", "3")
    run(diff, 
        """
        XGROUP CREATE s empty $
        XPENDING s empty
        XPENDING s g
        """
    )


def test_xpending_idle_filter_and_times(diff):
    fill(diff, count=2)
    diff.check("XGROUP", "CREATE", "s", "g", "0")
    diff.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
    time.sleep(0.3)
    diff.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
    reply = check_masked(diff, "XPENDING", "s", "g", "IDLE", "200", "-", "+", "10", positions={4: 2})
    rows = parse(reply)[1]
    assert len(rows) == 1 and rows[0][1][2][1] >= 200


def test_xclaim(diff):
    fill(diff, count=6)
    diff.check("XGROUP", "CREATE", "s", "g", "0")
    diff.check("XREADGROUP", "GROUP", "g", "c1", "COUNT", "4", "STREAMS", "s", ">")
    run(diff, 
        """
        XCLAIM s g c2 x 1-1
        XCLAIM s g c2 0 1-1 IDLE x
        XCLAIM s g c2 0 1-1 TIME x
        XCLAIM s g c2 0 1-1 RETRYCOUNT x
        XCLAIM s g c2 0 1-1 LASTID x
        XCLAIM s g c2 0 1-1 FOO
        XCLAIM s g c2 0 x
        XCLAIM s g c2 0 1-1 IDLE
        XCLAIM s g c2 0 1-1 FORCE 9-9
        XCLAIM s nog c2 0 1-1
        XCLAIM nokey g c2 0 1-1
        XCLAIM nokey g c2 x 1-1
        XCLAIM s g c3 0 9-9
        XCLAIM s g c3 100000 1-1
        XCLAIM s g c2 0 1-1 JUSTID
        XCLAIM s g c2 -5 2-1
        XCLAIM s g c2 0 2-1 3-1 JUSTID RETRYCOUNT 7
        XCLAIM s g c4 0 5-1
        XCLAIM s g c4 0 5-1 FORCE
        XCLAIM s g c4 0 6-1 FORCE JUSTID
        XCLAIM s g c4 0 9-9 FORCE
        XPENDING s g
        XDEL s 4-1
        XCLAIM s g c5 0 4-1 3-1
        XPENDING s g
        XCLAIM s g c5 0 3-1 LASTID 100-0
        XINFO GROUPS s
        XCLAIM s g c5 0 9-9 LASTID 200-0
        XINFO GROUPS s
        XCLAIM s g c5 0 3-1 IDLE -100 TIME 1 JUSTID
        SET str x
        XCLAIM str g c 0 1-1
        """
    )
    check_masked(diff, "XPENDING", "s", "g", "-", "+", "10", positions={4: 2})
    check_masked(diff, "XINFO", "CONSUMERS", "s", "g")
    diff.check("XCLAIM", "s", "g", "c6", "0", "1-1", "TIME", "1000", "RETRYCOUNT", "9", "JUSTID")
    check_masked(diff, "XPENDING", "s", "g", "-", "1-1", "10", positions={4: 2})
    diff.check("XCLAIM", "s", "g", "c6", "0", "2-1", "IDLE", "123456", "JUSTID")
    ours, theirs = diff.both("XPENDING", "s", "g", "2-1", "2-1", "10")
    assert abs(parse(ours)[1][0][1][2][1] - 123456) < 5000
    assert masked(parse(ours), positions={4: 2}) == masked(parse(theirs), positions={4: 2})


def test_xclaim_counts_changes(diff):
    fill(diff, count=4)
    diff.check("XGROUP", "CREATE", "s", "g", "0")
    diff.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    check_dirty(diff, "XCLAIM", "s", "g", "c2", "0", "1-1", "2-1")
    check_dirty(diff, "XCLAIM", "s", "g", "c2", "100000", "3-1")
    check_dirty(diff, "XCLAIM", "s", "g", "c2", "0", "3-1", "JUSTID", "LASTID", "9-0")
    check_dirty(diff, "XCLAIM", "s", "g", "c2", "0", "8-8", "LASTID", "10-0")
    diff.check("XDEL", "s", "4-1")
    check_dirty(diff, "XCLAIM", "s", "g", "c3", "0", "4-1")


def test_xautoclaim(diff):
    fill(diff, count=6)
    diff.check("XGROUP", "CREATE", "s", "g", "0")
    diff.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    run(diff, 
        """
        XAUTOCLAIM s g c4 x 0
        XAUTOCLAIM s g c4 0 x
        XAUTOCLAIM s g c4 0 0 COUNT 0
        XAUTOCLAIM s g c4 0 0 COUNT x
        XAUTOCLAIM s g c4 0 0 COUNT -1
        XAUTOCLAIM s g c4 0 0 COUNT 9223372036854775807
        XAUTOCLAIM s g c4 0 0 COUNT 576460752303423488
        XAUTOCLAIM s g c4 0 0 COUNT 576460752303423487
        XAUTOCLAIM s g c4 0 0 FOO
        XAUTOCLAIM s g c4 0 0 COUNT
        XAUTOCLAIM s nog c4 0 0
        XAUTOCLAIM nokey g c4 0 0
        XAUTOCLAIM nokey g c4 0 0 FOO
        XAUTOCLAIM s g c4 0 (18446744073709551615-18446744073709551615
        XAUTOCLAIM s g c5 100000 0 COUNT 2
        XINFO GROUPS s
        XAUTOCLAIM s g c4 0 0 JUSTID COUNT 2
        XAUTOCLAIM s g c4 0 0 COUNT 1
        XAUTOCLAIM s g c4 0 (1-1 COUNT 1
        XDEL s 1-1 2-1 4-1
        XAUTOCLAIM s g c6 0 0 COUNT 2
        XAUTOCLAIM s g c6 0 0 COUNT 2
        XAUTOCLAIM s g c6 0 0 COUNT 2
        XAUTOCLAIM s g c6 0 0 COUNT 2
        XPENDING s g
        SET str x
        XAUTOCLAIM str g c 0 0
        """
    )
    check_masked(diff, "XINFO", "CONSUMERS", "s", "g")
    check_dirty(diff, "XAUTOCLAIM", "s", "g", "c7", "0", "0", "JUSTID")
    diff.ours.call("HELLO", "3")
    diff.theirs.call("HELLO", "3")
    diff.check("XAUTOCLAIM", "s", "g", "c7", "0", "0")


def test_xinfo(diff):
    run(diff, 
        """
        XINFO HELP
        XINFO HELP extra
        XINFO STREAM nokey
        XINFO GROUPS nokey
        XINFO CONSUMERS nokey g
        XINFO FOO nokey
        XADD s 1-1 a 1 b 2
        XADD s 2-1 a 3 b 4
        XADD s 3-1 c 5
        XINFO STREAM s
        XINFO STREAM s FULL
        XINFO STREAM s FULL COUNT 1
        XINFO STREAM s FULL COUNT 0
        XINFO STREAM s FULL COUNT -1
        XINFO STREAM s FULL COUNT x
        XINFO STREAM s FULL COUNT
        XINFO STREAM s FULLX
        XINFO STREAM s FULL COUNTS 1
        XINFO STREAM s FULL COUNT 1 x
        XINFO STREAM s foo
        XINFO GROUPS s
        XINFO GROUPS s extra
        XINFO CONSUMERS s g
        XINFO FOO s
        XGROUP CREATE s g 0
        XGROUP CREATE s a $
        XINFO GROUPS s
        XINFO CONSUMERS s g
        XINFO CONSUMERS s nog
        SET str x
        XINFO STREAM str
        XINFO FOO str
        XGROUP CREATE empty g $ MKSTREAM
        XINFO STREAM empty
        XINFO STREAM empty FULL
        """
    )
    diff.check("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">")
    diff.check("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    full_rows = {4: 2, 3: 1}
    check_masked(diff, "XINFO", "STREAM", "s", "FULL", positions=full_rows)
    check_masked(diff, "XINFO", "STREAM", "s", "FULL", "COUNT", "1", positions=full_rows)
    check_masked(diff, "XINFO", "CONSUMERS", "s", "g")
    diff.check("XINFO", "GROUPS", "s")
    diff.ours.call("HELLO", "3")
    diff.theirs.call("HELLO", "3")
    run(diff, 
        """
        XINFO STREAM s
        XINFO GROUPS s
        XINFO STREAM empty
        XINFO STREAM empty FULL
        """
    )
    check_masked(diff, "XINFO", "STREAM", "s", "FULL", positions=full_rows)
    check_masked(diff, "XINFO", "CONSUMERS", "s", "g")


def test_type_encoding_copy_and_debug(diff):
    fill(diff, count=3)
    diff.check("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "1")
    diff.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
    run(diff, 
        """
        TYPE s
        OBJECT ENCODING s
        COPY s t
        XINFO STREAM t
        XINFO GROUPS t
        XPENDING t g
        XACK t g 1-1
        XPENDING s g
        XPENDING t g
        XADD t 9-1 f v
        XLEN s
        XLEN t
        """
    )
    for key in ("s", "t"):
        ours, theirs = diff.both("DEBUG", "OBJECT", key)
        assert ours.split(b" ")[2:5] == theirs.split(b" ")[2:5]


# -- consumer group lag and read counters ---------------------------------------------------------


def _lag_step(rnd: random.Random, top: int) -> list[str]:
    group = rnd.choice(["g1", "g2", "g3"])
    roll = rnd.random()
    if roll < 0.3:
        return ["XADD", "s", f"{top}-1", "f", "v"]
    if roll < 0.4:
        return ["XDEL", "s", f"{rnd.randrange(1, top + 1)}-1"]
    if roll < 0.47:
        strategy = rnd.choice(["MAXLEN", "MINID"])
        threshold = str(rnd.randrange(0, top + 1)) + ("-1" if strategy == "MINID" else "")
        return ["XTRIM", "s", strategy, rnd.choice(["=", "~"]), threshold]
    if roll < 0.55:
        cmd = ["XGROUP", "CREATE", "s", group, rnd.choice(["0", "$", f"{rnd.randrange(0, top + 1)}-1"]),
               "MKSTREAM"]
        if rnd.random() < 0.2:
            cmd += ["ENTRIESREAD", str(rnd.randrange(-1, top + 1))]
        return cmd
    if roll < 0.62:
        cmd = ["XGROUP", "SETID", "s", group, rnd.choice(["0", "$", f"{rnd.randrange(0, top + 1)}-1"])]
        if rnd.random() < 0.3:
            cmd += ["ENTRIESREAD", str(rnd.randrange(-1, top + 1))]
        return cmd
    if roll < 0.85:
        cmd = ["XREADGROUP", "GROUP", group, "c", "COUNT", str(rnd.randrange(1, 4)), "STREAMS", "s", ">"]
        if rnd.random() < 0.2:
            cmd.insert(6, "NOACK")
        return cmd
    if roll < 0.9:
        cmd = ["XSETID", "s", f"{top + rnd.randrange(0, 3)}-1"]
        if rnd.random() < 0.3:
            cmd += ["ENTRIESADDED", str(top + 5)]
        if rnd.random() < 0.3:
            cmd += ["MAXDELETEDID", f"{rnd.randrange(0, top)}-1"]
        return cmd
    if roll < 0.95:
        return ["XCLAIM", "s", group, "c2", "0", f"{rnd.randrange(1, top + 1)}-1", "LASTID",
                f"{rnd.randrange(1, top + 3)}-1"]
    return ["XGROUP", "DESTROY", "s", group]


@pytest.mark.parametrize("seed", range(4))
def test_lag_and_entries_read_follow_redis(diff, seed):
    """entries-read and lag (including when Redis cannot tell and answers nil) after random
    mixes of appends, deletions, trims, group moves and reads."""
    rnd = random.Random(seed)
    for _scenario in range(40):
        for conn in (diff.ours, diff.theirs):
            conn.call("DEL", "s")
        top = 1
        for _step in range(rnd.randrange(1, 30)):
            cmd = _lag_step(rnd, top)
            if cmd[0] == "XADD":
                top += 1
            diff.check(*cmd)
            diff.check("XINFO", "GROUPS", "s")
        diff.check("XINFO", "STREAM", "s")


# -- keyspace events -------------------------------------------------------------------------------


def _events(conn: RawConnection) -> list[bytes]:
    conn.sock.settimeout(0.3)
    seen = []
    try:
        while True:
            reply = parse(conn.read_reply())
            seen.append(reply[1][2][1].rsplit(b":", 1)[1] + b" " + reply[1][3][1])
    except OSError:
        pass
    conn.sock.settimeout(10)
    conn.buffer = b""
    return seen


def test_keyspace_events(diff):
    subscribers = []
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub = RawConnection(_port_of(conn))
        sub.call("PSUBSCRIBE", "__keyevent@0__:*")
        subscribers.append(sub)
    try:
        script = [
            ("XADD", "s", "1-1", "f", "v"),
            ("XADD", "s", "MAXLEN", "1", "2-1", "f", "v"),
            ("XADD", "s", "NOMKSTREAM", "MAXLEN", "5", "3-1", "f", "v"),
            ("XADD", "none", "NOMKSTREAM", "1-1", "f", "v"),
            ("XDEL", "s", "2-1", "9-9"),
            ("XDEL", "s", "9-9"),
            ("XTRIM", "s", "MAXLEN", "0"),
            ("XTRIM", "s", "MAXLEN", "0"),
            ("XSETID", "s", "10-0"),
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM"),
            ("XGROUP", "SETID", "s", "g", "$"),
            ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
            ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
            ("XADD", "s", "11-1", "f", "v"),
            ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", "0"),
            ("XREADGROUP", "GROUP", "g", "e", "STREAMS", "s", ">"),
            ("XCLAIM", "s", "g", "f", "0", "11-1"),
            ("XAUTOCLAIM", "s", "g", "h", "0", "0"),
            ("XACK", "s", "g", "11-1"),
            ("XGROUP", "DELCONSUMER", "s", "g", "c"),
            ("XGROUP", "DESTROY", "s", "g"),
            ("DEL", "s"),
        ]
        for cmd in script:
            diff.check(*cmd)
        assert _events(subscribers[0]) == _events(subscribers[1])
    finally:
        for conn, sub in zip((diff.ours, diff.theirs), subscribers):
            sub.close()
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")


# -- RDB form of the nodes --------------------------------------------------------------------------


def _lzf_decompress(data: bytes, size: int) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(data):
        ctrl = data[pos]
        pos += 1
        if ctrl < 32:
            out += data[pos : pos + ctrl + 1]
            pos += ctrl + 1
            continue
        length = ctrl >> 5
        ref = len(out) - ((ctrl & 0x1F) << 8) - 1
        if length == 7:
            length += data[pos]
            pos += 1
        ref -= data[pos]
        pos += 1
        for _ in range(length + 2):
            out.append(out[ref])
            ref += 1
    assert len(out) == size
    return bytes(out)


def _rdb_length(data: bytes, pos: int) -> tuple[int, int, bool]:
    first = data[pos]
    kind = first >> 6
    if kind == 0:
        return first & 0x3F, pos + 1, False
    if kind == 1:
        return ((first & 0x3F) << 8) | data[pos + 1], pos + 2, False
    if first == 0x80:
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5, False
    if first == 0x81:
        return int.from_bytes(data[pos + 1 : pos + 9], "big"), pos + 9, False
    return first & 0x3F, pos + 1, True


def _rdb_string(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos, special = _rdb_length(data, pos)
    if not special:
        return data[pos : pos + length], pos + length
    assert length == 3, "only LZF strings are expected here"
    packed, pos, _ = _rdb_length(data, pos)
    size, pos, _ = _rdb_length(data, pos)
    return _lzf_decompress(data[pos : pos + packed], size), pos + packed


def test_nodes_rebuild_redis_listpacks_byte_for_byte(node_limits, server):
    """Each node's listpack() equals the listpack Redis dumps for the same history (what the
    RDB writer needs), tombstones and integer encodings included."""
    diff = node_limits
    _configure(diff, 7, 4096)
    rnd = random.Random(5)
    ms = 1700000000000
    for step in range(60):
        ms += rnd.choice([0, 1, 5, 300, 70000])
        fields = rnd.choice([("f",), ("f", "g"), ("h",)])
        args = []
        for field in fields:
            args += [field, _value(rnd) if rnd.random() < 0.5 else str(rnd.randrange(-99999, 99999))]
        diff.check("XADD", "s", f"{ms}-{step}", *args)
    entries = parse(diff.check("XRANGE", "s", "-", "+"))[1]
    diff.check("XDEL", "s", *[entry[1][0][1] for entry in entries[3:40:4]])
    diff.check("XTRIM", "s", "MAXLEN", "=", "45")
    payload = diff.theirs.call("DUMP", "s")
    data = parse(payload)[1]
    assert data[0] in (15, 19)
    count, pos, _ = _rdb_length(data, 1)
    theirs = []
    for _ in range(count):
        key, pos = _rdb_string(data, pos)
        listpack, pos = _rdb_string(data, pos)
        theirs.append((key, listpack))

    def ours():
        stream = server.dbs[0].data[b"s"]
        return [(node.rax_key(), node.listpack()) for node in stream.nodes]

    assert run_in_server(server, ours) == theirs


# -- ID parsing and the stream structure --------------------------------------------------------------


@given(st.integers(0, MASK64), st.integers(0, MASK64))
def test_id_round_trip(ms, seq):
    sid = (ms << 64) | seq
    assert parse_id(format_id(sid)) == sid
    assert parse_id(b"%d" % ms, MASK64) == (ms << 64) | MASK64


@given(st.binary(max_size=24))
def test_id_parser_accepts_only_what_redis_accepts(text):
    # Redis reads each part with string2ull: canonical numbers, or whatever strtoull consumes
    # entirely (signs, leading blanks) without overflowing.
    def reference(part: bytes):
        part = part.split(b"\0", 1)[0]
        stripped = part.lstrip(b" \t\n\v\f\r")
        sign = stripped[:1]
        digits = stripped[1:] if sign in (b"+", b"-") else stripped
        if not digits or not digits.isdigit() or int(digits) > MASK64:
            return None
        value = int(digits)
        return (-value) & MASK64 if sign == b"-" else value

    head = text.split(b"\0", 1)[0]
    try:
        got = parse_id(text)
    except RedisError:
        got = None
    if head in (b"-", b"+"):
        assert got == (0 if head == b"-" else (1 << 128) - 1)
        return
    if len(text) > 127:
        assert got is None
        return
    ms_part, dash, seq_part = head.partition(b"-")
    ms = reference(ms_part)
    seq = reference(seq_part) if dash else 0
    expected = None if ms is None or seq is None else (ms << 64) | seq
    assert got == expected


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3)), min_size=1, max_size=60),
       st.lists(st.integers(0, 80), max_size=20))
def test_stream_range_matches_a_plain_list(steps, deletions):
    stream = Stream()
    model = []
    sid = 1 << 64
    for gap, fields in steps:
        sid += gap
        items = tuple(b"x" for _ in range(2 * fields + 2))
        stream.append(sid, items, 60, 4)
        model.append(sid)
    for index in deletions:
        if index < len(model):
            victim = model[index]
            assert stream.delete(victim)
            model.remove(victim)
    assert [sid for sid, _ in stream.range(0, (1 << 128) - 1)] == model
    assert [sid for sid, _ in stream.range(0, (1 << 128) - 1, rev=True)] == model[::-1]
    if model:
        low, high = model[len(model) // 3], model[-1]
        assert [s for s, _ in stream.range(low, high, 3)] == [s for s in model if low <= s <= high][:3]
    assert stream.length == len(model)


def test_node_listpack_of_a_single_entry():
    node = StreamNode(5 << 64, (b"f",))
    node.append(5 << 64, (b"f", b"v"))
    data = node.listpack()
    assert len(data) == node.lp_bytes()
    assert data[:4] == len(data).to_bytes(4, "little")


def test_block_option_refused_in_scripts(diff):
    fill(diff, count=1)
    run(diff, 
        """
        XGROUP CREATE s g $
        EVAL "return redis.call('XREAD','BLOCK','0','STREAMS','s','$')" 0
        EVAL "return redis.call('xread','BLOCK','0','STREAMS','s','0')" 0
        EVAL "return redis.pcall('XREAD','BLOCK','x','STREAMS','s','0')" 0
        EVAL "return redis.call('XREADGROUP','GROUP','g','c','BLOCK','0','STREAMS','s','>')" 0
        EVAL "return redis.call('XREADGROUP','GROUP','g','c','STREAMS','s','>')" 0
        EVAL "return redis.call('XREAD','STREAMS','s','0')" 0
        """
    )
