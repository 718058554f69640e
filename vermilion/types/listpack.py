"""Sizes of Redis's compact encodings, for what DEBUG OBJECT reports (serializedlength, quicklist
node figures). Values are never stored this way here; these functions only rebuild the bytes a
listpack would hold, so that RDB sizes (which compress those bytes with LZF) come out as Redis's.

Listpack layout: a 6-byte header (total bytes, element count), entries, and an end byte 0xFF.
An entry is an encoding (canonical integers in 1 to 9 bytes, strings with a 1, 2 or 5 byte
length prefix), then the entry's own length written backwards in 7-bit groups.
"""

from __future__ import annotations

from .string import parse_int

HEADER_SIZE = 6
# Quicklist node limits for negative list-max-listpack-size values (-1 .. -5), in bytes.
NODE_SIZE_CLASSES = (4096, 8192, 16384, 32768, 65536)
# A node whose byte limit is a count (positive fill) never grows past this many bytes.
NODE_SAFETY_LIMIT = 8192
FILL_MAX = 32767
# What quicklist adds to an element's length when estimating whether it fits a node.
SIZE_ESTIMATE_OVERHEAD = 8


def _entry_encoding(value: bytes) -> bytes:
    # (the digit test first: parse_int's exception path is slow)
    number = parse_int(value) if len(value) <= 20 and value[-1:].isdigit() else None
    if number is not None:
        if 0 <= number <= 127:
            return bytes((number,))
        if -4096 <= number <= 4095:
            bits = number & 0x1FFF
            return bytes((0xC0 | (bits >> 8), bits & 0xFF))
        for code, width in ((0xF1, 2), (0xF2, 3), (0xF3, 4)):
            if -(1 << (8 * width - 1)) <= number < (1 << (8 * width - 1)):
                unsigned = number & ((1 << (8 * width)) - 1)
                return bytes((code,)) + unsigned.to_bytes(width, "little")
        return b"\xf4" + (number & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    size = len(value)
    if size < 64:
        return bytes((0x80 | size,)) + value
    if size < 4096:
        return bytes((0xE0 | (size >> 8), size & 0xFF)) + value
    return b"\xf0" + size.to_bytes(4, "little") + value


def _backlen(length: int) -> bytes:
    # 7-bit groups, most significant first; every byte but the first has the high bit set. The
    # width steps up at 16383, 2097151 and 268435455 (those exact values take the wider form).
    if length <= 127:
        return bytes((length,))
    if length < 16383:
        width = 2
    elif length < 2097151:
        width = 3
    elif length < 268435455:
        width = 4
    else:
        width = 5
    groups = [(length >> (7 * shift)) & 127 for shift in range(width - 1, -1, -1)]
    groups[0] = length >> (7 * (width - 1))
    return bytes((groups[0],)) + bytes(g | 128 for g in groups[1:])


def _entry(value: bytes) -> bytes:
    encoded = _entry_encoding(value)
    return encoded + _backlen(len(encoded))


def listpack_bytes(values: list[bytes]) -> bytes:
    """The listpack Redis would build from ``values``, byte for byte."""
    body = b"".join(_entry(value) for value in values)
    total = HEADER_SIZE + len(body) + 1
    count = min(len(values), 65535)
    return total.to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


def listpack_size(values: list[bytes]) -> int:
    return HEADER_SIZE + sum(len(_entry(value)) for value in values) + 1


def _node_accepts(node_size: int, node_count: int, fill: int, value_size: int) -> bool:
    """Redis 7.0's _quicklistNodeAllowInsert: whether a node takes one more element (the new
    entry is estimated at its length plus a fixed overhead)."""
    new_size = node_size + value_size + SIZE_ESTIMATE_OVERHEAD
    if fill < 0:
        if -fill - 1 < len(NODE_SIZE_CLASSES) and new_size <= NODE_SIZE_CLASSES[-fill - 1]:
            return True
        return False
    if new_size > NODE_SAFETY_LIMIT:
        return False
    return node_count < fill


def clamp_fill(fill: int) -> int:
    """quicklistSetFill: the node limit a list keeps from list-max-listpack-size."""
    return max(-5, min(fill, FILL_MAX))


def quicklist_nodes(values: list[bytes], fill: int) -> list[list[bytes]]:
    """``values`` split into quicklist nodes as successive tail pushes fill them."""
    nodes: list[list[bytes]] = []
    node: list[bytes] | None = None
    node_size = 0
    for value in values:
        if node is None or not _node_accepts(node_size, len(node), fill, len(value)):
            node = []
            nodes.append(node)
            node_size = HEADER_SIZE + 1
        node.append(value)
        node_size += len(_entry(value))
    return nodes


def rdb_length_size(length: int) -> int:
    """Bytes of an RDB length prefix."""
    if length < 64:
        return 1
    if length < 16384:
        return 2
    if length <= 0xFFFFFFFF:
        return 5
    return 9


def rdb_string_size(data: bytes) -> int:
    """Bytes RDB spends on a string (integer-encoded, LZF-compressed or plain)."""
    from ..commands.server_cmd import string_serialized_length  # the LZF sizing lives there

    return string_serialized_length(data)


__all__ = [
    "clamp_fill",
    "listpack_bytes",
    "listpack_size",
    "quicklist_nodes",
    "rdb_length_size",
    "rdb_string_size",
]
