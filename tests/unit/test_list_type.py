"""The list value type and the listpack size model behind DEBUG OBJECT (no sockets)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vermilion.types import copy_value, encoding_name, type_name
from vermilion.types.list import ListValue, clamp_range, decode_element, encode_element
from vermilion.types.listpack import (
    _backlen,
    clamp_fill,
    listpack_bytes,
    listpack_size,
    quicklist_nodes,
)

values_strategy = st.lists(st.binary(max_size=40), max_size=60)


@given(st.binary(max_size=300))
def test_element_encoding_round_trips(value):
    encoded = encode_element(value)
    assert encoded == b"$%d\r\n%s\r\n" % (len(value), value)
    assert decode_element(encoded) == value


@given(values_strategy)
def test_values_and_from_values(values):
    lst = ListValue.from_values(values)
    assert list(lst.values()) == values
    assert len(lst) == len(values)


def _model_range(length: int, start: int, end: int) -> list[int]:
    """Redis's LRANGE on indexes 0..length-1, written the obvious way."""
    if start < 0:
        start = max(length + start, 0)
    if end < 0:
        end = length + end
    end = min(end, length - 1)
    return list(range(start, end + 1))


@given(st.integers(0, 40), st.integers(-60, 60), st.integers(-60, 60))
def test_clamp_range_matches_model(length, start, end):
    expected = _model_range(length, start, end)
    bounds = clamp_range(start, end, length)
    if not expected:
        assert bounds is None
    else:
        assert bounds == (expected[0], expected[-1])


@given(st.integers(1, 80), st.data())
def test_encoded_range_from_either_end(length, data):
    lst = ListValue.from_values([b"%d" % i for i in range(length)])
    start = data.draw(st.integers(0, length - 1))
    end = data.draw(st.integers(start, length - 1))
    got = [decode_element(e) for e in lst.encoded_range(start, end)]
    assert got == [b"%d" % i for i in range(start, end + 1)]


def test_type_encoding_and_copy():
    lst = ListValue.from_values([b"a", b"b"], fill=-3, compress_depth=1)
    assert type_name(lst) == b"list"
    assert encoding_name(lst) == b"quicklist"  # Redis 7.0: every list is a quicklist
    copied = copy_value(lst)
    copied.items.append(encode_element(b"c"))
    assert list(lst.values()) == [b"a", b"b"]
    assert (copied.fill, copied.compress_depth) == (-3, 1)


# -- listpack sizes (checked against Redis's DEBUG OBJECT in the command tests) ----------------


def test_listpack_known_sizes():
    # header 6 + three 1-char strings of 3 bytes each + end byte: what Redis reports for a,b,c
    assert listpack_size([b"a", b"b", b"c"]) == 16
    assert listpack_bytes([b"a", b"1"]) == b"\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff"
    assert len(listpack_bytes([b"x" * 70])) == 6 + 2 + 70 + 1 + 1


@given(values_strategy)
def test_listpack_size_is_length_of_bytes(values):
    data = listpack_bytes(values)
    assert len(data) == listpack_size(values)
    assert int.from_bytes(data[:4], "little") == len(data)
    assert data[-1] == 0xFF


def test_integer_entries():
    for number, size in [(0, 1), (127, 1), (128, 2), (-1, 2), (-4096, 2), (4095, 2), (4096, 3),
                         (-32768, 3), (32768, 4), (8388607, 4), (8388608, 5), (2**31 - 1, 5),
                         (2**31, 9), (-(2**63), 9), (2**63 - 1, 9)]:
        # entry = encoding + backlen (1 byte for these short entries)
        assert listpack_size([b"%d" % number]) == 7 + size + 1, number
    # not canonical integers: stored as strings
    assert listpack_size([b"01"]) == 7 + 3 + 1
    assert listpack_size([b"-0"]) == 7 + 3 + 1
    assert listpack_size([b"9223372036854775808"]) == 7 + 20 + 1


def test_backlen_boundaries():
    assert _backlen(127) == b"\x7f"
    assert len(_backlen(128)) == 2
    assert len(_backlen(16382)) == 2
    assert len(_backlen(16383)) == 3
    assert len(_backlen(2097150)) == 3
    assert len(_backlen(2097151)) == 4


def test_quicklist_nodes_fill_rules():
    assert clamp_fill(-9) == -5 and clamp_fill(10**6) == 32767
    # positive fill: a count per node
    assert [len(n) for n in quicklist_nodes([b"a"] * 7, 3)] == [3, 3, 1]
    # fill 0: one element per node
    assert [len(n) for n in quicklist_nodes([b"a"] * 3, 0)] == [1, 1, 1]
    # -1: 4 KB per node. A 100-byte element is a 103-byte entry, and one more fits while
    # size + 100 + 8 <= 4096: 39 per node (Redis reports 3 nodes, 8261 bytes for 80 of them).
    nodes = quicklist_nodes([b"x" * 100] * 80, -1)
    assert [len(n) for n in nodes] == [39, 39, 2]
    assert sum(listpack_size(n) for n in nodes) == 8261
    assert quicklist_nodes([], -2) == []


# -- the double-ended array against a plain Python list ----------------------------------------

_list_ops = st.lists(
    st.one_of(
        st.tuples(st.just("push_head"), st.integers(0, 9)),
        st.tuples(st.just("push_head_many"), st.integers(1, 120)),
        st.tuples(st.just("push_tail_many"), st.integers(1, 120)),
        st.tuples(st.just("pop_head"), st.integers(1, 90)),
        st.tuples(st.just("pop_tail"), st.integers(1, 90)),
        st.tuples(st.just("pop_many_head"), st.integers(1, 150)),
        st.tuples(st.just("pop_many_tail"), st.integers(1, 150)),
        st.tuples(st.just("insert"), st.integers(0, 1000)),
        st.tuples(st.just("keep_range"), st.integers(-50, 50), st.integers(-50, 50)),
        st.tuples(st.just("copy"), st.just(0)),
    ),
    max_size=80,
)


@given(_list_ops)
def test_double_ended_array_matches_a_list(ops):
    value = ListValue()
    model: list[bytes] = []
    counter = 0

    def fresh() -> bytes:
        nonlocal counter
        counter += 1
        return encode_element(b"%d" % counter)

    for op, *args in ops:
        if op == "push_head":
            for _ in range(args[0]):
                element = fresh()
                value.push_head(element)
                model.insert(0, element)
        elif op == "push_head_many":
            batch = [fresh() for _ in range(args[0])]
            value.push_head_many(batch)
            model[:0] = batch[::-1]
        elif op == "push_tail_many":
            batch = [fresh() for _ in range(args[0])]
            value.items.extend(batch)
            model.extend(batch)
        elif op == "pop_head":
            for _ in range(min(args[0], len(model))):
                assert value.pop_head() == model.pop(0)
        elif op == "pop_tail":
            for _ in range(min(args[0], len(model))):
                assert value.items.pop() == model.pop()
        elif op in ("pop_many_head", "pop_many_tail"):
            if model:
                from_head = op == "pop_many_head"
                expected = model[: args[0]] if from_head else model[::-1][: args[0]]
                assert value.pop_many(from_head, args[0]) == expected
                if from_head:
                    del model[: len(expected)]
                else:
                    del model[len(model) - len(expected) :]
        elif op == "insert":
            index = args[0] % (len(model) + 1)
            element = fresh()
            value.insert(index, element)
            model.insert(index, element)
        elif op == "keep_range":
            bounds = clamp_range(args[0], args[1], len(model))
            if bounds is not None:
                value.keep_range(*bounds)
                model = model[bounds[0] : bounds[1] + 1]
        else:
            value = value.copy()
        assert len(value) == len(model)
        assert value.encoded() == model
        assert all(slot is None for slot in value.items[: value.head])
        # free room stays bounded by the list's size (plus the minimum reserve)
        assert value.head <= max(64, 2 * len(model) + 130)
    if model:
        assert value.index_of(model[-1]) == len(model) - 1
        assert value.encoded_range(0, len(model) - 1) == model
    assert value.index_of(encode_element(b"missing")) == -1
