"""Value types: what TYPE, OBJECT ENCODING, COPY and friends need to know about any stored value.

Strings are stored as ``bytes`` (or ``bytearray`` for Redis's "raw" strings produced by APPEND
and SETRANGE). Every other type is a class that provides:

- ``TYPE_NAME: bytes`` (class attribute): what TYPE answers (``b"list"``, ``b"hash"``, ...);
- ``encoding(self) -> bytes``: what OBJECT ENCODING answers (``b"listpack"``, ``b"hashtable"``, ...);
- ``copy(self)``: an independent deep copy, for COPY.
"""

from __future__ import annotations

from typing import Any

from .string import SHARED_INTEGERS, parse_int, string_encoding

STRING = b"string"
NONE = b"none"

# Redis keeps one shared object per small integer and reports its refcount as INT_MAX.
SHARED_REFCOUNT = 2147483647


def is_string(value: Any) -> bool:
    cls = value.__class__
    return cls is bytes or cls is bytearray


def type_name(value: Any) -> bytes:
    """TYPE's answer for a stored value (``none`` for a missing one)."""
    if value is None:
        return NONE
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return STRING
    return cls.TYPE_NAME


def encoding_name(value: Any) -> bytes:
    """OBJECT ENCODING's answer for a stored value."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return string_encoding(value)
    return value.encoding()


def refcount(value: Any, shared_integers: bool = True) -> int:
    """OBJECT REFCOUNT's answer: small integers are shared objects in Redis (unless an LRU/LFU
    maxmemory policy with a memory limit forbids sharing), everything else has one owner."""
    if shared_integers and value.__class__ is bytes and len(value) <= 4:
        number = parse_int(value)
        if number is not None and 0 <= number < SHARED_INTEGERS:
            return SHARED_REFCOUNT
    return 1


def copy_value(value: Any) -> Any:
    """An independent copy of a stored value (COPY)."""
    cls = value.__class__
    if cls is bytes:
        return value
    if cls is bytearray:
        return bytearray(value)
    return value.copy()


__all__ = [
    "NONE",
    "SHARED_REFCOUNT",
    "STRING",
    "copy_value",
    "encoding_name",
    "is_string",
    "refcount",
    "type_name",
]
