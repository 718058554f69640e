"""Redis's RDB file format: writing version 10 as Redis 7.0 does, reading versions 1 to 11.

A file is the magic ``REDIS0010``, AUX fields (opcode 0xFA, name and value as RDB strings),
the function libraries (FUNCTION2), then per non-empty database SELECTDB and RESIZEDB followed by
its entries (an optional EXPIRETIME_MS, an optional IDLE or FREQ, then the type byte, the key and
the value), and finally EOF and the CRC-64 of everything before it (zero when ``rdbchecksum no``).

Values are written in the encoding Redis holds them in (listpack, intset, quicklist of listpacks,
skiplist, hash table, stream listpacks), so that Redis 7.0 loading the file picks the same
encodings and DUMP payloads are byte-identical with Redis's wherever the in-memory layout is
deterministic. Hash-table sets and hashes are the exception: Redis writes them in its dict's
order, which depends on a per-process random seed, so no two Redis processes agree either.

Loading converts every encoding ever written (zipmap, ziplist, quicklist v1, intset, ...) to
Vermilion's value types and decides their encodings the way Redis 7.0's rdbLoadObject does.
"""

from __future__ import annotations

import gc
import os
import struct
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from ..types.hash import HashValue
from ..types.list import ListValue
from ..types.listpack import clamp_fill, listpack_bytes, quicklist_nodes
from ..types.set import RedisSet
from ..types.stream import (
    FLAG_DELETED,
    FLAG_SAMEFIELDS,
    MASK64,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    Stream,
    StreamNode,
)
from ..types.string import parse_int
from ..types.zset import SortedPairs, ZSet
from .crc64 import crc64
from .encodings import intset_decode, listpack_decode, ziplist_decode, zipmap_decode
from .rdbstring import RdbFormatError, compress_for_rdb, encode_length, encode_string, lzf_decompress

RDB_VERSION_WRITTEN = 10
# The newest version this reader understands (Redis 7.2 wrote 11: set listpacks, stream v3).
RDB_VERSION_MAX_READ = 11
REDIS_VERSION = b"7.0.15"

# Value types.
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
TYPE_SET_LISTPACK = 20
TYPE_STREAM_LISTPACKS_3 = 21

# Opcodes.
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION_PRE_GA = 246
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

QUICKLIST_PLAIN = 1
QUICKLIST_PACKED = 2

SHORT_READ = "Short read or OOM loading DB. Unrecoverable error, aborting now."

_VALUE_TYPES = frozenset(range(0, 22)) - {8}


class RdbError(Exception):
    """An RDB file or DUMP payload that cannot be loaded. ``message`` is what Redis logs;
    ``offset`` where reading stopped; ``kind`` is "read" (truncated or unreadable), "corrupt"
    (a malformed value), "checksum", "signature", "version" or "module"."""

    def __init__(self, message: str, kind: str = "corrupt", offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.offset = offset


class LoadInfo:
    """What a load found: counts per database, AUX fields, the version, functions loaded, and
    ``size``, the bytes the RDB took (anything after it, such as an AOF tail, is not read)."""

    __slots__ = (
        "version", "aux", "keys", "expires", "expired_skipped", "empty_skipped", "functions",
        "db_sizes", "size",
    )

    def __init__(self) -> None:
        self.version = 0
        self.aux: dict[bytes, bytes] = {}
        self.keys = 0
        self.expires = 0
        self.expired_skipped = 0
        self.empty_skipped = 0
        self.functions = 0
        self.db_sizes: dict[int, int] = {}
        self.size = 0


# == writing ======================================================================================


def _string(value: bytes, compress: bool) -> bytes:
    return encode_string(value if value.__class__ is bytes else bytes(value), compress)


_MS_TIME = struct.Struct("<q")


def _ms_time(ms: int) -> bytes:
    return _MS_TIME.pack(ms)


def _list_nodes(value: ListValue) -> list[list[bytes]]:
    return quicklist_nodes(list(value.values()), clamp_fill(value.fill))


def _quicklist_compressed(blob: bytes) -> bytes | None:
    """A quicklist node as __quicklistCompressNode compresses it: nodes under 48 bytes stay
    plain, and compression must save more than 8 bytes."""
    if len(blob) < 48:
        return None
    packed = compress_for_rdb(blob, len(blob))
    if not packed or len(packed) + 8 >= len(blob):
        return None
    return packed


def encode_value(value: Any, compress: bool = True) -> tuple[int, bytes]:
    """(RDB type, encoded value) of a stored value, as Redis 7.0's rdbSaveObject writes it."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return TYPE_STRING, _string(value, compress)
    if cls is ListValue:
        nodes = _list_nodes(value)
        parts = [encode_length(len(nodes))]
        depth = value.compress_depth
        inner = range(depth, len(nodes) - depth) if depth else range(0)
        for index, node in enumerate(nodes):
            parts.append(b"\x02")
            blob = listpack_bytes(node)
            if not compress and index in inner:
                # list-compress-depth: inner nodes are LZF-compressed in memory and Redis saves
                # them as they are, whatever rdbcompression says.
                packed = _quicklist_compressed(blob)
                if packed is not None:
                    parts.append(b"\xc3" + encode_length(len(packed)) + encode_length(len(blob)) + packed)
                    continue
            parts.append(encode_string(blob, compress))
        return TYPE_LIST_QUICKLIST_2, b"".join(parts)
    if cls is RedisSet:
        if value.intset:
            numbers = sorted(int(member) for member in value.members)
            width = value.width
            code = {2: "h", 4: "i", 8: "q"}[width]
            blob = struct.pack("<II", width, len(numbers)) + struct.pack(
                "<%d%s" % (len(numbers), code), *numbers
            )
            return TYPE_SET_INTSET, encode_string(blob, compress)
        parts = [encode_length(len(value.members))]
        parts.extend(_string(member, compress) for member in value.members)
        return TYPE_SET, b"".join(parts)
    if cls is ZSet:
        if value.listpack:
            return TYPE_ZSET_LISTPACK, encode_string(value.listpack_bytes(), compress)
        parts = [encode_length(len(value.scores))]
        pack = struct.Struct("<d").pack
        # Redis saves a skiplist from its tail so that loading inserts at the head.
        for score, member in reversed(value.order):
            parts.append(_string(member, compress))
            parts.append(pack(score))
        return TYPE_ZSET_2, b"".join(parts)
    if cls is HashValue:
        if not value.big:
            flat: list[bytes] = []
            for field, item in value.fields.items():
                flat.append(field)
                flat.append(item)
            return TYPE_HASH_LISTPACK, encode_string(listpack_bytes(flat), compress)
        parts = [encode_length(len(value.fields))]
        for field, item in value.fields.items():
            parts.append(_string(field, compress))
            parts.append(_string(item, compress))
        return TYPE_HASH, b"".join(parts)
    if cls is Stream:
        return TYPE_STREAM_LISTPACKS_2, _encode_stream(value, compress)
    raise TypeError(f"cannot serialise a {cls.__name__}")


def _encode_stream(stream: Stream, compress: bool) -> bytes:
    parts = [encode_length(len(stream.nodes))]
    for node in stream.nodes:
        parts.append(encode_string(node.rax_key(), compress))
        parts.append(encode_string(node.listpack(), compress))
    for number in (
        stream.length, stream.last_id >> 64, stream.last_id & MASK64, stream.first_id >> 64,
        stream.first_id & MASK64, stream.max_deleted_id >> 64, stream.max_deleted_id & MASK64,
        stream.entries_added,
    ):
        parts.append(encode_length(number))
    names = stream.group_names()
    parts.append(encode_length(len(names)))
    for name in names:
        group = stream.groups[name]
        parts.append(_string(name, compress))
        parts.append(encode_length(group.last_id >> 64))
        parts.append(encode_length(group.last_id & MASK64))
        parts.append(encode_length(group.entries_read & MASK64))
        parts.append(encode_length(len(group.pel)))
        for sid, nack in group.pel.items():
            parts.append(sid.to_bytes(16, "big"))
            parts.append(_ms_time(nack.delivery_time))
            parts.append(encode_length(nack.delivery_count))
        consumer_names = group.consumer_names()
        parts.append(encode_length(len(consumer_names)))
        for consumer_name in consumer_names:
            consumer = group.consumers[consumer_name]
            parts.append(_string(consumer_name, compress))
            parts.append(_ms_time(consumer.seen_time))
            parts.append(encode_length(len(consumer.pel)))
            parts.extend(sid.to_bytes(16, "big") for sid in consumer.pel)
    return b"".join(parts)


def encode_entry(key: bytes, value: Any, expire_at_ms: int | None, *, compress: bool = True,
                 idle_seconds: int | None = None, freq: int | None = None) -> bytes:
    """One key as an RDB file holds it: [EXPIRETIME_MS] [IDLE | FREQ] type key value.
    ``idle_seconds`` / ``freq`` are written when the maxmemory policy is LRU / LFU, as Redis."""
    kind, body = encode_value(value, compress)
    head = b""
    if expire_at_ms is not None:
        head = b"\xfc" + _ms_time(expire_at_ms)
    if idle_seconds is not None:
        head += b"\xf8" + encode_length(idle_seconds)
    elif freq is not None:
        head += b"\xf9" + bytes((freq & 0xFF,))
    return head + bytes((kind,)) + _string(key, compress) + body


def encode_db_header(db_index: int, size: int, expires_size: int) -> bytes:
    """SELECTDB and RESIZEDB for one database."""
    return (
        b"\xfe" + encode_length(db_index)
        + b"\xfb" + encode_length(size) + encode_length(expires_size)
    )


def _aux(name: bytes, value: bytes) -> bytes:
    return b"\xfa" + encode_string(name) + encode_string(value)


def _used_memory(server: Any) -> int:
    try:
        from .. import info

        return int(info.memory_figures(server)["used"])
    except Exception:  # INFO's figures are a nicety here; the field only has to be a number
        return 0


def _config(server: Any, attr: str, default: Any) -> Any:
    return getattr(server.config, attr, default)


def rdb_prelude(server: Any, extra_aux: dict[bytes, bytes] | None = None) -> bytes:
    """The magic, the AUX fields Redis 7.0 writes, and the function libraries."""
    compress = bool(_config(server, "rdbcompression", True))
    aux = {
        b"redis-ver": REDIS_VERSION,
        b"redis-bits": b"64",
        b"ctime": b"%d" % int(time.time()),
        b"used-mem": b"%d" % _used_memory(server),
    }
    extra = dict(extra_aux or {})
    # Redis writes aof-base last; replication fields (repl-*) come before it.
    aof_base = extra.pop(b"aof-base", b"0")
    aux.update(extra)
    aux[b"aof-base"] = aof_base
    parts = [b"REDIS%04d" % RDB_VERSION_WRITTEN]
    parts.extend(_aux(name, value) for name, value in aux.items())
    scripting = server.__dict__.get("scripting")
    if scripting is not None:
        for library in scripting.functions.current.libraries.values():
            parts.append(bytes((OPCODE_FUNCTION2,)))
            parts.append(encode_string(library.code, compress))
    return b"".join(parts)


def rdb_epilogue(crc: int | None) -> bytes:
    """EOF and the checksum. ``crc`` is the running CRC-64 of everything written before EOF,
    or None when ``rdbchecksum`` is off (the checksum is then written as zero)."""
    if crc is None:
        return b"\xff" + bytes(8)
    return b"\xff" + struct.pack("<Q", crc64(b"\xff", crc))


def _lru_policy(server: Any) -> str:
    policy = str(_config(server, "maxmemory_policy", "noeviction"))
    if "lru" in policy:
        return "lru"
    if "lfu" in policy:
        return "lfu"
    return ""


def key_frequency(db: Any, key: bytes) -> int:
    """The LFU counter FREQ saves: the key's logarithmic counter after decay, as kept by the
    LFU bookkeeping of vermilion.eviction (``db.lfu``)."""
    from .. import eviction

    return eviction.key_frequency(db, key) & 0xFF


def set_key_frequency(db: Any, key: bytes, freq: int | None) -> None:
    """Give a restored or loaded key its LFU counter (Redis's objectSetLRUOrLFU): ``freq``, or
    the initial counter when None. Nothing to do unless the database keeps LFU counters."""
    lfu = getattr(db, "lfu", None)
    if lfu is None:
        return
    from ..keyspace.lfu import lfu_packed

    lfu[key] = lfu_packed() if freq is None else lfu_packed(freq)


def write_rdb(server: Any, out: BinaryIO, *, extra_aux: dict[bytes, bytes] | None = None) -> None:
    """A complete RDB v10 file of the server's data written to ``out``."""
    compress = bool(_config(server, "rdbcompression", True))
    checksum = bool(_config(server, "rdbchecksum", True))
    policy = _lru_policy(server)
    lru_clock = getattr(server, "lru_clock", int(time.time()))
    crc = 0
    batch: list[bytes] = []
    batch_size = 0

    def flush() -> None:
        nonlocal crc, batch_size
        if batch:
            chunk = b"".join(batch)
            if checksum:
                crc = crc64(chunk, crc)
            out.write(chunk)
            batch.clear()
            batch_size = 0

    batch.append(rdb_prelude(server, extra_aux))
    for index, db in enumerate(server.dbs):
        data = db.data
        if not data:
            continue
        expires = db.expires
        batch.append(encode_db_header(index, len(data), len(expires)))
        access = db.access
        pack_ms = _MS_TIME.pack
        for key, value in data.items():
            if not policy and value.__class__ is bytes:
                # The common case inlined: [EXPIRETIME_MS] type 0, key, value.
                when = expires.get(key) if expires else None
                if when is None:
                    entry = b"\x00" + encode_string(key, compress) + encode_string(value, compress)
                else:
                    entry = (b"\xfc" + pack_ms(when) + b"\x00" + encode_string(key, compress)
                             + encode_string(value, compress))
            else:
                idle = freq = None
                if policy == "lru":
                    idle = max(0, lru_clock - access.get(key, lru_clock))
                elif policy == "lfu":
                    freq = key_frequency(db, key)
                entry = encode_entry(key, value, expires.get(key), compress=compress,
                                     idle_seconds=idle, freq=freq)
            batch.append(entry)
            batch_size += len(entry)
            if batch_size > 1 << 20:
                flush()
    flush()
    out.write(rdb_epilogue(crc if checksum else None))


# == DUMP payloads ================================================================================


def dump_payload(value: Any, compress: bool = True) -> bytes:
    """DUMP's serialisation: type, value, RDB version (2 bytes LE), CRC-64 (8 bytes LE)."""
    kind, body = encode_value(value, compress)
    payload = bytes((kind,)) + body + struct.pack("<H", RDB_VERSION_WRITTEN)
    return payload + struct.pack("<Q", crc64(payload))


def verify_dump_payload(payload: bytes, skip_checksum: bool = False) -> bool:
    """Redis's verifyDumpPayload: long enough, a version it can read, a matching checksum."""
    if len(payload) < 10:
        return False
    version = payload[-10] | (payload[-9] << 8)
    if version > RDB_VERSION_WRITTEN:
        return False
    if skip_checksum:
        return True
    return struct.pack("<Q", crc64(memoryview(payload)[:-8])) == payload[-8:]


class EmptyKey(Exception):
    """A value with no elements: Redis skips such keys when loading and refuses them in RESTORE."""


def load_dump_payload(server: Any, payload: bytes) -> Any:
    """The value a verified DUMP payload holds; RdbError when it is malformed (Bad data format),
    EmptyKey when it has no elements."""
    # Redis reads the value from the whole payload, footer included, and ignores what is left.
    reader = _Reader(payload)
    kind = reader.byte()
    if kind not in _VALUE_TYPES:
        raise RdbError(f"Unknown RDB encoding type {kind}")
    return _load_value(reader, kind, _limits(server))


# == reading ======================================================================================


class _Reader:
    """Position-keeping reads over a whole file or payload held in memory."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, count: int) -> bytes:
        pos = self.pos
        end = pos + count
        if count < 0 or end > len(self.data):
            raise RdbError(SHORT_READ, "read", self.pos)
        self.pos = end
        return self.data[pos:end]

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise RdbError(SHORT_READ, "read", pos)
        self.pos = pos + 1
        return self.data[pos]

    def length_or_encoding(self) -> tuple[int, bool]:
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if first == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        raise RdbError(f"Unknown length encoding {first} in rdbLoadLen()", "corrupt", self.pos - 1)

    def length(self) -> int:
        value, encoded = self.length_or_encoding()
        if encoded:
            raise RdbError("Unexpected encoded length", "corrupt", self.pos)
        return value

    def string(self) -> bytes:
        data = self.data
        pos = self.pos
        # Fast path: a short plain string.
        if pos < len(data):
            first = data[pos]
            if first < 0x40:
                end = pos + 1 + first
                if end <= len(data):
                    self.pos = end
                    return data[pos + 1 : end]
        length, encoded = self.length_or_encoding()
        if not encoded:
            return self.take(length)
        if length == 0:
            return b"%d" % struct.unpack("<b", self.take(1))[0]
        if length == 1:
            return b"%d" % struct.unpack("<h", self.take(2))[0]
        if length == 2:
            return b"%d" % struct.unpack("<i", self.take(4))[0]
        if length == 3:
            packed = self.length()
            size = self.length()
            start = self.pos
            try:
                return lzf_decompress(self.take(packed), size)
            except RdbFormatError:
                raise RdbError("Invalid LZF compressed string", "corrupt", start) from None
        raise RdbError(f"Unknown RDB string encoding type {length}", "corrupt", self.pos)

    def ms_time(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def binary_double(self) -> float:
        return struct.unpack("<d", self.take(8))[0]

    def text_double(self) -> float:
        """RDB_TYPE_ZSET's score: a length byte (253 nan, 254 +inf, 255 -inf) then text."""
        size = self.byte()
        if size == 253:
            return float("nan")
        if size == 254:
            return float("inf")
        if size == 255:
            return float("-inf")
        text = self.take(size)
        try:
            return float(text)
        except ValueError:
            raise RdbError("Invalid double value", "corrupt", self.pos) from None


def _limits(server: Any) -> dict[str, int]:
    config = server.config if server is not None else None

    def get(attr: str, default: int) -> int:
        return int(getattr(config, attr, default)) if config is not None else default

    return {
        "hash_entries": get("hash_max_listpack_entries", 512),
        "hash_value": get("hash_max_listpack_value", 64),
        "set_entries": get("set_max_intset_entries", 512),
        "zset_entries": get("zset_max_listpack_entries", 128),
        "zset_value": get("zset_max_listpack_value", 64),
        "list_fill": get("list_max_listpack_size", -2),
        "list_depth": get("list_compress_depth", 0),
    }


def _corrupt(message: str, reader: _Reader) -> RdbError:
    return RdbError(message, "corrupt", reader.pos)


def _decode(decoder: Callable[[bytes], Any], blob: bytes, what: str, reader: _Reader) -> Any:
    try:
        return decoder(blob)
    except RdbFormatError:
        raise _corrupt(f"{what} integrity check failed.", reader) from None


def _make_hash(pairs: list[tuple[bytes, bytes]], big: bool, reader: _Reader) -> HashValue:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise _corrupt("Duplicate hash fields detected", reader)
    return HashValue(fields, big)


def _pairs(flat: list[bytes], what: str, reader: _Reader) -> list[tuple[bytes, bytes]]:
    if len(flat) & 1:
        raise _corrupt(f"{what} integrity check failed.", reader)
    return list(zip(flat[0::2], flat[1::2]))


def _make_zset(pairs: list[tuple[float, bytes]], listpack: bool, reader: _Reader) -> ZSet:
    zset = ZSet(listpack)
    scores: dict[bytes, float] = {}
    for score, member in pairs:
        if score != score:
            raise _corrupt("Zset with NAN score detected", reader)
        if listpack and score == 0:
            score = 0.0
        scores[member] = score
    if len(scores) != len(pairs):
        raise _corrupt("Duplicate zset fields detected", reader)
    zset.scores = scores
    zset.order = SortedPairs(sorted((score, member) for member, score in scores.items()))
    return zset


def _listpack_zset(flat: list[bytes], what: str, reader: _Reader) -> list[tuple[float, bytes]]:
    pairs = []
    for member, text in _pairs(flat, what, reader):
        try:
            score = float(text)
        except ValueError:
            raise _corrupt(f"{what} integrity check failed.", reader) from None
        pairs.append((score, member))
    return pairs


def _make_set_from_members(members: list[bytes], limits: dict[str, int], reader: _Reader) -> RedisSet:
    if len(set(members)) != len(members):
        raise _corrupt("Duplicate set members detected", reader)
    intset = len(members) <= min(limits["set_entries"], 1 << 30) and all(
        parse_int(member) is not None for member in members
    )
    return RedisSet.from_members(members, intset)


def _load_value(reader: _Reader, kind: int, limits: dict[str, int]) -> Any:
    if kind == TYPE_STRING:
        return reader.string()
    if kind in (TYPE_LIST, TYPE_LIST_ZIPLIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2):
        values = _load_list_values(reader, kind)
        if not values:
            raise EmptyKey()
        return ListValue.from_values(values, limits["list_fill"], limits["list_depth"])
    if kind == TYPE_SET:
        count = reader.length()
        if not count:
            raise EmptyKey()
        members = [reader.string() for _ in range(count)]
        return _make_set_from_members(members, limits, reader)
    if kind == TYPE_SET_INTSET:
        width, numbers = _decode(intset_decode, reader.string(), "Intset", reader)
        if not numbers:
            raise EmptyKey()
        members = [b"%d" % number for number in numbers]
        value = RedisSet.from_members(members, len(numbers) <= limits["set_entries"])
        if value.intset:
            value.width = max(value.width, width)
        return value
    if kind == TYPE_SET_LISTPACK:
        members = _decode(listpack_decode, reader.string(), "Set listpack", reader)
        if not members:
            raise EmptyKey()
        return _make_set_from_members(members, limits, reader)
    if kind in (TYPE_ZSET, TYPE_ZSET_2):
        count = reader.length()
        if not count:
            raise EmptyKey()
        pairs = []
        longest = 0
        read_score = reader.binary_double if kind == TYPE_ZSET_2 else reader.text_double
        for _ in range(count):
            member = reader.string()
            longest = max(longest, len(member))
            pairs.append((read_score(), member))
        small = count <= limits["zset_entries"] and longest <= limits["zset_value"]
        return _make_zset(pairs, small, reader)
    if kind in (TYPE_ZSET_ZIPLIST, TYPE_ZSET_LISTPACK):
        decoder = ziplist_decode if kind == TYPE_ZSET_ZIPLIST else listpack_decode
        what = "Zset ziplist" if kind == TYPE_ZSET_ZIPLIST else "Zset listpack"
        flat = _decode(decoder, reader.string(), what, reader)
        pairs = _listpack_zset(flat, what, reader)
        if not pairs:
            raise EmptyKey()
        return _make_zset(pairs, len(pairs) <= limits["zset_entries"], reader)
    if kind == TYPE_HASH:
        count = reader.length()
        if not count:
            raise EmptyKey()
        pairs = [(reader.string(), reader.string()) for _ in range(count)]
        big = count > limits["hash_entries"] or any(
            len(field) > limits["hash_value"] or len(item) > limits["hash_value"]
            for field, item in pairs
        )
        return _make_hash(pairs, big, reader)
    if kind == TYPE_HASH_ZIPMAP:
        pairs = _decode(zipmap_decode, reader.string(), "Zipmap", reader)
        if not pairs:
            raise EmptyKey()
        longest = max(max(len(field), len(item)) for field, item in pairs)
        big = len(pairs) > limits["hash_entries"] or longest > limits["hash_value"]
        return _make_hash(pairs, big, reader)
    if kind in (TYPE_HASH_ZIPLIST, TYPE_HASH_LISTPACK):
        decoder = ziplist_decode if kind == TYPE_HASH_ZIPLIST else listpack_decode
        what = "Hash ziplist" if kind == TYPE_HASH_ZIPLIST else "Hash listpack"
        pairs = _pairs(_decode(decoder, reader.string(), what, reader), what, reader)
        if not pairs:
            raise EmptyKey()
        return _make_hash(pairs, len(pairs) > limits["hash_entries"], reader)
    if kind in (TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3):
        return _load_stream(reader, kind)
    if kind in (TYPE_MODULE_PRE_GA, TYPE_MODULE_2):
        raise RdbError(
            "The RDB file contains module data I can't load: no matching module", "module",
            reader.pos,
        )
    raise _corrupt(f"Unknown RDB encoding type {kind}", reader)


def _load_list_values(reader: _Reader, kind: int) -> list[bytes]:
    if kind == TYPE_LIST:
        return [reader.string() for _ in range(reader.length())]
    if kind == TYPE_LIST_ZIPLIST:
        return _decode(ziplist_decode, reader.string(), "List ziplist", reader)
    values: list[bytes] = []
    nodes = reader.length()
    for _ in range(nodes):
        container = QUICKLIST_PACKED
        if kind == TYPE_LIST_QUICKLIST_2:
            container = reader.length()
            if container not in (QUICKLIST_PACKED, QUICKLIST_PLAIN):
                raise _corrupt("Quicklist integrity check failed.", reader)
        blob = reader.string()
        if not blob:
            raise RdbError(SHORT_READ, "read", reader.pos)
        if container == QUICKLIST_PLAIN:
            values.append(blob)
        elif kind == TYPE_LIST_QUICKLIST_2:
            values.extend(_decode(listpack_decode, blob, "Listpack", reader))
        else:
            values.extend(_decode(ziplist_decode, blob, "Ziplist", reader))
    return values


def _stream_node(master_id: int, blob: bytes, reader: _Reader) -> StreamNode:
    """Rebuild a node from its listpack (Redis's delta-encoded entries)."""
    elements = _decode(listpack_decode, blob, "Stream listpack", reader)
    if not elements:
        raise _corrupt("Empty listpack inside stream", reader)
    try:
        numbers = iter(elements)
        live = int(next(numbers))
        deleted = int(next(numbers))
        field_count = int(next(numbers))
        master_fields = tuple(next(numbers) for _ in range(field_count))
        if next(numbers) != b"0":
            raise ValueError
        node = StreamNode(master_id, master_fields)
        dead: list[int] = []
        master_ms, master_seq = master_id >> 64, master_id & MASK64
        for flag_text in numbers:
            flags = int(flag_text)
            sid = (((master_ms + int(next(numbers))) & MASK64) << 64) | (
                (master_seq + int(next(numbers))) & MASK64
            )
            if flags & FLAG_SAMEFIELDS:
                values = [next(numbers) for _ in range(field_count)]
                items: list[bytes] = []
                for field, value in zip(master_fields, values):
                    items.append(field)
                    items.append(value)
            else:
                count = int(next(numbers))
                items = [next(numbers) for _ in range(2 * count)]
            next(numbers)  # the entry's element count, used by Redis to walk backwards
            if node.ids and sid <= node.ids[-1]:
                raise ValueError
            node.append(sid, tuple(items))
            if flags & FLAG_DELETED:
                dead.append(sid)
    except (StopIteration, ValueError):
        raise _corrupt("Stream listpack integrity check failed.", reader) from None
    for sid in dead:
        node.kill(sid)
    if node.live != live or node.deleted != deleted:
        raise _corrupt("Stream listpack integrity check failed.", reader)
    return node


def _raw_id(reader: _Reader) -> int:
    return int.from_bytes(reader.take(16), "big")


def _load_stream(reader: _Reader, kind: int) -> Stream:
    stream = Stream()
    node_count = reader.length()
    for _ in range(node_count):
        key = reader.string()
        if len(key) != 16:
            raise _corrupt("Stream node key entry is not the size of a stream ID", reader)
        master_id = int.from_bytes(key, "big")
        node = _stream_node(master_id, reader.string(), reader)
        if stream.node_starts and master_id <= stream.node_starts[-1]:
            raise _corrupt("Listpack re-added with existing key", reader)
        stream.nodes.append(node)
        stream.node_starts.append(master_id)
    stream.length = reader.length()
    stream.last_id = (reader.length() << 64) | reader.length()
    live_ids = [sid for node in stream.nodes for sid in node.ids if not node.dead or sid not in node.dead]
    if kind >= TYPE_STREAM_LISTPACKS_2:
        stream.first_id = (reader.length() << 64) | reader.length()
        stream.max_deleted_id = (reader.length() << 64) | reader.length()
        stream.entries_added = reader.length()
    else:
        stream.first_id = live_ids[0] if live_ids else 0
        stream.max_deleted_id = 0
        stream.entries_added = stream.length
    if len(live_ids) != stream.length:
        raise _corrupt("Stream length inconsistent with its listpacks", reader)
    group_count = reader.length()
    for _ in range(group_count):
        name = reader.string()
        last_id = (reader.length() << 64) | reader.length()
        if kind >= TYPE_STREAM_LISTPACKS_2:
            entries_read = reader.length()
            if entries_read == MASK64:
                entries_read = -1
        else:
            entries_read = stream.estimate_entries_read(last_id)
        if stream.groups is None:
            stream.groups = {}
        if name in stream.groups:
            raise _corrupt(f"Duplicated consumer group name {name.decode('latin-1')}", reader)
        group = ConsumerGroup(last_id, entries_read)
        stream.groups[name] = group
        for _ in range(reader.length()):
            sid = _raw_id(reader)
            nack = PendingEntry(reader.ms_time(), None, reader.length())
            if sid in group.pel:
                raise _corrupt("Duplicated global PEL entry loading stream consumer group", reader)
            group.pel[sid] = nack
        for _ in range(reader.length()):
            consumer_name = reader.string()
            if consumer_name in group.consumers:
                raise _corrupt("Duplicate stream consumer detected.", reader)
            consumer = Consumer(consumer_name, reader.ms_time())
            if kind >= TYPE_STREAM_LISTPACKS_3:
                reader.ms_time()  # active-time (Redis 7.2); 7.0 keeps seen-time only
            group.consumers[consumer_name] = consumer
            for _ in range(reader.length()):
                sid = _raw_id(reader)
                nack = group.pel.get(sid)
                if nack is None:
                    raise _corrupt("Consumer entry not found in group global PEL", reader)
                if nack.consumer is not None:
                    raise _corrupt("Duplicated consumer PEL entry loading a stream consumer group", reader)
                nack.consumer = consumer
                consumer.pel[sid] = nack
        for nack in group.pel.values():
            if nack.consumer is None:
                raise _corrupt("Stream CG PEL entry without consumer", reader)
    return stream


# -- files -----------------------------------------------------------------------------------------


def _read_source(source: BinaryIO | bytes | bytearray | str | os.PathLike) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return handle.read()
    return source.read()


class RdbVisitor:
    """Callbacks of a file walk (vermilion-check-rdb reports through them). ``offset`` is how far
    the file has been read once the item is. ``doing``, ``key`` and ``key_type`` say what the
    walk was busy with, for error reports."""

    def __init__(self) -> None:
        self.doing = "start"
        self.key: bytes | None = None
        self.key_type = 0

    def aux(self, offset: int, name: bytes, value: bytes) -> None: ...

    def select_db(self, offset: int, index: int) -> None: ...

    def key_read(self, offset: int, key: bytes) -> None: ...

    def checksum(self, offset: int, status: str) -> None: ...


def walk_rdb(data: bytes, on_entry: Callable[[int, bytes, Any, int | None, int | None, int | None], None],
             *, server: Any = None, visitor: RdbVisitor | None = None,
             on_function: Callable[[bytes], None] | None = None, verify_checksum: bool = True,
             info: LoadInfo | None = None,
             progress: Callable[[int], None] | None = None) -> LoadInfo:
    """Parse a whole file, calling ``on_entry(db_index, key, value, expire_ms, idle, freq)`` for
    each key (``value`` is None for an empty value, which Redis skips). RdbError on any problem."""
    info = info or LoadInfo()
    visitor = visitor or RdbVisitor()
    reader = _Reader(data)
    if len(data) < 9:
        raise RdbError(SHORT_READ, "read", 0)
    if data[:5] != b"REDIS":
        raise RdbError("Wrong signature trying to load DB from file", "signature", 9)
    digits = data[5:9]
    version = int(digits) if digits.isdigit() else 0
    if version < 1 or version > RDB_VERSION_MAX_READ:
        raise RdbError(f"Can't handle RDB format version {version}", "version", 9)
    info.version = version
    reader.pos = 9
    limits = _limits(server)
    db_index = 0
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    while True:
        visitor.doing = "read-type"
        kind = reader.byte()
        if kind == OPCODE_EXPIRETIME:
            visitor.doing = "read-expire"
            expire_ms = struct.unpack("<i", reader.take(4))[0] * 1000
            continue
        if kind == OPCODE_EXPIRETIME_MS:
            visitor.doing = "read-expire"
            expire_ms = reader.ms_time()
            continue
        if kind == OPCODE_FREQ:
            freq = reader.byte()
            continue
        if kind == OPCODE_IDLE:
            idle = reader.length()
            continue
        if kind == OPCODE_EOF:
            break
        if kind == OPCODE_SELECTDB:
            visitor.doing = "read-len"
            db_index = reader.length()
            visitor.select_db(reader.pos, db_index)
            continue
        if kind == OPCODE_RESIZEDB:
            visitor.doing = "read-len"
            reader.length()
            reader.length()
            continue
        if kind == OPCODE_AUX:
            visitor.doing = "read-aux"
            name = reader.string()
            value = reader.string()
            info.aux[name] = value
            visitor.aux(reader.pos, name, value)
            continue
        if kind == OPCODE_MODULE_AUX:
            visitor.doing = "read-module-aux"
            raise RdbError(
                "The RDB file contains AUX module data I can't load: no matching module",
                "module", reader.pos,
            )
        if kind == OPCODE_FUNCTION_PRE_GA:
            raise RdbError(f"Pre-release function format not supported {version}", "corrupt", reader.pos)
        if kind == OPCODE_FUNCTION2:
            visitor.doing = "read-functions"
            code = reader.string()
            if on_function is not None:
                on_function(code)
            info.functions += 1
            continue
        if kind not in _VALUE_TYPES:
            raise RdbError(f"Invalid object type: {kind}", "corrupt", reader.pos)
        visitor.key_type = kind
        visitor.doing = "read-key"
        key = reader.string()
        visitor.key = key
        visitor.key_read(reader.pos, key)
        visitor.doing = "read-object-value"
        try:
            value = _load_value(reader, kind, limits)
        except EmptyKey:
            value = None
        on_entry(db_index, key, value, expire_ms, idle, freq)
        if progress is not None:
            progress(reader.pos)
        visitor.key = None
        visitor.key_type = -1
        expire_ms = idle = freq = None
    end = reader.pos
    if version >= 5:
        visitor.doing = "check-sum"
        stored = reader.take(8)
        if stored == bytes(8):
            visitor.checksum(reader.pos, "disabled")
        elif not verify_checksum:
            visitor.checksum(reader.pos, "skipped")
        else:
            expected = struct.unpack("<Q", stored)[0]
            actual = crc64(memoryview(data)[:end])
            if actual != expected:
                raise RdbError(
                    f"Wrong RDB checksum expected: ({expected:x}) got: ({actual:x}). Aborting now.",
                    "checksum", reader.pos,
                )
            visitor.checksum(reader.pos, "ok")
    info.size = reader.pos
    return info


def load_rdb(server: Any, source: BinaryIO | bytes | str | os.PathLike, *, into_dbs: list | None = None,
             aof_preamble: bool = False, now_ms: int | None = None,
             progress: Callable[[int], None] | None = None) -> LoadInfo:
    """Load an RDB file (path, open binary file or bytes) into ``into_dbs`` (default: the
    server's databases, which should be empty). Keys already expired are skipped, as a master
    does, except in an AOF preamble. Function libraries are added to the server's. The data
    only lands once the whole file parsed and its checksum matched: RdbError leaves the
    databases and libraries untouched. ``progress(offset)``, when given, is called after each
    key with the bytes read so far (key-load-delay, serving clients while loading)."""
    start = source.tell() if hasattr(source, "seek") and hasattr(source, "tell") else None
    data = _read_source(source)
    dbs = server.dbs if into_dbs is None else into_dbs
    now = int(time.time() * 1000) if now_ms is None else now_ms
    checksum = bool(_config(server, "rdbchecksum", True))
    info = LoadInfo()
    staged: list[tuple[int, bytes, Any, int | None, int | None, int | None]] = []
    seen: list[set[bytes]] = [set() for _ in dbs]
    codes: list[bytes] = []

    def on_entry(db_index: int, key: bytes, value: Any, expire_ms: int | None,
                 idle: int | None, freq: int | None) -> None:
        if db_index >= len(dbs):
            raise RdbError(
                f"FATAL: Data file was created with a Redis server configured to handle more "
                f"than {len(dbs)} databases. Exiting", "corrupt", 0,
            )
        if value is None:
            info.empty_skipped += 1
            return
        if key in seen[db_index]:
            raise RdbError(
                f"RDB has duplicated key '{key.decode('latin-1')}' in DB {db_index}", "corrupt", 0
            )
        seen[db_index].add(key)
        if expire_ms is not None and not aof_preamble and expire_ms < now:
            info.expired_skipped += 1
            return
        staged.append((db_index, key, value, expire_ms, idle, freq))

    # Loading creates millions of objects and frees none: the cyclic collector's passes
    # would find nothing and cost a large share of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        walk_rdb(data, on_entry, server=server, on_function=codes.append,
                 verify_checksum=checksum, info=info, progress=progress)
    finally:
        if collecting:
            gc.enable()
    if start is not None:
        # Leave a file positioned after the RDB (an AOF preamble is followed by commands).
        source.seek(start + info.size)
    if codes:
        _load_functions(server, codes)
    lru_clock = getattr(server, "lru_clock", int(time.time()))
    for db_index, key, value, expire_ms, idle, freq in staged:
        db = dbs[db_index]
        db.data[key] = value
        db.access[key] = lru_clock - idle if idle is not None else lru_clock
        if getattr(db, "lfu", None) is not None:
            set_key_frequency(db, key, freq)
        if expire_ms is not None:
            db.expires[key] = expire_ms
            info.expires += 1
        info.keys += 1
        info.db_sizes[db_index] = info.db_sizes.get(db_index, 0) + 1
    return info


def _load_functions(server: Any, codes: list[bytes]) -> None:
    from ..errors import RedisError
    from ..scripting.functions import Libraries
    from ..scripting.state import Scripting

    functions = Scripting.of(server).functions
    staged = Libraries()
    try:
        for code in codes:
            functions.create(code, False, staged)
        functions._join(staged, False)
    except RedisError as exc:
        raise RdbError(f"Failed loading library: {exc}", "corrupt", 0) from None


__all__ = [
    "EmptyKey",
    "LoadInfo",
    "RDB_VERSION_WRITTEN",
    "RdbError",
    "RdbVisitor",
    "dump_payload",
    "encode_db_header",
    "encode_entry",
    "encode_value",
    "key_frequency",
    "load_dump_payload",
    "load_rdb",
    "rdb_epilogue",
    "rdb_prelude",
    "set_key_frequency",
    "verify_dump_payload",
    "walk_rdb",
    "write_rdb",
]
