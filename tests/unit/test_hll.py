"""The HyperLogLog value layer (vermilion.types.hll), without a server."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from vermilion.types import hll

M = 0xC6A4A7935BD1E995
M_INVERSE = pow(M, -1, 1 << 64)
MASK = (1 << 64) - 1


def _unshift47(x: int) -> int:
    return x ^ (x >> 47)  # x ^= x >> 47 is its own inverse on 64 bits


def element_for(index: int, run: int, salt: int = 0) -> bytes:
    """An 8-byte element that hashes to register ``index`` with run length ``run`` (1..51),
    found by inverting MurmurHash64A step by step."""
    high = (random.Random(salt).getrandbits(64) << (hll.P + run)) & MASK
    target = index | high
    if run <= hll.Q:
        target |= 1 << (hll.P + run - 1)
    h = _unshift47(target)
    h = h * M_INVERSE & MASK
    h = _unshift47(h)
    h = h * M_INVERSE & MASK  # undo the multiply after mixing the word in
    k = h ^ (hll.HASH_SEED ^ (8 * M & MASK))
    k = k * M_INVERSE & MASK
    k = _unshift47(k)
    word = k * M_INVERSE & MASK
    return word.to_bytes(8, "little")


def test_hash_matches_redis_registers():
    # (element, register, run) as PFDEBUG DECODE on real Redis 7.0 shows them.
    for element, index, run in [
        (b"a", 12711, 2),
        (b"hello", 9216, 1),
        (b"", 5938, 2),
        (b"0123456789abcdef", 5949, 1),
        (b"x12345678901234567", 12539, 3),
    ]:
        assert hll.pattern(element) == (index, run)


@given(st.integers(0, hll.REGISTERS - 1), st.integers(1, hll.Q + 1), st.integers(0, 1000))
def test_element_for_inverts_the_hash(index, run, salt):
    assert hll.pattern(element_for(index, run, salt)) == (index, run)


def _random_registers(seed: int, top: int = 64) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(top) for _ in range(hll.REGISTERS))


@given(st.integers(0, 2**32))
@settings(max_examples=30, deadline=None)
def test_dense_packing_round_trips(seed):
    raw = _random_registers(seed)
    value = bytearray(hll.HEADER_SIZE) + hll.raw_to_dense_registers(raw)
    assert len(value) == hll.DENSE_SIZE
    assert hll.dense_to_raw(value) == raw
    for index in (0, 1, 2, 3, 4, 5, 1000, 16381, 16382, 16383):
        assert hll.dense_get(value, index) == raw[index]


@given(st.lists(st.tuples(st.integers(0, hll.REGISTERS - 1), st.integers(1, 63)), max_size=200))
@settings(max_examples=60)
def test_dense_set_keeps_the_maximum(updates):
    value = hll.new_sparse()
    assert hll.sparse_to_dense(value)
    model = bytearray(hll.REGISTERS)
    for index, run in updates + [(hll.REGISTERS - 1, 40), (hll.REGISTERS - 1, 63)]:
        changed = hll.dense_set(value, index, run)
        assert changed == (run > model[index])
        model[index] = max(model[index], run)
    assert hll.dense_to_raw(value) == model
    assert len(value) == hll.DENSE_SIZE


@given(st.integers(0, 2**32), st.integers(0, 2**32), st.sampled_from([2, 8, 64]))
@settings(max_examples=30, deadline=None)
def test_max_registers_is_lanewise_max(seed_a, seed_b, top):
    a = _random_registers(seed_a, top)
    b = _random_registers(seed_b, top)
    assert hll.max_registers(a, b) == bytes(max(x, y) for x, y in zip(a, b))


@given(st.lists(st.tuples(st.integers(0, hll.REGISTERS - 1), st.integers(1, 32)), max_size=300),
       st.sampled_from([200, 3000, 100000]))
@settings(max_examples=80, deadline=None)
def test_sparse_set_tracks_registers_until_promotion(updates, max_bytes):
    value = hll.new_sparse()
    model = bytearray(hll.REGISTERS)
    for index, run in updates:
        result = hll.sparse_set(value, index, run, max_bytes) if value[4] == hll.SPARSE \
            else hll.dense_set(value, index, run)
        assert result == (run > model[index])
        model[index] = max(model[index], run)
        if value[4] == hll.SPARSE:
            assert len(value) <= max_bytes or not result
    assert hll.registers(value) == model
    if value[4] == hll.SPARSE:
        assert hll.sparse_histogram(value) == hll.histogram_of_raw(model)
    assert hll.count(value) == hll.estimate(hll.histogram_of_raw(model))


def test_sparse_promotes_when_a_register_exceeds_32():
    value = hll.new_sparse()
    assert hll.sparse_set(value, 5, 32, 3000) == 1
    assert value[4] == hll.SPARSE
    assert hll.sparse_set(value, 9, 33, 3000) == 1
    assert value[4] == hll.DENSE and len(value) == hll.DENSE_SIZE
    assert hll.dense_get(value, 5) == 32 and hll.dense_get(value, 9) == 33


@given(st.dictionaries(st.integers(0, hll.REGISTERS - 1), st.integers(1, 32), max_size=400),
       st.sampled_from([300, 3000, 20000]))
@settings(max_examples=60, deadline=None)
def test_sparse_cursor_gives_the_same_bytes(registers, max_bytes):
    # PFMERGE resumes each ordered update from a cursor; the bytes must not depend on it.
    with_cursor = hll.new_sparse()
    plain = hll.new_sparse()
    # Start from a non-trivial layout.
    for index in range(0, hll.REGISTERS, 997):
        hll.sparse_set(with_cursor, index, 3, max_bytes)
        hll.sparse_set(plain, index, 3, max_bytes)
    cursor = hll.SparseCursor()
    for index in sorted(registers):
        if with_cursor[4] == hll.SPARSE:
            hll.sparse_set(with_cursor, index, registers[index], max_bytes, cursor)
        else:
            hll.dense_set(with_cursor, index, registers[index])
        if plain[4] == hll.SPARSE:
            hll.sparse_set(plain, index, registers[index], max_bytes)
        else:
            hll.dense_set(plain, index, registers[index])
        assert with_cursor == plain


def test_corrupted_sparse_is_detected():
    value = hll.new_sparse()[: hll.HEADER_SIZE] + b"\x00"  # ZERO:1 covers one register only
    assert hll.count(value) is None
    assert hll.registers(value) is None
    assert hll.sparse_set(value, 100, 1, 3000) == -1
    assert not hll.sparse_to_dense(bytearray(value))


def test_estimates_of_simple_histograms():
    empty = [0] * 64
    empty[0] = hll.REGISTERS
    assert hll.estimate(empty) == 0
    assert hll.count(hll.new_sparse()) == 0
    value = hll.new_sparse()
    for n in range(1000):
        hll.add(value, b"element:%d" % n, 3000)
    assert abs(hll.count(value) - 1000) < 30


def test_decode_sparse_text():
    value = hll.new_sparse()
    assert hll.decode_sparse(value) == b"Z:16384"
    hll.sparse_set(value, 1000, 2, 3000)
    hll.sparse_set(value, 1020, 3, 3000)
    hll.sparse_set(value, 1021, 3, 3000)
    assert hll.decode_sparse(value) == b"Z:1000 v:2,1 z:19 v:3,2 Z:15362"


def test_cache_bytes():
    value = hll.new_sparse()
    assert hll.cached_cardinality(value) == 0
    hll.invalidate_cache(value)
    assert hll.cached_cardinality(value) is None
    hll.store_cardinality(value, 12345)
    assert hll.cached_cardinality(value) == 12345


def test_self_test_passes():
    assert hll.self_test(3000, rounds=1, largest=2000) is None


def reference_sparse_set(value: bytearray, index: int, count: int, max_bytes: int) -> int:
    """A plain transcription of Redis's hllSparseSet (opcode by opcode, no skipping), as the
    byte-level oracle for the optimised version."""
    if count > 32:
        return -2  # promotion: compared separately
    end = len(value)
    pos, first, prev, span = hll.HEADER_SIZE, 0, -1, 0
    while pos < end:
        op = value[pos]
        if op < 0x40:
            span, size = (op & 0x3F) + 1, 1
        elif op >= 0x80:
            span, size = (op & 3) + 1, 1
        else:
            span, size = (((op & 0x3F) << 8) | (value[pos + 1] if pos + 1 < end else 0)) + 1, 2
        if index <= first + span - 1:
            break
        prev, pos, first = pos, pos + size, first + span
    if span == 0 or pos >= end:
        return -1
    op = value[pos]
    if op >= 0x80:
        if ((op >> 2) & 0x1F) + 1 >= count:
            return 0
    last = first + span - 1
    seq = []
    if op < 0x80:
        for gap in (index - first, None, last - index):
            if gap is None:
                seq.append(0x80 | (count - 1) << 2)
            elif gap > 64:
                seq += [0x40 | (gap - 1) >> 8, (gap - 1) & 0xFF]
            elif gap:
                seq.append(gap - 1)
    else:
        current = ((op >> 2) & 0x1F) + 1
        if index != first:
            seq.append(0x80 | (current - 1) << 2 | (index - first - 1))
        seq.append(0x80 | (count - 1) << 2)
        if index != last:
            seq.append(0x80 | (current - 1) << 2 | (last - index - 1))
    old = 2 if 0x40 <= op < 0x80 else 1
    if len(seq) > old and end + len(seq) - old > max_bytes:
        return -2
    value[pos : pos + old] = bytes(seq)
    end = len(value)
    pos = prev if prev >= 0 else hll.HEADER_SIZE
    for _ in range(5):
        if pos >= end:
            break
        op = value[pos]
        if op < 0x80:
            pos += 2 if op >= 0x40 else 1
            continue
        if pos + 1 < end and value[pos + 1] >= 0x80 and (op >> 2) == (value[pos + 1] >> 2):
            run = (op & 3) + (value[pos + 1] & 3) + 2
            if run <= 4:
                value[pos + 1] = (op & 0xFC) | (run - 1)
                del value[pos]
                end -= 1
                continue
        pos += 1
    value[15] |= 0x80
    return 1


@given(st.lists(st.tuples(st.integers(0, hll.REGISTERS - 1), st.integers(1, 32)), max_size=600),
       st.lists(st.tuples(st.integers(0, 400), st.integers(1, 3)), max_size=600))
@settings(max_examples=80, deadline=None)
def test_sparse_set_bytes_match_the_plain_transcription(spread, clustered):
    # Clustered small values make long runs of one-byte opcodes (the skipped blocks) and many
    # merges of equal neighbours, right where block boundaries fall.
    ours = hll.new_sparse()
    theirs = hll.new_sparse()
    for index, run in clustered + spread + clustered[::-1]:
        expected = reference_sparse_set(theirs, index, run, 1 << 20)
        got = hll.sparse_set(ours, index, run, 1 << 20)
        assert got == expected
        assert ours == theirs


def _plain_locate(value: bytearray, index: int):
    """Opcode by opcode: (pos, first, prev, before_prev, before_prev_first) for ``index``."""
    pos, first = hll.HEADER_SIZE, 0
    walked = []  # (pos, first) of every opcode passed
    while pos < len(value):
        op = value[pos]
        if 0x40 <= op < 0x80:
            span, size = (((op & 0x3F) << 8) | (value[pos + 1] if pos + 1 < len(value) else 0)) + 1, 2
        else:
            span, size = ((op & 0x3F) + 1 if op < 0x40 else (op & 3) + 1), 1
        if index < first + span:
            break
        walked.append((pos, first))
        pos, first = pos + size, first + span
    prev = walked[-1][0] if walked else -1
    before = walked[-2] if len(walked) > 1 else (-1, -1)
    return pos, first, prev, before[0], before[1]


@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 4)), max_size=700),
       st.lists(st.integers(0, hll.REGISTERS - 1), max_size=60))
@settings(max_examples=20, deadline=None)
def test_locate_finds_the_opcode_and_its_predecessors(clustered, spread):
    value = hll.new_sparse()
    for index, run in clustered:
        hll.sparse_set(value, index, run, 1 << 20)
    for index in spread:
        hll.sparse_set(value, index, 2, 1 << 20)
    for index in list(range(0, 2100, 3)) + spread + [hll.REGISTERS - 1]:
        pos, first, _span, _op, prev, before, before_first = hll._locate(
            value, index, hll.HEADER_SIZE, 0)
        assert (pos, first, prev, before, before_first) == _plain_locate(value, index)
