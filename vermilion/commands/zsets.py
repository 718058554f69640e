"""Sorted set commands.

One range engine serves ZRANGE's unified syntax and every older form (ZREVRANGE,
ZRANGEBYSCORE, ZRANGEBYLEX, ...) as in Redis 7.0's zrangeGenericCommand, including its argument
order of checks and its treatment of LIMIT (a negative offset yields nothing, a negative count
means "all"). ZUNION/ZINTER/ZDIFF (and STORE, ZINTERCARD) accept sets as inputs with score 1 and
aggregate in Redis's order (inputs by ascending size), so sums round the same way.

Scores print as Redis 7.0 prints doubles (%.17g, ``inf``/``-inf``), RESP3 as doubles, WITHSCORES
pairs as nested arrays in RESP3. Encodings follow ``zset-max-listpack-entries``/``-value``.
"""

from __future__ import annotations

import itertools
import random

from .. import glob
from ..blocking import parse_timeout
from ..errors import (
    LEX_RANGE_INVALID,
    MIN_MAX_NOT_FLOAT,
    NOT_FLOAT,
    NOT_INTEGER,
    NOT_POSITIVE,
    SCORE_NAN,
    SET_LIMIT_NEGATIVE,
    SET_NUMKEYS_POSITIVE,
    SYNTAX,
    VALUE_OUT_OF_RANGE,
    WEIGHT_NOT_FLOAT,
    WRONGTYPE,
    ZADD_GT_LT_NX,
    ZADD_INCR_PAIR,
    ZADD_XX_NX,
    ZRANGE_LIMIT_BY_RANK,
    ZRANGE_WITHSCORES_BYLEX,
    ZSET_COUNT_POSITIVE,
    RedisError,
    int_out_of_range,
    zset_needs_keys,
)
from ..notify import NOTIFY_GENERIC, NOTIFY_ZSET, notify
from ..registry import command, run_of
from ..resp.encode import (
    EMPTY_ARRAY,
    NULL2,
    NULL3,
    NULL_ARRAY2,
    ONE,
    ZERO,
    format_double,
    integer,
)
from ..types.set import RedisSet
from ..types.string import INT64_MAX, INT64_MIN, parse_int
from ..types.zset import (
    ZSet,
    listpack_score_text,
    parse_double,
    parse_lex_range,
    parse_score_range,
)
from .keys import parse_cursor
from .sets import EMPTY_SCAN, parse_scan_options, scan_reply
from .strings import c_option


def _read_zset(db, key: bytes) -> ZSet | None:
    value = db.lookup_read(key)
    if value is None or value.__class__ is ZSet:
        return value
    raise RedisError(WRONGTYPE)


def _write_zset(db, key: bytes) -> ZSet | None:
    value = db.lookup_write(key)
    if value is None or value.__class__ is ZSet:
        return value
    raise RedisError(WRONGTYPE)


def _long(arg: bytes) -> int:
    number = parse_int(arg)
    if number is None:
        raise RedisError(NOT_INTEGER)
    return number


def _null(client) -> bytes:
    return NULL3 if client.resp3 else NULL2


def _null_array(client) -> bytes:
    return NULL3 if client.resp3 else NULL_ARRAY2


def double_reply(score: float, resp3: bool) -> bytes:
    text = format_double(score)
    if resp3:
        return b",%s\r\n" % text
    return b"$%d\r\n%s\r\n" % (len(text), text)


def pairs_reply(pairs, withscores: bool, resp3: bool) -> bytes:
    """``(score, member)`` pairs as ZRANGE replies them: members only, or with scores (flat in
    RESP2, [member, score] arrays in RESP3)."""
    if not withscores:
        items = [b"$%d\r\n%s\r\n" % (len(m), m) for _, m in pairs]
        return b"*%d\r\n" % len(items) + b"".join(items)
    if resp3:
        items = [b"*2\r\n$%d\r\n%s\r\n,%s\r\n" % (len(m), m, format_double(s)) for s, m in pairs]
        return b"*%d\r\n" % len(items) + b"".join(items)
    items = []
    for score, member in pairs:
        text = format_double(score)
        items.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(member), member, len(text), text))
    return b"*%d\r\n" % (2 * len(items)) + b"".join(items)


def _commit(db, key: bytes, value: ZSet, changes: int) -> bool:
    """Record ``changes`` to an existing zset (deleting it when empty); True when deleted."""
    emptied = not value.scores
    if emptied:
        db.delete(key)
        changes -= 1
    if changes > 0:
        db.modified(key, changes)
    return emptied


def _limits(client) -> tuple[int, int]:
    config = client.server.config
    return config.zset_max_listpack_entries, config.zset_max_listpack_value


# -- ZADD / ZINCRBY -------------------------------------------------------------------------------

# First letters of ZADD's options: anything else starts the score/member pairs at once.
_ZADD_OPTION_LETTERS = frozenset(b"nNxXcCiIgGlL")


def _zadd_generic(client, argv: list[bytes], incr: bool) -> bytes:
    nx = xx = gt = lt = ch = False
    index = 2
    argc = len(argv)
    while index < argc:
        arg = argv[index]
        if not arg or arg[0] not in _ZADD_OPTION_LETTERS:
            break
        option = c_option(arg)
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option == b"CH":
            ch = True
        elif option == b"INCR":
            incr = True
        elif option == b"GT":
            gt = True
        elif option == b"LT":
            lt = True
        else:
            break
        index += 1
    elements = argc - index
    if elements % 2 or not elements:
        raise RedisError(SYNTAX)
    if nx and xx:
        raise RedisError(ZADD_XX_NX)
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise RedisError(ZADD_GT_LT_NX)
    if incr and elements > 2:
        raise RedisError(ZADD_INCR_PAIR)
    scores = []
    for position in range(index, argc, 2):
        score = parse_double(argv[position])
        if score is None:
            raise RedisError(NOT_FLOAT)
        scores.append(score)

    db = client.db
    key = argv[1]
    zset = db.lookup_write(key)
    created = False
    if zset is None:
        if xx:
            if incr:
                return _null(client)
            return ZERO
        zset = ZSet()
        created = True
    elif zset.__class__ is not ZSet:
        raise RedisError(WRONGTYPE)

    max_entries, max_value = _limits(client)
    current_scores = zset.scores
    added = updated = processed = 0
    score = 0.0
    failed = False
    for score, member in zip(scores, argv[index + 1 :: 2]):
        current = current_scores.get(member)
        if current is None:
            if xx:
                continue
            zset.insert(member, score, max_entries, max_value)
            added += 1
            processed += 1
            continue
        if nx:
            continue
        if incr:
            score += current
            if score != score:
                failed = True
                break
        if (lt and score >= current) or (gt and score <= current):
            continue
        processed += 1
        if score != current:
            zset.update(member, current, score)
            updated += 1
    if added or updated:
        if created:
            db.set_value(key, zset)
            if added + updated > 1:
                db.modified(key, added + updated - 1)
        else:
            db.modified(key, added + updated)
        notify(db, NOTIFY_ZSET, b"zincr" if incr else b"zadd", key)
    if failed:
        raise RedisError(SCORE_NAN)
    if incr:
        return double_reply(score, client.resp3) if processed else _null(client)
    return integer(added + updated if ch else added)


def zadd(client, argv):
    if len(argv) != 4:
        return _zadd_generic(client, argv, False)
    # One score/member pair and no options: the common case, kept short.
    arg = argv[2]
    if arg.isdigit() and len(arg) < 16:
        score = float(arg)  # digits only: neither an option nor a bad score
    else:
        if not arg or arg[0] in _ZADD_OPTION_LETTERS:
            return _zadd_generic(client, argv, False)
        score = parse_double(arg)
        if score is None:
            raise RedisError(NOT_FLOAT)
    db = client.db
    key = argv[1]
    member = argv[3]
    zset = db.data.get(key)
    if zset.__class__ is ZSet and not (db.expires and key in db.expires) and db.lfu is None:
        # An existing sorted set without a TTL or LFU counting (the benchmarked hot case):
        # lookup_write's work, inline.
        server = client.server
        db.access[key] = server.lru_clock
        current = zset.scores.get(member)
        if current is not None:
            if current == score:
                return ZERO
            zset.update(member, current, score)
            added = ZERO
        else:
            config = server.config
            zset.insert(member, score, config.zset_max_listpack_entries,
                        config.zset_max_listpack_value)
            added = ONE
        server.dirty += 1  # db.modified(key), inline
        db.mem_dirty.add(key)
        if db.watched or db.blocking_keys:
            db.signal(key)
        if server.notify_flags:
            notify(db, NOTIFY_ZSET, b"zadd", key)
        return added
    zset = db.lookup_write(key)
    if zset is None:
        config = client.server.config
        zset = ZSet()
        zset.insert(member, score, config.zset_max_listpack_entries, config.zset_max_listpack_value)
        db.set_value(key, zset)
    elif zset.__class__ is not ZSet:
        raise RedisError(WRONGTYPE)
    else:
        current = zset.scores.get(member)
        if current is None:
            config = client.server.config
            zset.insert(member, score, config.zset_max_listpack_entries,
                        config.zset_max_listpack_value)
        elif current == score:
            return ZERO
        else:
            zset.update(member, current, score)
            db.modified(key)
            notify(db, NOTIFY_ZSET, b"zadd", key)
            return ZERO
        db.modified(key)
    notify(db, NOTIFY_ZSET, b"zadd", key)
    return ONE


# Registered after its definition: the compiled build types it (zsets.pxd) as a cpdef function,
# which Cython would silently strip of a decorator.
command("zadd")(zadd)


@run_of("zadd", 4)
def zadd_run(client, group):
    key = group[0][1]
    db = client.db
    zset = db.value_for_run(key, ZSet)
    if zset is None:
        return None
    pairs = []
    for _, _, arg, member in group:
        if not arg or arg[0] in _ZADD_OPTION_LETTERS:
            return None
        score = float(arg) if len(arg) < 16 and arg.isdigit() else parse_double(arg)
        if score is None:
            return None  # one by one, so that this call fails alone, after those before it
        pairs.append((score, member))
    config = client.server.config
    entries = config.zset_max_listpack_entries
    value_limit = config.zset_max_listpack_value
    scores = zset.scores
    replies = []
    changes = 0
    for score, member in pairs:
        current = scores.get(member)
        if current is None:
            zset.insert(member, score, entries, value_limit)
            replies.append(ONE)
            changes += 1
        else:
            if current != score:
                zset.update(member, current, score)
                changes += 1
            replies.append(ZERO)
    db.ran(key, changes)
    return replies


@command("zincrby")
def zincrby(client, argv):
    return _zadd_generic(client, argv, True)


# -- simple reads and removal --------------------------------------------------------------------


@command("zrem")
def zrem(client, argv):
    db = client.db
    key = argv[1]
    zset = _write_zset(db, key)
    if zset is None:
        return ZERO
    removed = 0
    for member in argv[2:]:
        if zset.remove(member):
            removed += 1
        if not zset.scores:
            break
    if removed:
        notify(db, NOTIFY_ZSET, b"zrem", key)
        if _commit(db, key, zset, removed):
            notify(db, NOTIFY_GENERIC, b"del", key)
    return integer(removed)


@command("zcard")
def zcard(client, argv):
    zset = _read_zset(client.db, argv[1])
    return ZERO if zset is None else integer(len(zset.scores))


@command("zscore")
def zscore(client, argv):
    zset = _read_zset(client.db, argv[1])
    if zset is None:
        return _null(client)
    score = zset.scores.get(argv[2])
    if score is None:
        return _null(client)
    return double_reply(score, client.resp3)


@command("zmscore")
def zmscore(client, argv):
    zset = _read_zset(client.db, argv[1])
    resp3 = client.resp3
    null = NULL3 if resp3 else NULL2
    scores = zset.scores if zset is not None else {}
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for member in argv[2:]:
        score = scores.get(member)
        parts.append(null if score is None else double_reply(score, resp3))
    return b"".join(parts)


def _zrank(client, argv, reverse: bool) -> bytes:
    zset = _read_zset(client.db, argv[1])
    if zset is None:
        return _null(client)
    rank = zset.rank(argv[2])
    if rank is None:
        return _null(client)
    return integer(len(zset.scores) - 1 - rank if reverse else rank)


@command("zrank")
def zrank(client, argv):
    return _zrank(client, argv, False)


@command("zrevrank")
def zrevrank(client, argv):
    return _zrank(client, argv, True)


@command("zcount")
def zcount(client, argv):
    spec = parse_score_range(argv[2], argv[3])
    if spec is None:
        raise RedisError(MIN_MAX_NOT_FLOAT)
    zset = _read_zset(client.db, argv[1])
    if zset is None:
        return ZERO
    start, stop = zset.score_bounds(spec)
    return integer(stop - start)


@command("zlexcount")
def zlexcount(client, argv):
    spec = parse_lex_range(argv[2], argv[3])
    if spec is None:
        raise RedisError(LEX_RANGE_INVALID)
    zset = _read_zset(client.db, argv[1])
    if zset is None:
        return ZERO
    first = zset.lex_first(spec)
    if first is None:
        return ZERO
    if zset.listpack:
        count = 0
        for _, member in zset.order.islice(first):
            if not spec.below_max(member):
                break
            count += 1
        return integer(count)
    last = zset.lex_last(spec)
    size = len(zset.scores)
    count = size - first
    if last is not None:
        count -= size - (last + 1)
    return integer(count)


# -- the range engine ------------------------------------------------------------------------------

AUTO, RANK, SCORE, LEX = 0, 1, 2, 3


def _select(zset: ZSet, rangetype: int, bounds, reverse: bool, offset: int, limit: int) -> list:
    """The ``(score, member)`` pairs a range selects, in reply order."""
    order = zset.order
    size = len(order)
    if rangetype == RANK:
        start, end = bounds
        if start < 0:
            start += size
        if end < 0:
            end += size
        if start < 0:
            start = 0
        if start > end or start >= size:
            return []
        if end >= size:
            end = size - 1
        if reverse:
            return list(order.islice(size - 1 - end, size - start, reverse=True))
        return list(order.islice(start, end + 1))
    if offset < 0 or (offset > 0 and offset >= size):
        # Redis walks a negative offset off the end of the set.
        return []
    if rangetype == SCORE:
        low, high = zset.score_bounds(bounds)
        if reverse:
            stop = high - offset
            start = low if limit < 0 else max(low, stop - limit)
            return list(order.islice(start, max(start, stop), reverse=True))
        start = low + offset
        stop = high if limit < 0 else min(high, start + limit)
        return list(order.islice(start, max(start, stop)))
    spec = bounds
    first = zset.lex_last(spec) if reverse else zset.lex_first(spec)
    if first is None:
        return []
    if reverse:
        position = first - offset
        if position < 0:
            return []
        walk = order.islice(0, position + 1, reverse=True)
        inside = spec.above_min
    else:
        position = first + offset
        if position >= size:
            return []
        walk = order.islice(position)
        inside = spec.below_max
    if limit >= 0:
        walk = itertools.islice(walk, limit)
    result = []
    for pair in walk:
        if not inside(pair[1]):
            break
        result.append(pair)
    return result


def _store_range(client, target_key: bytes, pairs: list, presized_skiplist: bool) -> bytes:
    db = client.db
    if not pairs:
        if db.delete(target_key):
            notify(db, NOTIFY_GENERIC, b"del", target_key)
        return ZERO
    max_entries, max_value = _limits(client)
    result = ZSet(listpack=not presized_skiplist)
    for score, member in pairs:
        result.insert(member, score, max_entries, max_value)
    db.lookup_write(target_key)  # an expired target is reclaimed (and counted) first
    db.set_value(target_key, result)
    notify(db, NOTIFY_ZSET, b"zrangestore", target_key)
    return integer(len(pairs))


def _zrange_generic(client, argv: list[bytes], first: int, store: bool, rangetype: int,
                    reverse: bool | None) -> bytes:
    key = argv[first]
    min_index, max_index = first + 1, first + 2
    withscores = False
    offset, limit = 0, -1
    argc = len(argv)
    index = first + 3
    while index < argc:
        option = c_option(argv[index])
        if not store and option == b"WITHSCORES":
            withscores = True
        elif option == b"LIMIT" and argc - index - 1 >= 2:
            offset = _long(argv[index + 1])
            limit = _long(argv[index + 2])
            index += 2
        elif reverse is None and option == b"REV":
            reverse = True
        elif rangetype == AUTO and option == b"BYLEX":
            rangetype = LEX
        elif rangetype == AUTO and option == b"BYSCORE":
            rangetype = SCORE
        else:
            raise RedisError(SYNTAX)
        index += 1
    if reverse is None:
        reverse = False
    if rangetype == AUTO:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise RedisError(ZRANGE_LIMIT_BY_RANK)
    if withscores and rangetype == LEX:
        raise RedisError(ZRANGE_WITHSCORES_BYLEX)
    if reverse and rangetype != RANK:
        min_index, max_index = max_index, min_index
    if rangetype == RANK:
        bounds = (_long(argv[min_index]), _long(argv[max_index]))
    elif rangetype == SCORE:
        bounds = parse_score_range(argv[min_index], argv[max_index])
        if bounds is None:
            raise RedisError(MIN_MAX_NOT_FLOAT)
    else:
        bounds = parse_lex_range(argv[min_index], argv[max_index])
        if bounds is None:
            raise RedisError(LEX_RANGE_INVALID)

    zset = client.db.lookup_read(key)
    if zset is None:
        return _store_range(client, argv[1], [], False) if store else EMPTY_ARRAY
    if zset.__class__ is not ZSet:
        raise RedisError(WRONGTYPE)
    pairs = _select(zset, rangetype, bounds, reverse, offset, limit)
    if store:
        presized = rangetype == RANK and len(pairs) > client.server.config.zset_max_listpack_entries
        return _store_range(client, argv[1], pairs, presized)
    return pairs_reply(pairs, withscores, client.resp3)


@command("zrange")
def zrange(client, argv):
    return _zrange_generic(client, argv, 1, False, AUTO, None)


@command("zrangestore")
def zrangestore(client, argv):
    return _zrange_generic(client, argv, 2, True, AUTO, None)


@command("zrevrange")
def zrevrange(client, argv):
    return _zrange_generic(client, argv, 1, False, RANK, True)


@command("zrangebyscore")
def zrangebyscore(client, argv):
    return _zrange_generic(client, argv, 1, False, SCORE, False)


@command("zrevrangebyscore")
def zrevrangebyscore(client, argv):
    return _zrange_generic(client, argv, 1, False, SCORE, True)


@command("zrangebylex")
def zrangebylex(client, argv):
    return _zrange_generic(client, argv, 1, False, LEX, False)


@command("zrevrangebylex")
def zrevrangebylex(client, argv):
    return _zrange_generic(client, argv, 1, False, LEX, True)


# -- ZREMRANGEBY* ----------------------------------------------------------------------------------


def _zremrange(client, argv, rangetype: int, event: bytes) -> bytes:
    if rangetype == RANK:
        start, end = _long(argv[2]), _long(argv[3])
    elif rangetype == SCORE:
        spec = parse_score_range(argv[2], argv[3])
        if spec is None:
            raise RedisError(MIN_MAX_NOT_FLOAT)
    else:
        spec = parse_lex_range(argv[2], argv[3])
        if spec is None:
            raise RedisError(LEX_RANGE_INVALID)
    db = client.db
    key = argv[1]
    zset = _write_zset(db, key)
    if zset is None:
        return ZERO
    size = len(zset.scores)
    if rangetype == RANK:
        if start < 0:
            start += size
        if end < 0:
            end += size
        if start < 0:
            start = 0
        if start > end or start >= size:
            return ZERO
        if end >= size:
            end = size - 1
        removed = zset.delete_slice(start, end + 1)
    elif rangetype == SCORE:
        low, high = zset.score_bounds(spec)
        removed = zset.delete_slice(low, high)
    else:
        first = zset.lex_delete_start(spec)
        removed = 0
        if first is not None:
            stop = first
            for _, member in zset.order.islice(first):
                if not spec.below_max(member):
                    break
                stop += 1
            removed = zset.delete_slice(first, stop)
    if removed:
        notify(db, NOTIFY_ZSET, event, key)
        if _commit(db, key, zset, removed):
            notify(db, NOTIFY_GENERIC, b"del", key)
    return integer(removed)


@command("zremrangebyrank")
def zremrangebyrank(client, argv):
    return _zremrange(client, argv, RANK, b"zremrangebyrank")


@command("zremrangebyscore")
def zremrangebyscore(client, argv):
    return _zremrange(client, argv, SCORE, b"zremrangebyscore")


@command("zremrangebylex")
def zremrangebylex(client, argv):
    return _zremrange(client, argv, LEX, b"zremrangebylex")


# -- popping ---------------------------------------------------------------------------------------


def _pop(client, key: bytes, zset: ZSet, highest: bool, count: int, emit_key: bool,
         nested: bool) -> bytes:
    """Pop up to ``count`` members (-1: one, no count given) and build Redis's reply shape."""
    db = client.db
    resp3 = client.resp3
    taken = 1 if count == -1 else min(count, len(zset.scores))
    pairs = [zset.pop(highest) for _ in range(taken)]
    notify(db, NOTIFY_ZSET, b"zpopmax" if highest else b"zpopmin", key)
    if _commit(db, key, zset, taken):
        notify(db, NOTIFY_GENERIC, b"del", key)
    if nested:
        body = b"*%d\r\n" % taken + b"".join(
            [b"*2\r\n$%d\r\n%s\r\n%s" % (len(m), m, double_reply(s, resp3)) for s, m in pairs]
        )
    else:
        body = b"".join(
            [b"$%d\r\n%s\r\n%s" % (len(m), m, double_reply(s, resp3)) for s, m in pairs]
        )
    if not emit_key:
        return body if nested else b"*%d\r\n" % (2 * taken) + body
    key_bulk = b"$%d\r\n%s\r\n" % (len(key), key)
    if nested:
        return b"*2\r\n" + key_bulk + body
    return b"*%d\r\n" % (2 * taken + 1) + key_bulk + body


def _first_zset(db, keys: list[bytes]) -> tuple[bytes, ZSet] | None:
    """The first existing key among ``keys`` (WRONGTYPE when it is not a zset)."""
    for key in keys:
        value = db.lookup_write(key)
        if value is None:
            continue
        if value.__class__ is not ZSet:
            raise RedisError(WRONGTYPE)
        return key, value
    return None


def _zpop_command(client, argv, highest: bool) -> bytes:
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    count = -1
    if len(argv) == 3:
        count = parse_int(argv[2])
        if count is None or count < 0:
            raise RedisError(NOT_POSITIVE)
    key = argv[1]
    zset = client.db.lookup_write(key)
    if zset is None:
        return EMPTY_ARRAY
    if zset.__class__ is not ZSet:
        raise RedisError(WRONGTYPE)
    if count == 0:
        return EMPTY_ARRAY
    nested = client.resp3 and count != -1
    return _pop(client, key, zset, highest, count, False, nested)


@command("zpopmin")
def zpopmin(client, argv):
    return _zpop_command(client, argv, False)


@command("zpopmax")
def zpopmax(client, argv):
    return _zpop_command(client, argv, True)


def _blocking_pop(client, keys: list[bytes], highest: bool, timeout: float, count: int,
                  nested: bool) -> bytes | None:
    db = client.db
    for key in keys:
        value = db.lookup_write(key)
        if value is None:
            continue
        if value.__class__ is not ZSet:
            raise RedisError(WRONGTYPE)
        propagated = _pop_propagated(key, value, highest, count)
        reply = _pop(client, key, value, highest, count, True, nested)
        if client.server.propagation is not None:
            client.server.propagate_as(client, [propagated])
        return reply
    blocking = client.server.blocking
    if not blocking.can_block(client):
        return _null_array(client)

    def serve(waiter) -> bytes | None:
        # Redis serves from the key that was signalled (``serving_key``), not the first one.
        waiter_db = waiter.db
        ready = blocking.serving_key
        for key in (ready,) if ready in keys else keys:
            value = waiter_db.lookup_write(key)
            if value is not None and value.__class__ is ZSet:
                propagated = _pop_propagated(key, value, highest, count)
                reply = _pop(waiter, key, value, highest, count, True, nested)
                # Served after another client's write: propagated as a command of its own.
                waiter.server.propagate(waiter_db.index, propagated)
                return reply
        return None

    blocking.block(client, keys, timeout, serve, _null_array(client), "zset")
    return None


def _pop_propagated(key: bytes, zset: ZSet, highest: bool, count: int) -> list[bytes]:
    """What a blocking or multi-key pop propagates: ZPOPMIN/ZPOPMAX, with the number of members
    it takes when a count applies (BZMPOP, ZMPOP)."""
    argv = [b"ZPOPMAX" if highest else b"ZPOPMIN", key]
    if count != -1:
        argv.append(b"%d" % min(count, len(zset.scores)))
    return argv


@command("bzpopmin")
def bzpopmin(client, argv):
    return _blocking_pop(client, argv[1:-1], False, parse_timeout(argv[-1]), -1, False)


@command("bzpopmax")
def bzpopmax(client, argv):
    return _blocking_pop(client, argv[1:-1], True, parse_timeout(argv[-1]), -1, False)


def _parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """ZMPOP/BZMPOP's numkeys, keys, MIN|MAX and COUNT."""
    numkeys = parse_int(argv[numkeys_index])
    if numkeys is None or numkeys < 1:
        raise RedisError(SET_NUMKEYS_POSITIVE)
    where_index = numkeys_index + numkeys + 1
    if where_index >= len(argv):
        raise RedisError(SYNTAX)
    where = c_option(argv[where_index])
    if where == b"MIN":
        highest = False
    elif where == b"MAX":
        highest = True
    else:
        raise RedisError(SYNTAX)
    count = -1
    index = where_index + 1
    argc = len(argv)
    while index < argc:
        if count == -1 and c_option(argv[index]) == b"COUNT" and index + 1 < argc:
            index += 1
            count = parse_int(argv[index])
            if count is None or count < 1:
                raise RedisError(ZSET_COUNT_POSITIVE)
        else:
            raise RedisError(SYNTAX)
        index += 1
    return argv[numkeys_index + 1 : where_index], highest, 1 if count == -1 else count


@command("zmpop")
def zmpop(client, argv):
    keys, highest, count = _parse_mpop(argv, 1)
    found = _first_zset(client.db, keys)
    if found is None:
        return _null_array(client)
    propagated = _pop_propagated(found[0], found[1], highest, count)
    reply = _pop(client, found[0], found[1], highest, count, True, True)
    if client.server.propagation is not None:
        client.server.propagate_as(client, [propagated])
    return reply


@command("bzmpop")
def bzmpop(client, argv):
    keys, highest, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    return _blocking_pop(client, keys, highest, timeout, count, True)


# -- ZRANDMEMBER ---------------------------------------------------------------------------------

_ZRANDMEMBER_SUB_STRATEGY_MUL = 3
_LONG_HALF_MIN = INT64_MIN // 2
_LONG_HALF_MAX = INT64_MAX // 2


@command("zrandmember")
def zrandmember(client, argv):
    argc = len(argv)
    if argc == 2:
        zset = _read_zset(client.db, argv[1])
        if zset is None:
            return _null(client)
        member = zset.random_pair()[1]
        return b"$%d\r\n%s\r\n" % (len(member), member)
    count = _long(argv[2])
    if count < -INT64_MAX:
        raise RedisError(int_out_of_range(-INT64_MAX, INT64_MAX))
    if argc > 4 or (argc == 4 and c_option(argv[3]) != b"WITHSCORES"):
        raise RedisError(SYNTAX)
    withscores = argc == 4
    if withscores and not _LONG_HALF_MIN <= count <= _LONG_HALF_MAX:
        raise RedisError(VALUE_OUT_OF_RANGE)
    zset = _read_zset(client.db, argv[1])
    if zset is None or count == 0:
        return EMPTY_ARRAY
    order = zset.order
    size = len(order)
    if count < 0 or count == 1:
        randrange = random.randrange
        pairs = [order[randrange(size)] for _ in range(abs(count))]
    elif count >= size:
        # Redis walks the whole set from its tail.
        pairs = list(reversed(order))
    elif count * _ZRANDMEMBER_SUB_STRATEGY_MUL > size or not zset.listpack:
        pairs = [order[i] for i in random.sample(range(size), count)]
    else:
        # A small listpack yields unique picks in listpack order.
        pairs = [order[i] for i in sorted(random.sample(range(size), count))]
    return pairs_reply(pairs, withscores, client.resp3)


# -- ZUNION / ZINTER / ZDIFF -----------------------------------------------------------------------

UNION, INTER, DIFF = 0, 1, 2
_SUM, _MIN, _MAX = 0, 1, 2


def _source_size(source) -> int:
    if source is None:
        return 0
    return len(source.scores) if source.__class__ is ZSet else len(source.members)


def _source_items(source):
    """(member, score) of every element; set members score 1."""
    if source.__class__ is ZSet:
        return source.scores.items()
    return ((member, 1.0) for member in source.members)


def _source_score(source, member: bytes) -> float | None:
    if source.__class__ is ZSet:
        return source.scores.get(member)
    return 1.0 if member in source.positions else None


def _aggregate(target: float, value: float, how: int) -> float:
    if how == _SUM:
        total = target + value
        return 0.0 if total != total else total
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


def _zsetop(client, argv, target_key: bytes | None, numkeys_index: int, op: int,
            cardinality_only: bool, name: str) -> bytes:
    setnum = _long(argv[numkeys_index])
    if setnum < 1:
        raise RedisError(zset_needs_keys(name))
    if setnum > len(argv) - (numkeys_index + 1):
        raise RedisError(SYNTAX)
    db = client.db
    sources = []
    for key in argv[numkeys_index + 1 : numkeys_index + 1 + setnum]:
        value = db.lookup_read(key)
        if value is not None and value.__class__ is not ZSet and value.__class__ is not RedisSet:
            raise RedisError(WRONGTYPE)
        sources.append(value)
    weights = [1.0] * setnum
    how = _SUM
    withscores = False
    limit = 0
    index = numkeys_index + 1 + setnum
    remaining = len(argv) - index
    while remaining:
        option = c_option(argv[index])
        if op != DIFF and not cardinality_only and remaining >= setnum + 1 and option == b"WEIGHTS":
            index += 1
            remaining -= 1
            for position in range(setnum):
                weight = parse_double(argv[index])
                if weight is None:
                    raise RedisError(WEIGHT_NOT_FLOAT)
                weights[position] = weight
                index += 1
                remaining -= 1
        elif op != DIFF and not cardinality_only and remaining >= 2 and option == b"AGGREGATE":
            mode = c_option(argv[index + 1])
            if mode == b"SUM":
                how = _SUM
            elif mode == b"MIN":
                how = _MIN
            elif mode == b"MAX":
                how = _MAX
            else:
                raise RedisError(SYNTAX)
            index += 2
            remaining -= 2
        elif target_key is None and not cardinality_only and option == b"WITHSCORES":
            withscores = True
            index += 1
            remaining -= 1
        elif cardinality_only and remaining >= 2 and option == b"LIMIT":
            limit = parse_int(argv[index + 1])
            if limit is None or limit < 0:
                raise RedisError(SET_LIMIT_NEGATIVE)
            index += 2
            remaining -= 2
        else:
            raise RedisError(SYNTAX)

    if op == INTER:
        ranked = sorted(zip(sources, weights), key=lambda pair: _source_size(pair[0]))
        first, first_weight = ranked[0]
        pairs = []
        cardinality = 0
        if _source_size(first):
            rest = ranked[1:]
            for member, base in _source_items(first):
                score = first_weight * base
                if score != score:
                    score = 0.0
                for source, weight in rest:
                    if source is first:
                        score = _aggregate(score, base * weight, how)
                        continue
                    found = _source_score(source, member)
                    if found is None:
                        break
                    score = _aggregate(score, found * weight, how)
                else:
                    if cardinality_only:
                        cardinality += 1
                        if limit and cardinality >= limit:
                            break
                    else:
                        pairs.append((score, member))
        if cardinality_only:
            return integer(cardinality)
    elif op == UNION:
        ranked = sorted(zip(sources, weights), key=lambda pair: _source_size(pair[0]))
        totals: dict[bytes, float] = {}
        for source, weight in ranked:
            if not _source_size(source):
                continue
            for member, base in _source_items(source):
                score = weight * base
                if score != score:
                    score = 0.0
                current = totals.get(member)
                totals[member] = score if current is None else _aggregate(current, score, how)
        pairs = [(score, member) for member, score in totals.items()]
    else:
        first = sources[0]
        pairs = []
        if _source_size(first) and not any(source is first for source in sources[1:]):
            others = [source for source in sources[1:] if _source_size(source)]
            for member, score in _source_items(first):
                for source in others:
                    if _source_score(source, member) is not None:
                        break
                else:
                    pairs.append((score, member))
    pairs.sort()

    if target_key is None:
        return pairs_reply(pairs, withscores, client.resp3)
    if not pairs:
        if db.delete(target_key):
            notify(db, NOTIFY_GENERIC, b"del", target_key)
        return ZERO
    max_entries, max_value = _limits(client)
    db.lookup_write(target_key)  # an expired target is reclaimed (and counted) first
    db.set_value(target_key, ZSet.from_pairs(pairs, max_entries, max_value))
    event = (b"zunionstore", b"zinterstore", b"zdiffstore")[op]
    notify(db, NOTIFY_ZSET, event, target_key)
    return integer(len(pairs))


@command("zunion")
def zunion(client, argv):
    return _zsetop(client, argv, None, 1, UNION, False, "zunion")


@command("zinter")
def zinter(client, argv):
    return _zsetop(client, argv, None, 1, INTER, False, "zinter")


@command("zdiff")
def zdiff(client, argv):
    return _zsetop(client, argv, None, 1, DIFF, False, "zdiff")


@command("zunionstore")
def zunionstore(client, argv):
    return _zsetop(client, argv, argv[1], 2, UNION, False, "zunionstore")


@command("zinterstore")
def zinterstore(client, argv):
    return _zsetop(client, argv, argv[1], 2, INTER, False, "zinterstore")


@command("zdiffstore")
def zdiffstore(client, argv):
    return _zsetop(client, argv, argv[1], 2, DIFF, False, "zdiffstore")


@command("zintercard")
def zintercard(client, argv):
    return _zsetop(client, argv, None, 1, INTER, True, "zintercard")


# -- ZSCAN ----------------------------------------------------------------------------------------

# A skiplist ZSCAN walks a snapshot of the member list taken when the scan starts (cursor 0);
# the cursor holds the position in it and a tag naming the snapshot. Members removed since are
# skipped, scores are read live. A few snapshots are kept per set (several scans at once).
_TAG_BITS = 16
_TAG_MASK = (1 << _TAG_BITS) - 1
_MAX_SNAPSHOTS = 8
_next_tag = itertools.count(1)


def _zscan_skiplist(zset: ZSet, cursor: int, count: int) -> tuple[int, list[bytes]]:
    scans = zset.scans
    tag = cursor & _TAG_MASK
    position = cursor >> _TAG_BITS
    snapshot = scans.get(tag) if cursor and scans else None
    if snapshot is None:
        if not cursor:
            position = 0
        tag = next(_next_tag) & _TAG_MASK
        snapshot = list(zset.scores)
        if scans is None:
            scans = zset.scans = {}
        while len(scans) >= _MAX_SNAPSHOTS:
            del scans[next(iter(scans))]
        scans[tag] = snapshot
    end = position + count
    scores = zset.scores
    items = []
    for member in snapshot[position:end]:
        score = scores.get(member)
        if score is not None:
            items.append(member)
            items.append(format_double(score))
    if end >= len(snapshot):
        del scans[tag]
        return 0, items
    return (end << _TAG_BITS) | tag, items


@command("zscan")
def zscan(client, argv):
    cursor = parse_cursor(argv[2])
    zset = _read_zset(client.db, argv[1])
    if zset is None:
        return EMPTY_SCAN
    count, pattern = parse_scan_options(argv, 3)
    if zset.listpack:
        next_cursor = 0
        items = []
        for score, member in zset.order:
            items.append(member)
            items.append(listpack_score_text(score))
    else:
        next_cursor, items = _zscan_skiplist(zset, cursor, count)
    if pattern is not None:
        matches = glob.compile(pattern)
        kept = []
        for position in range(0, len(items), 2):
            if matches(items[position]):
                kept.append(items[position])
                kept.append(items[position + 1])
        items = kept
    return scan_reply(next_cursor, items)


__all__ = ["double_reply", "pairs_reply"]
