"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, HELLO, AUTH and CLIENT.

Also the state behind them that outlives one command: client names and CLIENT PAUSE (which holds
commands at the gate until the pause ends, then runs them in arrival order). Users and passwords
are vermilion.acl's: AUTH and HELLO AUTH call it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import REDIS_VERSION, errors, info
from ..blocking import UNBLOCKED
from ..connection import REPLY_OFF, REPLY_ON, REPLY_SKIP_NEXT
from ..errors import RedisError
from ..registry import Command, command, set_gate_condition
from ..resp.encode import (
    MINUS_ONE,
    OK,
    PONG,
    array,
    bulk,
    integer,
    map_,
    null,
    simple,
    verbatim,
)

if TYPE_CHECKING:
    from ..connection import Client
    from ..server import Server

# -- shared helpers ------------------------------------------------------------------------------

_INT64 = re.compile(rb"-?[1-9][0-9]{0,18}|0")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def parse_int64(value: bytes) -> int | None:
    """Redis's string2ll: an optional '-', no leading zeros, spaces or '+', within 64 bits."""
    if _INT64.fullmatch(value) is None:
        return None
    number = int(value)
    if number < _INT64_MIN or number > _INT64_MAX:
        return None
    return number


def help_reply(container: bytes, lines: list[str]) -> bytes:
    """A HELP reply: a heading naming the command, the given lines, then HELP itself."""
    heading = f"{container.decode('latin-1').upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    rows = [heading, *lines, "HELP", "    Print this help."]
    return array([simple(row) for row in rows])


def subcommand_syntax_error(argv: list) -> str:
    """Redis's reply when a subcommand is known but its arguments do not fit."""
    return errors.subcommand_syntax(argv[1], argv[0])


def _valid_client_attribute(value: bytes) -> bool:
    # CLIENT LIST splits fields on spaces: names may hold printable ASCII other than space only.
    # Redis checks the value as a C string, so it stops at a NUL byte.
    end = value.find(b"\0")
    for byte in value if end < 0 else value[:end]:
        if byte < 33 or byte > 126:
            return False
    return True


def set_client_name(client: Client, name: bytes) -> None:
    """CLIENT SETNAME and HELLO SETNAME: an empty name removes the name."""
    if name and not _valid_client_attribute(name):
        raise RedisError(errors.CLIENT_NAME_CHARS)
    client.name = name


# -- authentication ------------------------------------------------------------------------------


def authenticate(client: Client, username: bytes, password: bytes, command_name: bytes) -> bool:
    """Log ``client`` in (vermilion.acl); a failure is recorded in the ACL log."""
    return client.server.acl.authenticate(client, username, password, command_name)


def default_user_has_password(server: Server) -> bool:
    return not server.acl.default.nopass


# -- RESET hooks ------------------------------------------------------------------------------------

# Subsystems with per-client state that RESET clears (pub/sub subscriptions, tracking) append a
# function taking the client here.
RESET_HOOKS: list[Callable[[Any], None]] = []


def unwatch_all(client: Client) -> None:
    for db, key in client.watching:
        watchers = db.watched.get(key)
        if watchers and client in watchers:
            watchers.remove(client)
            if not watchers:
                del db.watched[key]
    client.watching = []
    client.watch_dirty = False


def reset_connection(client: Client) -> None:
    """RESET: the connection as it was when it was opened (Redis's clearClientConnectionState)."""
    server = client.server
    for hook in RESET_HOOKS:
        hook(client)
    client.db = server.dbs[0]
    client.resp3 = False
    client.user = "default"
    client.auth_required = server.auth_required_by_default()
    client.acl_user = server.acl.restricted_default
    client.multi = None
    client.multi_error = False
    unwatch_all(client)
    client.name = b""
    client.reply_mode = REPLY_ON
    client.no_touch = False  # as Redis 7.2's RESET does (NO-EVICT stays, as in 7.0)
    client.update_gate()


# -- PING ECHO QUIT RESET SELECT ------------------------------------------------------------


@command("ping")
def ping(client, argv):
    if len(argv) > 2:
        raise RedisError(errors.wrong_arity("ping"))
    if client.subscriptions is not None and not client.resp3:
        # A RESP2 subscriber gets its PING answer in the shape of a pub/sub message.
        return b"*2\r\n$4\r\npong\r\n" + (bulk(argv[1]) if len(argv) == 2 else b"$0\r\n\r\n")
    if len(argv) == 1:
        return PONG
    return bulk(argv[1])


@command("echo")
def echo(client, argv):
    return bulk(argv[1])


@command("quit")
def quit_(client, argv):
    client.close_after_reply()
    return OK


_RESET = simple("RESET")


@command("reset")
def reset(client, argv):
    reset_connection(client)
    return _RESET


@command("select")
def select(client, argv):
    index = parse_int64(argv[1])
    if index is None:
        raise RedisError(errors.NOT_INTEGER)
    if not -(2**31) <= index < 2**31:
        raise RedisError(errors.int_out_of_range(-(2**31), 2**31 - 1))
    server = client.server
    if index != 0 and getattr(server.config, "cluster_enabled", False):
        raise RedisError(errors.SELECT_IN_CLUSTER)
    if not 0 <= index < len(server.dbs):
        raise RedisError(errors.DB_INDEX)
    client.db = server.dbs[index]
    return OK


# -- HELLO and AUTH ---------------------------------------------------------------------------------


def hello_reply(client: Client) -> bytes:
    server = client.server
    resp3 = client.resp3
    cluster = getattr(server.config, "cluster_enabled", False)
    # "server" stays "redis": client libraries read it (and "version") to decide what they may use.
    pairs = [
        (b"$6\r\nserver\r\n", bulk(b"redis")),
        (b"$7\r\nversion\r\n", bulk(REDIS_VERSION.encode())),
        (b"$5\r\nproto\r\n", integer(3 if resp3 else 2)),
        (b"$2\r\nid\r\n", integer(client.id)),
        (b"$4\r\nmode\r\n", bulk(b"cluster" if cluster else b"standalone")),
        (b"$4\r\nrole\r\n", bulk(info.gauge(server, "role", "master").encode())),
        (b"$7\r\nmodules\r\n", b"*0\r\n"),
    ]
    return map_(pairs, resp3)


@command("hello")
def hello(client, argv):
    version = 0
    position = 1
    if len(argv) >= 2:
        version = parse_int64(argv[1])
        if version is None:
            raise RedisError(errors.HELLO_PROTOCOL_NOT_INTEGER)
        if version < 2 or version > 3:
            raise RedisError(errors.NOPROTO)
        position = 2
    # Options take effect as they are read, as in Redis 7.0: a bad option after a valid AUTH or
    # SETNAME leaves those applied.
    while position < len(argv):
        option = argv[position].lower()
        remaining = len(argv) - 1 - position
        if option == b"auth" and remaining >= 2:
            if not authenticate(client, argv[position + 1], argv[position + 2], argv[0]):
                raise RedisError(errors.WRONGPASS)
            position += 3
        elif option == b"setname" and remaining >= 1:
            set_client_name(client, argv[position + 1])
            position += 2
        else:
            raise RedisError(errors.hello_syntax(argv[position]))
    if client.auth_required:
        raise RedisError(errors.HELLO_NOAUTH)
    if version:
        client.resp3 = version == 3
    return hello_reply(client)


@command("auth")
def auth(client, argv):
    if len(argv) > 3:
        raise RedisError(errors.SYNTAX)
    if len(argv) == 2:
        if not default_user_has_password(client.server):
            raise RedisError(errors.AUTH_WITHOUT_PASSWORD)
        username, password = b"default", argv[1]
    else:
        username, password = argv[1], argv[2]
    if not authenticate(client, username, password, argv[0]):
        raise RedisError(errors.WRONGPASS)
    return OK


# -- CLIENT PAUSE --------------------------------------------------------------------------------------

PAUSE_NONE, PAUSE_WRITE, PAUSE_ALL = 0, 1, 2
# Commands that are not flagged write but may still propagate something (Redis's MAY_REPLICATE):
# a WRITE pause holds them too.
MAY_REPLICATE = frozenset({"eval", "evalsha", "fcall", "publish", "spublish", "pfcount"})


def _now_ms() -> int:
    return int(time.time() * 1000)


def _holds_in_write_pause(cmd: Command) -> bool:
    return cmd.is_write or cmd.full_name in MAY_REPLICATE


class ClientPause:
    """CLIENT PAUSE: held commands wait here, in arrival order, until the pause ends.

    While a pause is on, the affected commands are marked ``gated`` so the connection's fast path
    hands them to the gate, which asks ``holds()`` and parks the client with ``postpone()``. The
    client's pipeline is suspended; when the pause ends each held command runs as if it had just
    arrived, its reply is written, and the client's pipeline resumes.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.kind = PAUSE_NONE
        self.end_ms = 0
        self.timer: Any = None
        # (client, argv, reply mode when the command arrived)
        self.held: list[tuple[Any, list, int]] = []

    def pause(self, end_ms: int, kind: int) -> None:
        # A pause only widens (WRITE -> ALL) and only lengthens, as in Redis.
        if kind > self.kind:
            self.kind = kind
            self._gate_commands()
        if end_ms > self.end_ms:
            self.end_ms = end_ms
        self._schedule()

    def active(self) -> bool:
        return self.kind != PAUSE_NONE

    def holds(self, client: Client, cmd: Command) -> bool:
        """Whether ``cmd`` from ``client`` must wait (ends an expired pause first)."""
        if self.kind == PAUSE_NONE:
            return False
        if _now_ms() > self.end_ms:
            self.unpause()
            return False
        if self.kind == PAUSE_ALL:
            return True
        if _holds_in_write_pause(cmd):
            return True
        if cmd.full_name == "exec" and client.multi:
            return any(_holds_in_write_pause(queued[0]) for queued in client.multi)
        return False

    def postpone(self, client: Client, argv: list) -> None:
        self.held.append((client, argv, client.reply_mode))
        client.suspend()

    def unpause(self) -> None:
        self.kind = PAUSE_NONE
        self.end_ms = 0
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        set_gate_condition("client-pause", None)
        self._replay()

    def _gate_commands(self) -> None:
        pause_all = self.kind == PAUSE_ALL
        set_gate_condition(
            "client-pause",
            lambda cmd: pause_all or _holds_in_write_pause(cmd) or cmd.full_name == "exec",
        )

    def _schedule(self) -> None:
        loop = self.server.loop
        if loop is None:
            return
        if self.timer is not None:
            self.timer.cancel()
        delay = max(0.0, (self.end_ms - _now_ms() + 1) / 1000)
        self.timer = loop.call_later(delay, self._expire)

    def _expire(self) -> None:
        self.timer = None
        if self.kind != PAUSE_NONE and _now_ms() > self.end_ms:
            self.unpause()
        elif self.kind != PAUSE_NONE:
            self._schedule()

    def _replay(self) -> None:
        from ..dispatch import execute  # the gate imports this module's users; import late

        held, self.held = self.held, []
        for index, (client, argv, mode) in enumerate(held):
            if client.closing:
                continue
            if self.kind != PAUSE_NONE:
                # A replayed command paused the server again: the rest keep waiting.
                self.held.extend(held[index:])
                return
            client.resume()
            client.reply_mode = mode
            reply = execute(client, argv)
            if client.suspended:
                continue  # held again, or a blocking command that answers later
            if client.reply_mode == REPLY_ON:
                if reply is not None and client.transport is not None:
                    client.transport.write(reply)
            else:
                client._reply_mode_step()
            if client.kill_after_reply and client.transport is not None:
                client.transport.close()


def client_pause_state(server: Server) -> ClientPause:
    pause = server.client_pause
    if pause is None:
        pause = server.client_pause = ClientPause(server)
    return pause


# -- CLIENT ------------------------------------------------------------------------------------------

CLIENT_NORMAL, CLIENT_REPLICA, CLIENT_PUBSUB, CLIENT_MASTER = 0, 1, 2, 3
_CLIENT_TYPES = {
    b"normal": CLIENT_NORMAL,
    b"slave": CLIENT_REPLICA,
    b"replica": CLIENT_REPLICA,
    b"pubsub": CLIENT_PUBSUB,
    b"master": CLIENT_MASTER,
}


def client_type_by_name(name: bytes) -> int:
    kind = _CLIENT_TYPES.get(name.lower())
    if kind is None:
        raise RedisError(errors.unknown_client_type(name))
    return kind


def client_type(client: Client) -> int:
    provider = info.CLIENT_GAUGES.get("flags")
    letters = provider(client) if provider is not None else ""
    if "M" in letters:
        return CLIENT_MASTER
    if "S" in letters:
        return CLIENT_REPLICA
    if "P" in letters:
        return CLIENT_PUBSUB
    return CLIENT_NORMAL


def _lines_reply(client: Client, lines: list[str]) -> bytes:
    return verbatim("".join(line + "\n" for line in lines).encode("latin-1"), client.resp3)


@command("client|id")
def client_id(client, argv):
    return integer(client.id)


@command("client|getname")
def client_getname(client, argv):
    if not client.name:
        return null(client.resp3)
    return bulk(client.name)


@command("client|setname")
def client_setname(client, argv):
    set_client_name(client, argv[2])
    return OK


@command("client|info")
def client_info(client, argv):
    return _lines_reply(client, [info.client_info_line(client, argv)])


@command("client|list")
def client_list(client, argv):
    clients = client.server.clients
    if len(argv) == 4 and argv[2].lower() == b"type":
        kind = client_type_by_name(argv[3])
        chosen = [c for c in clients.values() if client_type(c) == kind]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        chosen = []
        for raw in argv[3:]:
            wanted = parse_int64(raw)
            if wanted is None:
                raise RedisError(errors.INVALID_CLIENT_ID)
            found = clients.get(wanted)
            if found is not None:
                chosen.append(found)
    elif len(argv) != 2:
        raise RedisError(errors.SYNTAX)
    else:
        chosen = list(clients.values())
    now = time.time()
    lines = [info.client_info_line(c, argv if c is client else None, now) for c in chosen]
    return _lines_reply(client, lines)


@command("client|kill")
def client_kill(client, argv):
    wanted_id = 0
    kind = -1
    addr = laddr = user = None
    skip_me = True
    if len(argv) == 3:
        addr = argv[2].decode("latin-1")
        skip_me = False
    else:
        position = 2
        while position < len(argv):
            option = argv[position].lower()
            if position + 1 >= len(argv):
                raise RedisError(errors.SYNTAX)
            value = argv[position + 1]
            if option == b"id":
                wanted_id = parse_int64(value)
                if wanted_id is None or wanted_id < 1:
                    raise RedisError(errors.CLIENT_ID_NOT_POSITIVE)
            elif option == b"type":
                kind = client_type_by_name(value)
            elif option == b"addr":
                addr = value.decode("latin-1")
            elif option == b"laddr":
                laddr = value.decode("latin-1")
            elif option == b"user":
                if value not in client.server.acl.users:
                    raise RedisError(errors.no_such_user(value))
                user = value.decode("latin-1")
            elif option == b"skipme":
                lowered = value.lower()
                if lowered == b"yes":
                    skip_me = True
                elif lowered == b"no":
                    skip_me = False
                else:
                    raise RedisError(errors.SYNTAX)
            else:
                raise RedisError(errors.SYNTAX)
            position += 2
    server = client.server
    killed = 0
    close_self = False
    for other in list(server.clients.values()):
        if addr is not None and other.address != addr:
            continue
        if laddr is not None and other.local_address != laddr:
            continue
        if kind != -1 and client_type(other) != kind:
            continue
        if wanted_id and other.id != wanted_id:
            continue
        if user is not None and other.user != user:
            continue
        if other is client:
            if skip_me:
                continue
            close_self = True
        else:
            # Gone from the client list at once, as Redis frees it; the socket closes next.
            server.clients.pop(other.id, None)
            other.close()
        killed += 1
    if len(argv) == 3:
        if not killed:
            raise RedisError(errors.NO_SUCH_CLIENT)
        reply = OK
    else:
        reply = integer(killed)
    if close_self:
        client.close_after_reply()
    return reply


@command("client|reply")
def client_reply(client, argv):
    mode = argv[2].lower()
    if mode == b"on":
        client.reply_mode = REPLY_ON
        return OK
    if mode == b"off":
        client.reply_mode = REPLY_OFF
        return None
    if mode == b"skip":
        if client.reply_mode != REPLY_OFF:
            client.reply_mode = REPLY_SKIP_NEXT
        return None
    raise RedisError(errors.SYNTAX)


def _on_off(value: bytes) -> bool:
    lowered = value.lower()
    if lowered == b"on":
        return True
    if lowered == b"off":
        return False
    raise RedisError(errors.SYNTAX)


@command("client|no-evict")
def client_no_evict(client, argv):
    client.no_evict = _on_off(argv[2])
    return OK


@command("client|no-touch")
def client_no_touch(client, argv):
    client.no_touch = _on_off(argv[2])
    # Its commands then take the gate, which keeps their keys' access records (vermilion.notouch).
    client.update_gate()
    return OK


@command("client|setinfo")
def client_setinfo(client, argv):
    attribute = argv[2].lower()
    if attribute not in (b"lib-name", b"lib-ver"):
        raise RedisError(errors.unrecognized_option(argv[2]))
    value = argv[3]
    if not _valid_client_attribute(value):
        raise RedisError(errors.client_attribute_chars(argv[2]))
    if attribute == b"lib-name":
        client.lib_name = value
    else:
        client.lib_ver = value
    return OK


@command("client|pause")
def client_pause(client, argv):
    if len(argv) > 4:
        raise RedisError(subcommand_syntax_error(argv))
    timeout = parse_int64(argv[2])
    if timeout is None:
        raise RedisError(errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise RedisError(errors.TIMEOUT_NEGATIVE)
    kind = PAUSE_ALL
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            kind = PAUSE_WRITE
        elif mode != b"all":
            raise RedisError(errors.CLIENT_PAUSE_MODE)
    end_ms = 0
    if timeout > 0:
        # Redis adds the timeout to the clock in 64-bit arithmetic: a timeout near the limit
        # wraps to a time in the past, so that pause ends at once.
        end_ms = (timeout + _now_ms() + 2**63) % 2**64 - 2**63
    client_pause_state(client.server).pause(end_ms, kind)
    return OK


@command("client|unpause")
def client_unpause(client, argv):
    pause = client.server.client_pause
    if pause is not None and pause.active():
        pause.unpause()
    return OK


@command("client|unblock")
def client_unblock(client, argv):
    # Only clients parked by a blocking command (vermilion.blocking); one held by CLIENT PAUSE
    # is not "blocked" here (Redis 7.0.15 crashes when asked to unblock one).
    if len(argv) > 4:
        raise RedisError(subcommand_syntax_error(argv))
    as_error = False
    if len(argv) == 4:
        reason = argv[3].split(b"\0", 1)[0].lower()
        if reason == b"error":
            as_error = True
        elif reason != b"timeout":
            raise RedisError(errors.CLIENT_UNBLOCK_REASON)
    target_id = parse_int64(argv[2])
    if target_id is None:
        raise RedisError(errors.NOT_INTEGER)
    server = client.server
    target = server.clients.get(target_id)
    entry = target.blocked if target is not None else None
    if entry is None:
        return integer(0)
    reply = server.error_reply(UNBLOCKED) if as_error else entry.timeout_reply
    server.blocking.unblock(entry, reply)
    return integer(1)


@command("client|getredir")
def client_getredir(client, argv):
    # No client-side caching: a connection never has tracking on, so never a redirection.
    return MINUS_ONE


_CLIENT_HELP = [
    "GETNAME",
    "    Reply with this connection's name (null when it has none).",
    "GETREDIR",
    "    Reply with the ID tracking notifications are redirected to (-1: tracking is off).",
    "ID",
    "    Reply with this connection's ID.",
    "INFO",
    "    Describe this connection, in the format of CLIENT LIST.",
    "KILL <ip:port>",
    "    Close the connection from <ip:port>.",
    "KILL <filter> <value> [<filter> <value> ...]",
    "    Close every connection matching all the filters, which are:",
    "    * ID <client-id>",
    "      The connection with this ID.",
    "    * ADDR <ip:port>",
    "      The connection from this address.",
    "    * LADDR <ip:port>",
    "      Connections made to this local address.",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Connections of this type.",
    "    * USER <username>",
    "      Connections logged in as this user.",
    "    * SKIPME (YES|NO)",
    "      Whether to spare the calling connection (YES unless told otherwise).",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> ...]",
    "    Describe the connections, one line each, optionally only some of them.",
    "NO-EVICT (ON|OFF)",
    "    Exempt this connection from client eviction, or not.",
    "NO-TOUCH (ON|OFF)",
    "    Leave the access time of the keys this connection reads unchanged, or not.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Hold the commands of every client (or only those that write) for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Turn this connection's replies on or off, or drop the reply to the next command.",
    "SETINFO (LIB-NAME|LIB-VER) <value>",
    "    Record the name or version of the client library in use.",
    "SETNAME <name>",
    "    Name this connection (an empty name removes it).",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Release a client waiting in a blocking command, as if it timed out or with an error.",
    "UNPAUSE",
    "    End a CLIENT PAUSE now.",
]


_CLIENT_HELP_REPLY = help_reply(b"client", _CLIENT_HELP)


@command("client|help")
def client_help(client, argv):
    return _CLIENT_HELP_REPLY
