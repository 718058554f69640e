"""Server state (databases, clients, statistics), listeners, the cron tick, and embedding."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from . import __version__
from . import eviction, limits, metrics, observe
from .blocking import BlockingState
from .config import Config
from .connection import Client, Stats, write_queued
from .errors import error_code
from .keyspace.db import Db, now_ms
from .notify import NOTIFY_EXPIRED, notify
from .pubsub import PubSub
from .acl import AclState
from .persistence.saving import Persistence
from .persistence import aof as persistence_aof
from .resp.encode import error as encode_error

try:  # uvloop is optional: plain asyncio works, only slower
    import uvloop
except ImportError:  # pragma: no cover - depends on the platform
    uvloop = None

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
LEVEL_MARKS = ".-*#"


class Server:
    """A Vermilion server. ``Server(port=0).start()`` runs one in a background thread."""

    def __init__(self, config: Config | None = None, **options: Any) -> None:
        self.config = config or Config()
        for name, value in options.items():
            self.config.set(name.replace("_", "-"), value)
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.flush_queue: list[Client] = []
        self.stats = Stats()
        # Seconds since the epoch, refreshed by the cron: the clock of per-key access times.
        self.lru_clock = int(time.time())
        self.dbs = [Db(self, index) for index in range(self.config.databases)]
        self.blocking = BlockingState(self)
        # Parsed notify-keyspace-events classes (vermilion.notify); 0 = notifications off.
        self.notify_flags = self.config.notify_keyspace_events
        # Channels, patterns and shard channels with their subscribers (vermilion.pubsub).
        self.pubsub = PubSub(self)
        # Slow log, MONITOR, latency events (vermilion.observe); sets slow_command_ns, the one
        # threshold the fast path compares each command's duration with.
        self.slow_command_ns = 1 << 62
        observe.install(self)
        # Users, authentication and the ACL log (vermilion.acl).
        self.acl = AclState(self)
        self.dirty = 0
        # vermilion.propagate.Propagation while something consumes the command stream (AOF).
        self.propagation = None
        # Called before any reply of a loop turn is written (the AOF write and fsync), else None.
        self.before_reply_write: Callable[[], None] | None = None
        # Run at every cron tick after active expiry (the AOF's fsync and automatic rewrite).
        self.cron_hooks: list[Callable[[], None]] = []
        self.start_time = time.time()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[asyncio.AbstractServer] = []
        self.port = self.config.port
        self.active_expire_enabled = True
        # CLIENT PAUSE state (commands.connection.ClientPause), created by the first pause.
        self.client_pause = None
        # The BUSY error while a script runs past busy-reply-threshold, else None (see dispatch).
        self.script_busy: str | None = None
        self.cron_handle: asyncio.TimerHandle | None = None
        self.cron_loops = 0
        self.shutdown_hooks: list[Callable[[], None]] = []
        # maxmemory, eviction and memory accounting state (vermilion.eviction, vermilion.memory).
        eviction.attach(self)
        self.stopped = asyncio.Event() if False else None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self.pid = os.getpid()
        self.role_mark = "M"
        self.log_stream = None
        # An embedded server (start()) logs only when given a logfile.
        self.quiet = False
        # Port 0 takes a free port (embedding, tests); the command line sets this to False, as
        # for redis-server port 0 means "no TCP".
        self.ephemeral_port = True
        self.tcp_listeners: list[asyncio.AbstractServer] = []
        self.unix_listener: asyncio.AbstractServer | None = None
        # Run after "Server initialized", before "Ready to accept connections" (dataset loading).
        self.startup_hooks: list[Callable[[], None]] = []
        # Run between "User requested shutdown..." and "... ready to exit" (pid file removal).
        self.before_exit_hooks: list[Callable[[], None]] = []
        # The append only file (vermilion.persistence.aof): boot loading, cron, shutdown fsync.
        persistence_aof.install(self)
        # Run after "User requested shutdown...", given SHUTDOWN's options; one returning False
        # cancels the shutdown (the final RDB save failed).
        self.shutdown_checks: list[Callable[[set[bytes]], bool]] = []
        # The running background snapshot (vermilion.persistence.snapshot), else None.
        self.snapshot = None
        # While set (MISCONF after a failed BGSAVE, LOADING while the dataset loads), the gate
        # asks it whether a command is refused (vermilion.persistence.saving).
        self.write_denial: Callable[[Client, Any], str | None] | None = None
        # RDB saving and loading (vermilion.persistence.saving).
        self.persistence = Persistence(self)

    # -- logging in Redis's format -----------------------------------------------------------

    def log(self, level: str, message: str) -> None:
        """A log line in Redis's format, to the logfile or stdout (and syslog when enabled)."""
        if self.quiet:
            return
        if LEVELS[level] < LEVELS.get(self.config.loglevel, 2):
            return
        from .startup import log_line, write_log

        write_log(self.config, level, log_line(self.pid, self.role_mark, level, message))

    def log_verbose(self, message: str) -> None:
        self.log("verbose", message)

    # -- hooks the connection and the keyspace call -------------------------------------------

    def auth_required_by_default(self) -> bool:
        return self.acl.auth_required_by_default()

    def expire_allowed(self) -> bool:
        """Whether expired keys may be deleted now: not while clients are paused, as in Redis."""
        pause = self.client_pause
        return pause is None or not pause.active()

    def key_expired(self, db: Db, key: bytes) -> None:
        """A key expired (lazily or actively): the place for events and propagation."""
        if self.notify_flags:
            notify(db, NOTIFY_EXPIRED, b"expired", key)
        if self.propagation is not None:
            self.propagation.add(db.index, [b"UNLINK" if self.config.lazyfree_lazy_expire else b"DEL", key])

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Append one command to the propagation stream (vermilion.propagate); free when off."""
        if self.propagation is not None:
            self.propagation.add(db_index, argv)

    def propagate_as(self, client: Client, argvs: list[list[bytes]]) -> None:
        """The running command propagates ``argvs`` instead of its own argv (rewrite/alsoPropagate)."""
        if self.propagation is not None:
            self.propagation.replace(client, argvs)

    def publish_keyspace_event(self, db: Db, event_class: int, event: bytes, key: bytes) -> None:
        """Deliver one keyspace event to the channels it belongs on."""
        self.pubsub.keyspace_event(db, self.notify_flags, event, key)

    def error_reply(self, text: str, protocol: bool = False) -> bytes:
        stats = self.stats
        stats.total_error_replies += 1
        code = error_code(text)
        stats.error_codes[code] = stats.error_codes.get(code, 0) + 1
        return encode_error(text)

    def queue_flush(self, client: Client) -> None:
        """Write ``client``'s replies at the end of this loop turn (at once while a busy script
        keeps the loop from turning)."""
        if self.script_busy is not None or self.loop is None:
            if self.before_reply_write is not None:
                self.before_reply_write()
            client.flush_pending = False
            client.flush()
            return
        self.flush_queue.append(client)
        if len(self.flush_queue) == 1:
            self.loop.call_soon(self.flush_queued)

    def flush_queued(self) -> None:
        if self.before_reply_write is not None:
            self.before_reply_write()
        queue, self.flush_queue = self.flush_queue, []
        write_queued(queue, self.stats)

    def client_connected(self, client: Client) -> None:
        transport = client.transport
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if sock is not None and sock.family == socket.AF_UNIX:
            # Redis shows unix socket clients as "<socket path>:0" on both ends, flag U.
            client.is_unix = True
            path = local if isinstance(local, str) and local else str(self.config.unixsocket or "")
            client.address = client.local_address = f"{path}:0"
            self.log_verbose(f"Accepted connection to {path}")
        else:
            client.address = _format_address(peer)
            client.local_address = _format_address(local)
            self.log_verbose(f"Accepted {client.address}")
        if not limits.admit(self, client):
            return
        client.id = self.next_client_id
        self.next_client_id += 1
        self.clients[client.id] = client
        self.stats.total_connections_received += 1
        if sock is not None:
            client.fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                limits.configure_socket(self, sock)

    def client_disconnected(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        self.observe.client_gone(client)
        if client.blocked is not None:
            self.blocking.disconnected(client)
        if client.subscriptions is not None:
            self.pubsub.forget(client)
        for db, key in client.watching:
            watchers = db.watched.get(key)
            if watchers and client in watchers:
                watchers.remove(client)
                if not watchers:
                    del db.watched[key]
        client.watching = []

    def client_info_line(self, client: Client) -> str:
        from .info import client_info_line

        return client_info_line(client)

    # -- cron: active expiry and the rest, hz times a second ----------------------------------

    def cron(self) -> None:
        self.cron_loops += 1
        self.lru_clock = int(time.time())
        try:
            if self.active_expire_enabled and self.expire_allowed():
                started = time.perf_counter_ns()
                self.active_expire_cycle()
                self.observe.latency_sample("expire-cycle", (time.perf_counter_ns() - started) // 1_000_000)
            eviction.cron(self)
            self.observe.cron()  # client eviction (maxmemory-clients)
            if self.config.timeout and self.cron_loops % max(1, min(self.config.hz, 500)) == 0:
                limits.close_idle_clients(self)  # about once a second, as Redis's clientsCron
            for hook in tuple(self.cron_hooks):  # a hook may remove itself
                hook()
        finally:
            hz = max(1, min(self.config.hz, 500))
            self.cron_handle = self.loop.call_later(1.0 / hz, self.cron)

    def active_expire_cycle(self) -> None:
        """Redis 7's slow cycle: walk each db's keys with a TTL in steps of 20, repeating while
        more than 10% of a step had expired, within 25% of a cron period."""
        hz = max(1, min(self.config.hz, 500))
        deadline = time.perf_counter() + 0.25 / hz
        stats = self.stats
        for db in self.dbs:
            expires = db.expires
            if not expires:
                continue
            while True:
                if db.expire_scan_pos >= len(db.expire_scan):
                    db.expire_scan = list(expires)
                    db.expire_scan_pos = 0
                    if not db.expire_scan:
                        break
                batch = db.expire_scan[db.expire_scan_pos : db.expire_scan_pos + 20]
                db.expire_scan_pos += len(batch)
                now = now_ms()
                expired = sampled = 0
                ttl_sum = ttl_samples = 0
                for key in batch:
                    when = expires.get(key)
                    if when is None:
                        continue
                    sampled += 1
                    if when < now:
                        db.expire_key(key)
                        expired += 1
                    else:
                        ttl_sum += when - now
                        ttl_samples += 1
                if ttl_samples:
                    # A running average of the sampled TTLs, as Redis keeps for INFO keyspace.
                    sample_avg = ttl_sum // ttl_samples
                    db.avg_ttl = sample_avg if not db.avg_ttl else (db.avg_ttl // 50) * 49 + sample_avg // 50
                if time.perf_counter() > deadline:
                    stats.expired_time_cap_reached_count += 1
                    return
                if sampled == 0 or expired * 100 // sampled <= 10:
                    break

    # -- running ------------------------------------------------------------------------------

    async def listen(self) -> None:
        """Open the listeners the config asks for (see startup.open_listeners); OSError after
        logging Redis's message when that fails."""
        from .startup import open_listeners

        self.loop = asyncio.get_running_loop()
        self.loop.set_exception_handler(self._loop_exception)
        await open_listeners(self)
        await metrics.start(self)  # the Prometheus endpoint, when metrics-port is set
        self.cron_handle = self.loop.call_later(1.0 / max(1, self.config.hz), self.cron)

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """An exception escaped a callback: a bug (socket errors never get here), after which
        asyncio closes the connection involved. Its report (with the traceback) goes to stderr,
        which a daemonized server has closed, so the server's own log says it too, as it does
        for a handler that crashed."""
        loop.default_exception_handler(context)
        self.log("warning", f"Internal error in the event loop: {context.get('message')} "
                            f"({context.get('exception')!r})")

    async def close(self) -> None:
        if self.cron_handle is not None:
            self.cron_handle.cancel()
        for listener in self.listeners:
            listener.close()
        for client in list(self.clients.values()):
            client.close()
        for listener in self.listeners:
            await listener.wait_closed()
        self.listeners = []
        for hook in self.shutdown_hooks:
            hook()

    def run(self) -> int:
        """Serve in this thread until SIGTERM, SIGINT or SHUTDOWN; returns the exit code."""
        if uvloop is not None:
            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return asyncio.run(self._main())

    async def _main(self) -> int:
        from .startup import before_exit, serve_from_command_line

        self.before_exit_hooks.append(lambda: before_exit(self))
        return await serve_from_command_line(self)

    def _signal_shutdown(self, signum: int) -> None:
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        self.log("warning", f"Received {name} scheduling shutdown...")
        self.request_shutdown(0)

    def request_shutdown(self, code: int = 0, options: set[bytes] | None = None) -> bool:
        """Shut down (SHUTDOWN's ``options``: b"save", b"nosave", b"force", ...); False when a
        shutdown check (the final save) failed and the server keeps running."""
        future = getattr(self, "_stop_future", None)
        if future is not None and not future.done():
            self.log("warning", "User requested shutdown...")
            for check in self.shutdown_checks:
                if not check(options or set()):
                    self.log("warning", "Errors trying to shut down the server. Check the logs for more information.")
                    return False
            for hook in self.before_exit_hooks:
                hook()
            self.log("warning", "Redis is now ready to exit, bye bye...")
            future.set_result(code)
        return True

    # -- embedding ----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Server:
        """Start serving in a background thread; returns once the port is listening."""
        self.quiet = not self.config.logfile
        self._thread = threading.Thread(target=self._thread_main, name="vermilion", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("vermilion server did not start in time")
        if self._start_error is not None:
            raise self._start_error
        return self

    def _thread_main(self) -> None:
        loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._thread_serve())
        finally:
            loop.close()

    async def _thread_serve(self) -> None:
        try:
            await self.listen()
        except BaseException as exc:  # reported to the thread that called start()
            self._start_error = exc
            self._ready.set()
            return
        self._stop_future = asyncio.get_running_loop().create_future()
        self._ready.set()
        await self._stop_future
        await self.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a server started with start()."""
        if self.loop is not None and self._thread is not None:
            # An embedded server stops without the shutdown save (see persistence.saving).
            self.loop.call_soon_threadsafe(self.request_shutdown, 0, {b"nosave"})
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _format_address(address: Any) -> str:
    if not address:
        return ""
    if isinstance(address, tuple):
        host, port = address[0], address[1]
        # Redis brackets IPv6 addresses: [::1]:6379
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(address)


__all__ = ["Server", "Stats", "__version__"]
