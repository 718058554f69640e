"""Command help, completion and inline hints, built from the server's COMMAND DOCS.

redis-cli 7.0 compiles its help table from the same command descriptions that COMMAND DOCS
reports, so reading COMMAND DOCS from the connected server gives the same entries: one per
command and one per subcommand (``CONFIG GET``), sorted by name, each with an argument synopsis
rendered from the argument tree:

* a block joins its parts with spaces, a one-of with ``|``;
* a pure token is just the token; any other argument is its name, after its token if it has one;
* ``multiple`` repeats as ``x [x ...]`` (with the token inside when it repeats too);
* ``optional`` wraps the whole in ``[...]``.

When the server cannot answer COMMAND DOCS (not connected, an older server), the descriptions
bundled with Vermilion (the same Redis 7.0 facts) are used instead.
"""

from __future__ import annotations

from typing import Any

from . import resp
from .resp import Reply
from .sds import split_args

HELP_COMMAND = 1
HELP_GROUP = 2


class CommandHelp:
    __slots__ = ("name", "params", "summary", "since", "group")

    def __init__(self, name: str, params: str, summary: str, since: str, group: str) -> None:
        self.name = name
        self.params = params
        self.summary = summary
        self.since = since
        self.group = group


class HelpEntry:
    __slots__ = ("kind", "argv", "full", "help")

    def __init__(self, kind: int, full: str, command_help: CommandHelp | None = None) -> None:
        self.kind = kind
        self.full = full
        self.argv = full.split(" ") if kind == HELP_COMMAND else [full]
        self.help = command_help


# -- turning a COMMAND DOCS reply (RESP2 or RESP3) or the bundled JSON into plain Python --------


def reply_value(reply: Reply) -> Any:
    """Plain Python from a reply: maps become lists of pairs, strings ``str``."""
    kind = reply.type
    if kind in (resp.STRING, resp.STATUS, resp.VERB):
        return reply.str.decode("utf-8", "replace")
    if kind in (resp.INTEGER, resp.BOOL):
        return reply.integer
    if kind == resp.MAP:
        items = reply.elements
        return {"%": [(reply_value(items[i]), reply_value(items[i + 1])) for i in range(0, len(items), 2)]}
    if kind in (resp.ARRAY, resp.SET, resp.PUSH):
        return [reply_value(element) for element in reply.elements]
    return None


def _as_dict(value: Any) -> dict:
    """A map, whether it came as a RESP3 map, a RESP2 flat array or a bundled JSON map."""
    if isinstance(value, dict):
        if "%" in value:
            return {key: item for key, item in value["%"]}
        return value
    if isinstance(value, list):
        return {value[i]: value[i + 1] for i in range(0, len(value) - 1, 2)}
    return {}


def _as_list(value: Any) -> list:
    if isinstance(value, dict) and "~" in value:
        return value["~"]
    return value if isinstance(value, list) else []


def _flag_names(value: Any) -> set[str]:
    names = set()
    for flag in _as_list(value):
        if isinstance(flag, dict) and "+" in flag:
            flag = flag["+"]
        names.add(str(flag))
    return names


def render_argument(argument: Any) -> str | None:
    """One argument of the synopsis (see the module docstring)."""
    arg = _as_dict(argument)
    kind = arg.get("type")
    if kind == "block":
        name = " ".join(part for part in map(render_argument, _as_list(arg.get("arguments"))) if part is not None)
    elif kind == "oneof":
        name = "|".join(part for part in map(render_argument, _as_list(arg.get("arguments"))) if part is not None)
    elif kind == "pure-token":
        name = None
    else:
        name = arg.get("name")
    flags = _flag_names(arg.get("flags"))
    token = arg.get("token")
    if kind == "pure-token" and token == "":
        token = '""'  # the empty-string literal (MIGRATE's key placeholder)
    if "multiple" in flags:
        if "multiple_token" in flags:
            name = f"{name} [{token} {name} ...]"
        else:
            name = f"{name} [{name} ...]"
    if token:
        name = token if name is None else f"{token} {name}"
    if "optional" in flags:
        name = f"[{name}]"
    return name


def render_params(docs: dict) -> str:
    parts = (render_argument(argument) for argument in _as_list(docs.get("arguments")))
    return " ".join(part for part in parts if part is not None)


def entries_from_docs(all_docs: dict[str, Any]) -> list[HelpEntry]:
    """Help entries from ``{command name: docs}``: groups first (sorted), then commands and
    subcommands sorted by name."""
    commands: list[CommandHelp] = []

    def add(name: str, raw_docs: Any) -> None:
        docs = _as_dict(raw_docs)
        full = name.replace("|", " ").upper()
        commands.append(
            CommandHelp(full, render_params(docs), str(docs.get("summary", "")),
                        str(docs.get("since", "")), str(docs.get("group", "")))
        )
        for sub_name, sub_docs in _as_dict(docs.get("subcommands")).items():
            add(sub_name, sub_docs)

    for name, docs in all_docs.items():
        add(name, docs)
    commands.sort(key=lambda help_: help_.name)
    groups = sorted({help_.group for help_ in commands if help_.group})
    entries = [HelpEntry(HELP_GROUP, "@" + group) for group in groups]
    entries.extend(HelpEntry(HELP_COMMAND, help_.name, help_) for help_ in commands)
    return entries


def docs_from_reply(reply: Reply) -> dict[str, Any] | None:
    if reply.type not in (resp.ARRAY, resp.MAP) or not reply.elements:
        return None
    return {str(name).lower(): docs for name, docs in _as_dict(reply_value(reply)).items()}


def bundled_docs() -> dict[str, Any]:
    """The Redis 7.0 command descriptions shipped in vermilion/commands/meta."""
    try:
        from ..registry import META
    except Exception:  # the tools must work even if the server package is broken mid-edit
        return {}
    return {name: entry["docs"] for name, entry in META.items()}


class HelpTable:
    """The help entries plus the queries the REPL needs."""

    def __init__(self, entries: list[HelpEntry]) -> None:
        self.entries = entries
        self.groups = [entry.full[1:] for entry in entries if entry.kind == HELP_GROUP]

    @classmethod
    def from_server(cls, call) -> HelpTable:
        """``call(*args) -> Reply`` talks to the server; bundled docs when that fails."""
        docs = None
        if call is not None:
            try:
                docs = docs_from_reply(call("COMMAND", "DOCS"))
            except Exception:
                docs = None
        return cls(entries_from_docs(docs if docs else bundled_docs()))

    # -- help output --------------------------------------------------------------------------

    @staticmethod
    def _command_help(help_: CommandHelp, show_group: bool) -> str:
        out = f"\r\n  \x1b[1m{help_.name}\x1b[0m \x1b[90m{help_.params}\x1b[0m\r\n"
        out += f"  \x1b[33msummary:\x1b[0m {help_.summary}\r\n"
        out += f"  \x1b[33msince:\x1b[0m {help_.since}\r\n"
        if show_group:
            out += f"  \x1b[33mgroup:\x1b[0m {help_.group}\r\n"
        return out

    def help_text(self, args: list[str]) -> str:
        """``help @group`` or ``help COMMAND [SUBCOMMAND]`` (args exclude the word help)."""
        group = None
        if args[0].startswith("@"):
            wanted = args[0][1:].lower()
            for name in self.groups:
                if name.lower() == wanted:
                    group = name
                    break
        out = []
        for entry in self.entries:
            if entry.kind != HELP_COMMAND:
                continue
            if group is None:
                if len(args) <= len(entry.argv) and all(
                    a.lower() == b.lower() for a, b in zip(args, entry.argv)
                ):
                    out.append(self._command_help(entry.help, True))
            elif entry.help.group == group:
                out.append(self._command_help(entry.help, False))
        out.append("\r\n")
        return "".join(out)

    # -- completion and hints ------------------------------------------------------------------

    def completions(self, line: str) -> list[str]:
        """Candidates for Tab: whole lines, in table order (linenoise cycles through them)."""
        start = 0
        mask = HELP_COMMAND
        if line[:5].lower() == "help ":
            start = 5
            while start < len(line) and line[start].isspace():
                start += 1
            mask = HELP_COMMAND | HELP_GROUP
        typed = line[start:].lower()
        head = line[:start]
        return [head + entry.full for entry in self.entries
                if entry.kind & mask and entry.full.lower().startswith(typed)]

    def hint(self, line: str) -> str | None:
        """The grey synopsis shown after what was typed: the longest command or subcommand the
        line starts with, minus the arguments already typed (stopping at the first optional)."""
        args = split_args(line.encode("utf-8", "surrogateescape"))
        if not args:
            return None
        words = [arg.decode("utf-8", "replace").lower() for arg in args]
        best = None
        best_len = 0
        for entry in self.entries:
            if entry.kind != HELP_COMMAND:
                continue
            size = len(entry.argv)
            if size <= len(words) and size > best_len and all(
                entry.argv[j].lower() == words[j] for j in range(size)
            ):
                best, best_len = entry, size
        if best is None:
            return None
        hint = best.help.params
        to_remove = len(words) - best_len
        pos = 0
        while to_remove > 0 and pos < len(hint):
            if hint[pos] == "[":
                break
            if hint[pos] == " ":
                to_remove -= 1
            pos += 1
        hint = hint[pos:]
        if not (line and line[-1].isspace()):
            hint = " " + hint
        return hint
