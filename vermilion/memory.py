"""Memory accounting in Redis's terms: what each key costs, the running dataset total, and the
figures INFO memory, MEMORY and eviction read.

A key's cost is what Redis 7.0's MEMORY USAGE would report for it: the key's sds string, its
dictionary entry and the value's object and encoding, each allocation rounded up to jemalloc's
size classes. Containers are costed from their length and a few sampled elements, so costing a
value is O(samples), never O(elements).

Strings (``bytes`` values, immutable) are counted by ``Db`` as they are stored and removed: their
cost follows from the value, so nothing is kept per key. Other values change in place, so
``Db.modified(key)`` adds their key to ``db.mem_dirty`` and they are re-costed when a figure is
needed (``settle``: before an eviction check, INFO, MEMORY, and on every cron tick), a key written
many times in between being costed once; ``db.mem_costs`` remembers their last cost so the total
moves by the difference.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from itertools import islice
from typing import TYPE_CHECKING, Any

from .types.hash import HashValue
from .types.list import ListValue
from .types.listpack import _entry as listpack_entry
from .types.set import RedisSet
from .types.stream import Stream
from .types.zset import ZSet, listpack_score_text

if TYPE_CHECKING:
    from .keyspace.db import Db
    from .server import Server

# Sizes of Redis 7.0's structures on a 64-bit build.
ROBJ = 16  # robj
DICT_ENTRY = 24  # dictEntry: key, value, next
DICT = 56  # dict: type, two tables, two used counts, rehash index and pause, size exponents
QUICKLIST = 40
QUICKLIST_NODE = 32
ZSET = 16  # zset: dict pointer, skiplist pointer
ZSKIPLIST = 32
STREAM = 80
RAX = 24
LISTPACK_EMPTY = 7  # 6-byte header plus the end byte
INTSET_HEADER = 8
# A skiplist node: member pointer, score, backward pointer, then 16 bytes per level. The header
# node has 32 levels; an ordinary node has on average 4/3 levels (p = 1/4), which averages to
# 53 bytes after jemalloc's rounding.
ZSKIPLIST_HEADER = 24 + 32 * 16
ZSKIPLIST_NODE_AVG = 53
# A quicklist node holds at most 8 KB of listpack at the default fill (-2).
QUICKLIST_NODE_BYTES = {-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536}
STREAM_NODE_PREALLOC = 4096
STREAM_RAX = 504
STRING_EMBSTR_LIMIT = 44
# What Redis 7.0 reports as used_memory_startup with the default configuration: the baseline of
# a server embedded in another program (vermilion.testing), whose process memory is not its own.
# A vermilion-server process measures its own instead (measure_startup).
STARTUP_MEMORY = 876_344
# Elements sampled per container when the running total re-costs a key (MEMORY USAGE's default
# is 5; the write path uses fewer: both ends and the middle for lists).
ACCOUNTING_SAMPLES = 3
DEFAULT_SAMPLES = 5


def _size_class(size: int) -> int:
    """The jemalloc size class an allocation of ``size`` bytes gets (8, 16, 32, 48, ..., 128, then
    four classes per power of two)."""
    if size <= 8:
        return 8
    if size <= 128:
        return (size + 15) & ~15
    spacing = 1 << ((size - 1).bit_length() - 3)
    return (size + spacing - 1) & ~(spacing - 1)


_CLASS_TABLE = [_size_class(size) for size in range(4097)]


def malloc_size(size: int) -> int:
    return _CLASS_TABLE[size] if size <= 4096 else _size_class(size)


def _sds_header(length: int) -> int:
    if length < 32:
        return 1
    if length < 256:
        return 3
    if length < 65536:
        return 5
    return 9


def sds_size(length: int) -> int:
    """Bytes of an sds string of ``length`` bytes as Redis allocates it (header, data, NUL)."""
    header = 3 if length == 0 else _sds_header(length)
    return malloc_size(header + length + 1)


_SDS_TABLE = [sds_size(length) for length in range(4097)]


def _sds(length: int) -> int:
    return _SDS_TABLE[length] if length <= 4096 else sds_size(length)


def _element_sds(length: int) -> int:
    """An element's sds inside a hash, set or sorted set: Redis 7.0 copies them from the
    command's argument objects, whose sds header is at least 3 bytes (type 8)."""
    return malloc_size(_sds_header(length) + 2 + length + 1) if length < 32 else _sds(length)


def _is_int_encoded(value: bytes | bytearray) -> bool:
    """Whether Redis would store this string as a long (OBJ_ENCODING_INT): canonical decimal
    within 64 bits (checked cheaply: at most 19 digits, no leading zero)."""
    size = len(value)
    if size == 0 or size > 20:
        return False
    digits = value[1:] if value[0] == 45 else value  # "-"
    if not digits or not digits.isdigit() or len(digits) > 19:
        return False
    return len(digits) == 1 or digits[0] != 48


def string_cost(value: bytes | bytearray) -> int:
    size = len(value)
    if size > 4 and value[4] == 1 and value.startswith(b"HYLL"):
        # A sparse HyperLogLog grows in place, and sds growth doubles what it asks for.
        return ROBJ + malloc_size(_sds_header(2 * size) + 2 * size + 1)
    if size <= 20 and _is_int_encoded(value):
        return ROBJ
    if size <= STRING_EMBSTR_LIMIT and value.__class__ is bytes and not value.startswith(b"HYLL"):
        # (HyperLogLogs are created raw even when short)
        return malloc_size(ROBJ + 3 + size + 1)
    return ROBJ + _sds(size)


def _dict_slots(count: int) -> int:
    """Buckets of a Redis dict holding ``count`` entries (4 minimum, then powers of two)."""
    if count <= 4:
        return 4 if count else 0
    return 1 << (count - 1).bit_length()


def _sample_positions(length: int, samples: int) -> range | list[int]:
    if samples >= length:
        return range(length)
    if samples <= 1:
        return [0]
    step = (length - 1) / (samples - 1)
    return sorted({round(i * step) for i in range(samples)})


def list_cost(value: ListValue, samples: int) -> int:
    items = value.items
    head = value.head
    length = len(items) - head
    if length == 0:
        return ROBJ + QUICKLIST
    positions = _sample_positions(length, samples)
    entry_bytes = 0
    for position in positions:
        encoded = items[head + position]
        raw = encoded[encoded.index(b"\n") + 1 : -2]
        entry_bytes += len(listpack_entry(raw))
    total = entry_bytes * length / len(positions)
    node_limit = QUICKLIST_NODE_BYTES.get(value.fill, 8192) if value.fill < 0 else 8192
    usable = node_limit - LISTPACK_EMPTY
    nodes = max(1, -(-int(total) // usable))
    per_node = int(total / nodes) + LISTPACK_EMPTY
    return ROBJ + QUICKLIST + nodes * (QUICKLIST_NODE + malloc_size(per_node))


def hash_cost(value: HashValue, samples: int) -> int:
    fields = value.fields
    length = len(fields)
    if not value.big and samples >= DEFAULT_SAMPLES:
        samples = length  # a listpack's size is exact in Redis, not sampled
    sampled = list(islice(fields.items(), samples)) if samples < length else list(fields.items())
    if not sampled:
        return ROBJ + malloc_size(LISTPACK_EMPTY)
    if not value.big:
        pair_bytes = sum(len(listpack_entry(f)) + len(listpack_entry(v)) for f, v in sampled)
        return ROBJ + malloc_size(LISTPACK_EMPTY + int(pair_bytes * length / len(sampled)))
    element = sum(_element_sds(len(f)) + _element_sds(len(v)) + DICT_ENTRY for f, v in sampled)
    return ROBJ + DICT + 8 * _dict_slots(length) + int(element * length / len(sampled))


def set_cost(value: RedisSet, samples: int) -> int:
    members = value.members
    length = len(members)
    if value.intset:
        return ROBJ + malloc_size(INTSET_HEADER + length * value.width)
    if not length:
        return ROBJ + DICT
    positions = _sample_positions(length, samples)
    element = sum(_element_sds(len(members[p])) + DICT_ENTRY for p in positions)
    return ROBJ + DICT + 8 * _dict_slots(length) + int(element * length / len(positions))


def zset_cost(value: ZSet, samples: int) -> int:
    scores = value.scores
    length = len(scores)
    if value.listpack and samples >= DEFAULT_SAMPLES:
        samples = length  # a listpack's size is exact in Redis, not sampled
    sampled = list(islice(scores.items(), samples)) if samples < length else list(scores.items())
    if not sampled:
        return ROBJ + malloc_size(LISTPACK_EMPTY)
    if value.listpack:
        pair_bytes = sum(
            len(listpack_entry(m)) + len(listpack_entry(listpack_score_text(s))) for m, s in sampled
        )
        return ROBJ + malloc_size(LISTPACK_EMPTY + int(pair_bytes * length / len(sampled)))
    element = sum(_element_sds(len(m)) + DICT_ENTRY + ZSKIPLIST_NODE_AVG for m, _ in sampled)
    return (ROBJ + ZSET + ZSKIPLIST + DICT + 8 * _dict_slots(length)
            + malloc_size(ZSKIPLIST_HEADER) + int(element * length / len(sampled)))


def stream_cost(value: Stream, samples: int) -> int:
    """Closed nodes count their listpack's bytes (sampled: the average of the first ``samples``
    for all but the last), the open last node its allocation, preallocated at 4 KB; plus the
    radix tree's share, which Redis 7.0 reports as a fixed 504 bytes for small streams."""
    nodes = value.nodes
    cost = ROBJ + STREAM + STREAM_RAX
    if nodes:
        closed = nodes[:-1]
        if len(closed) <= samples:
            cost += sum(node.lp_size for node in closed)
        else:
            first = [node.lp_size for node in closed[:samples]]
            cost += sum(first) // len(first) * len(closed)
        cost += malloc_size(max(nodes[-1].lp_size, STREAM_NODE_PREALLOC))
    groups = value.groups
    if groups:
        # Redis counts each group's struct and PEL rax, and each pending entry (NACK plus rax
        # room), and each consumer.
        for group in groups.values():
            cost += malloc_size(48) + malloc_size(RAX)
            pending = len(group.pel)
            cost += pending * (malloc_size(32) + 24)
            for consumer in group.consumers.values():
                cost += malloc_size(40) + malloc_size(RAX) + _sds(len(consumer.name))
                cost += len(consumer.pel) * 24
    return cost


_CONTAINER_COST = {
    ListValue: list_cost,
    HashValue: hash_cost,
    RedisSet: set_cost,
    ZSet: zset_cost,
    Stream: stream_cost,
}


def value_cost(value: Any, samples: int = DEFAULT_SAMPLES) -> int:
    """Bytes Redis would use for ``value`` (objectComputeSize), sampling nested elements."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return string_cost(value)
    costing = _CONTAINER_COST.get(cls)
    if costing is None:
        return ROBJ
    return costing(value, samples)


def key_cost(key: bytes, value: Any, samples: int = DEFAULT_SAMPLES) -> int:
    """MEMORY USAGE's figure: the value, the key's sds and its dictionary entry."""
    return value_cost(value, samples) + _sds(len(key)) + DICT_ENTRY


# -- the running total -----------------------------------------------------------------------

# Costs repeat a lot (size classes): share one int object per figure instead of one per key.
_INTERNED: dict[int, int] = {}


# Costs of the common cases, by length: a non-integer string value (embstr up to 44 bytes, raw
# above), and a key (its sds plus the dictionary entry).
_STRING_COST = [malloc_size(ROBJ + 4 + size) if size <= STRING_EMBSTR_LIMIT else ROBJ + _sds(size)
                for size in range(4097)]
_KEY_COST = [_sds(size) + DICT_ENTRY for size in range(4097)]
# First bytes that may start an integer-encoded string, or a HyperLogLog ("H", always raw).
SPECIAL_STRING_FIRST = _SPECIAL_FIRST = frozenset(b"-0123456789H")


def string_value_cost(value: bytes) -> int:
    """The value's share of string_key_cost."""
    size = len(value)
    if size > 4096:
        return ROBJ + _sds(size)
    if size and value[0] in _SPECIAL_FIRST and (size <= STRING_EMBSTR_LIMIT or value[0] == 72):
        return string_cost(value)
    return _STRING_COST[size]


def string_key_cost(key: bytes, value: bytes) -> int:
    """key_cost for a bytes value, fast: it runs as each string is stored and removed."""
    size = len(key)
    return string_value_cost(value) + (_KEY_COST[size] if size <= 4096 else _sds(size) + DICT_ENTRY)


def string_replacement_cost(old: bytes, new: bytes) -> int:
    """How much storing ``new`` over the string ``old`` under the same key changes the total:
    nothing for two plain strings of one length (SET's common case), computed otherwise."""
    size = len(new)
    if size == len(old) and not (size and (new[0] in _SPECIAL_FIRST or old[0] in _SPECIAL_FIRST)):
        return 0
    return string_value_cost(new) - string_value_cost(old)


def settle(db: Db) -> None:
    """Re-cost the non-string values changed since the last settle (strings are counted as they
    are stored) and move the db's total by the differences."""
    dirty = db.mem_dirty
    if not dirty:
        return
    data = db.data
    costs = db.mem_costs
    total = db.mem_total
    intern = _INTERNED.setdefault
    samples = ACCOUNTING_SAMPLES
    for key in dirty:
        value = data.get(key)
        if value is None or value.__class__ is bytes:
            continue  # gone or a string now: Db already moved the total
        new = value_cost(value, samples)
        size = len(key)
        new += _KEY_COST[size] if size <= 4096 else _sds(size) + DICT_ENTRY
        old = costs.get(key, 0)
        if new != old:
            costs[key] = intern(new, new)
            total += new - old
    dirty.clear()
    db.mem_total = total


def recount(db: Db) -> None:
    """Cost every key again (after writes that bypassed Db, such as loading a dataset)."""
    total = 0
    costs = {}
    intern = _INTERNED.setdefault
    for key, value in db.data.items():
        if value.__class__ is bytes:
            total += string_key_cost(key, value)
        else:
            cost = key_cost(key, value, ACCOUNTING_SAMPLES)
            costs[key] = cost = intern(cost, cost)
            total += cost
    db.mem_costs = costs
    db.mem_total = total
    db.mem_keys = len(db.data)
    db.mem_dirty.clear()


def settle_all(server: Server) -> None:
    for db in server.dbs:
        if db.mem_keys != len(db.data):
            recount(db)
        elif db.mem_dirty:
            settle(db)
    if len(_INTERNED) > 65536:
        # Many distinct big sizes: stop sharing those seen so far (they stay valid).
        _INTERNED.clear()


# CPython's own per-key structures, which Redis's figures do not have and eviction must see
# (otherwise the process outgrows maxmemory by them): the db's dicts (keys, access times,
# expiry times, LFU counters, cached costs; sys.getsizeof is O(1) and covers their tables and
# entries), the int objects held per key as expiry times and LFU counters, and a key's bytes
# object header, larger than an sds header.
PY_INT = sys.getsizeof(1 << 40)
PY_KEY_EXTRA = sys.getsizeof(b"") - 2


def db_overhead(db: Db) -> tuple[int, int]:
    """(main, expires): the bytes the db's per-key tables take in this process, in place of
    Redis's hash tables (dictEntry and bucket array)."""
    getsizeof = sys.getsizeof
    main = (getsizeof(db.data) + getsizeof(db.access) + getsizeof(db.mem_costs)
            + len(db.data) * PY_KEY_EXTRA)
    lfu = db.lfu
    if lfu:
        main += getsizeof(lfu) + len(lfu) * PY_INT
    expires = db.expires
    return main, (getsizeof(expires) + len(expires) * PY_INT if expires else 0)


def freed_by_delete(db: Db, key: bytes) -> int:
    """What deleting ``key`` takes off used_memory: its cost, its bytes header and the int
    objects it holds (the per-key dicts keep their size until compact rebuilds them)."""
    if db.mem_dirty:
        settle(db)
    value = db.data[key]
    freed = string_key_cost(key, value) if value.__class__ is bytes else db.mem_costs.get(key, 0)
    freed += PY_KEY_EXTRA - DICT_ENTRY
    if key in db.expires:
        freed += PY_INT
    if db.lfu is not None and key in db.lfu:
        freed += PY_INT
    return freed


def used_memory(server: Server, clients: int = 0, settled: bool = True) -> int:
    """used_memory without client buffers (``clients`` adds them): the baseline, the dataset
    (values and keys in Redis's terms, less Redis's dictEntry, which the real tables of
    db_overhead replace) and the per-key tables. Eviction compares this to maxmemory: client
    buffers are only known by walking the clients, and a figure sampled earlier would evict
    for a pipeline that has long been served. ``settled=False``: the containers changed since
    the last settle keep their last cost (strings and tables are always current)."""
    total = server.startup_memory + clients
    for db in server.dbs:
        if settled and db.mem_dirty:
            settle(db)
        if db.mem_total:
            main, expires = db_overhead(db)
            total += db.mem_total - len(db.data) * DICT_ENTRY + main + expires
    return total


def measure_startup(server: Server) -> None:
    """used_memory_startup of a vermilion-server process: its anonymous resident memory once the
    interpreter, the modules and the command table are loaded (about 27 MB, where Redis needs
    under 1 MB). Redis counts its startup allocations in used_memory, and so in what maxmemory
    limits; so does Vermilion, so that maxmemory bounds the process (docs/extensions.md,
    "Memory figures")."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    server.startup_memory = int(line.split()[1]) * 1024
                    return
    except OSError:
        pass  # not Linux: Redis's own figure stays


def dataset_keys(server: Server) -> int:
    return sum(len(db.data) for db in server.dbs)


# -- the allocator -------------------------------------------------------------------------------

def _load_libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None)
    except OSError:
        return None


_LIBC = _load_libc()


def purge() -> None:
    """Give freed memory back to the system: a full collection, then glibc's malloc_trim."""
    gc.collect()
    trim = getattr(_LIBC, "malloc_trim", None) if _LIBC is not None else None
    if trim is not None:
        trim(0)


def malloc_stats_text() -> str:
    """The C allocator's own report (glibc's malloc_info XML), or a note when unavailable."""
    info = getattr(_LIBC, "malloc_info", None) if _LIBC is not None else None
    if info is None:
        return "Stats not supported for the current allocator"
    import os
    import tempfile

    libc = _LIBC
    libc.fdopen.restype = ctypes.c_void_p
    libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    with tempfile.TemporaryFile() as handle:
        descriptor = os.dup(handle.fileno())
        stream = libc.fdopen(descriptor, b"w")
        if not stream:
            os.close(descriptor)
            return "Stats not supported for the current allocator"
        info(0, stream)
        libc.fclose(stream)
        handle.seek(0)
        return handle.read().decode("utf-8", "replace")


def figures(server: Server) -> dict[str, int]:
    """The figures INFO memory and MEMORY STATS report, in Redis's terms."""
    from .info import client_memory

    settle_all(server)
    clients_normal = sum(client_memory(c) for c in list(server.clients.values()))
    used = used_memory(server, clients_normal)
    tables = []
    overhead = server.startup_memory + clients_normal
    for db in server.dbs:
        if db.data:
            main, expires = db_overhead(db)
            tables.append((db.index, main, expires))
            overhead += main + expires
    if used > server.mem_peak:
        server.mem_peak = used
    return {
        "used": used,
        "peak": server.mem_peak,
        "startup": server.startup_memory,
        "overhead": overhead,
        "dataset": max(0, used - overhead),
        "clients_normal": clients_normal,
        "keys": dataset_keys(server),
        "tables": tables,
    }


# -- keeping the process's real memory in check ------------------------------------------------

# glibc's mallopt parameter: allocations from this size up are mmapped, so freeing them returns
# the memory to the system at once (big dict tables, big strings). Fixing it also stops glibc
# from raising the threshold after such a free, which leaves later big tables in the heap.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20
_tuned = False


def tune_allocator() -> None:
    """Once per process: big allocations always mmapped (see MMAP_THRESHOLD)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    mallopt = getattr(_LIBC, "mallopt", None) if _LIBC is not None else None
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _fresh_dict_size(count: int) -> int:
    """About what sys.getsizeof reports for a dict of ``count`` keys built in one go (CPython
    sizes it for 1.5x its keys, in powers of two; 24-byte entries for 2/3 of the slots)."""
    slots = 1 << max(3, ((count * 3 + 1) // 2 - 1).bit_length())
    index_width = 1 if slots <= 128 else 2 if slots <= 1 << 15 else 4 if slots <= 1 << 31 else 8
    return slots * index_width + slots * 2 // 3 * 24


_PER_KEY_DICTS = ("data", "expires", "access", "mem_costs", "lfu")
# id(db) -> db.deletions at its last compaction
_COMPACTED_AT: dict[int, int] = {}


def compact(db: Db) -> None:
    """Rebuild the db's per-key dicts before churn makes CPython double them.

    A dict whose keys come and go (as under eviction) fills its entry array with dead slots, and
    CPython then regrows it to a power of two above three times its live keys: a dict of 100k
    keys settles at 524288 slots instead of 262144, about 10 MB instead of 5, for each per-key
    dict. A copy is sized for its live keys, so the dicts are copied once the keys removed since
    the last copy reach half the live keys (before the entry array can fill up), and whenever one
    has grown to twice its needed size. Not while a background snapshot holds these dicts."""
    if db.server.snapshot is not None:
        return
    churn = db.deletions - _COMPACTED_AT.get(id(db), 0)
    due = churn >= max(4096, len(db.data) // 2)
    if due:
        _COMPACTED_AT[id(db)] = db.deletions
    for name in _PER_KEY_DICTS:
        table = getattr(db, name)
        if table and len(table) >= 4096 and (
                due or sys.getsizeof(table) > 2 * _fresh_dict_size(len(table))):
            setattr(db, name, dict(table))
