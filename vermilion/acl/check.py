"""Whether a user may run a command with these arguments (Redis's ACLCheckAllUserCommandPerm).

A command is allowed when one of the user's selectors allows the command itself (its bit, or an
allowed first argument), every key it names (through the command's key specs, with the read or
write access the spec declares) and every channel it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import keyspecs
from . import table
from .table import FUTURE_BIT
from .user import READ, WRITE, User

if TYPE_CHECKING:
    from ..registry import Command

# Results, ordered as Redis orders them when it picks which denial to report.
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4

# Commands whose arguments are channels: name -> (first channel, only one?, literal match?)
_CHANNEL_COMMANDS = {
    "publish": (True, False),
    "spublish": (True, False),
    "subscribe": (False, False),
    "ssubscribe": (False, False),
    "psubscribe": (False, True),
}

_WRITE_FLAGS = frozenset({"insert", "delete", "update"})
# key-spec flags -> the permission bits a key with them needs (few distinct sets exist)
_NEEDED: dict[frozenset, int] = {}


def _key_permission(flags: frozenset[str]) -> int:
    needed = _NEEDED.get(flags)
    if needed is None:
        needed = READ if "access" in flags else 0
        if not flags.isdisjoint(_WRITE_FLAGS):
            needed |= WRITE
        _NEEDED[flags] = needed
    return needed


def _channel_allowed(channels: list[bytes], channel: bytes, literal: bool) -> bool:
    from .. import glob

    for pattern in channels:
        if literal:
            if pattern.split(b"\0", 1)[0] == channel.split(b"\0", 1)[0]:
                return True
        elif glob.match(pattern, channel):
            return True
    return False


class _Plan:
    """What the check needs to know about a command, worked out once per Command."""

    __slots__ = ("bit", "acl_id", "parent", "no_auth", "has_keys", "channels")

    def __init__(self, cmd: Command) -> None:
        acl_cmd = table.for_command(cmd.full_name)
        # Commands newer than Redis 7.0 are "future commands": allowed by +@all only.
        self.bit = acl_cmd.bit if acl_cmd is not None else FUTURE_BIT
        self.acl_id = acl_cmd.id if acl_cmd is not None else -1
        self.parent = cmd.parent is not None
        self.no_auth = cmd.no_auth
        self.has_keys = keyspecs.has_keys(cmd)
        self.channels = _CHANNEL_COMMANDS.get(cmd.full_name)


_PLANS: dict[Command, _Plan] = {}


def check(user: User, cmd: Command, argv: list) -> tuple[int, int]:
    """(result, position of the denied argument) for ``user`` running ``argv``."""
    plan = _PLANS.get(cmd)
    if plan is None:
        plan = _PLANS[cmd] = _Plan(cmd)
    keys = None
    worst, worst_at = DENIED_CMD, 0
    for selector in user.selectors:
        if not selector.allowed & plan.bit and not selector.all_commands and not plan.no_auth:
            first_args = selector.first_args.get(plan.acl_id)
            position = 2 if plan.parent else 1
            if not first_args or len(argv) <= position:
                continue  # DENIED_CMD, the least relevant denial
            given = argv[position].split(b"\0", 1)[0].lower()
            if all(allowed.lower() != given for allowed in first_args):
                continue
        result = OK
        if plan.has_keys and not selector.all_keys:
            if keys is None:
                keys = keyspecs.get_keys(cmd, argv)
            patterns = selector.patterns
            for position, flags in keys:
                needed = _key_permission(flags)
                key = argv[position]
                for pattern in patterns:
                    if pattern.flags & needed == needed and pattern.matches(key):
                        break
                else:
                    result, at = DENIED_KEY, position
                    break
        if result == OK and plan.channels is not None and not selector.all_channels:
            only_first, literal = plan.channels
            last = 2 if only_first else len(argv)
            for position in range(1, last):
                if not _channel_allowed(selector.channels, argv[position], literal):
                    result, at = DENIED_CHANNEL, position
                    break
        if result == OK:
            return OK, 0
        if result > worst or (result == worst and at > worst_at):
            worst, worst_at = result, at
    return worst, worst_at


def may_use_channel(user: User, channel: bytes, literal: bool) -> bool:
    """Redis's ACLUserCheckChannelPerm."""
    for selector in user.selectors:
        if selector.all_channels or _channel_allowed(selector.channels, channel, literal):
            return True
    return False
