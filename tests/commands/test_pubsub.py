"""Pub/Sub: subscription replies, subscriber mode, delivery (RESP2 and RESP3), introspection,
output-buffer limits, and real subscribers (redis-py PubSub, redis-cli), differential against
real Redis."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

import hiredis
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection, encode_command


class Side:
    """Connections to one server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conns: list[RawConnection] = []

    def connect(self, resp3: bool = False) -> RawConnection:
        conn = RawConnection(self.port)
        if resp3:
            conn.call("HELLO", "3")
        self.conns.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


class Both:
    """The same moves on Vermilion and on real Redis; ``connect`` gives a connection pair."""

    def __init__(self, diff) -> None:
        self.ours = Side(diff.ours.sock.getpeername()[1])
        self.theirs = Side(diff.theirs.sock.getpeername()[1])

    def connect(self, resp3: bool = False) -> tuple[RawConnection, RawConnection]:
        return self.ours.connect(resp3), self.theirs.connect(resp3)

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture
def both(diff):
    pair = Both(diff)
    yield pair
    pair.close()


def check(pair: tuple[RawConnection, RawConnection], *args) -> bytes:
    ours, theirs = pair[0].call(*args), pair[1].call(*args)
    assert ours == theirs, f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
    return ours


def read_same(pair: tuple[RawConnection, RawConnection]) -> bytes:
    """The next reply (or push) each side sends, which must be identical."""
    ours, theirs = pair[0].read_reply(), pair[1].read_reply()
    assert ours == theirs, f"vermilion {ours!r} != redis {theirs!r}"
    return ours


def nothing_pending(pair: tuple[RawConnection, RawConnection], wait: float = 0.05) -> None:
    for conn in pair:
        conn.sock.settimeout(wait)
        try:
            data = conn.buffer or conn.sock.recv(4096)
        except socket.timeout:
            data = b""
        finally:
            conn.sock.settimeout(10)
        assert data == b"", data


def parse(reply: bytes):
    reader = hiredis.Reader()
    reader.feed(reply)
    return reader.gets()


def replies(conn: RawConnection, count: int) -> list[bytes]:
    return [conn.read_reply() for _ in range(count)]


def check_multi(pair, args: tuple, count: int, ordered: bool = True) -> list[bytes]:
    """A command answered by ``count`` pushes (SUBSCRIBE a b c ...)."""
    for conn in pair:
        conn.send_raw(encode_command(args))
    ours, theirs = replies(pair[0], count), replies(pair[1], count)
    if ordered:
        assert ours == theirs, f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
    else:
        # Redis walks a hash table here: the same pushes in an unspecified order, with the
        # remaining-subscriptions counts falling the same way.
        assert sorted(parse(r)[1] for r in ours) == sorted(parse(r)[1] for r in theirs), (ours, theirs)
        assert [parse(r)[2] for r in ours] == [parse(r)[2] for r in theirs], (ours, theirs)
        assert [r[:4] for r in ours] == [r[:4] for r in theirs]
    return ours


def pushes(data: bytes) -> list:
    """Every push in ``data``, parsed."""
    reader = hiredis.Reader()
    reader.feed(data)
    found = []
    while True:
        item = reader.gets()
        if item is False:
            return found
        found.append(item)


# -- subscribing -------------------------------------------------------------------------------------


def test_subscribe_and_unsubscribe_replies(both):
    sub = both.connect()
    check_multi(sub, ("SUBSCRIBE", "a", "b", "a"), 3)
    check_multi(sub, ("UNSUBSCRIBE", "b", "nope"), 2)
    check_multi(sub, ("PSUBSCRIBE", "p*", "q?"), 2)
    check_multi(sub, ("SUBSCRIBE", "c"), 1)
    check_multi(sub, ("UNSUBSCRIBE",), 2, ordered=False)
    check_multi(sub, ("UNSUBSCRIBE",), 1)
    check_multi(sub, ("PUNSUBSCRIBE",), 2)  # patterns go in subscription order
    check_multi(sub, ("PUNSUBSCRIBE",), 1)
    check_multi(sub, ("PUNSUBSCRIBE", "x"), 1)
    # Out of subscriber mode again: ordinary commands work.
    check(sub, "SET", "k", "v")


def test_shard_channels_are_counted_apart(both):
    sub = both.connect()
    check_multi(sub, ("SSUBSCRIBE", "s1", "s2"), 2)
    check_multi(sub, ("SUBSCRIBE", "c1"), 1)
    check_multi(sub, ("SUNSUBSCRIBE", "s1"), 1)
    check_multi(sub, ("UNSUBSCRIBE",), 1)
    check(sub, "PING")  # still subscribed to s2
    check_multi(sub, ("SUNSUBSCRIBE",), 1)
    check_multi(sub, ("SUNSUBSCRIBE",), 1)
    check(sub, "GET", "k")


def test_subscriber_mode_allows_only_subscriber_commands(both):
    sub = both.connect()
    check(sub, "SUBSCRIBE", "ch")
    for args in (("GET", "k"), ("SET", "k", "v"), ("CONFIG", "GET", "maxmemory"), ("MULTI",),
                 ("HELLO", "3"), ("PUBSUB", "NUMPAT"), ("PUBLISH", "ch", "x"), ("CHANNELS",)):
        ours, theirs = sub[0].call(*args), sub[1].call(*args)
        if args == ("CHANNELS",):
            # Not a Redis command: Redis calls it unknown, Vermilion refuses it like the others.
            assert ours.startswith(b"-ERR Can't execute 'channels'")
        else:
            assert ours == theirs, (args, ours, theirs)
    check(sub, "PING")
    check(sub, "PING", "hello")
    check(sub, "PING", "a", "b")
    check(sub, "NOSUCHCOMMAND")
    check(sub, "SUBSCRIBE")
    check(sub, "PSUBSCRIBE", "x*")
    check(sub, "RESET")
    check(sub, "GET", "k")


def test_quit_in_subscriber_mode(both):
    sub = both.connect()
    check(sub, "SUBSCRIBE", "ch")
    check(sub, "QUIT")
    assert sub[0].closed_by_peer() and sub[1].closed_by_peer()


def test_resp3_subscriber_runs_normal_commands(both):
    sub = both.connect(resp3=True)
    check(sub, "SUBSCRIBE", "ch")
    check(sub, "SET", "k", "v")
    check(sub, "GET", "k")
    check(sub, "PING")
    check(sub, "PING", "x")
    publisher = both.connect()
    check(publisher, "PUBLISH", "ch", "hello")
    read_same(sub)
    check(sub, "UNSUBSCRIBE", "ch")
    check(sub, "UNSUBSCRIBE")
    check(sub, "PUNSUBSCRIBE")


def test_subscribe_inside_exec(both):
    client = both.connect()
    check(client, "MULTI")
    check(client, "SUBSCRIBE", "a", "b")
    check(client, "PSUBSCRIBE", "p*")
    check(client, "SSUBSCRIBE", "s")
    check(client, "PING")
    check(client, "EXEC")
    check(client, "PING")
    check(client, "GET", "x")


# -- delivery ----------------------------------------------------------------------------------------


def test_message_and_pmessage_delivery(both):
    sub = both.connect()
    psub = both.connect()
    publisher = both.connect()
    check(sub, "SUBSCRIBE", "news")
    check(psub, "PSUBSCRIBE", "news.*")
    assert check(publisher, "PUBLISH", "news", "Breaking News: Redis Pub/Sub is awesome!") == b":1\r\n"
    assert read_same(sub) == b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$40\r\nBreaking News: Redis Pub/Sub is awesome!\r\n"
    assert check(publisher, "PUBLISH", "news.tech", "chips") == b":1\r\n"
    assert read_same(psub) == b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$5\r\nchips\r\n"
    check(publisher, "PUBLISH", "nobody", "x")
    nothing_pending(sub)
    nothing_pending(psub)


def test_one_client_on_a_channel_and_a_matching_pattern_gets_both(both):
    sub = both.connect()
    publisher = both.connect()
    check(sub, "SUBSCRIBE", "a.b")
    check(sub, "PSUBSCRIBE", "a.*")
    assert check(publisher, "PUBLISH", "a.b", "m") == b":2\r\n"
    read_same(sub)
    read_same(sub)


def test_delivery_follows_subscription_order(both):
    subs = [both.connect() for _ in range(3)]
    for sub in subs:
        check(sub, "SUBSCRIBE", "ch")
    publisher = both.connect()
    assert check(publisher, "PUBLISH", "ch", "x") == b":3\r\n"
    for sub in subs:
        read_same(sub)


def test_binary_and_empty_messages(both):
    sub = both.connect()
    publisher = both.connect()
    check(sub, "SUBSCRIBE", "bin\x00\xff", "")
    check(sub, "PSUBSCRIBE", "*")
    check(publisher, "PUBLISH", "bin\x00\xff", "\r\n\x00")
    read_same(sub)
    read_same(sub)
    # "*" does not match the empty channel name in Redis's matcher.
    assert check(publisher, "PUBLISH", "", "") == b":1\r\n"
    read_same(sub)


def test_resp3_pushes(both):
    sub = both.connect(resp3=True)
    publisher = both.connect()
    check(sub, "SUBSCRIBE", "ch")
    check(sub, "PSUBSCRIBE", "c*")
    check(sub, "SSUBSCRIBE", "sh")
    check(publisher, "PUBLISH", "ch", "hi")
    assert read_same(sub).startswith(b">3\r\n$7\r\nmessage")
    assert read_same(sub).startswith(b">4\r\n$8\r\npmessage")
    check(publisher, "SPUBLISH", "sh", "shard")
    assert read_same(sub).startswith(b">3\r\n$8\r\nsmessage")
    check(sub, "PUNSUBSCRIBE")
    check(sub, "SUNSUBSCRIBE")


def test_publisher_subscribed_to_its_own_channel_resp3(both):
    client = both.connect(resp3=True)
    check(client, "SUBSCRIBE", "me")
    # Redis writes the push before the integer reply of PUBLISH.
    for conn in client:
        conn.send_raw(b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nme\r\n$1\r\nx\r\n*1\r\n$4\r\nPING\r\n")
    assert replies(client[0], 3) == replies(client[1], 3)


def test_spublish_reaches_only_shard_subscribers(both):
    shard = both.connect()
    plain = both.connect()
    publisher = both.connect()
    check(shard, "SSUBSCRIBE", "orders")
    check(plain, "SUBSCRIBE", "orders")
    check(plain, "PSUBSCRIBE", "*")
    assert check(publisher, "SPUBLISH", "orders", "o1") == b":1\r\n"
    read_same(shard)
    nothing_pending(plain)
    assert check(publisher, "PUBLISH", "orders", "o2") == b":2\r\n"
    nothing_pending(shard)


# -- introspection -----------------------------------------------------------------------------------


def test_pubsub_introspection(both, diff):
    one = both.connect()
    two = both.connect()
    check_multi(one, ("SUBSCRIBE", "channel1", "news"), 2)
    check_multi(two, ("SUBSCRIBE", "channel1", "other"), 2)
    check_multi(two, ("PSUBSCRIBE", "news.*", "n*"), 2)
    check(one, "PSUBSCRIBE", "news.*")
    check(one, "SSUBSCRIBE", "shard1")
    diff.check_unordered("PUBSUB", "CHANNELS")
    diff.check_unordered("PUBSUB", "CHANNELS", "n*")
    diff.check("PUBSUB", "CHANNELS", "zz*")
    diff.check("PUBSUB", "NUMSUB", "channel1", "channel2", "news", "other")
    diff.check("PUBSUB", "NUMSUB")
    diff.check("PUBSUB", "NUMPAT")
    diff.check("PUBSUB", "SHARDCHANNELS")
    diff.check("PUBSUB", "SHARDCHANNELS", "s*")
    diff.check("PUBSUB", "SHARDCHANNELS", "x*")
    diff.check("PUBSUB", "SHARDNUMSUB", "shard1", "channel1")
    diff.check("PUBSUB", "SHARDNUMSUB")
    info_ours = diff.ours.call("INFO", "stats")
    info_theirs = diff.theirs.call("INFO", "stats")
    for field in (b"pubsub_channels", b"pubsub_patterns", b"pubsubshard_channels"):
        pattern = field + rb":(\d+)"
        assert re.search(pattern, info_ours).group(1) == re.search(pattern, info_theirs).group(1)
    # Disconnection forgets a subscriber's channels.
    for conn in two:
        conn.close()
    time.sleep(0.1)
    diff.check("PUBSUB", "NUMSUB", "channel1", "other")
    diff.check("PUBSUB", "NUMPAT")


def test_pubsub_errors(diff):
    diff.run(
        """
        PUBSUB
        PUBSUB NOSUCH
        PUBSUB NUMPAT x
        PUBSUB HELP x
        PUBLISH a
        SPUBLISH a
        SUBSCRIBE
        PSUBSCRIBE
        SSUBSCRIBE
        """
    )
    diff.check("PUBSUB", "CHANNELS", "a", "b")
    diff.check("PUBSUB", "shardchannels", "a", "b")


def test_pubsub_help_lists_every_subcommand(r):
    lines = [line.decode() if isinstance(line, bytes) else line for line in r.execute_command("PUBSUB", "HELP")]
    assert lines[0].startswith("PUBSUB <subcommand>")
    for name in ("CHANNELS", "NUMPAT", "NUMSUB", "SHARDCHANNELS", "SHARDNUMSUB", "HELP"):
        assert any(line.startswith(name) for line in lines), name


def test_channels_and_numsub_extensions(both, diff):
    sub = both.connect()
    check(sub, "SUBSCRIBE", "channel1", "chat:room1")
    ours = diff.ours
    # The notes' words answer what PUBSUB CHANNELS / PUBSUB NUMSUB answer on real Redis.
    assert sorted(parse(ours.call("CHANNELS"))) == sorted(parse(diff.theirs.call("PUBSUB", "CHANNELS")))
    assert ours.call("CHANNELS", "chat:*") == diff.theirs.call("PUBSUB", "CHANNELS", "chat:*")
    assert ours.call("NUMSUB", "channel1", "channel2") == diff.theirs.call("PUBSUB", "NUMSUB", "channel1", "channel2")
    assert ours.call("NUMSUB") == b"*0\r\n"
    assert ours.call("CHANNELS", "a", "b") == b"-ERR wrong number of arguments for 'channels' command\r\n"
    info = parse(ours.call("COMMAND", "INFO", "channels", "numsub"))
    assert [entry[0] for entry in info] == [b"channels", b"numsub"]
    docs = parse(ours.call("COMMAND", "DOCS", "channels"))
    assert b"Vermilion extension" in docs[1][1]


def test_client_list_fields_and_kill_by_type(both, diff):
    sub = both.connect()
    check(sub, "CLIENT", "SETNAME", "listener")
    check_multi(sub, ("SUBSCRIBE", "a", "b"), 2)
    check(sub, "PSUBSCRIBE", "p*")
    check(sub, "SSUBSCRIBE", "s")
    for conn in (diff.ours, diff.theirs):
        listing = conn.call("CLIENT", "LIST").decode()
        line = next(row for row in listing.split("\n") if "name=listener" in row)
        fields = dict(field.split("=", 1) for field in line.split())
        assert (fields["flags"], fields["sub"], fields["psub"], fields["ssub"]) == ("P", "2", "1", "1"), line
        typed = conn.call("CLIENT", "LIST", "TYPE", "pubsub").decode()
        assert "name=listener" in typed
    diff.check("CLIENT", "KILL", "TYPE", "pubsub")
    assert sub[0].closed_by_peer() and sub[1].closed_by_peer()


def test_reset_and_disconnect_drop_subscriptions(both, diff):
    sub = both.connect()
    check(sub, "SUBSCRIBE", "x")
    check(sub, "PSUBSCRIBE", "y*")
    check(sub, "SSUBSCRIBE", "z")
    check(sub, "RESET")
    diff.check("PUBSUB", "NUMSUB", "x")
    diff.check("PUBSUB", "NUMPAT")
    diff.check("PUBSUB", "SHARDNUMSUB", "z")
    check(sub, "GET", "k")
    assert diff.check("PUBLISH", "x", "m") == b":0\r\n"
    nothing_pending(sub)


# -- a property: any subscription history answers as in Redis -------------------------------------

_NAMES = st.sampled_from(["a", "b", "ab", "a*", "*", "b?", "[ab]*"])
_MOVES = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE",
                                                  "SSUBSCRIBE", "SUNSUBSCRIBE", "PUBLISH", "SPUBLISH"]),
              st.lists(_NAMES, min_size=1, max_size=3)),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=_MOVES)
def test_subscription_histories_match_redis(diff, moves):
    pairs = [(RawConnection(diff.ours.sock.getpeername()[1]), RawConnection(diff.theirs.sock.getpeername()[1]))
             for _ in range(3)]
    publisher = (diff.ours, diff.theirs)
    try:
        for who, verb, names in moves:
            if verb in ("PUBLISH", "SPUBLISH"):
                check(publisher, verb, names[0], "m")
                # Each subscriber must have received exactly the same pushes (pattern order
                # across distinct patterns is unspecified in Redis, so compare as sets).
                for pair in pairs:
                    got = [pushes(_drain(conn)) for conn in pair]
                    assert sorted(map(repr, got[0])) == sorted(map(repr, got[1])), got
                continue
            pair = pairs[who]
            check_multi(pair, (verb, *names), len(names))
        for verb in ("PUBSUB NUMPAT", "PUBSUB NUMSUB a b ab", "PUBSUB SHARDNUMSUB a b ab"):
            check(publisher, *verb.split())
        diff.check_unordered("PUBSUB", "CHANNELS")
        diff.check_unordered("PUBSUB", "SHARDCHANNELS")
    finally:
        for pair in pairs:
            for conn in pair:
                conn.close()
        time.sleep(0.02)


def _drain(conn: RawConnection) -> bytes:
    conn.sock.settimeout(0.05)
    data = conn.buffer
    conn.buffer = b""
    try:
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    finally:
        conn.sock.settimeout(10)
    return data


# -- slow subscribers ----------------------------------------------------------------------------------


def _flood(port: int, limit: str, messages: int = 400, size: int = 100_000) -> tuple[list[int], float]:
    admin = redis.Redis(port=port)
    admin.config_set("client-output-buffer-limit", limit)
    slow = socket.create_connection(("127.0.0.1", port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nfeed\r\n")
    time.sleep(0.05)
    counts = []
    started = time.time()
    try:
        payload = b"x" * size
        for _ in range(messages):
            counts.append(admin.publish("feed", payload))
            if counts[-1] == 0:
                break
        elapsed = time.time() - started
        return counts, elapsed
    finally:
        admin.config_set("client-output-buffer-limit", "pubsub 33554432 8388608 60")
        admin.close()
        slow.close()


def test_slow_subscriber_is_dropped_at_the_hard_limit(server, oracle_port):
    for port in (server.port, oracle_port):
        counts, elapsed = _flood(port, "pubsub 1mb 0 0")
        # The subscriber was dropped well before the publisher ran out of messages, and the
        # publisher never waited for it.
        assert counts[-1] == 0, (port, counts[-5:])
        assert len(counts) < 200, (port, len(counts))
        assert elapsed < 5, (port, elapsed)
    client = redis.Redis(port=server.port)
    assert client.pubsub_numsub("feed") == [(b"feed", 0)]
    client.close()


def test_slow_subscriber_is_dropped_after_the_soft_limit_period(server):
    admin = redis.Redis(port=server.port)
    admin.config_set("client-output-buffer-limit", "pubsub 0 512kb 1")
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nfeed\r\n")
    time.sleep(0.05)
    try:
        payload = b"y" * 100_000
        receivers = []
        started = time.time()
        while time.time() - started < 6:
            receivers.append(admin.publish("feed", payload))
            if receivers[-1] == 0:
                break
            time.sleep(0.02)
        # Over the soft limit, but dropped only once it stayed over for more than a second.
        assert receivers[-1] == 0
        assert time.time() - started > 1.0
    finally:
        admin.config_set("client-output-buffer-limit", "pubsub 33554432 8388608 60")
        admin.close()
        slow.close()


def test_fast_subscriber_is_never_dropped(server):
    admin = redis.Redis(port=server.port)
    admin.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
    reader = redis.Redis(port=server.port).pubsub()
    reader.subscribe("feed")
    reader.get_message(timeout=1)
    try:
        for index in range(50):
            assert admin.publish("feed", b"z" * 10_000) == 1
            message = reader.get_message(timeout=1)
            assert message["data"] == b"z" * 10_000, index
    finally:
        admin.config_set("client-output-buffer-limit", "pubsub 33554432 8388608 60")
        reader.close()
        admin.close()


# -- real subscribers ----------------------------------------------------------------------------------


def _pubsub_session(port: int) -> list:
    client = redis.Redis(port=port)
    publisher = redis.Redis(port=port)
    pubsub = client.pubsub()
    seen = []
    try:
        pubsub.subscribe("news", "channel1")
        pubsub.psubscribe("news.*")
        for _ in range(3):
            seen.append(pubsub.get_message(timeout=2))
        seen.append(publisher.publish("news", "Breaking News: Redis Pub/Sub is awesome!"))
        seen.append(pubsub.get_message(timeout=2))
        seen.append(publisher.publish("news.sports", "Team A 2 - 1 Team B"))
        seen.append(pubsub.get_message(timeout=2))
        seen.append(publisher.publish("channel1", "Hello, World!"))
        seen.append(pubsub.get_message(timeout=2))
        seen.append(publisher.pubsub_numsub("news", "channel1", "channel2"))
        seen.append(publisher.pubsub_numpat())
        pubsub.unsubscribe("channel1")
        seen.append(pubsub.get_message(timeout=2))
        pubsub.punsubscribe("news.*")
        seen.append(pubsub.get_message(timeout=2))
        seen.append(pubsub.ping())
        seen.append(pubsub.get_message(timeout=2))
    finally:
        pubsub.close()
        client.close()
        publisher.close()
    return seen


def test_redis_py_pubsub_sees_what_redis_sends(server, oracle_port):
    redis.Redis(port=oracle_port).flushall()
    ours = _pubsub_session(server.port)
    theirs = _pubsub_session(oracle_port)
    assert ours == theirs
    assert ours[4] == {"type": "message", "pattern": None, "channel": b"news",
                       "data": b"Breaking News: Redis Pub/Sub is awesome!"}
    assert ours[6]["type"] == "pmessage" and ours[6]["pattern"] == b"news.*"


def test_redis_py_resp3_pubsub(server, oracle_port):
    def session(port: int) -> list:
        client = redis.Redis(port=port, protocol=3)
        publisher = redis.Redis(port=port)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe("news")
            first = pubsub.get_message(timeout=2)
            publisher.publish("news", "hello")
            return [first, pubsub.get_message(timeout=2)]
        finally:
            pubsub.close()
            client.close()
            publisher.close()

    assert session(server.port) == session(oracle_port)


def _redis_cli_output(port: int, command: list[str], publishes: list[tuple[str, str]]) -> str:
    cli = shutil.which("redis-cli")
    proc = subprocess.Popen([cli, "-p", str(port), *command], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        publisher = redis.Redis(port=port)
        deadline = time.time() + 5
        channel = command[1]
        while time.time() < deadline:
            counts = publisher.pubsub_numsub(channel) if command[0] == "SUBSCRIBE" else [(0, publisher.pubsub_numpat())]
            if counts[0][1]:
                break
            time.sleep(0.02)
        for target, message in publishes:
            publisher.publish(target, message)
        time.sleep(0.3)
        publisher.close()
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=5)
    return output.decode()


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_redis_cli_subscribe_news(server, oracle_port):
    publishes = [("news", "Breaking News: Redis Pub/Sub is awesome!"), ("other", "ignored")]
    ours = _redis_cli_output(server.port, ["SUBSCRIBE", "news"], publishes)
    theirs = _redis_cli_output(oracle_port, ["SUBSCRIBE", "news"], publishes)
    assert ours == theirs
    assert "message\nnews\nBreaking News: Redis Pub/Sub is awesome!" in ours


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_redis_cli_psubscribe_news_pattern(server, oracle_port):
    publishes = [("news.tech", "New chip"), ("news", "not matched"), ("news.sports", "Goal")]
    ours = _redis_cli_output(server.port, ["PSUBSCRIBE", "news.*"], publishes)
    theirs = _redis_cli_output(oracle_port, ["PSUBSCRIBE", "news.*"], publishes)
    assert ours == theirs
    assert "pmessage\nnews.*\nnews.tech\nNew chip" in ours
