"""CRC-64 (Jones, reflected) as Redis uses it for DUMP payloads and RDB files."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vermilion.persistence.crc64 import crc64, crc64_bytes


def test_known_vectors():
    # The check value of this CRC (Redis's own crc64 test uses it).
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"") == 0
    assert crc64(b"\x00") == 0


def test_redis_dump_trailer():
    # The payload of FUNCTION DUMP for one library, as redis-server 7.0.15 produced it.
    body = (b"\xf5\xc3@V@[\x1f#!lua name=mylib\nredis.register_\x0bfunction('my@\x0b\x02', @\x06`"
            b"\x12\x11keys, args) return`\x0c\x07[1] end)\n\x00")
    assert crc64_bytes(body) == b"\x8dY6\xad\xc6\xe7\x07\xda"


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_incremental(first, second):
    assert crc64(second, crc64(first)) == crc64(first + second)
