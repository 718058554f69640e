"""vermilion.glob against a direct model of Redis's matcher, plus the quirks seen on real Redis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vermilion import glob


def _lower(value: int) -> int:
    return value + 32 if 65 <= value <= 90 else value


def _signed(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def reference(pattern: bytes, subject: bytes, nocase: bool = False, depth: int = 0) -> bool:
    """A plain cursor walk in the shape of Redis 7.0's stringmatchlen, without its shortcuts
    (exponential on purpose: the inputs are small)."""
    if depth > 1000:
        return False
    p, s = 0, 0
    plen, slen = len(pattern), len(subject)

    def same(a: int, b: int) -> bool:
        return _lower(a) == _lower(b) if nocase else a == b

    while p < plen and s < slen:
        char = pattern[p]
        if char == ord("*"):
            while p + 1 < plen and pattern[p + 1] == ord("*"):
                p += 1
            if p == plen - 1:
                return True
            return any(
                reference(pattern[p + 1 :], subject[start:], nocase, depth + 1)
                for start in range(s, slen)
            )
        if char == ord("?"):
            s += 1
        elif char == ord("["):
            p += 1
            negate = p < plen and pattern[p] == ord("^")
            if negate:
                p += 1
            found = False
            target = subject[s]
            while True:
                if p < plen and pattern[p] == ord("\\") and plen - p >= 2:
                    p += 1
                    found |= pattern[p] == target
                elif p < plen and pattern[p] == ord("]"):
                    break
                elif p >= plen:
                    p = plen - 1
                    break
                elif plen - p >= 3 and pattern[p + 1] == ord("-"):
                    low, high, value = _signed(pattern[p]), _signed(pattern[p + 2]), _signed(target)
                    if low > high:
                        low, high = high, low
                    if nocase:
                        low, high, value = _lower(low), _lower(high), _lower(value)
                    found |= low <= value <= high
                    p += 2
                else:
                    found |= same(pattern[p], target)
                p += 1
            if found == negate:
                return False
            s += 1
        else:
            if char == ord("\\") and plen - p >= 2:
                p += 1
            if not same(pattern[p], subject[s]):
                return False
            s += 1
        p += 1
        if s == slen:
            while p < plen and pattern[p] == ord("*"):
                p += 1
            break
    return p == plen and s == slen


ALPHABET = b"ab*?[]^-\\Az\x00\xff"
patterns = st.lists(st.sampled_from(list(ALPHABET)), max_size=9).map(bytes)
subjects = st.lists(st.sampled_from(list(b"abAZ]-\\*?[\x00\xff")), max_size=7).map(bytes)


@settings(max_examples=1000, deadline=None)
@given(patterns, subjects, st.booleans())
def test_matches_reference_model(pattern, subject, nocase):
    assert glob.match(pattern, subject, nocase) == reference(pattern, subject, nocase)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=8), st.binary(max_size=8), st.booleans())
def test_arbitrary_bytes(pattern, subject, nocase):
    assert glob.match(pattern, subject, nocase) == reference(pattern, subject, nocase)


def test_quirks_observed_on_redis():
    keys = [b"\\", b"a", b"]", b"-", b"x", b"\x00", b"\xff", b"\x80", b"B", b"[", b"ab", b"a]x"]
    expected = {
        b"[\\": [b"\\"],
        b"[a-]": [b"]", b"a"],
        b"[a-]x": [b"]", b"a", b"x"],
        b"[\x00-\xff]": [b"\x00", b"\xff"],
        b"[\x80-\xff]": [b"\x80", b"\xff"],
        b"[": [],
        b"[]": [],
        b"[^": sorted(k for k in keys if len(k) == 1),
        b"[A-z]": [b"B", b"[", b"\\", b"]", b"a", b"x"],
        b"[a-": [b"-", b"a"],
        b"[z-a]": [b"a", b"x"],
        b"a\\": [],
        b"\\": [b"\\"],
    }
    for pattern, matched in expected.items():
        assert sorted(k for k in keys if glob.match(pattern, k)) == sorted(matched), pattern


def test_empty_subject_matches_only_empty_pattern():
    assert glob.match(b"", b"")
    assert not glob.match(b"*", b"")
    assert not glob.match(b"**", b"")
    assert glob.match(b"a*", b"a")


def test_nocase():
    assert glob.match(b"HeLLo*", b"hello world", nocase=True)
    assert not glob.match(b"HeLLo*", b"hello world")
    assert glob.match(b"[A-Z]", b"q", nocase=True)
    # an escape inside a class stays case-sensitive
    assert not glob.match(b"[\\A]", b"a", nocase=True)
    assert glob.match(b"\\A", b"a", nocase=True)


def test_star_nesting_limit():
    subject = b"a" * 1100
    assert glob.match(b"a*" * 1001, subject)
    assert not glob.match(b"a*" * 1002, subject)


def test_abusive_pattern_is_fast():
    import time

    started = time.perf_counter()
    assert not glob.match(b"a*" * 40 + b"b", b"a" * 5000)
    assert time.perf_counter() - started < 1.0


def test_compiled_is_cached_and_reusable():
    matcher = glob.compile(b"user:*:name")
    assert matcher is glob.compile(b"user:*:name")
    assert matcher(b"user:1:name") and not matcher(b"user:1:age")
