"""The exact request parser: Redis's inline splitting and multibulk rules."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from vermilion.errors import ProtocolError
from vermilion.resp.reader import ExactParser, parse_int, split_args

from tests.resp_raw import encode_command


@pytest.mark.parametrize(
    "line, expected",
    [
        (b"SET k v", [b"SET", b"k", b"v"]),
        (b"  SET   k  v  ", [b"SET", b"k", b"v"]),
        (b'SET "a b" c', [b"SET", b"a b", b"c"]),
        (b'SET "a\\x41\\n" c', [b"SET", b"aA\n", b"c"]),
        (b"SET 'it\\'s' c", [b"SET", b"it's", b"c"]),
        (b"SET 'a\\nb'", [b"SET", b"a\\nb"]),
        (b'SET ""', [b"SET", b""]),
        (b"", []),
        (b'SET "abc', None),
        (b'SET "abc"d', None),
        (b"SET 'abc", None),
    ],
)
def test_split_args(line, expected):
    assert split_args(line) == expected


@pytest.mark.parametrize(
    "text, value",
    [(b"0", 0), (b"12", 12), (b"-3", -3), (b"01", None), (b"+1", None), (b"", None),
     (b"-", None), (b" 1", None), (b"9223372036854775807", 2**63 - 1),
     (b"9223372036854775808", None), (b"-9223372036854775808", -(2**63))],
)
def test_parse_int(text, value):
    assert parse_int(text) == value


def parse_all(data: bytes, chunk: int) -> list:
    parser = ExactParser()
    commands = []
    for start in range(0, len(data), chunk):
        parser.feed(data[start : start + chunk])
        while (argv := parser.next_command()) is not None:
            commands.append(argv)
    return commands


@given(
    st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=6), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=50),
)
def test_multibulk_round_trip_in_any_chunking(commands, chunk):
    data = b"".join(encode_command(tuple(args)) for args in commands)
    assert parse_all(data, chunk) == commands


@pytest.mark.parametrize(
    "data, message",
    [
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n:5\r\n", "ERR Protocol error: expected '$', got ':'"),
        (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$999999999999\r\n", "ERR Protocol error: invalid bulk length"),
        (b'GET "abc\r\n', "ERR Protocol error: unbalanced quotes in request"),
        (b"x" * (64 * 1024 + 1), "ERR Protocol error: too big inline request"),
    ],
)
def test_protocol_errors(data, message):
    parser = ExactParser()
    parser.feed(data)
    with pytest.raises(ProtocolError) as raised:
        while parser.next_command() is not None:
            pass
    assert raised.value.args[0] == message
