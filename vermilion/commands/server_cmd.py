"""Server commands: INFO, TIME, SHUTDOWN and DEBUG."""

from __future__ import annotations

import time
from typing import Any

from .. import errors, info, types
from ..errors import RedisError
from ..persistence.rdbstring import encode_string
from ..registry import command
from ..resp.encode import OK, simple, verbatim
from ..types.string import parse_int
from .connection import help_reply, subcommand_syntax_error

# -- INFO and TIME --------------------------------------------------------------------------------


@command("info")
def info_(client, argv):
    sections = info.select_sections(argv[1:])
    text = info.info_text(client.server, sections)
    return verbatim(text.encode("utf-8", "replace"), client.resp3)


@command("time")
def time_(client, argv):
    now_us = time.time_ns() // 1000
    seconds = b"%d" % (now_us // 1_000_000)
    micros = b"%d" % (now_us % 1_000_000)
    return b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(seconds), seconds, len(micros), micros)


# -- SHUTDOWN ---------------------------------------------------------------------------------------


@command("shutdown")
def shutdown(client, argv):
    options: set[bytes] = set()
    for arg in argv[1:]:
        option = arg.lower()
        if option not in (b"nosave", b"save", b"now", b"force", b"abort"):
            raise RedisError(errors.SYNTAX)
        options.add(option)
    abort = b"abort" in options
    if (abort and len(options) > 1) or (b"nosave" in options and b"save" in options):
        raise RedisError(errors.SYNTAX)
    server = client.server
    if abort:
        # Shutting down never waits here (no replicas to catch up), so there is nothing to abort.
        raise RedisError(errors.NO_SHUTDOWN_IN_PROGRESS)
    # The connection closes with the server; Redis sends no reply either. The final save
    # (vermilion.persistence.saving) failing keeps the server up.
    if not server.request_shutdown(0, options):
        raise RedisError(errors.SHUTDOWN_FAILED)
    return None


# -- DEBUG ---------------------------------------------------------------------------------------------


def _debug_allowed(client: Any) -> bool:
    setting = client.server.config.enable_debug_command
    if setting in (True, "yes"):
        return True
    if setting == "local":
        address = client.address
        return client.is_unix or address.startswith("127.") or address.startswith("[::1]:")
    return False


def string_serialized_length(value: bytes | bytearray, compression: bool = True) -> int:
    """Bytes an RDB file spends on a string value (Redis's rdbSaveStringObject)."""
    return len(encode_string(bytes(value), compression))


def serialized_length(server: Any, value: Any) -> int:
    if types.is_string(value):
        compression = getattr(server.config, "rdbcompression", True) in (True, "yes")
        return string_serialized_length(value, compression)
    return value.serialized_length()


def _debug_object(client: Any, key: bytes) -> bytes:
    db = client.db
    # Redis reads the dict directly: no expiry check, no access-time update.
    value = db.data.get(key)
    if value is None:
        raise RedisError(errors.NO_SUCH_KEY)
    server = client.server
    policy = getattr(server.config, "maxmemory_policy", "noeviction")
    shared = not (getattr(server.config, "maxmemory", 0) and ("lru" in policy or "lfu" in policy))
    lru = db.access.get(key, server.lru_clock)
    idle = max(0, server.lru_clock - lru)
    extra = value.debug_object_extra() if hasattr(value, "debug_object_extra") else ""
    text = (
        f"Value at:{hex(id(value))} refcount:{types.refcount(value, shared)} "
        f"encoding:{types.encoding_name(value).decode()} "
        f"serializedlength:{serialized_length(server, value)} "
        f"lru:{lru & info.LRU_CLOCK_MAX} lru_seconds_idle:{idle}{extra}"
    )
    return simple(text)


_DEBUG_HELP = [
    "LOG <message>",
    "    Write <message> to the server log, at warning level.",
    "OBJECT <key>",
    "    Describe how the value at <key> is stored (encoding, size when saved, last access).",
    "RELOAD [option ...]",
    "    Save the RDB on disk and load it back into memory. Options:",
    "    * MERGE: keys of the file replace keys already present.",
    "    * NOFLUSH: keep the current data; a key of the file already present fails the reload",
    "      (unless MERGE).",
    "    * NOSAVE: do not save first: load the file as it is on disk.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    0 stops removing expired keys in the background (they still expire when read); 1 resumes.",
    "SLEEP <seconds>",
    "    Block the whole server for <seconds> (fractions allowed).",
]
_DEBUG_HELP_REPLY = help_reply(b"debug", _DEBUG_HELP)


@command("debug")
def debug(client, argv):
    if not _debug_allowed(client):
        raise RedisError(errors.DEBUG_DISABLED)
    sub = argv[1].lower()
    argc = len(argv)
    if sub == b"help":
        return _DEBUG_HELP_REPLY
    if sub == b"object" and argc == 3:
        return _debug_object(client, argv[2])
    if sub == b"sleep" and argc == 3:
        time.sleep(max(0.0, _c_strtod(argv[2])))
        return OK
    if sub == b"set-active-expire" and argc == 3:
        client.server.active_expire_enabled = _c_atoi(argv[2]) != 0
        return OK
    if sub == b"reload":
        client.server.persistence.debug_reload(argv)
        return OK
    if sub == b"log" and argc == 3:
        client.server.log("warning", "DEBUG LOG: " + argv[2].decode("utf-8", "replace"))
        return OK
    raise RedisError(subcommand_syntax_error(argv))


def _leading_number(value: bytes, allowed: bytes) -> bytes:
    # C's atoi/strtod read the longest numeric prefix after leading spaces and ignore the rest.
    text = value.lstrip(b" \t\n\v\f\r")
    end = 0
    while end < len(text) and text[end : end + 1] in allowed:
        end += 1
    return text[:end]


def _c_atoi(value: bytes) -> int:
    prefix = _leading_number(value, b"0123456789+-")
    sign = 1
    if prefix[:1] in (b"+", b"-"):
        sign = -1 if prefix[:1] == b"-" else 1
        prefix = prefix[1:]
    digits = b""
    for byte in prefix:
        if not 48 <= byte <= 57:
            break
        digits += bytes([byte])
    return sign * int(digits) if digits else 0


def _c_strtod(value: bytes) -> float:
    prefix = _leading_number(value, b"0123456789+-.eE")
    # Shorten until it parses: strtod stops at the first character that breaks the number.
    while prefix:
        try:
            return float(prefix)
        except ValueError:
            prefix = prefix[:-1]
    return 0.0
