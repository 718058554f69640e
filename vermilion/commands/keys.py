"""Generic keyspace commands: existence, deletion, iteration, renaming, expiry, OBJECT.

Expiry rules follow Redis: lookups expire keys lazily through ``Db``; KEYS hides logically
expired keys without deleting them, SCAN and RANDOMKEY delete the expired keys they meet, and
DBSIZE counts every key still stored (expired or not) until it is reclaimed.
"""

from __future__ import annotations

from .. import glob
from ..errors import (
    CURSOR,
    DB_INDEX,
    EXPIRE_OPTIONS,
    GT_LT,
    INVALID_FIRST_DB,
    INVALID_SECOND_DB,
    LFU_NOT_SELECTED,
    LFU_SELECTED,
    NO_SUCH_KEY,
    NOT_INTEGER,
    SAME_OBJECT,
    SYNTAX,
    RedisError,
    int_out_of_range,
    invalid_expire,
    unsupported_option,
)
from ..eviction import key_frequency
from ..keyspace.db import now_ms
from ..notify import NOTIFY_GENERIC, notify
from ..propagate import force_propagation
from ..registry import command
from ..resp.encode import MINUS_ONE, MINUS_TWO, OK, ONE, ZERO, bulk, integer, null, simple
from ..types import copy_value, encoding_name, refcount, type_name
from ..types.string import INT64_MAX, INT64_MIN, parse_int
from .strings import c_option

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
UINT64_MASK = (1 << 64) - 1
_C_SPACES = b" \t\n\v\f\r"


# -- existence and deletion ----------------------------------------------------------------------


def _delete_keys(client, keys: list[bytes]) -> bytes:
    db = client.db
    expires = db.expires
    removed = 0
    for key in keys:
        if expires and key in expires:
            db.lookup_write(key)  # an expired key is reclaimed as expired, not counted deleted
        if db.delete(key):
            notify(db, NOTIFY_GENERIC, b"del", key)
            removed += 1
    return integer(removed)


@command("del")
def del_(client, argv):
    return _delete_keys(client, argv[1:])


@command("unlink")
def unlink(client, argv):
    return _delete_keys(client, argv[1:])


@command("exists")
def exists(client, argv):
    lookup = client.db.lookup_read_notouch
    found = 0
    for key in argv[1:]:
        if lookup(key) is not None:
            found += 1
    return integer(found)


@command("touch")
def touch(client, argv):
    lookup = client.db.lookup_read
    found = 0
    for key in argv[1:]:
        if lookup(key) is not None:
            found += 1
    return integer(found)


@command("type")
def type_(client, argv):
    return simple(type_name(client.db.lookup_read_notouch(argv[1])))


@command("dbsize")
def dbsize(client, argv):
    return integer(len(client.db.data))


# -- iteration -----------------------------------------------------------------------------------


@command("keys")
def keys(client, argv):
    db = client.db
    pattern = argv[1]
    expires = db.expires
    now = now_ms()
    # A bare "*" skips the matcher (which would not match the empty key), as in Redis.
    candidates = db.data if pattern == b"*" else filter(glob.compile(pattern), db.data)
    if expires:
        # Logically expired keys are hidden, not reclaimed (Redis: now > expire time).
        get = expires.get
        found = [key for key in candidates if (when := get(key)) is None or when >= now]
    else:
        found = list(candidates)
    return b"*%d\r\n" % len(found) + b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in found)


def parse_cursor(arg: bytes) -> int:
    """A SCAN cursor as Redis reads it with strtoul: an unsigned 64-bit decimal, '-' wrapping
    around, nothing (or a NUL) after the digits, no leading space."""
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    if not arg:
        return 0
    if arg[0] in _C_SPACES:
        raise RedisError(CURSOR)
    sign = arg[:1]
    digits = arg[1:] if sign in (b"+", b"-") else arg
    if not digits.isdigit():
        raise RedisError(CURSOR)
    digits = digits.lstrip(b"0") or b"0"
    if len(digits) > 20:
        raise RedisError(CURSOR)
    value = int(digits)
    if value > UINT64_MASK:
        raise RedisError(CURSOR)
    return (-value) & UINT64_MASK if sign == b"-" else value


@command("scan")
def scan(client, argv):
    cursor = parse_cursor(argv[1])
    count = 10
    pattern = None
    wanted_type = None
    index = 2
    argc = len(argv)
    while index < argc:
        option = c_option(argv[index])
        if option == b"COUNT" and index + 1 < argc:
            count = parse_int(argv[index + 1])
            if count is None:
                raise RedisError(NOT_INTEGER)
            if count < 1:
                raise RedisError(SYNTAX)
        elif option == b"MATCH" and index + 1 < argc:
            pattern = argv[index + 1]
        elif option == b"TYPE" and index + 1 < argc:
            wanted_type = c_option(argv[index + 1])
        else:
            raise RedisError(SYNTAX)
        index += 2

    db = client.db
    next_cursor, batch = db.scan(cursor, count)
    matches = glob.compile(pattern) if pattern is not None and pattern != b"*" else None
    data = db.data
    expires = db.expires
    expire_allowed = client.server.expire_allowed()
    now = now_ms()
    found = []
    for key in batch:
        if key not in data:
            continue  # removed since the snapshot the cursor walks
        if matches is not None and not matches(key):
            continue
        if wanted_type is not None:
            # A real lookup, as Redis does: counts a hit or miss and may expire the key.
            if type_name(db.lookup_read_notouch(key)).upper() != wanted_type:
                continue
        when = expires.get(key)
        if when is not None and now > when:
            if expire_allowed:
                db.expire_key(key)
            continue
        found.append(key)
    cursor_text = b"%d" % next_cursor
    return b"*2\r\n$%d\r\n%s\r\n*%d\r\n%s" % (
        len(cursor_text), cursor_text, len(found),
        b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in found),
    )


@command("randomkey")
def randomkey(client, argv):
    db = client.db
    expire_allowed = client.server.expire_allowed()
    all_volatile = len(db.data) == len(db.expires)
    tries = 100
    while True:
        key = db.random_key()
        if key is None:
            return null(client.resp3)
        when = db.expires.get(key)
        if when is not None and now_ms() > when:
            if expire_allowed:
                db.expire_key(key)
                continue
            # Where keys cannot be reclaimed (a replica), give up after a while as Redis does.
            tries -= 1
            if not (all_volatile and tries == 0):
                continue
        return bulk(key)


# -- renaming and moving -------------------------------------------------------------------------


def _rename(client, argv, nx: bool) -> bytes:
    source, target = argv[1], argv[2]
    db = client.db
    if db.lookup_write(source) is None:
        raise RedisError(NO_SUCH_KEY)
    if source == target:
        return ZERO if nx else OK
    if nx and db.lookup_write(target) is not None:
        return ZERO
    db.rename(source, target)
    notify(db, NOTIFY_GENERIC, b"rename_from", source)
    notify(db, NOTIFY_GENERIC, b"rename_to", target)
    return ONE if nx else OK


@command("rename")
def rename(client, argv):
    return _rename(client, argv, False)


@command("renamenx")
def renamenx(client, argv):
    return _rename(client, argv, True)


def _int32(arg: bytes, message: str | None = None) -> int:
    value = parse_int(arg)
    if value is None:
        raise RedisError(message or NOT_INTEGER)
    if value < INT32_MIN or value > INT32_MAX:
        raise RedisError(message or int_out_of_range(INT32_MIN, INT32_MAX))
    return value


def _db_by_index(client, index: int):
    dbs = client.server.dbs
    if index < 0 or index >= len(dbs):
        raise RedisError(DB_INDEX)
    return dbs[index]


@command("copy")
def copy(client, argv):
    source_key, target_key = argv[1], argv[2]
    db = client.db
    target = db
    replace = False
    index = 3
    while index < len(argv):
        option = c_option(argv[index])
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and index + 1 < len(argv):
            index += 1
            target = _db_by_index(client, _int32(argv[index]))
        else:
            raise RedisError(SYNTAX)
        index += 1
    if target is db and source_key == target_key:
        raise RedisError(SAME_OBJECT)
    value = db.lookup_read(source_key)
    if value is None:
        return ZERO
    when = db.get_expire(source_key)
    if target.lookup_write(target_key) is not None and not replace:
        return ZERO
    target.add_copy(target_key, copy_value(value), when)
    notify(target, NOTIFY_GENERIC, b"copy_to", target_key)
    return ONE


@command("move")
def move(client, argv):
    key = argv[1]
    db = client.db
    target = _db_by_index(client, _int32(argv[2]))
    if target is db:
        raise RedisError(SAME_OBJECT)
    if db.lookup_write(key) is None:
        return ZERO
    if target.lookup_write(key) is not None:
        return ZERO
    db.move_key(key, target)
    notify(db, NOTIFY_GENERIC, b"move_from", key)
    notify(target, NOTIFY_GENERIC, b"move_to", key)
    return ONE


@command("swapdb")
def swapdb(client, argv):
    first = _int32(argv[1], INVALID_FIRST_DB)
    second = _int32(argv[2], INVALID_SECOND_DB)
    dbs = client.server.dbs
    if not (0 <= first < len(dbs) and 0 <= second < len(dbs)):
        raise RedisError(DB_INDEX)
    if first != second:
        dbs[first].swap_contents(dbs[second])
    client.server.dirty += 1
    return OK


def _flush_mode(argv: list[bytes]) -> None:
    """FLUSHDB/FLUSHALL accept one optional SYNC or ASYNC (freeing is immediate here anyway)."""
    if len(argv) > 2 or (len(argv) == 2 and c_option(argv[1]) not in (b"SYNC", b"ASYNC")):
        raise RedisError(SYNTAX)


@command("flushdb")
def flushdb(client, argv):
    _flush_mode(argv)
    client.server.dirty += client.db.flush()
    force_propagation(client.server)  # logged even when the database was already empty
    return OK


@command("flushall")
def flushall(client, argv):
    _flush_mode(argv)
    server = client.server
    for db in server.dbs:
        server.dirty += db.flush()
    force_propagation(server)  # logged even when every database was already empty
    # Redis 7.0: a running BGSAVE is killed and, with save points, the empty dataset saved.
    server.persistence.after_flushall()
    return OK


# -- expiry --------------------------------------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_OPTIONS = {b"NX": _NX, b"XX": _XX, b"GT": _GT, b"LT": _LT}
# C division truncates toward zero: the smallest number of seconds that fits in milliseconds.
_MIN_SECONDS = -(-INT64_MIN // 1000)


def _expire(client, argv, name: str, relative: bool, seconds: bool) -> bytes:
    flags = 0
    for arg in argv[3:]:
        flag = _EXPIRE_OPTIONS.get(c_option(arg))
        if flag is None:
            raise RedisError(unsupported_option(arg))
        flags |= flag
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise RedisError(EXPIRE_OPTIONS)
    if flags & _GT and flags & _LT:
        raise RedisError(GT_LT)
    when = parse_int(argv[2])
    if when is None:
        raise RedisError(NOT_INTEGER)
    if seconds:
        if when > INT64_MAX // 1000 or when < _MIN_SECONDS:
            raise RedisError(invalid_expire(name))
        when *= 1000
    now = now_ms()
    if relative:
        if when > INT64_MAX - now:
            raise RedisError(invalid_expire(name))
        when += now
    key = argv[1]
    db = client.db
    if db.lookup_write(key) is None:
        return ZERO
    if flags:
        current = db.get_expire(key)
        if flags & _NX and current is not None:
            return ZERO
        if flags & _XX and current is None:
            return ZERO
        if flags & _GT and (current is None or when <= current):
            return ZERO
        if flags & _LT and current is not None and when >= current:
            return ZERO
    server = client.server
    if when <= now_ms() and server.expire_allowed():
        db.delete(key)
        notify(db, NOTIFY_GENERIC, b"del", key)
        if server.propagation is not None:
            server.propagate_as(client, [[b"UNLINK" if server.config.lazyfree_lazy_expire else b"DEL", key]])
    else:
        db.set_expire(key, when)
        notify(db, NOTIFY_GENERIC, b"expire", key)
        if server.propagation is not None and name != "pexpireat":
            # Propagated as an absolute time (Redis's expireGenericCommand), options kept.
            server.propagate_as(client, [[b"PEXPIREAT", key, b"%d" % when, *argv[3:]]])
    return ONE


@command("expire")
def expire(client, argv):
    return _expire(client, argv, "expire", True, True)


@command("pexpire")
def pexpire(client, argv):
    return _expire(client, argv, "pexpire", True, False)


@command("expireat")
def expireat(client, argv):
    return _expire(client, argv, "expireat", False, True)


@command("pexpireat")
def pexpireat(client, argv):
    return _expire(client, argv, "pexpireat", False, False)


def _ttl(client, key: bytes, milliseconds: bool, absolute: bool) -> bytes:
    db = client.db
    if db.lookup_read_notouch(key) is None:
        return MINUS_TWO
    when = db.get_expire(key)
    if when is None:
        return MINUS_ONE
    remaining = when if absolute else when - now_ms()
    if remaining < 0:
        remaining = 0
    return integer(remaining if milliseconds else (remaining + 500) // 1000)


@command("ttl")
def ttl(client, argv):
    return _ttl(client, argv[1], False, False)


@command("pttl")
def pttl(client, argv):
    return _ttl(client, argv[1], True, False)


@command("expiretime")
def expiretime(client, argv):
    return _ttl(client, argv[1], False, True)


@command("pexpiretime")
def pexpiretime(client, argv):
    return _ttl(client, argv[1], True, True)


@command("persist")
def persist(client, argv):
    db = client.db
    if db.lookup_write(argv[1]) is None:
        return ZERO
    if not db.persist(argv[1]):
        return ZERO
    notify(db, NOTIFY_GENERIC, b"persist", argv[1])
    return ONE


# -- OBJECT --------------------------------------------------------------------------------------

_OBJECT_HELP = [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Name the internal representation the value stored at <key> currently uses.",
    "FREQ <key>",
    "    The logarithmic access-frequency counter of <key>; needs an LFU maxmemory-policy.",
    "IDLETIME <key>",
    "    Seconds since <key> was last read or written; not available under LFU policies.",
    "REFCOUNT <key>",
    "    How many references the server holds to the value stored at <key>.",
    "HELP",
    "    Print this help.",
]
_OBJECT_HELP_REPLY = b"*%d\r\n" % len(_OBJECT_HELP) + b"".join(
    b"+" + line.encode() + b"\r\n" for line in _OBJECT_HELP
)


def _policy(client) -> str:
    return str(getattr(client.server.config, "maxmemory_policy", "noeviction"))


def _object_lookup(client, key: bytes):
    return client.db.lookup_read_silent(key)


@command("object|help")
def object_help(client, argv):
    return _OBJECT_HELP_REPLY


@command("object|encoding")
def object_encoding(client, argv):
    value = _object_lookup(client, argv[2])
    if value is None:
        return null(client.resp3)
    return bulk(encoding_name(value))


@command("object|refcount")
def object_refcount(client, argv):
    value = _object_lookup(client, argv[2])
    if value is None:
        return null(client.resp3)
    config = client.server.config
    # Redis stops sharing small integers when a memory limit comes with an LRU/LFU policy.
    shared = not (getattr(config, "maxmemory", 0) and ("lru" in _policy(client) or "lfu" in _policy(client)))
    return integer(refcount(value, shared))


@command("object|idletime")
def object_idletime(client, argv):
    key = argv[2]
    value = _object_lookup(client, key)
    if value is None:
        return null(client.resp3)
    if "lfu" in _policy(client):
        raise RedisError(LFU_SELECTED)
    clock = client.server.lru_clock
    return integer(max(0, clock - client.db.access.get(key, clock)))


@command("object|freq")
def object_freq(client, argv):
    key = argv[2]
    value = _object_lookup(client, key)
    if value is None:
        return null(client.resp3)
    if "lfu" not in _policy(client):
        raise RedisError(LFU_NOT_SELECTED)
    return integer(key_frequency(client.db, key))
