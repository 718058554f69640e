"""Pipelined calls that repeat one command on one key run as a group (registry.run_of): LPUSH,
RPUSH, LPOP, RPOP, SADD, HSET and ZADD. Every reply, the data, the encodings and the dirty count
must read as if the calls had run one by one, which is what real Redis does."""

from __future__ import annotations

import contextlib
import re
import time

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection, encode_command
from vermilion.registry import TABLE

GROUPED = ("lpush", "rpush", "lpop", "rpop", "sadd", "hset", "zadd")


def parse(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    value = reader.gets()
    return ("error", str(value)) if isinstance(value, Exception) else value


def pipeline(conn: RawConnection, commands: list[tuple]) -> list[bytes]:
    """Send every command in one write (one read on the server); the raw replies."""
    conn.send_raw(b"".join(encode_command(args) for args in commands))
    return [conn.read_reply() for _ in commands]


def changes(conn: RawConnection) -> int:
    text = parse(conn.call("INFO", "persistence")).decode()
    return int(re.search(r"rdb_changes_since_last_save:(\d+)", text).group(1))


def contents(conn: RawConnection, keys: list[str]) -> list:
    """Each key's type, encoding and value, in a form where unordered things are sorted."""
    shown = []
    for key in keys:
        kind = parse(conn.call("TYPE", key))
        encoding = parse(conn.call("OBJECT", "ENCODING", key))
        if kind == b"list":
            value = parse(conn.call("LRANGE", key, "0", "-1"))
        elif kind == b"set":
            value = sorted(parse(conn.call("SMEMBERS", key)))
        elif kind == b"hash":
            value = sorted(parse(conn.call("HGETALL", key)))
        elif kind == b"zset":
            value = parse(conn.call("ZRANGE", key, "0", "-1", "WITHSCORES"))
        else:
            value = parse(conn.call("DUMP", key))
        shown.append((key, kind, encoding, value))
    return shown


@pytest.fixture
def groups():
    """The groups each run handler is given, by command name (the handlers still run)."""
    seen: dict[str, list[int]] = {name: [] for name in GROUPED}
    originals = {}
    for name in GROUPED:
        cmd = TABLE[name.encode()]
        originals[name] = cmd.run_handler

        def counting(client, group, name=name, handler=cmd.run_handler):
            seen[name].append(len(group))
            return handler(client, group)

        cmd.run_handler = counting
    yield seen
    for name, handler in originals.items():
        TABLE[name.encode()].run_handler = handler


@contextlib.contextmanager
def configured(diff, name: str, value: str, default: str):
    """``name`` set to ``value`` on both servers for the block, then back to ``default``."""
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", name, value)
    try:
        yield
    finally:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", name, default)


def same(diff, setup: list[tuple], commands: list[tuple], keys: list[str]) -> list[bytes]:
    """Run ``setup`` then ``commands`` (one read) on both servers: replies, data and the count
    of changes must be the same."""
    for conn in (diff.ours, diff.theirs):
        for args in setup:
            conn.call(*args)
    before = (changes(diff.ours), changes(diff.theirs))
    ours = pipeline(diff.ours, commands)
    theirs = pipeline(diff.theirs, commands)
    for args, mine, redis in zip(commands, ours, theirs):
        assert mine == redis, f"{args!r}: vermilion {mine!r} != redis {redis!r}"
    assert changes(diff.ours) - before[0] == changes(diff.theirs) - before[1]
    assert contents(diff.ours, keys) == contents(diff.theirs, keys)
    return ours


def test_a_long_run_is_cut_into_groups_of_32(diff, groups):
    commands = [("RPUSH", "l", str(n)) for n in range(70)] + [("LPOP", "l")] * 40
    same(diff, [("RPUSH", "l", "first")], commands, ["l"])
    assert groups["rpush"] == [32, 32, 6]  # the single RPUSH of the set-up is no group
    assert groups["lpop"] == [32, 8]


def test_pushes_and_pops_at_both_ends(diff, groups):
    commands = ([("LPUSH", "l", f"a{n}") for n in range(5)] + [("RPUSH", "l", f"b{n}") for n in range(5)]
                + [("RPOP", "l")] * 3 + [("LPOP", "l")] * 3 + [("LRANGE", "l", "0", "-1")])
    same(diff, [("RPUSH", "l", "x")], commands, ["l"])
    assert groups["lpush"] == [5] and groups["rpush"] == [5]
    assert groups["rpop"] == [3] and groups["lpop"] == [3]


def test_pops_that_empty_the_list_delete_it(diff, groups):
    same(diff, [("RPUSH", "l", "a", "b", "c")], [("RPOP", "l")] * 5 + [("EXISTS", "l")], ["l"])
    assert groups["rpop"] == [5]  # handed over, declined: run one by one


def test_elements_of_a_kilobyte_and_more(diff, groups):
    commands = [("LPUSH", "l", "x" * size) for size in (1023, 1024, 5000, 3)]
    same(diff, [("LPUSH", "l", "y")], commands, ["l"])
    assert groups["lpush"] == [4]


def test_a_group_stops_at_another_key_name_spelling_or_argument_count(diff, groups):
    commands = [("LPUSH", "l", "1"), ("LPUSH", "l", "2"), ("LPUSH", "m", "3"), ("lpush", "m", "4"),
                ("LPUSH", "m", "5", "6"), ("LPUSH", "m", "7"), ("LPUSH", "m", "8")]
    same(diff, [("LPUSH", "l", "0"), ("LPUSH", "m", "0")], commands, ["l", "m"])
    assert groups["lpush"] == [2, 2]  # "LPUSH m 3", "lpush" and the two-element call went alone


def test_sets_stay_intsets_until_Redis_converts_them(diff, groups):
    setup = [("SADD", "s", "1"), ("SADD", "t", "1")]
    commands = ([("SADD", "s", str(n)) for n in (2, 2, 3, 1)] + [("SADD", "s", "4"), ("SADD", "s", "5")]
                + [("SADD", "t", member) for member in ("2", "x", "x", "3")])
    with configured(diff, "set-max-intset-entries", "4", "512"):
        same(diff, setup, commands, ["s", "t"])
    assert groups["sadd"] == [6, 4]


def test_hashes_convert_on_a_long_value_or_one_field_too_many(diff, groups):
    setup = [("HSET", "h", "f", "v"), ("HSET", "g", "f", "v")]
    commands = ([("HSET", "h", "a", "1"), ("HSET", "h", "a", "2"), ("HSET", "h", "b", "x" * 100)]
                + [("HSET", "g", "a", "1"), ("HSET", "g", "b", "2"), ("HSET", "g", "c", "3")])
    with configured(diff, "hash-max-listpack-entries", "3", "128"):
        same(diff, setup, commands, ["h", "g"])
    assert groups["hset"] == [3, 3]


def test_sorted_sets_with_updates_bad_scores_and_options(diff, groups):
    setup = [("ZADD", "z", "1", "a")]
    commands = [("ZADD", "z", "1", "a"), ("ZADD", "z", "2", "a"), ("ZADD", "z", "5", "b"),
                ("ZADD", "z", "nan", "c"), ("ZADD", "z", "-inf", "c"), ("ZADD", "z", "XX", "d"),
                ("ZADD", "z", "1e3", "d"), ("ZADD", "z", "inf", "e"), ("ZADD", "z", "0x10", "e"),
                ("ZADD", "z", "3.5", "f")]
    with configured(diff, "zset-max-listpack-entries", "3", "128"):
        same(diff, setup, commands, ["z"])
    assert groups["zadd"] == [10]  # ("+inf" would send the read to the exact parser)


def test_a_group_on_the_wrong_type_fails_call_by_call(diff, groups):
    commands = [("LPUSH", "s", "1"), ("LPUSH", "s", "2"), ("SADD", "l", "x"), ("SADD", "l", "y"),
                ("HSET", "s", "f", "v"), ("HSET", "s", "f", "v"), ("ZADD", "l", "1", "m"),
                ("ZADD", "l", "1", "m"), ("RPOP", "s"), ("RPOP", "s")]
    same(diff, [("SADD", "s", "m"), ("RPUSH", "l", "e")], commands, ["s", "l"])
    assert groups["lpush"] == [2] and groups["sadd"] == [2]


def test_keys_with_a_ttl_keep_it(diff, groups):
    commands = [("RPUSH", "l", "1"), ("RPUSH", "l", "2"), ("TTL", "l")]
    same(diff, [("RPUSH", "l", "0"), ("EXPIRE", "l", "1000")], commands, ["l"])
    assert groups["rpush"] == [2]


def test_a_watch_on_the_key_is_broken(diff):
    watchers = {}
    for name, conn in (("ours", diff.ours), ("theirs", diff.theirs)):
        conn.call("RPUSH", "l", "0")
        watcher = RawConnection(conn.sock.getpeername()[1])
        watcher.call("WATCH", "l")
        watcher.call("MULTI")
        watcher.call("GET", "x")
        watchers[name] = watcher
    same(diff, [], [("RPUSH", "l", "1"), ("RPUSH", "l", "2")], ["l"])
    try:
        assert watchers["ours"].call("EXEC") == watchers["theirs"].call("EXEC") == b"*-1\r\n"
    finally:
        for watcher in watchers.values():
            watcher.close()


def test_keyspace_events_come_one_per_call(diff):
    events = {}
    for name, conn in (("ours", diff.ours), ("theirs", diff.theirs)):
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        conn.call("RPUSH", "l", "0")
        listener = RawConnection(conn.sock.getpeername()[1])
        listener.call("PSUBSCRIBE", "__key*__:*")
        events[name] = listener
    try:
        same(diff, [], [("RPUSH", "l", "1"), ("RPUSH", "l", "2"), ("LPOP", "l"), ("LPOP", "l"),
                        ("LPOP", "l")], ["l"])
        heard = {name: [parse(listener.read_reply()) for _ in range(10)]
                 for name, listener in events.items()}
        assert heard["ours"] == heard["theirs"]
    finally:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        for listener in events.values():
            listener.close()


def test_a_client_blocked_on_the_list_is_served_between_pushes(diff):
    results = {}
    for name, conn in (("ours", diff.ours), ("theirs", diff.theirs)):
        blocked = RawConnection(conn.sock.getpeername()[1])
        blocked.send_raw(encode_command(("BLPOP", "l", "0")))
        for _ in range(200):
            if b"cmd=blpop" in parse(conn.call("CLIENT", "LIST")):
                break
            time.sleep(0.01)
        results[name] = (pipeline(conn, [("RPUSH", "l", "a"), ("RPUSH", "l", "b"), ("RPUSH", "l", "c")]),
                         blocked.read_reply(), parse(conn.call("LRANGE", "l", "0", "-1")))
        blocked.close()
    assert results["ours"] == results["theirs"]


def test_a_protocol_error_after_a_group_leaves_its_calls_done(diff, groups):
    bad = b"*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n:1\r\n"
    replies = {}
    for name, conn in (("ours", diff.ours), ("theirs", diff.theirs)):
        conn.send_raw(b"".join(encode_command(("LPUSH", "l", str(n))) for n in range(3)) + bad)
        got = [conn.read_reply() for _ in range(4)]
        assert conn.closed_by_peer()
        other = RawConnection(conn.sock.getpeername()[1])
        got.append(other.call("LRANGE", "l", "0", "-1"))
        other.close()
        replies[name] = got
    assert replies["ours"] == replies["theirs"]
    assert groups["lpush"] == [3]


# -- random pipelines --------------------------------------------------------------------------

KEYS = ("l", "s", "h", "z")
MEMBERS = st.sampled_from(["1", "2", "17", "-3", "a", "b", "x" * 70, "70000"])


def _call():
    return st.one_of(
        st.tuples(st.sampled_from(["LPUSH", "RPUSH"]), st.sampled_from(KEYS), MEMBERS),
        st.tuples(st.sampled_from(["LPOP", "RPOP"]), st.sampled_from(KEYS)),
        st.tuples(st.just("SADD"), st.sampled_from(KEYS), MEMBERS),
        st.tuples(st.just("HSET"), st.sampled_from(KEYS), MEMBERS, MEMBERS),
        st.tuples(st.just("ZADD"), st.sampled_from(KEYS),
                  st.sampled_from(["1", "2.5", "-inf", "nan", "NX", "x", "1e400"]), MEMBERS),
    )


# Runs of one call repeated, so that groups form.
PIPELINES = st.lists(st.tuples(_call(), st.integers(1, 40)), min_size=1, max_size=8).map(
    lambda runs: [call for call, times in runs for _ in range(times)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=PIPELINES)
def test_random_pipelines_read_as_redis(diff, commands):
    for conn in (diff.ours, diff.theirs):
        conn.call("FLUSHALL")
    setup = [("RPUSH", "l", "0"), ("SADD", "s", "5"), ("HSET", "h", "f", "v"), ("ZADD", "z", "0", "m")]
    same(diff, setup, commands, list(KEYS))
