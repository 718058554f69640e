"""Helpers shared by the libraries: C-style integer arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import LuaEngine

INT_MAX = 2**31 - 1


def check_integer(engine: LuaEngine, args: tuple, narg: int) -> int:
    """luaL_checkinteger: the number truncated as lua_Integer (64-bit)."""
    number = engine.check_number(args, narg)
    if number != number or not -(2**63) <= number < 2**63:
        return -(2**63)
    return int(number)


def opt_integer(engine: LuaEngine, args: tuple, narg: int, default: int) -> int:
    if narg > len(args) or args[narg - 1] is None:
        return default
    return check_integer(engine, args, narg)


def c_int32(value: int) -> int:
    """The value as C's %d prints an int."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
