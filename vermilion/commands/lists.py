"""List commands, blocking ones included (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).

Elements are stored RESP-encoded (see ``types.list``), so replies are mostly stored bytes joined.
Each command follows Redis 7.0's t_list.c in the order it checks things (which argument errors
come before the key lookup, WRONGTYPE before or after them), in its keyspace events, and in how
many changes it counts in ``server.dirty``: one per element pushed or popped, except a blocked
BLPOP / BRPOP / BLMOVE being served, which Redis does not count (BLMPOP's pops it does).

A blocking command that finds nothing to pop parks the client with ``server.blocking.block``;
its ``serve`` callback pops from the key that became ready (``blocking.serving_key``), or
returns None when that key holds no list, so the client keeps waiting.
"""

from __future__ import annotations

from .. import info
from ..blocking import parse_timeout
from ..errors import (
    COUNT_NOT_POSITIVE,
    INDEX_OUT_OF_RANGE,
    LPOS_COUNT_NEGATIVE,
    LPOS_MAXLEN_NEGATIVE,
    LPOS_RANK_ZERO,
    NO_SUCH_KEY,
    NOT_INTEGER,
    NOT_POSITIVE,
    NUMKEYS_NOT_POSITIVE,
    SYNTAX,
    WRONGTYPE,
    RedisError,
    wrong_arity,
)
from ..notify import NOTIFY_GENERIC, NOTIFY_LIST, notify
from ..registry import command, run_of
from ..resp.encode import (
    BULK_HEADER_LIMIT,
    BULK_HEADERS,
    EMPTY_ARRAY,
    NULL2,
    NULL3,
    NULL_ARRAY2,
    OK,
    ZERO,
    integer,
)
from ..types.list import ListValue, clamp_range
from ..types.string import INT64_MIN, parse_int
from .strings import c_option

LEFT, RIGHT = True, False
_MINUS_ONE = b":-1\r\n"


def _null(client) -> bytes:
    return NULL3 if client.resp3 else NULL2


def _null_array(client) -> bytes:
    return NULL3 if client.resp3 else NULL_ARRAY2


# Index arguments seen most (LRANGE 0 99, LINDEX -1 ...) parse with one dict lookup.
_SMALL_INDEXES = {b"%d" % i: i for i in range(-128, 1024)}


def _int(arg: bytes) -> int:
    number = _SMALL_INDEXES.get(arg)
    if number is None:
        number = parse_int(arg)
        if number is None:
            raise RedisError(NOT_INTEGER)
    return number


def _int_or(arg: bytes, message: str) -> int:
    """An integer whose parse error has a command-specific text (Redis passes its own message)."""
    number = parse_int(arg)
    if number is None:
        raise RedisError(message)
    return number


def _position(arg: bytes) -> bool:
    """LEFT or RIGHT (case-insensitive, as a C string)."""
    word = c_option(arg)
    if word == b"LEFT":
        return LEFT
    if word == b"RIGHT":
        return RIGHT
    raise RedisError(SYNTAX)


def new_list(client) -> ListValue:
    """An empty list with the node settings Redis gives a new quicklist."""
    config = client.server.config
    return ListValue(config.list_max_listpack_size, config.list_compress_depth)


def _array(encoded: list[bytes]) -> bytes:
    return b"*%d\r\n%s" % (len(encoded), b"".join(encoded))


def _pop_event(left: bool) -> bytes:
    return b"lpop" if left else b"rpop"


def _after_pop(db, key: bytes, value: ListValue, left: bool) -> None:
    """Events and the keyspace update after elements left ``key`` (Redis's listElementsRemoved,
    without the dirty count, which callers settle)."""
    notify(db, NOTIFY_LIST, _pop_event(left), key)
    if not len(value):
        db.delete(key)
        notify(db, NOTIFY_GENERIC, b"del", key)
    else:
        db.modified(key, 0)


def _lookup_list(db, key: bytes) -> ListValue | None:
    value = db.lookup_write(key)
    if value is not None and value.__class__ is not ListValue:
        raise RedisError(WRONGTYPE)
    return value


def _read_list(db, key: bytes) -> ListValue | None:
    value = db.lookup_read(key)
    if value is not None and value.__class__ is not ListValue:
        raise RedisError(WRONGTYPE)
    return value


# -- pushes --------------------------------------------------------------------------------------


def _push(client, argv: list[bytes], left: bool, only_existing: bool) -> bytes:
    db = client.db
    key = argv[1]
    value = db.lookup_write(key)
    count = len(argv) - 2
    if value is None:
        if only_existing:
            return ZERO
        value = new_list(client)
        encoded = [b"$%d\r\n%s\r\n" % (len(e), e) for e in argv[2:]]
        if left:
            encoded.reverse()
        value.items = encoded
        db.set_value(key, value)
        if count > 1:
            db.modified(key, count - 1)
    elif value.__class__ is ListValue:
        encoded = [b"$%d\r\n%s\r\n" % (len(e), e) for e in argv[2:]]
        if left:
            value.push_head_many(encoded)
        else:
            value.items.extend(encoded)
        db.modified(key, count)
    else:
        raise RedisError(WRONGTYPE)
    notify(db, NOTIFY_LIST, b"lpush" if left else b"rpush", key)
    return integer(len(value))


# LPUSH / RPUSH / LPOP / RPOP of one element on an existing list without a TTL take an inline
# path (the benchmarked hot case; not under an LFU policy, whose lookups count accesses);
# everything else goes through the general functions.


def lpush(client, argv):
    if len(argv) == 3:
        db = client.db
        key = argv[1]
        found = db.data.get(key)
        if (found.__class__ is ListValue and not (db.expires and key in db.expires)
                and db.lfu is None):
            value = found
            element = argv[2]
            size = len(element)
            encoded = (BULK_HEADERS[size] + element + b"\r\n" if size < BULK_HEADER_LIMIT
                       else b"$%d\r\n%s\r\n" % (size, element))
            head = value.head
            if head:
                head -= 1
                value.items[head] = encoded
                value.head = head
            else:
                value.push_head(encoded)
            server = client.server
            db.access[key] = server.lru_clock
            server.dirty += 1  # db.modified(key), inline
            db.mem_dirty.add(key)
            if db.watched or db.blocking_keys:
                db.signal(key)
            if server.notify_flags:
                notify(db, NOTIFY_LIST, b"lpush", key)
            return b":%d\r\n" % (len(value.items) - value.head)
    return _push(client, argv, LEFT, False)


def rpush(client, argv):
    if len(argv) == 3:
        db = client.db
        key = argv[1]
        found = db.data.get(key)
        if (found.__class__ is ListValue and not (db.expires and key in db.expires)
                and db.lfu is None):
            value = found
            element = argv[2]
            size = len(element)
            items = value.items
            items.append(BULK_HEADERS[size] + element + b"\r\n" if size < BULK_HEADER_LIMIT
                         else b"$%d\r\n%s\r\n" % (size, element))
            server = client.server
            db.access[key] = server.lru_clock
            server.dirty += 1  # db.modified(key), inline
            db.mem_dirty.add(key)
            if db.watched or db.blocking_keys:
                db.signal(key)
            if server.notify_flags:
                notify(db, NOTIFY_LIST, b"rpush", key)
            return b":%d\r\n" % (len(items) - value.head)
    return _push(client, argv, RIGHT, False)


# Registered after their definitions: the compiled build types them (lists.pxd) as cpdef
# functions, which Cython would silently strip of a decorator.
command("lpush")(lpush)
command("rpush")(rpush)


def _encoded_elements(group: list[list[bytes]]) -> list[bytes]:
    """The elements of single-element pushes, as stored."""
    try:
        return [BULK_HEADERS[len(element)] + element + b"\r\n" for _, _, element in group]
    except IndexError:  # an element of BULK_HEADER_LIMIT bytes or more
        return [b"$%d\r\n%s\r\n" % (len(element), element) for _, _, element in group]


def _push_run(client, group, left: bool) -> list[bytes] | None:
    """LPUSH / RPUSH of one element, repeated, on an existing list."""
    key = group[0][1]
    value = client.db.value_for_run(key, ListValue)
    if value is None:
        return None
    if left:
        value.push_head_many(_encoded_elements(group))
    else:
        value.items += _encoded_elements(group)
    calls = len(group)
    client.db.ran(key, calls)
    length = len(value.items) - value.head
    # The calls' replies are the lengths after each push, consecutive integers: formatted in
    # one operation, as one piece of the output (a third of the cost of one each).
    return [(b":%d\r\n" * calls) % tuple(range(length - calls + 1, length + 1))]


@run_of("lpush", 3)
def lpush_run(client, group):
    return _push_run(client, group, LEFT)


@run_of("rpush", 3)
def rpush_run(client, group):
    return _push_run(client, group, RIGHT)


@command("lpushx")
def lpushx(client, argv):
    return _push(client, argv, LEFT, True)


@command("rpushx")
def rpushx(client, argv):
    return _push(client, argv, RIGHT, True)


@command("linsert")
def linsert(client, argv):
    where = c_option(argv[2])
    if where == b"AFTER":
        after = True
    elif where == b"BEFORE":
        after = False
    else:
        raise RedisError(SYNTAX)
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return ZERO
    pivot = argv[3]
    index = value.index_of(b"$%d\r\n%s\r\n" % (len(pivot), pivot))
    if index < 0:
        return _MINUS_ONE
    element = argv[4]
    value.insert(index + 1 if after else index, b"$%d\r\n%s\r\n" % (len(element), element))
    db.modified(key)
    notify(db, NOTIFY_LIST, b"linsert", key)
    return integer(len(value))


# -- pops ----------------------------------------------------------------------------------------


def _pop(client, argv: list[bytes], left: bool) -> bytes:
    argc = len(argv)
    if argc == 2:
        db = client.db
        key = argv[1]
        value = db.lookup_write(key)
        if value is None:
            return NULL3 if client.resp3 else NULL2
        if value.__class__ is not ListValue:
            raise RedisError(WRONGTYPE)
        element = value.pop_head() if left else value.items.pop()
        notify(db, NOTIFY_LIST, b"lpop" if left else b"rpop", key)
        if len(value):
            db.modified(key)
        else:
            db.delete(key)  # counts the one change
            notify(db, NOTIFY_GENERIC, b"del", key)
        return element
    if argc > 3:
        raise RedisError(wrong_arity("lpop" if left else "rpop"))
    count = parse_int(argv[2])
    if count is None or count < 0:
        raise RedisError(NOT_POSITIVE)
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return _null_array(client)
    if not count:
        return EMPTY_ARRAY
    server = client.server
    before = server.dirty
    popped = value.pop_many(left, count)
    _after_pop(db, key, value, left)
    server.dirty = before + len(popped)
    return _array(popped)


def _pop_one_fast(client, key: bytes, left: bool) -> bytes | None:
    """LPOP / RPOP without a count on a list without a TTL; None when that does not apply."""
    db = client.db
    found = db.data.get(key)
    if (found.__class__ is not ListValue or (db.expires and key in db.expires)
            or db.lfu is not None):
        return None
    value = found
    element = value.pop_head() if left else value.items.pop()
    server = client.server
    if server.notify_flags:
        notify(db, NOTIFY_LIST, b"lpop" if left else b"rpop", key)
    if len(value.items) > value.head:
        db.access[key] = server.lru_clock
        server.dirty += 1  # db.modified(key), inline
        db.mem_dirty.add(key)
        if db.watched or db.blocking_keys:
            db.signal(key)
    else:
        db.delete(key)  # counts the one change
        notify(db, NOTIFY_GENERIC, b"del", key)
    return element


def lpop(client, argv):
    if len(argv) == 2:
        reply = _pop_one_fast(client, argv[1], LEFT)
        if reply is not None:
            return reply
    return _pop(client, argv, LEFT)


def rpop(client, argv):
    if len(argv) == 2:
        reply = _pop_one_fast(client, argv[1], RIGHT)
        if reply is not None:
            return reply
    return _pop(client, argv, RIGHT)


# Registered after their definitions, as LPUSH and RPUSH (typed in lists.pxd).
command("lpop")(lpop)
command("rpop")(rpop)


def _pop_run(client, group, left: bool) -> list[bytes] | None:
    """LPOP / RPOP without a count, repeated, on a list they do not empty."""
    key = group[0][1]
    value = client.db.value_for_run(key, ListValue)
    if value is None or len(value.items) - value.head <= len(group):
        return None
    popped = value.pop_many(left, len(group))
    client.db.ran(key, len(group))
    return popped


@run_of("lpop", 2)
def lpop_run(client, group):
    return _pop_run(client, group, LEFT)


@run_of("rpop", 2)
def rpop_run(client, group):
    return _pop_run(client, group, RIGHT)


def _parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """LMPOP / BLMPOP arguments from ``numkeys``: the keys, the end to pop from, the count."""
    numkeys = parse_int(argv[numkeys_index])
    if numkeys is None or numkeys < 1:
        raise RedisError(NUMKEYS_NOT_POSITIVE)
    argc = len(argv)
    where_index = numkeys_index + numkeys + 1
    if where_index >= argc:
        raise RedisError(SYNTAX)
    left = _position(argv[where_index])
    count = -1
    index = where_index + 1
    while index < argc:
        if count == -1 and c_option(argv[index]) == b"COUNT" and index + 1 < argc:
            count = parse_int(argv[index + 1])
            if count is None or count < 1:
                raise RedisError(COUNT_NOT_POSITIVE)
            index += 2
        else:
            raise RedisError(SYNTAX)
    keys = argv[numkeys_index + 1 : where_index]
    return keys, left, 1 if count == -1 else count


def _pop_with_key(client, key: bytes, value: ListValue, left: bool, count: int,
                  served: bool = False) -> bytes:
    """[key, [elements]]: LMPOP's reply, after popping (counts one change per element)."""
    db = client.db
    server = client.server
    before = server.dirty
    popped = value.pop_many(left, count)
    _after_pop(db, key, value, left)
    server.dirty = before + len(popped)
    if server.propagation is not None:
        # [B]LMPOP propagates as LPOP/RPOP with the number of elements popped.
        _propagate_pop(client, [b"LPOP" if left else b"RPOP", key, b"%d" % len(popped)], served)
    return b"*2\r\n$%d\r\n%s\r\n%s" % (len(key), key, _array(popped))


def _propagate_pop(client, argv: list[bytes], served: bool) -> None:
    """What a blocking (or multi-key) pop propagates: in place of the command that ran now, or
    as a command of its own for a client served after someone else's write."""
    server = client.server
    if served:
        server.propagate(client.db.index, argv)
    else:
        server.propagate_as(client, [argv])


def _first_list(db, keys: list[bytes]) -> tuple[bytes, ListValue] | None:
    """The first of ``keys`` holding a list (WRONGTYPE on a key of another type before it)."""
    for key in keys:
        value = db.lookup_write(key)
        if value is None:
            continue
        if value.__class__ is not ListValue:
            raise RedisError(WRONGTYPE)
        return key, value
    return None


@command("lmpop")
def lmpop(client, argv):
    keys, left, count = _parse_mpop(argv, 1)
    found = _first_list(client.db, keys)
    if found is None:
        return _null_array(client)
    return _pop_with_key(client, found[0], found[1], left, count)


# -- reads ---------------------------------------------------------------------------------------


@command("llen")
def llen(client, argv):
    value = _read_list(client.db, argv[1])
    return ZERO if value is None else integer(len(value))


@command("lindex")
def lindex(client, argv):
    value = _read_list(client.db, argv[1])
    if value is None:
        return _null(client)
    index = _int(argv[2])
    length = len(value)
    if index < 0:
        index += length
    if 0 <= index < length:
        return value.items[value.head + index]
    return _null(client)


@command("lrange")
def lrange(client, argv):
    start = _int(argv[2])
    end = _int(argv[3])
    value = _read_list(client.db, argv[1])
    if value is None:
        return EMPTY_ARRAY
    bounds = clamp_range(start, end, len(value))
    if bounds is None:
        return EMPTY_ARRAY
    start, end = bounds
    head = value.head
    parts = value.items[head + start : head + end + 1]
    parts.insert(0, b"*%d\r\n" % len(parts))
    return b"".join(parts)


@command("lpos")
def lpos(client, argv):
    rank, count, maxlen = 1, -1, 0
    argc = len(argv)
    index = 3
    while index < argc:
        option = c_option(argv[index])
        has_value = index + 1 < argc
        if option == b"RANK" and has_value:
            rank = _int(argv[index + 1])
            if rank == 0:
                raise RedisError(LPOS_RANK_ZERO)
        elif option == b"COUNT" and has_value:
            count = _int_or(argv[index + 1], LPOS_COUNT_NEGATIVE)
            if count < 0:
                raise RedisError(LPOS_COUNT_NEGATIVE)
        elif option == b"MAXLEN" and has_value:
            maxlen = _int_or(argv[index + 1], LPOS_MAXLEN_NEGATIVE)
            if maxlen < 0:
                raise RedisError(LPOS_MAXLEN_NEGATIVE)
        else:
            raise RedisError(SYNTAX)
        index += 2
    value = client.db.lookup_read(argv[1])
    if value is None:
        return EMPTY_ARRAY if count != -1 else _null(client)
    if value.__class__ is not ListValue:
        raise RedisError(WRONGTYPE)
    forward = rank > 0
    if rank == INT64_MIN:
        # Redis negates the rank in 64 bits: it stays negative, so every match qualifies and a
        # COUNT limit never triggers (its arithmetic wraps).
        rank = 1
        if count > 0:
            count = 0
    elif rank < 0:
        rank = -rank
    element = argv[2]
    target = b"$%d\r\n%s\r\n" % (len(element), element)
    items = value.items
    head = value.head
    length = len(items) - head
    if forward and rank == 1 and count == -1:
        try:
            return integer(items.index(target, head, head + (maxlen or length)) - head)
        except ValueError:
            return _null(client)
    walk = value.encoded()
    if not forward:
        walk.reverse()
    matches = 0
    found: list[bytes] = []
    for position, item in enumerate(walk):
        if maxlen and position >= maxlen:
            break
        if item == target:
            matches += 1
            if matches >= rank:
                where = position if forward else length - position - 1
                if count == -1:
                    return integer(where)
                found.append(integer(where))
                if count and len(found) >= count:
                    break
    if count == -1:
        return _null(client)
    return _array(found)


# -- in-place changes ------------------------------------------------------------------------------


@command("lset")
def lset(client, argv):
    db = client.db
    key = argv[1]
    value = db.lookup_write(key)
    if value is None:
        raise RedisError(NO_SUCH_KEY)
    if value.__class__ is not ListValue:
        raise RedisError(WRONGTYPE)
    index = _int(argv[2])
    length = len(value)
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise RedisError(INDEX_OUT_OF_RANGE)
    element = argv[3]
    value.items[value.head + index] = b"$%d\r\n%s\r\n" % (len(element), element)
    db.modified(key)
    notify(db, NOTIFY_LIST, b"lset", key)
    return OK


@command("ltrim")
def ltrim(client, argv):
    start = _int(argv[2])
    end = _int(argv[3])
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return OK
    length = len(value)
    bounds = clamp_range(start, end, length)
    if bounds is None:
        removed = length
        value.clear()
    else:
        start, end = bounds
        removed = length - (end - start + 1)
        if removed:
            value.keep_range(start, end)
    server = client.server
    before = server.dirty
    notify(db, NOTIFY_LIST, b"ltrim", key)
    if not len(value):
        db.delete(key)
        notify(db, NOTIFY_GENERIC, b"del", key)
    else:
        db.modified(key, 0)
    server.dirty = before + removed
    return OK


@command("lrem")
def lrem(client, argv):
    to_remove = _int(argv[2])
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return ZERO
    element = argv[3]
    target = b"$%d\r\n%s\r\n" % (len(element), element)
    if to_remove == 1 or (to_remove == 0 and len(value) == 1):
        index = value.index_of(target)
        removed = 0
        if index >= 0:
            removed = 1
            if index == 0:
                value.pop_head()
            else:
                del value.items[value.head + index]
    else:
        limit = abs(to_remove) or len(value)
        kept = []
        removed = 0
        walk = value.encoded()
        if to_remove < 0:
            walk.reverse()
        for item in walk:
            if removed < limit and item == target:
                removed += 1
            else:
                kept.append(item)
        if removed:
            if to_remove < 0:
                kept.reverse()
            value.replace_all(kept)
    if not removed:
        return ZERO
    server = client.server
    before = server.dirty
    notify(db, NOTIFY_LIST, b"lrem", key)
    if not len(value):
        db.delete(key)
        notify(db, NOTIFY_GENERIC, b"del", key)
    else:
        db.modified(key, 0)
    server.dirty = before + removed
    return integer(removed)


# -- moves ---------------------------------------------------------------------------------------


def _move(client, source_key: bytes, source: ListValue, target_key: bytes, wherefrom: bool,
          whereto: bool, counted: bool) -> bytes:
    """Pop from ``source`` (a non-empty list) and push onto ``target_key`` (Redis's
    lmoveGenericCommand after the source checks): one change, or none when a blocked client
    is being served. WRONGTYPE when the target holds something else."""
    db = client.db
    target = db.lookup_write(target_key)
    if target is not None and target.__class__ is not ListValue:
        raise RedisError(WRONGTYPE)
    server = client.server
    before = server.dirty
    element = source.pop_head() if wherefrom else source.items.pop()
    if target is None:
        target = new_list(client)
        target.items.append(element)
        db.set_value(target_key, target)
    else:
        if whereto:
            target.push_head(element)
        else:
            target.items.append(element)
        db.modified(target_key, 0)
    notify(db, NOTIFY_LIST, b"lpush" if whereto else b"rpush", target_key)
    _after_pop(db, source_key, source, wherefrom)
    server.dirty = before + (1 if counted else 0)
    return element


@command("lmove")
def lmove(client, argv):
    wherefrom = _position(argv[3])
    whereto = _position(argv[4])
    source = _lookup_list(client.db, argv[1])
    if source is None:
        return _null(client)
    return _move(client, argv[1], source, argv[2], wherefrom, whereto, True)


@command("rpoplpush")
def rpoplpush(client, argv):
    source = _lookup_list(client.db, argv[1])
    if source is None:
        return _null(client)
    return _move(client, argv[1], source, argv[2], RIGHT, LEFT, True)


# -- blocking ------------------------------------------------------------------------------------


def _serving_list(client, keys: list[bytes]) -> tuple[bytes, ListValue] | None:
    """The key a blocked client is being served from, with its list (None: not a list now)."""
    key = client.server.blocking.serving_key
    if key is None or key not in keys:
        for key in keys:
            value = client.db.lookup_write(key)
            if value.__class__ is ListValue:
                return key, value
        return None
    value = client.db.lookup_write(key)
    if value.__class__ is not ListValue:
        return None
    return key, value


def _blocking_pop(client, keys: list[bytes], left: bool, timeout: float,
                  count: int | None) -> bytes | None:
    """BLPOP / BRPOP (``count`` None) and BLMPOP: pop now, or block on ``keys``."""
    found = _first_list(client.db, keys)
    if found is not None:
        key, value = found
        if count is not None:
            return _pop_with_key(client, key, value, left, count)
        db = client.db
        element = value.pop_head() if left else value.items.pop()
        server = client.server
        before = server.dirty
        _after_pop(db, key, value, left)
        server.dirty = before + 1
        if server.propagation is not None:
            _propagate_pop(client, [b"LPOP" if left else b"RPOP", key], False)
        return b"*2\r\n$%d\r\n%s\r\n%s" % (len(key), key, element)
    blocking = client.server.blocking
    if not blocking.can_block(client):
        return _null_array(client)

    def serve(waiter) -> bytes | None:
        ready = _serving_list(waiter, keys)
        if ready is None:
            return None
        key, value = ready
        if count is not None:
            return _pop_with_key(waiter, key, value, left, count, True)
        db = waiter.db
        server = waiter.server
        before = server.dirty
        element = value.pop_head() if left else value.items.pop()
        _after_pop(db, key, value, left)
        server.dirty = before  # Redis does not count a served BLPOP / BRPOP
        if server.propagation is not None:
            _propagate_pop(waiter, [b"LPOP" if left else b"RPOP", key], True)
        return b"*2\r\n$%d\r\n%s\r\n%s" % (len(key), key, element)

    blocking.block(client, keys, timeout, serve, _null_array(client), "list")
    return None


@command("blpop")
def blpop(client, argv):
    timeout = parse_timeout(argv[-1])
    return _blocking_pop(client, argv[1:-1], LEFT, timeout, None)


@command("brpop")
def brpop(client, argv):
    timeout = parse_timeout(argv[-1])
    return _blocking_pop(client, argv[1:-1], RIGHT, timeout, None)


@command("blmpop")
def blmpop(client, argv):
    keys, left, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    return _blocking_pop(client, keys, left, timeout, count)


def _blocking_move(client, source_key: bytes, target_key: bytes, wherefrom: bool, whereto: bool,
                   timeout: float, rpoplpush: bool) -> bytes | None:
    # Propagated as the non-blocking command (RPOPLPUSH for BRPOPLPUSH, else LMOVE).
    if rpoplpush:
        propagated = [b"RPOPLPUSH", source_key, target_key]
    else:
        propagated = [b"LMOVE", source_key, target_key, b"LEFT" if wherefrom else b"RIGHT",
                      b"LEFT" if whereto else b"RIGHT"]
    source = _lookup_list(client.db, source_key)
    if source is not None:
        reply = _move(client, source_key, source, target_key, wherefrom, whereto, True)
        if client.server.propagation is not None:
            _propagate_pop(client, propagated, False)
        return reply
    blocking = client.server.blocking
    if not blocking.can_block(client):
        return _null(client)

    def serve(waiter) -> bytes | None:
        value = waiter.db.lookup_write(source_key)
        if value.__class__ is not ListValue:
            return None
        reply = _move(waiter, source_key, value, target_key, wherefrom, whereto, False)
        if waiter.server.propagation is not None:
            _propagate_pop(waiter, propagated, True)
        return reply

    # A timed-out BLMOVE answers a null ARRAY in Redis 7.0, unlike its immediate null.
    blocking.block(client, [source_key], timeout, serve, _null_array(client), "list")
    return None


@command("blmove")
def blmove(client, argv):
    wherefrom = _position(argv[3])
    whereto = _position(argv[4])
    timeout = parse_timeout(argv[5])
    return _blocking_move(client, argv[1], argv[2], wherefrom, whereto, timeout, False)


@command("brpoplpush")
def brpoplpush(client, argv):
    timeout = parse_timeout(argv[3])
    return _blocking_move(client, argv[1], argv[2], RIGHT, LEFT, timeout, True)


# -- INFO and CLIENT LIST figures for blocked clients ----------------------------------------------


def _held_by_pause(server) -> list:
    pause = server.client_pause
    return pause.held if pause is not None else []


def _blocked_clients(server) -> int:
    # Redis counts clients held by CLIENT PAUSE as blocked too (BLOCKED_POSTPONE).
    return server.blocking.blocked_count + len(_held_by_pause(server))


def _clients_in_timeout_table(server) -> int:
    return sum(
        1 for c in server.clients.values() if c.blocked is not None and c.blocked.timer is not None
    )


def _install_flag_provider() -> None:
    """Add 'b' to CLIENT LIST flags for blocked clients, keeping any other provider's letters."""
    previous = info.CLIENT_GAUGES.get("flags")

    def flags(client) -> str:
        letters = previous(client) if previous is not None else ""
        held = _held_by_pause(client.server)
        if client.blocked is not None or any(entry[0] is client for entry in held):
            letters += "b"
        return letters

    info.CLIENT_GAUGES["flags"] = flags


info.GAUGES["blocked_clients"] = _blocked_clients
info.GAUGES["clients_in_timeout_table"] = _clients_in_timeout_table
_install_flag_provider()
