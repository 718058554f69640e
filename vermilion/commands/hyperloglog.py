"""HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.

The HLL is a string value in Redis's own byte layout (see ``vermilion.types.hll``); commands
validate the header, update the bytes in place and count changes as Redis does: PFADD counts
one change per register raised (plus one for creating the key), and PFCOUNT of a single key
writes the computed cardinality back into the header, which is itself a change.
"""

from __future__ import annotations

from ..errors import (
    HLL_CORRUPTED,
    HLL_NOT_SPARSE,
    HLL_WRONGTYPE,
    PFDEBUG_NO_KEY,
    WRONGTYPE,
    RedisError,
    pfdebug_unknown,
)
from ..notify import NOTIFY_STRING, notify
from ..registry import command
from ..resp.encode import OK, ONE, ZERO, bulk, integer
from ..types import hll
from .bitmaps import unshare_string
from .strings import c_option

_REGISTER_REPLIES = [b":%d\r\n" % value for value in range(256)]


def _checked(value) -> bytes | bytearray:
    """``value`` if it is a valid HLL string; Redis's errors otherwise."""
    cls = value.__class__
    if cls is not bytes and cls is not bytearray:
        raise RedisError(WRONGTYPE)
    if not hll.is_hll(value):
        raise RedisError(HLL_WRONGTYPE)
    return value


def _store(db, key: bytes, value: bytearray, created: bool, changes: int) -> None:
    """Record ``changes`` changes to ``key`` (a new key counts its first one on creation)."""
    if created:
        db.set_value(key, value)
        changes -= 1
    if changes > 0:
        db.modified(key, changes)


@command("pfadd")
def pfadd(client, argv):
    key = argv[1]
    db = client.db
    value = db.lookup_write(key)
    created = value is None
    if created:
        value = hll.new_sparse()
        updated = 1
    elif (value.__class__ is bytearray and len(value) == hll.DENSE_SIZE and value[4] == hll.DENSE
          and value.startswith(hll.MAGIC)):
        updated = 0  # the common case, a valid dense HLL, checked in one expression
    else:
        value = unshare_string(db, key, _checked(value))
        updated = 0
    if value[4] == hll.DENSE:
        updated += hll.dense_add_all(value, argv[2:])
    else:
        max_bytes = client.server.config.hll_sparse_max_bytes
        add = hll.add
        for element in argv[2:]:
            result = add(value, element, max_bytes)
            if result < 0:
                raise RedisError(HLL_CORRUPTED)
            updated += result
    if not updated:
        return ZERO
    value[hll.CACHE_BYTE] |= hll.CACHE_STALE
    _store(db, key, value, created, updated)
    notify(db, NOTIFY_STRING, b"pfadd", key)
    return ONE


def _merged_registers(db, keys: list[bytes]) -> tuple[bytes | bytearray, bool]:
    """Register-wise maximum over the HLLs at ``keys`` (missing keys are empty HLLs), and
    whether any of them is dense."""
    merged: bytes | bytearray = bytes(hll.REGISTERS)
    any_dense = False
    first = True
    for key in keys:
        value = db.lookup_read(key)
        if value is None:
            continue
        _checked(value)
        if value[4] == hll.DENSE:
            any_dense = True
        registers = hll.registers(value)
        if registers is None:
            raise RedisError(HLL_CORRUPTED)
        merged = registers if first else hll.max_registers(merged, registers)
        first = False
    return merged, any_dense


@command("pfcount")
def pfcount(client, argv):
    db = client.db
    if len(argv) > 2:
        merged, _ = _merged_registers(db, argv[1:])
        return integer(hll.estimate(hll.histogram_of_raw(merged)))
    key = argv[1]
    value = db.lookup_read(key)
    if value is None:
        return ZERO
    value = unshare_string(db, key, _checked(value))
    cached = hll.cached_cardinality(value)
    if cached is not None:
        return integer(cached)
    card = hll.count(value)
    if card is None:
        raise RedisError(HLL_CORRUPTED)
    hll.store_cardinality(value, card)
    # Writing the cache changes the string: a read-only command that still counts as a write.
    db.modified(key)
    return integer(card)


@command("pfmerge")
def pfmerge(client, argv):
    db = client.db
    merged, any_dense = _merged_registers(db, argv[1:])
    key = argv[1]
    value = db.lookup_write(key)
    created = value is None
    if created:
        value = hll.new_sparse()
    else:
        # Already validated while merging: the target is one of the sources.
        value = unshare_string(db, key, value)
    if any_dense and not hll.sparse_to_dense(value):
        raise RedisError(HLL_CORRUPTED)
    if value[4] == hll.DENSE:
        # The target's own registers are part of the maximum, so it becomes exactly that.
        value[hll.HEADER_SIZE :] = hll.raw_to_dense_registers(merged)
    else:
        # Raise registers one by one in index order, as Redis does: the sparse bytes (and the
        # point where the value turns dense) depend on that order.
        max_bytes = client.server.config.hll_sparse_max_bytes
        cursor = hll.SparseCursor()
        sparse_set = hll.sparse_set
        dense_set = hll.dense_set
        for index, run in enumerate(merged):
            if run:
                if value[4] == hll.SPARSE:
                    sparse_set(value, index, run, max_bytes, cursor)
                else:
                    dense_set(value, index, run)
    value[hll.CACHE_BYTE] |= hll.CACHE_STALE
    _store(db, key, value, created, 1)
    notify(db, NOTIFY_STRING, b"pfadd", key)
    return OK


@command("pfdebug")
def pfdebug(client, argv):
    subcommand, key = argv[1], argv[2]
    db = client.db
    value = db.lookup_write(key)
    if value is None:
        raise RedisError(PFDEBUG_NO_KEY)
    value = unshare_string(db, key, _checked(value))
    name = c_option(subcommand)
    if name == b"GETREG":
        if value[4] == hll.SPARSE:
            if not hll.sparse_to_dense(value):
                raise RedisError(HLL_CORRUPTED)
            db.modified(key)
        replies = _REGISTER_REPLIES
        return b"*%d\r\n" % hll.REGISTERS + b"".join(
            [replies[register] for register in hll.dense_to_raw(value)]
        )
    if name == b"DECODE":
        if value[4] != hll.SPARSE:
            raise RedisError(HLL_NOT_SPARSE)
        return bulk(hll.decode_sparse(value))
    if name == b"ENCODING":
        return b"+dense\r\n" if value[4] == hll.DENSE else b"+sparse\r\n"
    if name == b"TODENSE":
        if value[4] != hll.SPARSE:
            return ZERO
        if not hll.sparse_to_dense(value):
            raise RedisError(HLL_CORRUPTED)
        db.modified(key)
        return ONE
    raise RedisError(pfdebug_unknown(subcommand))


@command("pfselftest")
def pfselftest(client, argv):
    failure = hll.self_test(client.server.config.hll_sparse_max_bytes)
    if failure is not None:
        raise RedisError("ERR " + failure)
    return OK
