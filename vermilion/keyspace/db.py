"""One logical database: keys to values, keys to expiry times, and the single write path.

Values are plain Python objects: ``bytes`` (or ``bytearray`` once appended to, Redis's "raw"
strings) for strings, and the classes in ``vermilion.types`` for the rest. Every change to the
keyspace goes through ``Db`` methods so that dirty counting, WATCH invalidation, keyspace events
and blocked-client wake-ups happen in one place.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..server import Server


def now_ms() -> int:
    return int(time.time() * 1000)


class Db:
    __slots__ = (
        "index",
        "data",
        "expires",
        "access",
        "server",
        "stats",
        "watched",
        "deletions",
        "expire_scan",
        "expire_scan_pos",
        "avg_ttl",
        "scan_snapshots",
    )

    def __init__(self, server: Server, index: int) -> None:
        self.index = index
        self.server = server
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        # key -> server.lru_clock at its last access (OBJECT IDLETIME, LRU/LFU eviction later)
        self.access: dict[bytes, int] = {}
        self.stats = server.stats
        # key -> list of clients WATCHing it in this db
        self.watched: dict[bytes, list] = {}
        # Count of keys ever removed; lets SCAN cursors survive a rebuilt snapshot (see scan()).
        self.deletions = 0
        # The active expiry cycle walks a snapshot of the expires dict, as Redis walks its cursor.
        self.expire_scan: list[bytes] = []
        self.expire_scan_pos = 0
        self.avg_ttl = 0
        self.scan_snapshots: dict[int, list[bytes]] = {}

    # -- reads ------------------------------------------------------------------------------

    def lookup_read(self, key: bytes) -> Any:
        """The live value of ``key`` for a read command, or None; counts hits and misses."""
        value = self.data.get(key)
        if value is None:
            self.stats.keyspace_misses += 1
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= now_ms() and self.server.expire_allowed():
                self.expire_key(key)
                self.stats.keyspace_misses += 1
                return None
        self.stats.keyspace_hits += 1
        self.access[key] = self.server.lru_clock
        return value

    def lookup_write(self, key: bytes) -> Any:
        """The live value of ``key`` for a write command, or None (no hit/miss counting)."""
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= now_ms() and self.server.expire_allowed():
                self.expire_key(key)
                return None
        self.access[key] = self.server.lru_clock
        return value

    def exists(self, key: bytes) -> bool:
        return self.lookup_write(key) is not None

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    # -- writes -----------------------------------------------------------------------------

    def set_value(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Create or overwrite ``key``; drops its TTL unless ``keep_ttl``."""
        self.data[key] = value
        self.access[key] = self.server.lru_clock
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        self.modified(key)

    def delete(self, key: bytes) -> bool:
        """Remove ``key`` if it exists (expired or not); True when something was removed."""
        if self.data.pop(key, None) is None:
            return False
        self.access.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)
        self.deletions += 1
        self.modified(key)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        self.modified(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.modified(key)
        return True

    def modified(self, key: bytes, changes: int = 1) -> None:
        """Every write ends here: count it as dirty and invalidate WATCHes on the key."""
        server = self.server
        server.dirty += changes
        if self.watched:
            clients = self.watched.get(key)
            if clients:
                for client in clients:
                    client.watch_dirty = True

    def expire_key(self, key: bytes) -> None:
        """Remove a key whose time has come (lazily on access or by the active cycle)."""
        self.data.pop(key, None)
        self.expires.pop(key, None)
        self.access.pop(key, None)
        self.deletions += 1
        self.stats.expired_keys += 1
        self.modified(key)
        self.server.key_expired(self, key)

    def flush(self) -> int:
        removed = len(self.data)
        for key in list(self.watched):
            self.modified(key, 0)
        self.data = {}
        self.expires = {}
        self.access = {}
        self.deletions += removed
        self.expire_scan = []
        self.expire_scan_pos = 0
        self.scan_snapshots.clear()
        return removed

    # -- SCAN -------------------------------------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SCAN step: the next keys and the cursor to continue from (0 when done).

        Python dicts keep insertion order and deletions never reorder the survivors, so a cursor
        is a position in a snapshot of the key list. The cursor also carries the deletion count
        at the time it was issued: when its snapshot is gone, a new one is taken and the position
        is moved back by the keys removed since, so a key present for the whole scan is never
        skipped (it may be returned twice, which SCAN allows).
        """
        snapshots = self.scan_snapshots
        position, tag = cursor >> 32, cursor & 0xFFFFFFFF
        keys = snapshots.get(tag) if cursor else None
        if keys is None:
            if cursor:
                position = max(0, position - ((self.deletions - tag) & 0xFFFFFFFF))
            tag = self.deletions & 0xFFFFFFFF
            keys = list(self.data)
            # A snapshot under the same tag saw the same deletions: this one is a superset of it
            # in the same order, so cursors issued from the old one stay valid.
            snapshots.pop(tag, None)
            if len(snapshots) >= 16:
                snapshots.pop(next(iter(snapshots)))
            snapshots[tag] = keys
        end = min(position + max(count, 1), len(keys))
        batch = keys[position:end]
        if end >= len(keys):
            return 0, batch
        return (end << 32) | tag, batch
