"""Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...), as Redis serves them.

A blocking handler that finds nothing to do calls ``block(...)`` and returns None: the client's
pipeline is suspended, it is queued (FIFO) on each key it waits for, and a timer is armed. When a
write makes one of those keys ready, the waiters are served after the command that made it ready
finishes (or after EXEC or a script, never in the middle), in arrival order, by calling each
waiter's ``serve`` callback, which retries the operation and returns the reply, or None while the
key still cannot satisfy it. No polling: nothing runs until a key is written or a timer fires.

While any client is blocked, write commands take the full gate (``registry.set_gate_condition``),
so the connection's inline fast path costs nothing when nobody blocks.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import RedisError
from .registry import set_gate_condition
from .types.string import parse_long_double, round_long_double

if TYPE_CHECKING:
    from .connection import Client
    from .keyspace.db import Db
    from .server import Server

TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
_INT64_MAX = (1 << 63) - 1

Serve = Callable[["Client"], "bytes | None"]


def parse_timeout(arg: bytes) -> float:
    """A blocking timeout given in seconds, as Redis 7.0 reads it: 0 = forever.

    Redis parses a long double, converts it to whole milliseconds rounding up, and rejects a
    negative result. A value whose milliseconds do not fit 64 bits (including ``inf``) becomes
    LLONG_MIN in that conversion and is therefore "negative"; tiny negative values round up to
    0 and block forever; a deadline past the 64-bit clock never fires.
    """
    value = parse_long_double(arg)
    if value is None:
        raise RedisError(TIMEOUT_NOT_FLOAT)
    millis = round_long_double(value * 1000) if value.__class__ is not float else value
    if millis.__class__ is float:
        raise RedisError(TIMEOUT_NEGATIVE)
    millis = math.ceil(millis)
    if millis < 0 or millis > _INT64_MAX:
        raise RedisError(TIMEOUT_NEGATIVE)
    if millis + int(time.time() * 1000) > _INT64_MAX:
        return 0.0
    return millis / 1000


class Blocked:
    """One blocked client: what it waits for and how to answer it."""

    __slots__ = ("client", "db", "keys", "serve", "timeout_reply", "timer", "kind")

    def __init__(self, client: Client, db: Db, keys: list[bytes], serve: Serve,
                 timeout_reply: bytes, kind: str) -> None:
        self.client = client
        self.db = db
        self.keys = keys
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.timer: Any = None
        self.kind = kind


class BlockingState:
    """Per-server bookkeeping: waiters per (db index, key) and the keys made ready."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.waiters: dict[tuple[int, bytes], deque[Blocked]] = {}
        self.ready: list[tuple[Db, bytes]] = []
        self.ready_set: set[tuple[int, bytes]] = set()
        self.blocked_count = 0
        # Depth of EXEC / script execution: ready keys are served when it drops to zero.
        self.deferred = 0
        # The ready key whose waiters are being served (see serve_ready).
        self.serving_key: bytes | None = None

    # -- blocking --------------------------------------------------------------------------

    def can_block(self, client: Client) -> bool:
        """False inside MULTI/EXEC or a script: there a blocking command answers as if it timed out."""
        return not self.deferred and client.multi is None

    def block(self, client: Client, keys: list[bytes], timeout: float, serve: Serve,
              timeout_reply: bytes, kind: str = "list") -> None:
        db = client.db
        entry = Blocked(client, db, list(dict.fromkeys(keys)), serve, timeout_reply, kind)
        for key in entry.keys:
            self.waiters.setdefault((db.index, key), deque()).append(entry)
            db.blocking_keys[key] = db.blocking_keys.get(key, 0) + 1
        client.blocked = entry
        client.suspend()
        if timeout > 0:
            entry.timer = self.server.loop.call_later(timeout, self._timed_out, entry)
        self.blocked_count += 1
        if self.blocked_count == 1:
            set_gate_condition("blocked-clients", _may_wake)

    def _forget(self, entry: Blocked) -> None:
        db = entry.db
        for key in entry.keys:
            queue = self.waiters.get((db.index, key))
            if queue is not None:
                try:
                    queue.remove(entry)
                except ValueError:
                    pass
                if not queue:
                    del self.waiters[(db.index, key)]
            left = db.blocking_keys.get(key, 0) - 1
            if left > 0:
                db.blocking_keys[key] = left
            else:
                db.blocking_keys.pop(key, None)
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        entry.client.blocked = None
        self.blocked_count -= 1
        if self.blocked_count == 0:
            set_gate_condition("blocked-clients", None)

    def unblock(self, entry: Blocked, reply: bytes | None) -> None:
        """Release a blocked client with ``reply`` (None: it disconnected, say nothing)."""
        self._forget(entry)
        client = entry.client
        if reply is not None and not client.closing:
            client.send_reply(reply)
        client.resume()

    def _timed_out(self, entry: Blocked) -> None:
        entry.timer = None
        if entry.client.blocked is entry:
            self.unblock(entry, entry.timeout_reply)

    def disconnected(self, client: Client) -> None:
        entry = client.blocked
        if entry is not None:
            self._forget(entry)

    # -- waking ------------------------------------------------------------------------------

    def key_ready(self, db: Db, key: bytes) -> None:
        """A write touched a key somebody waits for; serve after the current command."""
        marker = (db.index, key)
        if marker not in self.ready_set and marker in self.waiters:
            self.ready_set.add(marker)
            self.ready.append((db, key))

    def serve_ready(self) -> None:
        """Serve waiters on every ready key, in arrival order, until nothing more can be served.
        Serving can make more keys ready (BLMOVE pushes), so this loops.

        While a waiter's ``serve`` runs, ``serving_key`` names the key that became ready (Redis
        serves a client blocked on several keys from the one that was signalled). A waiter that
        cannot use the key (another kind of value, or nothing left for it) is passed over; once
        the key is gone nobody else can be served from it.
        """
        if self.deferred:
            return
        while self.ready:
            ready, self.ready = self.ready, []
            self.ready_set.clear()
            for db, key in ready:
                queue = self.waiters.get((db.index, key))
                if not queue:
                    continue
                self.serving_key = key
                marker = (db.index, key)
                try:
                    # Unblocking removes the entry from the queue: only a waiter passed over
                    # moves the position on.
                    position = 0
                    while queue and position < len(queue):
                        entry = queue[position]
                        client = entry.client
                        if client.closing:
                            self._forget(entry)
                        else:
                            snapshot = self.server.snapshot
                            if snapshot is not None:
                                # Serving writes keys: a background snapshot keeps them first.
                                snapshot.before_blocked_serve(entry)
                            try:
                                reply = entry.serve(client)
                            except RedisError as exc:
                                reply = self.server.error_reply(exc.args[0])
                            if reply is None:
                                position += 1
                            else:
                                self.unblock(entry, reply)
                            if key not in db.data:
                                break
                        queue = self.waiters.get(marker)
                finally:
                    self.serving_key = None


def _may_wake(cmd: Any) -> bool:
    # Writes, and commands that run others (EVAL, FCALL, EXEC via MULTI's own gate).
    return cmd.is_write or "may_replicate" in cmd.flags
