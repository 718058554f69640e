"""Round trips of the compact encodings an RDB file holds (property tests, no sockets)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vermilion.persistence.encodings import (
    intset_decode,
    intset_encode,
    listpack_decode,
    listpack_encode,
    ziplist_decode,
    ziplist_encode,
    zipmap_decode,
    zipmap_encode,
)
from vermilion.persistence.rdbstring import (
    RdbFormatError,
    _lzf_decompress_python,
    compress_for_rdb,
    lzf_compress,
    lzf_decompress,
)
from vermilion.types.string import parse_int

INT64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
ELEMENT = st.one_of(
    st.binary(max_size=80),
    st.binary(min_size=4000, max_size=5000),
    INT64.map(lambda n: b"%d" % n),
    st.integers(-20, 20).map(lambda n: b"%d" % n),
    st.sampled_from([b"007", b"-0", b"+1", b" 1", b"1.5", b"9223372036854775808"]),
)


def canonical(value: bytes, limit: int) -> bytes:
    """What a decoder returns for an element: canonical integers come back as their text."""
    number = parse_int(value) if len(value) <= limit else None
    return b"%d" % number if number is not None else value


@settings(max_examples=60, deadline=None)
@given(st.lists(ELEMENT, max_size=40))
def test_listpack_round_trip(values):
    assert listpack_decode(listpack_encode(values)) == [canonical(v, 20) for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(ELEMENT, max_size=40))
def test_ziplist_round_trip(values):
    assert ziplist_decode(ziplist_encode(values)) == [canonical(v, 32) for v in values]


@settings(max_examples=100, deadline=None)
@given(st.lists(INT64, max_size=60), st.sampled_from([2, 4, 8]))
def test_intset_round_trip(values, width):
    blob = intset_encode(values, width)
    got_width, got = intset_decode(blob)
    assert got == sorted(set(values))
    assert got_width >= width


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.binary(max_size=300), st.binary(max_size=300), max_size=20))
def test_zipmap_round_trip(pairs):
    items = list(pairs.items())
    assert zipmap_decode(zipmap_encode(items)) == items


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(min_size=1, max_size=3000),
                 st.lists(st.sampled_from([b"ab", b"abc", b"x" * 40, b"\0"]), min_size=1, max_size=300)
                 .map(b"".join)))
def test_lzf_round_trip(data):
    packed = lzf_compress(data, len(data) + 64)
    assert packed is not None
    assert lzf_decompress(packed, len(data)) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decoders_reject_garbage_cleanly(blob):
    for decoder in (listpack_decode, ziplist_decode, intset_decode, zipmap_decode):
        try:
            decoder(blob)
        except RdbFormatError:
            pass


def test_known_bytes():
    # A listpack Redis 7.0 builds for RPUSH l a b c (captured from DUMP).
    assert listpack_decode(bytes.fromhex("10000000030081610281620281630 2ff".replace(" ", ""))) == [
        b"a", b"b", b"c"]
    # Ziplist entries for 0..12 use the immediate encoding, then int8.
    assert ziplist_encode([b"12"])[11] == 0xF1 + 12
    assert ziplist_encode([b"13"])[11] == 0xFE
    with pytest.raises(RdbFormatError):
        listpack_decode(b"\x07\x00\x00\x00\x01\x00\xff")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(min_size=21, max_size=600),
                 st.lists(st.sampled_from([b"a", b"ab", b"abc", b"hello", b"x" * 30]), min_size=8,
                          max_size=150).map(b"".join)),
       st.integers(0, 12))
def test_fast_lzf_agrees_with_reference(data, slack):
    """The C compressor (when installed) must give the reference port's bytes, bound included."""
    out_len = max(len(data) - slack, 2)
    assert compress_for_rdb(data, out_len) == lzf_compress(data, out_len)
    packed = lzf_compress(data, len(data) + 64)
    assert lzf_decompress(packed, len(data)) == _lzf_decompress_python(packed, len(data)) == data


def test_lzf_rejects_impossible_sizes():
    with pytest.raises(RdbFormatError):
        lzf_decompress(b"\x00a", 1 << 40)


@settings(max_examples=50, deadline=None)
@given(st.lists(ELEMENT, min_size=1, max_size=30), st.booleans())
def test_values_round_trip_through_payloads(elements, compress):
    from vermilion.persistence.rdb import dump_payload, load_dump_payload, verify_dump_payload
    from vermilion.types.hash import HashValue
    from vermilion.types.list import ListValue
    from vermilion.types.set import RedisSet
    from vermilion.types.zset import ZSet

    distinct = list(dict.fromkeys(elements))
    values = [
        ListValue.from_values(elements),
        HashValue({field: field[::-1] for field in distinct}, len(distinct) > 10),
        RedisSet.from_members(distinct, False),
        ZSet.from_pairs([(float(index) / 3, member) for index, member in enumerate(distinct)], 128, 64),
    ]
    for value in values:
        payload = dump_payload(value, compress)
        assert verify_dump_payload(payload)
        loaded = load_dump_payload(None, payload)
        assert type(loaded) is type(value)
        if isinstance(value, ListValue):
            assert list(loaded.values()) == list(value.values())
        elif isinstance(value, HashValue):
            assert loaded.fields == value.fields
        elif isinstance(value, RedisSet):
            assert sorted(loaded.members) == sorted(value.members)
        else:
            assert loaded.scores == value.scores
