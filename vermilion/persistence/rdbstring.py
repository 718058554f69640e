"""RDB string encoding (lengths, integer strings, LZF compression), as Redis 7.0 writes it.

FUNCTION DUMP stores each library's code as an RDB string, which Redis compresses with liblzf
when it is longer than 20 bytes and compression pays. To give byte-identical payloads the
compressor below follows liblzf 3.6 as Redis builds it (16-bit hash table, VERY_FAST variant,
offsets relative to the input, a back reference never pointing at the first byte). The hash
table starts empty here; Redis leaves it uninitialised, which only matters in the rare case
where a stale entry happens to point at matching bytes.
"""

from __future__ import annotations

import struct
from typing import Any

from ..types.string import parse_int

RDB_ENC_INT8, RDB_ENC_INT16, RDB_ENC_INT32, RDB_ENC_LZF = 0, 1, 2, 3

_MAX_LITERAL = 1 << 5
_MAX_OFFSET = 1 << 13
_MAX_REFERENCE = (1 << 8) + (1 << 3)


class RdbFormatError(ValueError):
    """The bytes are not a valid RDB encoding."""


# -- LZF ----------------------------------------------------------------------------------------


def _slot(hval: int) -> int:
    return ((hval >> 8) - hval * 5) & 0xFFFF


def lzf_compress(data: bytes, out_len: int) -> bytes | None:
    """liblzf's lzf_compress of ``data`` into at most ``out_len`` bytes; None when it does not fit."""
    size = len(data)
    if not size or not out_len:
        return None
    table: dict[int, int] = {}
    out = bytearray()
    # ``out`` always holds the header byte of the literal run being built at position ``run``.
    out.append(0)
    run = 0
    literals = 0
    ip = 0
    hval = (data[0] << 8) | data[1] if size > 1 else data[0] << 8
    while ip < size - 2:
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
        slot = _slot(hval)
        ref = table.get(slot, 0)
        table[slot] = ip
        offset = ip - ref - 1
        if (
            0 <= offset < _MAX_OFFSET
            and ref > 0
            and data[ref + 2] == data[ip + 2]
            and data[ref] == data[ip]
            and data[ref + 1] == data[ip + 1]
        ):
            length = 2
            maxlen = min(size - ip - length, _MAX_REFERENCE)
            op = len(out)
            if op + 4 >= out_len and op - (0 if literals else 1) + 4 >= out_len:
                return None
            if literals:
                out[run] = literals - 1
            else:
                del out[run]  # an empty literal run is dropped
            stopped = False
            if maxlen > 16:
                # liblzf compares the next 16 bytes unrolled, without looking at maxlen.
                for _ in range(16):
                    length += 1
                    if data[ref + length] != data[ip + length]:
                        stopped = True
                        break
            if not stopped:
                while True:
                    length += 1
                    if not (length < maxlen and data[ref + length] == data[ip + length]):
                        break
            length -= 2  # now the number of bytes minus one
            ip += 1
            if length < 7:
                out.append((offset >> 8) + (length << 5))
            else:
                out.append((offset >> 8) + (7 << 5))
                out.append(length - 7)
            out.append(offset & 0xFF)
            literals = 0
            run = len(out)
            out.append(0)
            ip += length + 1
            if ip >= size - 2:
                break
            ip -= 2
            hval = (data[ip] << 8) | data[ip + 1]
            for _ in range(2):
                hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
                table[_slot(hval)] = ip
                ip += 1
        else:
            if len(out) >= out_len:
                return None
            literals += 1
            out.append(data[ip])
            ip += 1
            if literals == _MAX_LITERAL:
                out[run] = literals - 1
                literals = 0
                run = len(out)
                out.append(0)
    if len(out) + 3 > out_len:
        return None
    while ip < size:
        literals += 1
        out.append(data[ip])
        ip += 1
        if literals == _MAX_LITERAL:
            out[run] = literals - 1
            literals = 0
            run = len(out)
            out.append(0)
    if literals:
        out[run] = literals - 1
    else:
        del out[run]
    return bytes(out)


def _fast_lzf() -> tuple[Any, Any]:
    """python-lzf's C functions, when installed: about 200 times faster than the loops here.
    Its ``max_len`` bound sits one byte below the ``out_len`` Redis passes to liblzf: on 100,000
    random inputs longer than 20 bytes lzf.compress(data, n - 1) gave exactly lzf_compress(data,
    n) (tests/persistence/test_codecs.py keeps checking it)."""
    try:
        import lzf
    except ImportError:
        return None, None
    return lzf.compress, lzf.decompress


_c_compress, _c_decompress = _fast_lzf()


def compress_for_rdb(data: bytes, out_len: int) -> bytes | None:
    """lzf_compress for inputs longer than 20 bytes (the only ones RDB compresses)."""
    if _c_compress is not None:
        return _c_compress(data, out_len - 1)
    return lzf_compress(data, out_len)


def lzf_decompress(data: bytes, expected: int) -> bytes:
    """Inflate an LZF block that must give exactly ``expected`` bytes."""
    # A back reference of 3 bytes expands to at most 264: anything claiming more is corrupt
    # (and must not make the C function allocate the claimed size).
    if expected > 90 * len(data) + 64:
        raise RdbFormatError("invalid LZF data")
    if _c_decompress is not None and expected:
        try:
            out = _c_decompress(data, expected)
        except (ValueError, SystemError):
            out = None
        if out is not None and len(out) == expected:
            return out
    return _lzf_decompress_python(data, expected)


def _lzf_decompress_python(data: bytes, expected: int) -> bytes:
    """Inflate an LZF block that must give exactly ``expected`` bytes."""
    out = bytearray()
    ip = 0
    size = len(data)
    while ip < size:
        ctrl = data[ip]
        ip += 1
        if ctrl < 32:
            count = ctrl + 1
            if ip + count > size or len(out) + count > expected:
                raise RdbFormatError("invalid LZF data")
            out += data[ip : ip + count]
            ip += count
        else:
            length = ctrl >> 5
            ref = len(out) - ((ctrl & 0x1F) << 8) - 1
            if length == 7:
                if ip >= size:
                    raise RdbFormatError("invalid LZF data")
                length += data[ip]
                ip += 1
            if ip >= size:
                raise RdbFormatError("invalid LZF data")
            ref -= data[ip]
            ip += 1
            length += 2
            if ref < 0 or len(out) + length > expected:
                raise RdbFormatError("invalid LZF data")
            for _ in range(length):
                out.append(out[ref])
                ref += 1
    if len(out) != expected:
        raise RdbFormatError("invalid LZF data")
    return bytes(out)


# -- lengths and strings --------------------------------------------------------------------------


def encode_length(length: int) -> bytes:
    if length < 1 << 6:
        return bytes((length,))
    if length < 1 << 14:
        return bytes((0x40 | (length >> 8), length & 0xFF))
    if length <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", length)
    return b"\x81" + struct.pack(">Q", length)


def _encode_integer(value: int) -> bytes | None:
    if -(1 << 7) <= value < 1 << 7:
        return bytes((0xC0 | RDB_ENC_INT8,)) + struct.pack("<b", value)
    if -(1 << 15) <= value < 1 << 15:
        return bytes((0xC0 | RDB_ENC_INT16,)) + struct.pack("<h", value)
    if -(1 << 31) <= value < 1 << 31:
        return bytes((0xC0 | RDB_ENC_INT32,)) + struct.pack("<i", value)
    return None


def encode_string(value: bytes, compress: bool = True) -> bytes:
    """Redis's rdbSaveRawString: an integer encoding, an LZF block, or the plain bytes."""
    size = len(value)
    # The digit test first: parse_int's exception path costs microseconds per string.
    if size <= 11 and value[-1:].isdigit() and value[0] in b"-0123456789":
        number = parse_int(value)
        if number is not None:
            encoded = _encode_integer(number)
            if encoded is not None:
                return encoded
    if compress and size > 20:
        packed = compress_for_rdb(value, size - 4)
        if packed:
            return b"\xc3" + encode_length(len(packed)) + encode_length(size) + packed
    return encode_length(size) + value


class RdbReader:
    """Reads RDB-encoded items from a byte buffer."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def read(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise RdbFormatError("short read")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def read_byte(self) -> int:
        return self.read(1)[0]

    def read_length(self) -> tuple[int, bool]:
        """(length, is_encoded): for a special encoding the value is the encoding type."""
        first = self.read_byte()
        kind = first >> 6
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.read_byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return struct.unpack(">I", self.read(4))[0], False
        if first == 0x81:
            return struct.unpack(">Q", self.read(8))[0], False
        raise RdbFormatError(f"Unknown length encoding {first} in rdbLoadLen()")

    def read_string(self) -> bytes:
        length, encoded = self.read_length()
        if not encoded:
            return self.read(length)
        if length == RDB_ENC_INT8:
            return b"%d" % struct.unpack("<b", self.read(1))[0]
        if length == RDB_ENC_INT16:
            return b"%d" % struct.unpack("<h", self.read(2))[0]
        if length == RDB_ENC_INT32:
            return b"%d" % struct.unpack("<i", self.read(4))[0]
        if length == RDB_ENC_LZF:
            packed_len, _ = self.read_length()
            size, _ = self.read_length()
            return lzf_decompress(self.read(packed_len), size)
        raise RdbFormatError(f"Unknown RDB string encoding type {length}")


__all__ = [
    "RdbFormatError",
    "RdbReader",
    "compress_for_rdb",
    "encode_length",
    "encode_string",
    "lzf_compress",
    "lzf_decompress",
]
