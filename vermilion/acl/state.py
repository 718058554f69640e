"""The server's ACL state: users, authentication, the ACL log, and the ACL file.

Connections name their user in ``client.user`` (the name, for CLIENT LIST and CLIENT KILL) and,
while the user has any restriction, hold the User object in ``client.acl_user``: that keeps the
client on the gated path, where ``dispatch.execute`` asks ``gate()``. A user with every permission
(the default user, normally) costs connections nothing.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ..resp.encode import bulk, integer, map_
from . import check as acl_check
from .user import UNKNOWN, RuleError, User, has_spaces, merge_selector_args

if TYPE_CHECKING:
    from ..connection import Client
    from ..registry import Command
    from ..server import Server

CONTEXT_TOPLEVEL, CONTEXT_MULTI, CONTEXT_LUA = "toplevel", "multi", "lua"
_REASONS = {
    acl_check.DENIED_CMD: "command",
    acl_check.DENIED_KEY: "key",
    acl_check.DENIED_AUTH: "auth",
    acl_check.DENIED_CHANNEL: "channel",
}
# Entries this close in time (ms) with the same reason, context, object and user are one entry.
_GROUPING_MS = 60000

NOPERM_KEYS = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNELS = "NOPERM this user has no permissions to access one of the channels used as arguments"
NO_ACL_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users "
    "via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
    "configuration file set) in order to store users in the Redis configuration."
)
SAVE_FAILED = ("ERR There was an error trying to save the ACLs. Please check the server logs for "
               "more information")


def noperm_text(result: int, cmd: Command) -> str:
    """The error a client gets for a denied command (Redis's processCommand)."""
    if result == acl_check.DENIED_CMD:
        return f"NOPERM this user has no permissions to run the '{cmd.full_name}' command"
    if result == acl_check.DENIED_KEY:
        return NOPERM_KEYS
    return NOPERM_CHANNELS


def script_denial_text(result: int) -> bytes:
    """The error redis.call raises for a denied command (without the ERR prefix)."""
    if result == acl_check.DENIED_CMD:
        reason = b"can't run this command or subcommand"
    elif result == acl_check.DENIED_KEY:
        reason = b"can't access at least one of the keys mentioned in the command arguments"
    else:
        reason = b"can't publish to the channel mentioned in the command"
    return b"The user executing the script " + reason


def exec_denial_text(result: int) -> str:
    """The error EXEC gives a queued command the user may no longer run."""
    if result == acl_check.DENIED_CMD:
        reason = "no permission to execute the command or subcommand"
    elif result == acl_check.DENIED_KEY:
        reason = "no permission to touch the specified keys"
    else:
        reason = "no permission to access one of the channels used as arguments"
    return ("NOPERM ACLs rules changed between the moment the transaction was accumulated and "
            "the EXEC call. This command is no longer allowed for the following reason: " + reason)


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "created_ms", "client_info")

    def __init__(self, reason: str, context: str, obj: bytes, username: bytes, client_info: str) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.created_ms = int(time.time() * 1000)
        self.client_info = client_info

    def encode(self, now_ms: int, resp3: bool) -> bytes:
        age = b"%.17g" % ((now_ms - self.created_ms) / 1000)
        pairs = [
            (b"$5\r\ncount\r\n", integer(self.count)),
            (b"$6\r\nreason\r\n", bulk(self.reason.encode())),
            (b"$7\r\ncontext\r\n", bulk(self.context.encode())),
            (b"$6\r\nobject\r\n", bulk(self.object)),
            (b"$8\r\nusername\r\n", bulk(self.username)),
            (b"$11\r\nage-seconds\r\n", b"," + age + b"\r\n" if resp3 else bulk(age)),
            (b"$11\r\nclient-info\r\n", bulk(self.client_info.encode("latin-1", "replace"))),
        ]
        return map_(pairs, resp3)


def _user_name(client: Client) -> bytes:
    return client.user.encode("latin-1")


class AclState:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.users: dict[bytes, User] = {}
        self.default = self.create_default_user()
        self.users[b"default"] = self.default
        # The default user when it has restrictions (new connections start checked), else None.
        self.restricted_default: User | None = None
        self.log: list[LogEntry] = []
        password = server.config.requirepass
        if password:
            self.set_default_password(password)
        # CONFIG REWRITE writes the users as this state describes them.
        server.config.describe_users = lambda config: self.config_user_lines()

    # -- users ---------------------------------------------------------------------------------

    def all_channels_default(self) -> bool:
        return self.server.config.acl_pubsub_default == "allchannels"

    def new_user(self, name: bytes) -> User:
        return User(name, self.all_channels_default())

    def create_default_user(self) -> User:
        user = User(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(op, False)
        return user

    def set_default_password(self, password: Any) -> None:
        """requirepass: the default user's only password (none: nopass)."""
        if isinstance(password, str):
            password = password.encode("utf-8", "surrogateescape")
        self.default.apply(b"resetpass", False)
        self.default.apply(b">" + password if password else b"nopass", False)

    def auth_required_by_default(self) -> bool:
        """Whether a new connection must authenticate (Redis's authRequired for a new client)."""
        default = self.default
        return not default.nopass or not default.enabled

    def apply_rules(self, user: User, ops: list[bytes]) -> None:
        all_channels = self.all_channels_default()
        for op in ops:
            user.apply(op, all_channels)

    def users_changed(self) -> None:
        """Recompute which connections need checks (after any change to users)."""
        default = self.default
        self.restricted_default = None if default.unrestricted() else default
        users = self.users
        for client in list(self.server.clients.values()):
            user = users.get(_user_name(client))
            self.attach(client, user)

    def attach(self, client: Client, user: User | None) -> None:
        client.acl_user = None if user is None or user.unrestricted() else user
        client.update_gate()

    def user_of(self, client: Client) -> User | None:
        return self.users.get(_user_name(client))

    def kill_clients_of(self, names: set[bytes], current: Client | None) -> None:
        """Disconnect the connections authenticated as these users (deleted or replaced)."""
        server = self.server
        for client in list(server.clients.values()):
            if _user_name(client) not in names:
                continue
            # Put back as an unauthenticated default connection until it is gone, as Redis does.
            client.user = "default"
            client.auth_required = True
            client.acl_user = None
            client.update_gate()
            if client is current:
                client.close_after_reply()
            else:
                server.clients.pop(client.id, None)
                client.close()

    def kill_pubsub_clients_if_needed(self, new: User, original: User) -> None:
        """After SETUSER: subscribers of ``original`` that the new channel rules no longer allow
        are disconnected (Redis's ACLKillPubsubClientsIfNeeded)."""
        if any(selector.all_channels for selector in new.selectors):
            return
        upcoming = [channel for selector in new.selectors for channel in selector.channels]
        if all(channel in upcoming for selector in original.selectors for channel in selector.channels):
            return
        server = self.server
        for client in list(server.clients.values()):
            if _user_name(client) != original.name or client.subscriptions is None:
                continue
            if _violates(client.subscriptions, upcoming):
                server.clients.pop(client.id, None)
                client.close()

    # -- authentication --------------------------------------------------------------------------

    def authenticate(self, client: Client, username: bytes, password: bytes, command_name: bytes) -> bool:
        """Log ``client`` in as ``username``; a failure is logged under ``command_name`` (the
        AUTH or HELLO as the client wrote it)."""
        user = self.users.get(username)
        if user is None or not user.check_password(password):
            self.add_log(client, acl_check.DENIED_AUTH, self.context_of(client),
                         obj=command_name, username=username)
            return False
        client.user = username.decode("latin-1")
        client.auth_required = False
        self.attach(client, user)
        return True

    # -- the gate ------------------------------------------------------------------------------------

    def gate(self, client: Client, cmd: Command, argv: list) -> str | None:
        """None when ``client`` may run ``argv``; else the error (the denial is logged)."""
        user = client.acl_user
        result, position = acl_check.check(user, cmd, argv)
        if result == acl_check.OK:
            return None
        client.current_command = cmd
        self.log_denial(client, result, position, cmd, argv, self.context_of(client), user.name)
        return noperm_text(result, cmd)

    def exec_check(self, client: Client, cmd: Command, argv: list) -> str | None:
        """EXEC's second look at a queued command: None, or the error that replaces its reply."""
        user = client.acl_user
        result, position = acl_check.check(user, cmd, argv)
        if result == acl_check.OK:
            return None
        from ..registry import COMMANDS

        # The log's client description names EXEC, the command the client is running.
        running = client.current_command
        client.current_command = COMMANDS.get("exec", running)
        self.log_denial(client, result, position, cmd, argv, CONTEXT_MULTI, user.name)
        client.current_command = running
        return exec_denial_text(result)

    def script_check(self, script_client: Client, caller: Client, cmd: Command, argv: list) -> bytes | None:
        """A command a script calls: None, or the error message (without ERR) redis.call raises."""
        user = script_client.acl_user
        result, position = acl_check.check(user, cmd, argv)
        if result == acl_check.OK:
            return None
        self.log_denial(caller, result, position, cmd, argv, CONTEXT_LUA, user.name)
        return script_denial_text(result)

    def context_of(self, client: Client) -> str:
        return CONTEXT_MULTI if client.multi is not None else CONTEXT_TOPLEVEL

    # -- the log -------------------------------------------------------------------------------------

    def log_denial(self, client: Client, result: int, position: int, cmd: Command, argv: list,
                   context: str, username: bytes) -> None:
        obj = cmd.full_name.encode() if result == acl_check.DENIED_CMD else argv[position]
        self.add_log(client, result, context, obj=obj, username=username)

    def add_log(self, client: Client, result: int, context: str, obj: bytes, username: bytes) -> None:
        from ..info import client_info_line

        entry = LogEntry(_REASONS[result], context, obj, username, client_info_line(client))
        log = self.log
        for index, current in enumerate(log[:10]):
            if (current.reason == entry.reason and current.context == entry.context
                    and abs(current.created_ms - entry.created_ms) <= _GROUPING_MS
                    and current.object == entry.object and current.username == entry.username):
                del log[index]
                log.insert(0, current)
                current.client_info = entry.client_info
                current.created_ms = entry.created_ms
                current.count += 1
                return
        log.insert(0, entry)
        limit = self.server.config.acllog_max_len
        if len(log) > limit:
            del log[limit:]

    # -- the ACL file ----------------------------------------------------------------------------------

    def load_file(self, path: str, current: Client | None) -> str | None:
        """ACL LOAD: replace every user with the file's; None, or the errors (nothing changed)."""
        try:
            with open(os.fsencode(path), "rb") as handle:
                content = handle.read()
        except OSError as exc:
            return f"Error loading ACLs, opening file '{path}': {os.strerror(exc.errno or 0)}"
        content = content.split(b"\0", 1)[0]
        problems: list[str] = []
        loaded: dict[bytes, User] = {}
        all_channels = self.all_channels_default()
        for number, raw_line in enumerate(content.split(b"\n"), 1):
            line = raw_line.strip(b" \t\r\n")
            if not line:
                continue
            args = line.split(b" ")
            if args[0] != b"user" or len(args) < 2:
                problems.append(f"{path}:{number} should start with user keyword followed by the username. ")
                continue
            name = args[1]
            if has_spaces(name):
                problems.append(f"'{path}:{number}: username '{_text(name)}' contains invalid characters. ")
                continue
            if name in loaded:
                problems.append(f"WARNING: Duplicate user '{_text(name)}' found on line {number}. ")
                continue
            user = User(name, all_channels)
            loaded[name] = user
            merged, _ = merge_selector_args(args[2:])
            if merged is None:
                problems.append(f"{path}:{number}: Unmatched parenthesis in selector definition.")
                continue
            syntax_error = False
            for op in merged:
                op = op.strip(b"\t\r\n")
                try:
                    user.apply(op, all_channels)
                except RuleError as exc:
                    reason = exc.args[0]
                    if reason == UNKNOWN:
                        # Unknown names are all reported (they reveal nothing secret)...
                        problems.append(f"{path}:{number}: Error in applying operation '{_text(op)}': {reason}. ")
                    elif not syntax_error:
                        # ... other errors only the first of the line (it may explain the rest).
                        problems.append(f"{path}:{number}: {reason}. ")
                        syntax_error = True
        if problems:
            return "".join(problems) + (
                "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
            )
        new_default = loaded.pop(b"default", None) or self.create_default_user()
        self.default.assign(new_default)
        old_names = {name for name in self.users if name != b"default"}
        self.users = {b"default": self.default, **loaded}
        self.kill_clients_of(old_names, current)
        self.users_changed()
        return None

    def describe_all(self) -> list[bytes]:
        """ "user <name> <rules>" for every user, in name order (ACL LIST, ACL SAVE)."""
        return [b"user " + name + b" " + self.users[name].describe() for name in sorted(self.users)]

    def save_file(self, path: str) -> bool:
        content = b"".join(line + b"\n" for line in self.describe_all())
        temp = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
        try:
            with open(os.fsencode(temp), "wb") as handle:
                handle.write(content)
            os.rename(os.fsencode(temp), os.fsencode(path))
        except OSError as exc:
            self.server.log("warning", f"Writing ACL file for ACL SAVE: {os.strerror(exc.errno or 0)}")
            try:
                os.unlink(os.fsencode(temp))
            except OSError:
                pass
            return False
        return True

    # -- startup ------------------------------------------------------------------------------------------

    def load_at_startup(self) -> bool:
        """Users from the config file's ``user`` lines, or the aclfile (not both). False: the
        server must exit (the reason is logged)."""
        server = self.server
        config = server.config
        if config.aclfile and config.users:
            server.log("warning",
                       "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
                       "file path is invalid. This setup is very likely to lead to configuration errors "
                       "and security holes, please define either an ACL file or declare users directly "
                       "in your redis.conf, but not both.")
            return False
        all_channels = self.all_channels_default()
        for args in config.users:
            raw = [arg.encode("utf-8", "surrogateescape") for arg in args]
            name = raw[0]
            if has_spaces(name):
                server.log("warning", "Spaces not allowed in ACL usernames")
                server.log("warning", "Critical error while loading ACLs. Exiting.")
                return False
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = User(name, all_channels)
            else:
                user.apply(b"reset", all_channels)
            merged, _ = merge_selector_args(raw[1:])
            for op in merged or []:
                try:
                    user.apply(op, all_channels)
                except RuleError as exc:
                    server.log("warning", f"Error loading ACL rule '{_text(op)}' for the user named "
                                          f"'{_text(name)}': {exc.args[0]}")
                    server.log("warning", "Critical error while loading ACLs. Exiting.")
                    return False
            if not user.enabled:
                server.log("notice", f"The user '{_text(name)}' is disabled (there is no 'on' modifier in "
                                     "the user description). Make sure this is not a configuration error.")
        if config.aclfile:
            problems = self.load_file(config.aclfile, None)
            if problems is not None:
                server.log("warning", f"Aborting Redis startup because of ACL errors: {problems}")
                return False
        self.users_changed()
        return True

    def config_user_lines(self) -> list[str]:
        """CONFIG REWRITE's user lines."""
        return [line.decode("utf-8", "surrogateescape") for line in self.describe_all()]


def _violates(subscriptions: Any, upcoming: list[bytes]) -> bool:
    patterns = getattr(subscriptions, "patterns", None) or ()
    for pattern in patterns:
        if not acl_check._channel_allowed(upcoming, pattern, True):
            return True
    for attribute in ("channels", "shard_channels"):
        for channel in getattr(subscriptions, attribute, None) or ():
            if not acl_check._channel_allowed(upcoming, channel, False):
                return True
    return False


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")
