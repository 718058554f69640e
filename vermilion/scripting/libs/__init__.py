"""The libraries Redis gives scripts: cjson, cmsgpack, struct and bit.

Implemented in Python and bound into each Lua state as C-like callables (see engine.py), with
the behaviour of the C libraries Redis bundles: lua-cjson 2.1.0, lua-cmsgpack 0.4.0, Roberto
Ierusalimschy's struct and LuaBitOp 1.0.2 - same outputs byte for byte, same limits, same error
messages. Lua tables are read through lupa in Lua's own iteration order (``lua_next``) and new
ones are filled in the order the C code fills them, so key order matches Redis's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..engine import NULL
from .bitop import bit_functions
from .cjson import CJson
from .cmsgpack import cmsgpack_functions
from .structlib import struct_functions

if TYPE_CHECKING:
    from ..engine import LuaEngine

# Deep tables (up to cjson's 1000 levels) are walked recursively.
if sys.getrecursionlimit() < 20000:
    sys.setrecursionlimit(20000)


def library_functions(engine: LuaEngine) -> dict[bytes, dict[bytes, Callable]]:
    """Each library's functions, keyed by library then function name."""
    return {
        b"cjson": CJson(engine).functions(),
        b"cmsgpack": cmsgpack_functions(engine),
        b"struct": struct_functions(engine),
        b"bit": bit_functions(engine),
    }


def add_constants(engine: LuaEngine, host: dict) -> None:
    """Add the libraries' non-function fields to the tables in ``host``."""
    cjson = host[b"cjson"]
    cjson[b"null"] = NULL
    cjson[b"_NAME"] = b"cjson"
    cjson[b"_VERSION"] = b"2.1.0"
    cmsgpack = host[b"cmsgpack"]
    cmsgpack[b"_NAME"] = b"cmsgpack"
    cmsgpack[b"_VERSION"] = b"lua-cmsgpack 0.4.0"
    cmsgpack[b"_COPYRIGHT"] = b"Copyright (C) 2012, Salvatore Sanfilippo"
    cmsgpack[b"_DESCRIPTION"] = b"MessagePack C implementation for Lua"


__all__ = ["CJson", "add_constants", "library_functions"]
