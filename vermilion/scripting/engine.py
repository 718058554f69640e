"""Lua states and the Python side of the API scripts see.

A ``LuaEngine`` is one Lua 5.1 state (lupa) prepared by ``prelude.PRELUDE``: one serves EVAL,
another FUNCTION/FCALL, as in Redis. Functions that Redis implements in C and that can raise
errors (``redis.call``, ``math.random``, the cjson/cmsgpack/struct/bit libraries) are Python
callables here, which Lua calls like C functions: a call in tail position keeps the caller's
frame, so errors carry the script's line as Redis's do. Such a callable raises ``LuaRaise`` to
raise a Lua error; the prelude turns the exception back into the Lua value it carries wherever a
script could observe it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import weakref
from typing import TYPE_CHECKING, Any

from lupa import lua51

from .. import REDIS_VERSION
from ..errors import RedisError
from ..registry import TABLE
from .prelude import PRELUDE

if TYPE_CHECKING:
    from .state import Scripting

LuaTable = Any

_lua_type = lua51.lua_type

INT32_MAX = 2**31 - 1
_LRAND48_MASK = (1 << 48) - 1

_REDIS_VERSION_NUM = (lambda parts: (parts[0] << 16) | (parts[1] << 8) | parts[2])(
    [int(p) for p in REDIS_VERSION.split(".")]
)


class ScriptError(RedisError):
    """An error reply whose text holds bytes from the user (names, code): kept as bytes so the
    reply is byte-exact (``args[0]`` still has a text version for generic handling)."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw.decode("utf-8", "replace"))
        self.raw = raw


class LuaRaise(Exception):
    """Raised by a Python callable to raise a Lua error whose value is ``value``."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return "Lua error"


class Builtin(functools.partial):
    """A Python callable given to Lua. ``tostring`` shows it like one of Redis's C functions."""

    def __str__(self) -> str:
        return "function: builtin: 0x%08x" % (id(self) & 0xFFFFFFFF)

    __repr__ = __str__


class _Sentinel:
    """A value exposed to Lua as a unique userdata (cjson.null)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return "userdata: (nil)"

    __repr__ = __str__


NULL = _Sentinel("null")


def _deny_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    # Scripts must never reach Python objects' attributes (that would escape the sandbox).
    raise AttributeError("not accessible from Lua")


# -- Lua's view of Python values ------------------------------------------------------------------


def lua_type_name(value: Any) -> str:
    """The Lua type name of a value that came from Lua."""
    if value is None:
        return "nil"
    cls = value.__class__
    if cls is bytes:
        return "string"
    if cls is bool:
        return "boolean"
    if cls is int or cls is float:
        return "number"
    kind = _lua_type(value)
    if kind is not None:
        return kind
    if cls is Builtin:
        return "function"
    return "userdata"


_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:"
    rb"0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    rb"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?"
    rb")"
)


def str_to_number(text: bytes) -> float | None:
    """Lua 5.1's string-to-number conversion (strtod, trailing spaces allowed), else None."""
    text = text.split(b"\0", 1)[0]
    found = _STRTOD.match(text)
    if found is None:
        return None
    rest = text[found.end() :]
    if rest.strip(b" \t\n\v\f\r"):
        return None
    number = found.group(0).strip(b" \t\n\v\f\r")
    body = number.lstrip(b"+-")
    negative = number.startswith(b"-")
    if body[:2] in (b"0x", b"0X"):
        if b"p" in body.lower() or b"." in body:
            value = float.fromhex(body.decode())
        else:
            value = float(int(body[2:], 16))
    else:
        value = float(body.split(b"(")[0])
    return -value if negative else value


def to_number(value: Any) -> float | None:
    """lua_tonumber: numbers, and strings that convert; None otherwise."""
    cls = value.__class__
    if cls is int or cls is float:
        return float(value)
    if cls is bytes:
        return str_to_number(value)
    return None


def number_text(value: float) -> bytes:
    """A number as Lua 5.1 turns it into a string (%.14g)."""
    return lua_number_format(value)


def lua_number_format(value: float) -> bytes:
    if value != value:
        return b"-nan" if _sign_bit(value) else b"nan"
    if value in (float("inf"), float("-inf")):
        return b"inf" if value > 0 else b"-inf"
    return b"%.14g" % value


def _sign_bit(value: float) -> bool:
    import math

    return math.copysign(1.0, value) < 0


def c_int(value: float) -> int:
    """A C cast of a double to int (truncation; what x86 gives out of range)."""
    if value != value or value >= 2**31 or value < -(2**31):
        return -(2**31)
    return int(value)


# -- the engine ----------------------------------------------------------------------------------


class LuaEngine:
    """One Lua state with Redis's scripting environment."""

    def __init__(self, scripting: Scripting, kind: str) -> None:
        from . import libs

        self.scripting = scripting
        self.kind = kind
        runtime = lua51.LuaRuntime(
            encoding=None,
            source_encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_deny_attributes,
        )
        self.runtime = runtime
        # cjson's test for -0 in a table (libs.cjson), compiled on first use.
        self.negative_zero_test: Any = None
        # Callables stored in Lua must not hold the engine strongly: the Lua state would keep
        # its own runtime alive (a cycle Python's collector cannot see), leaking every state
        # SCRIPT FLUSH replaces.
        me = weakref.proxy(self)
        host: dict[bytes, Any] = {
            b"unwrap": Builtin(_unwrap),
            b"count_error": Builtin(scripting.reply_error),
            b"tick": Builtin(scripting.busy.tick),
            b"call": Builtin(scripting.redis_call, me, True),
            b"pcall": Builtin(scripting.redis_call, me, False),
            b"sha1hex": Builtin(_sha1hex, me),
            b"setresp": Builtin(scripting.set_resp, me),
            b"set_repl": Builtin(scripting.set_repl, me),
            b"log": Builtin(scripting.lua_log, me),
            b"acl_check_cmd": Builtin(scripting.acl_check_cmd, me),
            b"random": Builtin(scripting.math_random, me),
            b"randomseed": Builtin(scripting.math_randomseed, me),
            b"version": REDIS_VERSION.encode(),
            b"version_num": _REDIS_VERSION_NUM,
        }
        if kind == "function":
            host[b"register_function"] = Builtin(scripting.functions.register_function, me)
        for name, functions in libs.library_functions(me).items():
            host[name] = runtime.table_from({key: Builtin(fn) for key, fn in functions.items()})
        libs.add_constants(me, host)
        loadstring = runtime.eval("loadstring")
        chunk = loadstring(PRELUDE.encode(), b"=vermilion")
        if not callable(chunk):
            raise RuntimeError(f"Lua prelude does not compile: {chunk!r}")
        entry = chunk(runtime.table_from(host), kind.encode())
        self.entry = entry
        self.compile_chunk = entry[b"compile"]
        self.run = entry[b"run"]
        self.run0 = entry[b"run0"]
        self.run_tables = entry[b"run_tables"]
        self.parse_reply = entry[b"parse_reply"]
        self.error_table = entry[b"error_table"]
        self.ok_table = entry[b"ok_table"]
        self.new_table = entry[b"new_table"]
        self.c_context = entry[b"c_context"]
        self.memory_kb = entry[b"memory"]
        self.set_script_resp3 = entry[b"set_resp3"]
        self.load_library = entry[b"load"] if kind == "function" else None

    def compile(self, code: bytes) -> tuple[Any, bytes | None]:
        """A compiled chunk, or (None, Lua's error message). Precompiled chunks are parsed as
        text (Redis's Lua cannot load them), which a leading space achieves."""
        if code[:1] == b"\x1b":
            code = b" " + code
        result = self.compile_chunk(code)
        if isinstance(result, tuple):
            function = result[0]
            message = result[1] if len(result) > 1 else None
        else:
            function, message = result, None
        if function is None:
            return None, message or b""
        return function, None

    def table(self, items: list[Any]) -> LuaTable:
        """A Lua array built element by element, as Redis builds KEYS, ARGV and replies."""
        table = self.new_table()
        for index, item in enumerate(items, 1):
            table[index] = item
        return table

    def memory(self) -> int:
        return int(self.memory_kb() * 1024)

    # -- errors worded like the C functions they stand for ---------------------------------------

    def c_error(self, message: bytes) -> LuaRaise:
        """luaL_error: the message prefixed with the caller's position."""
        where, _, _ = self.c_context()
        return LuaRaise((where or b"") + message)

    def arg_error(self, narg: int, extramsg: bytes) -> LuaRaise:
        """luaL_argerror, named after how the function was called."""
        where, name, namewhat = self.c_context()
        where = where or b""
        name = name or b"?"
        if namewhat == b"method":
            narg -= 1
            if narg == 0:
                return LuaRaise(where + b"calling '%s' on bad self (%s)" % (name, extramsg))
        return LuaRaise(where + b"bad argument #%d to '%s' (%s)" % (narg, name, extramsg))

    def type_error(self, narg: int, expected: bytes, args: tuple) -> LuaRaise:
        got = lua_type_name(args[narg - 1]).encode() if narg <= len(args) else b"no value"
        return self.arg_error(narg, b"%s expected, got %s" % (expected, got))

    def check_number(self, args: tuple, narg: int) -> float:
        """luaL_checknumber."""
        value = to_number(args[narg - 1]) if narg <= len(args) else None
        if value is None:
            raise self.type_error(narg, b"number", args)
        return value

    def opt_number(self, args: tuple, narg: int, default: float) -> float:
        if narg > len(args) or args[narg - 1] is None:
            return default
        return self.check_number(args, narg)

    def check_int(self, args: tuple, narg: int) -> int:
        return c_int(self.check_number(args, narg))

    def check_string(self, args: tuple, narg: int) -> bytes:
        """luaL_checklstring: strings, and numbers turned into strings."""
        value = args[narg - 1] if narg <= len(args) else None
        cls = value.__class__
        if cls is bytes:
            return value
        if cls is int or cls is float:
            return number_text(float(value))
        raise self.type_error(narg, b"string", args)


def _unwrap(error: Any) -> Any:
    if isinstance(error, LuaRaise):
        return error.value
    if isinstance(error, BaseException):
        return b"internal error: " + str(error).encode("utf-8", "replace")
    return None


def _sha1hex(engine: LuaEngine, *args: Any) -> bytes:
    if len(args) != 1:
        raise LuaRaise(engine.error_table(b"wrong number of arguments"))
    value = args[0]
    cls = value.__class__
    if cls is int or cls is float:
        value = number_text(float(value))
    elif cls is not bytes:
        value = b""
    return hashlib.sha1(value).hexdigest().encode()


def lrand48_next(state: int) -> tuple[int, int]:
    """One step of Redis's rand48 generator: (new state, 31-bit value)."""
    state = (state * 0x5DEECE66D + 0xB) & _LRAND48_MASK
    return state, state >> 17


def lrand48_seed(seed: int) -> int:
    seed &= 0xFFFFFFFF
    return ((seed >> 16) << 32) | ((seed & 0xFFFF) << 16) | 0x330E


LRAND48_INITIAL = 0x1234ABCD330E


def lookup_script_command(argv: list[bytes]) -> Any:
    """The command a script names (Redis's lookupCommand), or None."""
    name = argv[0]
    cmd = TABLE.get(name)
    if cmd is None:
        cmd = TABLE.get(name.lower())
        if cmd is None:
            return None
    if cmd.subcommands is not None and len(argv) > 1:
        sub = cmd.subcommands.get(argv[1])
        if sub is None:
            sub = cmd.subcommands.get(argv[1].lower())
        return sub
    return cmd


__all__ = [
    "Builtin",
    "LuaEngine",
    "LuaRaise",
    "NULL",
    "lookup_script_command",
    "lrand48_next",
    "lrand48_seed",
    "str_to_number",
    "to_number",
]
