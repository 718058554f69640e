"""Hash commands.

Follows Redis 7.0's t_hash.c: the order of argument checks and key lookups, the keyspace events
(hset, hdel, hincrby, hincrbyfloat, del), one change counted per field written or removed, and
the listpack -> hash table conversion rules that OBJECT ENCODING, HSCAN and HRANDFIELD expose
(see ``types.hash``).
"""

from __future__ import annotations

from .. import glob
from ..errors import (
    HASH_VALUE_NOT_FLOAT,
    HASH_VALUE_NOT_INTEGER,
    INCR_FLOAT_NAN,
    NOT_FLOAT,
    NOT_INTEGER,
    OVERFLOW,
    SYNTAX,
    VALUE_NAN_OR_INFINITY,
    VALUE_OUT_OF_RANGE,
    WRONGTYPE,
    RedisError,
    int_out_of_range,
    wrong_arity,
)
from ..notify import NOTIFY_GENERIC, NOTIFY_HASH, notify
from ..registry import command, run_of
from ..resp.encode import EMPTY_ARRAY, NULL2, NULL3, OK, ONE, ZERO, integer
from ..types.hash import HashValue
from ..types.string import (
    INT64_MAX,
    INT64_MIN,
    add_long_double,
    format_long_double_human,
    parse_int,
    parse_long_double,
)
from .keys import parse_cursor
from .strings import c_option

_EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"


def _read_hash(db, key: bytes) -> HashValue | None:
    value = db.lookup_read(key)
    if value is not None and value.__class__ is not HashValue:
        raise RedisError(WRONGTYPE)
    return value


def _write_hash(db, key: bytes) -> HashValue | None:
    value = db.lookup_write(key)
    if value is not None and value.__class__ is not HashValue:
        raise RedisError(WRONGTYPE)
    return value


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _set_field(client, value: HashValue, field: bytes, new: bytes) -> None:
    """Write one field as Redis's hashTypeSet does for HINCRBY*: a long field or value, or one
    field too many, turns a listpack into a hash table."""
    fields = value.fields
    fields[field] = new
    if not value.big:
        config = client.server.config
        limit = config.hash_max_listpack_value
        if len(field) > limit or len(new) > limit or len(fields) > config.hash_max_listpack_entries:
            value.big = True


def _store_new(db, key: bytes, value: HashValue, changes: int) -> None:
    """Add a new hash to the keyspace, counting ``changes`` (set_value counts one)."""
    db.set_value(key, value)
    if changes > 1:
        db.modified(key, changes - 1)


# -- writes --------------------------------------------------------------------------------------


def _hset(client, argv: list[bytes], name: str) -> int:
    """HSET / HMSET: write the pairs; the number of new fields."""
    argc = len(argv)
    if argc & 1:
        raise RedisError(wrong_arity(name))
    db = client.db
    key = argv[1]
    value = db.lookup_write(key)
    created = value is None
    if created:
        value = HashValue()
    elif value.__class__ is not HashValue:
        raise RedisError(WRONGTYPE)
    fields = value.fields
    config = client.server.config
    if not value.big:
        # hashTypeTryConversion: any argument too long converts before writing.
        limit = config.hash_max_listpack_value
        for index in range(2, argc):
            if len(argv[index]) > limit:
                value.big = True
                break
    size = len(fields)
    for index in range(2, argc, 2):
        fields[argv[index]] = argv[index + 1]
    added = len(fields) - size
    if not value.big and len(fields) > config.hash_max_listpack_entries:
        value.big = True
    pairs = (argc - 2) >> 1
    if created:
        _store_new(db, key, value, pairs)
    else:
        db.modified(key, pairs)
    notify(db, NOTIFY_HASH, b"hset", key)
    return added


def hset(client, argv):
    if len(argv) == 4:
        # One pair into an existing hash without a TTL or LFU counting: the benchmarked hot
        # case, inline.
        db = client.db
        key = argv[1]
        found = db.data.get(key)
        if (found.__class__ is HashValue and not (db.expires and key in db.expires)
                and db.lfu is None):
            value = found
            fields = value.fields
            field = argv[2]
            new = argv[3]
            added = field not in fields
            fields[field] = new
            server = client.server
            if not value.big:
                config = server.config
                limit = config.hash_max_listpack_value
                if (len(field) > limit or len(new) > limit
                        or len(fields) > config.hash_max_listpack_entries):
                    value.big = True
            db.access[key] = server.lru_clock
            server.dirty += 1  # db.modified(key), inline
            db.mem_dirty.add(key)
            if db.watched or db.blocking_keys:
                db.signal(key)
            if server.notify_flags:
                notify(db, NOTIFY_HASH, b"hset", key)
            return ONE if added else ZERO
    return integer(_hset(client, argv, "hset"))


# Registered after its definition: the compiled build types it (hashes.pxd) as a cpdef
# function, which Cython would silently strip of a decorator.
command("hset")(hset)


@run_of("hset", 4)
def hset_run(client, group):
    key = group[0][1]
    db = client.db
    value = db.value_for_run(key, HashValue)
    if value is None:
        return None
    fields = value.fields
    replies = []
    for _, _, field, new in group:
        replies.append(ZERO if field in fields else ONE)
        fields[field] = new
    if not value.big:
        # Fields only come in here: the hash outgrew the listpack during the run exactly when
        # it has outgrown it now.
        config = client.server.config
        limit = config.hash_max_listpack_value
        if len(fields) > config.hash_max_listpack_entries or any(
                len(field) > limit or len(new) > limit for _, _, field, new in group):
            value.big = True
    db.ran(key, len(group))
    return replies


@command("hmset")
def hmset(client, argv):
    _hset(client, argv, "hmset")
    return OK


@command("hsetnx")
def hsetnx(client, argv):
    db = client.db
    key = argv[1]
    value = db.lookup_write(key)
    created = value is None
    if created:
        value = HashValue()
    elif value.__class__ is not HashValue:
        raise RedisError(WRONGTYPE)
    field = argv[2]
    if field in value.fields:
        return ZERO
    _set_field(client, value, field, argv[3])
    if created:
        _store_new(db, key, value, 1)
    else:
        db.modified(key)
    notify(db, NOTIFY_HASH, b"hset", key)
    return ONE


@command("hdel")
def hdel(client, argv):
    db = client.db
    key = argv[1]
    value = _write_hash(db, key)
    if value is None:
        return ZERO
    deleted = 0
    delete_field = value.delete_field
    for field in argv[2:]:
        if delete_field(field):
            deleted += 1
            if not value.fields:
                break
    if deleted:
        server = client.server
        before = server.dirty
        notify(db, NOTIFY_HASH, b"hdel", key)
        if not value.fields:
            db.delete(key)
            notify(db, NOTIFY_GENERIC, b"del", key)
        else:
            db.modified(key, 0)
        server.dirty = before + deleted
    return integer(deleted)


def _increment_target(db, key: bytes, field: bytes) -> tuple[HashValue, bool, bytes | None]:
    """The hash HINCRBY/HINCRBYFLOAT change (new if missing), whether it is new, and the
    field's current text."""
    value = _write_hash(db, key)
    created = value is None
    if created:
        value = HashValue()
    return value, created, value.fields.get(field)


def _store_increment(client, key: bytes, value: HashValue, created: bool, field: bytes,
                     text: bytes, event: bytes) -> None:
    db = client.db
    _set_field(client, value, field, text)
    if created:
        _store_new(db, key, value, 1)
    else:
        db.modified(key)
    notify(db, NOTIFY_HASH, event, key)


@command("hincrby")
def hincrby(client, argv):
    increment = parse_int(argv[3])
    if increment is None:
        raise RedisError(NOT_INTEGER)
    key, field = argv[1], argv[2]
    value, created, current_text = _increment_target(client.db, key, field)
    if current_text is None:
        current = 0
    else:
        current = parse_int(current_text)
        if current is None:
            raise RedisError(HASH_VALUE_NOT_INTEGER)
    total = current + increment
    if total < INT64_MIN or total > INT64_MAX:
        raise RedisError(OVERFLOW)
    _store_increment(client, key, value, created, field, b"%d" % total, b"hincrby")
    return integer(total)


@command("hincrbyfloat")
def hincrbyfloat(client, argv):
    increment = parse_long_double(argv[3])
    if increment is None:
        raise RedisError(NOT_FLOAT)
    if increment.__class__ is float:
        raise RedisError(VALUE_NAN_OR_INFINITY)
    key, field = argv[1], argv[2]
    value, created, current_text = _increment_target(client.db, key, field)
    if current_text is None:
        current = 0
    else:
        current = parse_long_double(current_text)
        if current is None:
            raise RedisError(HASH_VALUE_NOT_FLOAT)
    total = add_long_double(current, increment)
    if total is None:
        raise RedisError(INCR_FLOAT_NAN)
    text = format_long_double_human(total)
    _store_increment(client, key, value, created, field, text, b"hincrbyfloat")
    server = client.server
    if server.propagation is not None:
        # The result, not the increment: float arithmetic may differ where the AOF is replayed.
        server.propagate_as(client, [[b"HSET", key, field, text]])
    return _bulk(text)


# -- reads ---------------------------------------------------------------------------------------


@command("hget")
def hget(client, argv):
    value = client.db.lookup_read(argv[1])
    if value.__class__ is HashValue:
        found = value.fields.get(argv[2])
        if found is not None:
            return b"$%d\r\n%s\r\n" % (len(found), found)
    elif value is not None:
        raise RedisError(WRONGTYPE)
    return NULL3 if client.resp3 else NULL2


@command("hmget")
def hmget(client, argv):
    value = _read_hash(client.db, argv[1])
    null = NULL3 if client.resp3 else NULL2
    fields = value.fields if value is not None else {}
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for field in argv[2:]:
        found = fields.get(field)
        parts.append(null if found is None else b"$%d\r\n%s\r\n" % (len(found), found))
    return b"".join(parts)


@command("hlen")
def hlen(client, argv):
    value = _read_hash(client.db, argv[1])
    return ZERO if value is None else integer(len(value.fields))


@command("hstrlen")
def hstrlen(client, argv):
    value = _read_hash(client.db, argv[1])
    if value is None:
        return ZERO
    found = value.fields.get(argv[2])
    return ZERO if found is None else integer(len(found))


@command("hexists")
def hexists(client, argv):
    value = _read_hash(client.db, argv[1])
    return ONE if value is not None and argv[2] in value.fields else ZERO


@command("hkeys")
def hkeys(client, argv):
    value = _read_hash(client.db, argv[1])
    if value is None:
        return EMPTY_ARRAY
    fields = value.fields
    return b"*%d\r\n%s" % (len(fields), b"".join([b"$%d\r\n%s\r\n" % (len(f), f) for f in fields]))


@command("hvals")
def hvals(client, argv):
    value = _read_hash(client.db, argv[1])
    if value is None:
        return EMPTY_ARRAY
    fields = value.fields
    return b"*%d\r\n%s" % (
        len(fields), b"".join([b"$%d\r\n%s\r\n" % (len(v), v) for v in fields.values()])
    )


@command("hgetall")
def hgetall(client, argv):
    value = _read_hash(client.db, argv[1])
    if value is None:
        return b"%0\r\n" if client.resp3 else EMPTY_ARRAY
    fields = value.fields
    head = b"%%%d\r\n" % len(fields) if client.resp3 else b"*%d\r\n" % (2 * len(fields))
    return head + b"".join([
        b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(f), f, len(v), v) for f, v in fields.items()
    ])


# -- HRANDFIELD ----------------------------------------------------------------------------------


def _pairs_reply(client, fields: dict[bytes, bytes], chosen: list[bytes],
                 with_values: bool) -> bytes:
    """Fields, or with values field/value pairs: flat in RESP2, one array per pair in RESP3."""
    if not with_values:
        return b"*%d\r\n%s" % (
            len(chosen), b"".join([b"$%d\r\n%s\r\n" % (len(f), f) for f in chosen])
        )
    if client.resp3:
        parts = [b"*%d\r\n" % len(chosen)]
        for field in chosen:
            found = fields[field]
            parts.append(
                b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(field), field, len(found), found)
            )
        return b"".join(parts)
    parts = [b"*%d\r\n" % (2 * len(chosen))]
    for field in chosen:
        found = fields[field]
        parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(field), field, len(found), found))
    return b"".join(parts)


@command("hrandfield")
def hrandfield(client, argv):
    argc = len(argv)
    if argc == 2:
        value = _read_hash(client.db, argv[1])
        if value is None:
            return NULL3 if client.resp3 else NULL2
        return _bulk(value.random_field())
    count = parse_int(argv[2])
    if count is None:
        raise RedisError(NOT_INTEGER)
    if count < -INT64_MAX:
        raise RedisError(int_out_of_range(-INT64_MAX, INT64_MAX))
    with_values = False
    if argc > 4 or (argc == 4 and c_option(argv[3]) != b"WITHVALUES"):
        raise RedisError(SYNTAX)
    if argc == 4:
        with_values = True
        if count < -(INT64_MAX // 2) or count > INT64_MAX // 2:
            raise RedisError(VALUE_OUT_OF_RANGE)
    value = _read_hash(client.db, argv[1])
    if value is None or count == 0:
        return EMPTY_ARRAY
    fields = value.fields
    if count < 0 or count == 1:
        chosen = value.random_fields(-count if count < 0 else 1)
    elif count >= len(fields):
        chosen = list(fields)
    else:
        chosen = value.unique_random_fields(count)
    return _pairs_reply(client, fields, chosen, with_values)


# -- HSCAN ---------------------------------------------------------------------------------------


@command("hscan")
def hscan(client, argv):
    cursor = parse_cursor(argv[2])
    value = _read_hash(client.db, argv[1])
    if value is None:
        return _EMPTY_SCAN
    count = 10
    pattern = None
    argc = len(argv)
    index = 3
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
        else:
            raise RedisError(SYNTAX)
        index += 2
    fields = value.fields
    if value.big:
        cursor, batch = value.scan(cursor, count)
    else:
        # A listpack is returned whole in one call, whatever the cursor, as Redis does.
        cursor, batch = 0, list(fields)
    if pattern is not None and pattern != b"*":
        batch = list(filter(glob.compile(pattern), batch))
    parts = []
    for field in batch:
        found = fields.get(field)
        if found is not None:
            parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(field), field, len(found), found))
    cursor_text = b"%d" % cursor
    return b"*2\r\n$%d\r\n%s\r\n*%d\r\n%s" % (
        len(cursor_text), cursor_text, 2 * len(parts), b"".join(parts)
    )
