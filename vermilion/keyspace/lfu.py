"""LFU access counting, as Redis's evict.c keeps it: a key's 8-bit logarithmic counter and the
16-bit minute of its last decrement, packed as ``minutes << 8 | counter`` in ``db.lfu``.

A database keeps ``db.lfu`` only under an LFU maxmemory-policy (vermilion.eviction switches it);
its lookups and writes then step the counters here.
"""

from __future__ import annotations

import random
import time

LFU_INIT_VAL = 5


def lfu_minutes() -> int:
    return (int(time.time()) // 60) & 0xFFFF


def lfu_packed(counter: int = LFU_INIT_VAL) -> int:
    """``counter`` stamped with the current minute: a new key's value (LFU_INIT_VAL), or a
    counter restored from RDB or RESTORE."""
    return (lfu_minutes() << 8) | counter


def lfu_decayed(packed: int, now_minutes: int, decay_time: int) -> int:
    """The counter of a packed LFU value after its idle decay periods (LFUDecrAndReturn)."""
    counter = packed & 0xFF
    if packed < 256 or not decay_time:
        # No access time recorded (a counter restored from RDB/RESTORE): not decayed yet.
        return counter
    last = packed >> 8
    elapsed = now_minutes - last if now_minutes >= last else 65535 - last + now_minutes
    periods = elapsed // decay_time
    return counter - periods if periods < counter else 0


def lfu_log_incr(counter: int, log_factor: int) -> int:
    """Increment the counter with probability 1 / ((counter - LFU_INIT_VAL) * factor + 1)."""
    if counter >= 255:
        return 255
    base = counter - LFU_INIT_VAL
    if base < 0:
        base = 0
    if random.random() < 1.0 / (base * log_factor + 1):
        return counter + 1
    return counter


class NoAccessTimes(dict):
    """``db.access`` under an LFU policy, which keeps nothing: Redis has no access time then
    either (the object's lru field holds the LFU counter, and OBJECT IDLETIME refuses), and a
    dict entry per key is memory maxmemory should give to data."""

    __slots__ = ()

    def __setitem__(self, key: bytes, value: int) -> None:
        return None
