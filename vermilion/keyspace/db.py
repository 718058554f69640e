"""One logical database: keys to values, keys to expiry times, and the single write path.

Values are plain Python objects: ``bytes`` (or ``bytearray`` once appended to, Redis's "raw"
strings) for strings, and the classes in ``vermilion.types`` for the rest. Every change to the
keyspace goes through ``Db`` methods so that dirty counting, WATCH invalidation, keyspace events
and blocked-client wake-ups happen in one place.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from ..memory import SPECIAL_STRING_FIRST, string_key_cost, string_replacement_cost
from ..notify import NOTIFY_KEY_MISS, NOTIFY_NEW, notify
from .lfu import NoAccessTimes, lfu_decayed, lfu_log_incr, lfu_minutes, lfu_packed

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
        "blocking_keys",
        "random_sample",
        "random_sample_size",
        "random_sample_deletions",
        "mem_costs",
        "mem_total",
        "mem_dirty",
        "mem_keys",
        "lfu",
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
        # key -> number of clients blocked on it (see vermilion.blocking)
        self.blocking_keys: dict[bytes, int] = {}
        # RANDOMKEY draws from this snapshot of the keys (see random_key()).
        self.random_sample: list[bytes] = []
        self.random_sample_size = 0
        self.random_sample_deletions = 0
        # Memory accounting (vermilion.memory), in Redis's terms. mem_total: what the keys cost;
        # a bytes value's cost is counted as it is stored and removed (computed from the value),
        # other values' costs are kept in mem_costs and re-costed from mem_dirty (the keys
        # changed since); mem_keys: how many keys are counted (a check on writes that bypass Db).
        self.mem_costs: dict[bytes, int] = {}
        self.mem_total = 0
        self.mem_dirty: set[bytes] = set()
        self.mem_keys = 0
        # key -> LFU minutes << 8 | counter, under an LFU maxmemory-policy only (vermilion.eviction)
        self.lfu: dict[bytes, int] | None = None

    # -- reads ------------------------------------------------------------------------------

    def lookup_read(self, key: bytes) -> Any:
        """The live value of ``key`` for a read command, or None; counts hits and misses."""
        value = self.data.get(key)
        if value is None:
            self.stats.keyspace_misses += 1
            if self.server.notify_flags:
                notify(self, NOTIFY_KEY_MISS, b"keymiss", key)
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when < now_ms():
                # During CLIENT PAUSE (and on replicas) an expired key reads as missing but is
                # not deleted, as in Redis.
                if self.server.expire_allowed():
                    self.expire_key(key)
                self.stats.keyspace_misses += 1
                if self.server.notify_flags:
                    notify(self, NOTIFY_KEY_MISS, b"keymiss", key)
                return None
        self.stats.keyspace_hits += 1
        self.access[key] = self.server.lru_clock
        if self.lfu is not None:
            self._lfu_touch(key)
        return value

    def lookup_write(self, key: bytes) -> Any:
        """The live value of ``key`` for a write command, or None (no hit/miss counting)."""
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when < now_ms():
                if self.server.expire_allowed():
                    self.expire_key(key)
                return None
        self.access[key] = self.server.lru_clock
        if self.lfu is not None:
            self._lfu_touch(key)
        return value

    def exists(self, key: bytes) -> bool:
        return self.lookup_write(key) is not None

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    # -- writes -----------------------------------------------------------------------------

    def set_value(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Create or overwrite ``key``; drops its TTL unless ``keep_ttl``."""
        if self.lfu is not None:
            self._lfu_store(key)
        data = self.data
        server = self.server
        old = data.get(key)
        data[key] = value
        string = value.__class__ is bytes
        if string and old.__class__ is bytes:
            # A string over a string (SET's common case, inline): the key's share of the cost
            # stays as it was, and two plain strings of one length cost the same.
            if len(old) != len(value) or (value and (value[0] in SPECIAL_STRING_FIRST
                                                    or old[0] in SPECIAL_STRING_FIRST)):
                self.mem_total += string_replacement_cost(old, value)
        else:
            self._recount(key, old, value)
        self.access[key] = server.lru_clock
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        self.modified(key, 1, string)
        if old is None and server.notify_flags:
            notify(self, NOTIFY_NEW, b"new", key)

    def delete(self, key: bytes) -> bool:
        """Remove ``key`` if it exists (expired or not); True when something was removed."""
        if self.lfu is not None:
            self.lfu.pop(key, None)
        value = self.data.pop(key, None)
        if value is None:
            return False
        self._uncount(key, value)
        self.access.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)
        self.deletions += 1
        self.modified(key, 1, True)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        self.modified(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.modified(key)
        return True

    def modified(self, key: bytes, changes: int = 1, costed: bool = False) -> None:
        """Every write ends here: count it as dirty and invalidate WATCHes on the key.
        ``costed``: memory accounting already knows the key's cost (a string just stored, or a
        key removed); otherwise the key is re-costed later (vermilion.memory.settle)."""
        server = self.server
        server.dirty += changes
        if not costed:
            self.mem_dirty.add(key)
        if self.watched or self.blocking_keys:
            self.signal(key)

    def value_for_run(self, key: bytes, value_class: type) -> Any:
        """``key``'s value for a run handler (vermilion.registry.run_of), or None: it must be a
        ``value_class`` without a TTL, and neither LFU counting nor keyspace events may need
        to see each call."""
        value = self.data.get(key)
        if (value.__class__ is not value_class or (self.expires and key in self.expires)
                or self.lfu is not None or self.server.notify_flags):
            return None
        return value

    def ran(self, key: bytes, changes: int) -> None:
        """What a run handler's calls on ``key`` tell the rest of the server: they accessed it
        and made ``changes`` writes (``modified``, once for them all)."""
        server = self.server
        self.access[key] = server.lru_clock
        if changes:
            server.dirty += changes
            self.mem_dirty.add(key)
            if self.watched or self.blocking_keys:
                self.signal(key)

    def signal(self, key: bytes) -> None:
        """The part of ``modified`` that tells others: WATCHes on the key and clients blocked
        on it. Hot handlers that inline ``modified`` call it only when either is in use."""
        if self.watched:
            clients = self.watched.get(key)
            if clients:
                for client in clients:
                    expired = client.watch_expired
                    if expired and (self, key) in expired:
                        # Watched while already expired (Redis's touchWatchedKey): once the key
                        # is gone nothing changed logically; while it is still stored, Redis
                        # stops looking at this key's watchers here.
                        if key not in self.data:
                            expired.discard((self, key))
                            continue
                        break
                    client.watch_dirty = True
        if self.blocking_keys and key in self.blocking_keys:
            self.server.blocking.key_ready(self, key)

    def replace_representation(self, key: bytes, value: Any) -> None:
        """Store another representation of ``key``'s value (a string turned into a bytearray to
        be changed in place): nothing is counted or signalled, only memory accounting follows."""
        data = self.data
        self._uncount(key, data[key])
        data[key] = value
        self._count(key, value)
        if value.__class__ is not bytes:
            self.mem_dirty.add(key)

    # -- LFU counting (vermilion.keyspace.lfu), while the database has a db.lfu ------------------

    def _lfu_touch(self, key: bytes) -> None:
        config = self.server.config
        now = lfu_minutes()
        lfu = self.lfu
        packed = lfu.get(key)
        # A key from before the switch to LFU has no counter: Redis reads its LRU field as a
        # long-decayed counter, 0.
        counter = 0 if packed is None else lfu_decayed(packed, now, config.lfu_decay_time)
        lfu[key] = (now << 8) | lfu_log_incr(counter, config.lfu_log_factor)

    def _lfu_store(self, key: bytes) -> None:
        # A new key starts at LFU_INIT_VAL; overwriting one counts as an access (Redis looks the
        # key up for writing, then keeps its counter when replacing the value).
        if key in self.lfu or key in self.data:
            self._lfu_touch(key)
        else:
            self.lfu[key] = lfu_packed()

    # -- memory accounting (vermilion.memory) ---------------------------------------------------

    def _recount(self, key: bytes, old: Any, value: Any) -> None:
        """Accounting for ``value`` stored under ``key`` in place of ``old`` (None: new key)."""
        if value.__class__ is bytes and old.__class__ is bytes:
            changed = string_replacement_cost(old, value)
            if changed:
                self.mem_total += changed
            return
        if old is not None:
            self._uncount(key, old)
        self._count(key, value)

    def _count(self, key: bytes, value: Any) -> None:
        self.mem_keys += 1
        if value.__class__ is bytes:
            self.mem_total += string_key_cost(key, value)

    def _uncount(self, key: bytes, value: Any) -> None:
        self.mem_keys -= 1
        if value.__class__ is bytes:
            self.mem_total -= string_key_cost(key, value)
        else:
            cost = self.mem_costs.pop(key, None)
            if cost:
                self.mem_total -= cost

    def expire_key(self, key: bytes) -> None:
        """Remove a key whose time has come (lazily on access or by the active cycle)."""
        if self.lfu is not None:
            self.lfu.pop(key, None)
        value = self.data.pop(key, None)
        if value is not None:
            self._uncount(key, value)
        self.expires.pop(key, None)
        self.access.pop(key, None)
        self.deletions += 1
        self.stats.expired_keys += 1
        # Expiring is not a change a command made: Redis leaves server.dirty alone (the
        # deletion is propagated on its own), so only WATCHes are invalidated here.
        self.modified(key, 0, True)
        self.server.key_expired(self, key)

    def flush(self) -> int:
        removed = len(self.data)
        if self.watched:
            self.touch_all_watched(None)
        self.data = {}
        self.expires = {}
        if self.lfu is not None:
            self.lfu = {}
            self.access = NoAccessTimes()
        else:
            self.access = {}
        self.mem_costs = {}
        self.mem_total = 0
        self.mem_dirty = set()
        self.mem_keys = 0
        self.deletions += removed
        self.expire_scan = []
        self.expire_scan_pos = 0
        self.scan_snapshots.clear()
        return removed

    def touch_all_watched(self, replaced_with: Db | None) -> None:
        """Invalidate WATCHes before this database is emptied (FLUSHDB/FLUSHALL, None) or swapped
        with ``replaced_with`` (SWAPDB), as Redis's touchAllWatchedKeysInDb: a watch breaks when
        its key exists on either side, except that an already-expired key being dropped, or
        staying expired, changes nothing, and a missing key replaced by an expired one counts as
        watched-while-expired from now on."""
        now = now_ms()
        for key, clients in self.watched.items():
            in_self = key in self.data
            in_other = replaced_with is not None and key in replaced_with.data
            if not (in_self or in_other):
                continue
            other_expired = False
            if in_other:
                when = replaced_with.expires.get(key)
                other_expired = when is not None and when < now
            for client in clients:
                expired = client.watch_expired
                if expired and (self, key) in expired:
                    if not in_other:
                        expired.discard((self, key))
                        continue
                    if other_expired:
                        continue
                elif not in_self and other_expired:
                    if expired is None:
                        expired = client.watch_expired = set()
                    expired.add((self, key))
                    continue
                client.watch_dirty = True

    def lookup_read_silent(self, key: bytes) -> Any:
        """lookup_read_notouch without the keymiss event (OBJECT, Redis's LOOKUP_NONOTIFY)."""
        server = self.server
        flags = server.notify_flags
        if not flags & NOTIFY_KEY_MISS:
            return self.lookup_read_notouch(key)
        server.notify_flags = flags & ~NOTIFY_KEY_MISS
        try:
            return self.lookup_read_notouch(key)
        finally:
            server.notify_flags = flags

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

    # -- multi-step keyspace operations (RENAME, MOVE, COPY, SWAPDB, RANDOMKEY) ---------------
    # Each counts as ONE change, as in Redis, while still invalidating WATCH on every key it
    # touches (modified(key, 0) signals without counting).

    def lookup_read_notouch(self, key: bytes) -> Any:
        """Like lookup_read (hit/miss counting, lazy expiry) but leaves the access time alone,
        as Redis's LOOKUP_NOTOUCH reads do (EXISTS, TYPE, TTL, OBJECT)."""
        access = self.access
        before = access.get(key)
        lfu = self.lfu
        counted = lfu.get(key) if lfu is not None else None
        value = self.lookup_read(key)
        if value is not None and before is not None:
            access[key] = before
        if lfu is not None:
            if counted is not None:
                lfu[key] = counted
            else:
                lfu.pop(key, None)
        return value

    def set_value_expiring(self, key: bytes, value: Any, when_ms: int) -> None:
        """Create or overwrite ``key`` with an expiry time in one change (SET EX, SETEX...)."""
        if self.lfu is not None:
            self._lfu_store(key)
        data = self.data
        server = self.server
        old = data.get(key)
        data[key] = value
        self._recount(key, old, value)
        string = value.__class__ is bytes
        self.access[key] = server.lru_clock
        self.expires[key] = when_ms
        self.modified(key, 1, string)
        if old is None and server.notify_flags:
            notify(self, NOTIFY_NEW, b"new", key)

    def rename(self, source: bytes, target: bytes) -> None:
        """Move ``source``'s value, expiry and access time to ``target`` (which is replaced)."""
        packed = self.lfu.pop(source, None) if self.lfu is not None else None
        value = self.data.pop(source)
        self._uncount(source, value)
        when = self.expires.pop(source, None)
        seen = self.access.pop(source, None)
        self.deletions += 1
        replaced = self.data.get(target)
        if replaced is not None:
            self._uncount(target, replaced)
        self.data[target] = value
        self._count(target, value)
        if when is None:
            self.expires.pop(target, None)
        else:
            self.expires[target] = when
        if seen is not None:
            self.access[target] = seen
        if packed is not None:
            self.lfu[target] = packed
        self.modified(source, 0)
        self.modified(target)
        if self.server.notify_flags:
            # Redis deletes an existing target and adds the key anew: always a "new" key.
            notify(self, NOTIFY_NEW, b"new", target)

    def move_key(self, key: bytes, target: Db) -> None:
        """Move ``key`` with its expiry and access time to another database (MOVE)."""
        packed = self.lfu.pop(key, None) if self.lfu is not None else None
        value = self.data.pop(key)
        self._uncount(key, value)
        when = self.expires.pop(key, None)
        seen = self.access.pop(key, None)
        self.deletions += 1
        target.data[key] = value
        target._count(key, value)
        if when is not None:
            target.expires[key] = when
        if seen is not None:
            target.access[key] = seen
        if packed is not None and target.lfu is not None:
            target.lfu[key] = packed
        self.modified(key, 0)
        target.modified(key)
        if self.server.notify_flags:
            notify(target, NOTIFY_NEW, b"new", key)

    def add_copy(self, key: bytes, value: Any, when_ms: int | None) -> None:
        """Store a copied value (COPY), replacing any current one; the copy is a new object."""
        if self.lfu is not None:
            self.lfu[key] = lfu_packed()
        replaced = self.data.get(key)
        if replaced is not None:
            self._uncount(key, replaced)
        self.data[key] = value
        self._count(key, value)
        self.access[key] = self.server.lru_clock
        if when_ms is None:
            self.expires.pop(key, None)
        else:
            self.expires[key] = when_ms
        self.modified(key)
        if self.server.notify_flags:
            # COPY ... REPLACE deletes the old value first: the copy is always a "new" key.
            notify(self, NOTIFY_NEW, b"new", key)

    def swap_contents(self, other: Db) -> None:
        """Exchange keyspaces with ``other`` (SWAPDB). Clients stay on their database number;
        WATCHes on keys present in either database before or after are invalidated."""
        if self.watched:
            self.touch_all_watched(other)
        if other.watched:
            other.touch_all_watched(self)
        for name in ("data", "expires", "access", "expire_scan", "expire_scan_pos", "avg_ttl",
                     "mem_costs", "mem_total", "mem_dirty", "mem_keys", "lfu"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs)
            setattr(other, name, mine)
        # Cursors from either side are meaningless now: drop snapshots, count the keys as gone.
        self.scan_snapshots.clear()
        other.scan_snapshots.clear()
        self.deletions += len(other.data)
        other.deletions += len(self.data)
        self.random_sample = []
        other.random_sample = []
        # Clients blocked on a key that now exists are served, as Redis's SWAPDB does.
        for db in (self, other):
            for key in db.blocking_keys:
                if key in db.data:
                    db.server.blocking.key_ready(db, key)

    def random_key(self) -> bytes | None:
        """A random key, possibly logically expired (RANDOMKEY checks and retries).

        Python dicts have no random access, so keys are drawn from a list snapshot rebuilt
        lazily: at once for small databases, for big ones after the keyspace changed by more
        than an eighth since the snapshot (a cheap count from the size and deletion counter).
        """
        data = self.data
        if not data:
            return None
        sample = self.random_sample
        size = len(data)
        churn = abs(size - self.random_sample_size) + (self.deletions - self.random_sample_deletions)
        if not sample or (churn and (size <= 1024 or churn * 8 > size)):
            sample = self._refresh_random_sample()
        choice = random.choice
        for _ in range(16):
            key = choice(sample)
            if key in data:
                return key
        # Mostly stale snapshot: rebuild it once and draw from the fresh one.
        return choice(self._refresh_random_sample())

    def _refresh_random_sample(self) -> list[bytes]:
        sample = self.random_sample = list(self.data)
        self.random_sample_size = len(sample)
        self.random_sample_deletions = self.deletions
        return sample
