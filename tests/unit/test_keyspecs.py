"""Key extraction (vermilion.keyspecs) against real Redis's COMMAND GETKEYSANDFLAGS.

Every command and subcommand in the metadata is covered, implemented or not: argument vectors
are generated from each command's argument grammar (COMMAND DOCS tree), plus hand-picked edge
cases for the commands Redis treats specially, plus random vectors (hypothesis) built from each
command's own tokens.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection
from vermilion import keyspecs
from vermilion.commands.introspection import keys_reply
from vermilion.errors import RedisError
from vermilion.registry import META, Command
from vermilion.resp.encode import error


def meta_commands() -> dict[str, Command]:
    """A Command for every command and subcommand in the metadata (none registered)."""
    commands: dict[str, Command] = {}
    for name, entry in META.items():
        top = Command(name, entry["info"], entry["docs"], None)
        commands[name] = top
        sub_docs = dict(dict(entry["docs"]["%"]).get("subcommands", {"%": []})["%"])
        if isinstance(entry["info"][9], list):
            for sub_info in entry["info"][9]:
                commands[sub_info[0]] = Command(sub_info[0], sub_info, sub_docs[sub_info[0]], top)
    return commands


COMMANDS = meta_commands()


# -- argument vectors from the grammar -------------------------------------------------------


class _Generator:
    """Builds one argument vector from a docs ``arguments`` tree.

    ``full`` includes optional arguments and repeats ``multiple`` ones; ``choice`` selects
    which alternative of each ``oneof`` is taken (modulo its width).
    """

    def __init__(self, full: bool, choice: int) -> None:
        self.full = full
        self.choice = choice
        self.keys = 0

    def many(self, args: list) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for arg in args:
            out.extend(self.one(dict(arg["%"])))
        return out

    def one(self, arg: dict) -> list[tuple[str, str]]:
        flags = {f["+"] for f in arg.get("flags", {"~": []})["~"]}
        if "optional" in flags and not self.full:
            return []
        repeats = 2 if "multiple" in flags and self.full else 1
        out: list[tuple[str, str]] = []
        for index in range(repeats):
            if "token" in arg and (index == 0 or "multiple_token" in flags):
                out.append(("token", arg["token"]))
            out.extend(self.value(arg))
        return out

    def value(self, arg: dict) -> list[tuple[str, str]]:
        kind = arg["type"]
        if kind == "pure-token":
            return []
        if kind == "key":
            self.keys += 1
            return [("key", f"k{self.keys}")]
        if kind == "integer":
            if arg["name"] == "numkeys":
                return [("numkeys", "?")]
            return [("int", "1")]
        if kind == "double":
            return [("double", "1.5")]
        if kind == "unix-time":
            return [("int", "1700000000")]
        if kind == "pattern":
            return [("pattern", "*")]
        if kind == "oneof":
            options = arg["arguments"]
            return self.one(dict(options[self.choice % len(options)]["%"]))
        if kind == "block":
            return self.many(arg["arguments"])
        return [("string", arg["name"])]


def _fill_numkeys(items: list[tuple[str, str]]) -> list[str]:
    values = []
    for position, (kind, value) in enumerate(items):
        if kind == "numkeys":
            following = itertools.takewhile(lambda item: item[0] == "key", items[position + 1 :])
            value = str(sum(1 for _ in following))
        values.append(value)
    return values


def command_line_prefix(cmd: Command) -> list[str]:
    return cmd.full_name.split("|")


def grammar_vectors(cmd: Command) -> list[list[str]]:
    """Distinct command lines for ``cmd`` generated from its argument grammar."""
    arguments = dict(cmd.docs["%"]).get("arguments", [])
    seen: set[tuple[str, ...]] = set()
    vectors = []
    for full, choice in itertools.product((False, True), range(4)):
        line = command_line_prefix(cmd) + _fill_numkeys(_Generator(full, choice).many(arguments))
        line += ["x"] * (abs(cmd.arity) - len(line))  # commands whose grammar is not documented
        if tuple(line) not in seen:
            seen.add(tuple(line))
            vectors.append(line)
    return vectors


# Edge cases where Redis's spec walk gives up and a command's own extractor (or nothing) answers.
EDGE_CASES = [
    ["zunionstore", "d", "2abc", "a", "b"],
    ["zunionstore", "d", " 2", "a", "b"],
    ["zunionstore", "d", "0", "a"],
    ["zunionstore", "d", "5", "a", "b"],
    ["zunionstore", "d", "-1", "a"],
    ["zunionstore", "d", "4294967297", "a", "b"],
    ["zunionstore", "d", "99999999999999999999999", "a"],
    ["zinterstore", "d", "1", "a", "weights", "1"],
    ["zdiff", "02", "a", "b"],
    ["zintercard", "2", "a", "b", "limit", "1"],
    ["sintercard", "+1", "a"],
    ["eval", "s", "0"],
    ["eval", "s", "1"],
    ["eval", "s", "-1", "a"],
    ["eval", "s", "2", "a", "b", "c"],
    ["evalsha_ro", "s", "1x", "a"],
    ["fcall", "f", "3", "a", "b"],
    ["lmpop", "2", "a", "b", "left"],
    ["lmpop", "x", "a", "left"],
    ["blmpop", "0", "1", "a", "left", "count", "2"],
    ["bzmpop", "0", "1abc", "a", "min"],
    ["zmpop", "0", "a", "min"],
    ["sort", "a"],
    ["sort", "a", "by", "x", "store", "d"],
    ["sort", "a", "store", "d1", "limit", "0", "1", "store", "d2"],
    ["sort", "a", "store"],
    ["sort", "a", "STORE", "store", "x"],
    ["sort", "a", "get", "store", "by", "store", "x"],
    ["sort", "a", "by", "store", "x"],
    ["sort", "a", "limit", "store", "x", "1"],
    ["sort", "a", "limit", "0", "store", "x"],
    ["sort_ro", "a", "by", "x"],
    ["migrate", "h", "p", "k", "0", "5"],
    ["migrate", "h", "p", "", "0", "5", "keys", "a", "b"],
    ["migrate", "h", "p", "k", "0", "5", "keys", "a", "b"],
    ["migrate", "h", "p", "", "0", "5", "copy", "auth", "keys", "keys", "a"],
    ["migrate", "h", "p", "", "0", "5", "auth2", "u", "keys", "keys", "a"],
    ["migrate", "h", "p", "", "0", "5", "replace", "KEYS"],
    ["migrate", "h", "p", "", "0", "keys"],
    ["xread", "streams", "a", "0"],
    ["xread", "count", "1", "streams", "a", "0"],
    ["xread", "count", "1", "streams", "a"],
    ["xread", "count", "1", "streams", "a", "b", "0"],
    ["xread", "count", "streams", "STREAMS", "a", "0"],
    ["xread", "block", "0", "count", "1", "streams", "a", "b", "0", "0"],
    ["xread", "streams", "streams", "streams", "0"],
    ["xread", "x", "streams", "a", "0"],
    ["xreadgroup", "group", "g", "c", "streams", "a", "0"],
    ["xreadgroup", "group", "g", "c", "noack", "streams", "a", "b", "0", "0"],
    ["xreadgroup", "group", "g", "c", "count", "1", "streams", "a"],
    ["xreadgroup", "group", "g", "streams", "streams", "a", "0"],
    # The spec search starts at argument 4, Redis's own parser at 1: they can disagree.
    ["xreadgroup", "streams", "a", "b", "c", "d", "streams", "0"],
    ["xreadgroup", "streams", "a", "b", "c", "streams", "0"],
    ["set", "a", "b"],
    ["set", "a", "b", "get"],
    ["set", "a", "b", "GET", "nx"],
    ["set", "get", "get"],
    ["set", "a", "b", "ex", "get"],
    ["set", "a", "b", "gets"],
    ["set", "a", "b", "get\x00x"],
    ["bitfield", "a"],
    ["bitfield", "a", "get", "u8", "0"],
    ["bitfield", "a", "get", "u8"],
    ["bitfield", "a", "overflow", "wrap", "get", "u8", "0"],
    ["bitfield", "a", "get", "u8", "0", "set", "u8", "0", "1"],
    ["bitfield", "a", "incrby", "u8", "0"],
    ["bitfield", "a", "foo"],
    ["bitfield", "a", "overflow"],
    ["bitfield_ro", "a", "get", "u8", "0"],
    ["georadius", "k", "0", "0", "1", "m", "store", "a", "storedist", "b"],
    ["georadius", "k", "0", "0", "1", "m", "store"],
    ["georadius", "k", "0", "0", "1", "m", "count", "1", "storedist", "x"],
    ["georadiusbymember", "k", "m", "1", "km", "STORE", "x"],
    ["mset", "a", "1", "b"],
    ["mset", "a", "1", "b", "2"],
    ["msetnx", "a"],
    ["del", "a", "b", "c"],
    ["spublish", "a", "b"],
    ["ssubscribe", "a"],
    ["publish", "a", "b"],
    ["object", "encoding", "k"],
    ["object", "help"],
    ["xinfo", "stream", "k", "full"],
    ["memory", "usage", "k", "samples", "5"],
    ["get", "a", "b"],
    ["get"],
    ["ping", "x"],
]


def _ours(cmd: Command, line: list[str], resp3: bool) -> bytes:
    try:
        return keys_reply(cmd, [arg.encode() for arg in line], True, resp3)
    except RedisError as exc:
        return error(exc.text)


def _command_for(line: list[str]) -> Command:
    if len(line) > 1 and f"{line[0]}|{line[1]}".lower() in COMMANDS:
        return COMMANDS[f"{line[0]}|{line[1]}".lower()]
    return COMMANDS[line[0].lower()]


@pytest.fixture(scope="module")
def oracle(oracle_port):
    conn2 = RawConnection(oracle_port)
    conn3 = RawConnection(oracle_port)
    conn3.call("HELLO", "3")
    yield conn2, conn3
    conn2.close()
    conn3.close()


@pytest.fixture(scope="module")
def redis_names(oracle):
    """Every command and subcommand the oracle knows (meta/extensions.json adds newer ones)."""
    return set(oracle[0].call("COMMAND", "LIST").split(b"\r\n")[2::2])


def _compare(oracle, cmd: Command, line: list[str]) -> None:
    for resp3, conn in zip((False, True), oracle):
        theirs = conn.call("COMMAND", "GETKEYSANDFLAGS", *line)
        ours = _ours(cmd, line, resp3)
        assert ours == theirs, f"{line!r} resp3={resp3}: ours {ours!r} != redis {theirs!r}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_grammar_vectors_match_redis(oracle, redis_names, name):
    cmd = COMMANDS[name]
    if name.encode() not in redis_names:
        pytest.skip("newer than Redis 7.0: no oracle to compare with")
    if isinstance(cmd.info[9], list):
        pytest.skip("a container: COMMAND GETKEYS resolves one of its subcommands instead")
    checked = 0
    for line in grammar_vectors(cmd):
        if len(line) >= 2:  # COMMAND GETKEYS needs the command and one argument
            _compare(oracle, cmd, line)
            checked += 1
    assert checked or cmd.arity in (1, -1), f"no vector checked for {name}"


@pytest.mark.parametrize("line", EDGE_CASES, ids=lambda line: " ".join(line)[:60])
def test_edge_cases_match_redis(oracle, line):
    if len(line) < 2:
        assert _ours(_command_for(line), line, False).startswith(b"-ERR Invalid number")
        return
    _compare(oracle, _command_for(line), line)


def _movable_or_special() -> list[str]:
    """Commands whose keys depend on the arguments: the ones worth fuzzing."""
    names = []
    for name, cmd in COMMANDS.items():
        specs = keyspecs.key_specs(cmd)
        irregular = any(
            s.bs_type != 0 or s.fk_type != 0 or s.flags & {"incomplete", "variable_flags"}
            for s in specs
        )
        if irregular or "movablekeys" in cmd.flags or cmd.key_step > 1 or cmd.last_key < 0:
            names.append(name)
    return sorted(names)


FUZZED = _movable_or_special()


def _tokens(cmd: Command) -> list[str]:
    found: set[str] = set()

    def walk(args: list) -> None:
        for arg in args:
            fields = dict(arg["%"])
            if "token" in fields:
                found.add(fields["token"])
            walk(fields.get("arguments", []))

    walk(dict(cmd.docs["%"]).get("arguments", []))
    return sorted(found)


_WORDS = ["0", "1", "2", "3", "-1", "01", "-0", "2abc", " 1", "k", "", "streams", "store", "keys",
          "get", "x\x00y"]


@st.composite
def fuzzed_lines(draw):
    name = draw(st.sampled_from(FUZZED))
    cmd = COMMANDS[name]
    vocabulary = _tokens(cmd) + _WORDS
    words = st.one_of(st.sampled_from(vocabulary), st.sampled_from(vocabulary).map(str.lower))
    args = draw(st.lists(words, min_size=1, max_size=9))
    return command_line_prefix(cmd) + args


def test_fuzzed_command_lines_match_redis(oracle):
    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(fuzzed_lines())
    def check(line):
        _compare(oracle, _command_for(line), line)

    check()


def test_every_spec_shape_is_understood():
    # A new begin_search / find_keys type in regenerated metadata must not go unnoticed.
    for cmd in COMMANDS.values():
        for tree in cmd.info[8]["~"]:
            fields = dict(tree["%"])
            assert dict(fields["begin_search"]["%"])["type"] in ("index", "keyword", "unknown")
            assert dict(fields["find_keys"]["%"])["type"] in ("range", "keynum", "unknown")
            assert {f["+"] for f in fields["flags"]["~"]} <= set(keyspecs.KEY_FLAG_ORDER)


@pytest.mark.parametrize(
    "text, expected",
    [(b"0", 0), (b"12", 12), (b"-7", -7), (b"007", None), (b"-0", None), (b"+1", None),
     (b" 1", None), (b"", None), (b"9223372036854775807", 2**63 - 1),
     (b"9223372036854775808", None), (b"-9223372036854775808", -(2**63)), (b"1a", None)],
)
def test_string2ll(text, expected):
    assert keyspecs.string2ll(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [(b"12", 12), (b" \t12x", 12), (b"-3", -3), (b"+4", 4), (b"x", 0), (b"", 0), (b"-", 0),
     (b"4294967297", 1), (b"99999999999999999999", -1), (b"2\x003", 2)],
)
def test_atoi(text, expected):
    assert keyspecs.atoi(text) == expected


def test_get_keys_positions_and_flags():
    keys = keyspecs.get_keys(COMMANDS["sort"], [b"SORT", b"src", b"STORE", b"dst"])
    assert keys == [(1, frozenset({"RO", "access"})), (3, frozenset({"OW", "update"}))]
    assert keyspecs.get_keys(COMMANDS["get"], [b"GET"]) == []
    assert keyspecs.get_keys(COMMANDS["ping"], [b"PING"]) == []
    assert keyspecs.has_keys(COMMANDS["sort"]) and not keyspecs.has_keys(COMMANDS["spublish"])
