"""Server commands: INFO, TIME, SHUTDOWN and DEBUG."""

from __future__ import annotations

import time
from typing import Any

from .. import errors, info, types
from ..errors import RedisError
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
    if b"save" in options:
        server.log("warning", "SHUTDOWN SAVE: no persistence is configured, nothing to save.")
    # The connection closes with the server; Redis sends no reply either.
    server.request_shutdown(0)
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


def _length_size(length: int) -> int:
    """Bytes of an RDB length prefix."""
    if length < 1 << 6:
        return 1
    if length < 1 << 14:
        return 2
    if length <= 0xFFFFFFFF:
        return 5
    return 9


def _integer_size(number: int) -> int:
    """Bytes of an RDB integer-encoded string (0: does not fit 32 bits)."""
    if -(1 << 7) <= number < 1 << 7:
        return 2
    if -(1 << 15) <= number < 1 << 15:
        return 3
    if -(1 << 31) <= number < 1 << 31:
        return 5
    return 0


_LZF_MAX_LITERAL = 32
_LZF_MAX_OFFSET = 1 << 13
_LZF_MAX_REFERENCE = (1 << 8) + (1 << 3)


def _lzf_index(hval: int) -> int:
    return ((hval >> 8) - hval * 5) & 0xFFFF


def lzf_compressed_size(data: bytes, out_len: int) -> int:
    """The size liblzf's compressor (as Redis builds it: 16-bit hash table, VERY_FAST) gives for
    ``data`` within ``out_len`` bytes; 0 when the result would not fit. Only the size is computed:
    DEBUG OBJECT reports it as part of serializedlength."""
    size = len(data)
    if not size or not out_len:
        return 0
    table: dict[int, int] = {}
    ip = 0
    op = 1  # the first literal run's header byte is reserved
    literals = 0
    hval = (data[0] << 8) | data[1] if size > 1 else data[0] << 8
    while ip < size - 2:
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
        slot = _lzf_index(hval)
        ref = table.get(slot)
        table[slot] = ip
        if (
            ref is not None
            and ip - ref - 1 < _LZF_MAX_OFFSET
            and ref > 0
            and data[ref + 2] == data[ip + 2]
            and data[ref] == data[ip]
            and data[ref + 1] == data[ip + 1]
        ):
            length = 2
            maxlen = min(size - ip - length, _LZF_MAX_REFERENCE)
            if op + 4 >= out_len and op - (0 if literals else 1) + 4 >= out_len:
                return 0
            if not literals:
                op -= 1  # an empty literal run is dropped
            stopped = False
            if maxlen > 16:
                # liblzf compares the next 16 bytes unrolled, without the maxlen bound
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
            length -= 2
            ip += 1
            op += 2 if length < 7 else 3
            literals = 0
            op += 1  # the next literal run's header
            ip += length + 1
            if ip >= size - 2:
                break
            ip -= 2
            hval = (data[ip] << 8) | data[ip + 1]
            for _ in range(2):
                hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
                table[_lzf_index(hval)] = ip
                ip += 1
        else:
            if op >= out_len:
                return 0
            literals += 1
            op += 1
            ip += 1
            if literals == _LZF_MAX_LITERAL:
                literals = 0
                op += 1
    if op + 3 > out_len:
        return 0
    while ip < size:
        literals += 1
        op += 1
        ip += 1
        if literals == _LZF_MAX_LITERAL:
            literals = 0
            op += 1
    if not literals:
        op -= 1
    return op


def string_serialized_length(value: bytes | bytearray, compression: bool = True) -> int:
    """Bytes an RDB file spends on a string value (Redis's rdbSaveStringObject)."""
    size = len(value)
    if size <= 11:
        number = parse_int(value)
        if number is not None:
            encoded = _integer_size(number)
            if encoded:
                return encoded
    if compression and size > 20:
        compressed = lzf_compressed_size(bytes(value), size - 4) if size > 4 else 0
        if compressed:
            return 1 + _length_size(compressed) + _length_size(size) + compressed
    return _length_size(size) + size


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
