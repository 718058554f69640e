"""Redis functions: libraries of Lua functions loaded with FUNCTION LOAD and called by FCALL.

Libraries live in their own Lua state (``LuaEngine(kind="function")``). Loading runs the library
code with only ``redis.register_function`` and ``redis.log`` visible; each registered function is
kept as a Lua closure. FUNCTION DUMP/RESTORE use Redis's format: for each library the RDB
function opcode and the library code as an RDB string, then the RDB version and a CRC64.
"""

from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING, Any

from ..errors import RedisError
from ..persistence.crc64 import crc64
from .engine import LuaEngine, LuaRaise, ScriptError, lua_type_name, number_text
from ..persistence.rdbstring import RdbFormatError, RdbReader, encode_string
from .state import FLAG_NAMES

if TYPE_CHECKING:
    from .state import Scripting

RDB_OPCODE_FUNCTION_PRE_GA = 246
RDB_OPCODE_FUNCTION2 = 245
RDB_VERSION = 10
ENGINE_NAME = b"LUA"

_BAD_NAME = (
    b"Library names can only contain letters, numbers, or underscores(_) and must be at least "
    b"one character long"
)
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class Function:
    __slots__ = ("name", "library", "description", "flags", "closure")

    def __init__(self, name: bytes, library: Library, description: bytes | None, flags: int,
                 closure: Any) -> None:
        self.name = name
        self.library = library
        self.description = description
        self.flags = flags
        self.closure = closure


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, Function] = {}


class LoadContext:
    """The library being loaded (redis.register_function adds to it)."""

    __slots__ = ("library", "start")

    def __init__(self, library: Library) -> None:
        self.library = library
        self.start = time.monotonic()


class Libraries:
    """A set of libraries with the index of their functions (Redis's functionsLibCtx).
    Function names are matched without regard to case, library names with."""

    def __init__(self) -> None:
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}

    def link(self, library: Library) -> None:
        for function in library.functions.values():
            self.functions[function.name.lower()] = function
        self.libraries[library.name] = library

    def unlink(self, library: Library) -> None:
        for function in library.functions.values():
            self.functions.pop(function.name.lower(), None)
        self.libraries.pop(library.name, None)

    def function_count(self) -> int:
        return sum(len(library.functions) for library in self.libraries.values())


def _is_valid_name(name: bytes) -> bool:
    return bool(name) and all(byte in _NAME_CHARS for byte in name)


def _c_bytes(value: bytes) -> bytes:
    """What C's %s prints of a string: up to its first NUL byte."""
    return value.split(b"\0", 1)[0]


class Functions:
    """The server's libraries and the function engine."""

    def __init__(self, scripting: Scripting) -> None:
        self.scripting = scripting
        self.current = Libraries()
        self.loading: LoadContext | None = None
        self._engine: LuaEngine | None = None

    @property
    def engine(self) -> LuaEngine:
        engine = self._engine
        if engine is None:
            engine = self._engine = LuaEngine(self.scripting, "function")
        return engine

    def lookup(self, name: bytes) -> Function | None:
        return self.current.functions.get(name.lower())

    # -- loading ------------------------------------------------------------------------------------

    def create(self, code: bytes, replace: bool, target: Libraries) -> bytes:
        """Compile ``code`` into a library and add it to ``target`` (Redis's
        functionsCreateWithLibraryCtx); RedisError on failure, ``target`` unchanged."""
        engine_name, name, body = _library_metadata(code)
        if not _is_valid_name(name):
            raise RedisError("ERR " + _BAD_NAME.decode())
        if engine_name.upper() != ENGINE_NAME:
            raise ScriptError(b"ERR Engine '%s' not found" % engine_name)
        old = target.libraries.get(name)
        if old is not None and not replace:
            raise ScriptError(b"ERR Library '%s' already exists" % name)
        if old is not None:
            target.unlink(old)
        try:
            library = self._compile_library(name, code, body)
            for function in library.functions.values():
                if function.name.lower() in target.functions:
                    raise ScriptError(b"ERR Function %s already exists" % _c_bytes(function.name))
        except RedisError:
            if old is not None:
                target.link(old)
            raise
        target.link(library)
        return name

    def _compile_library(self, name: bytes, code: bytes, body: bytes) -> Library:
        engine = self.engine
        chunk, message = engine.compile(body)
        if chunk is None:
            raise ScriptError(b"ERR Error compiling function: " + _c_bytes(message or b""))
        library = Library(name, code)
        self.loading = LoadContext(library)
        try:
            outcome = engine.load_library(chunk)
        finally:
            self.loading = None
        if isinstance(outcome, tuple):
            ok, error = outcome[0], outcome[1] if len(outcome) > 1 else None
        else:
            ok, error = outcome, None
        if not ok:
            text = _c_bytes(error) if error is not None else b"(null)"
            raise ScriptError(b"ERR Error registering functions: " + text)
        if not library.functions:
            raise RedisError("ERR No functions registered")
        return library

    def load(self, code: bytes, replace: bool) -> bytes:
        return self.create(code, replace, self.current)

    # -- redis.register_function ----------------------------------------------------------------------

    def register_function(self, engine: LuaEngine, *args: Any) -> None:
        loading = self.loading
        if loading is None:
            raise _lua_error(engine, b"redis.register_function can only be called on FUNCTION LOAD command")
        if not 1 <= len(args) <= 2:
            raise _lua_error(engine, b"wrong number of arguments to redis.register_function")
        if len(args) == 1:
            name, description, flags, closure = self._named_arguments(engine, args[0])
        else:
            name = _lua_string(args[0])
            if name is None:
                raise _lua_error(engine, b"first argument to redis.register_function must be a string")
            if lua_type_name(args[1]) != "function":
                raise _lua_error(engine, b"second argument to redis.register_function must be a function")
            description, flags, closure = None, 0, args[1]
        library = loading.library
        if not _is_valid_name(name):
            # Redis 7.0 words this one as for library names too.
            raise _lua_error(engine, _BAD_NAME)
        if name in library.functions:
            raise _lua_error(engine, b"Function already exists in the library")
        library.functions[name] = Function(name, library, description, flags, closure)

    def _named_arguments(self, engine: LuaEngine, table: Any) -> tuple:
        if lua_type_name(table) != "table":
            raise _lua_error(
                engine,
                b"calling redis.register_function with a single argument is only applicable to "
                b"Lua table (representing named arguments).",
            )
        name = description = closure = None
        flags = 0
        for key, value in table.items():
            key_text = _lua_string(key)
            if key_text is None:
                raise _lua_error(engine, b"named argument key given to redis.register_function is not a string")
            key_text = key_text.split(b"\0", 1)[0].lower()
            if key_text == b"function_name":
                name = _lua_string(value)
                if name is None:
                    raise _lua_error(engine, b"function_name argument given to redis.register_function must be a string")
            elif key_text == b"description":
                description = _lua_string(value)
                if description is None:
                    raise _lua_error(engine, b"description argument given to redis.register_function must be a string")
            elif key_text == b"callback":
                if lua_type_name(value) != "function":
                    raise _lua_error(engine, b"callback argument given to redis.register_function must be a function")
                closure = value
            elif key_text == b"flags":
                if lua_type_name(value) != "table":
                    raise _lua_error(engine, b"flags argument to redis.register_function must be a table representing function flags")
                flags = _read_flags(engine, value)
            else:
                raise _lua_error(engine, b"unknown argument given to redis.register_function")
        if name is None:
            raise _lua_error(engine, b"redis.register_function must get a function name argument")
        if closure is None:
            raise _lua_error(engine, b"redis.register_function must get a callback argument")
        return name, description, flags, closure

    # -- FUNCTION subcommands ---------------------------------------------------------------------

    def delete(self, name: bytes) -> None:
        library = self.current.libraries.get(name)
        if library is None:
            raise RedisError("ERR Library not found")
        self.current.unlink(library)

    def flush(self) -> None:
        self.current = Libraries()

    def dump(self) -> bytes:
        compress = bool(self.scripting.server.config.rdbcompression)
        parts = []
        for library in self.current.libraries.values():
            parts.append(bytes((RDB_OPCODE_FUNCTION2,)))
            parts.append(encode_string(library.code, compress))
        parts.append(struct.pack("<H", RDB_VERSION))
        payload = b"".join(parts)
        return payload + struct.pack("<Q", crc64(payload))

    def restore(self, payload: bytes, policy: bytes) -> None:
        if not _verify_payload(payload):
            raise RedisError("ERR DUMP payload version or checksum are wrong")
        restored = Libraries()
        reader = RdbReader(payload)
        while len(payload) - reader.pos > 10:
            kind = reader.read_byte()
            if kind == RDB_OPCODE_FUNCTION_PRE_GA:
                raise RedisError("ERR Pre-GA function format not supported")
            if kind != RDB_OPCODE_FUNCTION2:
                raise RedisError("ERR given type is not a function")
            try:
                code = reader.read_string()
            except RdbFormatError:
                raise RedisError("ERR Failed loading library payload") from None
            self.create(code, False, restored)
        if policy == b"flush":
            self.current = restored
            return
        self._join(restored, policy == b"replace")

    def _join(self, source: Libraries, replace: bool) -> None:
        """Add every library of ``source``, all or nothing (Redis's libraryJoin)."""
        current = self.current
        replaced: list[Library] = []
        try:
            for library in source.libraries.values():
                old = current.libraries.get(library.name)
                if old is not None:
                    if not replace:
                        raise ScriptError(b"ERR Library %s already exists" % library.name)
                    current.unlink(old)
                    replaced.append(old)
            for key, function in source.functions.items():
                if key in current.functions:
                    raise ScriptError(b"ERR Function %s already exists" % _c_bytes(function.name))
        except RedisError:
            for old in replaced:
                current.link(old)
            raise
        for library in source.libraries.values():
            current.link(library)


def _library_metadata(code: bytes) -> tuple[bytes, bytes, bytes]:
    """(engine, library name, code after the shebang line) from "#!lua name=..." (Redis's
    functionExtractLibMetaData); RedisError when the metadata is missing or wrong."""
    from ..resp.reader import split_args

    if not code.startswith(b"#!"):
        raise RedisError("ERR Missing library metadata")
    end = code.split(b"\0", 1)[0].find(b"\n")
    if end < 0:
        raise RedisError("ERR Invalid library metadata")
    parts = split_args(code[:end])
    if not parts:
        raise RedisError("ERR Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise RedisError("ERR Invalid metadata value, name argument was given multiple times")
            name = part[5:]
            continue
        raise ScriptError(b"ERR Invalid metadata value given: " + _c_bytes(part))
    if name is None:
        raise RedisError("ERR Library name was not given")
    return engine, name, code[end:]


def _verify_payload(payload: bytes) -> bool:
    if len(payload) < 10:
        return False
    version = struct.unpack("<H", payload[-10:-8])[0]
    if version > RDB_VERSION:
        return False
    return struct.pack("<Q", crc64(payload[:-8])) == payload[-8:]


def _lua_string(value: Any) -> bytes | None:
    """lua_isstring + lua_tostring: strings, and numbers as Lua prints them."""
    cls = value.__class__
    if cls is bytes:
        return value
    if cls is int or cls is float:
        return number_text(float(value))
    return None


def _lua_error(engine: LuaEngine, message: bytes) -> LuaRaise:
    return LuaRaise(engine.error_table(message))


def _read_flags(engine: LuaEngine, table: Any) -> int:
    flags = 0
    index = 1
    while True:
        value = table[index]
        if value is None:
            break
        text = _lua_string(value)
        if text is None:
            raise _lua_error(engine, b"unknown flag given")
        text = text.split(b"\0", 1)[0].lower()
        bit = next((b for b, n in FLAG_NAMES if n == text), None)
        if bit is None:
            raise _lua_error(engine, b"unknown flag given")
        flags |= bit
        index += 1
    return flags


__all__ = ["Function", "Functions", "Libraries", "Library", "ENGINE_NAME"]
