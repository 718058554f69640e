"""Redis's sdscatrepr: bytes shown in double quotes with C escapes. The slow log, MONITOR, log
lines, CONFIG REWRITE, the AOF manifest and redis-cli's output all print arguments this way."""

from __future__ import annotations


def _escape_table() -> list[bytes]:
    special = {0x5C: b"\\\\", 0x22: b'\\"', 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t",
               0x07: b"\\a", 0x08: b"\\b"}
    return [special.get(byte) or (bytes([byte]) if 0x20 <= byte <= 0x7E else b"\\x%02x" % byte)
            for byte in range(256)]


_ESCAPED = _escape_table()
# Bytes shown as themselves: the common case skips the table.
_PLAIN = frozenset(byte for byte in range(0x20, 0x7F) if byte not in (0x5C, 0x22))


def sds_repr(data: bytes) -> bytes:
    """``data`` as sdscatrepr writes it: ``"..."`` with \\\\ \\" \\n \\r \\t \\a \\b and \\xHH."""
    if all(byte in _PLAIN for byte in data):
        return b'"' + data + b'"'
    table = _ESCAPED
    return b'"' + b"".join([table[byte] for byte in data]) + b'"'


def sds_repr_text(data: bytes) -> str:
    """sds_repr as text (the result is plain ASCII), for log and config lines."""
    return sds_repr(data).decode("ascii")
