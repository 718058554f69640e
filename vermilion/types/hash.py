"""Hash values: a dict of field -> value (both raw bytes).

Redis 7.0 keeps a small hash as a listpack (fields in insertion order) and converts it for good
to a hash table once it holds more than ``hash-max-listpack-entries`` fields or is given a field
or value longer than ``hash-max-listpack-value`` bytes. ``big`` records that conversion: it
decides OBJECT ENCODING and how HSCAN and HRANDFIELD behave, never the storage. A Python dict
keeps insertion order, which is exactly a listpack's order.
"""

from __future__ import annotations

import random

from . import listpack

# HSCAN snapshots kept per hash (see scan()).
_MAX_SCAN_SNAPSHOTS = 16
# Up to this size a random pick copies the field list; bigger hashes draw from a cached one.
_SMALL_RANDOM = 64


class HashValue:
    """A Redis hash. ``removed`` counts deleted fields (it keeps HSCAN cursors valid)."""

    __slots__ = ("fields", "big", "removed", "scans", "sample")

    TYPE_NAME = b"hash"

    def __init__(self, fields: dict[bytes, bytes] | None = None, big: bool = False) -> None:
        self.fields: dict[bytes, bytes] = {} if fields is None else fields
        self.big = big
        self.removed = 0
        # tag -> snapshot of the field list an HSCAN walks (hash table encoding only)
        self.scans: dict[int, list[bytes]] | None = None
        # (field list, size when taken, removed when taken): HRANDFIELD's draw pool
        self.sample: tuple[list[bytes], int, int] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def encoding(self) -> bytes:
        return b"hashtable" if self.big else b"listpack"

    def copy(self) -> HashValue:
        return HashValue(dict(self.fields), self.big)

    def delete_field(self, field: bytes) -> bool:
        if self.fields.pop(field, None) is None:
            return False
        self.removed += 1
        return True

    # -- HSCAN -----------------------------------------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One HSCAN step over a hash table: the next fields and the cursor (0 when done).

        As Db.scan: the cursor is a position in a snapshot of the field order plus the removal
        count when it was issued. Dicts never reorder survivors, so a lost snapshot is rebuilt
        and the position moved back by the removals since: a field present for the whole scan
        is returned at least once. Snapshots are kept least recently used first, so a scan in
        progress keeps its own (and therefore ends) while abandoned ones are dropped.
        """
        position, tag = cursor >> 32, cursor & 0xFFFFFFFF
        scans = self.scans
        fields = scans.pop(tag, None) if cursor and scans else None
        if fields is not None:
            scans[tag] = fields  # most recently used last: abandoned scans are evicted first
        else:
            if cursor:
                position = max(0, position - ((self.removed - tag) & 0xFFFFFFFF))
            tag = self.removed & 0xFFFFFFFF
            fields = list(self.fields)
            if scans is None:
                scans = self.scans = {}
            scans.pop(tag, None)
            if len(scans) >= _MAX_SCAN_SNAPSHOTS:
                scans.pop(next(iter(scans)))
            scans[tag] = fields
        end = min(position + count, len(fields))
        batch = fields[position:end]
        if end >= len(fields):
            scans.pop(tag, None)
            return 0, batch
        return (end << 32) | tag, batch

    # -- HRANDFIELD ------------------------------------------------------------------------------

    def _draw_pool(self) -> list[bytes]:
        """A list of (mostly) current fields to draw from, rebuilt when the hash changed by
        more than an eighth since it was taken."""
        fields = self.fields
        size = len(fields)
        sample = self.sample
        if sample is not None:
            pool, taken_size, taken_removed = sample
            churn = abs(size - taken_size) + (self.removed - taken_removed)
            if churn * 8 <= size:
                return pool
        pool = list(fields)
        self.sample = (pool, size, self.removed)
        return pool

    def random_field(self) -> bytes:
        fields = self.fields
        if len(fields) <= _SMALL_RANDOM:
            return random.choice(list(fields))
        pool = self._draw_pool()
        for _ in range(16):
            field = random.choice(pool)
            if field in fields:
                return field
        self.sample = None
        return random.choice(self._draw_pool())

    def random_fields(self, count: int) -> list[bytes]:
        """``count`` fields drawn independently (repetitions allowed)."""
        if count * 8 < len(self.fields):
            return [self.random_field() for _ in range(count)]
        return random.choices(list(self.fields), k=count)

    def unique_random_fields(self, count: int) -> list[bytes]:
        """``count`` distinct fields (count < size): in hash order for a listpack, as Redis
        picks them, in random order for a hash table."""
        fields = list(self.fields)
        if self.big:
            return random.sample(fields, count)
        picked = sorted(random.sample(range(len(fields)), count))
        return [fields[index] for index in picked]

    # -- DEBUG OBJECT ------------------------------------------------------------------------

    def serialized_length(self) -> int:
        """Bytes RDB spends on the value: a listpack as one string, a hash table as its size
        then every field and value as strings."""
        if not self.big:
            flat: list[bytes] = []
            for field, value in self.fields.items():
                flat.append(field)
                flat.append(value)
            return listpack.rdb_string_size(listpack.listpack_bytes(flat))
        total = listpack.rdb_length_size(len(self.fields))
        for field, value in self.fields.items():
            total += listpack.rdb_string_size(field) + listpack.rdb_string_size(value)
        return total


__all__ = ["HashValue"]
