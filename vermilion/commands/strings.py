"""String commands.

SET, SETNX, SETEX, PSETEX and GETEX share one option parser and one expiry computation, as in
Redis (parseExtendedStringArgumentsOrReply / getExpireMillisecondsOrReply). Values are stored as
``bytes``; APPEND and SETRANGE turn a value into a ``bytearray`` (Redis's unshared "raw" string)
and then grow it in place.
"""

from __future__ import annotations

from ..errors import (
    DECREMENT_OVERFLOW,
    INCR_FLOAT_NAN,
    LCS_LEN_AND_IDX,
    LCS_NOT_STRINGS,
    LCS_TOO_LONG,
    NOT_FLOAT,
    NOT_INTEGER,
    OFFSET_OUT_OF_RANGE,
    OVERFLOW,
    STRING_TOO_LONG,
    SYNTAX,
    WRONGTYPE,
    RedisError,
    invalid_expire,
    wrong_arity,
)
from ..keyspace.db import now_ms
from ..notify import NOTIFY_GENERIC, NOTIFY_STRING, notify
from ..registry import command
from ..resp.encode import (
    BULK_HEADER_LIMIT,
    BULK_HEADERS,
    EMPTY_BULK,
    NULL2,
    NULL3,
    OK,
    ONE,
    ZERO,
    bulk,
    integer,
    map_,
)
from ..types.string import (
    INT64_MAX,
    INT64_MIN,
    add_long_double,
    format_long_double_human,
    parse_int,
    parse_long_double,
)

# Option flags of SET / GETEX (Redis's OBJ_SET_NX, OBJ_EX, ...).
NX, XX, GET, KEEPTTL, PERSIST, EX, PX, EXAT, PXAT = (1 << bit for bit in range(9))
_EXPIRY = EX | PX | EXAT | PXAT
_RELATIVE = EX | PX
_IN_SECONDS = EX | EXAT


def c_option(arg: bytes) -> bytes:
    """An option word as Redis compares it: case-insensitively, as a C string (up to a NUL)."""
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    return arg.upper()


def _is_string(value) -> bool:
    cls = value.__class__
    return cls is bytes or cls is bytearray


def _null(client) -> bytes:
    return NULL3 if client.resp3 else NULL2


def parse_set_options(argv: list[bytes], start: int, for_set: bool) -> tuple[int, bytes | None]:
    """The flags and expiry argument of SET (``for_set``) or GETEX, from ``argv[start:]``.

    Repeating an option is allowed (the last value wins); conflicting ones are a syntax error.
    """
    flags = 0
    expire = None
    index = start
    count = len(argv)
    while index < count:
        option = c_option(argv[index])
        has_value = index + 1 < count
        if option == b"NX" and for_set and not flags & XX:
            flags |= NX
        elif option == b"XX" and for_set and not flags & NX:
            flags |= XX
        elif option == b"GET" and for_set:
            flags |= GET
        elif option == b"KEEPTTL" and for_set and not flags & (PERSIST | _EXPIRY):
            flags |= KEEPTTL
        elif option == b"PERSIST" and not for_set and not flags & (KEEPTTL | _EXPIRY):
            flags |= PERSIST
        elif option == b"EX" and has_value and not flags & (KEEPTTL | PERSIST | EXAT | PX | PXAT):
            flags |= EX
            index += 1
            expire = argv[index]
        elif option == b"PX" and has_value and not flags & (KEEPTTL | PERSIST | EX | EXAT | PXAT):
            flags |= PX
            index += 1
            expire = argv[index]
        elif option == b"EXAT" and has_value and not flags & (KEEPTTL | PERSIST | EX | PX | PXAT):
            flags |= EXAT
            index += 1
            expire = argv[index]
        elif option == b"PXAT" and has_value and not flags & (KEEPTTL | PERSIST | EX | EXAT | PX):
            flags |= PXAT
            index += 1
            expire = argv[index]
        else:
            raise RedisError(SYNTAX)
        index += 1
    return flags, expire


def expire_time_ms(arg: bytes, flags: int, command_name: str) -> int:
    """The absolute expiry (unix ms) that ``arg`` means under ``flags``; Redis's errors for
    non-integers, values <= 0 and overflow."""
    when = parse_int(arg)
    if when is None:
        raise RedisError(NOT_INTEGER)
    seconds = flags & _IN_SECONDS
    if when <= 0 or (seconds and when > INT64_MAX // 1000):
        raise RedisError(invalid_expire(command_name))
    if seconds:
        when *= 1000
    if flags & _RELATIVE:
        when += now_ms()
        if when > INT64_MAX:
            raise RedisError(invalid_expire(command_name))
    return when


def _set_generic(client, key: bytes, value: bytes, flags: int, expire: bytes | None,
                 command_name: str, ok_reply: bytes | None, abort_reply: bytes | None) -> bytes:
    when = expire_time_ms(expire, flags, command_name) if expire is not None else None
    db = client.db
    reply = None
    if flags & GET:
        old = db.lookup_read(key)
        if old is None:
            reply = _null(client)
        elif _is_string(old):
            reply = b"$%d\r\n%s\r\n" % (len(old), old)
        else:
            raise RedisError(WRONGTYPE)
    found = db.lookup_write(key) is not None
    if flags & (NX | XX):
        if (flags & NX and found) or (flags & XX and not found):
            if reply is not None:
                return reply
            return abort_reply if abort_reply is not None else _null(client)
    if when is not None:
        db.set_value_expiring(key, value, when)
        notify(db, NOTIFY_STRING, b"set", key)
        notify(db, NOTIFY_GENERIC, b"expire", key)
        server = db.server
        if server.propagation is not None:
            # Propagated with an absolute time, other options dropped (setGenericCommand).
            server.propagate_as(client, [[b"SET", key, value, b"PXAT", b"%d" % when]])
    else:
        db.set_value(key, value, flags & KEEPTTL != 0)
        notify(db, NOTIFY_STRING, b"set", key)
    if reply is not None:
        return reply
    return ok_reply if ok_reply is not None else OK


# -- GET / SET family ----------------------------------------------------------------------------


@command("get")
def get(client, argv):
    value = client.db.lookup_read(argv[1])
    if value.__class__ is bytes or value.__class__ is bytearray:
        size = len(value)
        if size < BULK_HEADER_LIMIT:
            return BULK_HEADERS[size] + value + b"\r\n"
        return b"$%d\r\n%s\r\n" % (size, value)
    if value is None:
        return NULL3 if client.resp3 else NULL2
    raise RedisError(WRONGTYPE)


@command("set")
def set_(client, argv):
    if len(argv) == 3:
        db = client.db
        if db.expires and argv[1] in db.expires:
            db.lookup_write(argv[1])  # an expired key is reclaimed (and counted) first, as in Redis
        db.set_value(argv[1], argv[2])
        if db.server.notify_flags:
            notify(db, NOTIFY_STRING, b"set", argv[1])
        return OK
    flags, expire = parse_set_options(argv, 3, True)
    server = client.server
    if flags & GET and expire is None and server.propagation is not None:
        # Propagated without its GET (an expiry rewrites the whole command instead).
        server.propagate_as(client, [argv[:3] + [arg for arg in argv[3:] if c_option(arg) != b"GET"]])
    return _set_generic(client, argv[1], argv[2], flags, expire, "set", None, None)


@command("setnx")
def setnx(client, argv):
    db = client.db
    if db.lookup_write(argv[1]) is not None:
        return ZERO
    db.set_value(argv[1], argv[2])
    notify(db, NOTIFY_STRING, b"set", argv[1])
    return ONE


@command("setex")
def setex(client, argv):
    return _set_generic(client, argv[1], argv[3], EX, argv[2], "setex", None, None)


@command("psetex")
def psetex(client, argv):
    return _set_generic(client, argv[1], argv[3], PX, argv[2], "psetex", None, None)


@command("getex")
def getex(client, argv):
    flags, expire = parse_set_options(argv, 2, False)
    key = argv[1]
    db = client.db
    value = db.lookup_read(key)
    if value is None:
        return _null(client)
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    when = expire_time_ms(expire, flags, "getex") if expire is not None else None
    reply = b"$%d\r\n%s\r\n" % (len(value), value)
    if when is not None:
        # An absolute time already past deletes the key (EX/PX are always in the future).
        server = client.server
        if flags & (EXAT | PXAT) and when <= now_ms() and server.expire_allowed():
            db.delete(key)
            notify(db, NOTIFY_GENERIC, b"del", key)
            if server.propagation is not None:
                server.propagate_as(client, [[b"UNLINK" if server.config.lazyfree_lazy_expire else b"DEL", key]])
        else:
            db.set_expire(key, when)
            notify(db, NOTIFY_GENERIC, b"expire", key)
            if server.propagation is not None:
                server.propagate_as(client, [[b"PEXPIREAT", key, b"%d" % when]])
    elif flags & PERSIST:
        if db.persist(key):
            notify(db, NOTIFY_GENERIC, b"persist", key)
            server = client.server
            if server.propagation is not None:
                server.propagate_as(client, [[b"PERSIST", key]])
    return reply


@command("getdel")
def getdel(client, argv):
    db = client.db
    value = db.lookup_read(argv[1])
    if value is None:
        return _null(client)
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    db.delete(argv[1])
    notify(db, NOTIFY_GENERIC, b"del", argv[1])
    server = client.server
    if server.propagation is not None:
        server.propagate_as(client, [[b"UNLINK" if server.config.lazyfree_lazy_user_del else b"DEL", argv[1]]])
    return b"$%d\r\n%s\r\n" % (len(value), value)


@command("getset")
def getset(client, argv):
    db = client.db
    value = db.lookup_read(argv[1])
    if value is None:
        reply = _null(client)
    elif _is_string(value):
        reply = b"$%d\r\n%s\r\n" % (len(value), value)
    else:
        raise RedisError(WRONGTYPE)
    db.set_value(argv[1], argv[2])
    notify(db, NOTIFY_STRING, b"set", argv[1])
    server = client.server
    if server.propagation is not None:
        server.propagate_as(client, [[b"SET", argv[1], argv[2]]])
    return reply


@command("mget")
def mget(client, argv):
    lookup = client.db.lookup_read
    null = _null(client)
    parts = [b"*%d\r\n" % (len(argv) - 1)]
    for key in argv[1:]:
        value = lookup(key)
        if value is None or (value.__class__ is not bytes and value.__class__ is not bytearray):
            parts.append(null)
        else:
            parts.append(b"$%d\r\n%s\r\n" % (len(value), value))
    return b"".join(parts)


@command("mset")
def mset(client, argv):
    if len(argv) % 2 == 0:
        raise RedisError(wrong_arity("mset"))
    db = client.db
    expires = db.expires
    for index in range(1, len(argv), 2):
        key = argv[index]
        if expires and key in expires:
            db.lookup_write(key)
        db.set_value(key, argv[index + 1])
        notify(db, NOTIFY_STRING, b"set", key)
    return OK


@command("msetnx")
def msetnx(client, argv):
    if len(argv) % 2 == 0:
        raise RedisError(wrong_arity("msetnx"))
    db = client.db
    for index in range(1, len(argv), 2):
        if db.lookup_write(argv[index]) is not None:
            return ZERO
    for index in range(1, len(argv), 2):
        db.set_value(argv[index], argv[index + 1])
        notify(db, NOTIFY_STRING, b"set", argv[index])
    return ONE


# -- length, ranges, appends ----------------------------------------------------------------------


def _check_length(client, size: int, extra: int) -> None:
    if size + extra > client.server.config.proto_max_bulk_len:
        raise RedisError(STRING_TOO_LONG)


@command("append")
def append(client, argv):
    key, tail = argv[1], argv[2]
    db = client.db
    value = db.lookup_write(key)
    if value is None:
        db.set_value(key, tail)
        notify(db, NOTIFY_STRING, b"append", key)
        return integer(len(tail))
    cls = value.__class__
    if cls is bytearray:
        _check_length(client, len(value), len(tail))
        value += tail
        db.modified(key)
    elif cls is bytes:
        _check_length(client, len(value), len(tail))
        value = bytearray(value)
        value += tail
        db.set_value(key, value, True)
    else:
        raise RedisError(WRONGTYPE)
    notify(db, NOTIFY_STRING, b"append", key)
    return integer(len(value))


@command("strlen")
def strlen(client, argv):
    value = client.db.lookup_read(argv[1])
    if value is None:
        return ZERO
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    return integer(len(value))


@command("getrange")
def getrange(client, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    if start is None or end is None:
        raise RedisError(NOT_INTEGER)
    value = client.db.lookup_read(argv[1])
    if value is None:
        return EMPTY_BULK
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return EMPTY_BULK
    if start < 0:
        start = max(size + start, 0)
    if end < 0:
        end = max(size + end, 0)
    if end >= size:
        end = size - 1
    if start > end or size == 0:
        return EMPTY_BULK
    return bulk(value[start : end + 1])


command("substr")(getrange)


@command("setrange")
def setrange(client, argv):
    key, patch = argv[1], argv[3]
    offset = parse_int(argv[2])
    if offset is None:
        raise RedisError(NOT_INTEGER)
    if offset < 0:
        raise RedisError(OFFSET_OUT_OF_RANGE)
    db = client.db
    value = db.lookup_write(key)
    end = offset + len(patch)
    if value is None:
        if not patch:
            return ZERO
        _check_length(client, offset, len(patch))
        value = bytearray(end)
        value[offset:] = patch
        db.set_value(key, value)
        notify(db, NOTIFY_STRING, b"setrange", key)
        return integer(end)
    cls = value.__class__
    if cls is not bytes and cls is not bytearray:
        raise RedisError(WRONGTYPE)
    if not patch:
        return integer(len(value))
    _check_length(client, offset, len(patch))
    if cls is bytes:
        grown = bytearray(value)
        if end > len(grown):
            grown.extend(bytes(end - len(grown)))
        grown[offset:end] = patch
        db.set_value(key, grown, True)
        notify(db, NOTIFY_STRING, b"setrange", key)
        return integer(len(grown))
    if end > len(value):
        value.extend(bytes(end - len(value)))
    value[offset:end] = patch
    db.modified(key)
    notify(db, NOTIFY_STRING, b"setrange", key)
    return integer(len(value))


# -- counters ------------------------------------------------------------------------------------


def _incr_by(client, key: bytes, delta: int) -> bytes:
    db = client.db
    value = db.lookup_write(key)
    if value is None:
        current = 0
    else:
        if value.__class__ is not bytes and value.__class__ is not bytearray:
            raise RedisError(WRONGTYPE)
        current = parse_int(value)
        if current is None:
            raise RedisError(NOT_INTEGER)
    result = current + delta
    if result > INT64_MAX or result < INT64_MIN:
        raise RedisError(OVERFLOW)
    # INCR keeps the key's TTL (Redis overwrites the value in place).
    db.set_value(key, b"%d" % result, True)
    notify(db, NOTIFY_STRING, b"incrby", key)
    return integer(result)


@command("incr")
def incr(client, argv):
    return _incr_by(client, argv[1], 1)


@command("decr")
def decr(client, argv):
    return _incr_by(client, argv[1], -1)


@command("incrby")
def incrby(client, argv):
    delta = parse_int(argv[2])
    if delta is None:
        raise RedisError(NOT_INTEGER)
    return _incr_by(client, argv[1], delta)


@command("decrby")
def decrby(client, argv):
    delta = parse_int(argv[2])
    if delta is None:
        raise RedisError(NOT_INTEGER)
    if delta == INT64_MIN:
        raise RedisError(DECREMENT_OVERFLOW)
    return _incr_by(client, argv[1], -delta)


@command("incrbyfloat")
def incrbyfloat(client, argv):
    key = argv[1]
    db = client.db
    value = db.lookup_write(key)
    if value is None:
        current = 0
    else:
        if not _is_string(value):
            raise RedisError(WRONGTYPE)
        current = parse_long_double(value)
        if current is None:
            raise RedisError(NOT_FLOAT)
    increment = parse_long_double(argv[2])
    if increment is None:
        raise RedisError(NOT_FLOAT)
    total = add_long_double(current, increment)
    if total is None:
        raise RedisError(INCR_FLOAT_NAN)
    text = format_long_double_human(total)
    db.set_value(key, text, True)
    notify(db, NOTIFY_STRING, b"incrbyfloat", key)
    server = client.server
    if server.propagation is not None:
        # The result, not the increment: float arithmetic may differ where the AOF is replayed.
        server.propagate_as(client, [[b"SET", key, text, b"KEEPTTL"]])
    return bulk(text)


# -- LCS -----------------------------------------------------------------------------------------


def _lcs_rows(a: bytes, b: bytes) -> list[int]:
    """Rows of the LCS table in bit-parallel form (Hyyro's algorithm): in ``rows[i]`` bit ``j``
    is clear exactly when LCS(a[:i], b[:j+1]) == LCS(a[:i], b[:j]) + 1."""
    width = len(b)
    full = (1 << width) - 1
    masks: dict[int, int] = {}
    for byte in set(b):
        table = bytearray(b"0" * 256)
        table[byte] = 49  # '1'
        masks[byte] = int(b.translate(table)[::-1], 2)
    row = full
    rows = [row]
    for byte in a:
        matched = row & masks.get(byte, 0)
        row = ((row + matched) | (row - matched)) & full
        rows.append(row)
    return rows


def _lcs_len(rows: list[int], i: int, j: int) -> int:
    return j - (rows[i] & ((1 << j) - 1)).bit_count()


@command("lcs")
def lcs(client, argv):
    db = client.db
    a = db.lookup_read(argv[1])
    b = db.lookup_read(argv[2])
    if (a is not None and not _is_string(a)) or (b is not None and not _is_string(b)):
        raise RedisError(LCS_NOT_STRINGS)
    a = bytes(a) if a is not None else b""
    b = bytes(b) if b is not None else b""
    want_idx = want_len = with_match_len = False
    min_match_len = 0
    index = 3
    while index < len(argv):
        option = c_option(argv[index])
        if option == b"IDX":
            want_idx = True
        elif option == b"LEN":
            want_len = True
        elif option == b"WITHMATCHLEN":
            with_match_len = True
        elif option == b"MINMATCHLEN" and index + 1 < len(argv):
            index += 1
            min_match_len = parse_int(argv[index])
            if min_match_len is None:
                raise RedisError(NOT_INTEGER)
            min_match_len = max(min_match_len, 0)
        else:
            raise RedisError(SYNTAX)
        index += 1
    if want_idx and want_len:
        raise RedisError(LCS_LEN_AND_IDX)
    if len(a) >= 0xFFFFFFFE or len(b) >= 0xFFFFFFFE:
        raise RedisError(LCS_TOO_LONG)

    rows = _lcs_rows(a, b)
    total = _lcs_len(rows, len(a), len(b))
    if want_len:
        return integer(total)

    # Walk back from the end of both strings as Redis does, collecting the common bytes and
    # the matching ranges (in the order Redis emits them: last range first).
    result = bytearray(total)
    pos = total
    ranges: list[bytes] = []
    unset = len(a)
    a_start = unset
    a_end = b_start = b_end = 0
    i, j = len(a), len(b)
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[pos - 1] = a[i - 1]
            if a_start == unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            pos -= 1
            i -= 1
            j -= 1
        else:
            if _lcs_len(rows, i - 1, j) > _lcs_len(rows, i, j - 1):
                i -= 1
            else:
                j -= 1
            if a_start != unset:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if want_idx and (min_match_len == 0 or match_len >= min_match_len):
                entry = b"*%d\r\n*2\r\n:%d\r\n:%d\r\n*2\r\n:%d\r\n:%d\r\n" % (
                    3 if with_match_len else 2, a_start, a_end, b_start, b_end,
                )
                if with_match_len:
                    entry += b":%d\r\n" % match_len
                ranges.append(entry)
            a_start = unset
    if want_idx:
        matches = b"*%d\r\n" % len(ranges) + b"".join(ranges)
        return map_([(b"$7\r\nmatches\r\n", matches), (b"$3\r\nlen\r\n", integer(total))], client.resp3)
    return bulk(bytes(result))
