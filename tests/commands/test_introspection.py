"""COMMAND and its subcommands, differential against real Redis, in RESP2 and RESP3.

Vermilion lists only what it implements, so real Redis's replies are cut down to the implemented
commands (and a container's implemented subcommands) before comparing. The prose (summaries,
complexity, history notes, key-spec notes) is ours, so it is masked on both sides; everything
else must match exactly. Subcommand order is unspecified in Redis (a hash table's order), so
subcommands are compared sorted by name. The tests iterate over whatever is implemented.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import time

import pytest

import vermilion.commands  # noqa: F401  registers every command
from tests.resp_raw import RawConnection
from tests.unit.test_keyspecs import grammar_vectors
from vermilion import registry
from vermilion.commands import introspection
from vermilion.registry import COMMANDS, META
from vermilion.testing import run_in_server

TOP_LEVEL = sorted(cmd.full_name for cmd in registry.top_level())
# Filled from the oracle: the names Redis 7.0 knows. Vermilion also implements a few newer
# subcommands (meta/extensions.json); those have no oracle and are left out of comparisons.
REDIS_NAMES: set[str] = set()
ALL_IMPLEMENTED = sorted(COMMANDS)
MASK = "<prose>"


# -- a typed RESP parser (keeps status vs bulk, sets, maps) ------------------------------------


def parse(raw: bytes):
    value, end = _parse(raw, 0)
    assert end == len(raw), f"trailing bytes after the reply: {raw[end:]!r}"
    return value


def _parse(raw: bytes, pos: int):
    end = raw.index(b"\r\n", pos)
    kind, head = raw[pos : pos + 1], raw[pos + 1 : end].decode()
    pos = end + 2
    if kind == b"$":
        if head == "-1":
            return None, pos
        size = int(head)
        return raw[pos : pos + size].decode(), pos + size + 2
    if kind == b"+":
        return {"+": head}, pos
    if kind == b"-":
        return {"-": head}, pos
    if kind == b":":
        return int(head), pos
    if kind == b"_":
        return None, pos
    if kind in (b"*", b"~", b"%"):
        count = int(head)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count * 2 if kind == b"%" else count):
            item, pos = _parse(raw, pos)
            items.append(item)
        if kind == b"*":
            return items, pos
        if kind == b"~":
            return {"~": items}, pos
        return {"%": [items[i : i + 2] for i in range(0, len(items), 2)]}, pos
    raise AssertionError(f"unexpected reply type {kind!r}")


def _pairs(node) -> list:
    """Key/value pairs of a map, whether RESP3 (``%``) or flattened RESP2 (array)."""
    if isinstance(node, dict):
        return [list(pair) for pair in node["%"]]
    return [[node[i], node[i + 1]] for i in range(0, len(node), 2)]


def _rebuild(like, pairs: list):
    if isinstance(like, dict):
        return {"%": pairs}
    return [item for pair in pairs for item in pair]


def _items(node) -> list:
    return node["~"] if isinstance(node, dict) else node


# -- normalising real Redis's replies to what Vermilion implements ---------------------------


def normalize_info(info):
    """A COMMAND INFO entry: key-spec notes masked, subcommands filtered to ours and sorted."""
    if info is None:
        return None
    info = list(info)
    specs = []
    for spec in _items(info[8]):
        pairs = [[k, MASK if k == "notes" else v] for k, v in _pairs(spec)]
        specs.append(_rebuild(spec, pairs))
    info[8] = {"~": specs} if isinstance(info[8], dict) else specs
    if isinstance(info[9], list) and info[9]:
        subs = [normalize_info(sub) for sub in info[9] if compared(sub[0])]
        info[9] = sorted(subs, key=lambda sub: sub[0])
    return info


def normalize_docs(docs):
    """A COMMAND DOCS entry: prose masked, subcommands filtered to ours and sorted."""
    pairs = []
    for key, value in _pairs(docs):
        if key in ("summary", "complexity"):
            value = MASK
        elif key == "history":
            entries = [[version, MASK] for version, _ in _items(value)]
            value = {"~": entries} if isinstance(value, dict) else entries
        elif key == "subcommands":
            subs = sorted(
                ([name, normalize_docs(sub)] for name, sub in _pairs(value) if compared(name)),
                key=lambda pair: pair[0],
            )
            value = _rebuild(value, subs)
        pairs.append([key, value])
    return _rebuild(docs, pairs)


def normalize_docs_reply(reply):
    return _rebuild(reply, [[name, normalize_docs(docs)] for name, docs in _pairs(reply)])


def use_resp3(server, conn: RawConnection) -> None:
    """HELLO 3 on a Vermilion connection; while HELLO is not implemented, flip the flag."""
    if not conn.call("HELLO", "3").startswith(b"-"):
        return
    address = "%s:%d" % conn.sock.getsockname()[:2]

    def flip():
        for client in server.clients.values():
            if client.address == address:
                client.resp3 = True
                return True
        return False

    assert run_in_server(server, flip), "connection not found among the server's clients"


@pytest.fixture(autouse=True)
def redis_names(oracle_port):
    if not REDIS_NAMES:
        conn = RawConnection(oracle_port)
        REDIS_NAMES.update(parse(conn.call("COMMAND", "LIST")))
        conn.close()


def compared(name: str) -> bool:
    return name in COMMANDS and name in REDIS_NAMES


def skip_unless_redis_knows(name: str) -> None:
    if name not in REDIS_NAMES:
        pytest.skip("newer than Redis 7.0: no oracle to compare with")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def conns(request, server, oracle_port):
    ours = RawConnection(server.port)
    theirs = RawConnection(oracle_port)
    if request.param == 3:
        use_resp3(server, ours)
        theirs.call("HELLO", "3")
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def differ(request, server, diff):
    """The conftest differ, in RESP2 or RESP3."""
    if request.param == 3:
        use_resp3(server, diff.ours)
        diff.theirs.call("HELLO", "3")
    return diff


# -- COMMAND INFO / COMMAND / COUNT -------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_IMPLEMENTED)
def test_info_matches_redis(conns, name):
    skip_unless_redis_knows(name)
    ours, theirs = conns
    for spelling in (name, name.upper()):
        mine = parse(ours.call("COMMAND", "INFO", spelling))
        real = parse(theirs.call("COMMAND", "INFO", spelling))
        assert normalize_info(mine[0]) == normalize_info(real[0])
        # Only implemented subcommands are listed.
        assert all(sub[0] in COMMANDS for sub in _items(mine[0][9]))


def test_info_unknown_names_are_null(differ):
    differ.check("COMMAND", "INFO", "no-such-command", "get|extra", "ping|x|y", "", "|")
    differ.check("COMMAND", "INFO", "get", "nosuch", "GeT")


def test_info_of_a_subcommand_by_full_name(conns):
    ours, theirs = conns
    for name in ALL_IMPLEMENTED:
        if "|" in name and name in REDIS_NAMES:
            container, sub = name.split("|")
            for spelling in (name, f"{container.upper()}|{sub.upper()}"):
                mine = parse(ours.call("COMMAND", "INFO", spelling))
                assert normalize_info(mine[0]) == normalize_info(
                    parse(theirs.call("COMMAND", "INFO", spelling))[0])


def test_command_lists_every_implemented_top_level_command(conns):
    ours, _ = conns
    for reply in (ours.call("COMMAND"), ours.call("COMMAND", "INFO")):
        entries = parse(reply)
        assert sorted(entry[0] for entry in entries) == TOP_LEVEL
        for entry in entries:
            assert entry == parse(ours.call("COMMAND", "INFO", entry[0]))[0]


def test_command_count(conns):
    ours, theirs = conns
    assert ours.call("COMMAND", "COUNT") == b":%d\r\n" % len(TOP_LEVEL)
    assert len(parse(ours.call("COMMAND"))) == len(TOP_LEVEL)
    assert theirs.call("COMMAND", "COUNT")[:1] == b":"  # same reply type


def test_command_is_cached_per_protocol():
    first = introspection.snapshot(False)
    assert introspection.snapshot(False) is first
    assert introspection.snapshot(True) is not first
    assert first.all_info != introspection.snapshot(True).all_info or not first.top


def test_cache_follows_registry_changes(server):
    """Registering a command later (a module, a test) shows up in COMMAND at once."""
    spare = next(name for name in sorted(META) if name not in COMMANDS and "|" not in name
                 and not isinstance(META[name]["info"][9], list))
    conn = RawConnection(server.port)
    before = conn.call("COMMAND", "COUNT")

    def register():
        registry.command(spare)(lambda client, argv: b"+OK\r\n")

    def unregister():
        cmd = COMMANDS.pop(spare)
        for key in [key for key, value in registry.TABLE.items() if value is cmd]:
            del registry.TABLE[key]

    run_in_server(server, register)
    try:
        assert conn.call("COMMAND", "COUNT") == b":%d\r\n" % (len(TOP_LEVEL) + 1)
        assert parse(conn.call("COMMAND", "INFO", spare))[0][0] == spare
        assert spare.encode() in conn.call("COMMAND", "LIST")
    finally:
        run_in_server(server, unregister)
    assert conn.call("COMMAND", "COUNT") == before
    assert conn.call("COMMAND", "INFO", spare) == b"*1\r\n$-1\r\n"
    conn.close()


# -- COMMAND DOCS ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_IMPLEMENTED)
def test_docs_match_redis_with_prose_masked(conns, name):
    skip_unless_redis_knows(name)
    ours, theirs = conns
    mine = parse(ours.call("COMMAND", "DOCS", name, "no-such-command"))
    real = parse(theirs.call("COMMAND", "DOCS", name, "no-such-command"))
    assert normalize_docs_reply(mine) == normalize_docs_reply(real)


def test_docs_of_everything(conns):
    ours, _ = conns
    reply = parse(ours.call("COMMAND", "DOCS"))
    names = [name for name, _ in _pairs(reply)]
    assert sorted(names) == TOP_LEVEL
    for name, docs in _pairs(reply):
        assert docs == _pairs(parse(ours.call("COMMAND", "DOCS", name)))[0][1]


def test_docs_unknown_and_repeated_names(differ):
    differ.check("COMMAND", "DOCS", "no-such-command", "", "get|x")
    differ.check("COMMAND", "DOCS", "nope")
    ours, theirs = differ.both("COMMAND", "DOCS", "get", "GET", "nope", "get")
    assert normalize_docs_reply(parse(ours)) == normalize_docs_reply(parse(theirs))
    assert len(_pairs(parse(ours))) == 3


def _prose(docs_pairs: list, found: dict, name: str) -> None:
    for key, value in docs_pairs:
        if key in ("summary", "complexity"):
            found[(name, key)] = value
        elif key == "history":
            for index, (_, text) in enumerate(_items(value)):
                found[(name, f"history{index}")] = text
        elif key == "subcommands":
            for sub, sub_docs in _pairs(value):
                _prose(_pairs(sub_docs), found, sub)


def _worded(text: str) -> bool:
    """Whether a text has words in it (bare "O(1)" or "O(log(N))" has nothing to reword)."""
    return any(word.lower() not in ("log", "n", "m", "o") for word in re.findall("[A-Za-z]+", text))


def test_prose_is_our_own(oracle_port):
    """Every summary, complexity note and history note differs from Redis's wording."""
    theirs = RawConnection(oracle_port)
    real: dict = {}
    for name, docs in _pairs(parse(theirs.call("COMMAND", "DOCS"))):
        _prose(_pairs(docs), real, name)
    theirs.close()
    ours: dict = {}
    for name, entry in META.items():
        _prose(entry["docs"]["%"], ours, name)
    assert ours.keys() >= real.keys()
    same = [key for key, text in real.items() if _worded(text) and text == ours[key]]
    assert not same, f"{len(same)} texts still worded as Redis words them, e.g. {same[:5]}"


# -- COMMAND LIST ------------------------------------------------------------------------------


def _names(reply: bytes) -> list[str]:
    return parse(reply)


def test_list_everything(conns):
    ours, _ = conns
    names = _names(ours.call("COMMAND", "LIST"))
    assert sorted(names) == ALL_IMPLEMENTED
    assert len(names) == len(set(names))


CATEGORIES = sorted({cat for cmd in META.values() for cat in
                     (c["+"][1:] for c in cmd["info"][6]["~"])})


@pytest.mark.parametrize(
    "kind, argument",
    [("ACLCAT", cat) for cat in CATEGORIES]
    + [("aclcat", "STRING"), ("ACLCAT", "nosuch"), ("ACLCAT", ""), ("ACLCAT", "read\x00x")]
    + [("PATTERN", p) for p in ("*", "g*", "*|*", "COMMAND|*", "?et", "[cs]et*", "*e*", "",
                                "command", "x*")]
    + [("MODULE", "x"), ("module", "")],
)
def test_list_filtered_matches_redis(conns, kind, argument):
    ours, theirs = conns
    mine = [name for name in _names(ours.call("COMMAND", "LIST", "FILTERBY", kind, argument))
            if name in REDIS_NAMES]
    real = [name for name in _names(theirs.call("COMMAND", "LIST", "FILTERBY", kind, argument))
            if name in COMMANDS]
    assert sorted(mine) == sorted(real)
    assert len(mine) == len(set(mine))


def test_list_errors(differ):
    differ.check("COMMAND", "LIST", "FILTERBY")
    differ.check("COMMAND", "LIST", "FILTERBY", "PATTERN")
    differ.check("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b")
    differ.check("COMMAND", "LIST", "FILTERBY", "nosuch", "x")
    differ.check("COMMAND", "LIST", "x")
    differ.check("COMMAND", "LIST", "FILTERBY", "MODULE", "x")


# -- COMMAND GETKEYS / GETKEYSANDFLAGS ---------------------------------------------------------


def _implemented_with_args() -> list[str]:
    return [name for name in ALL_IMPLEMENTED
            if not (COMMANDS[name].subcommands and COMMANDS[name].handler is None)]


@pytest.mark.parametrize("name", _implemented_with_args())
def test_getkeys_matches_redis(differ, name):
    skip_unless_redis_knows(name)
    for line in grammar_vectors(COMMANDS[name]):
        if len(line) >= 2:
            differ.check("COMMAND", "GETKEYS", *line)
            differ.check("COMMAND", "GETKEYSANDFLAGS", *line)


def test_getkeys_errors(differ):
    differ.check("COMMAND", "GETKEYS", "no-such-command", "a")
    differ.check("COMMAND", "GETKEYS", "get|x", "a")
    differ.check("COMMAND", "GETKEYS", "", "")
    differ.check("COMMAND", "GETKEYS", "ping", "x")
    differ.check("COMMAND", "GETKEYSANDFLAGS", "ping", "x")
    differ.check("COMMAND", "GETKEYS", "get", "a", "b")
    differ.check("COMMAND", "GETKEYS", "GET", "a")
    differ.check("COMMAND", "GETKEYSANDFLAGS", "SeT", "a", "b", "GET")
    differ.check("COMMAND", "GETKEYS", "command", "info")
    differ.check("COMMAND", "GETKEYS", "command", "nosuch")
    differ.check("COMMAND", "GETKEYS", "get")
    differ.check("COMMAND", "GETKEYSANDFLAGS")


def test_command_errors(differ):
    differ.check("COMMAND", "NOSUCH")
    differ.check("COMMAND", "COUNT", "x")
    differ.check("COMMAND", "HELP", "x")


# -- COMMAND HELP ------------------------------------------------------------------------------


def test_help(server):
    conn = RawConnection(server.port)
    reply = conn.call("COMMAND", "HELP")
    conn.close()
    lines = [line["+"] for line in parse(reply)]  # every line a status string
    assert lines[0].startswith("COMMAND <subcommand>")
    text = "\n".join(lines)
    for sub in ("COUNT", "LIST", "INFO", "DOCS", "GETKEYS", "GETKEYSANDFLAGS", "HELP"):
        assert f"\n{sub}" in text


# -- redis-cli ---------------------------------------------------------------------------------


def _interactive_cli(port: int, keystrokes: list[bytes]) -> str:
    """Drive redis-cli in a pseudo-terminal (answering linenoise's cursor query)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become redis-cli
        os.environ["TERM"] = "xterm"
        os.execvp("redis-cli", ["redis-cli", "-p", str(port)])
    output = b""

    def drain(seconds: float) -> None:
        nonlocal output
        deadline = time.time() + seconds
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                output += chunk
                if b"\x1b[6n" in chunk:
                    os.write(fd, b"\x1b[1;80R")

    try:
        drain(1.0)
        for keys in keystrokes:
            os.write(fd, keys)
            drain(0.7)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return output.decode(errors="replace")


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_redis_cli_reads_our_docs(server):
    """redis-cli builds its help and hints from COMMAND DOCS: ours must parse."""
    summary = dict(COMMANDS["get"].docs["%"])["summary"]
    screen = _interactive_cli(server.port, [b"help get\r", b"set "])
    assert summary in screen  # `help get` shows the summary it read from our COMMAND DOCS
    assert "key value" in screen  # the argument hint typed after "set "
