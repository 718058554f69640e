"""SORT and SORT_RO, differentially against real Redis 7.0."""

from __future__ import annotations

import pytest


def _changes(conn) -> int:
    for line in conn.call("INFO", "persistence").decode().splitlines():
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, *command) -> None:
    before = _changes(diff.ours), _changes(diff.theirs)
    diff.check(*command)
    after = _changes(diff.ours), _changes(diff.theirs)
    assert after[0] - before[0] == after[1] - before[1], f"{command}: dirty differs"


SETUP = """
RPUSH l 3 1 2 10 -5 1.5 2
SET w_3 30
SET w_1 10
SET w_2 20
SET w_10 -1
SET w_-5 abc
HSET h_3 f c n 3
HSET h_1 f a n 1
HSET h_2 f b
SET s_3 three
SET s_1 one
"""


def test_sort_list(diff):
    diff.run(SETUP)
    diff.run(
        """
        SORT l
        SORT l ASC
        SORT l DESC
        SORT l ALPHA
        SORT l ALPHA DESC
        SORT l desc alpha
        SORT l LIMIT 1 2
        SORT l LIMIT -1 2
        SORT l LIMIT 1 -1
        SORT l LIMIT 10 2
        SORT l LIMIT 0 0
        SORT l LIMIT 6 100
        SORT l DESC LIMIT 2 3
        SORT l BY nosort
        SORT l BY nosort DESC
        SORT l BY nosort LIMIT 1 2
        SORT l BY nosort DESC LIMIT 1 2
        SORT l BY nosort LIMIT 20 2
        SORT l BY nosort GET #
        SORT_RO l
        SORT_RO l DESC LIMIT 0 3
        """
    )


def test_sort_by_and_get(diff):
    diff.run(SETUP)
    diff.run(
        """
        DEL w_-5
        SORT l BY w_*
        SORT l BY w_* DESC
        SORT l BY w_* LIMIT 1 3
        SORT l BY w_* GET #
        SORT l BY w_* GET # GET h_*->f
        SORT l BY w_* GET w_* GET # GET nosuch_*
        SORT l GET h_*->f GET h_*->n GET h_*->missing
        SORT l GET h_*-> GET s_*
        SORT l GET nostar
        SORT l GET # GET #
        SORT l BY h_*->n
        SORT l BY h_*->f ALPHA
        SORT l BY h_*->f ALPHA DESC
        SORT l BY s_* ALPHA
        SORT l BY s_* ALPHA DESC
        SORT l BY s_*
        SORT l BY nosort GET s_*
        SORT l BY w_*->f
        """
    )


def test_sort_not_a_number(diff):
    diff.run(SETUP)
    diff.run(
        """
        SORT l BY w_*
        RPUSH bad 1 a 2
        SORT bad
        SORT bad ALPHA
        SORT bad BY nosort
        SORT bad LIMIT 0 1
        """
    )


@pytest.mark.parametrize("value", ["", " 1", "1 ", "0x10", "inf", "-inf", "1e5", "5.", ".5", "nan",
                                   "abc",
                                   "1e400", "4e-320", "1\x00x"])
def test_sort_number_formats(diff, value):
    # One value per sort: Redis leaves errno set after a range error, which would taint the
    # next SORT on the same connection.
    diff.check("RPUSH", "e", value, "2", "-1")
    diff.check("SORT", "e")


def test_sort_set_and_zset(diff):
    diff.run(
        """
        SADD s 5 3 1 4
        SORT s
        SORT s DESC LIMIT 1 2
        SORT s BY nosort
        SORT s ALPHA
        SADD t c a b
        SORT t ALPHA
        SORT t ALPHA DESC
        SORT t
        ZADD z 3 c 1 a 2 b
        OBJECT ENCODING z
        SORT z ALPHA
        OBJECT ENCODING z
        SORT z BY nosort
        SORT z BY nosort DESC
        SORT z BY nosort DESC LIMIT 1 5
        SORT z BY nosort LIMIT 1 1
        SORT z BY nosort LIMIT 5 1
        ZADD n 3 1 1 3 2 2
        SORT n
        SORT_RO n BY nosort
        """
    )


def test_sort_store(diff):
    diff.run(SETUP)
    check_dirty(diff, "SORT", "l", "STORE", "dst")
    diff.run(
        """
        LRANGE dst 0 -1
        TYPE dst
        OBJECT ENCODING dst
        """
    )
    check_dirty(diff, "SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    check_dirty(diff, "SORT", "l", "LIMIT", "10", "1", "STORE", "dst")
    diff.check("EXISTS", "dst")
    check_dirty(diff, "SORT", "l", "LIMIT", "10", "1", "STORE", "dst")
    check_dirty(diff, "SORT", "nokey", "STORE", "dst")
    diff.check("SET", "dst", "x")
    diff.check("EXPIRE", "dst", "100")
    check_dirty(diff, "SORT", "l", "STORE", "dst")
    diff.run(
        """
        TTL dst
        SADD s c a b
        SORT s BY nosort STORE dst
        LRANGE dst 0 -1
        SORT s BY nosort STORE dst DESC
        LRANGE dst 0 -1
        SORT l STORE
        SORT_RO l STORE dst
        """
    )


def test_sort_errors_and_edges(diff):
    diff.run(
        """
        SORT nokey
        SORT nokey DESC LIMIT 0 10
        SORT nokey BY nosort
        SET str x
        SORT str
        HSET h f v
        SORT h
        RPUSH l 1
        SORT l FOO
        SORT l LIMIT 1
        SORT l LIMIT x 1
        SORT l LIMIT 1 x
        SORT l BY
        SORT l GET
        SORT l ASC DESC ASC
        SORT
        SORT_RO
        """
    )


def test_sort_alpha_ties_and_missing_by_keys(diff):
    diff.run(
        """
        RPUSH l b a c d
        SET k_a 1
        SET k_c 1
        SORT l BY k_* ALPHA
        SORT l BY k_* ALPHA DESC
        SORT l BY k_*
        SORT l BY k_* DESC
        SORT l BY missing_* ALPHA
        SORT l BY missing_*
        """
    )


def test_sort_resp3_nulls(diff3):
    diff3.run(
        """
        RPUSH l 2 1
        SET w_1 x
        SORT l GET w_* GET #
        SORT nokey
        """
    )


def test_sort_in_a_script_sorts_sets_even_under_nosort(diff):
    diff.check("SADD", "s", "c", "a", "b", "3", "1", "2")
    diff.check("EVAL", "return redis.call('SORT', KEYS[1], 'BY', 'nosort')", "1", "s")
    script = "return redis.call('SORT_RO', KEYS[1], 'BY', 'nosort', 'DESC', 'LIMIT', '1', '3')"
    diff.check("EVAL", script, "1", "s")
    diff.check("RPUSH", "l", "b", "a")
    diff.check("EVAL", "return redis.call('SORT', KEYS[1], 'BY', 'nosort')", "1", "l")


def test_sort_store_events(server, oracle_port):
    import time

    import redis

    from vermilion.testing import flush_all

    def events(port: int) -> list:
        client = redis.Redis(port=port)
        client.config_set("notify-keyspace-events", "KEAn")
        try:
            pubsub = client.pubsub()
            pubsub.psubscribe("__keyevent@*__:*")
            pubsub.get_message(timeout=2)
            client.rpush("l", 2, 1)
            client.sort("l", store="dst")
            client.sort("nokey", store="dst")
            client.sort("nokey", store="dst")
            seen = []
            deadline = time.time() + 2
            while time.time() < deadline:
                message = pubsub.get_message(timeout=0.2)
                if message is None:
                    if seen:
                        break
                    continue
                seen.append((message["channel"].split(b":", 1)[1], message["data"]))
            pubsub.close()
            return seen
        finally:
            client.config_set("notify-keyspace-events", "")
            client.close()

    flush_all(server)
    redis.Redis(port=oracle_port).flushall()
    ours = events(server.port)
    assert ours == events(oracle_port)
    assert (b"sortstore", b"dst") in ours
