"""cmsgpack (lua-cmsgpack 0.4.0 as Redis bundles it): pack, unpack, unpack_one, unpack_limit."""

from __future__ import annotations

import struct as _struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..engine import lua_type_name
from .common import INT_MAX, c_int32, check_integer, opt_integer

if TYPE_CHECKING:
    from ..engine import LuaEngine


_MAX_NESTING = 16


def cmsgpack_functions(engine: LuaEngine) -> dict[bytes, Callable]:
    def pack(*args: Any) -> bytes:
        if not args:
            raise engine.arg_error(0, b"MessagePack pack needs input.")
        out: list[bytes] = []
        for value in args:
            _mp_encode(value, 0, out)
        return b"".join(out)

    def unpack(*args: Any) -> tuple:
        data = engine.check_string(args, 1)
        return _mp_unpack(engine, data, 0, 0)

    def unpack_one(*args: Any) -> tuple:
        offset = opt_integer(engine, args, 2, 0)
        data = engine.check_string(args, 1)
        return _mp_unpack(engine, data, 1, offset)

    def unpack_limit(*args: Any) -> tuple:
        limit = check_integer(engine, args, 2)
        offset = opt_integer(engine, args, 3, 0)
        data = engine.check_string(args, 1)
        return _mp_unpack(engine, data, limit, offset)

    return {b"pack": pack, b"unpack": unpack, b"unpack_one": unpack_one, b"unpack_limit": unpack_limit}








def _mp_encode_int(number: int, out: list[bytes]) -> None:
    if number >= 0:
        if number <= 127:
            out.append(bytes((number,)))
        elif number <= 0xFF:
            out.append(b"\xcc" + bytes((number,)))
        elif number <= 0xFFFF:
            out.append(b"\xcd" + _struct.pack(">H", number))
        elif number <= 0xFFFFFFFF:
            out.append(b"\xce" + _struct.pack(">I", number))
        else:
            out.append(b"\xcf" + _struct.pack(">Q", number))
    elif number >= -32:
        out.append(_struct.pack("b", number))
    elif number >= -128:
        out.append(b"\xd0" + _struct.pack("b", number))
    elif number >= -32768:
        out.append(b"\xd1" + _struct.pack(">h", number))
    elif number >= -(2**31):
        out.append(b"\xd2" + _struct.pack(">i", number))
    else:
        out.append(b"\xd3" + _struct.pack(">q", number))


def _mp_encode_double(number: float, out: list[bytes]) -> None:
    try:
        single = _struct.unpack("<f", _struct.pack("<f", number))[0]
    except OverflowError:
        single = None
    if single is not None and single == number:
        out.append(b"\xca" + _struct.pack(">f", number))
    else:
        out.append(b"\xcb" + _struct.pack(">d", number))


def _mp_encode_bytes(value: bytes, out: list[bytes]) -> None:
    size = len(value)
    if size < 32:
        out.append(bytes((0xA0 | size,)))
    elif size <= 0xFF:
        out.append(b"\xd9" + bytes((size,)))
    elif size <= 0xFFFF:
        out.append(b"\xda" + _struct.pack(">H", size))
    else:
        out.append(b"\xdb" + _struct.pack(">I", size))
    out.append(value)


def _mp_table_is_array(table: Any) -> bool:
    count = 0
    largest = 0
    for key in table.keys():
        cls = key.__class__
        if cls is not int and cls is not float:
            return False
        number = float(key)
        if number <= 0 or not (-(2**31) <= number < 2**31 and int(number) == number):
            return False
        if number > largest:
            largest = number
        count += 1
    return largest == count


def _mp_encode(value: Any, level: int, out: list[bytes]) -> None:
    cls = value.__class__
    if cls is bytes:
        _mp_encode_bytes(value, out)
    elif cls is bool:
        out.append(b"\xc3" if value else b"\xc2")
    elif cls is int or cls is float:
        number = float(value)
        if -(2**63) <= number < 2**63 and number.is_integer():
            _mp_encode_int(int(number), out)
        else:
            _mp_encode_double(number, out)
    elif lua_type_name(value) == "table" and level != _MAX_NESTING:
        if _mp_table_is_array(value):
            size = len(value)
            if size <= 15:
                out.append(bytes((0x90 | size,)))
            elif size <= 0xFFFF:
                out.append(b"\xdc" + _struct.pack(">H", size))
            else:
                out.append(b"\xdd" + _struct.pack(">I", size))
            for index in range(1, size + 1):
                _mp_encode(value[index], level + 1, out)
        else:
            items = list(value.items())
            size = len(items)
            if size <= 15:
                out.append(bytes((0x80 | size,)))
            elif size <= 0xFFFF:
                out.append(b"\xde" + _struct.pack(">H", size))
            else:
                out.append(b"\xdf" + _struct.pack(">I", size))
            for key, item in items:
                _mp_encode(key, level + 1, out)
                _mp_encode(item, level + 1, out)
    else:
        out.append(b"\xc0")


class _MpEof(Exception):
    pass


class _MpBadFormat(Exception):
    pass


def _mp_unpack(engine: LuaEngine, data: bytes, limit: int, offset: int) -> tuple:
    decode_all = not limit and not offset
    size = len(data)
    if offset < 0 or limit < 0:
        raise engine.c_error(
            b"Invalid request to unpack with offset of %d and limit of %d." % (c_int32(offset), c_int32(size))
        )
    if offset > size:
        raise engine.c_error(b"Start offset %d greater than input length %d." % (c_int32(offset), c_int32(size)))
    if decode_all:
        limit = INT_MAX
    decoder = _MpDecoder(engine, data, offset)
    results: list[Any] = []
    count = 0
    while decoder.pos < size and count < limit:
        try:
            results.append(decoder.value())
        except _MpEof:
            raise engine.c_error(b"Missing bytes in input.") from None
        except _MpBadFormat:
            raise engine.c_error(b"Bad data format in input.") from None
        count += 1
    if not decode_all:
        left = size - decoder.pos
        results.insert(0, -1 if left == 0 else decoder.pos)
    return tuple(results)


class _MpDecoder:
    def __init__(self, engine: LuaEngine, data: bytes, pos: int) -> None:
        self.engine = engine
        self.data = data
        self.pos = pos

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise _MpEof()
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def value(self) -> Any:
        first = self.take(1)[0]
        if first < 0x80:
            return first
        if first >= 0xE0:
            return first - 256
        if first & 0xE0 == 0xA0:
            return self.take(first & 0x1F)
        if first & 0xF0 == 0x90:
            return self.array(first & 0x0F)
        if first & 0xF0 == 0x80:
            return self.map(first & 0x0F)
        if first == 0xC0:
            return None
        if first == 0xC2:
            return False
        if first == 0xC3:
            return True
        if first == 0xCC:
            return self.take(1)[0]
        if first == 0xCD:
            return _struct.unpack(">H", self.take(2))[0]
        if first == 0xCE:
            return _struct.unpack(">I", self.take(4))[0]
        if first == 0xCF:
            number = _struct.unpack(">Q", self.take(8))[0]
            return float(number - (1 << 64) if number >= 1 << 63 else number)
        if first == 0xD0:
            return _struct.unpack("b", self.take(1))[0]
        if first == 0xD1:
            return _struct.unpack(">h", self.take(2))[0]
        if first == 0xD2:
            return _struct.unpack(">i", self.take(4))[0]
        if first == 0xD3:
            return float(_struct.unpack(">q", self.take(8))[0])
        if first == 0xCA:
            return _struct.unpack(">f", self.take(4))[0]
        if first == 0xCB:
            return _struct.unpack(">d", self.take(8))[0]
        if first == 0xD9:
            return self.take(self.take(1)[0])
        if first == 0xDA:
            return self.take(_struct.unpack(">H", self.take(2))[0])
        if first == 0xDB:
            return self.take(_struct.unpack(">I", self.take(4))[0])
        if first == 0xDC:
            return self.array(_struct.unpack(">H", self.take(2))[0])
        if first == 0xDD:
            return self.array(_struct.unpack(">I", self.take(4))[0])
        if first == 0xDE:
            return self.map(_struct.unpack(">H", self.take(2))[0])
        if first == 0xDF:
            return self.map(_struct.unpack(">I", self.take(4))[0])
        raise _MpBadFormat()

    def array(self, count: int) -> Any:
        table = self.engine.new_table()
        for index in range(1, count + 1):
            item = self.value()
            if item is not None:
                table[index] = item
        return table

    def map(self, count: int) -> Any:
        table = self.engine.new_table()
        for _ in range(count):
            key = self.value()
            item = self.value()
            if key is None:
                raise self.engine.c_error(b"table index is nil")
            if key.__class__ is float and key != key:
                raise self.engine.c_error(b"table index is NaN")
            table[key] = item
        return table
