"""Glob patterns as Redis matches them (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL patterns).

Syntax: ``*`` any run of bytes, ``?`` one byte, ``[abc]`` / ``[^abc]`` / ``[a-z]`` byte classes,
``\\x`` a literal ``x``. The quirks of Redis 7.0's matcher are kept on purpose, because clients
see them:

- An empty subject matches only the empty pattern (``*`` does not match ``""``; callers that want
  "every key" test for the bare ``*`` themselves, as KEYS and SCAN do).
- Range ends compare as *signed* chars, so ``[\\x00-\\xff]`` holds only ``\\x00`` and ``\\xff``.
  A reversed range is swapped before ``nocase`` lowers its ends.
- ``[a-]`` is a range from ``a`` to ``]``; an unterminated class (``[abc``) ends the pattern.
- An escape inside a class compares case-sensitively even with ``nocase``.
- A trailing lone backslash is a literal backslash.
- Redis gives up on a ``*`` nested more than 1000 deep: a pattern whose 1001st star is not its
  last element never matches.

A pattern is parsed once into single-byte tokens (each a set of accepted bytes) split by stars.
The segments between stars have a fixed width, so matching is: the first segment at the start,
the last at the end, the middle ones each at their leftmost position. That is exact for globs
and linear, where a backtracking regex over ``.*`` can take exponential time on abusive patterns.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Matcher = Callable[[bytes], bool]

_STAR = None  # the token for '*'; every other token is a frozenset of accepted byte values
_ALL_BYTES = frozenset(range(256))
_MAX_STAR_NESTING = 1000
_CACHE_LIMIT = 4096
_cache: dict[tuple[bytes, bool], Matcher] = {}


def _signed(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def _lower(value: int) -> int:
    """C-locale tolower on a (possibly negative) char value."""
    return value + 32 if 65 <= value <= 90 else value


def _fold(byte: int) -> frozenset[int]:
    """The bytes equal to ``byte`` ignoring ASCII case."""
    lowered = _lower(byte)
    if 97 <= lowered <= 122:
        return frozenset((lowered, lowered - 32))
    return frozenset((byte,))


def _class_members(items: list[tuple[str, int, int]], negate: bool, nocase: bool) -> frozenset[int]:
    """Bytes accepted by a bracket class, evaluated as Redis evaluates it for each subject byte."""
    accepted = set()
    for kind, first, last in items:
        if kind == "escaped":
            accepted.add(first)
        elif kind == "byte":
            accepted.update(_fold(first) if nocase else (first,))
        else:
            low, high = _signed(first), _signed(last)
            if low > high:
                low, high = high, low
            if nocase:
                low, high = _lower(low), _lower(high)
            for byte in range(256):
                value = _signed(byte)
                if nocase:
                    value = _lower(value)
                if low <= value <= high:
                    accepted.add(byte)
    if negate:
        return _ALL_BYTES - accepted
    return frozenset(accepted)


def tokenize(pattern: bytes, nocase: bool = False) -> list[frozenset[int] | None]:
    """The pattern as tokens: ``None`` for a run of stars, else the set of bytes one position takes."""
    tokens: list[frozenset[int] | None] = []
    length = len(pattern)
    pos = 0
    while pos < length:
        char = pattern[pos]
        if char == 42:  # '*': consecutive stars are one
            while pos + 1 < length and pattern[pos + 1] == 42:
                pos += 1
            tokens.append(_STAR)
        elif char == 63:  # '?'
            tokens.append(_ALL_BYTES)
        elif char == 91:  # '['
            pos += 1
            negate = pos < length and pattern[pos] == 94
            if negate:
                pos += 1
            items: list[tuple[str, int, int]] = []
            while True:
                if pos < length and pattern[pos] == 92 and length - pos >= 2:
                    pos += 1
                    items.append(("escaped", pattern[pos], 0))
                elif pos < length and pattern[pos] == 93:
                    break
                elif pos >= length:
                    # Unterminated: the class ends with the pattern.
                    pos = length - 1
                    break
                elif length - pos >= 3 and pattern[pos + 1] == 45:
                    items.append(("range", pattern[pos], pattern[pos + 2]))
                    pos += 2
                else:
                    items.append(("byte", pattern[pos], 0))
                pos += 1
            tokens.append(_class_members(items, negate, nocase))
        else:
            if char == 92 and length - pos >= 2:  # '\': the next byte is literal
                pos += 1
                char = pattern[pos]
            tokens.append(_fold(char) if nocase else frozenset((char,)))
        pos += 1
    return tokens


def _byte_regex(accepted: frozenset[int]) -> bytes:
    if len(accepted) == 256:
        return b"[\\x00-\\xff]"
    if not accepted:
        return b"(?!)"
    if len(accepted) == 1:
        return re.escape(bytes(accepted))
    return b"[" + b"".join(b"\\x%02x" % byte for byte in sorted(accepted)) + b"]"


def _segment_regex(tokens: list[frozenset[int]]) -> re.Pattern[bytes]:
    return re.compile(b"".join(_byte_regex(token) for token in tokens))


def _never(subject: bytes) -> bool:
    return False


def _build(pattern: bytes, nocase: bool) -> Matcher:
    tokens = tokenize(pattern, nocase)
    stars = [index for index, token in enumerate(tokens) if token is _STAR]
    if len(stars) > _MAX_STAR_NESTING and stars[_MAX_STAR_NESTING] != len(tokens) - 1:
        return _never
    if not tokens:
        return lambda subject: not subject

    segments: list[list[frozenset[int]]] = [[]]
    for token in tokens:
        if token is _STAR:
            segments.append([])
        else:
            segments[-1].append(token)

    if len(segments) == 1:
        if all(len(token) == 1 for token in segments[0]):
            literal = bytes(next(iter(token)) for token in segments[0])
            return lambda subject: subject == literal
        fullmatch = _segment_regex(segments[0]).fullmatch
        return lambda subject: fullmatch(subject) is not None

    head, middle, tail = segments[0], segments[1:-1], segments[-1]
    head_re = _segment_regex(head).match if head else None
    tail_re = _segment_regex(tail).match if tail else None
    middle_res = [(_segment_regex(seg).search, len(seg)) for seg in middle if seg]
    head_len, tail_len = len(head), len(tail)

    if not middle_res and head_re is not None and all(len(t) == 1 for t in head) and not tail:
        prefix = bytes(next(iter(token)) for token in head)
        return lambda subject: subject.startswith(prefix)

    def matches(subject: bytes) -> bool:
        if not subject:
            return False
        end = len(subject) - tail_len
        if end < head_len:
            return False
        if head_re is not None and head_re(subject) is None:
            return False
        if tail_re is not None and tail_re(subject, end) is None:
            return False
        pos = head_len
        for search, width in middle_res:
            if end - pos < width:
                return False
            found = search(subject, pos, end)
            if found is None:
                return False
            pos = found.end()
        return True

    return matches


def compile(pattern: bytes, nocase: bool = False) -> Matcher:  # noqa: A001 - mirrors re.compile
    """A reusable predicate ``subject -> bool`` for ``pattern`` (cached per pattern)."""
    key = (bytes(pattern), nocase)
    matcher = _cache.get(key)
    if matcher is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        matcher = _cache[key] = _build(key[0], nocase)
    return matcher


def match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """True when ``string`` matches the glob ``pattern`` exactly as Redis's stringmatchlen."""
    return compile(pattern, nocase)(string)


__all__ = ["Matcher", "compile", "match", "tokenize"]
