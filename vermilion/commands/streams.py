"""Stream commands: XADD, XRANGE/XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD, XREADGROUP, XACK,
XPENDING, XCLAIM, XAUTOCLAIM, XGROUP and XINFO, as Redis 7.0 answers them.

Keyspace effects follow Redis 7.0 exactly: XADD, XDEL, XTRIM (and XGROUP CREATE MKSTREAM creating
the key) count as key modifications (WATCH, dirty); the consumer group commands only add to the
dirty counter, the way Redis leaves WATCHed keys alone for them. Blocked XREAD/XREADGROUP clients
wake on the events Redis signals: an append (XADD), a new stream object at the key, a destroyed
group, or the key going away (which fails XREADGROUP waiters).
"""

from __future__ import annotations

import time

from .. import errors
from ..errors import (
    NOT_INTEGER,
    NO_SUCH_KEY,
    SYNTAX,
    TIMEOUT_NEGATIVE,
    TIMEOUT_NOT_INTEGER,
    WRONGTYPE,
    RedisError,
)
from ..notify import NOTIFY_STREAM, notify
from ..propagate import AOF_CLIENT_ID
from ..registry import command
from ..resp.encode import NULL2, NULL3, NULL_ARRAY2, OK, ONE, ZERO, integer, simple
from ..types.stream import (
    INVALID_ENTRIES_READ,
    MASK64,
    MAX_ID,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    Stream,
    format_id,
)
from ..types.string import INT64_MAX, parse_int
from .strings import c_option

# A blocked XREAD / XREADGROUP without COUNT is served at most this many entries (Redis's
# XREAD_BLOCKED_DEFAULT_COUNT).
BLOCKED_DEFAULT_COUNT = 1000
# XAUTOCLAIM looks at up to COUNT times this many PEL entries.
AUTOCLAIM_ATTEMPTS_FACTOR = 10
# Redis refuses XAUTOCLAIM COUNTs whose scratch array (16 bytes an ID) cannot be allocated; a
# 64-bit Linux process has 47 bits of address space.
_AUTOCLAIM_MAX_SCRATCH_BYTES = 1 << 47
_LONG_MAX = (1 << 63) - 1

_TRIM_NONE, _TRIM_MAXLEN, _TRIM_MINID = 0, 1, 2
_C_SPACES = b" \t\n\v\f\r"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _cstr(arg: bytes) -> bytes:
    """An argument as C code sees it: up to the first NUL byte."""
    nul = arg.find(b"\0")
    return arg if nul < 0 else arg[:nul]


def _null(client) -> bytes:
    return NULL3 if client.resp3 else NULL2


def _null_array(client) -> bytes:
    return NULL3 if client.resp3 else NULL_ARRAY2


def _bulk_id(sid: int) -> bytes:
    text = format_id(sid)
    return b"$%d\r\n%s\r\n" % (len(text), text)


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _map_header(client, pairs: int) -> bytes:
    return b"%%%d\r\n" % pairs if client.resp3 else b"*%d\r\n" % (2 * pairs)


def _encode_entry(sid: int, items: tuple) -> bytes:
    text = format_id(sid)
    parts = [b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(text), text, len(items))]
    for item in items:
        parts.append(b"$%d\r\n%s\r\n" % (len(item), item))
    return b"".join(parts)


def _encode_entries(entries: list[tuple[int, tuple]]) -> bytes:
    parts = [b"*%d\r\n" % len(entries)]
    for sid, items in entries:
        parts.append(_encode_entry(sid, items))
    return b"".join(parts)


def _int(arg: bytes, message: str = NOT_INTEGER) -> int:
    number = parse_int(arg)
    if number is None:
        raise RedisError(message)
    return number


# -- stream IDs -----------------------------------------------------------------------------------


def _parse_u64(text: bytes) -> int | None:
    """Redis's string2ull: a canonical integer, else what C's strtoull accepts in full (leading
    white space, a sign, a negative value wrapping around), or None."""
    number = parse_int(text)
    if number is not None:
        return number if number >= 0 else None
    position = 0
    size = len(text)
    while position < size and text[position] in _C_SPACES:
        position += 1
    negative = False
    if position < size and text[position] in b"+-":
        negative = text[position] == 45
        position += 1
    digits = text[position:]
    if not digits or not digits.isdigit():
        return None
    value = int(digits)
    if value > MASK64:
        return None
    return (-value) & MASK64 if negative else value


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False) -> int:
    """A stream ID argument (Redis's streamGenericParseIDOrReply): ``ms-seq``, ``ms`` (seq =
    ``missing_seq``), and unless ``strict`` the special ``-`` and ``+``."""
    if len(arg) > 127:
        raise RedisError(errors.INVALID_STREAM_ID)
    text = _cstr(arg)
    if text == b"-" or text == b"+":
        if strict:
            raise RedisError(errors.INVALID_STREAM_ID)
        return 0 if text == b"-" else MAX_ID
    dash = text.find(b"-")
    if dash < 0:
        ms = _parse_u64(text)
        seq = missing_seq
    else:
        ms = _parse_u64(text[:dash])
        seq = _parse_u64(text[dash + 1 :])
    if ms is None or seq is None:
        raise RedisError(errors.INVALID_STREAM_ID)
    return (ms << 64) | seq


def _parse_xadd_id(arg: bytes) -> tuple[int, bool]:
    """XADD's explicit ID: like a strict ID, also ``ms-*`` (returns the ID and whether the
    sequence part was given)."""
    text = _cstr(arg)
    if len(arg) <= 127 and text.endswith(b"-*") and text.find(b"-") == len(text) - 2:
        ms = _parse_u64(text[:-2])
        if ms is None:
            raise RedisError(errors.INVALID_STREAM_ID)
        return ms << 64, False
    return parse_id(arg, 0, True), True


def _parse_interval(arg: bytes, missing_seq: int) -> tuple[int, bool]:
    """A range bound: an ID, ``-``/``+``, or ``(ID`` for an exclusive bound."""
    if len(arg) > 1 and arg[0] == 40:  # "("
        return parse_id(arg[1:], missing_seq, True), True
    return parse_id(arg, missing_seq, False), False


def _parse_range(start_arg: bytes, end_arg: bytes) -> tuple[int, int]:
    start, exclusive = _parse_interval(start_arg, 0)
    if exclusive:
        if start == MAX_ID:
            raise RedisError(errors.INVALID_START_ID)
        start += 1
    end, exclusive = _parse_interval(end_arg, MASK64)
    if exclusive:
        if end == 0:
            raise RedisError(errors.INVALID_END_ID)
        end -= 1
    return start, end


# -- lookups ------------------------------------------------------------------------------------


def _stream_or_none(value) -> Stream | None:
    if value is None:
        return None
    if value.__class__ is not Stream:
        raise RedisError(WRONGTYPE)
    return value


def _read(client, key: bytes) -> Stream | None:
    return _stream_or_none(client.db.lookup_read(key))


def _write(client, key: bytes) -> Stream | None:
    return _stream_or_none(client.db.lookup_write(key))


def _group(stream: Stream | None, name: bytes) -> ConsumerGroup | None:
    if stream is None or stream.groups is None:
        return None
    return stream.groups.get(name)


def _dirty(client, changes: int = 1) -> None:
    # Consumer group changes count for persistence but, as in Redis, do not touch WATCH.
    client.server.dirty += changes


def _create_consumer(client, group: ConsumerGroup, name: bytes, key: bytes) -> Consumer:
    consumer = Consumer(name, _now_ms())
    group.consumers[name] = consumer
    _dirty(client)
    notify(client.db, NOTIFY_STREAM, b"xgroup-createconsumer", key)
    return consumer


def _consumer(client, group: ConsumerGroup, name: bytes, key: bytes) -> Consumer:
    """Look a consumer up (refreshing its seen time) or create it."""
    consumer = group.consumers.get(name)
    if consumer is None:
        return _create_consumer(client, group, name, key)
    consumer.seen_time = _now_ms()
    return consumer


# What consumer-group reads and claims propagate (Redis's streamPropagateXCLAIM and
# streamPropagateGroupID): the resulting pending-entry state, never the command itself.


def _xclaim_argv(key: bytes, group_name: bytes, consumer_name: bytes, sid: int,
                 nack: PendingEntry, group: ConsumerGroup) -> list[bytes]:
    return [b"XCLAIM", key, group_name, consumer_name, b"0", format_id(sid), b"TIME",
            b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE",
            b"JUSTID", b"LASTID", format_id(group.last_id)]


def _setid_argv(key: bytes, group_name: bytes, group: ConsumerGroup) -> list[bytes]:
    return [b"XGROUP", b"SETID", key, group_name, format_id(group.last_id), b"ENTRIESREAD",
            b"%d" % group.entries_read]


# -- XADD / XTRIM ---------------------------------------------------------------------------------


class _AddTrimArgs:
    __slots__ = ("strategy", "approx", "maxlen", "minid", "limit", "nomkstream", "id", "id_given",
                 "seq_given", "id_index")

    def __init__(self) -> None:
        self.strategy = _TRIM_NONE
        self.approx = False
        self.maxlen = 0
        self.minid = 0
        self.limit = 0
        self.nomkstream = False
        self.id = 0
        self.id_given = False
        self.seq_given = True
        self.id_index = 0


def _parse_add_trim(client, argv: list[bytes], xadd: bool) -> _AddTrimArgs:
    """The options of XADD (up to the ID) or XTRIM (Redis's streamParseAddOrTrimArgsOrReply)."""
    args = _AddTrimArgs()
    limit_given = False
    count = len(argv)
    index = 2
    while index < count:
        more = count - 1 - index
        arg = argv[index]
        if xadd and _cstr(arg) == b"*":
            break
        option = c_option(arg)
        if option in (b"MAXLEN", b"MINID") and more:
            if args.strategy != _TRIM_NONE:
                raise RedisError(errors.TRIM_MAXLEN_AND_MINID)
            args.approx = False
            following = _cstr(argv[index + 1])
            if more >= 2 and following == b"~":
                args.approx = True
                index += 1
            elif more >= 2 and following == b"=":
                index += 1
            if option == b"MAXLEN":
                args.maxlen = _int(argv[index + 1])
                if args.maxlen < 0:
                    raise RedisError(errors.TRIM_MAXLEN_NEGATIVE)
                args.strategy = _TRIM_MAXLEN
            else:
                args.minid = parse_id(argv[index + 1], 0, True)
                args.strategy = _TRIM_MINID
            index += 1
        elif option == b"LIMIT" and more:
            args.limit = _int(argv[index + 1])
            if args.limit < 0:
                raise RedisError(errors.TRIM_LIMIT_NEGATIVE)
            limit_given = True
            index += 1
        elif xadd and option == b"NOMKSTREAM":
            args.nomkstream = True
        elif xadd:
            args.id, args.seq_given = _parse_xadd_id(arg)
            args.id_given = True
            break
        else:
            raise RedisError(SYNTAX)
        index += 1
    args.id_index = index
    if args.limit and args.strategy == _TRIM_NONE:
        raise RedisError(errors.TRIM_LIMIT_WITHOUT_STRATEGY)
    if not xadd and args.strategy == _TRIM_NONE:
        raise RedisError(errors.XTRIM_WITHOUT_STRATEGY)
    if limit_given:
        # The AOF holds approximate trims made exact with their LIMIT kept, as Redis writes them.
        if not args.approx and client.id != AOF_CLIENT_ID:
            raise RedisError(errors.TRIM_LIMIT_WITHOUT_APPROX)
    elif args.approx:
        # Approximate trimming is capped at about 100 nodes' worth of entries by default.
        limit = 100 * client.server.config.stream_node_max_entries
        if limit <= 0:
            limit = 10000
        elif limit > 1000000:
            limit = 1000000
        args.limit = limit
    else:
        args.limit = 0
    return args


def _trim(stream: Stream, args: _AddTrimArgs) -> int:
    if args.strategy == _TRIM_MAXLEN:
        return stream.trim(args.maxlen, None, args.approx, args.limit)
    return stream.trim(None, args.minid, args.approx, args.limit)


def _next_id(stream: Stream, args: _AddTrimArgs) -> int:
    """The ID of a new entry: generated from the clock, or the given one checked against the
    top (raises the XADD error when it is not above it)."""
    last = stream.last_id
    if not args.id_given:
        ms = _now_ms()
        if ms > last >> 64:
            return ms << 64
        return last + 1
    sid = args.id
    if not args.seq_given:
        if sid >> 64 == last >> 64:
            if last & MASK64 == MASK64:
                raise RedisError(errors.XADD_ID_TOO_SMALL)
            sid = last + 1
    if sid <= last:
        raise RedisError(errors.XADD_ID_TOO_SMALL)
    return sid


@command("xadd")
def xadd(client, argv):
    if argv[2] != b"*":
        return _xadd_with_options(client, argv)
    # The common form, XADD key * field value ...: no options, an ID from the clock.
    if not len(argv) & 1:
        raise RedisError(errors.wrong_arity("xadd"))
    db = client.db
    key = argv[1]
    stream = db.lookup_write(key)
    created = stream is None
    if created:
        stream = Stream()
        db.set_value(key, stream)
    elif stream.__class__ is not Stream:
        raise RedisError(WRONGTYPE)
    last = stream.last_id
    if last == MAX_ID:
        raise RedisError(errors.STREAM_EXHAUSTED)
    ms = time.time_ns() // 1_000_000
    last_ms = last >> 64
    if ms > last_ms:
        sid = ms << 64
        text = b"%d-0" % ms
    else:
        # Same (or earlier) millisecond: the next sequence number, carrying into the next ms.
        sid = last + 1
        seq = (last & MASK64) + 1
        text = b"%d-%d" % (last_ms, seq) if seq <= MASK64 else b"%d-0" % (last_ms + 1)
    config = client.server.config
    items = (argv[3], argv[4]) if len(argv) == 5 else tuple(argv[3:])
    stream.append(sid, items, config.stream_node_max_bytes, config.stream_node_max_entries)
    stream.appends += 1
    if db.server.notify_flags:
        notify(db, NOTIFY_STREAM, b"xadd", key)
    if not created:
        db.modified(key)
    server = db.server
    if server.propagation is not None:
        # Propagated with the ID it got (Redis rewrites the "*").
        server.propagate_as(client, [[argv[0], key, text, *argv[3:]]])
    return b"$%d\r\n%s\r\n" % (len(text), text)


def _propagated_add_trim(argv: list[bytes], args: _AddTrimArgs, stream: Stream,
                         id_text: bytes | None) -> list[bytes]:
    """XADD / XTRIM as propagated (Redis's streamRewriteApproxSpecifier and
    streamRewriteTrimArgument): the generated ID in place of "*" or "ms-*", and an approximate
    trim made exact at the threshold it reached, so a replay trims exactly as much (LIMIT is
    kept, as Redis keeps it; its AOF loader accepts it without "~")."""
    out = list(argv[:2])
    index = 2
    end = args.id_index if id_text is not None else len(argv)
    while index < end:
        arg = argv[index]
        option = c_option(arg)
        if option in (b"MAXLEN", b"MINID") and args.approx and _cstr(argv[index + 1]) == b"~":
            if option == b"MAXLEN":
                threshold = b"%d" % stream.length
            else:
                threshold = format_id(stream.first_valid_id() if stream.length else stream.last_id)
            out.extend((arg, b"=", threshold))
            index += 3
        else:
            out.append(arg)
            index += 1
    if id_text is not None:
        out.append(id_text)
        out.extend(argv[args.id_index + 1:])
    return out


def _xadd_with_options(client, argv) -> bytes:
    args = _parse_add_trim(client, argv, True)
    field_index = args.id_index + 1
    fields = len(argv) - field_index
    if fields < 2 or fields & 1:
        raise RedisError(errors.wrong_arity("xadd"))
    if args.id_given and args.seq_given and args.id == 0:
        raise RedisError(errors.XADD_ID_ZERO)
    db = client.db
    key = argv[1]
    stream = db.lookup_write(key)
    created = False
    if stream is None:
        if args.nomkstream:
            return _null(client)
        stream = Stream()
        db.set_value(key, stream)
        created = True
    elif stream.__class__ is not Stream:
        raise RedisError(WRONGTYPE)
    if stream.last_id == MAX_ID:
        raise RedisError(errors.STREAM_EXHAUSTED)
    sid = _next_id(stream, args)
    config = client.server.config
    stream.append(sid, tuple(argv[field_index:]), config.stream_node_max_bytes,
                  config.stream_node_max_entries)
    stream.appends += 1
    text = format_id(sid)
    notify(db, NOTIFY_STREAM, b"xadd", key)
    if args.strategy != _TRIM_NONE and _trim(stream, args):
        notify(db, NOTIFY_STREAM, b"xtrim", key)
    if not created:
        db.modified(key)
    server = db.server
    if server.propagation is not None and (args.approx or not args.id_given or not args.seq_given):
        server.propagate_as(client, [_propagated_add_trim(argv, args, stream, text)])
    return b"$%d\r\n%s\r\n" % (len(text), text)


@command("xtrim")
def xtrim(client, argv):
    args = _parse_add_trim(client, argv, False)
    key = argv[1]
    stream = _write(client, key)
    if stream is None:
        return ZERO
    removed = _trim(stream, args)
    if removed:
        notify(client.db, NOTIFY_STREAM, b"xtrim", key)
        client.db.modified(key, removed)
        server = client.server
        if server.propagation is not None and args.approx:
            server.propagate_as(client, [_propagated_add_trim(argv, args, stream, None)])
    return integer(removed)


# -- XRANGE / XREVRANGE / XLEN / XDEL ---------------------------------------------------------------


def _range_command(client, argv, rev: bool) -> bytes:
    start_arg, end_arg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start, end = _parse_range(start_arg, end_arg)
    count = -1
    index = 4
    while index < len(argv):
        if c_option(argv[index]) == b"COUNT" and index + 1 < len(argv):
            count = _int(argv[index + 1])
            if count < 0:
                count = 0
            index += 2
        else:
            raise RedisError(SYNTAX)
    value = client.db.lookup_read(argv[1])
    if value is None:
        return b"*0\r\n"
    if value.__class__ is not Stream:
        raise RedisError(WRONGTYPE)
    if count == 0:
        return _null_array(client)
    return _encode_entries(value.range(start, end, max(count, 0), rev))


@command("xrange")
def xrange(client, argv):
    return _range_command(client, argv, False)


@command("xrevrange")
def xrevrange(client, argv):
    return _range_command(client, argv, True)


@command("xlen")
def xlen(client, argv):
    stream = _read(client, argv[1])
    return ZERO if stream is None else integer(stream.length)


@command("xdel")
def xdel(client, argv):
    key = argv[1]
    stream = _write(client, key)
    if stream is None:
        return ZERO
    ids = [parse_id(arg, 0, True) for arg in argv[2:]]
    removed = 0
    first_removed = False
    for sid in ids:
        if stream.delete(sid):
            if sid == stream.first_id:
                first_removed = True
            if sid > stream.max_deleted_id:
                stream.max_deleted_id = sid
            removed += 1
    if removed:
        if stream.length == 0:
            stream.first_id = 0
        elif first_removed:
            stream.first_id = stream.first_valid_id()
        client.db.modified(key, removed)
        notify(client.db, NOTIFY_STREAM, b"xdel", key)
    return integer(removed)


# -- XSETID -----------------------------------------------------------------------------------------


@command("xsetid")
def xsetid(client, argv):
    sid = parse_id(argv[2], 0, True)
    entries_added = -1
    max_deleted = 0
    index = 3
    count = len(argv)
    while index < count:
        option = c_option(argv[index])
        if option == b"ENTRIESADDED" and index + 1 < count:
            entries_added = _int(argv[index + 1])
            if entries_added < 0:
                raise RedisError(errors.XSETID_ENTRIES_ADDED_NEGATIVE)
        elif option == b"MAXDELETEDID" and index + 1 < count:
            max_deleted = parse_id(argv[index + 1], 0, True)
            if sid < max_deleted:
                raise RedisError(errors.XSETID_BELOW_MAX_DELETED)
        else:
            raise RedisError(SYNTAX)
        index += 2
    key = argv[1]
    stream = _write(client, key)
    if stream is None:
        raise RedisError(NO_SUCH_KEY)
    if stream.length:
        if sid < stream.last_valid_id():
            raise RedisError(errors.XSETID_BELOW_TOP)
        if entries_added != -1 and stream.length > entries_added:
            raise RedisError(errors.XSETID_ENTRIES_ADDED_BELOW_LENGTH)
    stream.last_id = sid
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_deleted:
        stream.max_deleted_id = max_deleted
    _dirty(client)
    notify(client.db, NOTIFY_STREAM, b"xsetid", key)
    return OK


# -- delivering entries to consumer groups ---------------------------------------------------------


def _deliver(stream: Stream, start: int, count: int, group: ConsumerGroup,
             consumer: Consumer, noack: bool, propagated: list | None = None,
             key: bytes = b"", group_name: bytes = b"") -> bytes:
    """New entries from ``start`` for a group consumer (the group's last ID advances; unless
    NOACK each entry enters the PELs, taken over from another consumer if it was there).
    With ``propagated``, the commands that reproduce this are appended to it."""
    entries = stream.range(start, MAX_ID, count)
    moved = False
    now = _now_ms()
    last = group.last_id
    group_pel = group.pel
    consumer_pel = consumer.pel
    for sid, _items in entries:
        if sid > last:
            stream.delivered(group, sid)
            last = sid
            moved = True
        if not noack:
            nack = group_pel.get(sid)
            if nack is None:
                nack = PendingEntry(now, consumer)
                group_pel[sid] = nack
            else:
                previous = nack.consumer
                if previous is not None:
                    previous.pel.pop(sid, None)
                nack.consumer = consumer
                nack.delivery_time = now
                nack.delivery_count = 1
            consumer_pel[sid] = nack
            if propagated is not None:
                propagated.append(_xclaim_argv(key, group_name, consumer.name, sid, nack, group))
    if propagated is not None and noack and moved:
        propagated.append(_setid_argv(key, group_name, group))
    return _encode_entries(entries)


def _history(client, stream: Stream, start: int, count: int, consumer: Consumer) -> bytes:
    """A consumer re-reading its own pending entries from ``start``; entries deleted from the
    stream show as the ID with a null."""
    parts = []
    now = _now_ms()
    null = NULL3 if client.resp3 else NULL_ARRAY2
    for sid in consumer.pel.irange(minimum=start):
        if count and len(parts) >= count:
            break
        items = stream.get(sid)
        if items is None:
            parts.append(b"*2\r\n" + _bulk_id(sid) + null)
        else:
            parts.append(_encode_entry(sid, items))
            nack = consumer.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
    return b"*%d\r\n" % len(parts) + b"".join(parts)


# -- XREAD / XREADGROUP -------------------------------------------------------------------------------


def _parse_block_ms(arg: bytes) -> int:
    timeout = parse_int(arg)
    if timeout is None:
        raise RedisError(TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise RedisError(TIMEOUT_NEGATIVE)
    return timeout


def _from_script(client) -> bool:
    from ..scripting.state import ScriptClient  # the scripting layer imports the commands

    return isinstance(client, ScriptClient)


def _read_command(client, argv, xreadgroup: bool) -> bytes | None:
    timeout = -1
    count = 0
    noack = False
    group_name = consumer_name = None
    streams_index = 0
    total = len(argv)
    index = 1
    while index < total:
        more = total - index - 1
        option = c_option(argv[index])
        if option == b"BLOCK" and more:
            if _from_script(client):
                raise RedisError(errors.blocking_from_script(argv[0]))
            index += 1
            timeout = _parse_block_ms(argv[index])
        elif option == b"COUNT" and more:
            index += 1
            count = max(_int(argv[index]), 0)
        elif option == b"STREAMS" and more:
            streams_index = index + 1
            if (total - streams_index) & 1:
                raise RedisError(errors.XREAD_UNBALANCED)
            break
        elif option == b"GROUP" and more >= 2:
            if not xreadgroup:
                raise RedisError(errors.XREAD_GROUP_OPTION)
            group_name = argv[index + 1]
            consumer_name = argv[index + 2]
            index += 2
        elif option == b"NOACK":
            if not xreadgroup:
                raise RedisError(errors.XREAD_NOACK_OPTION)
            noack = True
        else:
            raise RedisError(SYNTAX)
        index += 1
    if not streams_index:
        raise RedisError(SYNTAX)
    if xreadgroup and group_name is None:
        raise RedisError(errors.XREADGROUP_MISSING_GROUP)
    streams = (total - streams_index) >> 1
    keys = argv[streams_index : streams_index + streams]
    db = client.db
    ids: list[int] = []
    for position, key in enumerate(keys):
        stream = _stream_or_none(db.lookup_read(key))
        if group_name is not None and _group(stream, group_name) is None:
            raise RedisError(errors.xreadgroup_no_group(key, group_name))
        arg = argv[streams_index + streams + position]
        text = _cstr(arg)
        if text == b"$":
            if xreadgroup:
                raise RedisError(errors.XREADGROUP_DOLLAR_ID)
            ids.append(stream.last_id if stream is not None else 0)
        elif text == b">":
            if not xreadgroup:
                raise RedisError(errors.XREAD_GREATER_ID)
            # Stands for "new entries for the group", resolved against the group's last ID.
            ids.append(MAX_ID)
        else:
            ids.append(parse_id(arg, 0, True))

    resp3 = client.resp3
    parts: list[bytes] = []
    served = 0
    server = client.server
    propagated = [] if xreadgroup and server.propagation is not None else None
    for position, key in enumerate(keys):
        stream = db.lookup_read(key)
        if stream is None:
            continue
        after = ids[position]
        history = False
        if group_name is not None:
            group = stream.groups[group_name]
            if after != MAX_ID:
                history = True
            elif stream.length and stream.last_valid_id() > group.last_id:
                after = group.last_id
            else:
                continue
        elif not (stream.length and stream.last_valid_id() > after):
            continue
        served += 1
        head = b"$%d\r\n%s\r\n" % (len(key), key)
        parts.append(head if resp3 else b"*2\r\n" + head)
        start = after + 1 if after != MAX_ID else 0
        if group_name is None:
            parts.append(_encode_entries(stream.range(start, MAX_ID, count)))
            continue
        if propagated is not None and noack and consumer_name not in group.consumers:
            # Without NOACK the XCLAIMs create the consumer where they are replayed.
            propagated.append([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer_name])
        consumer = _consumer(client, group, consumer_name, key)
        if history:
            parts.append(_history(client, stream, start, count, consumer))
        else:
            parts.append(_deliver(stream, start, count, group, consumer, noack, propagated, key,
                                  group_name))
        _dirty(client)
    if propagated is not None:
        # XREADGROUP itself is never propagated: only the state it created.
        server.propagate_as(client, propagated)
    if served:
        return (b"%%%d\r\n" if resp3 else b"*%d\r\n") % served + b"".join(parts)
    if timeout == -1:
        return _null_array(client)
    blocking = client.server.blocking
    if not blocking.can_block(client):
        return _null_array(client)
    _block(client, keys, ids, timeout, count, group_name, consumer_name, noack)
    return None


def _fail_group_readers(blocking, db, key: bytes, skip) -> None:
    """The key of blocked XREADGROUP clients is gone or no longer a stream: fail them all, as
    Redis does (other waiters on the key keep waiting)."""
    queue = blocking.waiters.get((db.index, key))
    if not queue:
        return
    for entry in list(queue):
        if entry.kind == "xreadgroup" and entry.client is not skip and entry.client.blocked is entry:
            blocking.unblock(entry, db.server.error_reply(errors.BLOCKED_STREAM_GONE))


def _block(client, keys: list[bytes], ids: list[int], timeout_ms: int, count: int,
           group_name: bytes | None, consumer_name: bytes | None, noack: bool) -> None:
    blocking = client.server.blocking
    db = client.db
    # A key named twice waits for the first ID given for it, as in Redis.
    after: dict[bytes, int] = {}
    for key, sid in zip(keys, ids):
        after.setdefault(key, sid)
    # What each key held when the client blocked: a wake-up needs a new append to that stream
    # (or another stream object), the only events Redis signals to stream waiters.
    seen = {}
    for key in keys:
        value = db.data.get(key)
        seen[key] = (value, value.appends) if value.__class__ is Stream else None
    limit = count or BLOCKED_DEFAULT_COUNT

    def serve(waiter) -> bytes | None:
        key = blocking.serving_key
        waiter_db = waiter.db
        value = waiter_db.data.get(key)
        if value.__class__ is not Stream:
            _fail_group_readers(blocking, waiter_db, key, waiter)
            if group_name is not None:
                raise RedisError(errors.BLOCKED_STREAM_GONE)
            return None
        state = seen.get(key)
        if state is not None and state[0] is value and state[1] == value.appends:
            return None
        seen[key] = (value, value.appends)
        resp3 = waiter.resp3
        head = b"%1\r\n" if resp3 else b"*1\r\n*2\r\n"
        if group_name is None:
            gt = after[key]
            if value.last_id <= gt:
                return None
            entries = value.range(gt + 1 if gt != MAX_ID else 0, MAX_ID, limit)
            return head + _bulk(key) + _encode_entries(entries)
        group = _group(value, group_name)
        if group is None:
            raise RedisError(errors.BLOCKED_GROUP_GONE)
        if value.last_id <= group.last_id:
            return None
        server = waiter.server
        propagated = [] if server.propagation is not None else None
        if propagated is not None and noack and consumer_name not in group.consumers:
            propagated.append([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer_name])
        consumer = _consumer(waiter, group, consumer_name, key)
        body = _deliver(value, group.last_id + 1, limit, group, consumer, noack, propagated, key,
                        group_name)
        if propagated:
            # Served after another client's XADD: propagated as commands of their own.
            for argv in propagated:
                server.propagate(waiter_db.index, argv)
        return head + _bulk(key) + body

    seconds = timeout_ms / 1000
    if timeout_ms and (timeout_ms + _now_ms() > INT64_MAX or seconds > 1e9):
        seconds = 0.0  # a deadline past the 64-bit clock never fires
    kind = "xread" if group_name is None else "xreadgroup"
    blocking.block(client, keys, seconds, serve, _null_array(client), kind)


@command("xread")
def xread(client, argv):
    return _read_command(client, argv, False)


@command("xreadgroup")
def xreadgroup(client, argv):
    return _read_command(client, argv, True)


# -- XACK / XPENDING ---------------------------------------------------------------------------


@command("xack")
def xack(client, argv):
    group = _group(_read(client, argv[1]), argv[2])
    if group is None:
        return ZERO
    ids = [parse_id(arg, 0, True) for arg in argv[3:]]
    acknowledged = 0
    pel = group.pel
    for sid in ids:
        nack = pel.pop(sid, None)
        if nack is not None:
            nack.consumer.pel.pop(sid, None)
            acknowledged += 1
    if acknowledged:
        _dirty(client, acknowledged)
    return integer(acknowledged)


@command("xpending")
def xpending(client, argv):
    total = len(argv)
    if total != 3 and (total < 6 or total > 9):
        raise RedisError(SYNTAX)
    min_idle = 0
    consumer_name = None
    if total >= 6:
        base = 3
        if c_option(argv[3]) == b"IDLE":
            min_idle = _int(argv[4])
            if total < 8:
                raise RedisError(SYNTAX)
            base = 5
        count = max(_int(argv[base + 2]), 0)
        start, end = _parse_range(argv[base], argv[base + 1])
        if base + 3 < total:
            consumer_name = argv[base + 3]
    key, name = argv[1], argv[2]
    group = _group(_read(client, key), name)
    if group is None:
        raise RedisError(errors.no_key_or_group(key, name))
    if total == 3:
        pel = group.pel
        if not pel:
            null = _null(client)
            return b"*4\r\n:0\r\n" + null + null + _null_array(client)
        owners = []
        for consumer_key in group.consumer_names():
            consumer = group.consumers[consumer_key]
            if consumer.pel:
                pending = b"%d" % len(consumer.pel)
                owners.append(b"*2\r\n" + _bulk(consumer_key) + _bulk(pending))
        return (
            b"*4\r\n" + integer(len(pel)) + _bulk_id(pel.keys()[0]) + _bulk_id(pel.keys()[-1])
            + b"*%d\r\n" % len(owners) + b"".join(owners)
        )
    if consumer_name is not None:
        consumer = group.consumers.get(consumer_name)
        if consumer is None:
            return b"*0\r\n"
        pel = consumer.pel
    else:
        pel = group.pel
    now = _now_ms()
    rows = []
    if count:
        for sid in pel.irange(start, end):
            nack = pel[sid]
            idle = now - nack.delivery_time
            if min_idle and idle < min_idle:
                continue
            rows.append(
                b"*4\r\n" + _bulk_id(sid) + _bulk(nack.consumer.name) + integer(max(idle, 0))
                + integer(nack.delivery_count)
            )
            if len(rows) == count:
                break
    return b"*%d\r\n" % len(rows) + b"".join(rows)


# -- XCLAIM / XAUTOCLAIM ----------------------------------------------------------------------


def _drop_pending(group: ConsumerGroup, sid: int, nack: PendingEntry) -> None:
    group.pel.pop(sid, None)
    if nack.consumer is not None:
        nack.consumer.pel.pop(sid, None)


def _take_over(group: ConsumerGroup, sid: int, nack: PendingEntry, consumer: Consumer) -> None:
    if nack.consumer is not consumer:
        if nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        consumer.pel[sid] = nack
        nack.consumer = consumer


@command("xclaim")
def xclaim(client, argv):
    key, name = argv[1], argv[2]
    stream = _read(client, key)
    group = _group(stream, name)
    if group is None:
        raise RedisError(errors.no_key_or_group(key, name))
    min_idle = max(_int(argv[4], errors.XCLAIM_MIN_IDLE), 0)
    ids: list[int] = []
    total = len(argv)
    index = 5
    while index < total:
        try:
            ids.append(parse_id(argv[index], 0, True))
        except RedisError:
            break
        index += 1
    now = _now_ms()
    delivery_time = -1
    retry_count = -1
    force = justid = False
    last_id = 0
    while index < total:
        more = total - 1 - index
        option = c_option(argv[index])
        if option == b"FORCE":
            force = True
        elif option == b"JUSTID":
            justid = True
        elif option == b"IDLE" and more:
            index += 1
            delivery_time = now - _int(argv[index], errors.XCLAIM_IDLE)
        elif option == b"TIME" and more:
            index += 1
            delivery_time = _int(argv[index], errors.XCLAIM_TIME)
        elif option == b"RETRYCOUNT" and more:
            index += 1
            retry_count = _int(argv[index], errors.XCLAIM_RETRYCOUNT)
        elif option == b"LASTID" and more:
            index += 1
            last_id = parse_id(argv[index], 0, True)
        else:
            raise RedisError(errors.xclaim_unrecognized(argv[index]))
        index += 1
    moved_last_id = False
    if last_id > group.last_id:
        group.last_id = last_id
        moved_last_id = True
    if delivery_time == -1 or delivery_time < 0 or delivery_time > now:
        delivery_time = now
    consumer = None
    changes = 0
    parts = []
    pel = group.pel
    propagated = [] if client.server.propagation is not None else None
    for sid in ids:
        nack = pel.get(sid)
        items = stream.get(sid)
        if items is None:
            # Gone from the stream: forget it in the PEL too.
            if nack is not None:
                if propagated is not None:
                    owner = nack.consumer.name if nack.consumer is not None else argv[3]
                    propagated.append(_xclaim_argv(key, name, owner, sid, nack, group))
                _drop_pending(group, sid, nack)
                changes += 1
                moved_last_id = False
            continue
        if force and nack is None:
            nack = PendingEntry(now, None)
            pel[sid] = nack
        if nack is None:
            continue
        if nack.consumer is not None and min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _consumer(client, group, argv[3], key)
        _take_over(group, sid, nack, consumer)
        nack.delivery_time = delivery_time
        if retry_count >= 0:
            nack.delivery_count = retry_count
        elif not justid:
            nack.delivery_count += 1
        parts.append(_bulk_id(sid) if justid else _encode_entry(sid, items))
        changes += 1
        moved_last_id = False
        if propagated is not None:
            propagated.append(_xclaim_argv(key, name, consumer.name, sid, nack, group))
    if moved_last_id:
        changes += 1
        if propagated is not None:
            propagated.append(_setid_argv(key, name, group))
    if changes:
        _dirty(client, changes)
        if propagated is not None:
            client.server.propagate_as(client, propagated)
    return b"*%d\r\n" % len(parts) + b"".join(parts)


@command("xautoclaim")
def xautoclaim(client, argv):
    min_idle = max(_int(argv[4], errors.XAUTOCLAIM_MIN_IDLE), 0)
    start, exclusive = _parse_interval(argv[5], 0)
    if exclusive:
        if start == MAX_ID:
            raise RedisError(errors.INVALID_START_ID)
        start += 1
    count = 100
    justid = False
    total = len(argv)
    index = 6
    while index < total:
        option = c_option(argv[index])
        if option == b"COUNT" and index + 1 < total:
            count = parse_int(argv[index + 1])
            if count is None or count < 1 or count > _LONG_MAX // 16:
                raise RedisError(errors.XAUTOCLAIM_COUNT)
            index += 1
        elif option == b"JUSTID":
            justid = True
        else:
            raise RedisError(SYNTAX)
        index += 1
    key, name = argv[1], argv[2]
    stream = _read(client, key)
    group = _group(stream, name)
    if group is None:
        raise RedisError(errors.no_key_or_group(key, name))
    if count * 16 >= _AUTOCLAIM_MAX_SCRATCH_BYTES:
        raise RedisError(errors.XAUTOCLAIM_COUNT_MEMORY)
    now = _now_ms()
    attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR
    pel = group.pel
    keys = pel.keys()
    position = pel.bisect_left(start)
    consumer = None
    claimed: list[bytes] = []
    deleted: list[bytes] = []
    changes = 0
    propagated = [] if client.server.propagation is not None else None
    while attempts and count and position < len(keys):
        attempts -= 1
        sid = keys[position]
        nack = pel[sid]
        items = stream.get(sid)
        if items is None:
            if propagated is not None:
                owner = nack.consumer.name if nack.consumer is not None else argv[3]
                propagated.append(_xclaim_argv(key, name, owner, sid, nack, group))
            _drop_pending(group, sid, nack)
            deleted.append(_bulk_id(sid))
            changes += 1
            count -= 1
            continue
        position += 1
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _consumer(client, group, argv[3], key)
        _take_over(group, sid, nack, consumer)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        claimed.append(_bulk_id(sid) if justid else _encode_entry(sid, items))
        count -= 1
        changes += 1
        if propagated is not None:
            propagated.append(_xclaim_argv(key, name, consumer.name, sid, nack, group))
    cursor = keys[position] if position < len(keys) else 0
    if changes:
        _dirty(client, changes)
        if propagated is not None:
            client.server.propagate_as(client, propagated)
    return (
        b"*3\r\n" + _bulk_id(cursor) + b"*%d\r\n" % len(claimed) + b"".join(claimed)
        + b"*%d\r\n" % len(deleted) + b"".join(deleted)
    )


# -- XGROUP -------------------------------------------------------------------------------------

_XGROUP_HELP = [
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
]
_XINFO_HELP = [
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
]


def _help(lines: list[str]) -> bytes:
    return b"*%d\r\n" % len(lines) + b"".join(simple(line) for line in lines)


_XGROUP_HELP_REPLY = _help(_XGROUP_HELP)
_XINFO_HELP_REPLY = _help(_XINFO_HELP)


def _xgroup_target(client, argv, create: bool, setid: bool) -> tuple:
    """Shared start of XGROUP subcommands (Redis's xgroupCommand): options, the key (which must
    exist unless MKSTREAM) and, for all but CREATE and DESTROY, the group."""
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    index = 5
    total = len(argv)
    while index < total:
        option = c_option(argv[index])
        if create and option == b"MKSTREAM":
            mkstream = True
            index += 1
        elif (create or setid) and option == b"ENTRIESREAD" and index + 1 < total:
            entries_read = _int(argv[index + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise RedisError(errors.ENTRIESREAD_INVALID)
            index += 2
        else:
            raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    stream = _write(client, argv[2])
    group = None
    if not mkstream:
        if stream is None:
            raise RedisError(errors.XGROUP_KEY_MISSING)
        group = _group(stream, argv[3])
        if group is None and not create and c_option(argv[1]) != b"DESTROY":
            raise RedisError(errors.no_group_for_key(argv[3], argv[2]))
    return stream, group, mkstream, entries_read


@command("xgroup|help")
def xgroup_help(client, argv):
    return _XGROUP_HELP_REPLY


@command("xgroup|create")
def xgroup_create(client, argv):
    stream, _group_found, _mkstream, entries_read = _xgroup_target(client, argv, True, False)
    if len(argv) > 8:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    key, name = argv[2], argv[3]
    if _cstr(argv[4]) == b"$":
        sid = stream.last_id if stream is not None else 0
    else:
        sid = parse_id(argv[4], 0, True)
    db = client.db
    created = False
    if stream is None:
        stream = Stream()
        db.set_value(key, stream)
        created = True
    if stream.groups is None:
        stream.groups = {}
    if name in stream.groups:
        raise RedisError(errors.BUSYGROUP)
    stream.groups[name] = ConsumerGroup(sid, entries_read)
    if not created:
        _dirty(client)
    notify(db, NOTIFY_STREAM, b"xgroup-create", key)
    return OK


@command("xgroup|setid")
def xgroup_setid(client, argv):
    stream, group, _mkstream, entries_read = _xgroup_target(client, argv, False, True)
    if len(argv) not in (5, 7):
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    if _cstr(argv[4]) == b"$":
        sid = stream.last_id
    else:
        sid = parse_id(argv[4], 0, False)
    group.last_id = sid
    group.entries_read = entries_read
    _dirty(client)
    notify(client.db, NOTIFY_STREAM, b"xgroup-setid", argv[2])
    return OK


@command("xgroup|destroy")
def xgroup_destroy(client, argv):
    stream, group, _mkstream, _entries_read = _xgroup_target(client, argv, False, False)
    if group is None:
        return ZERO
    del stream.groups[argv[3]]
    _dirty(client)
    key = argv[2]
    db = client.db
    notify(db, NOTIFY_STREAM, b"xgroup-destroy", key)
    # Blocked XREADGROUP clients of this group must learn that it is gone.
    stream.appends += 1
    if db.blocking_keys and key in db.blocking_keys:
        client.server.blocking.key_ready(db, key)
    return ONE


@command("xgroup|createconsumer")
def xgroup_createconsumer(client, argv):
    _stream, group, _mkstream, _entries_read = _xgroup_target(client, argv, False, False)
    if argv[4] in group.consumers:
        return ZERO
    _create_consumer(client, group, argv[4], argv[2])
    return ONE


@command("xgroup|delconsumer")
def xgroup_delconsumer(client, argv):
    _stream, group, _mkstream, _entries_read = _xgroup_target(client, argv, False, False)
    consumer = group.consumers.get(argv[4])
    if consumer is None:
        return ZERO
    pending = len(consumer.pel)
    group.delete_consumer(consumer)
    _dirty(client)
    notify(client.db, NOTIFY_STREAM, b"xgroup-delconsumer", argv[2])
    return integer(pending)


# -- XINFO --------------------------------------------------------------------------------------


def _lag(client, stream: Stream, group: ConsumerGroup) -> bytes:
    lag = stream.group_lag(group)
    return _null(client) if lag is None else integer(lag)


def _entries_read(client, group: ConsumerGroup) -> bytes:
    if group.entries_read == INVALID_ENTRIES_READ:
        return _null(client)
    return integer(group.entries_read)


def _info_target(client, argv) -> Stream:
    value = client.db.lookup_read(argv[2])
    if value is None:
        raise RedisError(NO_SUCH_KEY)
    if value.__class__ is not Stream:
        raise RedisError(WRONGTYPE)
    return value


@command("xinfo|help")
def xinfo_help(client, argv):
    return _XINFO_HELP_REPLY


@command("xinfo|consumers")
def xinfo_consumers(client, argv):
    stream = _info_target(client, argv)
    group = _group(stream, argv[3])
    if group is None:
        raise RedisError(errors.no_group_for_key(argv[3], argv[2]))
    now = _now_ms()
    rows = []
    for name in group.consumer_names():
        consumer = group.consumers[name]
        rows.append(
            _map_header(client, 3) + b"$4\r\nname\r\n" + _bulk(name) + b"$7\r\npending\r\n"
            + integer(len(consumer.pel)) + b"$4\r\nidle\r\n" + integer(max(now - consumer.seen_time, 0))
        )
    return b"*%d\r\n" % len(rows) + b"".join(rows)


@command("xinfo|groups")
def xinfo_groups(client, argv):
    stream = _info_target(client, argv)
    rows = []
    for name in stream.group_names():
        group = stream.groups[name]
        rows.append(
            _map_header(client, 6) + b"$4\r\nname\r\n" + _bulk(name)
            + b"$9\r\nconsumers\r\n" + integer(len(group.consumers))
            + b"$7\r\npending\r\n" + integer(len(group.pel))
            + b"$17\r\nlast-delivered-id\r\n" + _bulk_id(group.last_id)
            + b"$12\r\nentries-read\r\n" + _entries_read(client, group)
            + b"$3\r\nlag\r\n" + _lag(client, stream, group)
        )
    return b"*%d\r\n" % len(rows) + b"".join(rows)


@command("xinfo|stream")
def xinfo_stream(client, argv):
    stream = _info_target(client, argv)
    options = argv[3:]
    full = bool(options)
    count = 10
    if full:
        if len(options) not in (1, 3) or c_option(options[0]) != b"FULL":
            raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
        if len(options) == 3:
            if c_option(options[1]) != b"COUNT":
                raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
            count = _int(options[2])
            if count < 0:
                count = 10
    parts = [
        _map_header(client, 9 if full else 10),
        b"$6\r\nlength\r\n", integer(stream.length),
        b"$15\r\nradix-tree-keys\r\n", integer(len(stream.nodes)),
        b"$16\r\nradix-tree-nodes\r\n", integer(stream.radix_tree_nodes()),
        b"$17\r\nlast-generated-id\r\n", _bulk_id(stream.last_id),
        b"$20\r\nmax-deleted-entry-id\r\n", _bulk_id(stream.max_deleted_id),
        b"$13\r\nentries-added\r\n", integer(stream.entries_added),
        b"$23\r\nrecorded-first-entry-id\r\n", _bulk_id(stream.first_id),
    ]
    if not full:
        parts.append(b"$6\r\ngroups\r\n")
        parts.append(integer(len(stream.groups) if stream.groups else 0))
        for label, rev in ((b"$11\r\nfirst-entry\r\n", False), (b"$10\r\nlast-entry\r\n", True)):
            parts.append(label)
            edge = stream.range(0, MAX_ID, 1, rev)
            parts.append(_encode_entry(*edge[0]) if edge else _null(client))
        return b"".join(parts)
    parts.append(b"$7\r\nentries\r\n")
    parts.append(_encode_entries(stream.range(0, MAX_ID, count)))
    parts.append(b"$6\r\ngroups\r\n")
    names = stream.group_names()
    parts.append(b"*%d\r\n" % len(names))
    for name in names:
        group = stream.groups[name]
        parts.append(_map_header(client, 7))
        parts.append(b"$4\r\nname\r\n" + _bulk(name))
        parts.append(b"$17\r\nlast-delivered-id\r\n" + _bulk_id(group.last_id))
        parts.append(b"$12\r\nentries-read\r\n" + _entries_read(client, group))
        parts.append(b"$3\r\nlag\r\n" + _lag(client, stream, group))
        parts.append(b"$9\r\npel-count\r\n" + integer(len(group.pel)))
        parts.append(b"$7\r\npending\r\n")
        rows = []
        for sid, nack in group.pel.items():
            if count and len(rows) >= count:
                break
            rows.append(
                b"*4\r\n" + _bulk_id(sid) + _bulk(nack.consumer.name) + integer(nack.delivery_time)
                + integer(nack.delivery_count)
            )
        parts.append(b"*%d\r\n" % len(rows) + b"".join(rows))
        parts.append(b"$9\r\nconsumers\r\n")
        consumer_names = group.consumer_names()
        parts.append(b"*%d\r\n" % len(consumer_names))
        for consumer_name in consumer_names:
            consumer = group.consumers[consumer_name]
            parts.append(_map_header(client, 4))
            parts.append(b"$4\r\nname\r\n" + _bulk(consumer_name))
            parts.append(b"$9\r\nseen-time\r\n" + integer(consumer.seen_time))
            parts.append(b"$9\r\npel-count\r\n" + integer(len(consumer.pel)))
            parts.append(b"$7\r\npending\r\n")
            rows = []
            for sid, nack in consumer.pel.items():
                if count and len(rows) >= count:
                    break
                rows.append(
                    b"*3\r\n" + _bulk_id(sid) + integer(nack.delivery_time)
                    + integer(nack.delivery_count)
                )
            parts.append(b"*%d\r\n" % len(rows) + b"".join(rows))
    return b"".join(parts)
