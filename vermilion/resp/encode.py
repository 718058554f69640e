"""Reply encoders for RESP2 and RESP3.

Handlers return replies already encoded as bytes. The encoders that differ between the two
protocols take ``resp3`` (the client's choice from HELLO); the rest are shared. Constant replies
are pre-encoded once here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
QUEUED = b"+QUEUED\r\n"
ZERO = b":0\r\n"
ONE = b":1\r\n"
MINUS_ONE = b":-1\r\n"
MINUS_TWO = b":-2\r\n"
EMPTY_ARRAY = b"*0\r\n"
EMPTY_BULK = b"$0\r\n\r\n"
NULL2 = b"$-1\r\n"
NULL_ARRAY2 = b"*-1\r\n"
NULL3 = b"_\r\n"

_SMALL_INTS = [b":%d\r\n" % i for i in range(-1, 10001)]
# "$<length>\r\n" of short bulk strings: concatenating a kept header costs about half of
# formatting the length each time (measured: 99 ns against 175 ns for a 3-byte value).
BULK_HEADER_LIMIT = 1024
BULK_HEADERS = [b"$%d\r\n" % size for size in range(BULK_HEADER_LIMIT)]


def integer(value: int) -> bytes:
    if -1 <= value <= 10000:
        return _SMALL_INTS[value + 1]
    return b":%d\r\n" % value


def bulk(value: bytes) -> bytes:
    size = len(value)
    if size < BULK_HEADER_LIMIT:
        return BULK_HEADERS[size] + value + b"\r\n"
    return b"$%d\r\n%s\r\n" % (size, value)


def simple(text: str | bytes) -> bytes:
    if isinstance(text, str):
        text = text.encode()
    return b"+" + text + b"\r\n"


def error(text: str) -> bytes:
    # An error line must not contain newlines; Redis replaces them the same way.
    if "\r" in text or "\n" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    try:
        # Argument bytes quoted in an error text arrive surrogate-escaped: sent back as they were.
        return b"-" + text.encode("utf-8", "surrogateescape") + b"\r\n"
    except UnicodeEncodeError:
        return b"-" + text.encode("utf-8", "replace") + b"\r\n"


def array(encoded_items: list[bytes]) -> bytes:
    return b"*%d\r\n%s" % (len(encoded_items), b"".join(encoded_items))


def bulk_array(values: Iterable[bytes | None], resp3: bool = False) -> bytes:
    """An array of bulk strings; ``None`` entries become nulls."""
    null = NULL3 if resp3 else NULL2
    parts = [b""]
    count = 0
    for value in values:
        count += 1
        parts.append(null if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
    parts[0] = b"*%d\r\n" % count
    return b"".join(parts)


def null(resp3: bool) -> bytes:
    return NULL3 if resp3 else NULL2


def null_array(resp3: bool) -> bytes:
    return NULL3 if resp3 else NULL_ARRAY2


def map_(pairs: list[tuple[bytes, bytes]], resp3: bool) -> bytes:
    """A map of already-encoded keys and values; a flat array in RESP2."""
    head = b"%%%d\r\n" % len(pairs) if resp3 else b"*%d\r\n" % (2 * len(pairs))
    return head + b"".join(k + v for k, v in pairs)


def set_(encoded_items: list[bytes], resp3: bool) -> bytes:
    head = b"~%d\r\n" if resp3 else b"*%d\r\n"
    return head % len(encoded_items) + b"".join(encoded_items)


def push(encoded_items: list[bytes], resp3: bool) -> bytes:
    head = b">%d\r\n" if resp3 else b"*%d\r\n"
    return head % len(encoded_items) + b"".join(encoded_items)


def format_double(value: float) -> bytes:
    """A double as Redis 7.0 prints it: %.17g, with inf and -inf spelled out."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if value != value:
        return b"nan"
    return b"%.17g" % value


def double(value: float, resp3: bool) -> bytes:
    text = format_double(value)
    if resp3:
        return b"," + text + b"\r\n"
    return b"$%d\r\n%s\r\n" % (len(text), text)


def boolean(value: bool, resp3: bool) -> bytes:
    if resp3:
        return b"#t\r\n" if value else b"#f\r\n"
    return ONE if value else ZERO


def verbatim(text: bytes, resp3: bool, kind: bytes = b"txt") -> bytes:
    if resp3:
        body = kind + b":" + text
        return b"=%d\r\n%s\r\n" % (len(body), body)
    return bulk(text)


def big_number(value: int, resp3: bool) -> bytes:
    if resp3:
        return b"(%d\r\n" % value
    return bulk(b"%d" % value)
