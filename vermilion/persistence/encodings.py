"""Decoders (and encoders) for the compact blobs an RDB file may hold: listpack, ziplist, intset
and zipmap.

Redis 7.0 writes listpacks and intsets; ziplists (Redis 3.2 to 6.2) and zipmaps (Redis 2.4 and
older) only appear in files older versions wrote, so loading converts them. The encoders exist to
build such old payloads for tests (no old Redis is at hand) and to round-trip the decoders; the
listpack encoder Vermilion writes with lives in ``vermilion.types.listpack``.

Every decoder validates as it goes and raises ``RdbFormatError`` on malformed input: a corrupt
payload must be refused, never half read.
"""

from __future__ import annotations

import struct

from ..types.listpack import listpack_bytes
from ..types.stream import backlen_size
from ..types.string import parse_int
from .rdbstring import RdbFormatError

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


# -- listpack -------------------------------------------------------------------------------------


def listpack_decode(data: bytes) -> list[bytes]:
    """The elements of a listpack, integers as their decimal text."""
    size = len(data)
    if size < 7:
        raise RdbFormatError("listpack too short")
    total, count = struct.unpack_from("<IH", data)
    if total != size or data[-1] != 0xFF:
        raise RdbFormatError("listpack header mismatch")
    out: list[bytes] = []
    pos = 6
    end = size - 1
    while pos < end:
        first = data[pos]
        if first < 0x80:
            out.append(b"%d" % first)
            head = 1
        elif first < 0xC0:
            length = first & 0x3F
            head = 1 + length
            if pos + head > end:
                raise RdbFormatError("listpack entry overflows")
            out.append(data[pos + 1 : pos + head])
        elif first < 0xE0:
            if pos + 2 > end:
                raise RdbFormatError("listpack entry overflows")
            out.append(b"%d" % _signed(((first & 0x1F) << 8) | data[pos + 1], 13))
            head = 2
        elif first < 0xF0:
            if pos + 2 > end:
                raise RdbFormatError("listpack entry overflows")
            length = ((first & 0x0F) << 8) | data[pos + 1]
            head = 2 + length
            if pos + head > end:
                raise RdbFormatError("listpack entry overflows")
            out.append(data[pos + 2 : pos + head])
        elif first == 0xF0:
            if pos + 5 > end:
                raise RdbFormatError("listpack entry overflows")
            length = int.from_bytes(data[pos + 1 : pos + 5], "little")
            head = 5 + length
            if pos + head > end:
                raise RdbFormatError("listpack entry overflows")
            out.append(data[pos + 5 : pos + head])
        elif 0xF1 <= first <= 0xF4:
            width = (2, 3, 4, 8)[first - 0xF1]
            head = 1 + width
            if pos + head > end:
                raise RdbFormatError("listpack entry overflows")
            raw = int.from_bytes(data[pos + 1 : pos + head], "little")
            out.append(b"%d" % _signed(raw, 8 * width))
        else:
            raise RdbFormatError("invalid listpack encoding")
        pos += head + backlen_size(head)
        if pos > end:
            raise RdbFormatError("listpack entry overflows")
    if pos != end:
        raise RdbFormatError("listpack entry overflows")
    if count != 65535 and count != len(out):
        raise RdbFormatError("listpack count mismatch")
    return out


listpack_encode = listpack_bytes


# -- ziplist --------------------------------------------------------------------------------------


def ziplist_decode(data: bytes) -> list[bytes]:
    """The elements of a ziplist (Redis 3.2 to 6.2), integers as their decimal text."""
    size = len(data)
    if size < 11:
        raise RdbFormatError("ziplist too short")
    total, tail, count = struct.unpack_from("<IIH", data)
    if total != size or data[-1] != 0xFF or tail >= size:
        raise RdbFormatError("ziplist header mismatch")
    out: list[bytes] = []
    pos = 10
    end = size - 1
    previous = 0
    last_start = 10
    while pos < end:
        last_start = pos
        if data[pos] < 254:
            prevlen = data[pos]
            pos += 1
        elif data[pos] == 254:
            if pos + 5 > end:
                raise RdbFormatError("ziplist entry overflows")
            prevlen = int.from_bytes(data[pos + 1 : pos + 5], "little")
            pos += 5
        else:
            raise RdbFormatError("invalid ziplist prevlen")
        if prevlen != previous:
            raise RdbFormatError("ziplist prevlen mismatch")
        if pos >= end:
            raise RdbFormatError("ziplist entry overflows")
        encoding = data[pos]
        kind = encoding >> 6
        if kind == 0:
            length, pos = encoding & 0x3F, pos + 1
            value = data[pos : pos + length]
        elif kind == 1:
            if pos + 2 > end:
                raise RdbFormatError("ziplist entry overflows")
            length, pos = ((encoding & 0x3F) << 8) | data[pos + 1], pos + 2
            value = data[pos : pos + length]
        elif encoding == 0x80:
            if pos + 5 > end:
                raise RdbFormatError("ziplist entry overflows")
            length, pos = int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
            value = data[pos : pos + length]
        else:
            widths = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}
            pos += 1
            if encoding in widths:
                length = widths[encoding]
                if pos + length > end:
                    raise RdbFormatError("ziplist entry overflows")
                number = _signed(int.from_bytes(data[pos : pos + length], "little"), 8 * length)
            elif 0xF1 <= encoding <= 0xFD:
                length = 0
                number = (encoding & 0x0F) - 1
            else:
                raise RdbFormatError("invalid ziplist encoding")
            value = b"%d" % number
        if pos + length > end:
            raise RdbFormatError("ziplist entry overflows")
        pos += length
        previous = pos - last_start
        out.append(value)
    if pos != end:
        raise RdbFormatError("ziplist entry overflows")
    if out and tail != last_start:
        raise RdbFormatError("ziplist tail offset mismatch")
    if count != 65535 and count != len(out):
        raise RdbFormatError("ziplist count mismatch")
    return out


def _ziplist_value(value: bytes) -> bytes:
    number = parse_int(value) if len(value) <= 32 else None
    if number is not None:
        if 0 <= number <= 12:
            return bytes((0xF1 + number,))
        for code, width in ((0xFE, 1), (0xC0, 2), (0xF0, 3), (0xD0, 4), (0xE0, 8)):
            if -(1 << (8 * width - 1)) <= number < 1 << (8 * width - 1):
                return bytes((code,)) + (number & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    size = len(value)
    if size < 64:
        return bytes((size,)) + value
    if size < 16384:
        return bytes((0x40 | (size >> 8), size & 0xFF)) + value
    return b"\x80" + size.to_bytes(4, "big") + value


def ziplist_encode(values: list[bytes]) -> bytes:
    """A ziplist as Redis 6.2's ziplistPush builds it (integers in their smallest encoding)."""
    body = bytearray()
    previous = 0
    tail = 10
    for value in values:
        tail = 10 + len(body)
        prevlen = bytes((previous,)) if previous < 254 else b"\xfe" + previous.to_bytes(4, "little")
        entry = prevlen + _ziplist_value(value)
        body += entry
        previous = len(entry)
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, tail, min(len(values), 65535)) + bytes(body) + b"\xff"


# -- intset ---------------------------------------------------------------------------------------


def intset_decode(data: bytes) -> tuple[int, list[int]]:
    """(width in bytes, values) of an intset; values must be strictly ascending."""
    if len(data) < 8:
        raise RdbFormatError("intset too short")
    width, count = struct.unpack_from("<II", data)
    if width not in (2, 4, 8) or len(data) != 8 + width * count:
        raise RdbFormatError("intset header mismatch")
    code = {2: "h", 4: "i", 8: "q"}[width]
    values = list(struct.unpack_from("<%d%s" % (count, code), data, 8))
    for index in range(1, count):
        if values[index] <= values[index - 1]:
            raise RdbFormatError("intset not sorted")
    return width, values


def intset_encode(values: list[int], width: int = 2) -> bytes:
    """An intset of ``values`` at least ``width`` bytes wide (it widens as needed)."""
    ordered = sorted(set(values))
    for value in ordered:
        if not -(1 << 15) <= value < 1 << 15:
            width = max(width, 4 if -(1 << 31) <= value < 1 << 31 else 8)
    code = {2: "h", 4: "i", 8: "q"}[width]
    return struct.pack("<II", width, len(ordered)) + struct.pack("<%d%s" % (len(ordered), code), *ordered)


# -- zipmap ---------------------------------------------------------------------------------------


def zipmap_decode(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (field, value) pairs of a zipmap (hashes in Redis 2.4 and older)."""
    size = len(data)
    if size < 2 or data[-1] != 0xFF:
        raise RdbFormatError("zipmap malformed")
    pos = 1
    pairs: list[tuple[bytes, bytes]] = []

    def length_at(at: int) -> tuple[int, int]:
        if at >= size:
            raise RdbFormatError("zipmap overflows")
        first = data[at]
        if first < 254:
            return first, at + 1
        if first == 254:
            if at + 5 > size:
                raise RdbFormatError("zipmap overflows")
            return int.from_bytes(data[at + 1 : at + 5], "little"), at + 5
        raise RdbFormatError("zipmap malformed")

    while True:
        if pos >= size:
            raise RdbFormatError("zipmap overflows")
        if data[pos] == 0xFF:
            break
        field_len, pos = length_at(pos)
        field = data[pos : pos + field_len]
        pos += field_len
        value_len, pos = length_at(pos)
        if pos >= size:
            raise RdbFormatError("zipmap overflows")
        free = data[pos]
        pos += 1
        value = data[pos : pos + value_len]
        pos += value_len + free
        if pos >= size:
            raise RdbFormatError("zipmap overflows")
        pairs.append((field, value))
    if pos != size - 1:
        raise RdbFormatError("zipmap trailing bytes")
    return pairs


def zipmap_encode(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A zipmap holding ``pairs`` with no free space."""

    def length(n: int) -> bytes:
        return bytes((n,)) if n < 254 else b"\xfe" + n.to_bytes(4, "little")

    body = bytearray((min(len(pairs), 254),))
    for field, value in pairs:
        body += length(len(field)) + field + length(len(value)) + b"\x00" + value
    body.append(0xFF)
    return bytes(body)


__all__ = [
    "intset_decode",
    "intset_encode",
    "listpack_decode",
    "listpack_encode",
    "ziplist_decode",
    "ziplist_encode",
    "zipmap_decode",
    "zipmap_encode",
]
