"""Property tests for the set and sorted-set types: set algebra and zset ranges against simple
models, and the score parsers against the C library's own strtod."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import platform

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vermilion.commands.sets import _intersection
from vermilion.commands.zsets import LEX, RANK, SCORE, _select
from vermilion.types.set import RedisSet
from vermilion.types.zset import (
    ZSet,
    parse_double,
    parse_lex_range,
    parse_range_bound,
    parse_score_range,
    strtod,
)

# -- sets --------------------------------------------------------------------------------------

members = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda n: b"%d" % n),
    st.integers(min_value=-20, max_value=20).map(lambda n: b"%d" % n),
    st.binary(min_size=0, max_size=4),
)
operations = st.lists(st.tuples(st.sampled_from(["add", "remove", "pop"]), members), max_size=80)


def _is_int(member: bytes) -> bool:
    try:
        number = int(member)
    except ValueError:
        return False
    return b"%d" % number == member and -(2**63) <= number < 2**63


@given(operations, st.integers(min_value=0, max_value=16))
def test_set_matches_model(ops, max_intset):
    value = RedisSet(True)
    model: set[bytes] = set()
    ever_converted = False
    for op, member in ops:
        if op == "add":
            assert value.add(member, max_intset) == (member not in model)
            model.add(member)
            if not _is_int(member) or len(model) > max_intset:
                ever_converted = True
        elif op == "remove":
            assert value.remove(member) == (member in model)
            model.discard(member)
        elif model:
            popped = value.pop_random()
            assert popped in model
            model.remove(popped)
        assert len(value) == len(model)
        assert set(value.members) == model
        assert all(value.members[value.positions[m]] == m for m in model)
    assert value.intset == (not ever_converted)
    if value.intset:
        assert value.ordered() == sorted(model, key=int)
    if model:
        assert value.random_member() in model


@given(st.lists(st.sets(members, max_size=12), min_size=1, max_size=4), st.integers(0, 5))
def test_intersection_matches_model(groups, limit):
    sets = []
    for group in groups:
        value = RedisSet(True)
        for member in group:
            value.add(member, 512)
        sets.append(value)
    expected = set.intersection(*[set(group) for group in groups])
    result = _intersection(sets)
    assert set(result) == expected and len(result) == len(expected)
    limited = _intersection(sets, limit)
    assert len(limited) == (min(limit, len(expected)) if limit else len(expected))
    assert set(limited) <= expected


@given(st.sets(st.binary(max_size=3), max_size=60), st.integers(1, 9), st.data())
def test_set_scan_returns_every_stable_member(initial, count, data):
    value = RedisSet(False)
    for member in initial:
        value.add(member, 0)
    stable = set(initial)
    seen: set[bytes] = set()
    cursor = 0
    for step in range(1000):
        cursor, batch = value.scan(cursor, count)
        seen.update(batch)
        if cursor == 0:
            break
        # Churn between calls: remove some members, add new ones.
        if value.members and data.draw(st.booleans()):
            victim = data.draw(st.sampled_from(sorted(value.members)))
            value.remove(victim)
            stable.discard(victim)
        if data.draw(st.booleans()):
            value.add(b"new%d" % step, 0)
    assert stable <= seen


# -- sorted sets -------------------------------------------------------------------------------

scores = st.one_of(
    st.integers(min_value=-5, max_value=5).map(float),
    st.floats(allow_nan=False, width=64),
    st.sampled_from([0.0, -0.0, math.inf, -math.inf]),
)
zset_members = st.binary(min_size=0, max_size=3)
pairs_strategy = st.dictionaries(zset_members, scores, max_size=40)


def _build(pairs: dict[bytes, float], listpack: bool) -> ZSet:
    value = ZSet(listpack)
    for member, score in pairs.items():
        value.insert(member, score, 1000 if listpack else 0, 1000)
    return value


def _model_order(pairs: dict[bytes, float], listpack: bool) -> list[tuple[float, bytes]]:
    normalized = {m: (0.0 if listpack and s == 0 else s) for m, s in pairs.items()}
    return sorted((s, m) for m, s in normalized.items())


@given(pairs_strategy, st.booleans())
def test_zset_order_and_rank(pairs, listpack):
    value = _build(pairs, listpack)
    model = _model_order(pairs, listpack)
    assert list(value.order) == model
    for rank, (_, member) in enumerate(model):
        assert value.rank(member) == rank
    assert value.rank(b"\xff" * 5) is None


@given(pairs_strategy, st.integers(-50, 50), st.integers(-50, 50), st.booleans())
def test_rank_ranges(pairs, start, end, reverse):
    value = _build(pairs, False)
    model = _model_order(pairs, False)
    size = len(model)
    s, e = start + size if start < 0 else start, end + size if end < 0 else end
    s = max(s, 0)
    if s > e or s >= size:
        expected = []
    else:
        e = min(e, size - 1)
        expected = model[::-1][s : e + 1] if reverse else model[s : e + 1]
    assert _select(value, RANK, (start, end), reverse, 0, -1) == expected


bounds = st.one_of(
    st.integers(-6, 6).map(lambda n: b"%d" % n),
    st.integers(-6, 6).map(lambda n: b"(%d" % n),
    st.sampled_from([b"-inf", b"+inf", b"(-inf", b"(+inf", b"inf", b"2.5", b"(0"]),
)


@given(pairs_strategy, bounds, bounds, st.booleans(), st.integers(-2, 6), st.integers(-2, 6))
def test_score_ranges(pairs, low, high, reverse, offset, limit):
    value = _build(pairs, True)
    spec = parse_score_range(low, high)
    model = [p for p in _model_order(pairs, True) if spec.above_min(p[0]) and spec.below_max(p[0])]
    if reverse:
        model.reverse()
    if offset < 0 or (offset > 0 and offset >= len(pairs)):
        expected = []
    else:
        expected = model[offset:] if limit < 0 else model[offset : offset + limit]
    assert _select(value, SCORE, spec, reverse, offset, limit) == expected
    start, stop = value.score_bounds(spec)
    assert stop - start == len(model)


lex_bounds = st.one_of(
    st.sampled_from([b"-", b"+"]),
    st.binary(max_size=2).map(lambda m: b"[" + m),
    st.binary(max_size=2).map(lambda m: b"(" + m),
)


@given(st.sets(zset_members, max_size=30), lex_bounds, lex_bounds, st.booleans(), st.booleans(),
       st.integers(-1, 4), st.integers(-1, 4))
def test_lex_ranges_on_equal_scores(names, low, high, listpack, reverse, offset, limit):
    value = _build(dict.fromkeys(names, 0.0), listpack)
    spec = parse_lex_range(low, high)
    ordered = sorted(names)
    model = [] if spec.empty() else [
        (0.0, m) for m in ordered if spec.above_min(m) and spec.below_max(m)
    ]
    if reverse:
        model.reverse()
    if offset < 0:
        expected = []
    else:
        expected = model[offset:] if limit < 0 else model[offset : offset + limit]
    assert _select(value, LEX, spec, reverse, offset, limit) == expected


@given(pairs_strategy, st.data())
def test_zset_updates_keep_structures_consistent(pairs, data):
    value = _build(pairs, False)
    model = dict(pairs)
    for _ in range(data.draw(st.integers(0, 30))):
        action = data.draw(st.sampled_from(["update", "remove", "pop", "delete_slice"]))
        if not model:
            break
        if action == "update":
            member = data.draw(st.sampled_from(sorted(model)))
            score = data.draw(scores)
            if score != model[member]:
                value.update(member, model[member], score)
                model[member] = score
        elif action == "remove":
            member = data.draw(st.sampled_from(sorted(model)))
            assert value.remove(member)
            del model[member]
        elif action == "pop":
            highest = data.draw(st.booleans())
            expected = _model_order(model, False)[-1 if highest else 0]
            assert value.pop(highest) == expected
            del model[expected[1]]
        else:
            start = data.draw(st.integers(0, len(model)))
            stop = data.draw(st.integers(start, len(model)))
            for _, member in _model_order(model, False)[start:stop]:
                del model[member]
            value.delete_slice(start, stop)
        assert value.scores == model
        assert list(value.order) == _model_order(model, False)


# -- score parsing against the C library -------------------------------------------------------

_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name, use_errno=True) if _libc_name else None
if _libc is not None:
    _libc.strtod.restype = ctypes.c_double
    _libc.strtod.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]

# Redis's score parsing is glibc's strtod (its range-error rules are glibc's): compare with it.
needs_libc = pytest.mark.skipif(
    _libc is None or platform.libc_ver()[0] != "glibc", reason="no glibc to compare with"
)

ERANGE = 34


def c_strtod(data: bytes) -> tuple[float, int, bool]:
    buffer = ctypes.create_string_buffer(data)
    end = ctypes.c_char_p()
    ctypes.set_errno(0)
    value = _libc.strtod(buffer, ctypes.byref(end))
    erange = ctypes.get_errno() == ERANGE
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buffer)
    return value, consumed, erange


number_text = st.one_of(
    st.text(alphabet="0123456789.eE+-xXpPabcdfinNtyIlo() \t_", max_size=14).map(str.encode),
    st.floats(allow_nan=False).map(lambda f: repr(f).encode()),
    st.floats(allow_nan=False).map(lambda f: float.hex(f).encode()),
    st.integers().map(lambda n: b"%d" % n),
    st.from_regex(rb"\A[+-]?[0-9]{0,3}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,4})?\Z"),
)


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


@needs_libc
@settings(max_examples=400)
@given(number_text)
def test_strtod_matches_libc(data):
    assume(b"\0" not in data)
    value, consumed, erange = strtod(data)
    expected_value, expected_consumed, expected_erange = c_strtod(data)
    assert consumed == expected_consumed, data
    assert _same_float(value, expected_value), data
    if expected_consumed:
        assert erange == expected_erange, data


def _model_parse_double(data: bytes) -> float | None:
    if not data or data[:1].isspace() or b"\0" in data:
        return None
    value, consumed, erange = c_strtod(data)
    if consumed != len(data) or math.isnan(value):
        return None
    if erange and (math.isinf(value) or value == 0):
        return None
    return value


@needs_libc
@settings(max_examples=400)
@given(number_text)
def test_parse_double_matches_redis_rules(data):
    expected = _model_parse_double(data)
    result = parse_double(data)
    if expected is None:
        assert result is None, data
    else:
        assert result is not None and _same_float(result, expected), data


@needs_libc
@settings(max_examples=300)
@given(st.sampled_from([b"", b"("]), number_text)
def test_range_bound_matches_redis_rules(prefix, text):
    assume(b"\0" not in text)
    bound = prefix + text
    exclusive = bound.startswith(b"(")
    number = bound[1:] if exclusive else bound
    value, consumed, _ = c_strtod(number)
    valid = consumed == len(number) and not math.isnan(value)
    result = parse_range_bound(bound)
    if not valid:
        assert result is None, text
    else:
        assert result is not None and _same_float(result[0], value), text
        assert result[1] == exclusive


# -- the chunked index against a plain sorted list ----------------------------------------------

from bisect import bisect_left as _model_bisect_left  # noqa: E402
from bisect import bisect_right as _model_bisect_right  # noqa: E402

from vermilion.types import zset as zset_module  # noqa: E402
from vermilion.types.zset import SortedPairs  # noqa: E402

small_scores = st.one_of(
    st.integers(-3, 3).map(float), st.sampled_from([-0.0, math.inf, -math.inf])
)
pair_strategy = st.tuples(small_scores, st.binary(max_size=2))
index_actions = st.lists(
    st.one_of(
        st.tuples(st.just("add"), pair_strategy),
        st.tuples(st.just("remove"), st.integers(0, 10**6)),
        st.tuples(st.just("pop"), st.sampled_from([0, -1, 1, -2])),
        st.tuples(st.just("delete_range"), st.integers(-2, 30), st.integers(-2, 30)),
    ),
    max_size=120,
)


@pytest.mark.parametrize("load", [1, 2, 5, 512])
@settings(max_examples=150)
@given(initial=st.lists(pair_strategy, max_size=40), actions=index_actions,
       probes=st.lists(pair_strategy, max_size=8))
def test_sorted_pairs_match_a_sorted_list(load, initial, actions, probes):
    saved = zset_module._LOAD
    zset_module._LOAD = load
    try:
        model = sorted(set(initial), key=lambda p: (p[0], p[1]))
        # Distinct members only, as in a zset.
        seen = set()
        model = [p for p in model if not (p[1] in seen or seen.add(p[1]))]
        pairs = SortedPairs(model)
        for action in actions:
            if action[0] == "add":
                pair = action[1]
                if any(m == pair[1] for _, m in model):
                    continue
                pairs.add(pair)
                model.insert(_model_bisect_left(model, pair), pair)
            elif action[0] == "remove" and model:
                pair = model[action[1] % len(model)]
                pairs.remove(pair)
                model.remove(pair)
            elif action[0] == "pop" and len(model) > abs(action[1]):
                assert pairs.pop(action[1]) == model.pop(action[1])
            elif action[0] == "delete_range":
                start, stop = action[1], action[2]
                removed = pairs.delete_range(start, stop)
                expected = model[max(0, start):max(0, stop)] if start < stop else []
                assert removed == [m for _, m in expected]
                del model[max(0, start):max(0, start) + len(expected)]
            assert len(pairs) == len(model)
            assert list(pairs) == model
        assert list(reversed(pairs)) == model[::-1]
        for index in range(-len(model), len(model)):
            assert pairs[index] == model[index]
        for start in range(0, len(model) + 2):
            for stop in range(start, len(model) + 2):
                assert list(pairs.islice(start, stop)) == model[start:stop]
                assert list(pairs.islice(start, stop, reverse=True)) == model[start:stop][::-1]
        assert list(pairs.islice(-3, len(model))) == model
        assert list(pairs.islice(2, 1)) == []
        for score, member in probes + model[:5]:
            assert pairs.bisect_left((score, member)) == _model_bisect_left(model, (score, member))
            expected = _model_bisect_right(model, (score, member))
            assert pairs.bisect_right((score, member)) == expected
            assert pairs.bisect_left((score,)) == _model_bisect_left(model, (score,))
            assert pairs.bisect_right((score,)) == _model_bisect_left(model, (score,))
        for rank, (score, member) in enumerate(model):
            # A member known to be present (ZRANK), alone on its score or among equal ones.
            assert pairs.rank_of(score, member, True) == rank
        copy = pairs.copy()
        if model:
            copy.pop(0)
            assert list(pairs) == model
    finally:
        zset_module._LOAD = saved
