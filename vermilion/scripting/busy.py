"""Serving other clients while a script runs too long (busy-reply-threshold).

Scripts run on the event loop thread, so while one runs the loop is stopped. Redis handles
this from a Lua hook: past the threshold it processes pending I/O itself, answering BUSY to
most commands and running the few allowed then (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS,
SHUTDOWN NOSAVE, ...). Vermilion does the same without re-entering asyncio (which is not
re-entrant):

* the Lua count hook calls ``tick`` every 100,000 instructions;
* once the threshold has passed, ``poll`` looks at the connected clients' sockets (and the
  listening sockets) with a zero-timeout ``select.poll``, reads what arrived with ``os.read``
  and feeds it to each client's own protocol object, exactly as the loop would have;
* every command then takes the full gate (a gate condition), where ``server.script_busy``
  makes it answer BUSY unless its flags allow it;
* replies are written straight to the socket (a transport stand-in), because a loop's
  transport would only queue them until the loop runs again; if the real transport already
  holds unsent bytes, replies queue behind them to keep the order;
* connections accepted meanwhile get a socket-backed stand-in transport and are handed to the
  loop (``connect_accepted_socket``) when the script ends.

The client running the script is left alone until it finishes, as Redis "protects" it.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import time
from typing import TYPE_CHECKING, Any

from ..registry import set_gate_condition

if TYPE_CHECKING:
    from ..connection import Client
    from .state import Scripting, ScriptRun

_LOAD_TIMEOUT = 0.5  # seconds a FUNCTION LOAD may run (Redis's LOAD_TIMEOUT_MS)
_KILLED = b"ERR Script killed by user with SCRIPT KILL..."
_LOAD_TIMED_OUT = b"ERR FUNCTION LOAD timeout"
_READ_SIZE = 1 << 16


class _DirectWrites:
    """Stands in for a client's transport while the loop is stopped: writes go to the socket."""

    __slots__ = ("real", "fd", "pending")

    def __init__(self, real: Any, fd: int) -> None:
        self.real = real
        self.fd = fd
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if self.pending or self.real.get_write_buffer_size():
            self.pending.append(bytes(data))
            return
        try:
            written = os.write(self.fd, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        if written < len(data):
            self.pending.append(bytes(data[written:]))

    def release(self) -> None:
        """Give back anything that could not be written to the real transport."""
        if self.pending:
            data = b"".join(self.pending)
            self.pending = []
            if not self.real.is_closing():
                self.real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _AcceptedSocket:
    """The transport of a connection accepted while the loop is stopped."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if self.pending:
            self.pending.append(bytes(data))
            return
        try:
            written = self.sock.send(data)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        if written < len(data):
            self.pending.append(bytes(data[written:]))

    def get_write_buffer_size(self) -> int:
        return sum(len(chunk) for chunk in self.pending)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self.sock
        if name == "peername":
            try:
                return self.sock.getpeername()
            except OSError:
                return default
        if name == "sockname":
            try:
                return self.sock.getsockname()
            except OSError:
                return default
        return default


class _Adopted(asyncio.Protocol):
    """Hands a connection accepted during a busy script to its Client once the loop owns it."""

    def __init__(self, client: Client, stand_in: _AcceptedSocket) -> None:
        self.client = client
        self.stand_in = stand_in

    def connection_made(self, transport: Any) -> None:
        client = self.client
        client.transport = transport
        if self.stand_in.pending:
            transport.write(b"".join(self.stand_in.pending))
            self.stand_in.pending = []
        if self.stand_in.closed or client.closing:
            transport.close()

    def data_received(self, data: bytes) -> None:
        self.client.data_received(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.connection_lost(exc)

    def pause_writing(self) -> None:
        pause = getattr(self.client, "pause_writing", None)
        if pause is not None:
            pause()

    def resume_writing(self) -> None:
        resume = getattr(self.client, "resume_writing", None)
        if resume is not None:
            resume()


class Busy:
    """The hook's decisions and the timed-out state of the running script."""

    def __init__(self, scripting: Scripting) -> None:
        self.scripting = scripting
        self.accepted: list[tuple[Client, _AcceptedSocket]] = []
        self.finished: set[int] = set()
        self.listening: list[socket.socket] = []

    # -- called by the Lua hook ------------------------------------------------------------------

    def tick(self) -> bytes | None:
        """None to go on; otherwise the error that stops the running code."""
        scripting = self.scripting
        run = scripting.run_ctx
        if run is None:
            loading = scripting.functions.loading
            if loading is not None and time.monotonic() - loading.start > _LOAD_TIMEOUT:
                return _LOAD_TIMED_OUT
            return None
        if not run.timed_out:
            threshold = scripting.server.config.busy_reply_threshold
            if threshold <= 0:
                return None
            elapsed = run.duration_ms()
            if elapsed < threshold:
                return None
            self.enter(run, elapsed)
        self.poll(run)
        if run.killed or self._shutting_down():
            return _KILLED
        return None

    def _shutting_down(self) -> bool:
        future = getattr(self.scripting.server, "_stop_future", None)
        return future is not None and future.done()

    # -- the timed-out state ---------------------------------------------------------------------

    def enter(self, run: ScriptRun, elapsed: int) -> None:
        from .state import BUSY_EVAL, BUSY_FUNCTION

        server = self.scripting.server
        server.log(
            "warning",
            f"Slow script detected: still in execution after {elapsed} milliseconds. You can try "
            f"killing the script using the {'SCRIPT KILL' if run.is_eval else 'FUNCTION KILL'} "
            f"command. Script name is: {run.name.decode('utf-8', 'replace')}.",
        )
        run.timed_out = True
        server.script_busy = BUSY_EVAL if run.is_eval else BUSY_FUNCTION
        set_gate_condition("script-busy", _every_command)
        self.finished = set()
        self.listening = _listening_sockets(server)

    def leave(self, run: ScriptRun) -> None:
        server = self.scripting.server
        server.script_busy = None
        set_gate_condition("script-busy", None)
        for sock in self.listening:
            sock.close()
        self.listening = []
        accepted, self.accepted = self.accepted, []
        loop = server.loop
        for client, stand_in in accepted:
            if stand_in.closed or client.closing:
                stand_in.sock.close()
                continue
            loop.create_task(self._adopt(client, stand_in))

    @staticmethod
    async def _adopt(client: Client, stand_in: _AcceptedSocket) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(lambda: _Adopted(client, stand_in), stand_in.sock)
        except OSError:
            client.connection_lost(None)

    # -- serving other clients -------------------------------------------------------------------

    def poll(self, run: ScriptRun) -> None:
        server = self.scripting.server
        by_fd: dict[int, Client] = {}
        for client in list(server.clients.values()):
            fd = client.fd
            if client is run.caller or fd < 0 or client.closing or fd in self.finished:
                continue
            by_fd[fd] = client
        listeners = {sock.fileno(): sock for sock in self.listening}
        if not by_fd and not listeners:
            return
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        for fd in listeners:
            poller.register(fd, select.POLLIN)
        try:
            events = poller.poll(0)
        except OSError:
            return
        for fd, _ in events:
            listener = listeners.get(fd)
            if listener is not None:
                self._accept(listener)
                continue
            client = by_fd.get(fd)
            if client is not None:
                self._serve(client, fd)

    def _serve(self, client: Client, fd: int) -> None:
        try:
            data = os.read(fd, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.finished.add(fd)
            return
        if not data:
            # End of stream: the loop sees it too once it runs again.
            self.finished.add(fd)
            accepted = next((s for c, s in self.accepted if c is client), None)
            if accepted is not None:
                accepted.close()
                client.connection_lost(None)
            return
        transport = client.transport
        if isinstance(transport, _AcceptedSocket):
            client.data_received(data)
            return
        direct = _DirectWrites(transport, fd)
        client.transport = direct
        try:
            client.data_received(data)
        finally:
            if client.transport is direct:
                client.transport = transport
            direct.release()

    def _accept(self, listener: socket.socket) -> None:
        from ..connection import Client

        try:
            sock, _ = listener.accept()
        except (BlockingIOError, InterruptedError, OSError):
            return
        sock.setblocking(False)
        client = Client(self.scripting.server)
        stand_in = _AcceptedSocket(sock)
        client.connection_made(stand_in)
        self.accepted.append((client, stand_in))


def _every_command(cmd: Any) -> bool:
    return True


def _listening_sockets(server: Any) -> list[socket.socket]:
    """Duplicates of the listening sockets, to accept from while the loop is stopped."""
    sockets = []
    for listener in getattr(server, "listeners", []):
        for wrapped in getattr(listener, "sockets", None) or ():
            try:
                sock = socket.socket(fileno=os.dup(wrapped.fileno()))
            except OSError:
                continue
            sock.setblocking(False)
            sockets.append(sock)
    return sockets
