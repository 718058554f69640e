"""COMMAND and its subcommands: the command table as clients see it.

Every client library and redis-cli asks for COMMAND or COMMAND DOCS when it connects, so the
replies are encoded once per protocol from the metadata trees and kept until the table changes
(the table only grows, at import, so its size is the version). Only implemented commands appear,
and a container lists only its implemented subcommands, in the order Redis reported them.
"""

from __future__ import annotations

from typing import Any

from .. import errors, glob, keyspecs, registry
from ..errors import RedisError
from ..registry import COMMANDS, Command, command
from ..resp.encode import EMPTY_ARRAY, NULL2, NULL3, integer, simple

# -- encoding the stored metadata trees ----------------------------------------------------


def encode_tree(node: Any, resp3: bool) -> bytes:
    """A stored metadata tree as RESP (see tools/gen_command_meta.py for the tree's encoding)."""
    out: list[bytes] = []
    _encode(node, resp3, out)
    return b"".join(out)


def _encode(node: Any, resp3: bool, out: list[bytes]) -> None:
    if node.__class__ is str:
        data = node.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    elif node.__class__ is int:
        out.append(b":%d\r\n" % node)
    elif node.__class__ is list:
        out.append(b"*%d\r\n" % len(node))
        for item in node:
            _encode(item, resp3, out)
    elif node is None:
        out.append(NULL3 if resp3 else NULL2)
    elif "+" in node:
        out.append(b"+%s\r\n" % node["+"].encode())
    elif "%" in node:
        pairs = node["%"]
        out.append(b"%%%d\r\n" % len(pairs) if resp3 else b"*%d\r\n" % (2 * len(pairs)))
        for key, value in pairs:
            _encode(key, resp3, out)
            _encode(value, resp3, out)
    elif "~" in node:
        items = node["~"]
        out.append(b"~%d\r\n" % len(items) if resp3 else b"*%d\r\n" % len(items))
        for item in items:
            _encode(item, resp3, out)
    else:
        raise ValueError(f"not a metadata tree node: {node!r}")


# -- the table as implemented ----------------------------------------------------------------


def implemented_subcommands(cmd: Command) -> list[Command]:
    """The implemented subcommands of a container, in the order Redis lists them."""
    if cmd.subcommands is None:
        return []
    stored = cmd.info[9] if cmd.info[9].__class__ is list else []
    by_name = {sub.full_name: sub for sub in cmd.subcommands.values()}
    ordered = [by_name.pop(entry[0]) for entry in stored if entry[0] in by_name]
    return ordered + list(by_name.values())


def info_tree(cmd: Command) -> list:
    """COMMAND INFO's entry for ``cmd``, its subcommands cut down to the implemented ones."""
    if cmd.parent is not None:
        return cmd.info
    tree = list(cmd.info)
    subs = implemented_subcommands(cmd)
    # Redis answers an empty set for a command without subcommands, an array for a container.
    tree[9] = [sub.info for sub in subs] if subs else {"~": []}
    return tree


def docs_tree(cmd: Command) -> dict:
    """COMMAND DOCS's entry for ``cmd``, its subcommands cut down to the implemented ones."""
    if cmd.parent is not None:
        return cmd.docs
    subs = implemented_subcommands(cmd)
    pairs = []
    for key, value in cmd.docs["%"]:
        if key == "subcommands":
            if not subs:
                continue
            value = {"%": [[sub.full_name, sub.docs] for sub in subs]}
        pairs.append([key, value])
    return {"%": pairs}


class _Snapshot:
    """Every COMMAND reply that does not depend on arguments, encoded for one protocol."""

    __slots__ = (
        "version", "top", "info", "docs", "all_info", "all_docs", "count", "names", "all_names",
    )

    def __init__(self, resp3: bool) -> None:
        self.version = len(COMMANDS)
        self.top = registry.top_level()
        self.info: dict[Command, bytes] = {}
        self.docs: dict[Command, bytes] = {}
        names: list[str] = []
        for top in self.top:
            names.append(top.full_name)
            for cmd in [top, *implemented_subcommands(top)]:
                self.info[cmd] = encode_tree(info_tree(cmd), resp3)
                name = cmd.full_name.encode()
                self.docs[cmd] = b"$%d\r\n%s\r\n%s" % (
                    len(name), name, encode_tree(docs_tree(cmd), resp3))
                if cmd is not top:
                    names.append(cmd.full_name)
        self.names = names
        self.all_names = _names_reply(names)
        self.all_info = b"*%d\r\n" % len(self.top) + b"".join(self.info[c] for c in self.top)
        self.all_docs = _map_head(len(self.top), resp3) + b"".join(
            self.docs[c] for c in self.top)
        self.count = integer(len(self.top))


_snapshots: list[_Snapshot | None] = [None, None]  # RESP2, RESP3


def snapshot(resp3: bool) -> _Snapshot:
    current = _snapshots[resp3]
    if current is None or current.version != len(COMMANDS):
        current = _snapshots[resp3] = _Snapshot(resp3)
    return current


def _names_reply(names: list[str]) -> bytes:
    return b"*%d\r\n" % len(names) + b"".join(
        b"$%d\r\n%s\r\n" % (len(name), name.encode()) for name in names)


def _map_head(pairs: int, resp3: bool) -> bytes:
    return b"%%%d\r\n" % pairs if resp3 else b"*%d\r\n" % (2 * pairs)


def lookup_by_full_name(name: bytes) -> Command | None:
    """An implemented command by its full name ("get", "config|get"), any case."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    top = registry.lookup(parts[0])
    if top is None or len(parts) == 1:
        return top
    if top.subcommands is None:
        return None
    return top.subcommands.get(parts[1]) or top.subcommands.get(parts[1].lower())


def lookup_command_line(argv: list) -> Command | None:
    """The command a command line runs: a container's subcommand when one is named."""
    top = registry.lookup(argv[0])
    if top is None or len(argv) == 1 or top.subcommands is None:
        return top
    return top.subcommands.get(argv[1]) or top.subcommands.get(argv[1].lower())


# -- COMMAND -------------------------------------------------------------------------------


@command("command")
def command_all(client, argv):
    return snapshot(client.resp3).all_info


@command("command|count")
def command_count(client, argv):
    return snapshot(client.resp3).count


@command("command|info")
def command_info(client, argv):
    snap = snapshot(client.resp3)
    if len(argv) == 2:
        return snap.all_info
    null = NULL3 if client.resp3 else NULL2
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for name in argv[2:]:
        cmd = lookup_by_full_name(name)
        parts.append(null if cmd is None else snap.info[cmd])
    return b"".join(parts)


@command("command|docs")
def command_docs(client, argv):
    snap = snapshot(client.resp3)
    if len(argv) == 2:
        return snap.all_docs
    found = [snap.docs[cmd] for cmd in map(lookup_by_full_name, argv[2:]) if cmd is not None]
    return _map_head(len(found), client.resp3) + b"".join(found)


def _c_equal(arg: bytes, lower_word: bytes) -> bool:
    # Redis compares option names with strcasecmp, which stops at a NUL byte.
    return arg.split(b"\0", 1)[0].lower() == lower_word


@command("command|list")
def command_list(client, argv):
    argc = len(argv)
    kind = pattern = None
    i = 2
    while i < argc:
        if not (_c_equal(argv[i], b"filterby") and argc - 1 - i == 2):
            raise RedisError(errors.SYNTAX)
        kind = argv[i + 1].split(b"\0", 1)[0].lower()
        if kind not in (b"module", b"aclcat", b"pattern"):
            raise RedisError(errors.SYNTAX)
        pattern = argv[i + 2]
        i += 3
    snap = snapshot(client.resp3)
    if kind is None:
        return snap.all_names
    if kind == b"module":
        names = []  # no module commands exist here
    elif kind == b"aclcat":
        category = pattern.split(b"\0", 1)[0].lower().decode("latin-1")
        names = [name for name in snap.names if category in COMMANDS[name].acl_categories]
    else:
        matches = glob.compile(pattern, nocase=True)
        names = [name for name in snap.names if matches(name.encode())]
    return _names_reply(names)


_flag_replies: dict[tuple[frozenset[str], bool], bytes] = {}


def _encoded_flags(flags: frozenset[str], resp3: bool) -> bytes:
    reply = _flag_replies.get((flags, resp3))
    if reply is None:
        names = [name for name in keyspecs.KEY_FLAG_ORDER if name in flags]
        head = b"~%d\r\n" if resp3 else b"*%d\r\n"
        reply = head % len(names) + b"".join(simple(name) for name in names)
        _flag_replies[(flags, resp3)] = reply
    return reply


def checked_keys(cmd: Command, line: list) -> list[keyspecs.KeyRef]:
    """The keys COMMAND GETKEYS reports for ``line`` run as ``cmd``, with Redis's errors."""
    if not keyspecs.has_keys(cmd):
        raise RedisError(errors.COMMAND_HAS_NO_KEYS)
    arity = cmd.arity
    if (arity > 0 and arity != len(line)) or len(line) < -arity:
        raise RedisError(errors.INVALID_KEY_ARGUMENT_COUNT)
    keys = keyspecs.get_keys(cmd, line)
    if not keys and "no_mandatory_keys" not in cmd.flags:
        raise RedisError(errors.INVALID_KEY_ARGUMENTS)
    return keys


def keys_reply(cmd: Command, line: list, with_flags: bool, resp3: bool) -> bytes:
    """COMMAND GETKEYS / GETKEYSANDFLAGS's reply for ``line`` run as ``cmd`` (errors raised)."""
    keys = checked_keys(cmd, line)
    if not keys:
        return EMPTY_ARRAY
    parts = [b"*%d\r\n" % len(keys)]
    for position, flags in keys:
        key = line[position]
        if with_flags:
            parts.append(b"*2\r\n$%d\r\n%s\r\n" % (len(key), key))
            parts.append(_encoded_flags(flags, resp3))
        else:
            parts.append(b"$%d\r\n%s\r\n" % (len(key), key))
    return b"".join(parts)


def _getkeys(line: list, with_flags: bool, resp3: bool) -> bytes:
    cmd = lookup_command_line(line)
    if cmd is None:
        raise RedisError(errors.INVALID_COMMAND_SPECIFIED)
    return keys_reply(cmd, line, with_flags, resp3)


@command("command|getkeys")
def command_getkeys(client, argv):
    return _getkeys(argv[2:], False, client.resp3)


@command("command|getkeysandflags")
def command_getkeysandflags(client, argv):
    return _getkeys(argv[2:], True, client.resp3)


_HELP_LINES = (
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Describe every command this server implements.",
    "COUNT",
    "    How many top-level commands this server implements.",
    "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
    "    Names of the implemented commands and subcommands, optionally filtered.",
    "INFO [<command-name> ...]",
    "    Describe the named commands (every command when none is named).",
    "DOCS [<command-name> ...]",
    "    Documentation of the named commands (every command when none is named).",
    "GETKEYS <full-command>",
    "    Which arguments of a complete command line are keys.",
    "GETKEYSANDFLAGS <full-command>",
    "    Same as GETKEYS, with how the command uses each key.",
    "HELP",
    "    Show this text.",
)
_HELP = b"*%d\r\n" % len(_HELP_LINES) + b"".join(simple(line) for line in _HELP_LINES)


@command("command|help")
def command_help(client, argv):
    return _HELP
