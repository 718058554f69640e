"""The compact types that live inside strings (HyperLogLog, bitmaps, bitfields) DUMP to the same
bytes as in Redis 7.0 after a sequence of updates, and each server restores the other's payload."""

from __future__ import annotations

import random


def _hll_updates(rng: random.Random) -> list[tuple]:
    commands: list[tuple] = [("PFADD", "h1", *[f"e{i}" for i in range(40)])]
    # Enough distinct elements to promote h2 from sparse to dense on the way.
    for chunk in range(12):
        commands.append(("PFADD", "h2", *[f"x{rng.randrange(10**9)}" for _ in range(200)]))
        commands.append(("PFCOUNT", "h2"))
    commands += [("PFMERGE", "h3", "h1", "h2"), ("PFADD", "h3", "late"), ("PFCOUNT", "h1", "h3")]
    return commands


def _bitmap_updates(rng: random.Random) -> list[tuple]:
    commands: list[tuple] = []
    for _ in range(60):
        commands.append(("SETBIT", "b1", rng.randrange(5000), rng.randrange(2)))
    commands += [
        ("SETBIT", "b2", 70000, 1),
        ("BITFIELD", "f1", "SET", "i13", "#3", -1234, "INCRBY", "u7", 100, 99,
         "OVERFLOW", "SAT", "INCRBY", "i5", 7, 40),
        ("BITFIELD", "f1", "OVERFLOW", "WRAP", "INCRBY", "u63", 0, 9223372036854775000),
        ("BITOP", "OR", "b3", "b1", "b2"),
        ("BITOP", "NOT", "b4", "b1"),
        ("APPEND", "b1", "tail"),
    ]
    return commands


def test_compact_types_dump_identically(diff):
    rng = random.Random(7)
    for command in _hll_updates(rng) + _bitmap_updates(rng):
        diff.check(*command)
    for key in ("h1", "h2", "h3", "b1", "b2", "b3", "b4", "f1"):
        diff.check("GET", key)
        payload = diff.check("DUMP", key)
        # The bulk body of the DUMP reply is the payload itself: restore it on both sides.
        body = payload[payload.index(b"\r\n") + 2 : -2]
        diff.check("RESTORE", key + "copy", 0, body)
        diff.check("GET", key + "copy")
    diff.check("PFCOUNT", "h2copy")
    assert diff.check("PFDEBUG", "ENCODING", "h2") == b"+dense\r\n"
    assert diff.check("PFDEBUG", "ENCODING", "h1") == b"+sparse\r\n"
