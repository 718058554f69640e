"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

The gate (dispatch.execute) queues commands while ``client.multi`` is a list, and flags the
transaction (``client.multi_error``) when it rejects one. EXEC runs the queue through
``dispatch.call`` with blocked-client wake-ups deferred, so nothing else runs in between.

WATCH registers the client in ``Db.watched``; every write ends in ``Db.modified``, which marks
the watchers' ``watch_dirty``. As in Redis 7.0, a key that was already expired when watched is
remembered (``client.watch_expired``) and one that expires between WATCH and EXEC makes EXEC fail
even when nobody touched it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..dispatch import call
from ..errors import (
    DISCARD_WITHOUT_MULTI,
    EXEC_WITHOUT_MULTI,
    EXECABORT,
    MULTI_NESTED,
    WATCH_INSIDE_MULTI,
    RedisError,
)
from ..keyspace.db import now_ms
from ..registry import command
from ..resp.encode import NULL3, NULL_ARRAY2, OK
from .connection import RESET_HOOKS, unwatch_all

if TYPE_CHECKING:
    from ..connection import Client
    from ..keyspace.db import Db


class Transaction(list):
    """The commands a client in MULTI queued, as (Command, argv) pairs."""

    __slots__ = ("denyoom",)

    def __init__(self) -> None:
        super().__init__()
        # A script queued was denyoom by its flags then (Redis's mstate.cmd_flags): EXEC is
        # refused under OOM (vermilion.eviction.oom_refusal).
        self.denyoom = False


def unwatch(client: Client) -> None:
    """Forget every WATCHed key and the dirty flag (UNWATCH, EXEC, DISCARD)."""
    if client.watching:
        unwatch_all(client)
    client.watch_dirty = False
    client.watch_expired = None


def discard_transaction(client: Client) -> None:
    """Leave MULTI state and unwatch (Redis's discardTransaction)."""
    client.multi = None
    client.multi_error = False
    unwatch(client)
    client.update_gate()


def _key_is_expired(db: Db, key: bytes, now: int) -> bool:
    when = db.expires.get(key)
    return when is not None and when < now


def _watched_key_expired(client: Client) -> bool:
    """Whether a key that was live when watched has logically expired since (isWatchedKeyExpired)."""
    expired = client.watch_expired
    now = now_ms()
    for db, key in client.watching:
        if expired and (db, key) in expired:
            continue
        if _key_is_expired(db, key, now):
            return True
    return False


@command("multi")
def multi(client, argv):
    if client.multi is not None:
        raise RedisError(MULTI_NESTED)
    client.multi = Transaction()
    client.multi_error = False
    client.update_gate()
    return OK


@command("discard")
def discard(client, argv):
    if client.multi is None:
        raise RedisError(DISCARD_WITHOUT_MULTI)
    discard_transaction(client)
    return OK


@command("exec")
def exec_(client, argv):
    queued = client.multi
    if queued is None:
        raise RedisError(EXEC_WITHOUT_MULTI)
    if client.watching and not client.watch_dirty and _watched_key_expired(client):
        client.watch_dirty = True
    if client.multi_error:
        discard_transaction(client)
        raise RedisError(EXECABORT)
    if client.watch_dirty:
        discard_transaction(client)
        return NULL3 if client.resp3 else NULL_ARRAY2
    unwatch(client)
    blocking = client.server.blocking
    exec_command = client.current_command
    # The queued replies go straight after the array header in the client's output, so that
    # pushes a queued command sends to this same client (pub/sub, keyspace events) land where
    # Redis puts them.
    saved_out = client.out
    parts = client.out = [b"*%d\r\n" % len(queued)]
    blocking.deferred += 1
    try:
        for cmd, queued_argv in queued:
            if client.acl_user is not None:
                # Permissions may have changed since the command was queued (vermilion.acl).
                denied = client.server.acl.exec_check(client, cmd, queued_argv)
                if denied is not None:
                    parts.append(client.server.error_reply(denied))
                    continue
            reply = call(client, cmd, queued_argv)
            if reply is not None:
                parts.append(reply)
    finally:
        blocking.deferred -= 1
        client.out = saved_out
        client.current_command = exec_command
        client.multi = None
        client.multi_error = False
        unwatch(client)
        client.update_gate()
    return b"".join(parts)


@command("watch")
def watch(client, argv):
    if client.multi is not None:
        raise RedisError(WATCH_INSIDE_MULTI)
    db = client.db
    watching = client.watching
    now = now_ms()
    for key in argv[1:]:
        watchers = db.watched.get(key)
        if watchers is None:
            watchers = db.watched[key] = []
        elif client in watchers:
            continue  # already watched
        entry = (db, key)
        watchers.append(client)
        watching.append(entry)
        expired = client.watch_expired
        if _key_is_expired(db, key, now):
            if expired is None:
                expired = client.watch_expired = set()
            expired.add(entry)
        elif expired:
            expired.discard(entry)
    return OK


@command("unwatch")
def unwatch_(client, argv):
    unwatch(client)
    return OK


def _reset_transaction(client: Client) -> None:
    # RESET discards the transaction (reset_connection clears the rest of the state).
    client.watch_expired = None


RESET_HOOKS.append(_reset_transaction)
