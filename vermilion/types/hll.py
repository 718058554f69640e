"""HyperLogLog values, byte-compatible with Redis 7.0.

An HLL is an ordinary string value (a ``bytearray`` in the keyspace) laid out as Redis lays it
out, so GET, DUMP and SETRANGE see exactly Redis's bytes:

- a 16-byte header: ``HYLL``, one encoding byte (0 dense, 1 sparse), three unused bytes, and
  the cached cardinality as 8 little-endian bytes whose top bit marks the cache stale;
- dense: 16384 registers of 6 bits, packed from the least significant bit of each byte up;
- sparse: run-length opcodes. ``00xxxxxx`` ZERO (1-64 zero registers), ``01xxxxxx yyyyyyyy``
  XZERO (1-16384 zero registers), ``1vvvvvxx`` VAL (1-4 registers holding 1-32).

The update algorithms (where a sparse opcode is split, which neighbours are merged, when the
value is promoted to dense) follow Redis step by step: two servers fed the same elements must
end with the same bytes. Everything here works on plain ``bytearray``s and knows no protocol.

A sparse HLL is corrupted when its opcodes cover other than exactly 16384 registers, or when any
opcode runs past the last register: the reference server (7.0.15 as packaged, which carries the
fix for CVE-2025-32023) rejects both, in counting, merging and conversion alike.
"""

from __future__ import annotations

import math
import random
import re
import struct
from collections import Counter

# -- layout ------------------------------------------------------------------------------------

HEADER_SIZE = 16
P = 14
Q = 64 - P
REGISTERS = 1 << P
P_MASK = REGISTERS - 1
REGISTER_MAX = 63
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HEADER_SIZE + DENSE_BYTES
DENSE = 0
SPARSE = 1
MAX_ENCODING = 1
CACHE_BYTE = 15  # the most significant byte of the cached cardinality
CACHE_STALE = 0x80

SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384

ALPHA_INF = 0.721347520444481703680  # 0.5 / ln(2)

MAGIC = b"HYLL"

# Registers a single sparse opcode byte covers (XZERO needs its second byte: 0 here).
_ZERO_OR_VAL_SPAN = bytes(
    ((b & 0x3F) + 1) if b < 0x40 else ((b & 3) + 1) if b >= 0x80 else 0 for b in range(256)
)


# sparse_set skips runs of one-byte opcodes this many bytes at a time (largest first).
_SKIP_BLOCKS = (64, 8)


def _val_opcode(value: int, run: int) -> int:
    return 0x80 | ((value - 1) << 2) | (run - 1)


# -- MurmurHash64A -----------------------------------------------------------------------------

_M = 0xC6A4A7935BD1E995
_MASK64 = 0xFFFFFFFFFFFFFFFF
HASH_SEED = 0xADC83B19
_WORDS = [struct.Struct("<%dQ" % n) for n in range(33)]


def murmurhash64a(data: bytes, seed: int = HASH_SEED) -> int:
    """MurmurHash2 64-bit (variant A) of ``data``, reading words little-endian as Redis does."""
    m = _M
    mask = _MASK64
    size = len(data)
    h = seed ^ (size * m & mask)
    if size < 8:
        if size:
            h = (h ^ int.from_bytes(data, "little")) * m & mask
    else:
        whole = size & ~7
        if whole == 8:
            k = int.from_bytes(data[:8], "little") * m & mask
            h = (h ^ ((k ^ (k >> 47)) * m & mask)) * m & mask
        else:
            count = whole >> 3
            layout = _WORDS[count] if count < 33 else struct.Struct("<%dQ" % count)
            for k in layout.unpack_from(data):
                k = k * m & mask
                h = (h ^ ((k ^ (k >> 47)) * m & mask)) * m & mask
        if size & 7:
            h = (h ^ int.from_bytes(data[whole:], "little")) * m & mask
    h = (h ^ (h >> 47)) * m & mask
    return h ^ (h >> 47)


def pattern(element: bytes) -> tuple[int, int]:
    """The register an element maps to and its run length of zeroes plus one (1..Q+1)."""
    h = murmurhash64a(element)
    rest = (h >> P) | (1 << Q)
    return h & P_MASK, (rest & -rest).bit_length()


# -- header ------------------------------------------------------------------------------------


def new_sparse() -> bytearray:
    """An empty HLL as Redis creates it: sparse, one XZERO covering every register."""
    value = bytearray(HEADER_SIZE)
    value[0:4] = MAGIC
    value[4] = SPARSE
    run = REGISTERS - 1
    value += bytes((0x40 | (run >> 8), run & 0xFF))
    return value


def is_hll(value: bytes | bytearray) -> bool:
    """Whether a string value passes Redis's HLL validity check (isHLLObjectOrReply)."""
    if len(value) < HEADER_SIZE or value[0:4] != MAGIC:
        return False
    encoding = value[4]
    if encoding > MAX_ENCODING:
        return False
    return encoding != DENSE or len(value) == DENSE_SIZE


def cached_cardinality(value: bytearray) -> int | None:
    if value[CACHE_BYTE] & CACHE_STALE:
        return None
    return int.from_bytes(value[8:16], "little")


def store_cardinality(value: bytearray, card: int) -> None:
    value[8:16] = card.to_bytes(8, "little")


def invalidate_cache(value: bytearray) -> None:
    value[CACHE_BYTE] |= CACHE_STALE


# -- dense registers ---------------------------------------------------------------------------


# The last register lies wholly in the last byte; Redis reads (and rewrites unchanged) the string's
# NUL terminator after it, which the bytearray does not have: LAST_INDEX skips that byte.
LAST_INDEX = REGISTERS - 1


def dense_get(value: bytearray, index: int) -> int:
    pos = HEADER_SIZE + (index * 6 >> 3)
    shift = index * 6 & 7
    if index == LAST_INDEX:
        return value[pos] >> shift
    return ((value[pos] >> shift) | (value[pos + 1] << (8 - shift))) & REGISTER_MAX


def dense_set(value: bytearray, index: int, count: int) -> int:
    """Raise register ``index`` to ``count`` if it is lower; 1 when it changed, else 0."""
    pos = HEADER_SIZE + (index * 6 >> 3)
    shift = index * 6 & 7
    low = value[pos]
    if index == LAST_INDEX:
        if count <= low >> shift:
            return 0
        value[pos] = (low & 0x03) | (count << 2)
        return 1
    high = value[pos + 1]
    if count <= ((low >> shift) | (high << (8 - shift))) & REGISTER_MAX:
        return 0
    value[pos] = (low & ~(REGISTER_MAX << shift) | (count << shift)) & 0xFF
    value[pos + 1] = high & ~(REGISTER_MAX >> (8 - shift)) | (count >> (8 - shift))
    return 1


def dense_add_all(value: bytearray, elements: list[bytes]) -> int:
    """Add elements to a dense HLL (PFADD's hot loop: hashing and register update inlined);
    the number of registers raised."""
    changed = 0
    hash64 = murmurhash64a
    stop_bit = 1 << Q
    for element in elements:
        h = hash64(element)
        rest = (h >> P) | stop_bit
        run = (rest & -rest).bit_length()
        index = h & P_MASK
        pos = HEADER_SIZE + (index * 6 >> 3)
        shift = index * 6 & 7
        low = value[pos]
        if index == LAST_INDEX:
            if run > low >> shift:
                value[pos] = (low & 0x03) | (run << 2)
                changed += 1
            continue
        high = value[pos + 1]
        if run > ((low >> shift) | (high << (8 - shift))) & REGISTER_MAX:
            value[pos] = (low & ~(REGISTER_MAX << shift) | (run << shift)) & 0xFF
            value[pos + 1] = high & ~(REGISTER_MAX >> (8 - shift)) | (run >> (8 - shift))
            changed += 1
    return changed


def _table(fn) -> bytes:
    return bytes(fn(b) & 0xFF for b in range(256))


_LOW6 = _table(lambda b: b & 63)
_HIGH2 = _table(lambda b: b >> 6)
_LOW4_UP2 = _table(lambda b: (b & 15) << 2)
_HIGH4 = _table(lambda b: b >> 4)
_LOW2_UP4 = _table(lambda b: (b & 3) << 4)
_HIGH6 = _table(lambda b: b >> 2)
_LOW2_UP6 = _table(lambda b: (b & 3) << 6)
_SHR2 = _table(lambda b: b >> 2)
_LOW4_UP4 = _table(lambda b: (b & 15) << 4)
_SHR4 = _table(lambda b: b >> 4)
_UP2 = _table(lambda b: b << 2)
_GROUPS = REGISTERS // 4


def _or_disjoint(a: bytes, b: bytes) -> bytes:
    # Byte-wise OR of two strings whose set bits never overlap: one big-integer addition.
    return (int.from_bytes(a, "big") + int.from_bytes(b, "big")).to_bytes(len(a), "big")


def dense_to_raw(value: bytes | bytearray) -> bytearray:
    """The 16384 dense registers as one byte each (every 3 bytes pack 4 registers)."""
    packed = bytes(value[HEADER_SIZE:DENSE_SIZE])
    b0, b1, b2 = packed[0::3], packed[1::3], packed[2::3]
    raw = bytearray(REGISTERS)
    raw[0::4] = b0.translate(_LOW6)
    raw[1::4] = _or_disjoint(b0.translate(_HIGH2), b1.translate(_LOW4_UP2))
    raw[2::4] = _or_disjoint(b1.translate(_HIGH4), b2.translate(_LOW2_UP4))
    raw[3::4] = b2.translate(_HIGH6)
    return raw


def raw_to_dense_registers(raw: bytes | bytearray) -> bytearray:
    """Pack one-byte registers (each < 64) into the dense 6-bit layout (12288 bytes)."""
    raw = bytes(raw)
    r0, r1, r2, r3 = raw[0::4], raw[1::4], raw[2::4], raw[3::4]
    packed = bytearray(DENSE_BYTES)
    packed[0::3] = _or_disjoint(r0, r1.translate(_LOW2_UP6))
    packed[1::3] = _or_disjoint(r1.translate(_SHR2), r2.translate(_LOW4_UP4))
    packed[2::3] = _or_disjoint(r2.translate(_SHR4), r3.translate(_UP2))
    return packed


# -- sparse representation ---------------------------------------------------------------------


def _byte_at(value: bytearray, pos: int) -> int:
    # Redis strings carry an implicit NUL after their end, which a truncated XZERO reads.
    return value[pos] if pos < len(value) else 0


def sparse_to_raw(value: bytes | bytearray) -> bytearray | None:
    """Decode sparse opcodes into one byte per register; None for a corrupted HLL: an opcode
    that runs past the last register, or opcodes that stop short of it."""
    raw = bytearray(REGISTERS)
    index = 0
    pos = HEADER_SIZE
    end = len(value)
    while pos < end:
        op = value[pos]
        if op < 0x40:
            index += (op & 0x3F) + 1
            pos += 1
        elif op < 0x80:
            index += (((op & 0x3F) << 8) | _byte_at(value, pos + 1)) + 1
            pos += 2
        else:
            run = (op & 3) + 1
            if index + run > REGISTERS:
                return None
            raw[index : index + run] = bytes((((op >> 2) & 0x1F) + 1,)) * run
            index += run
            pos += 1
        if index > REGISTERS:
            return None
    if index != REGISTERS:
        return None
    return raw


def sparse_to_dense(value: bytearray) -> bool:
    """Convert a sparse HLL to dense in place (keeping the header); False if corrupted."""
    if value[4] == DENSE:
        return True
    raw = sparse_to_raw(value)
    if raw is None:
        return False
    header = value[:HEADER_SIZE]
    header[4] = DENSE
    value[:] = header + raw_to_dense_registers(raw)
    return True


_XZERO_BYTE = re.compile(rb"[\x40-\x7f]")
_ZERO_OPCODES = bytes(range(0x40))
_ZERO_SPAN = bytes((b + 1) if b < 0x40 else 0 for b in range(256))


def sparse_histogram(value: bytes | bytearray) -> list[int] | None:
    """Register-value histogram of a sparse HLL; None when its opcodes are corrupted (they
    cover other than exactly 16384 registers: a run past the end always shows in the total).

    Only XZERO opcodes need walking one by one; the one-byte opcodes between them are summed
    (ZERO) and tallied by byte value (VAL) in C, since the histogram does not depend on order.
    """
    tally: Counter[int] = Counter()
    zeros = 0
    pos = HEADER_SIZE
    end = len(value)
    search = _XZERO_BYTE.search
    while pos < end:
        found = search(value, pos)
        xzero = end if found is None else found.start()
        if xzero > pos:
            segment = value[pos:xzero]
            zeros += sum(segment.translate(_ZERO_SPAN))
            tally.update(segment.translate(None, _ZERO_OPCODES))
        if found is None:
            break
        zeros += (((value[xzero] & 0x3F) << 8) | _byte_at(value, xzero + 1)) + 1
        pos = xzero + 2
    histogram = [0] * 64
    histogram[0] = zeros
    total = zeros
    for op, times in tally.items():
        covered = ((op & 3) + 1) * times
        histogram[((op >> 2) & 0x1F) + 1] += covered
        total += covered
    if total != REGISTERS:
        return None
    return histogram


class SparseCursor:
    """Where the last sparse update happened, so that updates in increasing register order
    (PFMERGE) resume from there instead of scanning from the first opcode each time."""

    __slots__ = ("pos", "first")

    def __init__(self) -> None:
        self.pos = HEADER_SIZE
        self.first = 0


def _locate(value: bytearray, index: int, pos: int, first: int
            ) -> tuple[int, int, int, int, int, int, int]:
    """Walk the opcodes from ``pos`` (covering registers from ``first``) to the one covering
    register ``index``: (its position, its first register, its span, its byte, the position of
    the opcode before it, and the position and first register of the one before that), with -1
    for opcodes not seen. A position at or past the end means no opcode covers the register.

    Runs of one-byte opcodes are skipped a block at a time, their spans summed in C (the span
    table maps XZERO bytes to 0, which also tells whether a block is all one-byte opcodes).
    """
    end = len(value)
    prev = -1
    before_prev = before_prev_first = prev_first = -1
    span = 0
    op = 0
    spans = _ZERO_OR_VAL_SPAN
    block_spans = value.translate(spans) if end - pos > _SKIP_BLOCKS[-1] else b""
    walk_budget = 0
    while pos < end:
        if not walk_budget:
            for size in _SKIP_BLOCKS:
                stop = pos + size
                block = block_spans[pos:stop]
                if len(block) == size and 0 not in block:
                    total = sum(block)
                    if index >= first + total:
                        prev = stop - 1
                        prev_first = first + total - block[-1]
                        before_prev = stop - 2
                        before_prev_first = prev_first - block[-2]
                        first += total
                        pos = stop
                        break
            else:
                walk_budget = _SKIP_BLOCKS[-1]
            if not walk_budget:
                continue
        walk_budget -= 1
        op = value[pos]
        span = spans[op]
        if span:
            if index < first + span:
                break
            before_prev, before_prev_first = prev, prev_first
            prev, prev_first = pos, first
            pos += 1
        else:
            span = (((op & 0x3F) << 8) | _byte_at(value, pos + 1)) + 1
            if index < first + span:
                break
            before_prev, before_prev_first = prev, prev_first
            prev, prev_first = pos, first
            pos += 2
        first += span
    return pos, first, span, op, prev, before_prev, before_prev_first


def sparse_set(value: bytearray, index: int, count: int, max_bytes: int,
               cursor: SparseCursor | None = None) -> int:
    """Raise register ``index`` of a sparse HLL to ``count`` (Redis's hllSparseSet).

    Returns 1 if the register changed, 0 if not, -1 if the opcodes are corrupted. Promotes the
    value to dense in place when ``count`` does not fit a VAL opcode or the update would grow
    the string past ``max_bytes`` (hll-sparse-max-bytes).
    """
    if count > SPARSE_VAL_MAX_VALUE:
        return _promote(value, index, count)

    # Step 1: find the opcode that covers the register, and the one before it.
    if cursor is not None:
        located = _locate(value, index, cursor.pos, cursor.first)
    else:
        located = _locate(value, index, HEADER_SIZE, 0)
    pos, first, span, op, prev, before_prev, before_prev_first = located
    end = len(value)
    if cursor is not None and prev < 0 and pos != HEADER_SIZE:
        # The resume point itself covers the register: the opcode before it is unknown here.
        cursor.pos, cursor.first = HEADER_SIZE, 0
        return sparse_set(value, index, count, max_bytes, cursor)
    if span == 0 or pos >= end:
        return -1
    if cursor is not None:
        # Opcodes before the one preceding this update are never touched by it.
        if before_prev >= 0:
            cursor.pos, cursor.first = before_prev, before_prev_first
        else:
            cursor.pos, cursor.first = HEADER_SIZE, 0

    is_xzero = 0x40 <= op < 0x80
    is_zero = op < 0x40
    old_len = 2 if is_xzero else 1
    run = span

    # Step 2: the easy in-place cases.
    if op >= 0x80:
        if ((op >> 2) & 0x1F) + 1 >= count:
            return 0
        if run == 1:
            value[pos] = _val_opcode(count, 1)
            return _merge_adjacent(value, prev, end)
    if is_zero and run == 1:
        value[pos] = _val_opcode(count, 1)
        return _merge_adjacent(value, prev, end)

    # The general case: split the opcode into up to three.
    last = first + span - 1
    seq = bytearray()
    if is_zero or is_xzero:
        for gap in (index - first, -1, last - index):
            if gap == -1:
                seq.append(_val_opcode(count, 1))
            elif gap > SPARSE_ZERO_MAX_LEN:
                seq.append(0x40 | ((gap - 1) >> 8))
                seq.append((gap - 1) & 0xFF)
            elif gap:
                seq.append(gap - 1)
    else:
        current = ((op >> 2) & 0x1F) + 1
        if index != first:
            seq.append(_val_opcode(current, index - first))
        seq.append(_val_opcode(count, 1))
        if index != last:
            seq.append(_val_opcode(current, last - index))

    # Step 3: put the new sequence in place of the old opcode.
    delta = len(seq) - old_len
    if delta > 0 and end + delta > max_bytes:
        return _promote(value, index, count)
    value[pos : pos + old_len] = seq
    end += delta
    if len(value) > end:
        # A truncated XZERO at the very end: the copy overran the string's new length.
        del value[end:]
    return _merge_adjacent(value, prev, end)


def _merge_adjacent(value: bytearray, prev: int, end: int) -> int:
    # Step 4: merge neighbouring VAL opcodes of equal value, scanning up to 5 opcodes from the
    # one before the update (as Redis does; the result need not be minimal).
    pos = prev if prev >= 0 else HEADER_SIZE
    budget = 5
    while pos < end and budget:
        budget -= 1
        op = value[pos]
        if op < 0x80:
            pos += 2 if op >= 0x40 else 1
            continue
        if pos + 1 < end:
            nxt = value[pos + 1]
            if nxt >= 0x80 and ((op >> 2) & 0x1F) == ((nxt >> 2) & 0x1F):
                run = (op & 3) + (nxt & 3) + 2
                if run <= SPARSE_VAL_MAX_LEN:
                    value[pos + 1] = _val_opcode(((op >> 2) & 0x1F) + 1, run)
                    del value[pos]
                    end -= 1
                    continue
        pos += 1
    value[CACHE_BYTE] |= CACHE_STALE
    return 1


def _promote(value: bytearray, index: int, count: int) -> int:
    if not sparse_to_dense(value):
        return -1
    return dense_set(value, index, count)


# -- adding, merging, counting -----------------------------------------------------------------


def add(value: bytearray, element: bytes, sparse_max_bytes: int) -> int:
    """Add one element: 1 if a register changed, 0 if not, -1 on a corrupted sparse HLL."""
    index, count = pattern(element)
    encoding = value[4]
    if encoding == DENSE:
        return dense_set(value, index, count)
    if encoding == SPARSE:
        return sparse_set(value, index, count, sparse_max_bytes)
    return -1


def registers(value: bytes | bytearray) -> bytearray | None:
    """One byte per register of a valid HLL; None when a sparse one is corrupted."""
    if value[4] == DENSE:
        return dense_to_raw(value)
    return sparse_to_raw(value)


_LANE_HIGH = int.from_bytes(b"\x80" * REGISTERS, "big")


def max_registers(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    """Register-wise maximum of two one-byte-per-register arrays (values < 128), computed on
    big integers with one 8-bit lane per register."""
    x = int.from_bytes(a, "big")
    y = int.from_bytes(b, "big")
    # Lane high bit set where x >= y: (x | 0x80) - y never borrows across lanes.
    ge = (((x | _LANE_HIGH) - y) & _LANE_HIGH) >> 7
    select = (ge << 8) - ge  # 0xFF in lanes where x >= y
    return ((x & select) | (y & ~select)).to_bytes(REGISTERS, "big")


def histogram_of_raw(raw: bytes | bytearray) -> list[int]:
    raw = bytes(raw)
    highest = max(raw)
    histogram = [0] * 64
    for register in range(highest + 1):
        histogram[register] = raw.count(register)
    return histogram


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        gap = 1 - x
        z -= gap * gap * y
        if previous == z:
            return z / 3


def estimate(histogram: list[int]) -> int:
    """Ertl's improved estimator from the register histogram, in Redis's exact float steps."""
    m = float(REGISTERS)
    z = m * _tau((m - histogram[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    e = ALPHA_INF * m * m / z
    # llroundl: halves round away from zero.
    whole = math.floor(e)
    return int(whole + 1 if e - whole >= 0.5 else whole)


def count(value: bytes | bytearray) -> int | None:
    """The estimated cardinality of a valid HLL (ignoring the cache); None if corrupted."""
    if value[4] == DENSE:
        return estimate(histogram_of_raw(dense_to_raw(value)))
    histogram = sparse_histogram(value)
    if histogram is None:
        return None
    return estimate(histogram)


def decode_sparse(value: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE's text: ``z:N`` ZERO, ``Z:N`` XZERO, ``v:V,N`` VAL, space-separated."""
    parts = []
    pos = HEADER_SIZE
    end = len(value)
    while pos < end:
        op = value[pos]
        if op < 0x40:
            parts.append(b"z:%d" % ((op & 0x3F) + 1))
            pos += 1
        elif op < 0x80:
            parts.append(b"Z:%d" % ((((op & 0x3F) << 8) | _byte_at(value, pos + 1)) + 1))
            pos += 2
        else:
            parts.append(b"v:%d,%d" % (((op >> 2) & 0x1F) + 1, (op & 3) + 1))
            pos += 1
    return b" ".join(parts)


# -- PFSELFTEST --------------------------------------------------------------------------------


def self_test(sparse_max_bytes: int, rounds: int = 8, largest: int = 100_000) -> str | None:
    """Check register packing and sparse/dense agreement; the error text, or None if fine.

    Redis runs 1000 packing rounds and counts up to 10 million elements; the same checks at a
    smaller scale keep this command from stalling the server for minutes.
    """
    rng = random.Random()
    dense = bytearray(DENSE_SIZE)
    dense[0:4] = MAGIC
    for _ in range(rounds):
        expected = bytes(rng.getrandbits(6) for _ in range(REGISTERS))
        dense[HEADER_SIZE:] = raw_to_dense_registers(expected)
        for index in range(REGISTERS):
            got = dense_get(dense, index)
            if got != expected[index]:
                return f"TESTFAILED Register {index} should be {expected[index]} but is {got}"
        check = bytearray(dense)
        for index in range(REGISTERS):
            _clear_register(check, index)
            dense_set(check, index, expected[index])
        if check != dense or dense_to_raw(dense) != expected:
            return "TESTFAILED register packing disagrees with register access"

    dense[HEADER_SIZE:] = bytes(DENSE_BYTES)
    sparse = new_sparse()
    relative_error = 1.04 / math.sqrt(REGISTERS)
    checkpoint = 1
    seed = rng.getrandbits(64)
    for j in range(1, largest + 1):
        element = (j ^ seed).to_bytes(8, "little")
        index, run = pattern(element)
        dense_set(dense, index, run)
        add(sparse, element, sparse_max_bytes)
        if j != checkpoint:
            continue
        if j < sparse_max_bytes // 2 and sparse[4] != SPARSE:
            return "TESTFAILED sparse encoding not used"
        estimated = count(dense)
        if estimated != count(sparse):
            return "TESTFAILED dense/sparse disagree"
        max_error = 1 if j == 10 else math.ceil(relative_error * 6 * checkpoint)
        if abs(checkpoint - estimated) > max_error:
            return f"TESTFAILED Too big error. card:{checkpoint} abserr:{abs(checkpoint - estimated)}"
        checkpoint *= 10
    return None


def _clear_register(value: bytearray, index: int) -> None:
    pos = HEADER_SIZE + (index * 6 >> 3)
    shift = index * 6 & 7
    value[pos] &= ~(REGISTER_MAX << shift) & 0xFF
    if index != LAST_INDEX:
        value[pos + 1] &= ~(REGISTER_MAX >> (8 - shift)) & 0xFF


__all__ = [
    "DENSE",
    "DENSE_SIZE",
    "HEADER_SIZE",
    "REGISTERS",
    "SPARSE",
    "SparseCursor",
    "add",
    "cached_cardinality",
    "count",
    "decode_sparse",
    "dense_add_all",
    "dense_set",
    "dense_to_raw",
    "estimate",
    "histogram_of_raw",
    "invalidate_cache",
    "is_hll",
    "max_registers",
    "murmurhash64a",
    "new_sparse",
    "pattern",
    "raw_to_dense_registers",
    "registers",
    "self_test",
    "sparse_histogram",
    "sparse_set",
    "sparse_to_dense",
    "sparse_to_raw",
    "store_cardinality",
]
