"""Set commands, differentially against real Redis 7.0 (reply bytes, errors, encodings, dirty
counts and keyspace events)."""

from __future__ import annotations

import time

import pytest
import redis

from vermilion.testing import flush_all


def _changes(conn) -> int:
    info = conn.call("INFO", "persistence").decode()
    for line in info.splitlines():
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, *command, random_reply: bool = False) -> None:
    """Run a command on both servers and compare the dirty count it adds (and the reply: as an
    unordered collection, or only its type for random replies)."""
    before = _changes(diff.ours), _changes(diff.theirs)
    if random_reply:
        diff.check_type(*command)
    else:
        diff.check_unordered(*command)
    after = _changes(diff.ours), _changes(diff.theirs)
    assert after[0] - before[0] == after[1] - before[1], f"{command}: dirty differs"


def test_sadd_srem_scard_sismember(diff):
    diff.run(
        """
        SADD s 3 1 2
        SADD s 1 5
        SCARD s
        SISMEMBER s 1
        SISMEMBER s 01
        SISMEMBER s 9
        SISMEMBER nokey 1
        SCARD nokey
        SREM s 1 9
        SREM nokey 1
        SREM s 2 3 5
        EXISTS s
        SCARD s
        """
    )


def test_smembers_intset_is_sorted(diff, diff3):
    diff.run(
        """
        SADD s 10 -3 7 0 9223372036854775807 -9223372036854775808
        SMEMBERS s
        OBJECT ENCODING s
        SMEMBERS nokey
        """
    )


def test_smembers_resp3(diff3):
    diff3.run(
        """
        SADD s 3 1 2
        SMEMBERS s
        SMEMBERS nokey
        SINTER s nokey
        SUNION s nokey
        SDIFF s nokey
        SPOP nokey 2
        SPOP s 0
        SRANDMEMBER s 5
        SRANDMEMBER nokey 5
        """
    )
    diff3.check_unordered("SADD", "h", "a", "b", "c")
    diff3.check_unordered("SMEMBERS", "h")
    diff3.check_unordered("SUNION", "h", "s")


def test_hashtable_members_unordered(diff):
    diff.check("SADD", "s", "b", "a", "c", "1")
    diff.check_unordered("SMEMBERS", "s")
    diff.check("OBJECT", "ENCODING", "s")
    diff.check("SREM", "s", "b", "a", "c")
    # Encodings never convert back.
    diff.check("OBJECT", "ENCODING", "s")
    diff.check("SMEMBERS", "s")


def test_smismember(diff):
    diff.run(
        """
        SADD s a b
        SMISMEMBER s a x b
        SMISMEMBER nokey a b
        SET str x
        SMISMEMBER str a
        """
    )


def test_encoding_thresholds(diff):
    diff.check("CONFIG", "SET", "set-max-intset-entries", "4")
    try:
        diff.run(
            """
            SADD s 1 2 3 4
            OBJECT ENCODING s
            SADD s 5
            OBJECT ENCODING s
            SADD t 1 2 3 4 5
            OBJECT ENCODING t
            SADD u a
            OBJECT ENCODING u
            SADD v 1
            SADD v a
            OBJECT ENCODING v
            SADD w -0
            OBJECT ENCODING w
            SADD x 01
            OBJECT ENCODING x
            SADD y 9223372036854775808
            OBJECT ENCODING y
            """
        )
    finally:
        diff.check("CONFIG", "SET", "set-max-intset-entries", "512")


def test_wrongtype_everywhere(diff):
    diff.check("SET", "str", "x")
    diff.check("SADD", "s", "a")
    for command in (
        ("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"), ("SISMEMBER", "str", "a"),
        ("SCARD", "str"), ("SPOP", "str"), ("SPOP", "str", "2"), ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "2"), ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a"),
        ("SINTER", "s", "str"), ("SINTER", "nokey", "str"), ("SINTERSTORE", "d", "s", "str"),
        ("SUNION", "s", "str"), ("SUNIONSTORE", "d", "str"), ("SDIFF", "str", "s"),
        ("SDIFFSTORE", "d", "s", "str"), ("SINTERCARD", "2", "s", "str"), ("SSCAN", "str", "0"),
        ("SMISMEMBER", "str", "a"),
    ):
        diff.check(*command)
    # The destination of a STORE may hold anything: it is replaced.
    diff.check("SINTERSTORE", "str", "s")
    diff.check("TYPE", "str")


def test_arity_and_syntax_errors(diff):
    diff.run(
        """
        SADD s
        SREM s
        SMOVE a b
        SPOP s 1 2
        SRANDMEMBER s 1 2
        SINTERCARD 1
        SSCAN s
        SISMEMBER s
        """
    )


def test_smove(diff):
    check_dirty(diff, "SADD", "a", "1", "2")
    check_dirty(diff, "SMOVE", "a", "b", "1")
    diff.run(
        """
        SMEMBERS a
        SMEMBERS b
        SMOVE a a 2
        SMOVE a a 9
        SMOVE a b 9
        SMOVE nokey b 1
        """
    )
    check_dirty(diff, "SADD", "b", "2")
    # Moving a member the target already has still removes it from the source.
    check_dirty(diff, "SMOVE", "a", "b", "2")
    diff.run(
        """
        EXISTS a
        SMEMBERS b
        OBJECT ENCODING b
        SMOVE b c x
        SADD d x
        SMOVE d c x
        OBJECT ENCODING c
        """
    )


def test_sinter_family(diff):
    diff.run(
        """
        SADD s1 1 2 3 4
        SADD s2 3 4 5
        SADD s3 4 5 6
        SINTER s1 s2
        SINTER s1 s2 s3
        SINTER s1
        SINTER s1 s1
        SINTER s1 nokey
        SINTERCARD 2 s1 s2
        SINTERCARD 3 s1 s2 s3
        SINTERCARD 2 s1 s2 LIMIT 1
        SINTERCARD 2 s1 s2 LIMIT 0
        SINTERCARD 2 s1 nokey
        SINTERCARD 2 s1 s2 limit 5
        """
    )
    check_dirty(diff, "SINTERSTORE", "d", "s1", "s2")
    diff.run(
        """
        SMEMBERS d
        OBJECT ENCODING d
        TTL d
        """
    )
    diff.check("EXPIRE", "d", "100")
    check_dirty(diff, "SINTERSTORE", "d", "s1", "s2")
    diff.check("TTL", "d")
    check_dirty(diff, "SINTERSTORE", "d", "s1", "nokey")
    check_dirty(diff, "SINTERSTORE", "d", "s1", "nokey")
    diff.check("EXISTS", "d")


def test_sintercard_errors(diff):
    diff.run(
        """
        SADD s 1
        SINTERCARD 0 s
        SINTERCARD -1 s
        SINTERCARD x s
        SINTERCARD 2 s
        SINTERCARD 1 s LIMIT
        SINTERCARD 1 s LIMIT -1
        SINTERCARD 1 s LIMIT x
        SINTERCARD 1 s FOO 1
        SINTERCARD 1 s LIMIT 1 LIMIT 2
        """
    )


def test_sunion_sdiff(diff):
    diff.run(
        """
        SADD s1 1 2 3 4
        SADD s2 3 4 5
        SUNION s1 s2
        SUNION s1 nokey s2
        SUNION nokey
        SDIFF s1 s2
        SDIFF s1 nokey
        SDIFF nokey s1
        SDIFF s1 s1
        SDIFF s1 s2 s1
        """
    )
    check_dirty(diff, "SUNIONSTORE", "d", "s1", "s2")
    diff.run(
        """
        SMEMBERS d
        OBJECT ENCODING d
        """
    )
    check_dirty(diff, "SDIFFSTORE", "d", "s1", "s2")
    diff.check("SMEMBERS", "d")
    check_dirty(diff, "SDIFFSTORE", "d", "s1", "s1")
    diff.check("EXISTS", "d")
    check_dirty(diff, "SUNIONSTORE", "d", "nokey")


def test_set_algebra_with_strings(diff):
    diff.check("SADD", "a", "x", "y", "z", "1")
    diff.check("SADD", "b", "y", "1", "w")
    for command in (("SINTER", "a", "b"), ("SUNION", "a", "b"), ("SDIFF", "a", "b"),
                    ("SDIFF", "b", "a")):
        diff.check_unordered(*command)
    diff.check("SUNIONSTORE", "u", "a", "b")
    diff.check("OBJECT", "ENCODING", "u")
    # Integers only: the result is an intset again, iterated in order.
    diff.check("SADD", "c", "10", "2", "x")
    diff.check("SADD", "d", "x")
    diff.check("SDIFF", "c", "d")
    diff.check("SDIFFSTORE", "e", "c", "d")
    diff.check("OBJECT", "ENCODING", "e")
    diff.check("SMEMBERS", "e")


def test_sdiffstore_encoding_follows_the_algorithm(diff):
    # A big first set and a small second: Redis copies the first set, then removes; the result
    # keeps the encoding the copy got (a hashtable when it held a string).
    diff.check("SADD", "big", *[str(i) for i in range(20)], "x")
    diff.check("SADD", "small", "x")
    diff.check("SDIFFSTORE", "r", "big", "small")
    diff.check("OBJECT", "ENCODING", "r")
    diff.check("SDIFFSTORE", "r", "big", "small", "small", "small", "small", "small")
    diff.check("OBJECT", "ENCODING", "r")


def test_spop(diff):
    diff.run(
        """
        SPOP nokey
        SPOP nokey 2
        SADD s 1
        SPOP s
        EXISTS s
        SADD s 1 2 3
        SPOP s 0
        SPOP s -1
        SPOP s x
        SPOP s 3
        EXISTS s
        SADD s 1 2 3
        SPOP s 10
        EXISTS s
        """
    )


def test_spop_counts_dirty_and_sizes(diff):
    for count in ("1", "2", "9", "10", "11"):
        diff.check("DEL", "s")
        diff.check("SADD", "s", *[str(i) for i in range(10)])
        check_dirty(diff, "SPOP", "s", count, random_reply=count in ("1", "2", "9"))
        diff.check("SCARD", "s")
    diff.check("SADD", "h", *[f"m{i}" for i in range(10)])
    check_dirty(diff, "SPOP", "h", "9", random_reply=True)
    diff.check("SCARD", "h")
    check_dirty(diff, "SPOP", "h", random_reply=True)
    diff.check("EXISTS", "h")


def test_spop_rebuild_picks_encoding_afresh(diff):
    # Popping most of a set rebuilds it from the members left: integers make an intset again.
    diff.check("SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "x")
    diff.check("OBJECT", "ENCODING", "s")
    for _ in range(20):
        diff.check("DEL", "t")
        diff.check("SADD", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "x")
        diff.check_type("SPOP", "t", "10")
        ours = diff.ours.call("SMEMBERS", "t")
        encoding = diff.ours.call("OBJECT", "ENCODING", "t")
        expected = b"$9\r\nhashtable\r\n" if b"$1\r\nx\r\n" in ours else b"$6\r\nintset\r\n"
        assert encoding == expected


def test_spop_returns_distinct_members(r):
    r.sadd("s", *range(100))
    popped = r.spop("s", 30)
    assert len(set(popped)) == 30
    assert r.scard("s") == 70
    assert not set(popped) & r.smembers("s")
    rest = r.spop("s", 69)
    assert len(set(rest)) == 69 and r.scard("s") == 1


def test_srandmember(diff):
    diff.run(
        """
        SRANDMEMBER nokey
        SRANDMEMBER nokey 3
        SRANDMEMBER nokey -3
        SADD s 1 2 3
        SRANDMEMBER s 0
        SRANDMEMBER s 3
        SRANDMEMBER s 10
        SRANDMEMBER s x
        SRANDMEMBER s -9223372036854775808
        SRANDMEMBER s 9223372036854775808
        """
    )
    diff.check_type("SRANDMEMBER", "s")
    diff.check_type("SRANDMEMBER", "s", "-10")
    diff.check_type("SRANDMEMBER", "s", "1")


def test_srandmember_distributions(r):
    r.sadd("s", *range(50))
    members = {str(i).encode() for i in range(50)}
    assert r.srandmember("s") in members
    picks = r.srandmember("s", 20)
    assert len(picks) == 20 and len(set(picks)) == 20 and set(picks) <= members
    picks = r.srandmember("s", 40)
    assert len(set(picks)) == 40
    picks = r.srandmember("s", -200)
    assert len(picks) == 200 and set(picks) <= members
    assert len(set(picks)) > 25  # with replacement, but not constant
    assert r.scard("s") == 50


def test_sscan(diff):
    diff.run(
        """
        SADD s 3 1 2 11
        SSCAN s 0
        SSCAN s 0 MATCH 1*
        SSCAN s 0 COUNT 1
        SSCAN s 7 COUNT 1
        SSCAN s 0 MATCH *
        SSCAN s 0 COUNT 0
        SSCAN s 0 COUNT x
        SSCAN s 0 TYPE set
        SSCAN s 0 MATCH
        SSCAN s x
        SSCAN s -1
        SSCAN nokey 0
        SSCAN nokey 0 COUNT x
        SSCAN nokey x
        """
    )


def test_sscan_hashtable_full_iteration(r):
    members = {f"m{i}".encode() for i in range(1000)}
    r.sadd("s", *members)
    seen = set()
    cursor = 0
    calls = 0
    while True:
        cursor, batch = r.sscan("s", cursor, count=37)
        seen.update(batch)
        calls += 1
        if cursor == 0:
            break
    assert seen == members
    assert calls > 10
    cursor, batch = r.sscan("s", 0, match="m99*", count=2000)
    assert cursor == 0 and set(batch) == {b"m99", b"m990", b"m991", b"m992", b"m993", b"m994",
                                          b"m995", b"m996", b"m997", b"m998", b"m999"}


def test_sscan_survives_concurrent_changes(r):
    """Members present for the whole scan are returned even while others come and go."""
    stable = {f"s{i}".encode() for i in range(300)}
    r.sadd("s", *stable)
    r.sadd("s", *[f"t{i}" for i in range(300)])
    seen = set()
    cursor = 0
    step = 0
    while True:
        cursor, batch = r.sscan("s", cursor, count=20)
        seen.update(batch)
        r.srem("s", f"t{step}", f"t{299 - step}")
        r.sadd("s", f"n{step}")
        step += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_dirty_counts(diff):
    check_dirty(diff, "SADD", "s", "a", "b", "c")
    check_dirty(diff, "SADD", "s", "a", "d")
    check_dirty(diff, "SADD", "s", "a")
    check_dirty(diff, "SREM", "s", "a", "x")
    check_dirty(diff, "SREM", "s", "b", "c", "d")
    check_dirty(diff, "SREM", "s", "b")


def _events(port: int, commands: list[tuple]) -> list[tuple[bytes, bytes]]:
    client = redis.Redis(port=port)
    client.config_set("notify-keyspace-events", "KEAn")
    try:
        pubsub = client.pubsub()
        pubsub.psubscribe("__keyevent@*__:*")
        pubsub.get_message(timeout=2)
        for command in commands:
            try:
                client.execute_command(*command)
            except redis.ResponseError:
                pass
        events = []
        deadline = time.time() + 2
        while time.time() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if message is None:
                if events:
                    break
                continue
            events.append((message["channel"].split(b":", 1)[1], message["data"]))
        pubsub.close()
        return events
    finally:
        client.config_set("notify-keyspace-events", "")
        client.close()


SET_EVENT_SCRIPT = [
    ("SADD", "s", "1", "2", "3"), ("SADD", "s", "1"), ("SREM", "s", "1"), ("SREM", "s", "9"),
    ("SPOP", "s"), ("SPOP", "s", "5"), ("SADD", "a", "x", "y"), ("SADD", "b", "y"),
    ("SMOVE", "a", "b", "x"), ("SMOVE", "a", "b", "y"), ("SINTERSTORE", "i", "a", "b"),
    ("SINTERSTORE", "i", "b", "nokey"), ("SUNIONSTORE", "u", "a", "b"),
    ("SDIFFSTORE", "d", "b", "nokey"), ("SDIFFSTORE", "d", "b", "b"),
    ("SREM", "b", "x", "y"),
]


def test_keyspace_events(server, oracle_port):
    flush_all(server)
    redis.Redis(port=oracle_port).flushall()
    ours = _events(server.port, SET_EVENT_SCRIPT)
    theirs = _events(oracle_port, SET_EVENT_SCRIPT)
    assert ours == theirs
    assert (b"spop", b"s") in ours and (b"sdiffstore", b"d") in ours


@pytest.mark.parametrize("members", [["1", "2", "3"], ["a", "b"]])
def test_copy_and_type(diff, members):
    diff.check("SADD", "s", *members)
    diff.check("COPY", "s", "c")
    diff.check("TYPE", "c")
    diff.check("OBJECT", "ENCODING", "c")
    diff.check("SREM", "c", members[0])
    diff.check("SCARD", "s")
    diff.check("SCARD", "c")


def _expired_keys(conn) -> int:
    for line in conn.call("INFO", "stats").decode().splitlines():
        if line.startswith("expired_keys:"):
            return int(line.split(":")[1])
    raise AssertionError("no expired_keys in INFO")


@pytest.mark.parametrize("store", [
    ("SINTERSTORE", "dst", "s"), ("SUNIONSTORE", "dst", "s"), ("SDIFFSTORE", "dst", "s"),
    ("ZUNIONSTORE", "dst", "1", "s"), ("ZRANGESTORE", "dst", "z", "0", "-1"),
    ("SORT", "s", "STORE", "dst"),
])
def test_store_over_an_expired_key(diff, store):
    diff.check("SADD", "s", "1", "2")
    diff.check("ZADD", "z", "1", "a")
    # Only the command may reclaim the key: no background expiry during the test.
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        diff.check("SET", "dst", "x", "PX", "1")
        time.sleep(0.05)
        before = _expired_keys(diff.ours), _expired_keys(diff.theirs)
        diff.check(*store)
        after = _expired_keys(diff.ours), _expired_keys(diff.theirs)
        assert after[0] - before[0] == after[1] - before[1] == 1
        diff.check("TTL", "dst")
    finally:
        diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")


@pytest.mark.parametrize("command", [("SADD", "s1", "1", "2", "3"),
                                     ("SADD", "s2", "1", "2", "300000", "70000"),
                                     ("SADD", "s3", "1", "2", "5000000000"),
                                     ("SADD", "s4", "a", "b", "c"),
                                     ("SADD", "s5", "a" * 60, "12", "b")])
def test_debug_object_serialized_length(diff, command):
    import re

    diff.check(*command)
    lengths = [re.search(rb"encoding:(\S+) serializedlength:(\d+)", reply).groups()
               for reply in diff.both("DEBUG", "OBJECT", command[1])]
    assert lengths[0] == lengths[1]


def test_debug_object_intset_keeps_its_width(diff):
    import re

    diff.check("SADD", "s", "1", "5000000000", "2")
    diff.check("SREM", "s", "5000000000")
    lengths = [re.search(rb"serializedlength:(\d+)", reply).group(1)
               for reply in diff.both("DEBUG", "OBJECT", "s")]
    assert lengths[0] == lengths[1]
