"""Connection limits as Redis 7.0 applies them: admission (maxclients, protected mode), TCP
keepalive, idle timeout, query buffer limit, output buffer limits and output flow control.

The connection calls in here only in unusual situations (a new connection, a read that leaves a
large partial request, a transport whose write buffer passed its high-water mark), so none of it
costs the request fast path anything.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from .sdsrepr import sds_repr_text

if TYPE_CHECKING:
    from .connection import Client
    from .server import Server

MAX_CLIENTS_REACHED = b"-ERR max number of clients reached\r\n"

# Sent (then the connection is closed) to a non-loopback client while protected mode applies.
# Clients and operators match this text, so it is Redis's, word for word.
PROTECTED_MODE_DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password "
    b"is set for the default user. In this mode connections are only accepted from the loopback "
    b"interface. If you want to connect from external computers to Redis you may adopt one of the "
    b"following solutions: 1) Just disable protected mode sending the command 'CONFIG SET "
    b"protected-mode no' from the loopback interface by connecting to Redis from the same host the "
    b"server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    b"so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the "
    b"protected mode by editing the Redis configuration file, and setting the protected mode option "
    b"to 'no', and then restarting the server. 3) If you started the server manually just for "
    b"testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    b"password for the default user. NOTE: You only need to do one of the above things in order for "
    b"the server to start accepting connections from the outside.\r\n"
)

# Output flow control: above this many bytes waiting for a client's socket, the server stops
# reading that client's requests until the socket drains (asyncio's resume_writing), so a client
# that never reads its replies cannot make the server buffer without bound. High enough that a
# client sending a whole large pipeline before reading any reply is never held up.
FLOW_CONTROL_PENDING = 64 * 1024 * 1024

# A write of more bytes than this is checked against the client's output limits before it is
# made (output_refused); smaller ones only while the socket is backed up (check_output after).
CHECKED_WRITE_BYTES = 65536

# Client classes of client-output-buffer-limit (Redis's getClientType).
CLASS_NORMAL, CLASS_REPLICA, CLASS_PUBSUB = "normal", "slave", "pubsub"


# -- admission ----------------------------------------------------------------------------------


def admit(server: Server, client: Client) -> bool:
    """Redis's acceptCommonHandler and clientAcceptHandler checks for a new connection. A refused
    connection gets Redis's error written, is closed, and counts in rejected_connections."""
    if len(server.clients) >= server.config.maxclients:
        refuse(server, client, MAX_CLIENTS_REACHED)
        return False
    if server.config.protected_mode and not client.is_unix and _default_user_nopass(server):
        if not _is_loopback(client.transport.get_extra_info("peername")):
            refuse(server, client, PROTECTED_MODE_DENIED)
            return False
    return True


def refuse(server: Server, client: Client, message: bytes) -> None:
    server.stats.rejected_connections += 1
    client.closing = True
    client.interrupted = True
    transport = client.transport
    try:
        transport.write(message)
    finally:
        transport.close()


def _default_user_nopass(server: Server) -> bool:
    acl = getattr(server, "acl", None)
    if acl is not None:
        return bool(acl.default.nopass)
    return not server.config.requirepass


def _is_loopback(peer: object) -> bool:
    """Redis's connIsLocal for TCP: a 127.0.0.0/8 or ::1 peer (an IPv4-mapped one too)."""
    if not isinstance(peer, tuple) or not peer:
        return True  # no address to judge (a unix socket or a stand-in transport)
    host = str(peer[0])
    if host.startswith("::ffff:"):
        host = host[7:]
    return host.startswith("127.") or host == "::1"


def configure_socket(server: Server, sock: socket.socket) -> None:
    """TCP_NODELAY always; SO_KEEPALIVE with Redis's timings when tcp-keepalive is set."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    interval = server.config.tcp_keepalive
    if interval > 0:
        set_keepalive(sock, interval)


def set_keepalive(sock: socket.socket, interval: int) -> None:
    """Redis's anetKeepAlive: probes start after ``interval`` idle seconds, then every third of
    it, and the connection is dropped after 3 unanswered probes."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass


# -- idle timeout (clientsCronHandleTimeout) ------------------------------------------------------


def close_idle_clients(server: Server) -> None:
    """Close clients idle for more than ``timeout`` seconds: not blocked clients (their command
    has its own timeout) nor subscribers, which wait for messages by design."""
    max_idle = server.config.timeout
    if not max_idle:
        return
    now = int(time.time())
    for client in list(server.clients.values()):
        if client.blocked is not None or client.subscriptions is not None or client.closing:
            continue
        if client.flags and ("S" in client.flags or "M" in client.flags):
            continue  # replicas and MONITOR clients never time out
        if now - int(client.last_interaction) > max_idle:
            server.log_verbose("Closing idle client")
            client.close()


# -- query buffer limit -------------------------------------------------------------------------


def query_buffer_exceeded(client: Client, held: int) -> bool:
    """Close ``client`` when its unparsed input passes client-query-buffer-limit, with Redis's
    log line (the client gets no reply). True when it was closed."""
    server = client.server
    if held <= server.config.client_query_buffer_limit:
        return False
    head = _held_head(client)
    server.log(
        "warning",
        f"Closing client that reached max query buffer length: {client.describe()} "
        f"(qbuf initial bytes: {sds_repr_text(head)})",
    )
    client.closing = True
    client.interrupted = True
    client.transport.abort()
    return True


def _held_head(client: Client) -> bytes:
    if client.exact is not None:
        buffer = client.exact.buffer
        return bytes(buffer[client.exact.pos : client.exact.pos + 64])
    return b"".join(client.raw_pending[:2])[:64]


# -- output buffer limits and flow control --------------------------------------------------------


def client_class(client: Client) -> str:
    """The client-output-buffer-limit class (Redis's getClientType; MONITOR counts as normal)."""
    flags = client.flags
    if flags and "S" in flags and "M" not in flags:
        return CLASS_REPLICA
    if client.subscriptions is not None:
        return CLASS_PUBSUB
    return CLASS_NORMAL


def check_output(client: Client) -> None:
    """Called while a client's transport is over its high-water mark (see Client.pause_writing),
    after more output was queued: apply the class's output buffer limits, then flow control."""
    if client.closing:
        return
    pending = client.output_pending()
    if over_output_limit(client, pending):
        drop_for_output_limit(client)
        return
    if pending > FLOW_CONTROL_PENDING and not client.reading_paused:
        client.reading_paused = True
        client.transport.pause_reading()


def output_refused(client: Client, size: int) -> bool:
    """Before ``size`` more bytes are written (a large write, or one to a client already
    backed up): drop the client instead when they would take it over its class's limit, so
    that, as in Redis, nothing of the refused output reaches it. True when it was dropped."""
    transport = client.transport
    pending = size + (transport.get_write_buffer_size() if transport is not None else 0)
    if not over_output_limit(client, pending):
        return False
    client.out.clear()
    drop_for_output_limit(client)
    return True


def over_output_limit(client: Client, pending: int) -> bool:
    """Redis's checkClientOutputBufferLimits: over the hard limit at once; over the soft limit
    once it has stayed over it for more than the configured seconds."""
    hard, soft, seconds = client.server.config.client_output_buffer_limit[client_class(client)]
    if hard and pending >= hard:
        return True
    if soft and pending >= soft:
        now = int(time.time())
        if not client.obuf_soft_since:
            client.obuf_soft_since = now
            return False
        return now - client.obuf_soft_since > seconds
    client.obuf_soft_since = 0
    return False


def drop_for_output_limit(client: Client) -> None:
    client.server.log(
        "warning",
        f"Client {client.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.",
    )
    client.closing = True
    client.interrupted = True
    # abort(): discard what is queued for the socket instead of trying to deliver it.
    client.transport.abort()


def yield_reading(client: Client) -> None:
    """Let other clients run before this one's next read. The event loop reads a busy socket
    many times in a row (libuv: up to 32 reads per wake-up), which is harmless when a read
    costs microseconds but starved everyone else while the exact parser worked through a
    multibulk of millions of elements (multi-second PING latencies)."""
    if client.reading_paused or client.closing or client.server.loop is None:
        return
    client.reading_paused = True
    client.transport.pause_reading()
    client.server.loop.call_soon(_resume_after_yield, client)


def _resume_after_yield(client: Client) -> None:
    if client.reading_paused and not client.closing and client.output_pending() <= FLOW_CONTROL_PENDING:
        client.reading_paused = False
        client.transport.resume_reading()


def output_drained(client: Client) -> None:
    """The transport went back under its low-water mark: read requests again."""
    client.obuf_soft_since = 0
    if client.reading_paused and not client.closing:
        client.reading_paused = False
        client.transport.resume_reading()


__all__ = [
    "admit", "configure_socket", "set_keepalive", "close_idle_clients", "query_buffer_exceeded",
    "check_output", "output_drained", "client_class", "MAX_CLIENTS_REACHED", "PROTECTED_MODE_DENIED",
]
