"""The commands and categories ACL rules talk about, with their permission bits.

ACL rules are about every command Redis 7.0 knows (its original command table), not only the ones
Vermilion implements, so that ``+@read`` or ``-config|set`` mean the same set of commands as in
Redis and ACL LIST describes users with the same categories. The table is built from the command
metadata, leaving out ``extensions.json`` (subcommands newer than Redis 7.0).

Each command and subcommand has a bit in a selector's bitmap (a Python int). Bit ``FUTURE_BIT``
stands for commands not in the table, as Redis's reserved last bit does: only ``+@all`` sets it.
"""

from __future__ import annotations

import json

from ..registry import META_DIR

# Redis's category order: ACL CAT lists them in it and ACL LIST's description tries them in it.
CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
    "connection", "transaction", "scripting",
)
CATEGORY_INDEX = {name: index for index, name in enumerate(CATEGORIES)}

FUTURE_BIT = 1 << 1023
ALL_BITS = (1 << 1024) - 1


class AclCommand:
    """One command or subcommand as ACL rules see it."""

    __slots__ = ("full_name", "id", "bit", "categories", "parent", "subcommands", "change_mask",
                 "no_auth")

    def __init__(self, full_name: str, command_id: int, categories: frozenset[str],
                 parent: AclCommand | None, no_auth: bool) -> None:
        self.full_name = full_name
        self.id = command_id
        self.bit = 1 << command_id
        self.categories = categories
        self.parent = parent
        # lower-case subcommand name -> AclCommand (None: not a container)
        self.subcommands: dict[bytes, AclCommand] | None = None
        # The bits +cmd / -cmd change: the command's own and its subcommands' (Redis's
        # ACLChangeSelectorPerm).
        self.change_mask = self.bit
        self.no_auth = no_auth


def _entry_categories(info: list) -> frozenset[str]:
    return frozenset(item["+"][1:] for item in info[6]["~"])


def _entry_flags(info: list) -> frozenset[str]:
    return frozenset(item["+"] for item in info[2]["~"])


def _build() -> tuple[list[AclCommand], dict[bytes, AclCommand]]:
    commands: list[AclCommand] = []
    top: dict[bytes, AclCommand] = {}
    for path in sorted(META_DIR.glob("*.json")):
        if path.name == "extensions.json":
            continue
        for name, entry in json.loads(path.read_text()).items():
            if "|" in name:
                continue
            info = entry["info"]
            cmd = AclCommand(name, len(commands), _entry_categories(info), None,
                             "no_auth" in _entry_flags(info))
            commands.append(cmd)
            top[name.encode()] = cmd
            subs = info[9] if isinstance(info[9], list) else []
            if subs:
                cmd.subcommands = {}
                for sub_info in subs:
                    sub = AclCommand(sub_info[0], len(commands), _entry_categories(sub_info), cmd,
                                     "no_auth" in _entry_flags(sub_info))
                    commands.append(sub)
                    cmd.subcommands[sub_info[0].split("|", 1)[1].encode()] = sub
                    cmd.change_mask |= sub.bit
    return commands, top


COMMANDS, TOP_LEVEL = _build()
BY_FULL_NAME: dict[str, AclCommand] = {cmd.full_name: cmd for cmd in COMMANDS}

# Per category: the commands that carry it, and the bits applying +@cat / -@cat changes.
CATEGORY_COMMANDS: dict[str, list[AclCommand]] = {name: [] for name in CATEGORIES}
CATEGORY_MASK: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
for _cmd in COMMANDS:
    for _category in _cmd.categories:
        if _category in CATEGORY_COMMANDS:
            CATEGORY_COMMANDS[_category].append(_cmd)
            CATEGORY_MASK[_category] |= _cmd.change_mask
CATEGORY_BITS: dict[str, int] = {
    name: sum(cmd.bit for cmd in cmds) for name, cmds in CATEGORY_COMMANDS.items()
}


def lookup(name: bytes) -> AclCommand | None:
    """A command by name as ACL rules write it ("get", "config|get"): Redis's
    lookupCommandBySdsLogic, case-insensitive, one level of subcommands."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = TOP_LEVEL.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    if cmd.subcommands is None:
        return None
    return cmd.subcommands.get(parts[1])


def for_command(full_name: str) -> AclCommand | None:
    """The ACL entry of an implemented command (None for commands newer than Redis 7.0)."""
    return BY_FULL_NAME.get(full_name)


def category_of(name: bytes) -> str | None:
    """A category by name, case-insensitive (strcasecmp), or None."""
    try:
        lowered = name.decode("ascii").lower()
    except UnicodeDecodeError:
        return None
    return lowered if lowered in CATEGORY_INDEX else None
