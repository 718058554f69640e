"""MEMORY, OBJECT FREQ/IDLETIME and the maxmemory configuration, against a real Redis."""

from __future__ import annotations

import pytest
import redis

from vermilion import memory
from vermilion.testing import start_server


@pytest.fixture
def reset_policy(diff):
    yield diff
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        conn.call("CONFIG", "SET", "maxmemory", "0")


def test_memory_usage_errors_and_missing_key(diff):
    diff.check("SET", "k", "v")
    diff.check("MEMORY", "USAGE", "missing")
    diff.check("MEMORY", "USAGE", "k", "SAMPLES", "abc")
    diff.check("MEMORY", "USAGE", "k", "SAMPLES", "-1")
    diff.check("MEMORY", "USAGE", "k", "foo")
    diff.check("MEMORY", "USAGE", "k", "SAMPLES")
    diff.check("MEMORY", "USAGE", "k", "SAMPLES", "5", "extra")
    diff.check("MEMORY", "USAGE")
    diff.check("MEMORY", "DOCTOR", "x")
    diff.check("MEMORY", "PURGE", "x")
    diff.check("MEMORY", "STATS", "x")
    diff.check("MEMORY", "nosuch")
    diff.check("MEMORY")
    diff.check("MEMORY", "PURGE")


def test_memory_usage_strings_match_redis_exactly(diff):
    for value in ("12345", "-7", "x" * 20, "x" * 44, "x" * 45, "x" * 1000, "x" * 70000):
        diff.check("SET", "some:key", value)
        diff.check("MEMORY", "USAGE", "some:key")
        diff.check("MEMORY", "USAGE", "some:key", "SAMPLES", "0")


@pytest.mark.parametrize("build", [
    [["RPUSH", "k", *["element"] * 50]],
    [["RPUSH", "k", *[f"v{i}" * 20 for i in range(3000)]]],
    [["HSET", "k", *[f"f{i // 2}" if i % 2 == 0 else "value" for i in range(40)]]],
    [["HSET", "k", *[f"field{i // 2}" if i % 2 == 0 else "v" * 30 for i in range(3000)]]],
    [["SADD", "k", *range(300)]],
    [["SADD", "k", *[f"member:{i}" for i in range(2000)]]],
    [["ZADD", "k", *[str(i // 2) if i % 2 == 0 else f"m{i}" for i in range(100)]]],
    [["ZADD", "k", *[str(i // 2) if i % 2 == 0 else f"member:{i}" for i in range(2000)]]],
    [["XADD", "k", "*", "f", str(i)] for i in range(150)],
    [["PFADD", "k", *[f"e{i}" for i in range(5000)]]],
], ids=["list-small", "list-large", "hash-listpack", "hash-hashtable", "set-intset",
        "set-hashtable", "zset-listpack", "zset-skiplist", "stream", "hll-dense"])
def test_memory_usage_within_30_percent_of_redis(diff, build):
    figures = []
    for conn in (diff.ours, diff.theirs):
        for command in build:
            conn.call(*command)
        reply = conn.call("MEMORY", "USAGE", "k")
        assert reply.startswith(b":"), reply
        figures.append(int(reply[1:-2]))
    ours, theirs = figures
    assert 0.7 <= ours / theirs <= 1.3, (ours, theirs)


def test_memory_help_lists_redis_subcommands(diff):
    ours, theirs = diff.both("MEMORY", "HELP")
    syntax = [line for line in theirs.split(b"\r\n") if line[:2] == b"+" + line[1:2] and line[1:2].isupper()]
    ours_lines = ours.split(b"\r\n")
    assert ours_lines[0][:1] == b"*"
    for line in syntax:
        assert line in ours_lines, line


def test_memory_doctor_on_a_small_instance_is_redis_text(r, fresh_oracle_port):
    # A Redis of its own: the shared one may hold enough memory for real findings.
    from tests.resp_raw import RawConnection

    theirs = RawConnection(fresh_oracle_port)
    ours = RawConnection(r.connection_pool.connection_kwargs["port"])
    try:
        assert ours.call("MEMORY", "DOCTOR") == theirs.call("MEMORY", "DOCTOR")
    finally:
        ours.close()
        theirs.close()


def test_memory_stats_has_redis_fields_in_order(diff):
    import hiredis

    diff.check("SET", "k", "v")
    diff.check("EXPIRE", "k", "100")
    parsed = []
    for raw in diff.both("MEMORY", "STATS"):
        reader = hiredis.Reader()
        reader.feed(raw)
        parsed.append(reader.gets())
    ours, theirs = parsed
    assert ours[0::2] == theirs[0::2]
    # The per-key tables are this process's real dicts (docs/memory.md), bigger than Redis's.
    our_tables = dict(zip(ours[0::2], ours[1::2]))[b"db.0"]
    their_tables = dict(zip(theirs[0::2], theirs[1::2]))[b"db.0"]
    assert our_tables[0::2] == their_tables[0::2]
    for ours_figure, theirs_figure in zip(our_tables[1::2], their_tables[1::2]):
        assert ours_figure >= theirs_figure


def test_info_memory_fields_and_order_match_redis(diff):
    ours, theirs = diff.both("INFO", "memory")

    def names(raw: bytes) -> list[bytes]:
        return [line.split(b":")[0] for line in raw.split(b"\r\n")[1:] if line]

    assert names(ours) == names(theirs)


def test_used_memory_follows_writes_and_deletes(r):
    base = r.info("memory")["used_memory"]
    r.set("big", "x" * 100_000)
    grown = r.info("memory")["used_memory"]
    assert 100_000 <= grown - base <= 120_000
    r.delete("big")
    assert r.info("memory")["used_memory"] == base
    r.rpush("list", *range(10_000))
    assert r.info("memory")["used_memory"] - base > 25_000
    r.flushall()
    assert r.info("memory")["used_memory"] == base


def test_dataset_total_equals_sum_of_key_costs():
    server = start_server()
    try:
        client = redis.Redis(port=server.port)
        for i in range(200):
            client.set(f"s{i}", "v" * (i % 60))
            client.hset(f"h{i % 10}", f"f{i}", i)
            client.rpush(f"l{i % 7}", i)
            client.set(f"n{i}", i, ex=100)
        client.delete("s3", "h2")
        client.rename("l1", "renamed")
        client.rename("s4", "s5")
        client.rename("s6", "h3")
        client.set("l2", "now a string")
        client.append("s7", "more")
        client.setbit("s8", 1000, 1)
        client.pfadd("hll", "a", "b")
        client.copy("s9", "copied")
        client.move("s10", 2)
        client.incr("n1")
        client.getdel("s11")
        client.lpop("l3", 100)
        client.swapdb(0, 1)
        client.execute_command("INFO", "memory")
        for db in server.dbs:
            memory.settle(db)
            strings = [key for key, value in db.data.items() if value.__class__ is bytes]
            assert set(db.mem_costs) == set(db.data) - set(strings)
            assert db.mem_keys == len(db.data)
            expected = sum(memory.string_key_cost(key, db.data[key]) for key in strings)
            expected += sum(memory.key_cost(key, value, memory.ACCOUNTING_SAMPLES)
                            for key, value in db.data.items() if key not in strings)
            assert db.mem_total == expected
        client.close()
    finally:
        server.stop()


def test_policy_aliases(reset_policy):
    diff = reset_policy
    # "lru" and "ttl" are Vermilion's names for allkeys-lru and volatile-ttl (docs/extensions.md)
    for alias, canonical in (("lru", "allkeys-lru"), ("TTL", "volatile-ttl")):
        assert diff.ours.call("CONFIG", "SET", "maxmemory-policy", alias) == b"+OK\r\n"
        diff.theirs.call("CONFIG", "SET", "maxmemory-policy", canonical)
        diff.check("CONFIG", "GET", "maxmemory-policy")
    diff.check("CONFIG", "SET", "maxmemory-policy", "nosuch")
    diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    diff.check("CONFIG", "GET", "maxmemory-policy")


def test_policy_alias_on_the_command_line():
    server = start_server(maxmemory_policy="lru")
    try:
        assert server.config.maxmemory_policy == "allkeys-lru"
    finally:
        server.stop()


def test_object_freq_and_idletime_errors(reset_policy):
    diff = reset_policy
    diff.check("SET", "k", "v")
    diff.check("OBJECT", "FREQ", "k")
    diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    diff.check("OBJECT", "IDLETIME", "k")
    diff.check("OBJECT", "FREQ", "missing")
    diff.check("OBJECT", "FREQ", "k")


def test_lfu_counter_grows_with_accesses(r):
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        r.set("hot", "v")
        r.set("cold", "v")
        assert r.object("freq", "cold") == 5
        for _ in range(200):
            r.get("hot")
        assert r.object("freq", "hot") > 8
        assert r.object("freq", "cold") == 5
        # OBJECT itself does not count as an access
        assert r.object("freq", "cold") == 5
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_lfu_counts_every_list_and_hash_write_like_redis(reset_policy):
    # With lfu-log-factor 0 every access adds one and nothing decays, so the counters are exact:
    # the inline LPUSH/RPUSH/LPOP/RPOP/HSET/SADD paths must count as Redis's lookups do.
    diff = reset_policy
    try:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", "lfu-log-factor", "0")
            conn.call("CONFIG", "SET", "lfu-decay-time", "0")
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        diff.check("RPUSH", "list", "a", "b", "c", "d")
        diff.check("HSET", "hash", "f", "v")
        diff.check("SADD", "set", "a")
        for _ in range(3):
            diff.check("LPUSH", "list", "x")
            diff.check("RPUSH", "list", "y")
            diff.check("HSET", "hash", "f", "w")
            diff.check("SADD", "set", "b")
        diff.check("LPOP", "list")
        diff.check("RPOP", "list")
        diff.check("OBJECT", "FREQ", "list")
        diff.check("OBJECT", "FREQ", "hash")
        diff.check("OBJECT", "FREQ", "set")
    finally:
        for conn in (diff.ours, diff.theirs):
            conn.call("CONFIG", "SET", "lfu-log-factor", "10")
            conn.call("CONFIG", "SET", "lfu-decay-time", "1")


def test_oom_error_text(reset_policy):
    diff = reset_policy
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "maxmemory", "1")
    diff.check("SET", "k", "v")
    diff.check("GET", "k")
    diff.check("LPUSH", "l", "x")
    diff.check("DEL", "k")
    diff.check("MULTI")
    diff.check("GET", "k")
    diff.check("EXEC")
    diff.check("EVAL", "return 1", "0")
    diff.check("EVAL", "#!lua flags=no-writes\nreturn 1", "0")
    diff.check("EVAL", "#!lua\nreturn 1", "0")
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "maxmemory", "0")
    diff.check("MULTI")
    diff.check("SET", "k", "v")
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "maxmemory", "1")
    diff.check("EXEC")


def test_policy_alias_in_a_config_file():
    from vermilion.config import Config

    config = Config()
    config.load_text(b"maxmemory-policy TTL\n")
    assert config.show("maxmemory-policy") == "volatile-ttl"
    config.load_text(b"maxmemory-policy lru\n")
    assert config.show("maxmemory-policy") == "allkeys-lru"
