"""Unit and property tests of vermilion-cli's parsers: argument splitting, quoting, RESP, help."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vermilion.cli import resp
from vermilion.cli.format import Formatter, format_tty
from vermilion.cli.help import HelpTable, render_argument
from vermilion.cli.resp import TypedReader
from vermilion.cli.sds import quote, split_args, unquote


@pytest.mark.parametrize(
    "line, expected",
    [
        (b"set a b", [b"set", b"a", b"b"]),
        (b"  set   a\tb  ", [b"set", b"a", b"b"]),
        (b'set "a b" c', [b"set", b"a b", b"c"]),
        (b'"\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\"', [b"AJ\n\r\t\x08\x07\"\\"]),
        (b'"\\xZZ"', [b"xZZ"]),
        (b"'it\\'s' 'a\\nb'", [b"it's", b"a\\nb"]),
        (b'pre"quoted part"post', None),
        (b'pre"quoted part" post', [b"prequoted part", b"post"]),
        (b'"unterminated', None),
        (b"'unterminated", None),
        (b"", []),
        (b"   ", []),
        (b"a\0b", [b"a"]),
    ],
)
def test_split_args_like_sdssplitargs(line, expected):
    assert split_args(line) == expected


@given(st.binary(max_size=64))
def test_quote_then_split_round_trips(data):
    assert split_args(quote(data)) == [data]
    assert unquote(quote(data)) == data


@given(st.lists(st.binary(max_size=16), max_size=8))
def test_quoted_arguments_split_back(args):
    assert split_args(b" ".join(quote(arg) for arg in args)) == args


def test_quote_escapes_like_sdscatrepr():
    assert quote(b'a"b\\c\n\r\t\x07\x08\x00\x7f\xc3\xa9 ~') == b'"a\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\x7f\\xc3\\xa9 ~"'


# -- RESP ---------------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.binary(max_size=20).map(lambda b: (b"$%d\r\n" % len(b)) + b + b"\r\n"),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: b":%d\r\n" % i),
    st.sampled_from([b"+OK\r\n", b"-ERR bad\r\n", b"_\r\n", b"#t\r\n", b"#f\r\n", b",3.14\r\n", b",inf\r\n",
                     b"$-1\r\n", b"*-1\r\n", b"=8\r\ntxt:abcd\r\n", b"(12345678901234567890\r\n"]),
)


def _aggregate(children):
    return st.tuples(st.sampled_from([b"*", b"~", b">"]), st.lists(children, max_size=4)).map(
        lambda pair: b"%s%d\r\n" % (pair[0], len(pair[1])) + b"".join(pair[1])
    ) | st.lists(st.tuples(children, children), max_size=3).map(
        lambda pairs: b"%%%d\r\n" % len(pairs) + b"".join(k + v for k, v in pairs)
    )


_replies = st.recursive(_scalars, _aggregate, max_leaves=20)


def _parse_all(data: bytes, chunk: int) -> list:
    reader = TypedReader()
    replies = []
    for start in range(0, len(data), chunk):
        reader.feed(data[start : start + chunk])
        while (reply := reader.get()) is not None:
            replies.append(reply)
    return replies


@settings(max_examples=60, deadline=None)
@given(st.lists(_replies, min_size=1, max_size=5), st.integers(min_value=1, max_value=17))
def test_typed_reader_is_independent_of_chunking(encoded, chunk):
    data = b"".join(encoded)
    whole = _parse_all(data, len(data))
    assert len(whole) == len(encoded)
    assert repr(_parse_all(data, chunk)) == repr(whole)


def test_typed_reader_keeps_types():
    reader = TypedReader()
    reader.feed(b"+OK\r\n$2\r\nOK\r\n~1\r\n:1\r\n%1\r\n+k\r\n#f\r\n=8\r\ntxt:abcd\r\n,1.50\r\n")
    kinds = [reader.get() for _ in range(6)]
    assert [r.type for r in kinds] == [resp.STATUS, resp.STRING, resp.SET, resp.MAP, resp.VERB, resp.DOUBLE]
    assert kinds[4].str == b"abcd" and kinds[5].str == b"1.50"
    reader.feed(b"|1\r\n")
    with pytest.raises(resp.ProtocolError, match='Protocol error, got "\\|" as reply type byte'):
        reader.get()


def test_terminal_rendering_of_nested_replies():
    reader = TypedReader()
    reader.feed(b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n*0\r\n%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n")
    assert format_tty(reader.get()) == (
        b'1) "a"\n2) 1) (integer) 1\n   2) (empty array)\n3) 1# k => \n      1) (integer) 1\n      2) (integer) 2\n'
    )
    reader.feed(b"*12\r\n" + b":0\r\n" * 12)
    rendered = format_tty(reader.get()).split(b"\n")
    assert rendered[0] == b" 1) (integer) 0" and rendered[11] == b"12) (integer) 0"
    formatter = Formatter(mode=1, bulk_delimiter=b",", reply_delimiter=b";")
    reader.feed(b"%2\r\n+a\r\n:1\r\n+b\r\n_\r\n")
    assert formatter.format(reader.get()) == b"a 1,b ;"


# -- help -------------------------------------------------------------------------------------------


def test_argument_synopsis_rules():
    optional_token = {"name": "count", "type": "integer", "token": "COUNT", "flags": ["optional"]}
    assert render_argument(optional_token) == "[COUNT count]"
    repeated = {"name": "key", "type": "key", "flags": ["multiple"]}
    assert render_argument(repeated) == "key [key ...]"
    repeated_token = {"name": "pattern", "type": "pattern", "token": "GET", "flags": ["optional", "multiple", "multiple_token"]}
    assert render_argument(repeated_token) == "[GET pattern [GET pattern ...]]"
    choice = {"name": "c", "type": "oneof", "flags": ["optional"], "arguments": [
        {"name": "nx", "type": "pure-token", "token": "NX"}, {"name": "xx", "type": "pure-token", "token": "XX"}]}
    assert render_argument(choice) == "[NX|XX]"
    block = {"name": "b", "type": "block", "token": "LIMIT", "flags": ["optional"], "arguments": [
        {"name": "offset", "type": "integer"}, {"name": "count", "type": "integer"}]}
    assert render_argument(block) == "[LIMIT offset count]"
    assert render_argument({"name": "e", "type": "pure-token", "token": ""}) == '""'


def test_hints_and_completions_from_bundled_docs():
    table = HelpTable.from_server(None)  # not connected: Vermilion's bundled Redis 7.0 docs
    assert table.hint("set") == " key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|" \
                                "PXAT unix-time-milliseconds|KEEPTTL]"
    assert table.hint("set k v ").startswith("[NX|XX]")
    assert table.hint("config get ") == "parameter [parameter ...]"
    assert table.hint("nosuch ") is None
    assert table.hint('get "unbalanced') is None
    completions = table.completions("conf")
    assert completions[0] == "CONFIG" and "CONFIG GET" in completions
    assert table.completions("help @str") == ["help @stream", "help @string"]
    assert "\x1b[1mSET\x1b[0m" in table.help_text(["set"])
