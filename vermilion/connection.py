"""One client connection: bytes in, commands through the gate, one write per batch of replies.

Knows nothing of data types. The fast path feeds hiredis and runs each complete request as it
comes out; everything unusual (inline commands, malformed input, requests hiredis reads
differently from Redis) is handed to the exact parser in ``resp.reader``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import hiredis

from .dispatch import execute, handler_crashed
from .errors import ProtocolError, RedisError
from .registry import TABLE
from .resp.reader import ExactParser

if TYPE_CHECKING:
    from .keyspace.db import Db
    from .server import Server

_TABLE_GET = TABLE.get
_clock = time.perf_counter_ns

# CLIENT REPLY modes
REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3


class Client(asyncio.Protocol):
    __slots__ = (
        "server",
        "transport",
        "reader",
        "raw_pending",
        "raw_commands",
        "exact",
        "out",
        "id",
        "name",
        "lib_name",
        "lib_ver",
        "db",
        "resp3",
        "auth_required",
        "user",
        "multi",
        "multi_error",
        "watch_dirty",
        "watching",
        "current_command",
        "last_command",
        "created",
        "last_interaction",
        "address",
        "local_address",
        "reply_mode",
        "closing",
        "paused",
        "flags",
        "kill_after_reply",
        "fd",
        "no_evict",
        "no_touch",
        "is_unix",
        "gated",
    )

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: Any = None
        self.reader = hiredis.Reader()
        # Raw bytes hiredis holds but has not fully parsed, kept to re-parse exactly on error.
        self.raw_pending: list[bytes] = []
        self.raw_commands = 0
        self.exact: ExactParser | None = None
        self.out: list[bytes] = []
        self.id = 0
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.db: Db = server.dbs[0]
        self.resp3 = False
        self.auth_required = server.auth_required_by_default()
        self.user = "default"
        self.multi: list | None = None
        self.multi_error = False
        self.watch_dirty = False
        self.watching: list = []
        self.current_command = None
        self.last_command = None
        self.created = time.time()
        self.last_interaction = self.created
        self.address = ""
        self.local_address = ""
        self.reply_mode = REPLY_ON
        self.closing = False
        self.paused = False
        self.flags = ""
        self.kill_after_reply = False
        self.fd = -1
        self.no_evict = False
        self.no_touch = False
        self.is_unix = False
        # True while any per-client gate applies (auth pending, MULTI, pub/sub mode, ...):
        # the connection then sends every command through dispatch.execute.
        self.gated = self.auth_required

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.server.client_connected(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.client_disconnected(self)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_interaction = time.time()
        if self.exact is not None or (not self.raw_pending and data[0] != 42):
            self._exact_received(data)
            return
        reader = self.reader
        reader.feed(data)
        raw = self.raw_pending
        raw.append(data)
        out = self.out
        gets = reader.gets
        done = 0
        clock = _clock
        # The common case runs inline: a known command, right arity, no gate to consult.
        # Everything else goes through dispatch.execute, which applies every check.
        try:
            started = clock()
            while True:
                argv = gets()
                if argv is False:
                    break
                if argv.__class__ is not list:
                    self._recover(done)
                    return
                for arg in argv:
                    if arg.__class__ is not bytes:
                        self._recover(done)
                        return
                done += 1
                cmd = _TABLE_GET(argv[0]) if argv else None
                if (
                    cmd is None
                    or cmd.gated
                    or self.gated
                    or (cmd.arity != len(argv) and (cmd.arity > 0 or len(argv) < -cmd.arity))
                ):
                    reply = execute(self, argv)
                    started = clock()
                else:
                    try:
                        reply = cmd.handler(self, argv)
                    except RedisError as exc:
                        cmd.failed_calls += 1
                        reply = self.server.error_reply(exc.args[0])
                    except Exception:
                        reply = handler_crashed(self, cmd)
                    cmd.calls += 1
                    ended = clock()
                    cmd.duration_ns += ended - started
                    started = ended
                if reply is not None and self.reply_mode == REPLY_ON:
                    out.append(reply)
                elif self.reply_mode != REPLY_ON:
                    self._reply_mode_step()
                if self.closing:
                    break
        except hiredis.ProtocolError:
            self._recover(done)
            return
        self.server.stats.total_commands_processed += done
        if reader.has_data():
            self.raw_commands += done
        else:
            raw.clear()
            self.raw_commands = 0
        if out:
            self.flush()

    # -- slow paths -------------------------------------------------------------------------

    def _recover(self, done_now: int) -> None:
        """hiredis disagreed with Redis's rules: re-parse the retained bytes exactly."""
        parser = self._new_exact_parser()
        parser.feed(b"".join(self.raw_pending))
        skip = self.raw_commands + done_now
        self.raw_pending = []
        self.raw_commands = 0
        self.reader = hiredis.Reader()
        try:
            while skip:
                if parser.next_command() is None:
                    break
                skip -= 1
        except ProtocolError:
            pass
        self.exact = parser
        self._run_exact()

    def _new_exact_parser(self) -> ExactParser:
        parser = ExactParser(self.server.config.proto_max_bulk_len)
        parser.auth_required = self._auth_pending
        return parser

    def _auth_pending(self) -> bool:
        return self.auth_required

    def _exact_received(self, data: bytes) -> None:
        if self.exact is None:
            self.exact = self._new_exact_parser()
        self.exact.feed(data)
        self._run_exact()

    def _run_exact(self) -> None:
        parser = self.exact
        out = self.out
        while not self.closing:
            try:
                argv = parser.next_command()
            except ProtocolError as exc:
                out.append(self.server.error_reply(exc.args[0], protocol=True))
                self.server.log_verbose(
                    f"Protocol error ({exc.args[0][20:]}) from client: {self.describe()}"
                )
                self.close_after_reply()
                break
            if argv is None:
                break
            if not argv:
                continue
            reply = execute(self, argv)
            if reply is not None and self.reply_mode == REPLY_ON:
                out.append(reply)
            elif self.reply_mode != REPLY_ON:
                self._reply_mode_step()
        if parser.pending() == 0:
            # Back to the fast path once the exact parser holds nothing.
            self.exact = None
        if out:
            self.flush()

    def _reply_mode_step(self) -> None:
        if self.reply_mode == REPLY_SKIP:
            self.reply_mode = REPLY_SKIP_NEXT
        elif self.reply_mode == REPLY_SKIP_NEXT:
            self.reply_mode = REPLY_ON

    # -- output -----------------------------------------------------------------------------

    def flush(self) -> None:
        out = self.out
        if len(out) == 1:
            self.transport.write(out[0])
        else:
            self.transport.write(b"".join(out))
        out.clear()
        if self.kill_after_reply:
            self.closing = True
            self.transport.close()

    def send(self, data: bytes) -> None:
        """Queue bytes from outside this client's own command (pub/sub, unblocking)."""
        if not self.closing:
            self.transport.write(data)

    def close_after_reply(self) -> None:
        self.closing = True
        self.kill_after_reply = True

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def describe(self) -> str:
        return self.server.client_info_line(self)


def _all_bulk(argv: list) -> bool:
    for arg in argv:
        if arg.__class__ is not bytes:
            return False
    return len(argv) > 0
