"""Stream values: entries in ID order, grouped into nodes exactly where Redis 7.0 splits them, plus
consumer groups with their pending entries lists (PELs).

An entry ID is kept as one int, ``ms << 64 | seq``, so IDs compare and bisect as plain ints.

Redis stores a stream as a radix tree of listpacks ("nodes"), each keyed by the ID of its first
entry ever (the master ID). Several replies depend on that layout: approximate trimming (``~``)
only drops whole nodes, XINFO reports the node count and the radix tree size, and an RDB dump is
the listpacks themselves. So the nodes here are cut where Redis cuts them: a new node starts when
the tail node already holds ``stream-node-max-entries`` records (live plus deleted) or when its
listpack size plus the raw size of the new fields and values reaches ``stream-node-max-bytes``.
Each node tracks the byte size its listpack would have, and keeps deleted entries as tombstones
(Redis only flags them) until the whole node goes.

Walking a stream in ID order: ``nodes`` (ordered), each with ``ids`` / ``items`` in order and
``dead`` holding the tombstoned IDs; ``node.listpack()`` rebuilds the node's listpack bytes.
Groups: ``groups`` maps a name to a ``ConsumerGroup`` whose ``pel`` (ID -> ``PendingEntry``) and
``consumers`` (name -> ``Consumer``, each with its own ``pel`` sharing the same entries) are what
an RDB file records.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from sortedcontainers import SortedDict

from . import listpack
from .string import parse_int

MASK64 = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
# Redis's SCG_INVALID_ENTRIES_READ: a group's read counter that is not known.
INVALID_ENTRIES_READ = -1
# Listpack sizes Redis never lets a node pass, whatever stream-node-max-bytes says.
LISTPACK_MAX_SIZE = 1 << 30

# Entry flags inside a node's listpack.
FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2

_INT_FIRST_BYTES = b"-0123456789"
# Counts at which a listpack integer needs one more byte.
_INT_SIZE_STEPS = frozenset((128, 4096, 32768, 8388608, 2147483648))


def format_id(sid: int) -> bytes:
    return b"%d-%d" % (sid >> 64, sid & MASK64)


def make_id(ms: int, seq: int) -> int:
    return (ms << 64) | seq


# -- listpack sizes ------------------------------------------------------------------------------


def int_element_size(value: int) -> int:
    """Bytes a listpack spends on an integer element (encoding plus its one-byte backlen)."""
    if 0 <= value <= 127:
        return 2
    if -4096 <= value <= 4095:
        return 3
    if -32768 <= value <= 32767:
        return 4
    if -8388608 <= value <= 8388607:
        return 5
    if -2147483648 <= value <= 2147483647:
        return 6
    return 10


def backlen_size(length: int) -> int:
    """Bytes of a listpack entry's back-length field for an entry of ``length`` bytes."""
    if length <= 127:
        return 1
    if length < 16383:
        return 2
    if length < 2097151:
        return 3
    if length < 268435455:
        return 4
    return 5


def string_element_size(value: bytes) -> int:
    """Bytes a listpack spends on a string element (canonical integers are stored as integers)."""
    size = len(value)
    if size <= 20 and size and value[0] in _INT_FIRST_BYTES:
        number = parse_int(value)
        if number is not None:
            return int_element_size(number)
    if size < 64:
        return size + 2
    encoded = size + 2 if size < 4096 else size + 5
    return encoded + backlen_size(encoded)


def _signed64(value: int) -> int:
    value &= MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


# -- nodes -----------------------------------------------------------------------------------------


class StreamNode:
    """One listpack of the radix tree: entries whose IDs start at ``master_id``."""

    __slots__ = ("master_id", "master_fields", "ids", "items", "dead", "live", "lp_size")

    def __init__(self, master_id: int, master_fields: tuple) -> None:
        self.master_id = master_id
        # Field names of the first entry: later entries with the same names store values only.
        self.master_fields = master_fields
        # Every entry still in the listpack, tombstones included, in ID order.
        self.ids: list[int] = []
        # Flat (field, value, field, value, ...) tuples, parallel to ``ids`` (tuples of bytes
        # drop out of the cyclic GC's tracking, which matters for big streams).
        self.items: list[tuple] = []
        # IDs flagged deleted (None while there are none).
        self.dead: set[int] | None = None
        self.live = 0
        # Bytes of the listpack: header and end byte, the live and deleted counters (both 0),
        # the master entry (field count, field names, zero terminator).
        self.lp_size = (
            listpack.HEADER_SIZE + 1 + 2 + 2 + int_element_size(len(master_fields))
            + sum(string_element_size(field) for field in master_fields) + 2
        )

    @property
    def deleted(self) -> int:
        return len(self.ids) - self.live

    def lp_bytes(self) -> int:
        return self.lp_size

    def entry_size(self, sid: int, items: tuple) -> int:
        """Listpack bytes of the entry ``sid`` with ``items`` (fields and values) in this node."""
        master = self.master_id
        # The ID is stored as two deltas from the master ID, as C's wrapping uint64 arithmetic
        # produces them read back as int64.
        ms = (sid >> 64) - (master >> 64)
        size = 2 + (2 if ms <= 127 else int_element_size(_signed64(ms)))
        seq = (sid & MASK64) - (master & MASK64)
        size += 2 if 0 <= seq <= 127 else int_element_size(_signed64(seq))
        numfields = len(items) >> 1
        if tuple(items[0::2]) == self.master_fields:
            values = items[1::2]
            tail = numfields + 3
        else:
            values = items
            size += int_element_size(numfields)
            tail = 2 * numfields + 4
        for value in values:
            length = len(value)
            if length < 64 and not (length and value[0] in _INT_FIRST_BYTES):
                size += length + 2
            else:
                size += string_element_size(value)
        return size + (2 if tail <= 127 else int_element_size(tail))

    def append(self, sid: int, items: tuple) -> None:
        """Add an entry (Stream.append inlines this for the common shape)."""
        size = self.entry_size(sid, items)
        live = self.live + 1
        if live in _INT_SIZE_STEPS:
            size += int_element_size(live) - int_element_size(live - 1)
        self.lp_size += size
        self.ids.append(sid)
        self.items.append(items)
        self.live = live

    def kill(self, sid: int) -> None:
        """Flag ``sid`` (live, in this node) as deleted."""
        if self.dead is None:
            self.dead = {sid}
        else:
            self.dead.add(sid)
        live = self.live
        deleted = len(self.ids) - live
        self.lp_size += (
            int_element_size(live - 1) - int_element_size(live)
            + int_element_size(deleted + 1) - int_element_size(deleted)
        )
        self.live = live - 1

    def copy(self) -> StreamNode:
        node = StreamNode.__new__(StreamNode)
        node.master_id = self.master_id
        node.master_fields = self.master_fields
        node.ids = list(self.ids)
        node.items = list(self.items)
        node.dead = None if self.dead is None else set(self.dead)
        node.live = self.live
        node.lp_size = self.lp_size
        return node

    def listpack(self) -> bytes:
        """This node's listpack, byte for byte as Redis holds it (what an RDB file stores)."""
        master = self.master_id
        fields = self.master_fields
        dead = self.dead or ()
        values: list[bytes] = [
            b"%d" % self.live, b"%d" % (len(self.ids) - self.live), b"%d" % len(fields), *fields, b"0"
        ]
        for sid, items in zip(self.ids, self.items):
            same = tuple(items[0::2]) == fields
            flags = (FLAG_SAMEFIELDS if same else 0) | (FLAG_DELETED if sid in dead else 0)
            values.append(b"%d" % flags)
            values.append(b"%d" % _signed64((sid >> 64) - (master >> 64)))
            values.append(b"%d" % _signed64((sid & MASK64) - (master & MASK64)))
            numfields = len(items) >> 1
            if same:
                values.extend(items[1::2])
                values.append(b"%d" % (numfields + 3))
            else:
                values.append(b"%d" % numfields)
                values.extend(items)
                values.append(b"%d" % (2 * numfields + 4))
        return listpack.listpack_bytes(values)

    def rax_key(self) -> bytes:
        """The radix tree key of this node: the master ID as 128-bit big endian."""
        return self.master_id.to_bytes(16, "big")


# -- consumer groups -------------------------------------------------------------------------------


class PendingEntry:
    """A delivered, not yet acknowledged entry (Redis's streamNACK)."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, delivery_time: int, consumer: Consumer | None, delivery_count: int = 1) -> None:
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, seen_time: int) -> None:
        self.name = name
        self.seen_time = seen_time
        # ID -> PendingEntry, the same objects as in the group's PEL.
        self.pel: SortedDict = SortedDict()


class ConsumerGroup:
    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int = INVALID_ENTRIES_READ) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()
        self.consumers: dict[bytes, Consumer] = {}

    def consumer_names(self) -> list[bytes]:
        """Consumer names in Redis's (radix tree) order."""
        return sorted(self.consumers)

    def delete_consumer(self, consumer: Consumer) -> None:
        pel = self.pel
        for sid in consumer.pel:
            del pel[sid]
        del self.consumers[consumer.name]

    def copy(self) -> ConsumerGroup:
        group = ConsumerGroup(self.last_id, self.entries_read)
        copies: dict[int, PendingEntry] = {}
        for sid, nack in self.pel.items():
            copies[sid] = PendingEntry(nack.delivery_time, None, nack.delivery_count)
        group.pel.update(copies)
        for name, consumer in self.consumers.items():
            twin = Consumer(name, consumer.seen_time)
            for sid in consumer.pel:
                nack = copies[sid]
                nack.consumer = twin
                twin.pel[sid] = nack
            group.consumers[name] = twin
        return group


# -- the stream ------------------------------------------------------------------------------------


class Stream:
    """A Redis stream."""

    __slots__ = (
        "nodes", "node_starts", "length", "last_id", "first_id", "max_deleted_id",
        "entries_added", "groups", "appends",
    )

    TYPE_NAME = b"stream"

    def __init__(self) -> None:
        self.nodes: list[StreamNode] = []
        # Master IDs of ``nodes``, for bisecting to the node that holds an ID.
        self.node_starts: list[int] = []
        self.length = 0
        self.last_id = 0
        # "recorded-first-entry-id": the first live ID as of the last change that moved it.
        self.first_id = 0
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups: dict[bytes, ConsumerGroup] | None = None
        # Counts the events that wake clients blocked on this stream (XADD, a group destroyed).
        self.appends = 0

    def __len__(self) -> int:
        return self.length

    def encoding(self) -> bytes:
        return b"stream"

    # -- adding ------------------------------------------------------------------------------

    def append(self, sid: int, items: tuple, max_bytes: int, max_entries: int) -> None:
        """Add an entry whose ID is above ``last_id``; cut a new node where Redis would."""
        nodes = self.nodes
        if nodes:
            node = nodes[-1]
            ids = node.ids
            if max_entries and len(ids) >= max_entries:
                node = None
            else:
                if max_bytes <= 0 or max_bytes > LISTPACK_MAX_SIZE:
                    max_bytes = LISTPACK_MAX_SIZE
                if len(items) == 2:
                    if node.lp_size + len(items[0]) + len(items[1]) >= max_bytes:
                        node = None
                elif node.lp_size + sum(map(len, items)) >= max_bytes:
                    node = None
        else:
            node = None
        if node is None:
            node = StreamNode(sid, tuple(items[0::2]))
            nodes.append(node)
            self.node_starts.append(sid)
            node.append(sid, items)
        elif len(items) == 2 and node.master_fields[0] == items[0] and len(node.master_fields) == 1:
            # The common shape, inline: one field, the master entry's (see StreamNode.append).
            # The entry shares the master's field name object instead of keeping its own copy.
            value = items[1]
            items = (node.master_fields[0], value)
            master = node.master_id
            length = len(value)
            # Flags, the two ID deltas and lp-count take 2 bytes each while small; a short
            # string value takes its length plus 2.
            if length < 64 and not (length and value[0] in _INT_FIRST_BYTES):
                size = length + 10
            else:
                size = string_element_size(value) + 8
            ms = (sid >> 64) - (master >> 64)
            if ms > 127:
                size += 1 if ms <= 4095 else int_element_size(_signed64(ms)) - 2
            seq = (sid & MASK64) - (master & MASK64)
            if not 0 <= seq <= 127:
                size += 1 if -4096 <= seq <= 4095 else int_element_size(_signed64(seq)) - 2
            live = node.live + 1
            if live in _INT_SIZE_STEPS:
                size += int_element_size(live) - int_element_size(live - 1)
            node.lp_size += size
            ids.append(sid)
            node.items.append(items)
            node.live = live
        else:
            node.append(sid, items)
        self.length += 1
        self.entries_added += 1
        self.last_id = sid
        if self.length == 1:
            self.first_id = sid

    # -- reading -----------------------------------------------------------------------------

    def _locate(self, sid: int) -> int:
        """Index of the node that would hold ``sid`` (0 when ``sid`` precedes every node)."""
        index = bisect_right(self.node_starts, sid) - 1
        return index if index > 0 else 0

    def range(self, start: int, end: int, count: int = 0, rev: bool = False) -> list[tuple[int, tuple]]:
        """Live entries with start <= ID <= end, ascending (descending if ``rev``), at most
        ``count`` of them (0: all)."""
        out: list[tuple[int, tuple]] = []
        if start > end or not self.length:
            return out
        nodes = self.nodes
        if not rev:
            index = self._locate(start)
            position = bisect_left(nodes[index].ids, start)
            while index < len(nodes):
                node = nodes[index]
                index += 1
                ids = node.ids
                dead = node.dead
                items = node.items
                for position in range(position, len(ids)):
                    sid = ids[position]
                    if sid > end:
                        return out
                    if dead and sid in dead:
                        continue
                    out.append((sid, items[position]))
                    if len(out) == count:
                        return out
                position = 0
            return out
        index = bisect_right(self.node_starts, end) - 1
        while index >= 0:
            node = nodes[index]
            index -= 1
            ids = node.ids
            position = bisect_right(ids, end) - 1
            dead = node.dead
            items = node.items
            while position >= 0:
                sid = ids[position]
                if sid < start:
                    return out
                if not (dead and sid in dead):
                    out.append((sid, items[position]))
                    if len(out) == count:
                        return out
                position -= 1
        return out

    def iter_all(self) -> Iterator[tuple[int, tuple]]:
        """Every live entry in ID order."""
        for node in self.nodes:
            dead = node.dead
            for sid, items in zip(node.ids, node.items):
                if not (dead and sid in dead):
                    yield sid, items

    def get(self, sid: int) -> tuple | None:
        """The fields and values of the live entry ``sid``, or None."""
        if not self.nodes:
            return None
        node = self.nodes[self._locate(sid)]
        ids = node.ids
        position = bisect_left(ids, sid)
        if position < len(ids) and ids[position] == sid:
            dead = node.dead
            if not (dead and sid in dead):
                return node.items[position]
        return None

    def last_valid_id(self) -> int:
        """The ID of the last live entry (0 when the stream is empty)."""
        for node in reversed(self.nodes):
            if node.live:
                dead = node.dead
                for sid in reversed(node.ids):
                    if not (dead and sid in dead):
                        return sid
        return 0

    def first_valid_id(self) -> int:
        for node in self.nodes:
            if node.live:
                dead = node.dead
                for sid in node.ids:
                    if not (dead and sid in dead):
                        return sid
        return 0

    # -- removing ----------------------------------------------------------------------------

    def delete(self, sid: int) -> bool:
        """XDEL one entry: flag it deleted; a node losing its last live entry goes entirely."""
        if not self.nodes:
            return False
        index = self._locate(sid)
        node = self.nodes[index]
        ids = node.ids
        position = bisect_left(ids, sid)
        if position >= len(ids) or ids[position] != sid:
            return False
        dead = node.dead
        if dead and sid in dead:
            return False
        if node.live == 1:
            del self.nodes[index]
            del self.node_starts[index]
        else:
            node.kill(sid)
        self.length -= 1
        return True

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int) -> int:
        """Redis's streamTrim: drop entries from the head until at most ``maxlen`` remain (or no
        ID below ``minid``). Whole nodes go first; ``approx`` stops at the first node that cannot
        go whole; ``limit`` (0: none) caps the entries removed. Returns how many were removed."""
        nodes = self.nodes
        removed = 0
        drop = 0  # leading nodes removed whole
        for node in nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            entries = node.live
            if limit and removed + entries > limit:
                break
            if maxlen is not None:
                whole = self.length - entries >= maxlen
            else:
                whole = node.ids[-1] < minid
            if whole:
                drop += 1
                self.length -= entries
                removed += entries
                continue
            if approx:
                break
            dead = node.dead
            for sid in node.ids:
                if maxlen is not None:
                    if self.length <= maxlen:
                        break
                elif sid >= minid:
                    break
                if dead and sid in dead:
                    continue
                node.kill(sid)
                dead = node.dead
                self.length -= 1
                removed += 1
            break
        if drop:
            del nodes[:drop]
            del self.node_starts[:drop]
        if self.length == 0:
            self.first_id = 0
        elif removed:
            self.first_id = self.first_valid_id()
        return removed

    # -- consumer group bookkeeping (Redis 7.0's lag and read counters) ---------------------

    def range_has_tombstones(self, start: int) -> bool:
        """Whether a deleted entry may lie at or after ``start`` (Redis's streamRangeHasTombstones
        with an open end)."""
        deleted = self.max_deleted_id
        if not self.length or not deleted:
            return False
        if self.first_id > deleted:
            return False
        return start <= deleted

    def estimate_entries_read(self, sid: int) -> int:
        """The read counter of an ID (entries added up to it), or -1 when it cannot be known
        (Redis's streamEstimateDistanceFromFirstEverEntry)."""
        added = self.entries_added
        if not added:
            return 0
        if not self.length and sid <= self.last_id:
            return added
        if sid == self.last_id:
            return added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        deleted = self.max_deleted_id
        if not deleted or deleted < self.first_id:
            if sid < self.first_id:
                return added - self.length
            if sid == self.first_id:
                return added - self.length + 1
        return INVALID_ENTRIES_READ

    def group_lag(self, group: ConsumerGroup) -> int | None:
        """Entries not yet delivered to ``group``, or None when Redis cannot tell."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.range_has_tombstones(group.last_id):
            return self.entries_added - group.entries_read
        entries_read = self.estimate_entries_read(group.last_id)
        if entries_read != INVALID_ENTRIES_READ:
            return self.entries_added - entries_read
        return None

    def delivered(self, group: ConsumerGroup, sid: int) -> None:
        """Advance ``group`` past ``sid`` (an entry above its last ID) as a delivery does."""
        if group.entries_read != INVALID_ENTRIES_READ and not self.range_has_tombstones(sid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_entries_read(sid)
        group.last_id = sid

    # -- introspection -----------------------------------------------------------------------

    def radix_tree_nodes(self) -> int:
        """Nodes of the radix tree Redis would hold for these node keys (XINFO's
        radix-tree-nodes): a compressed trie over the 16-byte big-endian master IDs."""
        keys = [sid.to_bytes(16, "big") for sid in self.node_starts]
        if not keys:
            return 1
        return _rax_nodes(keys, 0, len(keys), 0)

    def serialized_length(self) -> int:
        """Bytes of this stream in an RDB file (Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2 layout,
        listpacks LZF-compressed when that helps), as DEBUG OBJECT reports it."""
        length = listpack.rdb_length_size
        size = length(len(self.nodes))
        for node in self.nodes:
            size += 17 + listpack.rdb_string_size(node.listpack())  # 16-byte key + its length
        for value in (self.length, self.last_id >> 64, self.last_id & MASK64, self.first_id >> 64,
                      self.first_id & MASK64, self.max_deleted_id >> 64,
                      self.max_deleted_id & MASK64, self.entries_added):
            size += length(value)
        names = self.group_names()
        size += length(len(names))
        for name in names:
            group = self.groups[name]
            size += listpack.rdb_string_size(name)
            size += length(group.last_id >> 64) + length(group.last_id & MASK64)
            size += length(group.entries_read & MASK64)
            size += length(len(group.pel))
            for nack in group.pel.values():
                size += 16 + 8 + length(nack.delivery_count)
            size += length(len(group.consumers))
            for consumer_name, consumer in group.consumers.items():
                size += listpack.rdb_string_size(consumer_name) + 8
                size += length(len(consumer.pel)) + 16 * len(consumer.pel)
        return size

    def copy(self) -> Stream:
        twin = Stream()
        twin.nodes = [node.copy() for node in self.nodes]
        twin.node_starts = list(self.node_starts)
        twin.length = self.length
        twin.last_id = self.last_id
        twin.first_id = self.first_id
        twin.max_deleted_id = self.max_deleted_id
        twin.entries_added = self.entries_added
        if self.groups is not None:
            twin.groups = {name: group.copy() for name, group in self.groups.items()}
        return twin

    def group_names(self) -> list[bytes]:
        return sorted(self.groups) if self.groups else []


def _rax_nodes(keys: list[bytes], low: int, high: int, depth: int) -> int:
    """Radix tree nodes under a point reached after ``depth`` bytes shared by keys[low:high].

    Redis's rax: a run of bytes with a single continuation is one compressed node, a divergence
    is one node with a child per distinct byte, and every key ends in a node of its own.
    """
    if depth == 16:
        return 1
    if high - low == 1:
        return 2
    first, last = keys[low], keys[high - 1]
    shared = depth
    while first[shared] == last[shared]:
        shared += 1
    count = 1  # the branching node
    if shared > depth:
        count += 1  # the compressed run leading to it
    start = low
    while start < high:
        byte = keys[start][shared]
        stop = start + 1
        while stop < high and keys[stop][shared] == byte:
            stop += 1
        count += _rax_nodes(keys, start, stop, shared + 1)
        start = stop
    return count


__all__ = [
    "INVALID_ENTRIES_READ",
    "MASK64",
    "MAX_ID",
    "Consumer",
    "ConsumerGroup",
    "PendingEntry",
    "Stream",
    "StreamNode",
    "format_id",
    "make_id",
]
