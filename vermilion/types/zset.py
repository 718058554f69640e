"""Sorted-set values, and the number parsing Redis does for scores and score ranges.

A sorted set is a dict (member -> score) plus ``SortedPairs``, the ``(score, member)`` pairs in
Redis's order (by score, then bytewise by member) with O(log n) insertion, removal, rank and
positional access. Redis 7.0 encodes small sets as a "listpack" (at most
``zset-max-listpack-entries`` members, none longer than ``zset-max-listpack-value`` bytes) and
larger ones as a "skiplist"; the encoding only ever moves from listpack to skiplist. Two listpack
details show in replies: a listpack stores integral scores as integers, so -0 reads back as 0,
and ZSCAN prints those integers in full.

Scores come from C's ``strtod`` in Redis, whose grammar differs from Python's ``float()`` (hex
floats, no underscores, leading spaces only, a prefix may be parsed): ``strtod`` below reproduces
it, with fast paths for the common decimal forms.
"""

from __future__ import annotations

import math
import random
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from itertools import accumulate

from . import listpack

LISTPACK = b"listpack"
SKIPLIST = b"skiplist"

INF = math.inf
NEG_INF = -math.inf

_C_SPACES = b" \t\n\v\f\r"
_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(
    rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?"
)
_INFINITY = re.compile(rb"([+-]?)inf(?:inity)?", re.IGNORECASE)
_NAN = re.compile(rb"[+-]?nan(?:\([0-9A-Za-z_]*\))?", re.IGNORECASE)
_NONZERO_DIGIT = re.compile(rb"[1-9]")
_SMALLEST_NORMAL = 2.2250738585072014e-308


def _hex_value(sign: bytes, digits: bytes, exponent: bytes | None) -> tuple[float, bool]:
    text = b"0x" + digits + b"p" + (exponent or b"0")
    try:
        value = float.fromhex(text.decode())
    except OverflowError:
        return (NEG_INF if sign == b"-" else INF), True
    if sign == b"-":
        value = -value
    underflow = value == 0 and _NONZERO_DIGIT.search(digits.replace(b".", b"")) is not None
    if not underflow and value and abs(value) < _SMALLEST_NORMAL:
        # A subnormal result is a range error when it is inexact (glibc's underflow rule).
        whole, _, fraction = digits.partition(b".")
        exact = Fraction(int(whole + fraction, 16)) * Fraction(2) ** (
            int(exponent or b"0") - 4 * len(fraction)
        )
        underflow = Fraction(abs(value)) != exact
    return value, underflow


def strtod(data: bytes) -> tuple[float, int, bool]:
    """C's strtod on ``data``: (value, bytes consumed, ERANGE was set). Consumed is 0 when
    nothing could be converted. ``data`` must already end where the C string would (at a NUL)."""
    start = 0
    size = len(data)
    while start < size and data[start] in _C_SPACES:
        start += 1
    match = _HEX.match(data, start)
    if match is not None:
        value, erange = _hex_value(match.group(1), match.group(2), match.group(3))
        return value, match.end(), erange
    match = _DECIMAL.match(data, start)
    if match is not None:
        text = match.group()
        value = float(text)
        if value in (INF, NEG_INF):
            return value, match.end(), True
        mantissa = text.split(b"e", 1)[0].split(b"E", 1)[0]
        erange = False
        if value == 0:
            erange = _NONZERO_DIGIT.search(mantissa) is not None
        elif abs(value) < _SMALLEST_NORMAL:
            erange = Decimal(abs(value)) != abs(Decimal(text.decode()))
        return value, match.end(), erange
    match = _INFINITY.match(data, start)
    if match is not None:
        return (NEG_INF if match.group(1) == b"-" else INF), match.end(), False
    match = _NAN.match(data, start)
    if match is not None:
        return math.nan, match.end(), False
    return 0.0, 0, False


def c_string(data: bytes) -> bytes:
    """``data`` as C code sees it: up to the first NUL byte."""
    nul = data.find(b"\0")
    return data if nul < 0 else data[:nul]


def parse_double(data: bytes) -> float | None:
    """A double argument as Redis's getDoubleFromObject reads it (scores, increments, weights):
    the whole argument must be a number, without leading space; NaN, and overflow or underflow to
    zero, are rejected. None when invalid."""
    try:
        value = float(data)
    except ValueError:
        value = None
    if value is not None:
        # Python accepts what C does not: underscores, surrounding spaces.
        if b"_" in data or data[0] in _C_SPACES or data[-1] in _C_SPACES:
            return None
        if value != value:
            return None
        if value == INF or value == NEG_INF:
            lowered = data.lower()
            return value if b"inf" in lowered else None
        if value == 0 and _NONZERO_DIGIT.search(data.split(b"e", 1)[0].split(b"E", 1)[0]):
            return None
        return value
    if not data or data[0] in _C_SPACES:
        return None
    value, consumed, erange = strtod(data)
    if consumed != len(data) or value != value:
        return None
    if erange and (value in (INF, NEG_INF) or value == 0):
        return None
    return value


def parse_range_bound(data: bytes) -> tuple[float, bool] | None:
    """One end of a score range (ZRANGEBYSCORE, ZCOUNT...): ``(value, exclusive)``, None when
    invalid. As in Redis's zslParseRange, strtod must consume the C string to its end (so leading
    spaces, an empty number, and overflow to infinity are all accepted) and NaN is refused."""
    exclusive = data[:1] == b"("
    text = c_string(data[1:] if exclusive else data)
    try:
        value = float(text)
        if b"_" in text or text[-1] in _C_SPACES:
            raise ValueError
    except ValueError:
        # Includes the empty string: strtod converts nothing and its end pointer is then the
        # terminator itself, so Redis reads "" (and "(") as 0.
        value, consumed, _ = strtod(text)
        if consumed != len(text):
            return None
    if value != value:
        return None
    return value, exclusive


class ScoreRange:
    """min/max score bounds with exclusivity flags (Redis's zrangespec)."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, low: float, minex: bool, high: float, maxex: bool) -> None:
        self.min = low
        self.max = high
        self.minex = minex
        self.maxex = maxex

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))

    def above_min(self, score: float) -> bool:
        return score > self.min if self.minex else score >= self.min

    def below_max(self, score: float) -> bool:
        return score < self.max if self.maxex else score <= self.max


def parse_score_range(low: bytes, high: bytes) -> ScoreRange | None:
    first = parse_range_bound(low)
    if first is None:
        return None
    second = parse_range_bound(high)
    if second is None:
        return None
    return ScoreRange(first[0], first[1], second[0], second[1])


# Lexicographic bounds: "-" and "+" are the smallest and largest possible strings.
MIN_STRING = 0
MAX_STRING = 1
STRING = 2


class LexRange:
    """min/max member bounds (Redis's zlexrangespec): kinds MIN_STRING / MAX_STRING / STRING."""

    __slots__ = ("min_kind", "min", "minex", "max_kind", "max", "maxex")

    def __init__(self, min_kind: int, low: bytes, minex: bool, max_kind: int, high: bytes,
                 maxex: bool) -> None:
        self.min_kind = min_kind
        self.min = low
        self.minex = minex
        self.max_kind = max_kind
        self.max = high
        self.maxex = maxex

    def empty(self) -> bool:
        """Redis's validity test: min above max, or equal with an exclusive end."""
        if self.min_kind == self.max_kind and self.min_kind != STRING:
            cmp = 0
        elif self.min_kind == MIN_STRING or self.max_kind == MAX_STRING:
            cmp = -1
        elif self.min_kind == MAX_STRING or self.max_kind == MIN_STRING:
            cmp = 1
        else:
            cmp = (self.min > self.max) - (self.min < self.max)
        return cmp > 0 or (cmp == 0 and (self.minex or self.maxex))

    def above_min(self, member: bytes) -> bool:
        kind = self.min_kind
        if kind == MIN_STRING:
            return True
        if kind == MAX_STRING:
            return False
        return member > self.min if self.minex else member >= self.min

    def below_max(self, member: bytes) -> bool:
        kind = self.max_kind
        if kind == MAX_STRING:
            return True
        if kind == MIN_STRING:
            return False
        return member < self.max if self.maxex else member <= self.max


def _lex_item(data: bytes) -> tuple[int, bytes, bool] | None:
    first = data[:1]
    if first == b"+" or first == b"-":
        # The rest of the C string must be empty.
        if len(data) > 1 and data[1] != 0:
            return None
        return (MAX_STRING if first == b"+" else MIN_STRING), b"", True
    if first == b"(":
        return STRING, data[1:], True
    if first == b"[":
        return STRING, data[1:], False
    return None


def parse_lex_range(low: bytes, high: bytes) -> LexRange | None:
    first = _lex_item(low)
    second = _lex_item(high)
    if first is None or second is None:
        return None
    return LexRange(first[0], first[1], first[2], second[0], second[1], second[2])


# double2ll's range (+-LLONG_MAX/2, as a double): integral scores inside it are listpack integers.
_LISTPACK_INT_MAX = 4611686018427387904.0
_LISTPACK_INT_MIN = -4611686018427387904.0


def listpack_score_text(score: float) -> bytes:
    """A score as a listpack holds it (what ZSCAN shows for small sets): integral values within
    +-2**62 are integers, the rest %.17g."""
    if score.is_integer() and _LISTPACK_INT_MIN <= score <= _LISTPACK_INT_MAX:
        return b"%d" % int(score)
    if score == INF:
        return b"inf"
    if score == NEG_INF:
        return b"-inf"
    return b"%.17g" % score


# -- the ordered index -----------------------------------------------------------------------

# A chunk splits in two when it grows past twice this many pairs. Smaller chunks make a change
# move fewer bytes (an insert or delete shifts half a chunk's scores and members, cold memory on
# a big set: ZADD moving a member of a million-member set took 19% less time at 512 than at
# 1024), larger ones make the chunk index, rebuilt after each split, shorter.
_LOAD = 512


class SortedPairs:
    """``(score, member)`` pairs kept in Redis's order: by score, then bytewise by member.

    The pairs live in chunks of at most 2 * _LOAD, each an ``array('d')`` of scores beside a list
    of members, with the last score and member of every chunk in ``max_scores`` (an array) and
    ``max_members``. Finding a pair is a bisection over contiguous doubles (the chunk ends, then
    one chunk), comparing members only among equal scores: far fewer memory accesses on large
    sets than comparing tuples, which is what dominates there. Positions come from a Fenwick tree
    of chunk sizes, rebuilt lazily when chunks split or vanish. The interface follows
    sortedcontainers' SortedList where both have the operation.
    """

    __slots__ = ("scores", "members", "max_scores", "max_members", "size", "tree")

    def __init__(self, pairs: Iterable[tuple[float, bytes]] = ()) -> None:
        """``pairs`` must already be sorted."""
        self.scores: list[array] = []
        self.members: list[list[bytes]] = []
        self.max_scores = array("d")
        self.max_members: list[bytes] = []
        self.size = 0
        # Fenwick tree over chunk sizes (index 1..n), or None when it must be rebuilt.
        self.tree: array | None = None
        chunk_scores: list[float] = []
        chunk_members: list[bytes] = []
        for score, member in pairs:
            chunk_scores.append(score)
            chunk_members.append(member)
            if len(chunk_members) == _LOAD:
                self._append_chunk(chunk_scores, chunk_members)
                chunk_scores, chunk_members = [], []
        if chunk_members:
            self._append_chunk(chunk_scores, chunk_members)

    def _append_chunk(self, scores: list[float], members: list[bytes]) -> None:
        self.scores.append(array("d", scores))
        self.members.append(members)
        self.max_scores.append(scores[-1])
        self.max_members.append(members[-1])
        self.size += len(members)

    def copy(self) -> SortedPairs:
        new = SortedPairs()
        new.scores = [array("d", chunk) for chunk in self.scores]
        new.members = [chunk.copy() for chunk in self.members]
        new.max_scores = array("d", self.max_scores)
        new.max_members = self.max_members.copy()
        new.size = self.size
        return new

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def __iter__(self):
        for scores, members in zip(self.scores, self.members):
            yield from zip(scores, members)

    def __reversed__(self):
        for scores, members in zip(reversed(self.scores), reversed(self.members)):
            yield from zip(reversed(scores), reversed(members))

    # -- locating -------------------------------------------------------------------------------

    def _chunk_for(self, score: float, member: bytes | None, right: bool) -> int:
        """The first chunk whose last pair is >= (> when ``right``) the probe; a probe without a
        member stands for (score, before any member)."""
        maxes = self.max_scores
        chunk = bisect_left(maxes, score)
        if member is not None and chunk < len(maxes) and maxes[chunk] == score:
            end = bisect_right(maxes, score, chunk)
            find = bisect_right if right else bisect_left
            chunk = find(self.max_members, member, chunk, end)
        return chunk

    def _index_in(self, chunk: int, score: float, member: bytes | None, right: bool) -> int:
        scores = self.scores[chunk]
        index = bisect_left(scores, score)
        if member is not None and index < len(scores) and scores[index] == score:
            end = bisect_right(scores, score, index)
            find = bisect_right if right else bisect_left
            index = find(self.members[chunk], member, index, end)
        return index

    def _offset(self, chunk: int) -> int:
        """Pairs in the chunks before ``chunk``."""
        if chunk == 0:
            return 0
        tree = self.tree
        if tree is None:
            tree = self._build_tree()
        total = 0
        while chunk:
            total += tree[chunk]
            chunk &= chunk - 1
        return total

    def _build_tree(self) -> array:
        # Node i of a Fenwick tree sums the sizes of chunks (i & (i - 1), i]: a difference of
        # two prefix sums, which accumulate computes at C speed.
        prefix = list(accumulate(map(len, self.members), initial=0))
        sizes = [prefix[node] - prefix[node & (node - 1)] for node in range(1, len(prefix))]
        # Contiguous 64-bit counts: a walk up the tree touches few cache lines.
        tree = self.tree = array("q", [0])
        tree.extend(sizes)
        return tree

    def _tree_add(self, chunk: int, delta: int) -> None:
        tree = self.tree
        if tree is None:
            return
        position = chunk + 1
        count = len(tree) - 1
        while position <= count:
            tree[position] += delta
            position += position & -position

    def _locate(self, index: int) -> tuple[int, int]:
        """(chunk, position in chunk) of the pair at ``index`` (0 <= index < size)."""
        members = self.members
        first = len(members[0])
        if index < first:
            return 0, index
        last = len(members[-1])
        if index >= self.size - last:
            return len(members) - 1, index - (self.size - last)
        tree = self.tree
        if tree is None:
            tree = self._build_tree()
        chunk = 0
        step = 1 << (len(tree) - 1).bit_length()
        while step:
            probe = chunk + step
            if probe < len(tree) and tree[probe] <= index:
                chunk = probe
                index -= tree[probe]
            step >>= 1
        return chunk, index

    def bisect_left(self, probe: tuple) -> int:
        """Rank of the first pair >= ``probe`` ((score,) or (score, member))."""
        if len(probe) == 2:
            return self.rank_of(probe[0], probe[1])
        return self._bisect(probe[0], None, False)

    def bisect_right(self, probe: tuple) -> int:
        """Rank of the first pair > ``probe``."""
        return self._bisect(probe[0], probe[1] if len(probe) > 1 else None, True)

    def rank_of(self, score: float, member: bytes, present: bool = False) -> int:
        """Rank of the first pair >= (score, member): the rank of that pair when present. The
        hot path of ZRANK, written out in full. ``present``: the pair is known to be there."""
        maxes = self.max_scores
        chunk = bisect_left(maxes, score)
        if chunk == len(maxes):
            return self.size
        if maxes[chunk] == score:
            chunk = bisect_left(self.max_members, member, chunk, bisect_right(maxes, score, chunk))
            if chunk == len(maxes):
                return self.size
        scores = self.scores[chunk]
        index = bisect_left(scores, score)
        # A present pair whose score no other member of its chunk has is at ``index``: reading
        # its member (a cache miss or two on a big set) is only needed among equal scores.
        if scores[index] == score and not (
                present and (index + 1 == len(scores) or scores[index + 1] != score)):
            members = self.members[chunk]
            if members[index] != member:
                # Equal scores: order by member within their run.
                index = bisect_left(members, member, index, bisect_right(scores, score, index))
        if not chunk:
            return index
        tree = self.tree
        if tree is None:
            tree = self._build_tree()
        while chunk:
            index += tree[chunk]
            chunk &= chunk - 1
        return index

    def _bisect(self, score: float, member: bytes | None, right: bool) -> int:
        chunk = self._chunk_for(score, member, right)
        if chunk == len(self.members):
            return self.size
        return self._offset(chunk) + self._index_in(chunk, score, member, right)

    def __getitem__(self, index: int) -> tuple[float, bytes]:
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError("pair index out of range")
        chunk, position = self._locate(index)
        return self.scores[chunk][position], self.members[chunk][position]

    def islice(self, start: int | None = None, stop: int | None = None, reverse: bool = False):
        """The pairs at ranks [start, stop), in order or (``reverse``) backwards."""
        size = self.size
        start = 0 if start is None else max(0, min(start, size))
        stop = size if stop is None else max(0, min(stop, size))
        if start >= stop:
            return iter(())
        if reverse:
            return self._backwards(start, stop)
        return self._forwards(start, stop)

    def _forwards(self, start: int, stop: int):
        chunk, position = self._locate(start)
        remaining = stop - start
        all_scores, all_members = self.scores, self.members
        while remaining > 0:
            scores, members = all_scores[chunk], all_members[chunk]
            end = min(len(members), position + remaining)
            yield from zip(scores[position:end], members[position:end])
            remaining -= end - position
            chunk += 1
            position = 0

    def _backwards(self, start: int, stop: int):
        chunk, position = self._locate(stop - 1)
        remaining = stop - start
        all_scores, all_members = self.scores, self.members
        while remaining > 0:
            scores, members = all_scores[chunk], all_members[chunk]
            begin = max(0, position + 1 - remaining)
            for offset in range(position, begin - 1, -1):
                yield scores[offset], members[offset]
            remaining -= position + 1 - begin
            chunk -= 1
            if chunk >= 0:
                position = len(all_members[chunk]) - 1

    # -- changes ---------------------------------------------------------------------------------

    def add(self, pair: tuple[float, bytes]) -> None:
        self.insert(pair[0], pair[1])

    def insert(self, score: float, member: bytes) -> None:
        """Add the pair (score, member), which must not be present."""
        maxes = self.max_scores
        count = len(maxes)
        if not count:
            self._append_chunk([score], [member])
            self.tree = None
            return
        chunk = bisect_left(maxes, score)
        if chunk < count and maxes[chunk] == score:
            chunk = bisect_left(self.max_members, member, chunk, bisect_right(maxes, score, chunk))
        if chunk == count:
            chunk -= 1
        scores, members = self.scores[chunk], self.members[chunk]
        index = bisect_left(scores, score)
        if index < len(scores) and scores[index] == score:
            index = bisect_left(members, member, index, bisect_right(scores, score, index))
        scores.insert(index, score)
        members.insert(index, member)
        self.size += 1
        if index == len(members) - 1:
            maxes[chunk] = score
            self.max_members[chunk] = member
        if len(members) > 2 * _LOAD:
            self._split(chunk)
        elif self.tree is not None:
            self._tree_add(chunk, 1)

    def _split(self, chunk: int) -> None:
        scores, members = self.scores[chunk], self.members[chunk]
        half = len(members) // 2
        self.scores[chunk:chunk + 1] = [scores[:half], scores[half:]]
        self.members[chunk:chunk + 1] = [members[:half], members[half:]]
        self.max_scores.insert(chunk, scores[half - 1])
        self.max_members.insert(chunk, members[half - 1])
        self.tree = None

    def remove(self, pair: tuple[float, bytes]) -> None:
        score, member = pair
        chunk = self._chunk_for(score, member, False)
        if chunk < len(self.members):
            index = self._index_in(chunk, score, member, False)
            members = self.members[chunk]
            found = index < len(members) and members[index] == member
            if found and self.scores[chunk][index] == score:
                self._delete_at(chunk, index)
                return
        raise ValueError("pair not present")

    def _delete_at(self, chunk: int, index: int) -> tuple[float, bytes]:
        scores, members = self.scores[chunk], self.members[chunk]
        pair = scores[index], members[index]
        del scores[index]
        del members[index]
        self.size -= 1
        if not members:
            del self.scores[chunk], self.members[chunk]
            del self.max_scores[chunk], self.max_members[chunk]
            self.tree = None
            return pair
        if index == len(members):
            self.max_scores[chunk] = scores[-1]
            self.max_members[chunk] = members[-1]
        self._tree_add(chunk, -1)
        return pair

    def pop(self, index: int = -1) -> tuple[float, bytes]:
        if not self.size:
            raise IndexError("pop from empty pairs")
        if index == 0:
            return self._delete_at(0, 0)
        if index == -1:
            return self._delete_at(len(self.members) - 1, len(self.members[-1]) - 1)
        if index < 0:
            index += self.size
        return self._delete_at(*self._locate(index))

    def delete_range(self, start: int, stop: int) -> list[bytes]:
        """Remove the pairs at ranks [start, stop); returns their members."""
        start = max(0, start)
        stop = min(stop, self.size)
        if start >= stop:
            return []
        chunk, position = self._locate(start)
        remaining = stop - start
        removed: list[bytes] = []
        while remaining > 0:
            scores, members = self.scores[chunk], self.members[chunk]
            end = min(len(members), position + remaining)
            removed.extend(members[position:end])
            del scores[position:end]
            del members[position:end]
            remaining -= end - position
            if members:
                self.max_scores[chunk] = scores[-1]
                self.max_members[chunk] = members[-1]
                chunk += 1
            else:
                del self.scores[chunk], self.members[chunk]
                del self.max_scores[chunk], self.max_members[chunk]
            position = 0
        self.size -= len(removed)
        self.tree = None
        return removed


class ZSet:
    """A sorted set: ``scores`` (member -> score) and ``order`` (sorted (score, member))."""

    TYPE_NAME = b"zset"

    __slots__ = ("scores", "order", "listpack", "scans")

    def __init__(self, listpack: bool = True) -> None:
        self.scores: dict[bytes, float] = {}
        self.order = SortedPairs()
        self.listpack = listpack
        # ZSCAN snapshots of a skiplist set: tag -> member list (see commands.zsets).
        self.scans: dict[int, list[bytes]] | None = None

    @classmethod
    def from_pairs(cls, pairs: list[tuple[float, bytes]], max_entries: int,
                   max_value: int) -> ZSet:
        """A set built from distinct ``(score, member)`` pairs whose encoding follows from its
        final size, as for the results of ZUNIONSTORE and friends."""
        listpack = len(pairs) <= max_entries and all(len(m) <= max_value for _, m in pairs)
        new = cls(listpack)
        if listpack:
            pairs = [(0.0 if score == 0 else score, member) for score, member in pairs]
        new.scores = {member: score for score, member in pairs}
        new.order = SortedPairs(sorted(pairs))
        return new

    # -- the value-type protocol --------------------------------------------------------------

    def encoding(self) -> bytes:
        return LISTPACK if self.listpack else SKIPLIST

    def copy(self) -> ZSet:
        new = ZSet(self.listpack)
        new.scores = self.scores.copy()
        new.order = self.order.copy()
        return new

    def __len__(self) -> int:
        return len(self.scores)

    def serialized_length(self) -> int:
        """Bytes the value takes in an RDB file (DEBUG OBJECT): a listpack is saved as one
        string (its bytes), a skiplist as a count then each member and its binary score."""
        if self.listpack:
            return listpack.rdb_string_size(self.listpack_bytes())
        return listpack.rdb_length_size(len(self.scores)) + sum(
            listpack.rdb_string_size(member) + 8 for member in self.scores
        )

    def listpack_bytes(self) -> bytes:
        """The listpack Redis would hold for this set: member, score, member, score... (a score
        is an integer entry when integral within +-2**62, else its text)."""
        values = []
        for score, member in self.order:
            values.append(member)
            values.append(listpack_score_text(score))
        return listpack.listpack_bytes(values)

    # -- changes -------------------------------------------------------------------------------

    def insert(self, member: bytes, score: float, max_entries: int, max_value: int) -> None:
        """Add a member known to be absent, converting to a skiplist when it no longer fits."""
        if self.listpack:
            if len(self.scores) >= max_entries or len(member) > max_value:
                self.listpack = False
            elif score == 0:
                score = 0.0  # a listpack stores 0 and -0 as the integer 0
        self.scores[member] = score
        self.order.insert(score, member)

    def update(self, member: bytes, current: float, score: float) -> None:
        """Move an existing member from ``current`` to a different ``score``."""
        if self.listpack and score == 0:
            score = 0.0
        order = self.order
        order.remove((current, member))
        self.scores[member] = score
        order.insert(score, member)

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.remove((score, member))
        return True

    def pop(self, highest: bool) -> tuple[float, bytes]:
        """Remove and return the lowest (or highest) ``(score, member)``."""
        pair = self.order.pop(-1 if highest else 0)
        del self.scores[pair[1]]
        return pair

    def delete_slice(self, start: int, stop: int) -> int:
        """Remove the members at ranks [start, stop); returns how many."""
        if start >= stop:
            return 0
        scores = self.scores
        removed = self.order.delete_range(start, stop)
        for member in removed:
            del scores[member]
        return len(removed)

    # -- queries -------------------------------------------------------------------------------

    def rank(self, member: bytes) -> int | None:
        score = self.scores.get(member)
        if score is None:
            return None
        return self.order.rank_of(score, member, True)

    def random_pair(self) -> tuple[float, bytes]:
        order = self.order
        return order[random.randrange(len(order))]

    def score_bounds(self, spec: ScoreRange) -> tuple[int, int]:
        """Ranks [start, stop) of the members whose score lies in ``spec``."""
        order = self.order
        low = spec.min
        if spec.minex:
            if low == INF:
                return 0, 0
            start = order.bisect_left((math.nextafter(low, INF),))
        else:
            start = order.bisect_left((low,))
        high = spec.max
        if spec.maxex:
            stop = order.bisect_left((high,))
        elif high == INF:
            stop = len(order)
        else:
            stop = order.bisect_left((math.nextafter(high, INF),))
        return start, max(start, stop)

    def uniform_score(self) -> bool:
        order = self.order
        return not order or order[0][0] == order[-1][0]

    def lex_first(self, spec: LexRange) -> int | None:
        """Rank of the first member at or after the range's start (zslFirstInLexRange /
        zzlFirstInLexRange), or None when the range holds nothing."""
        order = self.order
        size = len(order)
        if spec.empty() or not size:
            return None
        if not spec.above_min(order[-1][1]) or not spec.below_max(order[0][1]):
            return None
        if self.listpack:
            # Redis scans a listpack from the head: with mixed scores (where lex ranges are
            # undefined) this is the answer it gives.
            for rank, (_, member) in enumerate(order):
                if spec.above_min(member):
                    return rank if spec.below_max(member) else None
            return None
        rank = self._first_from_min(spec)
        if rank >= size or not spec.below_max(order[rank][1]):
            return None
        return rank

    def lex_last(self, spec: LexRange) -> int | None:
        """Rank of the last member at or before the range's end, or None."""
        order = self.order
        size = len(order)
        if spec.empty() or not size:
            return None
        if not spec.above_min(order[-1][1]) or not spec.below_max(order[0][1]):
            return None
        if self.listpack:
            for rank in range(size - 1, -1, -1):
                member = order[rank][1]
                if spec.below_max(member):
                    return rank if spec.above_min(member) else None
            return None
        rank = self._first_past_max(spec) - 1
        if rank < 0 or not spec.above_min(order[rank][1]):
            return None
        return rank

    def lex_delete_start(self, spec: LexRange) -> int | None:
        """Where ZREMRANGEBYLEX starts deleting (None: nothing to delete)."""
        if self.listpack:
            return self.lex_first(spec)
        rank = self._first_from_min(spec)
        return rank if rank < len(self.order) else None

    def _first_from_min(self, spec: LexRange) -> int:
        """The first rank whose member is at or past the range's start."""
        order = self.order
        if spec.min_kind != STRING:
            return 0 if spec.min_kind == MIN_STRING else len(order)
        if self.uniform_score():
            score = order[0][0]
            probe = (score, spec.min)
            return order.bisect_right(probe) if spec.minex else order.bisect_left(probe)
        return self._partition(spec.above_min)

    def _first_past_max(self, spec: LexRange) -> int:
        """The first rank whose member is beyond the range's end."""
        order = self.order
        if spec.max_kind != STRING:
            return len(order) if spec.max_kind == MAX_STRING else 0
        if self.uniform_score():
            score = order[0][0]
            probe = (score, spec.max)
            return order.bisect_left(probe) if spec.maxex else order.bisect_right(probe)
        return self._partition(lambda member: not spec.below_max(member))

    def _partition(self, predicate) -> int:
        """The first rank whose member satisfies ``predicate``, by bisection over positions.
        With mixed scores lex ranges are undefined (Redis's skiplist walk then depends on its
        random levels); bisection gives one consistent answer."""
        order = self.order
        low, high = 0, len(order)
        while low < high:
            middle = (low + high) // 2
            if predicate(order[middle][1]):
                high = middle
            else:
                low = middle + 1
        return low


__all__ = [
    "LISTPACK",
    "SKIPLIST",
    "LexRange",
    "ScoreRange",
    "ZSet",
    "c_string",
    "listpack_score_text",
    "parse_double",
    "parse_lex_range",
    "parse_range_bound",
    "parse_score_range",
    "strtod",
]
