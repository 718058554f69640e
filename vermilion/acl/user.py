"""ACL users and selectors: applying rules, and describing them back as rules.

A user has flags, password hashes and a list of selectors; the first selector is the root one
(the rules written outside parentheses). A selector holds the command bitmap (see ``table``), the
allowed first arguments of otherwise denied commands (``+select|0``), key patterns with read/write
permissions, and channel patterns. The rules and their error reasons follow Redis 7.0's
ACLSetUser / ACLSetSelector; descriptions follow ACLDescribeUser.
"""

from __future__ import annotations

import hashlib
import hmac
import string

from .. import glob
from ..resp.reader import split_args
from . import table
from .table import ALL_BITS, CATEGORIES, CATEGORY_BITS, CATEGORY_COMMANDS, CATEGORY_MASK, FUTURE_BIT

READ, WRITE = 1, 2
ALL_PERMISSIONS = READ | WRITE

# Why a rule was refused (Redis's ACLSetUserStringError texts).
SYNTAX = "Syntax error"
UNKNOWN = "Unknown command or category name in ACL"
KEYS_AFTER_ALL = (
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns"
)
CHANNELS_AFTER_ALL = (
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels"
)
NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
            "hexadecimal characters")
DUPLICATE_USER = "Duplicate user found. A user can only be defined once in config files"
FIRSTARG_OF_SUBCOMMAND = "Allowing first-arg of a subcommand is not supported"

_HEX = frozenset(string.digits + "abcdef")
_C_SPACE = frozenset(b" \t\n\v\f\r\0")


class RuleError(Exception):
    """A rule that cannot be applied; args[0] is the reason in Redis's words."""


def has_spaces(value: bytes) -> bool:
    """Redis's ACLStringHasSpaces: whitespace or NUL bytes (not allowed in names and patterns)."""
    return any(byte in _C_SPACE for byte in value)


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def _valid_hash(value: bytes) -> str:
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise RuleError(BAD_HASH) from None
    if len(text) != 64 or not set(text) <= _HEX:
        raise RuleError(BAD_HASH)
    return text


class KeyPattern:
    __slots__ = ("pattern", "flags", "matches")

    def __init__(self, pattern: bytes, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags
        self.matches = glob.compile(pattern)

    def describe(self) -> bytes:
        prefix = b"~" if self.flags == ALL_PERMISSIONS else (b"%R~" if self.flags == READ else b"%W~")
        return prefix + self.pattern


class Selector:
    """Commands, keys and channels one set of rules allows."""

    __slots__ = ("root", "all_keys", "all_channels", "all_commands", "allowed", "first_args",
                 "patterns", "channels")

    def __init__(self, root: bool, all_channels: bool) -> None:
        self.root = root
        self.all_keys = False
        self.all_channels = all_channels
        self.all_commands = False
        self.allowed = 0
        # command id -> allowed first arguments (lower-cased for comparison, original kept)
        self.first_args: dict[int, list[bytes]] = {}
        self.patterns: list[KeyPattern] = []
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        other = Selector(self.root, self.all_channels)
        other.all_keys = self.all_keys
        other.all_commands = self.all_commands
        other.allowed = self.allowed
        other.first_args = {cid: list(args) for cid, args in self.first_args.items()}
        other.patterns = [KeyPattern(p.pattern, p.flags) for p in self.patterns]
        other.channels = list(self.channels)
        return other

    # -- rules ------------------------------------------------------------------------------

    def apply(self, op: bytes) -> None:
        """Apply one selector rule; RuleError when it is not valid."""
        lowered = op.lower()
        if lowered in (b"allkeys", b"~*"):
            self.all_keys = True
            self.patterns = []
        elif lowered == b"resetkeys":
            self.all_keys = False
            self.patterns = []
        elif lowered in (b"allchannels", b"&*"):
            self.all_channels = True
            self.channels = []
        elif lowered == b"resetchannels":
            self.all_channels = False
            self.channels = []
        elif lowered in (b"allcommands", b"+@all"):
            self.allowed = ALL_BITS
            self.all_commands = True
            self.first_args = {}
        elif lowered in (b"nocommands", b"-@all"):
            self.allowed = 0
            self.all_commands = False
            self.first_args = {}
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.all_channels:
                raise RuleError(CHANNELS_AFTER_ALL)
            pattern = op[1:]
            if has_spaces(pattern):
                raise RuleError(SYNTAX)
            if pattern not in self.channels:
                self.channels.append(pattern)
            self.all_channels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = table.lookup(op[1:])
            if cmd is None:
                raise RuleError(UNKNOWN)
            self.change(cmd, False)
        elif op[:1] in (b"+", b"-"):
            category = table.category_of(op[2:])
            if category is None:
                raise RuleError(UNKNOWN)
            self.set_category(category, op[:1] == b"+")
        else:
            raise RuleError(SYNTAX)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.all_keys:
            raise RuleError(KEYS_AFTER_ALL)
        flags = 0
        offset = 1
        if op[:1] == b"%":
            while offset < len(op):
                char = op[offset:offset + 1].upper()
                if char == b"R" and not flags & READ:
                    flags |= READ
                elif char == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif char == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(SYNTAX)
                offset += 1
            if not flags:
                # Redis would store a pattern granting nothing and then abort describing it.
                raise RuleError(SYNTAX)
        else:
            flags = ALL_PERMISSIONS
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError(SYNTAX)
        for existing in self.patterns:
            if existing.pattern == pattern:
                existing.flags |= flags
                break
        else:
            self.patterns.append(KeyPattern(pattern, flags))
        self.all_keys = False

    def _allow_command(self, name: bytes) -> None:
        bar = name.rfind(b"|")
        if bar < 0:
            cmd = table.lookup(name)
            if cmd is None:
                raise RuleError(UNKNOWN)
            self.change(cmd, True)
            return
        cmd = table.lookup(name[:bar])
        if cmd is None:
            raise RuleError(UNKNOWN)
        if cmd.parent is not None:
            raise RuleError(FIRSTARG_OF_SUBCOMMAND)
        first_arg = name[bar + 1:].split(b"\0", 1)[0]
        if not first_arg:
            raise RuleError(SYNTAX)
        if cmd.subcommands is not None:
            sub = table.lookup(name)
            if sub is None:
                raise RuleError(UNKNOWN)
            self.change(sub, True)
            return
        # "+select|0": SELECT stays denied except with this first argument.
        allowed = self.first_args.setdefault(cmd.id, [])
        if all(existing.lower() != first_arg.lower() for existing in allowed):
            allowed.append(first_arg)

    def change(self, cmd: table.AclCommand, allow: bool) -> None:
        """Allow or deny a command and, for a container, all its subcommands."""
        if allow:
            self.allowed |= cmd.change_mask
        else:
            self.allowed &= ~cmd.change_mask
            self.all_commands = False
        self.first_args.pop(cmd.id, None)

    def set_category(self, category: str, allow: bool) -> None:
        if allow:
            self.allowed |= CATEGORY_MASK[category]
        else:
            self.allowed &= ~CATEGORY_MASK[category]
            self.all_commands = False
        if self.first_args:
            for cmd in CATEGORY_COMMANDS[category]:
                self.first_args.pop(cmd.id, None)

    # -- descriptions -----------------------------------------------------------------------

    def describe_commands(self) -> bytes:
        """The command rules that rebuild this bitmap: +@all or -@all, the categories that fit
        best, then single commands (Redis's ACLDescribeSelectorCommandRules)."""
        allowed = self.allowed
        additive = not allowed & FUTURE_BIT
        rules = [b"-@all" if additive else b"+@all"]
        fake = 0 if additive else ALL_BITS
        # What is left to explain: categories are tried against it, best fit first.
        remaining = allowed
        applied: set[str] = set()
        while True:
            best = None
            min_diff = 2**31
            max_same = 0
            for category in CATEGORIES:
                if category in applied:
                    continue
                bits = CATEGORY_BITS[category]
                on = (remaining & bits).bit_count()
                off = bits.bit_count() - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < min_diff or (diff == min_diff and same > max_same)):
                    best, min_diff, max_same = category, diff, same
            if best is None:
                break
            mask = CATEGORY_MASK[best]
            if additive:
                fake |= mask
                remaining &= ~mask
            else:
                fake &= ~mask
                remaining |= mask
            rules.append((b"+@" if additive else b"-@") + best.encode())
            applied.add(best)
        for cmd in table.COMMANDS:
            user_bit = allowed & cmd.bit
            if user_bit != fake & cmd.bit:
                rules.append((b"+" if user_bit else b"-") + cmd.full_name.encode())
                if user_bit:
                    fake |= cmd.change_mask
                else:
                    fake &= ~cmd.change_mask
            if not user_bit:
                for first_arg in self.first_args.get(cmd.id, ()):
                    rules.append(b"+" + cmd.full_name.encode() + b"|" + first_arg)
        return b" ".join(rules)

    def describe_keys(self) -> bytes:
        if self.all_keys:
            return b"~*"
        return b" ".join(pattern.describe() for pattern in self.patterns)

    def describe_channels(self) -> bytes:
        if self.all_channels:
            return b"&*"
        return b" ".join(b"&" + channel for channel in self.channels)

    def describe(self) -> bytes:
        parts = []
        if self.all_keys:
            parts.append(b"~*")
        else:
            parts.extend(pattern.describe() for pattern in self.patterns)
        if self.all_channels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts.extend(b"&" + channel for channel in self.channels)
        parts.append(self.describe_commands())
        return b" ".join(parts)

    def unrestricted(self) -> bool:
        # Every bit set (the future-commands one included) allows everything, whether or not the
        # allcommands flag survived ("+@all -get +get" leaves it off).
        return self.allowed == ALL_BITS and self.all_keys and self.all_channels


class User:
    """An ACL user. Changes are applied to a copy first, then copied back (``assign``), so a
    rejected SETUSER changes nothing and connections keep their reference to the same object."""

    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors")

    def __init__(self, name: bytes, all_channels_default: bool = False) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        # "" (neither flag), "sanitize-payload" or "skip-sanitize-payload"
        self.sanitize = ""
        self.passwords: list[str] = []
        self.selectors = [Selector(True, all_channels_default)]

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy(self, name: bytes | None = None) -> User:
        other = User(self.name if name is None else name)
        other.assign(self)
        return other

    def assign(self, source: User) -> None:
        """Take every rule of ``source`` (not its name): Redis's ACLCopyUser."""
        self.enabled = source.enabled
        self.nopass = source.nopass
        self.sanitize = source.sanitize
        self.passwords = list(source.passwords)
        self.selectors = [selector.copy() for selector in source.selectors]

    def apply(self, op: bytes, all_channels_default: bool) -> None:
        """Apply one rule (Redis's ACLSetUser); RuleError when it is not valid."""
        if not op:
            return
        lowered = op.lower()
        if lowered == b"on":
            self.enabled = True
        elif lowered == b"off":
            self.enabled = False
        elif lowered == b"skip-sanitize-payload":
            self.sanitize = "skip-sanitize-payload"
        elif lowered == b"sanitize-payload":
            self.sanitize = "sanitize-payload"
        elif lowered == b"nopass":
            self.nopass = True
            self.passwords = []
        elif lowered == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else _valid_hash(op[1:])
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else _valid_hash(op[1:])
            if digest not in self.passwords:
                raise RuleError(NO_SUCH_PASSWORD)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector(False, all_channels_default)
            for inner in split_args(op[1:-1]) or []:
                selector.apply(inner)
            self.selectors.append(selector)
        elif lowered == b"clearselectors":
            del self.selectors[1:]
        elif lowered == b"reset":
            self.nopass = False
            self.passwords = []
            root = self.root
            root.apply(b"resetkeys")
            root.apply(b"resetchannels")
            if all_channels_default:
                root.apply(b"allchannels")
            self.enabled = False
            self.sanitize = "sanitize-payload"
            del self.selectors[1:]
            root.apply(b"-@all")
        else:
            self.root.apply(op)

    def check_password(self, password: bytes) -> bool:
        if not self.enabled:
            return False
        if self.nopass:
            return True
        digest = hash_password(password)
        found = False
        for stored in self.passwords:
            # Every stored hash is compared, in constant time, whatever matched before.
            found |= hmac.compare_digest(stored, digest)
        return found

    def flag_names(self) -> list[str]:
        names = ["on" if self.enabled else "off"]
        if self.nopass:
            names.append("nopass")
        if self.sanitize:
            names.append(self.sanitize)
        return names

    def describe(self) -> bytes:
        """The rules of ACL LIST and the ACL file, after "user <name> "."""
        parts = [name.encode() for name in self.flag_names()]
        parts.extend(b"#" + digest.encode() for digest in self.passwords)
        text = b" ".join(parts + [self.root.describe()])
        for selector in self.selectors[1:]:
            text += b" (" + selector.describe() + b")"
        return text

    def unrestricted(self) -> bool:
        """True when no command, key or channel is denied: connections skip the checks."""
        return len(self.selectors) == 1 and self.root.unrestricted()


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes] | None, int]:
    """Join selectors written over several arguments ("(~a*", "+get)") into one argument, as
    Redis's ACLMergeSelectorArguments. Returns (merged, -1), or (None, index of the argument
    that opened an unclosed selector)."""
    merged: list[bytes] = []
    open_at = -1
    selector = b""
    for index, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            selector = op
            open_at = index
            continue
        if open_at != -1:
            selector += b" " + op
            if op[-1:] == b")":
                open_at = -1
                merged.append(selector)
            continue
        merged.append(op)
    if open_at != -1:
        return None, open_at
    return merged, -1


def user_directive_error(args: list[bytes]) -> str | None:
    """Why a config file's ``user <name> <rules...>`` line is invalid, in Redis's words (None: it
    is valid). Unknown command names are let through here, as Redis does: they are reported
    when the users are loaded. Redis names the culprit by an index into the rules looked up in
    the whole line, so the word it quotes is two places before the bad rule; so does this."""
    line = [b"user", *args]
    merged, open_at = merge_selector_args(args[1:])
    if merged is None:
        return f"Error in user declaration '{_word(line[open_at])}': {UNKNOWN}"
    user = User(args[0])
    for index, op in enumerate(merged):
        try:
            user.apply(op, False)
        except RuleError as exc:
            if exc.args[0] != UNKNOWN:
                return f"Error in user declaration '{_word(line[index])}': {exc.args[0]}"
    return None


def _word(value: bytes) -> str:
    return value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
