"""Pub/Sub: channels, patterns and shard channels, and the delivery of messages to subscribers.

Server-wide, each channel (pattern, shard channel) maps to its subscribers in subscription order;
each subscribed client holds a ``Subscriptions`` with its own channels, patterns and shard
channels (``client.subscriptions`` is None while it has none, which is Redis's CLIENT_PUBSUB
flag). The shapes follow Redis 7.0: per-client channels and the server's channel table are hash
tables (an UNSUBSCRIBE with no argument walks them in an unspecified order), per-client patterns
are a list (PUNSUBSCRIBE with no argument goes in subscription order).

A message is encoded once per protocol and written to each subscriber's transport; a subscriber
whose pending output passes ``client-output-buffer-limit pubsub`` is dropped on the spot, as Redis
drops it, so a slow reader never holds the publisher back.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import glob
from .notify import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE
from .resp.encode import NULL2, NULL3, bulk, integer

if TYPE_CHECKING:
    from .connection import Client
    from .keyspace.db import Db
    from .server import Server

# Message kinds, pre-encoded as the first element of each push.
_MESSAGE = b"$7\r\nmessage\r\n"
_PMESSAGE = b"$8\r\npmessage\r\n"
_SMESSAGE = b"$8\r\nsmessage\r\n"
SUBSCRIBE = b"$9\r\nsubscribe\r\n"
UNSUBSCRIBE = b"$11\r\nunsubscribe\r\n"
PSUBSCRIBE = b"$10\r\npsubscribe\r\n"
PUNSUBSCRIBE = b"$12\r\npunsubscribe\r\n"
SSUBSCRIBE = b"$10\r\nssubscribe\r\n"
SUNSUBSCRIBE = b"$12\r\nsunsubscribe\r\n"

_HEAD3 = (b"*3\r\n", b">3\r\n")
_HEAD4 = (b"*4\r\n", b">4\r\n")


class Subscriptions:
    """One client's subscriptions (dicts used as ordered sets) and its output-limit clock."""

    __slots__ = ("channels", "patterns", "shard_channels", "soft_limit_since")

    def __init__(self) -> None:
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}
        # Unix second when the pending output first passed the soft limit (0: below it).
        self.soft_limit_since = 0

    def count(self) -> int:
        """Channels plus patterns: the number SUBSCRIBE / PSUBSCRIBE replies report."""
        return len(self.channels) + len(self.patterns)

    def total(self) -> int:
        return len(self.channels) + len(self.patterns) + len(self.shard_channels)


class Pattern:
    """A subscribed pattern: its matcher and its subscribers in subscription order."""

    __slots__ = ("matches", "clients")

    def __init__(self, pattern: bytes) -> None:
        self.matches = glob.compile(pattern)
        self.clients: dict[Client, None] = {}


class PubSub:
    """The server's subscription tables."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, Pattern] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}

    # -- subscribing ------------------------------------------------------------------------

    def _state(self, client: Client) -> Subscriptions:
        subs = client.subscriptions
        if subs is None:
            subs = client.subscriptions = Subscriptions()
            client.update_gate()
        return subs

    def subscribe(self, client: Client, channel: bytes, shard: bool = False) -> bytes:
        """Subscribe ``client`` to ``channel``; returns the confirmation push."""
        subs = self._state(client)
        mine = subs.shard_channels if shard else subs.channels
        if channel not in mine:
            mine[channel] = None
            table = self.shard_channels if shard else self.channels
            clients = table.get(channel)
            if clients is None:
                clients = table[channel] = {}
            clients[client] = None
        count = len(subs.shard_channels) if shard else subs.count()
        kind = SSUBSCRIBE if shard else SUBSCRIBE
        return _HEAD3[client.resp3] + kind + bulk(channel) + integer(count)

    def psubscribe(self, client: Client, pattern: bytes) -> bytes:
        subs = self._state(client)
        if pattern not in subs.patterns:
            subs.patterns[pattern] = None
            entry = self.patterns.get(pattern)
            if entry is None:
                entry = self.patterns[pattern] = Pattern(pattern)
            entry.clients[client] = None
        return _HEAD3[client.resp3] + PSUBSCRIBE + bulk(pattern) + integer(subs.count())

    # -- unsubscribing ----------------------------------------------------------------------

    def _drop_channel(self, client: Client, channel: bytes, shard: bool) -> bool:
        subs = client.subscriptions
        if subs is None:
            return False
        mine = subs.shard_channels if shard else subs.channels
        if channel not in mine:
            return False
        del mine[channel]
        table = self.shard_channels if shard else self.channels
        clients = table[channel]
        del clients[client]
        if not clients:
            del table[channel]
        return True

    def _drop_pattern(self, client: Client, pattern: bytes) -> bool:
        subs = client.subscriptions
        if subs is None or pattern not in subs.patterns:
            return False
        del subs.patterns[pattern]
        entry = self.patterns[pattern]
        del entry.clients[client]
        if not entry.clients:
            del self.patterns[pattern]
        return True

    def _unsubscribed(self, client: Client, kind: bytes, name: bytes | None, shard: bool) -> bytes:
        subs = client.subscriptions
        if subs is None:
            count = 0
        else:
            count = len(subs.shard_channels) if shard else subs.count()
        if name is None:
            name_reply = NULL3 if client.resp3 else NULL2
        else:
            name_reply = bulk(name)
        return _HEAD3[client.resp3] + kind + name_reply + integer(count)

    def unsubscribe(self, client: Client, channels: list[bytes], shard: bool = False) -> bytes:
        """(S)UNSUBSCRIBE: from ``channels``, or from every channel when none is named."""
        kind = SUNSUBSCRIBE if shard else UNSUBSCRIBE
        parts = []
        if not channels:
            subs = client.subscriptions
            if subs is not None:
                channels = list(subs.shard_channels if shard else subs.channels)
            for channel in channels:
                self._drop_channel(client, channel, shard)
                parts.append(self._unsubscribed(client, kind, channel, shard))
            if not parts:
                parts.append(self._unsubscribed(client, kind, None, shard))
        else:
            for channel in channels:
                self._drop_channel(client, channel, shard)
                parts.append(self._unsubscribed(client, kind, channel, shard))
        self._leave_if_done(client)
        return b"".join(parts)

    def punsubscribe(self, client: Client, patterns: list[bytes]) -> bytes:
        parts = []
        if not patterns:
            subs = client.subscriptions
            if subs is not None:
                patterns = list(subs.patterns)
            for pattern in patterns:
                self._drop_pattern(client, pattern)
                parts.append(self._unsubscribed(client, PUNSUBSCRIBE, pattern, False))
            if not parts:
                parts.append(self._unsubscribed(client, PUNSUBSCRIBE, None, False))
        else:
            for pattern in patterns:
                self._drop_pattern(client, pattern)
                parts.append(self._unsubscribed(client, PUNSUBSCRIBE, pattern, False))
        self._leave_if_done(client)
        return b"".join(parts)

    def _leave_if_done(self, client: Client) -> None:
        subs = client.subscriptions
        if subs is not None and not subs.total():
            client.subscriptions = None
            client.update_gate()

    def forget(self, client: Client) -> None:
        """Drop every subscription of ``client`` silently (RESET, disconnection)."""
        subs = client.subscriptions
        if subs is None:
            return
        for channel in list(subs.channels):
            self._drop_channel(client, channel, False)
        for channel in list(subs.shard_channels):
            self._drop_channel(client, channel, True)
        for pattern in list(subs.patterns):
            self._drop_pattern(client, pattern)
        client.subscriptions = None
        client.update_gate()

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to the channel's subscribers, then to matching patterns; the receiver count."""
        receivers = 0
        clients = self.channels.get(channel)
        tail = None
        if clients:
            tail = bulk(channel) + bulk(message)
            receivers = self._fan_out(clients, _MESSAGE + tail)
        if self.patterns:
            for pattern, entry in self.patterns.items():
                if entry.matches(channel):
                    if tail is None:
                        tail = bulk(channel) + bulk(message)
                    receivers += self._fan_out(entry.clients, _PMESSAGE + bulk(pattern) + tail, 4)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        clients = self.shard_channels.get(channel)
        if not clients:
            return 0
        return self._fan_out(clients, _SMESSAGE + bulk(channel) + bulk(message))

    def _fan_out(self, clients: dict[Client, None], body: bytes, items: int = 3) -> int:
        """Write one message to every client in ``clients``; the number of receivers.

        The message is encoded at most once per protocol. A subscriber in the middle of its own
        batch (the publisher itself, or a client running EXEC) gets it queued after the replies
        it already has pending; everyone else gets it written to the socket now, and is dropped
        if that leaves more pending output than ``client-output-buffer-limit pubsub`` allows.
        """
        heads = _HEAD3 if items == 3 else _HEAD4
        resp2 = resp3 = None
        hard, soft, seconds = self.server.config.client_output_buffer_limit["pubsub"]
        # Below this much pending output no limit can be reached.
        threshold = min(hard or soft, soft or hard) if hard or soft else 0
        written = writes = 0
        # Dropping a subscriber over its limit only aborts its transport (connection_lost, which
        # updates these tables, comes on a later loop turn), so iterating in place is safe.
        for client in clients:
            if client.resp3:
                data = resp3
                if data is None:
                    data = resp3 = heads[1] + body
            else:
                data = resp2
                if data is None:
                    data = resp2 = heads[0] + body
            if client.closing:
                continue
            out = client.out
            if out:
                out.append(data)
                continue
            transport = client.transport
            transport.write(data)
            written += len(data)
            writes += 1
            if threshold:
                pending = transport.get_write_buffer_size()
                subs = client.subscriptions
                if pending >= threshold:
                    self._check_output_limit(client, subs, pending, hard, soft, seconds)
                elif subs is not None and subs.soft_limit_since:
                    subs.soft_limit_since = 0
        if writes:
            stats = self.server.stats
            stats.total_net_output_bytes += written
            stats.total_writes_processed += writes
        return len(clients)

    def _check_output_limit(self, client: Client, subs: Subscriptions | None, pending: int,
                            hard: int, soft: int, seconds: int) -> None:
        """Redis's checkClientOutputBufferLimits for the pubsub class: over the hard limit at
        once, over the soft limit once it has stayed over for more than ``seconds``."""
        over = bool(hard) and pending >= hard
        if soft and pending >= soft and subs is not None:
            now = int(time.time())
            if not subs.soft_limit_since:
                subs.soft_limit_since = now
            elif now - subs.soft_limit_since > seconds:
                over = True
        elif subs is not None:
            subs.soft_limit_since = 0
        if over:
            self.drop_for_limit(client)

    def drop_for_limit(self, client: Client) -> None:
        server = self.server
        server.log(
            "warning",
            f"Client {client.describe()} scheduled to be closed ASAP for overcoming of output "
            "buffer limits.",
        )
        client.closing = True
        client.interrupted = True
        # abort(): discard what is queued for the socket instead of trying to flush it.
        client.transport.abort()

    # -- keyspace notifications ---------------------------------------------------------------

    def keyspace_event(self, db: Db, flags: int, event: bytes, key: bytes) -> None:
        """Publish one keyspace event on __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event>."""
        if not self.channels and not self.patterns:
            return
        if flags & NOTIFY_KEYSPACE:
            self.publish(b"__keyspace@%d__:%s" % (db.index, key), event)
        if flags & NOTIFY_KEYEVENT:
            self.publish(b"__keyevent@%d__:%s" % (db.index, event), key)

    # -- introspection ------------------------------------------------------------------------

    def channel_names(self, pattern: bytes | None, shard: bool = False) -> list[bytes]:
        table = self.shard_channels if shard else self.channels
        if pattern is None:
            return list(table)
        matches = glob.compile(pattern)
        return [channel for channel in table if matches(channel)]

    def subscriber_count(self, channel: bytes, shard: bool = False) -> int:
        table = self.shard_channels if shard else self.channels
        clients = table.get(channel)
        return len(clients) if clients else 0


__all__ = ["PubSub", "Subscriptions"]
