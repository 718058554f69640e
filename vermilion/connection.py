"""One client connection: bytes in, commands through the gate, one write per batch of replies.

Knows nothing of data types. The fast path feeds hiredis and runs each complete request as it
comes out; everything unusual (inline commands, malformed input, requests hiredis reads
differently from Redis) is handed to the exact parser in ``resp.reader``.

This module is the connection lane: when a C compiler is at hand, installing the package
compiles it with Cython, typed by ``connection.pxd`` (Client becomes an extension type whose
fields the lane reads directly). The source stays plain Python and runs as it is without a
compiler or under VERMILION_PURE=1; see docs/architecture.md, "The compiled lane".
"""

from __future__ import annotations

import time
from itertools import chain
from typing import TYPE_CHECKING, Any

import hiredis

from .dispatch import execute, handler_crashed
from .errors import ProtocolError, RedisError
from .limits import (
    CHECKED_WRITE_BYTES,
    check_output,
    output_drained,
    output_refused,
    query_buffer_exceeded,
    yield_reading,
)
from .registry import TABLE
from .resp.fast import ReaderIdle, new_reader
from .resp.reader import ExactParser

if TYPE_CHECKING:
    from .keyspace.db import Db
    from .registry import Command
    from .server import Server

_TABLE_GET = TABLE.get
# First bytes of RESP elements hiredis returns as bytes although they are not bulk strings.
_STRINGY_TYPE_BYTES = frozenset(b"+=(|")
_clock = time.perf_counter_ns
_time = time.time
# True when this module runs compiled (an extension module's file is the shared library).
COMPILED = not __file__.endswith((".py", ".pyc"))

# CLIENT REPLY modes. SKIP_NEXT is set by CLIENT REPLY SKIP itself and becomes SKIP once that
# command is done, so exactly the following command's reply is dropped.
REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3


# Calls of a fast command (Redis's CMD_FAST: O(1) or O(log N)) that follow each other in one
# read are timed as a run of at most RUN_TIMING_MAX_CALLS calls: the run's time is shared out
# evenly between its calls. A clock read and its bookkeeping cost about as much as the command
# itself; the totals (INFO commandstats) stay exact. Below this slow-log / latency-monitor
# threshold every call is timed alone, so that a run of ordinary calls cannot add up to a false
# slow entry (32 calls would have to average 31 us each).
RUN_TIMING_FLOOR_NS = 1_000_000
RUN_TIMING_MAX_CALLS = 32
_BROKEN = object()  # read ahead in place of a request hiredis could not parse
_GROUP_MORE = range(RUN_TIMING_MAX_CALLS - 1)  # a group's calls after its first


def _close_run(client: Client, cmd: Command, calls: int, argv: list[bytes], started: int,
               slow_ns: int) -> int:
    """Account a run of ``calls`` calls of ``cmd`` that began at ``started``; the time now."""
    ended = _clock()
    elapsed = ended - started
    cmd.duration_ns += elapsed
    cmd.latency_histogram[(elapsed // calls).bit_length()] += calls
    if elapsed >= slow_ns:
        # Something stalled one of the calls (fast commands do not take milliseconds): the
        # run's last call stands for it, with the whole run's time.
        client.server.observe.command_done(client, cmd, argv, elapsed)
    return ended


def _run_each(client: Client, cmd: Command, group: list[list[bytes]]) -> list[bytes]:
    """The calls of a group its run handler declined, one by one; their replies."""
    replies = []
    handler = cmd.handler
    for argv in group:
        try:
            reply = handler(client, argv)
        except RedisError as exc:
            cmd.failed_calls += 1
            reply = client.server.error_reply(exc.args[0])
        except Exception:
            reply = handler_crashed(client, cmd)
        if reply is not None:
            replies.append(reply)
    return replies


class Stats:
    """INFO stats counters; CONFIG RESETSTAT zeroes them. Kept in the lane, which counts reads,
    writes and commands for every request (an extension type in the compiled build)."""

    __slots__ = (
        "total_connections_received",
        "total_commands_processed",
        "rejected_connections",
        "expired_keys",
        "expired_stale_perc",
        "expired_time_cap_reached_count",
        "expire_cycle_cpu_milliseconds",
        "evicted_keys",
        "evicted_clients",
        "keyspace_hits",
        "keyspace_misses",
        "total_error_replies",
        "unexpected_error_replies",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "total_reads_processed",
        "total_writes_processed",
        "error_codes",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)
        self.error_codes: dict[str, int] = {}


class Client:
    """An asyncio protocol: uvloop and asyncio call the methods below."""

    __slots__ = (
        "server",
        "stats",
        "transport",
        "reader",
        "reader_idle",
        "raw_pending",
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
        "acl_user",
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
        "suspended",
        "interrupted",
        "blocked",
        "flush_pending",
        "subscriptions",
        "watch_expired",
        "write_blocked",
        "reading_paused",
        "obuf_soft_since",
        "input_held",
    )

    def __init__(self, server: Server) -> None:
        self.server = server
        self.stats = server.stats  # never replaced (CONFIG RESETSTAT resets it in place)
        self.transport: Any = None
        self.reader = new_reader()
        self.reader_idle = ReaderIdle.for_reader(self.reader)
        # The raw bytes hiredis holds from the first request it has not returned yet: kept so
        # that the exact parser can take over from that point (see _run_fast's end).
        self.raw_pending: list[bytes] = []
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
        # The User object while this connection's user has restrictions (vermilion.acl): the
        # gate then checks every command against it; None costs the fast path nothing.
        self.acl_user = server.acl.restricted_default
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
        self.gated = self.auth_required or self.acl_user is not None
        self.suspended = False
        # Set with closing or suspended: tells the request loop to stop after this command.
        self.interrupted = False
        # The vermilion.blocking.Blocked entry while blocked on keys, else None.
        self.blocked = None
        # True while this client's replies wait for the end of the loop turn (Server.queue_flush).
        self.flush_pending = False
        # vermilion.pubsub.Subscriptions while subscribed to anything (Redis's CLIENT_PUBSUB).
        self.subscriptions = None
        # (db index, key) of WATCHed keys that had already expired when watched (see WATCH).
        self.watch_expired: set | None = None
        # Output limits and flow control (vermilion.limits): True while the transport's write
        # buffer is over its high-water mark, so only then is output measured after a write.
        self.write_blocked = False
        self.reading_paused = False
        # Unix time the output first went over the class's soft limit (0: not over it).
        self.obuf_soft_since = 0
        # Bytes of a partial request held in raw_pending over several reads.
        self.input_held = 0

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.server.client_connected(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.interrupted = True
        self.server.client_disconnected(self)

    def eof_received(self) -> None:
        # The peer shut its side down; returning None lets the transport close (Redis sees a
        # read of 0 bytes and frees the client).
        return None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_interaction = _time()
        stats = self.stats
        stats.total_net_input_bytes += len(data)
        stats.total_reads_processed += 1
        raw_pending = self.raw_pending
        if self.exact is not None or (not raw_pending and data[0] != 42):
            self._exact_received(data)
            return
        if (43 in data or 61 in data or 40 in data or 124 in data) and (
                b"\n+" in data or b"\n=" in data or b"\n(" in data or b"\n|" in data
                or data[0] in _STRINGY_TYPE_BYTES):
            # hiredis turns a status, verbatim or big-number element into bytes, and skips an
            # attribute, where Redis answers "expected '$'": such reads (or a bulk payload that
            # merely looks like one) go to the exact parser. Four memchr scans for the bytes
            # "+", "=", "(" and "|" rule them out in the common case (three times faster than
            # one translate pass on small reads, twenty on 16 KB); the slower line-start checks
            # run only then.
            self._switch_to_exact(data)
            return
        if raw_pending:
            # A request spread over several reads: keep its size under client-query-buffer-limit.
            held = self.input_held + len(data) if len(raw_pending) > 1 else len(raw_pending[0]) + len(data)
            self.input_held = held
            if held > 1048576 and query_buffer_exceeded(self, held):
                return
        reader = self.reader
        reader.feed(data)
        if raw_pending or self.suspended:
            raw_pending.append(data)
            if not self.suspended:
                self._run_fast()
            return
        # Without pipelining a read holds one request: when hiredis returns one that can run
        # inline and nothing is left after it (has_data: its read position short of the end),
        # it runs here, without _run_fast's bookkeeping for many requests and for bytes kept
        # between reads. Anything else goes on in _run_fast, with this request as its first.
        try:
            argv = reader.gets()
        except hiredis.ProtocolError:
            raw_pending.append(data)
            self._recover(0, 0)
            return
        if type(argv) is list and argv:
            # Every element a bulk string first: a nested array or map as the command name would
            # not even be hashable. _run_fast hands anything else to the exact parser.
            for arg in argv:
                if type(arg) is not bytes:
                    break
            else:
                cmd = _TABLE_GET(argv[0])
                if (cmd is not None and not self.gated and len(argv) in cmd.inline_argc
                        and not reader.has_data()):
                    self._run_one(cmd, argv)
                    return
        raw_pending.append(data)
        self._run_fast(argv)

    def _run_one(self, cmd: Command, argv: list[bytes]) -> None:
        """The one request of a read, known to the inline path: what _run_fast does for it."""
        started = _clock()
        try:
            reply = cmd.handler(self, argv)
        except RedisError as exc:
            cmd.failed_calls += 1
            reply = self.server.error_reply(exc.args[0])
        except Exception:
            reply = handler_crashed(self, cmd)
        elapsed = _clock() - started
        cmd.duration_ns += elapsed
        cmd.latency_histogram[elapsed.bit_length()] += 1
        server = self.server
        if elapsed >= server.slow_command_ns:
            server.observe.command_done(self, cmd, argv, elapsed)
        self.current_command = cmd
        self.stats.total_commands_processed += 1
        if self.reply_mode:
            self._reply_mode_step()
        elif reply is not None:
            self.out.append(reply)
        if self.kill_after_reply:
            self._write_before_closing()
        elif self.out and not self.flush_pending:
            # Written at the end of the loop turn, see _run_fast. Other clients' replies are
            # usually queued already, and then queue_flush has nothing more to do than this.
            self.flush_pending = True
            queue = server.flush_queue
            if queue:
                queue.append(self)
            else:
                server.queue_flush(self)

    def _run_fast(self, first: list[bytes] | bool | None = None) -> None:
        """Run every complete request hiredis holds, then write all the replies at once.
        ``first``: what data_received already took from hiredis, if anything."""
        reader = self.reader
        out = self.out
        gets = reader.gets
        batch: list[list[bytes]] = []
        append = batch.append
        clock = _clock
        # Slow log / latency monitor threshold (vermilion.observe); huge while both are off.
        slow_ns = self.server.slow_command_ns
        # Consecutive calls of one fast command are timed together (one clock read per run
        # instead of per call) unless the threshold is low enough for such a run to reach it:
        # see RUN_TIMING_FLOOR_NS and docs/architecture.md.
        runs_timed = slow_ns >= RUN_TIMING_FLOOR_NS
        run_cmd = None
        run_calls = 0  # calls of run_cmd since ``started``, the last of them batch[-1] or [-2]
        cmd = None
        routed = 0  # requests handed to the gate, which counts what it runs itself
        ahead = first  # a request taken from hiredis ahead of its turn, not yet run
        # The common case runs inline: a known command, right arity, no gate to consult.
        # Everything else goes through dispatch.execute, which applies every check.
        try:
            started = clock()
            while True:
                if ahead is None:
                    argv = gets()
                else:
                    argv = ahead
                    ahead = None
                if type(argv) is not list or not argv:
                    if argv is False:
                        break
                    if argv is _BROKEN:
                        raise hiredis.ProtocolError
                    if run_calls:
                        _close_run(self, run_cmd, run_calls, batch[-1], started, slow_ns)
                        run_calls = 0
                    self._recover(len(batch), len(batch) - routed)
                    return
                for arg in argv:
                    if type(arg) is not bytes:
                        if run_calls:
                            _close_run(self, run_cmd, run_calls, batch[-1], started, slow_ns)
                            run_calls = 0
                        self._recover(len(batch), len(batch) - routed)
                        return
                append(argv)
                cmd = _TABLE_GET(argv[0])
                if cmd is None or self.gated or len(argv) not in cmd.inline_argc:
                    if run_calls:
                        _close_run(self, run_cmd, run_calls, batch[-2], started, slow_ns)
                        run_calls = 0
                        run_cmd = None
                    reply = execute(self, argv)
                    routed += 1
                    cmd = None
                    # The gate runs CONFIG SET, which may have moved the thresholds.
                    slow_ns = self.server.slow_command_ns
                    runs_timed = slow_ns >= RUN_TIMING_FLOOR_NS
                    started = clock()
                else:
                    if cmd.run_argc and len(argv) == cmd.run_argc and runs_timed and not self.reply_mode:
                        # The calls that repeat this one (name, key, argument count) run as a group.
                        group_start = len(batch) - 1
                        name = argv[0]
                        key = argv[1]
                        argc = len(argv)
                        for _ in _GROUP_MORE:
                            try:
                                ahead = gets()
                            except hiredis.ProtocolError:
                                ahead = _BROKEN
                                break
                            # Equal to name and key, [0] and [1] are bytes; with at most four
                            # arguments, [-1] and [argc - 2] cover the others.
                            if (type(ahead) is not list or len(ahead) != argc or ahead[0] != name
                                    or ahead[1] != key or type(ahead[-1]) is not bytes
                                    or type(ahead[argc - 2]) is not bytes):
                                break
                            append(ahead)
                        else:
                            ahead = None
                        if len(batch) - group_start > 1:
                            if run_calls:
                                started = _close_run(self, run_cmd, run_calls, batch[group_start - 1], started,
                                                     slow_ns)
                                run_calls = 0
                                run_cmd = None
                            group = batch[group_start:]
                            try:
                                replies = cmd.run_handler(self, group)
                                if replies is None:
                                    replies = _run_each(self, cmd, group)
                            except Exception:
                                replies = [handler_crashed(self, cmd)] * len(group)
                                cmd.failed_calls += len(group) - 1
                            started = _close_run(self, cmd, len(group), group[-1], started, slow_ns)
                            out += replies
                            if self.interrupted:
                                # Only closing can get here (these commands never suspend the
                                # client), so the request read ahead goes with the rest.
                                break
                            continue
                    if cmd is not run_cmd:
                        if run_calls:
                            started = _close_run(self, run_cmd, run_calls, batch[-2], started, slow_ns)
                            run_calls = 0
                            run_cmd = None
                        if runs_timed and cmd.fast:
                            run_cmd = cmd
                    try:
                        reply = cmd.handler(self, argv)
                    except RedisError as exc:
                        cmd.failed_calls += 1
                        reply = self.server.error_reply(exc.args[0])
                    except Exception:
                        reply = handler_crashed(self, cmd)
                    if cmd is run_cmd:
                        run_calls += 1
                        if run_calls == RUN_TIMING_MAX_CALLS:
                            started = _close_run(self, cmd, run_calls, argv, started, slow_ns)
                            run_calls = 0
                    else:
                        ended = clock()
                        elapsed = ended - started
                        cmd.duration_ns += elapsed
                        cmd.latency_histogram[elapsed.bit_length()] += 1
                        if elapsed >= slow_ns:
                            self.server.observe.command_done(self, cmd, argv, elapsed)
                        started = ended
                if not self.reply_mode:
                    if reply is not None:
                        out.append(reply)
                else:
                    self._reply_mode_step()
                if self.interrupted:
                    break
        except hiredis.ProtocolError:
            if run_calls:
                _close_run(self, run_cmd, run_calls, batch[-1], started, slow_ns)
            self._recover(len(batch), len(batch) - routed)
            return
        if run_calls:
            _close_run(self, run_cmd, run_calls, batch[-1], started, slow_ns)
        done = len(batch)
        if cmd is not None:
            # The gate records the command it runs; the inline path only needs the last one.
            self.current_command = cmd
        self.stats.total_commands_processed += done - routed
        if done == 0:
            # Nothing completed: what is retained is the start of one partial request.
            if len(self.raw_pending) == 1 and not self.interrupted:
                self._check_tail(self.raw_pending[0])
        elif self.interrupted:
            self._keep_tail(batch_length(batch))
        elif self.reader_idle is not None:
            if self.reader_idle.holds_nothing():
                self.raw_pending.clear()
            else:
                self._keep_tail(batch_length(batch))
        elif done == 1 and len(self.raw_pending) == 1:
            # One request in one read (no pipelining): an exact length check is cheapest.
            if len(self.raw_pending[0]) == encoded_length(batch[0]):
                self.raw_pending.clear()
            else:
                self._keep_tail(encoded_length(batch[0]))
        elif _ends_with_request(self.raw_pending[-1], batch[-1]):
            # hiredis does not say whether it holds the start of another request; a read that
            # ends with the exact encoding of the last request returned ended on a boundary
            # (unless a partial request's data ends with that same encoding: then the retained
            # bytes are only needed by the exact parser for malformed input, see _check_tail).
            self.raw_pending.clear()
        else:
            self._keep_tail(batch_length(batch))
        if self.kill_after_reply:
            self._write_before_closing()
        elif out and not self.flush_pending:
            # Replies are written once per loop turn, after every readable client has been
            # served, as Redis writes in beforeSleep: fewer wake-ups of the peers.
            self.flush_pending = True
            self.server.queue_flush(self)

    def _write_before_closing(self) -> None:
        if self.server.before_reply_write is not None:
            self.server.before_reply_write()  # the AOF first, as for every reply
        self.flush()

    def _keep_tail(self, consumed: int) -> None:
        """Drop the ``consumed`` bytes of the requests hiredis returned; keep and check the rest."""
        raw = self.raw_pending
        joined = raw[0] if len(raw) == 1 else b"".join(raw)
        if consumed >= len(joined):
            raw.clear()
            return
        tail = joined[consumed:]
        self.raw_pending = [tail]
        if not self.interrupted:
            self._check_tail(tail)

    def _check_tail(self, tail: bytes) -> None:
        """Apply Redis's header checks to a partial request now, as Redis does on arrival
        (hiredis would wait for a 1 GB bulk or 3e9 elements before complaining)."""
        if tail[:1] != b"*":
            # Not the start of a request: the boundary was misjudged (see _run_fast), so the
            # exact parser cannot judge these bytes; hiredis keeps parsing them as they come.
            return
        parser = self._new_exact_parser()
        parser.feed(tail[:65536 + 64])
        try:
            if parser.next_command() is None:
                return
        except ProtocolError:
            pass
        self._recover(0, 0)

    # -- suspending a client's pipeline (blocking commands, CLIENT PAUSE) -------------------

    def suspend(self) -> None:
        """Stop running this client's queued requests after the current one.

        Reading goes on (so a disconnect is noticed and the bytes are kept), but nothing more is
        executed until resume(). The command that suspends usually returns None and sends its
        reply later with send().
        """
        self.suspended = True
        self.interrupted = True

    def resume(self) -> None:
        """Run the requests that arrived while suspended, on the next loop turn."""
        if self.suspended:
            self.suspended = False
            self.interrupted = self.closing
            self.server.loop.call_soon(self._resume_pending)

    def _resume_pending(self) -> None:
        if self.closing or self.suspended:
            return
        if self.exact is not None:
            self._run_exact()
        elif self.raw_pending:
            self._run_fast()

    # -- slow paths -------------------------------------------------------------------------

    def _recover(self, executed: int, inline_done: int) -> None:
        """hiredis disagreed with Redis's rules: re-parse the retained bytes exactly."""
        self.stats.total_commands_processed += inline_done
        parser = self._new_exact_parser()
        parser.feed(b"".join(self.raw_pending))
        skip = executed
        self.raw_pending = []
        self.reader = new_reader()
        self.reader_idle = ReaderIdle.for_reader(self.reader)
        try:
            while skip:
                if parser.next_command() is None:
                    break
                skip -= 1
        except ProtocolError:
            pass
        self.exact = parser
        self._run_exact()

    def _switch_to_exact(self, data: bytes) -> None:
        """Hand the retained partial request and ``data`` to the exact parser."""
        if self.raw_pending:
            data = b"".join(self.raw_pending) + data
            self.raw_pending = []
            self.reader = new_reader()
            self.reader_idle = ReaderIdle.for_reader(self.reader)
        self._exact_received(data)

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
        held = self.exact.pending()
        if held > 1048576 and query_buffer_exceeded(self, held):
            return
        if self.exact.partial_argv is not None:
            yield_reading(self)  # a long multibulk in progress: others get their turn first
        if not self.suspended:
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
            if self.reply_mode == REPLY_ON:
                if reply is not None:
                    out.append(reply)
            else:
                self._reply_mode_step()
            if self.suspended:
                break
        if parser.pending() == 0 and not self.suspended:
            # Back to the fast path once the exact parser holds nothing.
            self.exact = None
        if self.kill_after_reply:
            if self.server.before_reply_write is not None:
                self.server.before_reply_write()  # the AOF first, as for every reply
            self.flush()
        elif out and not self.flush_pending:
            # Replies are written once per loop turn, after every readable client has been
            # served, as Redis writes in beforeSleep: fewer wake-ups of the peers.
            self.flush_pending = True
            self.server.queue_flush(self)

    def _reply_mode_step(self) -> None:
        """After a command whose reply was suppressed: CLIENT REPLY SKIP covers one command."""
        if self.reply_mode == REPLY_SKIP:
            self.reply_mode = REPLY_ON
        elif self.reply_mode == REPLY_SKIP_NEXT:
            self.reply_mode = REPLY_SKIP

    # -- output -----------------------------------------------------------------------------

    def flush(self) -> None:
        out = self.out
        if out:
            data = out[0] if len(out) == 1 else b"".join(out)
            if (self.write_blocked or len(data) > CHECKED_WRITE_BYTES) and output_refused(self, len(data)):
                return
            self.transport.write(data)
            out.clear()
            stats = self.stats
            stats.total_net_output_bytes += len(data)
            stats.total_writes_processed += 1
            if self.write_blocked:
                check_output(self)
        if self.kill_after_reply:
            self.closing = True
            self.transport.close()

    def send(self, data: bytes) -> None:
        """Write bytes from outside this client's own command (pub/sub, unblocking)."""
        if self.flush_pending:
            self.out.append(data)  # keep the order behind replies not written yet
        elif not self.closing:
            if self.server.before_reply_write is not None:
                # With an AOF, bytes leave at the end of the loop turn, after the AOF write (and
                # fsync) of what the running command did: nobody hears of an unlogged change.
                self.out.append(data)
                self.flush_pending = True
                self.server.queue_flush(self)
                return
            if (self.write_blocked or len(data) > CHECKED_WRITE_BYTES) and output_refused(self, len(data)):
                return
            self.transport.write(data)
            stats = self.stats
            stats.total_net_output_bytes += len(data)
            stats.total_writes_processed += 1
            if self.write_blocked:
                check_output(self)

    def output_pending(self) -> int:
        """Bytes of output not yet handed to the kernel: replies queued for the end of the loop
        turn plus the transport's write buffer (Redis's output buffer memory for this client)."""
        pending = sum(map(len, self.out))
        transport = self.transport
        if transport is not None:
            try:
                pending += transport.get_write_buffer_size()
            except (AttributeError, RuntimeError):
                pass
        return pending

    def pause_writing(self) -> None:
        # asyncio: the transport's write buffer passed its high-water mark (called from inside
        # transport.write). Until resume_writing, the writer measures the output against the
        # limits right after each write (vermilion.limits.check_output).
        self.write_blocked = True

    def resume_writing(self) -> None:
        self.write_blocked = False
        output_drained(self)

    def send_reply(self, data: bytes) -> None:
        """A reply produced after the command returned (a blocked client being served)."""
        if self.reply_mode == REPLY_ON:
            self.send(data)

    def update_gate(self) -> None:
        """Recompute ``gated`` after a per-client condition changed."""
        self.gated = (self.auth_required or self.multi is not None or self.subscriptions is not None
                      or self.acl_user is not None or self.no_touch)

    def close_after_reply(self) -> None:
        self.closing = True
        self.interrupted = True
        self.kill_after_reply = True

    def close(self) -> None:
        self.closing = True
        self.interrupted = True
        if self.transport is not None:
            self.transport.close()

    def describe(self) -> str:
        return self.server.client_info_line(self)


def write_queued(queue: list[Client], stats: Stats) -> None:
    """Write out the replies of the clients in ``queue``, which waited for the end of the loop
    turn (Server.flush_queued); part of the lane so that the compiled build reads the clients'
    fields directly."""
    written = writes = 0
    for client in queue:
        client.flush_pending = False
        out = client.out
        if len(out) == 1 and not (client.closing or client.write_blocked or client.kill_after_reply):
            # One reply per client is the common case without pipelining: Client.flush written
            # out for it, with the byte counts added up once for the turn.
            data = out[0]
            if len(data) <= CHECKED_WRITE_BYTES:
                client.transport.write(data)
                out.clear()
                written += len(data)
                writes += 1
                if client.write_blocked:  # this write went over the high-water mark
                    check_output(client)
                continue
        if not client.closing:
            client.flush()
    if writes:
        stats.total_net_output_bytes += written
        stats.total_writes_processed += writes


def _ends_with_request(chunk: bytes, argv: list) -> bool:
    if len(argv) > 8:
        return False
    size = 0
    for arg in argv:
        size += len(arg)
    if size > 1024:
        return False
    encoded = b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])
    return chunk.endswith(encoded)


def batch_length(batch: list) -> int:
    """Bytes a batch of requests took on the wire, computed with C-level map/sum (this runs once
    per read). hiredis accepts only Redis's canonical numbers, so the encoding is unique."""
    sizes = list(map(len, chain.from_iterable(batch)))
    return (
        3 * len(batch)
        + len("".join(map(str, map(len, batch))))
        + 5 * len(sizes)
        + sum(sizes)
        + len("".join(map(str, sizes)))
    )


def encoded_length(argv: list) -> int:
    """Bytes a request took on the wire (hiredis accepts only Redis's canonical numbers)."""
    length = 3 + len(str(len(argv)))
    for arg in argv:
        size = len(arg)
        length += 5 + len(str(size)) + size
    return length
