"""Set commands.

Replies follow Redis 7.0, including where it orders members: an intset iterates in numeric
order, so SMEMBERS, SINTER, SUNION... of integer sets come out sorted; results that Redis builds
as a new set (SUNION, SDIFF, the STORE forms, SPOP of the whole set) are intsets exactly when
Redis's would be. Sets reply as RESP3 sets (``~``), SRANDMEMBER with a count as an array.
Dirty counts and keyspace events match Redis's (``sadd``, ``srem``, ``spop``, ``sinterstore``,
``sunionstore``, ``sdiffstore``, and ``del`` when a command empties a key).
"""

from __future__ import annotations

import random

from .. import glob
from ..errors import (
    NOT_INTEGER,
    NOT_POSITIVE,
    SET_LIMIT_NEGATIVE,
    SET_NUMKEYS_POSITIVE,
    SET_NUMKEYS_TOO_MANY,
    SYNTAX,
    WRONGTYPE,
    RedisError,
    int_out_of_range,
)
from ..notify import NOTIFY_GENERIC, NOTIFY_SET, notify
from ..registry import command, run_of
from ..resp.encode import EMPTY_ARRAY, NULL2, NULL3, ONE, ZERO, integer
from ..types.set import RedisSet, all_integers, intset_order
from ..types.string import INT64_MAX, parse_int
from .keys import parse_cursor
from .strings import c_option

EMPTY_SET3 = b"~0\r\n"
EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"


def _read_set(db, key: bytes) -> RedisSet | None:
    value = db.lookup_read(key)
    if value is None or value.__class__ is RedisSet:
        return value
    raise RedisError(WRONGTYPE)


def _write_set(db, key: bytes) -> RedisSet | None:
    value = db.lookup_write(key)
    if value is None or value.__class__ is RedisSet:
        return value
    raise RedisError(WRONGTYPE)


def _bulks(members) -> bytes:
    return b"".join([b"$%d\r\n%s\r\n" % (len(m), m) for m in members])


def set_reply(members: list[bytes], resp3: bool) -> bytes:
    """Members as a RESP3 set (an array in RESP2)."""
    head = b"~%d\r\n" if resp3 else b"*%d\r\n"
    return head % len(members) + _bulks(members)


def _array_reply(members: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(members) + _bulks(members)


def _long(arg: bytes) -> int:
    number = parse_int(arg)
    if number is None:
        raise RedisError(NOT_INTEGER)
    return number


def _commit(db, key: bytes, value: RedisSet, changes: int) -> None:
    """Record ``changes`` to an existing set: dirty count, WATCH, and deletion once empty."""
    if not value.members:
        db.delete(key)
        changes -= 1
    if changes > 0:
        db.modified(key, changes)


def _store_new(db, key: bytes, value, changes: int) -> None:
    """Create ``key`` (replacing anything there) and count ``changes`` dirty changes."""
    db.set_value(key, value)
    if changes > 1:
        db.modified(key, changes - 1)


def _max_intset(client) -> int:
    return client.server.config.set_max_intset_entries


# -- single-key commands ------------------------------------------------------------------------


def sadd(client, argv):
    db = client.db
    key = argv[1]
    if len(argv) == 3:
        # One member into an existing set without a TTL or LFU counting: the benchmarked hot
        # case, inline (the lookup is lookup_write's, an existing member answers at once).
        found = db.data.get(key)
        if (found.__class__ is RedisSet and not (db.expires and key in db.expires)
                and db.lfu is None):
            existing = found
            db.access[key] = client.server.lru_clock
            if argv[2] in existing.positions:
                return ZERO
            existing.add(argv[2], client.server.config.set_max_intset_entries)
            db.modified(key)
            notify(db, NOTIFY_SET, b"sadd", key)
            return ONE
    value = db.lookup_write(key)
    limit = client.server.config.set_max_intset_entries
    if value is None:
        value = RedisSet.for_member(argv[2])
        added = 0
        for member in argv[2:]:
            if value.add(member, limit):
                added += 1
        _store_new(db, key, value, added)
    elif value.__class__ is not RedisSet:
        raise RedisError(WRONGTYPE)
    elif len(argv) == 3:
        if not value.add(argv[2], limit):
            return ZERO
        db.modified(key)
        added = 1
    else:
        added = 0
        for member in argv[2:]:
            if value.add(member, limit):
                added += 1
        if not added:
            return ZERO
        db.modified(key, added)
    notify(db, NOTIFY_SET, b"sadd", key)
    return integer(added)


# Registered after its definition: the compiled build types it (sets.pxd) as a cpdef function,
# which Cython would silently strip of a decorator.
command("sadd")(sadd)


@run_of("sadd", 3)
def sadd_run(client, group):
    key = group[0][1]
    db = client.db
    value = db.value_for_run(key, RedisSet)
    if value is None:
        return None
    replies = []
    added = 0
    if value.intset:
        limit = client.server.config.set_max_intset_entries
        for _, _, member in group:
            if value.add(member, limit):
                added += 1
                replies.append(ONE)
            else:
                replies.append(ZERO)
    else:
        # A hashtable stays one: RedisSet.add, inline.
        positions = value.positions
        members = value.members
        for _, _, member in group:
            if member in positions:
                replies.append(ZERO)
            else:
                positions[member] = len(members)
                members.append(member)
                added += 1
                replies.append(ONE)
        if added:
            value.sorted_cache = None
    db.ran(key, added)
    return replies


@command("srem")
def srem(client, argv):
    db = client.db
    key = argv[1]
    value = _write_set(db, key)
    if value is None:
        return ZERO
    removed = 0
    for member in argv[2:]:
        if value.remove(member):
            removed += 1
            if not value.members:
                break
    if removed:
        emptied = not value.members
        _commit(db, key, value, removed)
        notify(db, NOTIFY_SET, b"srem", key)
        if emptied:
            notify(db, NOTIFY_GENERIC, b"del", key)
    return integer(removed)


@command("smove")
def smove(client, argv):
    db = client.db
    source_key, target_key, member = argv[1], argv[2], argv[3]
    source = db.lookup_write(source_key)
    target = db.lookup_write(target_key)
    if source is None:
        return ZERO
    if source.__class__ is not RedisSet or (
        target is not None and target.__class__ is not RedisSet
    ):
        raise RedisError(WRONGTYPE)
    if source is target:
        return ONE if member in source else ZERO
    if not source.remove(member):
        return ZERO
    notify(db, NOTIFY_SET, b"srem", source_key)
    if not source.members:
        db.delete(source_key)
        notify(db, NOTIFY_GENERIC, b"del", source_key)
    else:
        db.modified(source_key)
    limit = _max_intset(client)
    if target is None:
        target = RedisSet.for_member(member)
        target.add(member, limit)
        db.set_value(target_key, target)
        notify(db, NOTIFY_SET, b"sadd", target_key)
    elif target.add(member, limit):
        db.modified(target_key)
        notify(db, NOTIFY_SET, b"sadd", target_key)
    return ONE


@command("sismember")
def sismember(client, argv):
    value = _read_set(client.db, argv[1])
    if value is None:
        return ZERO
    return ONE if argv[2] in value.positions else ZERO


@command("smismember")
def smismember(client, argv):
    value = _read_set(client.db, argv[1])
    positions = value.positions if value is not None else {}
    return b"*%d\r\n" % (len(argv) - 2) + b"".join(
        [ONE if member in positions else ZERO for member in argv[2:]]
    )


@command("scard")
def scard(client, argv):
    value = _read_set(client.db, argv[1])
    return ZERO if value is None else integer(len(value.members))


@command("smembers")
def smembers(client, argv):
    value = _read_set(client.db, argv[1])
    if value is None:
        return EMPTY_SET3 if client.resp3 else EMPTY_ARRAY
    return set_reply(value.ordered(), client.resp3)


# -- random members ------------------------------------------------------------------------------

# Redis switches SPOP to "rebuild the remainder" when fewer than count/5 members stay behind.
_SPOP_MOVE_STRATEGY_MUL = 5


@command("spop")
def spop(client, argv):
    if len(argv) == 3:
        return _spop_count(client, argv)
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    db = client.db
    key = argv[1]
    value = _write_set(db, key)
    if value is None:
        return NULL3 if client.resp3 else NULL2
    member = value.pop_random()
    notify(db, NOTIFY_SET, b"spop", key)
    if value.members:
        db.modified(key)
    else:
        db.delete(key)
        notify(db, NOTIFY_GENERIC, b"del", key)
    server = client.server
    if server.propagation is not None:
        server.propagate_as(client, [[b"SREM", key, member]])
    return b"$%d\r\n%s\r\n" % (len(member), member)


def _spop_count(client, argv) -> bytes:
    count = parse_int(argv[2])
    if count is None or count < 0:
        raise RedisError(NOT_POSITIVE)
    db = client.db
    key = argv[1]
    resp3 = client.resp3
    value = _write_set(db, key)
    if value is None or count == 0:
        return EMPTY_SET3 if resp3 else EMPTY_ARRAY
    size = len(value.members)
    notify(db, NOTIFY_SET, b"spop", key)
    if count >= size:
        # The whole set, in the order of a union of it with nothing (an intset when it can be).
        members = value.ordered()
        if not value.intset and len(members) <= _max_intset(client) and all_integers(members):
            members = intset_order(members)
        reply = set_reply(list(members), resp3)
        db.delete(key)
        if size > 1:
            db.modified(key, size - 1)
        notify(db, NOTIFY_GENERIC, b"del", key)
        server = client.server
        if server.propagation is not None:
            server.propagate_as(client, [[b"UNLINK" if server.config.lazyfree_lazy_server_del else b"DEL", key]])
        return reply
    remaining = size - count
    if remaining * _SPOP_MOVE_STRATEGY_MUL > count:
        popped = [value.pop_random() for _ in range(count)]
    else:
        # Keep `remaining` random members in a new set, return the rest (Redis's CASE 3): the
        # new set gets its encoding afresh from what it holds.
        kept = [value.pop_random() for _ in range(remaining)]
        popped = value.ordered()
        limit = _max_intset(client)
        fresh = RedisSet.for_member(kept[0])
        for member in kept:
            fresh.add(member, limit)
        value.adopt(fresh)
    db.modified(key, count)
    server = client.server
    if server.propagation is not None:
        # One SREM per member, as Redis 7.0 propagates them (wrapped in MULTI/EXEC).
        server.propagate_as(client, [[b"SREM", key, member] for member in popped])
    return set_reply(popped, resp3)


@command("srandmember")
def srandmember(client, argv):
    if len(argv) == 3:
        return _srandmember_count(client, argv)
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    value = _read_set(client.db, argv[1])
    if value is None:
        return NULL3 if client.resp3 else NULL2
    member = value.random_member()
    return b"$%d\r\n%s\r\n" % (len(member), member)


def _srandmember_count(client, argv) -> bytes:
    count = _long(argv[2])
    if count < -INT64_MAX:
        raise RedisError(int_out_of_range(-INT64_MAX, INT64_MAX))
    value = _read_set(client.db, argv[1])
    if value is None or count == 0:
        return EMPTY_ARRAY
    members = value.members
    size = len(members)
    if count < 0 or count == 1:
        return _array_reply(random.choices(members, k=abs(count)))
    if count >= size:
        return _array_reply(value.ordered())
    return _array_reply(random.sample(members, count))


# -- set algebra -------------------------------------------------------------------------------


def _lookup_sets(db, keys: list[bytes]) -> list[RedisSet | None]:
    """Each key's set (None when missing); WRONGTYPE at the first key of another type."""
    sets = []
    for key in keys:
        value = db.lookup_read(key)
        if value is not None and value.__class__ is not RedisSet:
            raise RedisError(WRONGTYPE)
        sets.append(value)
    return sets


def _intersection(sets: list[RedisSet], limit: int = 0) -> list[bytes]:
    """Members of every set, in the iteration order of the smallest (Redis's SINTER)."""
    ordered = sorted(sets, key=len)
    first = ordered[0]
    others = [s.positions for s in ordered[1:] if s is not first]
    result = []
    for member in first.ordered():
        for positions in others:
            if member not in positions:
                break
        else:
            result.append(member)
            if limit and len(result) >= limit:
                break
    return result


def _store_result(client, target_key: bytes, members: list[bytes], intset: bool,
                  event: bytes) -> bytes:
    db = client.db
    if members:
        db.lookup_write(target_key)  # an expired target is reclaimed (and counted) first
        db.set_value(target_key, RedisSet.from_members(members, intset))
        notify(db, NOTIFY_SET, event, target_key)
        return integer(len(members))
    if db.delete(target_key):
        notify(db, NOTIFY_GENERIC, b"del", target_key)
    return ZERO


def _sinter_generic(client, keys: list[bytes], target_key: bytes | None) -> bytes:
    db = client.db
    sets = _lookup_sets(db, keys)
    if any(value is None for value in sets):
        if target_key is not None:
            if db.delete(target_key):
                notify(db, NOTIFY_GENERIC, b"del", target_key)
            return ZERO
        return EMPTY_SET3 if client.resp3 else EMPTY_ARRAY
    members = _intersection(sets)
    if target_key is None:
        return set_reply(members, client.resp3)
    limit = _max_intset(client)
    intset = len(members) <= limit and all_integers(members)
    if intset:
        members = intset_order(members)
    return _store_result(client, target_key, members, intset, b"sinterstore")


@command("sinter")
def sinter(client, argv):
    return _sinter_generic(client, argv[1:], None)


@command("sinterstore")
def sinterstore(client, argv):
    return _sinter_generic(client, argv[2:], argv[1])


@command("sintercard")
def sintercard(client, argv):
    numkeys = parse_int(argv[1])
    if numkeys is None or numkeys < 1:
        raise RedisError(SET_NUMKEYS_POSITIVE)
    if numkeys > len(argv) - 2:
        raise RedisError(SET_NUMKEYS_TOO_MANY)
    limit = 0
    index = 2 + numkeys
    while index < len(argv):
        if c_option(argv[index]) == b"LIMIT" and index + 1 < len(argv):
            index += 1
            limit = parse_int(argv[index])
            if limit is None or limit < 0:
                raise RedisError(SET_LIMIT_NEGATIVE)
        else:
            raise RedisError(SYNTAX)
        index += 1
    sets = _lookup_sets(client.db, argv[2 : 2 + numkeys])
    if any(value is None for value in sets):
        return ZERO
    return integer(len(_intersection(sets, limit)))


def _union_diff(client, keys: list[bytes], target_key: bytes | None, union: bool) -> bytes:
    db = client.db
    sets = _lookup_sets(db, keys)
    limit = _max_intset(client)
    first = sets[0]
    if union:
        seen: dict[bytes, None] = {}
        for value in sets:
            if value is not None:
                seen.update(dict.fromkeys(value.ordered()))
        members = list(seen)
        intset = len(members) <= limit and all_integers(members)
    elif first is None or any(value is first for value in sets[1:]):
        members = []
        intset = True
    else:
        others = [value.positions for value in sets[1:] if value is not None]
        members = [m for m in first.ordered() if not any(m in other for other in others)]
        # Redis picks one of two algorithms by estimated work; the second one first copies the
        # whole first set into the result, which then decides the result's encoding.
        work_one = sum(len(first) for value in sets if value is not None) // 2
        work_two = sum(len(value) for value in sets if value is not None)
        if work_one <= work_two:
            intset = len(members) <= limit and all_integers(members)
        else:
            intset = len(first) <= limit and (first.intset or all_integers(first.members))
    if intset:
        members = intset_order(members)
    if target_key is None:
        return set_reply(members, client.resp3)
    return _store_result(client, target_key, members, intset,
                         b"sunionstore" if union else b"sdiffstore")


@command("sunion")
def sunion(client, argv):
    return _union_diff(client, argv[1:], None, True)


@command("sunionstore")
def sunionstore(client, argv):
    return _union_diff(client, argv[2:], argv[1], True)


@command("sdiff")
def sdiff(client, argv):
    return _union_diff(client, argv[1:], None, False)


@command("sdiffstore")
def sdiffstore(client, argv):
    return _union_diff(client, argv[2:], argv[1], False)


# -- SSCAN ---------------------------------------------------------------------------------------


def parse_scan_options(argv: list[bytes], start: int) -> tuple[int, bytes | None]:
    """COUNT and MATCH of SSCAN / ZSCAN / HSCAN (TYPE belongs to SCAN only)."""
    count = 10
    pattern = None
    index = start
    argc = len(argv)
    while index < argc:
        option = c_option(argv[index])
        if option == b"COUNT" and index + 1 < argc:
            count = _long(argv[index + 1])
            if count < 1:
                raise RedisError(SYNTAX)
        elif option == b"MATCH" and index + 1 < argc:
            pattern = argv[index + 1]
            if pattern == b"*":
                pattern = None
        else:
            raise RedisError(SYNTAX)
        index += 2
    return count, pattern


def scan_reply(cursor: int, items: list[bytes]) -> bytes:
    text = b"%d" % cursor
    return b"*2\r\n$%d\r\n%s\r\n*%d\r\n%s" % (len(text), text, len(items), _bulks(items))


@command("sscan")
def sscan(client, argv):
    cursor = parse_cursor(argv[2])
    value = _read_set(client.db, argv[1])
    if value is None:
        return EMPTY_SCAN
    count, pattern = parse_scan_options(argv, 3)
    if value.intset:
        # Redis returns a compact encoding whole, with cursor 0.
        next_cursor, batch = 0, list(value.ordered())
    else:
        next_cursor, batch = value.scan(cursor, count)
    if pattern is not None:
        matches = glob.compile(pattern)
        batch = [member for member in batch if matches(member)]
    return scan_reply(next_cursor, batch)
