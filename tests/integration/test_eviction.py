"""maxmemory and the eviction policies, through the wire on servers of their own."""

from __future__ import annotations

import time

import pytest
import redis

from vermilion.testing import start_server

# Room above the empty server's used_memory: a few hundred small keys (about 210 bytes each,
# with the per-key dicts counted).
ROOM = 150_000


@pytest.fixture
def limited():
    """A server factory: start_server(...) with maxmemory set just above its empty usage."""
    started = []

    def make(policy: str, room: int = ROOM, **options):
        server = start_server(**options)
        started.append(server)
        client = redis.Redis(port=server.port)
        base = client.info("memory")["used_memory"]
        client.config_set("maxmemory-policy", policy)
        client.config_set("maxmemory", base + room)
        return server, client

    yield make
    for server in started:
        server.stop()


def fill(client, prefix: str, count: int, **set_options) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.set(f"{prefix}{i}", "v" * 50, **set_options)
    pipe.execute()


def within_limit(client) -> bool:
    """Eviction runs before each write, as in Redis: the last write may overshoot by its size,
    and by a whole table when it made one of CPython's dicts resize (used_memory counts their
    real size); the cron then evicts down within a tick or two."""
    for _ in range(20):
        info = client.info("memory")
        if info["used_memory"] <= info["maxmemory"] + 1024:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random",
                                    "volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_each_policy_keeps_used_memory_within_the_limit(limited, policy):
    server, client = limited(policy)
    fill(client, "k", 2000, ex=1000)
    assert within_limit(client)
    # One transaction: the cron may evict between two separate commands.
    pipe = client.pipeline(transaction=True)
    pipe.dbsize()
    pipe.info("stats")
    keys, stats = pipe.execute()
    assert stats["evicted_keys"] > 0
    assert keys + stats["evicted_keys"] == 2000


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_never_evict_persistent_keys(limited, policy):
    server, client = limited(policy)
    fill(client, "persistent", 100)
    fill(client, "volatile", 2000, ex=1000)
    assert client.info("stats")["evicted_keys"] > 0
    assert all(client.exists(f"persistent{i}") for i in range(100))
    # Only persistent keys left once the volatile ones are gone: writes are refused.
    with pytest.raises(redis.exceptions.ResponseError, match="command not allowed when used memory"):
        fill(client, "persistent-more", 2000)


def test_noeviction_refuses_writes(limited):
    server, client = limited("noeviction")
    with pytest.raises(redis.exceptions.ResponseError) as raised:
        fill(client, "k", 2000)
    assert str(raised.value).endswith(": command not allowed when used memory > 'maxmemory'.")
    assert client.info("stats")["evicted_keys"] == 0
    assert client.get("k0") is not None  # reads still work
    client.delete("k0")


def test_volatile_ttl_evicts_the_shortest_ttl_first(limited):
    server, client = limited("volatile-ttl")
    pipe = client.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"k{i}", "v" * 50, ex=10_000 + i)
    pipe.execute()
    survivors = [i for i in range(2000) if client.exists(f"k{i}")]
    assert survivors
    # Sampling is approximate: the survivors are overwhelmingly the latest-expiring keys.
    assert sum(survivors) / len(survivors) > 1500


def cap_at_current_use(client) -> None:
    """maxmemory = used_memory now: each key written from now on evicts about one.
    (Tests write fewer than 680 keys in all: beyond that CPython's dicts resize, a step in
    used_memory that evicts many keys at once.)"""
    client.config_set("maxmemory", client.info("memory")["used_memory"])


def test_lru_keeps_recently_used_keys(limited):
    server, client = limited("allkeys-lru", room=10**9)
    fill(client, "old", 400)
    cap_at_current_use(client)
    time.sleep(2.2)  # Redis's LRU clock has a one-second resolution
    for i in range(0, 400, 4):
        client.get(f"old{i}")
    fill(client, "new", 250)
    assert client.info("stats")["evicted_keys"] > 0
    hot = sum(client.exists(f"old{i}") for i in range(0, 400, 4))
    cold = sum(client.exists(f"old{i}") for i in range(400) if i % 4)
    assert hot / 100 > 0.9
    assert cold / 300 < hot / 100 - 0.3


def test_lfu_keeps_frequently_used_keys(limited):
    server, client = limited("allkeys-lfu", room=10**9)
    fill(client, "k", 400)
    cap_at_current_use(client)
    pipe = client.pipeline(transaction=False)
    for _ in range(30):
        for i in range(0, 400, 4):
            pipe.get(f"k{i}")
    pipe.execute()
    fill(client, "new", 250)
    assert client.info("stats")["evicted_keys"] > 0
    hot = sum(client.exists(f"k{i}") for i in range(0, 400, 4))
    assert hot / 100 > 0.9


def test_evicted_event_and_counter(limited):
    server, client = limited("allkeys-random", notify_keyspace_events="Ee")
    pubsub = client.pubsub()
    pubsub.psubscribe("__keyevent@0__:evicted")
    assert pubsub.get_message(timeout=1)["type"] == "psubscribe"
    fill(client, "k", 1000)
    evicted = client.info("stats")["evicted_keys"]
    assert evicted > 0
    seen = []
    deadline = time.time() + 5
    while len(seen) < evicted and time.time() < deadline:
        message = pubsub.get_message(timeout=0.5)
        if message is not None:
            seen.append(message["data"])
    assert len(seen) == evicted
    assert not any(client.exists(key) for key in seen)
    pubsub.close()


def test_lowering_maxmemory_evicts_down_at_once(limited):
    server, client = limited("allkeys-lru", room=1_000_000)
    fill(client, "k", 3000)
    assert client.info("stats")["evicted_keys"] == 0
    used = client.info("memory")["used_memory"]
    client.config_set("maxmemory", used - 200_000)
    deadline = time.time() + 5
    while not within_limit(client) and time.time() < deadline:
        time.sleep(0.05)
    assert within_limit(client)
    assert client.info("stats")["evicted_keys"] > 0


def test_oom_inside_multi_and_exec(limited):
    server, client = limited("noeviction", room=0)
    client.config_set("maxmemory", 1)
    conn = server and redis.Redis(port=server.port)
    pipe = conn.pipeline(transaction=True)
    pipe.get("a")
    with pytest.raises(redis.exceptions.ResponseError):
        pipe.execute()
