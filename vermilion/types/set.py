"""Set values: members with O(1) membership, O(1) random access, and Redis 7.0's encodings.

Members are kept in a list (for random picks: SPOP, SRANDMEMBER) plus a dict from member to its
position in that list; removal moves the last member into the freed slot, so every operation is
O(1). Redis 7.0 has two set encodings: "intset" while every member is a canonical 64-bit integer
and there are at most ``set-max-intset-entries`` of them, "hashtable" otherwise. An intset
iterates in numeric order (which SMEMBERS and friends then show); a set never converts back,
except that commands building a new set (SINTERSTORE, SPOP's rebuild...) decide afresh.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable

from . import listpack
from .string import parse_int

INTSET = b"intset"
HASHTABLE = b"hashtable"


def _width(number: int) -> int:
    """Bytes an intset needs per value to hold ``number``."""
    if -32768 <= number <= 32767:
        return 2
    return 4 if -(2**31) <= number < 2**31 else 8


def all_integers(members: Iterable[bytes]) -> bool:
    """True when every member is what Redis can store in an intset (a canonical int64)."""
    for member in members:
        if parse_int(member) is None:
            return False
    return True


def intset_order(members: list[bytes]) -> list[bytes]:
    """Members of an intset in the order Redis iterates it: ascending numeric value."""
    return sorted(members, key=int)


class RedisSet:
    """A set: ``members`` (random access) and ``positions`` (member -> index in members)."""

    TYPE_NAME = b"set"

    __slots__ = ("members", "positions", "intset", "sorted_cache", "width")

    def __init__(self, intset: bool = True) -> None:
        self.members: list[bytes] = []
        self.positions: dict[bytes, int] = {}
        self.intset = intset
        # The numeric order of an intset, computed on demand and dropped on every change.
        self.sorted_cache: list[bytes] | None = None
        # An intset's integer width in bytes: the widest it has needed (it never narrows).
        self.width = 2

    @classmethod
    def for_member(cls, first: bytes) -> RedisSet:
        """An empty set that starts as an intset when ``first`` is an integer (setTypeCreate)."""
        return cls(parse_int(first) is not None)

    @classmethod
    def from_members(cls, members: list[bytes], intset: bool) -> RedisSet:
        """A set of distinct ``members`` with the encoding decided by the caller."""
        new = cls(intset)
        new.members = members
        new.positions = {member: index for index, member in enumerate(members)}
        if intset:
            for member in members:
                new.width = max(new.width, _width(int(member)))
        return new

    # -- the value-type protocol --------------------------------------------------------------

    def encoding(self) -> bytes:
        return INTSET if self.intset else HASHTABLE

    def copy(self) -> RedisSet:
        new = RedisSet(self.intset)
        new.members = self.members.copy()
        new.positions = self.positions.copy()
        new.width = self.width
        return new

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, member: bytes) -> bool:
        return member in self.positions

    # -- changes -------------------------------------------------------------------------------

    def add(self, member: bytes, max_intset: int) -> bool:
        """Add ``member``; False when it was already there. Converts an intset that gets a
        non-integer member or grows past ``max_intset`` members to a hashtable."""
        positions = self.positions
        if member in positions:
            return False
        members = self.members
        positions[member] = len(members)
        members.append(member)
        self.sorted_cache = None
        if self.intset:
            number = parse_int(member)
            if number is None or len(members) > max_intset:
                self.intset = False
            elif not -32768 <= number <= 32767:
                self.width = max(self.width, _width(number))
        return True

    def remove(self, member: bytes) -> bool:
        position = self.positions.pop(member, None)
        if position is None:
            return False
        members = self.members
        last = members.pop()
        if position < len(members):
            members[position] = last
            self.positions[last] = position
        self.sorted_cache = None
        return True

    def adopt(self, other: RedisSet) -> None:
        """Take over ``other``'s members and encoding (a rebuilt set replacing this one)."""
        self.members = other.members
        self.positions = other.positions
        self.intset = other.intset
        self.width = other.width
        self.sorted_cache = None

    def random_member(self) -> bytes:
        members = self.members
        return members[random.randrange(len(members))]

    def pop_random(self) -> bytes:
        """Remove and return a random member (the set must not be empty)."""
        members = self.members
        position = random.randrange(len(members))
        member = members[position]
        last = members.pop()
        positions = self.positions
        del positions[member]
        if position < len(members):
            members[position] = last
            positions[last] = position
        self.sorted_cache = None
        return member

    # -- iteration -----------------------------------------------------------------------------

    def ordered(self) -> list[bytes]:
        """The members in Redis's iteration order where it is defined (intset: numeric). The
        list may be the set's own storage: callers must not change the set while using it."""
        if self.intset:
            cached = self.sorted_cache
            if cached is None:
                cached = self.sorted_cache = intset_order(self.members)
            return cached
        return self.members

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SSCAN step over a hashtable set: up to ``count`` members and the next cursor.

        The cursor is the position below which members remain to be visited, and the walk goes
        downwards. Removal only moves the last member into a lower slot, which can repeat an
        already visited member but never hides one that has not been visited, and additions land
        at the top (already visited), so a member present for the whole scan is always returned.
        """
        members = self.members
        top = len(members) if cursor == 0 else min(cursor, len(members))
        bottom = max(top - count, 0)
        batch = members[bottom:top]
        batch.reverse()
        return bottom, batch

    def serialized_length(self) -> int:
        """Bytes the value takes in an RDB file (DEBUG OBJECT): an intset is saved as one string
        (its blob: encoding width, count, values little-endian), a hashtable as a count and one
        string per member."""
        if self.intset:
            values = sorted(int(member) for member in self.members)
            width = self.width
            blob = struct.pack("<II", width, len(values)) + b"".join(
                number.to_bytes(width, "little", signed=True) for number in values
            )
            return listpack.rdb_string_size(blob)
        return listpack.rdb_length_size(len(self.members)) + sum(
            listpack.rdb_string_size(member) for member in self.members
        )


__all__ = ["HASHTABLE", "INTSET", "RedisSet", "all_integers", "intset_order"]
