"""The command table: each command is a handler plus its metadata, read from one source.

Metadata (arity, flags, key positions and key specs, ACL categories, argument grammar, since
version) lives as data in ``commands/meta/*.json``: the facts as Redis 7.0 reports them, the prose
in our words. ``@command("name")`` binds a handler to that metadata; COMMAND, ACL, Cluster and the
gate all read the resulting ``Command`` objects. Only commands that have a handler are in the
table, so COMMAND never lists something that answers "unknown command".
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import Any

META_DIR = pathlib.Path(__file__).resolve().parent / "commands" / "meta"

Handler = Callable[..., Any]
RunHandler = Callable[..., Any]


class Command:
    """One command or subcommand: its handler, metadata and statistics."""

    __slots__ = (
        "name",
        "full_name",
        "handler",
        "arity",
        "flags",
        "first_key",
        "last_key",
        "key_step",
        "acl_categories",
        "info",
        "docs",
        "parent",
        "subcommands",
        "group",
        "is_write",
        "is_readonly",
        "denyoom",
        "no_auth",
        "no_multi",
        "is_admin",
        "fast",
        "duration_ns",
        "_gated",
        "inline_argc",
        "min_args",
        "max_args",
        "failed_calls",
        "rejected_calls",
        "id",
        "latency_histogram",
        "untracked_calls",
        "run_handler",
        "run_argc",
    )

    def __init__(self, full_name: str, info: list, docs: dict, parent: Command | None) -> None:
        self.full_name = full_name
        self.name = full_name.rsplit("|", 1)[-1]
        self.handler: Handler | None = None
        self.info = info
        self.docs = docs
        self.parent = parent
        self.subcommands: dict[bytes, Command] | None = None
        self.arity: int = info[1]
        # Arity as a range of argument counts, so the fast path checks it in one comparison.
        self.min_args = abs(self.arity)
        self.max_args = self.arity if self.arity > 0 else 2**31
        self.flags: frozenset[str] = frozenset(f["+"] for f in info[2]["~"])
        self.first_key: int = info[3]
        self.last_key: int = info[4]
        self.key_step: int = info[5]
        self.acl_categories: frozenset[str] = frozenset(c["+"][1:] for c in info[6]["~"])
        self.group: str = doc_field(docs, "group") or "server"
        self.is_write = "write" in self.flags
        self.is_readonly = "readonly" in self.flags
        self.denyoom = "denyoom" in self.flags
        self.no_auth = "no_auth" in self.flags
        self.no_multi = "no_multi" in self.flags
        self.is_admin = "admin" in self.flags
        self.fast = "fast" in self.flags  # O(1) or O(log N): its calls may be timed in runs
        # Optional: runs a group of pipelined calls with the same name, key and argument count
        # at once, or returns None when they must run one by one (see ``run_of``). run_argc is
        # the argument count its calls must have (0 without a run handler: no call has it).
        self.run_handler: RunHandler | None = None
        self.run_argc = 0
        self.id = 0
        # True when the connection's inline fast path must send this command through the full
        # gate (containers of subcommands; server-wide checks such as OOM, see refresh_gates).
        self.gated = False
        self.reset_stats()

    def reset_stats(self) -> None:
        self.duration_ns = 0
        self.failed_calls = 0
        self.rejected_calls = 0
        # Calls counted by duration.bit_length() in ns (vermilion.observe: LATENCY HISTOGRAM,
        # INFO latencystats). Every call is counted here, so the histogram's sum is the count
        # of calls: one counter less to update per command.
        self.latency_histogram = [0] * 65
        self.untracked_calls = 0  # calls made while latency-tracking was off (vermilion.observe)

    @property
    def gated(self) -> bool:
        return self._gated

    @gated.setter
    def gated(self, value: bool) -> None:
        self._gated = value
        # The connection's inline path checks arity and gate in one test (``len(argv) in
        # cmd.inline_argc``, an O(1) range test): no argument count fits while gated.
        self.inline_argc = range(0) if value else range(self.min_args, self.max_args + 1)

    @property
    def calls(self) -> int:
        return sum(self.latency_histogram) + self.untracked_calls

    def __repr__(self) -> str:
        return f"<Command {self.full_name}>"


def doc_field(docs: dict, field: str) -> Any:
    for key, value in docs["%"]:
        if key == field:
            return value
    return None


def _load_meta() -> dict[str, dict]:
    meta: dict[str, dict] = {}
    # "container|sub" entries (extensions.json: subcommands newer than Redis 7.0) are added to
    # their container's entry once every file is read.
    extra_subcommands: list[tuple[str, dict]] = []
    for path in sorted(META_DIR.glob("*.json")):
        for name, entry in json.loads(path.read_text()).items():
            if "|" in name:
                extra_subcommands.append((name, entry))
                continue
            if name in meta:
                raise RuntimeError(f"command {name!r} described twice ({path.name})")
            meta[name] = entry
    for name, entry in extra_subcommands:
        parent = meta[name.split("|", 1)[0]]
        if any(sub[0] == name for sub in parent["info"][9]):
            raise RuntimeError(f"subcommand {name!r} described twice")
        parent["info"][9].append(entry["info"])
        for key, value in parent["docs"]["%"]:
            if key == "subcommands":
                value["%"].append([name, entry["docs"]])
    return meta


META: dict[str, dict] = _load_meta()

# name (lower and upper case bytes) -> Command, for the gate's lookup without decoding.
TABLE: dict[bytes, Command] = {}
# full name -> Command, every implemented command and subcommand, in registration order.
COMMANDS: dict[str, Command] = {}


def _register_top(name: str) -> Command:
    existing = COMMANDS.get(name)
    if existing is not None:
        return existing
    entry = META.get(name)
    if entry is None:
        raise RuntimeError(f"no metadata for command {name!r}")
    cmd = Command(name, entry["info"], entry["docs"], None)
    cmd.id = len(COMMANDS)
    COMMANDS[name] = cmd
    TABLE[name.encode()] = cmd
    TABLE[name.upper().encode()] = cmd
    return cmd


def command(full_name: str) -> Callable[[Handler], Handler]:
    """Bind the decorated function as the handler of ``full_name`` ("get", "config|get")."""

    def bind(handler: Handler) -> Handler:
        if "|" in full_name:
            parent_name, sub_name = full_name.split("|", 1)
            parent = _register_top(parent_name)
            entry = META[parent_name]
            sub_info = next((s for s in entry["info"][9] if s[0] == full_name), None)
            sub_docs = None
            for key, value in entry["docs"]["%"]:
                if key == "subcommands":
                    sub_docs = dict(value["%"]).get(full_name)
            if sub_info is None or sub_docs is None:
                raise RuntimeError(f"no metadata for subcommand {full_name!r}")
            if parent.subcommands is None:
                parent.subcommands = {}
                parent.gated = True
            key = sub_name.encode()
            if key in parent.subcommands:
                raise RuntimeError(f"subcommand {full_name!r} registered twice")
            cmd = Command(full_name, sub_info, sub_docs, parent)
            cmd.id = len(COMMANDS)
            COMMANDS[full_name] = cmd
            parent.subcommands[key] = cmd
            parent.subcommands[sub_name.upper().encode()] = cmd
        else:
            cmd = _register_top(full_name)
            if cmd.handler is not None:
                raise RuntimeError(f"command {full_name!r} registered twice")
        cmd.handler = handler
        return handler

    return bind


def run_of(full_name: str, argc: int) -> Callable[[RunHandler], RunHandler]:
    """Bind the decorated function as the run handler of ``full_name`` called with ``argc``
    arguments, command name included.

    The connection's fast path hands it up to RUN_TIMING_MAX_CALLS consecutive calls of the
    command from one read that have the same name, key (argv[1]) and ``argc`` arguments (at
    most four: the connection checks the types of only those), while
    nothing watches calls one at a time (the gate, the slow log below 1 ms, CLIENT REPLY). It
    returns the calls' replies, exactly what they would have answered one after another, as a
    list of byte strings in order (one per call, or several replies joined into one piece), or
    None without changing anything when they must run one by one (Dragonfly "squashes"
    pipelined commands in the same spirit)."""

    def bind(run_handler: RunHandler) -> RunHandler:
        cmd = COMMANDS[full_name]
        if cmd.first_key != 1 or not cmd.fast or not 2 <= argc <= 4:
            raise RuntimeError(f"{full_name!r} cannot have a run handler for {argc} arguments")
        cmd.run_handler = run_handler
        cmd.run_argc = argc
        return run_handler

    return bind


# Server-wide conditions under which some commands must take the full gate instead of the
# connection's inline fast path (CLIENT PAUSE, later OOM checks, ...): name -> predicate.
_GATE_CONDITIONS: dict[str, Callable[[Command], bool]] = {}


def set_gate_condition(name: str, predicate: Callable[[Command], bool] | None) -> None:
    """Add (or with None remove) a server-wide gate condition and recompute every ``gated``."""
    if predicate is None:
        _GATE_CONDITIONS.pop(name, None)
    else:
        _GATE_CONDITIONS[name] = predicate
    conditions = list(_GATE_CONDITIONS.values())
    for cmd in COMMANDS.values():
        if cmd.parent is None:
            cmd.gated = cmd.subcommands is not None or any(test(cmd) for test in conditions)


def rename_command(old: str, new: str) -> None:
    """A config file's rename-command: the command answers to ``new`` instead of ``old`` (an
    empty ``new`` removes it). Its metadata, full name included, stays what it was, as in Redis.
    Process-wide, like the table itself: only the command line applies it."""
    cmd = lookup(old.encode())
    if cmd is None:
        return  # a Redis command Vermilion does not implement: nothing answers to it anyway
    for name in [name for name, entry in TABLE.items() if entry is cmd and name.lower() == old.lower().encode()]:
        del TABLE[name]
    if new:
        TABLE[new.lower().encode()] = cmd
        TABLE[new.upper().encode()] = cmd
    elif not any(entry is cmd for entry in TABLE.values()):
        del COMMANDS[cmd.full_name]


def lookup(name: bytes) -> Command | None:
    cmd = TABLE.get(name)
    if cmd is None:
        cmd = TABLE.get(name.lower())
    return cmd


def top_level() -> list[Command]:
    """Implemented top-level commands (containers count when they have a subcommand)."""
    return [c for c in COMMANDS.values() if c.parent is None]
