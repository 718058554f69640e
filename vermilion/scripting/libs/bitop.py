"""bit (LuaBitOp 1.0.2 as Redis bundles it): 32-bit operations on Lua numbers."""

from __future__ import annotations

import struct as _struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..engine import to_number

if TYPE_CHECKING:
    from ..engine import LuaEngine


def _tobit_raw(number: float) -> int:
    """LuaBitOp's normalisation: add 2^52+2^51, keep the low 32 bits of the double's bits."""
    bits = _struct.unpack("<Q", _struct.pack("<d", number + 6755399441055744.0))[0]
    return bits & 0xFFFFFFFF


def _signed(value: int) -> float:
    value &= 0xFFFFFFFF
    return float(value - (1 << 32) if value & 0x80000000 else value)


def bit_functions(engine: LuaEngine) -> dict[bytes, Callable]:
    def barg(args: tuple, narg: int) -> int:
        value = to_number(args[narg - 1]) if narg <= len(args) else None
        if value is None:
            raise engine.type_error(narg, b"number", args)
        return _tobit_raw(value)

    def tobit(*args: Any) -> float:
        return _signed(barg(args, 1))

    def bnot(*args: Any) -> float:
        return _signed(~barg(args, 1))

    def reducer(operation: Callable[[int, int], int]) -> Callable:
        def reduce(*args: Any) -> float:
            value = barg(args, 1)
            for narg in range(len(args), 1, -1):
                value = operation(value, barg(args, narg))
            return _signed(value)

        return reduce

    def shifter(operation: Callable[[int, int], int]) -> Callable:
        def shift(*args: Any) -> float:
            value = barg(args, 1)
            count = barg(args, 2) & 31
            return _signed(operation(value, count))

        return shift

    def arshift(value: int, count: int) -> int:
        signed = value - (1 << 32) if value & 0x80000000 else value
        return signed >> count

    def rol(value: int, count: int) -> int:
        return ((value << count) | (value >> ((32 - count) & 31))) & 0xFFFFFFFF

    def ror(value: int, count: int) -> int:
        return ((value << ((32 - count) & 31)) | (value >> count)) & 0xFFFFFFFF

    def bswap(*args: Any) -> float:
        value = barg(args, 1)
        swapped = (
            (value >> 24) | ((value >> 8) & 0xFF00) | ((value & 0xFF00) << 8) | ((value << 24) & 0xFF000000)
        )
        return _signed(swapped)

    def tohex(*args: Any) -> bytes:
        value = barg(args, 1)
        count = 8 if len(args) < 2 else int(_signed(barg(args, 2)))
        digits = b"0123456789abcdef"
        if count < 0:
            count = -count
            digits = b"0123456789ABCDEF"
        if count > 8:
            count = 8
        out = bytearray(count)
        for index in range(count - 1, -1, -1):
            out[index] = digits[value & 15]
            value >>= 4
        return bytes(out)

    return {
        b"tobit": tobit,
        b"bnot": bnot,
        b"band": reducer(lambda a, b: a & b),
        b"bor": reducer(lambda a, b: a | b),
        b"bxor": reducer(lambda a, b: a ^ b),
        b"lshift": shifter(lambda v, n: (v << n) & 0xFFFFFFFF),
        b"rshift": shifter(lambda v, n: v >> n),
        b"arshift": shifter(arshift),
        b"rol": shifter(rol),
        b"ror": shifter(ror),
        b"bswap": bswap,
        b"tohex": tohex,
    }
