"""Keyspace notifications: the single call every command makes after it changes a key.

    notify(db, NOTIFY_STRING, b"set", key)

It costs one attribute test while `notify-keyspace-events` is empty. The classes are Redis's
flag letters (K E g $ l s h z x e t m d n, A = g$lshzxetd). Call it exactly where Redis 7.0 calls
notifyKeyspaceEvent, with the same event name, after the change is made. Events that belong to the
keyspace rather than to one command are raised by ``Db`` itself: ``new`` when a key is created,
``keymiss`` when a read misses, and ``expired`` (through ``Server.key_expired``) when a key is
reclaimed lazily or by the active cycle.

Delivery (``Server.publish_keyspace_event`` -> ``PubSub.keyspace_event``) publishes the event on
``__keyspace@<db>__:<key>`` when K is set and on ``__keyevent@<db>__:<event>`` when E is set.
``server.notify_flags`` mirrors the parsed ``notify-keyspace-events`` (set at start and by the
parameter's on-change hook).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .keyspace.db import Db

NOTIFY_KEYSPACE = 1 << 0  # K
NOTIFY_KEYEVENT = 1 << 1  # E
NOTIFY_GENERIC = 1 << 2  # g
NOTIFY_STRING = 1 << 3  # $
NOTIFY_LIST = 1 << 4  # l
NOTIFY_SET = 1 << 5  # s
NOTIFY_HASH = 1 << 6  # h
NOTIFY_ZSET = 1 << 7  # z
NOTIFY_EXPIRED = 1 << 8  # x
NOTIFY_EVICTED = 1 << 9  # e
NOTIFY_STREAM = 1 << 10  # t
NOTIFY_KEY_MISS = 1 << 11  # m
NOTIFY_LOADED = 1 << 12  # module only
NOTIFY_MODULE = 1 << 13  # d
NOTIFY_NEW = 1 << 14  # n
NOTIFY_ALL = (
    NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
    | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE
)


def notify(db: Db, event_class: int, event: bytes, key: bytes) -> None:
    """Publish a keyspace event for ``key`` if the configured classes include ``event_class``."""
    flags = db.server.notify_flags
    if flags and flags & event_class:
        db.server.publish_keyspace_event(db, event_class, event, key)
