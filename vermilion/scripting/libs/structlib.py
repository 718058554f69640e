"""struct (Roberto Ierusalimschy's library as Redis bundles it): pack, unpack, size."""

from __future__ import annotations

import math
import struct as _struct
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..engine import to_number
from .common import INT_MAX, opt_integer

if TYPE_CHECKING:
    from ..engine import LuaEngine


_MAXINTSIZE = 32
_MAXALIGN = 8
_BIG, _LITTLE = 0, 1
_NATIVE = _LITTLE if sys.byteorder == "little" else _BIG
_SIZES = {ord("b"): 1, ord("B"): 1, ord("h"): 2, ord("H"): 2, ord("l"): 8, ord("L"): 8,
          ord("T"): 8, ord("f"): 4, ord("d"): 8, ord("x"): 1}
_INTEGER_OPTIONS = frozenset(b"bBhHlLTiI")
_ISDIGIT = frozenset(b"0123456789")
_ISALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class _Format:
    """A cursor over a struct format string (a C string)."""

    def __init__(self, engine: LuaEngine, fmt: bytes) -> None:
        self.engine = engine
        self.fmt = fmt.split(b"\0", 1)[0]
        self.pos = 0
        self.endian = _NATIVE
        self.align = 1

    def getnum(self, default: int) -> int:
        fmt = self.fmt
        if self.pos >= len(fmt) or fmt[self.pos] not in _ISDIGIT:
            return default
        value = 0
        while self.pos < len(fmt) and fmt[self.pos] in _ISDIGIT:
            digit = fmt[self.pos] - 48
            if value > INT_MAX // 10 or value * 10 > INT_MAX - digit:
                raise self.engine.c_error(b"integral size overflow")
            value = value * 10 + digit
            self.pos += 1
        return value

    def optsize(self, opt: int) -> int:
        size = _SIZES.get(opt)
        if size is not None:
            return size
        if opt == 99:  # c
            return self.getnum(1)
        if opt in (105, 73):  # i I
            size = self.getnum(4)
            if size > _MAXINTSIZE:
                raise self.engine.c_error(b"integral size %d is larger than limit of %d" % (size, _MAXINTSIZE))
            return size
        return 0

    def toalign(self, position: int, opt: int, size: int) -> int:
        if size == 0 or opt == 99:
            return 0
        if size > self.align:
            size = self.align
        return (size - (position & (size - 1))) & (size - 1)

    def control(self, opt: int) -> None:
        if opt == 32:
            return
        if opt == 62:  # >
            self.endian = _BIG
        elif opt == 60:  # <
            self.endian = _LITTLE
        elif opt == 33:  # !
            align = self.getnum(_MAXALIGN)
            if not (align > 0 and align & (align - 1) == 0):
                raise self.engine.c_error(b"alignment %d is not a power of 2" % align)
            self.align = align
        else:
            raise self.engine.arg_error(1, b"invalid format option '%c'" % opt)

    def next(self) -> int | None:
        if self.pos >= len(self.fmt):
            return None
        opt = self.fmt[self.pos]
        self.pos += 1
        return opt


def struct_functions(engine: LuaEngine) -> dict[bytes, Callable]:
    def pack(*args: Any) -> bytes:
        fmt = _Format(engine, engine.check_string(args, 1))
        # The C code pushes a nil after the arguments, so the first missing one reads as nil.
        args = args + (None,)
        out = bytearray()
        arg = 2
        total = 0
        while True:
            opt = fmt.next()
            if opt is None:
                break
            size = fmt.optsize(opt)
            pad = fmt.toalign(total, opt, size)
            total += pad
            out += b"\0" * pad
            if opt in _INTEGER_OPTIONS:
                out += _put_integer(engine.check_number(args, arg), fmt.endian, size)
                arg += 1
            elif opt == 120:  # x
                out.append(0)
            elif opt == 102:  # f
                number = engine.check_number(args, arg)
                arg += 1
                out += _pack_float("f", number, fmt.endian)
            elif opt == 100:  # d
                number = engine.check_number(args, arg)
                arg += 1
                out += _pack_float("d", number, fmt.endian)
            elif opt in (99, 115):  # c s
                text = engine.check_string(args, arg)
                arg += 1
                if size == 0:
                    size = len(text)
                if len(text) < size:
                    raise engine.arg_error(arg, b"string too short")
                out += text[:size]
                if opt == 115:
                    out.append(0)
                    size += 1
            else:
                fmt.control(opt)
            total += size
        return bytes(out)

    def unpack(*args: Any) -> tuple:
        fmt = _Format(engine, engine.check_string(args, 1))
        data = engine.check_string(args, 2)
        start = opt_integer(engine, args, 3, 1)
        if start <= 0:
            raise engine.arg_error(3, b"offset must be 1 or greater")
        position = start - 1
        size_data = len(data)
        results: list[Any] = []
        while True:
            opt = fmt.next()
            if opt is None:
                break
            size = fmt.optsize(opt)
            position += fmt.toalign(position, opt, size)
            if not (size <= size_data and position <= size_data - size):
                raise engine.arg_error(2, b"data string too short")
            if opt in _INTEGER_OPTIONS:
                chunk = data[position : position + size]
                results.append(_get_integer(chunk, fmt.endian, opt in b"bhli", size))
            elif opt == 120:
                pass
            elif opt == 102:
                results.append(_unpack_float("f", data[position : position + 4], fmt.endian))
            elif opt == 100:
                results.append(_unpack_float("d", data[position : position + 8], fmt.endian))
            elif opt == 99:
                if size == 0:
                    if not results or to_number(results[-1]) is None:
                        raise engine.c_error(b"format 'c0' needs a previous size")
                    size = int(to_number(results.pop()))
                    if not (size <= size_data and position <= size_data - size):
                        raise engine.arg_error(2, b"data string too short")
                results.append(data[position : position + size])
            elif opt == 115:
                end = data.find(b"\0", position)
                if end < 0:
                    raise engine.c_error(b"unfinished string in data")
                size = end - position + 1
                results.append(data[position:end])
            else:
                fmt.control(opt)
            position += size
        results.append(position + 1)
        return tuple(results)

    def size(*args: Any) -> int:
        fmt = _Format(engine, engine.check_string(args, 1))
        position = 0
        while True:
            opt = fmt.next()
            if opt is None:
                break
            length = fmt.optsize(opt)
            position += fmt.toalign(position, opt, length)
            if opt == 115:
                raise engine.arg_error(1, b"option 's' has no fixed size")
            if opt == 99 and length == 0:
                raise engine.arg_error(1, b"option 'c0' has no fixed size")
            if opt not in _ISALNUM:
                fmt.control(opt)
            position += length
        return position

    return {b"pack": pack, b"unpack": unpack, b"size": size}


def _put_integer(number: float, endian: int, size: int) -> bytes:
    # Negative numbers go through the signed type, others through the unsigned one.
    if number < 0:
        value = int(number) if number > -(2**63) else -(2**63)
        value &= 0xFFFFFFFFFFFFFFFF
    else:
        value = int(number) if number < 2**64 else 0
    out = bytearray(size)
    for index in range(size):
        byte = value & 0xFF
        value >>= 8
        if endian == _LITTLE:
            out[index] = byte
        else:
            out[size - 1 - index] = byte
    return bytes(out)


def _get_integer(chunk: bytes, endian: int, signed: bool, size: int) -> float:
    value = 0
    ordered = chunk if endian == _BIG else chunk[::-1]
    for byte in ordered:
        value = ((value << 8) | byte) & 0xFFFFFFFFFFFFFFFF
    if not signed:
        return float(value)
    mask = (0xFFFFFFFFFFFFFFFF << ((size * 8 - 1) & 63)) & 0xFFFFFFFFFFFFFFFF
    if value & mask:
        value |= mask
    if value >= 1 << 63:
        value -= 1 << 64
    return float(value)


def _pack_float(kind: str, number: float, endian: int) -> bytes:
    order = "<" if endian == _LITTLE else ">"
    if kind == "f":
        try:
            return _struct.pack(order + "f", number)
        except OverflowError:
            return _struct.pack(order + "f", math.copysign(math.inf, number))
    return _struct.pack(order + "d", number)


def _unpack_float(kind: str, chunk: bytes, endian: int) -> float:
    order = "<" if endian == _LITTLE else ">"
    return _struct.unpack(order + kind, chunk)[0]
