"""A Prometheus endpoint (Vermilion extension, off by default): with ``metrics-port`` set, an HTTP
listener in the server's own event loop answers ``GET /metrics`` with the Prometheus text format,
using the metric names of oliver006/redis_exporter so existing dashboards and alerts work.

The figures come from the INFO section builders, so they are the numbers INFO shows.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING, Any

from . import info
from .registry import COMMANDS

if TYPE_CHECKING:
    from .server import Server

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_REQUEST_HEAD = 8192

# INFO field -> (metric name without the "redis_" prefix, type). Counters end in _total.
INFO_METRICS: dict[str, tuple[str, str]] = {
    "uptime_in_seconds": ("uptime_in_seconds", "gauge"),
    "process_id": ("process_id", "gauge"),
    "connected_clients": ("connected_clients", "gauge"),
    "blocked_clients": ("blocked_clients", "gauge"),
    "tracking_clients": ("tracking_clients", "gauge"),
    "maxclients": ("max_clients", "gauge"),
    "client_recent_max_input_buffer": ("client_recent_max_input_buffer_bytes", "gauge"),
    "client_recent_max_output_buffer": ("client_recent_max_output_buffer_bytes", "gauge"),
    "used_memory": ("memory_used_bytes", "gauge"),
    "used_memory_rss": ("memory_used_rss_bytes", "gauge"),
    "used_memory_peak": ("memory_used_peak_bytes", "gauge"),
    "used_memory_lua": ("memory_used_lua_bytes", "gauge"),
    "used_memory_overhead": ("memory_used_overhead_bytes", "gauge"),
    "used_memory_startup": ("memory_used_startup_bytes", "gauge"),
    "used_memory_dataset": ("memory_used_dataset_bytes", "gauge"),
    "used_memory_scripts": ("memory_used_scripts_bytes", "gauge"),
    "maxmemory": ("memory_max_bytes", "gauge"),
    "mem_fragmentation_ratio": ("mem_fragmentation_ratio", "gauge"),
    "mem_fragmentation_bytes": ("mem_fragmentation_bytes", "gauge"),
    "mem_clients_normal": ("mem_clients_normal", "gauge"),
    "mem_clients_slaves": ("mem_clients_slaves", "gauge"),
    "mem_not_counted_for_evict": ("mem_not_counted_for_eviction_bytes", "gauge"),
    "loading": ("loading_dump_file", "gauge"),
    "rdb_changes_since_last_save": ("rdb_changes_since_last_save", "gauge"),
    "rdb_bgsave_in_progress": ("rdb_bgsave_in_progress", "gauge"),
    "rdb_last_save_time": ("rdb_last_save_timestamp_seconds", "gauge"),
    "rdb_last_bgsave_time_sec": ("rdb_last_bgsave_duration_sec", "gauge"),
    "aof_enabled": ("aof_enabled", "gauge"),
    "aof_rewrite_in_progress": ("aof_rewrite_in_progress", "gauge"),
    "total_connections_received": ("connections_received_total", "counter"),
    "total_commands_processed": ("commands_processed_total", "counter"),
    "instantaneous_ops_per_sec": ("instantaneous_ops_per_sec", "gauge"),
    "total_net_input_bytes": ("net_input_bytes_total", "counter"),
    "total_net_output_bytes": ("net_output_bytes_total", "counter"),
    "instantaneous_input_kbps": ("instantaneous_input_kbps", "gauge"),
    "instantaneous_output_kbps": ("instantaneous_output_kbps", "gauge"),
    "rejected_connections": ("rejected_connections_total", "counter"),
    "expired_keys": ("expired_keys_total", "counter"),
    "expired_stale_perc": ("expired_stale_percentage", "gauge"),
    "expired_time_cap_reached_count": ("expired_time_cap_reached_total", "gauge"),
    "evicted_keys": ("evicted_keys_total", "counter"),
    "evicted_clients": ("evicted_clients_total", "counter"),
    "keyspace_hits": ("keyspace_hits_total", "counter"),
    "keyspace_misses": ("keyspace_misses_total", "counter"),
    "pubsub_channels": ("pubsub_channels", "gauge"),
    "pubsub_patterns": ("pubsub_patterns", "gauge"),
    "total_error_replies": ("total_error_replies", "counter"),
    "connected_slaves": ("connected_slaves", "gauge"),
    "repl_backlog_size": ("replication_backlog_bytes", "gauge"),
    "master_repl_offset": ("master_repl_offset", "gauge"),
    "used_cpu_sys": ("cpu_sys_seconds_total", "counter"),
    "used_cpu_user": ("cpu_user_seconds_total", "counter"),
    "used_cpu_sys_children": ("cpu_sys_children_seconds_total", "counter"),
    "used_cpu_user_children": ("cpu_user_children_seconds_total", "counter"),
    "used_cpu_sys_main_thread": ("cpu_sys_main_thread_seconds_total", "counter"),
    "used_cpu_user_main_thread": ("cpu_user_main_thread_seconds_total", "counter"),
}
_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Exposition:
    """Prometheus text format: one HELP and TYPE line per metric family, then its samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], Any]]) -> None:
        self.lines.append(f"# HELP redis_{name} {help_text}")
        self.lines.append(f"# TYPE redis_{name} {kind}")
        for labels, value in samples:
            if labels:
                text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
                self.lines.append(f"redis_{name}{{{text}}} {value}")
            else:
                self.lines.append(f"redis_{name} {value}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _info_fields(server: Server) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in _SECTIONS:
        _, builder = info.SECTIONS[name]
        for line in builder(server):
            key, _, value = line.partition(":")
            fields[key] = value
    return fields


def _number(text: str) -> str | None:
    try:
        float(text)
    except ValueError:
        return None
    return text


def render(server: Server) -> str:
    """The whole scrape."""
    out = _Exposition()
    started = time.perf_counter()
    fields = _info_fields(server)
    out.family("up", "gauge", "Whether the server answered (always 1 from the server itself).", [({}, 1)])
    out.family("instance_info", "gauge", "Version, mode, role and identity of this server.", [({
        "role": fields.get("role", "master"), "redis_version": fields.get("redis_version", ""),
        "redis_build_id": fields.get("redis_build_id", ""), "redis_mode": fields.get("redis_mode", ""),
        "os": fields.get("os", ""), "maxmemory_policy": fields.get("maxmemory_policy", ""),
        "tcp_port": fields.get("tcp_port", ""), "run_id": fields.get("run_id", ""),
        "process_id": fields.get("process_id", ""),
    }, 1)])
    for field, (name, kind) in INFO_METRICS.items():
        value = fields.get(field)
        if value is None or _number(value) is None:
            continue
        out.family(name, kind, f"INFO field {field}.", [({}, value)])
    keys, expiring, ttl = [], [], []
    for db in server.dbs:
        if db.data:
            label = {"db": f"db{db.index}"}
            keys.append((label, len(db.data)))
            expiring.append((label, len(db.expires)))
            ttl.append((label, db.avg_ttl / 1000))
    out.family("db_keys", "gauge", "Keys in each database.", keys)
    out.family("db_keys_expiring", "gauge", "Keys with a time to live in each database.", expiring)
    out.family("db_avg_ttl_seconds", "gauge", "Average time to live of the keys sampled by active expiry.", ttl)
    calls, durations, failed, rejected = [], [], [], []
    for cmd in COMMANDS.values():
        if cmd.calls or cmd.failed_calls or cmd.rejected_calls:
            label = {"cmd": cmd.full_name}
            calls.append((label, cmd.calls))
            durations.append((label, cmd.duration_ns // 1000 / 1_000_000))
            failed.append((label, cmd.failed_calls))
            rejected.append((label, cmd.rejected_calls))
    out.family("commands_total", "counter", "Calls of each command (INFO commandstats calls).", calls)
    out.family("commands_duration_seconds_total", "counter", "Time spent running each command.", durations)
    out.family("commands_failed_calls_total", "counter", "Calls of each command that failed.", failed)
    out.family("commands_rejected_calls_total", "counter", "Calls of each command refused before running.",
               rejected)
    errors = sorted(server.stats.error_codes.items())
    out.family("errors_total", "counter", "Error replies by error code (INFO errorstats).",
               [({"err": code}, count) for code, count in errors])
    slowlog = server.observe.slowlog
    out.family("slowlog_length", "gauge", "Entries in the slow log.", [({}, len(slowlog))])
    out.family("slowlog_last_id", "gauge", "Id of the newest slow log entry.",
               [({}, slowlog[0].id if slowlog else 0)])
    events = server.observe.latency_events
    out.family("latency_spike_last", "gauge", "When each latency event last occurred (unix time).",
               [({"event_name": event}, series.samples[-1][0]) for event, series in events.items()])
    out.family("latency_spike_duration_seconds", "gauge", "Length of the last latency spike of each event.",
               [({"event_name": event}, series.samples[-1][1] / 1000) for event, series in events.items()])
    out.family("exporter_scrape_duration_seconds", "gauge", "Time this scrape took to build.",
               [({}, f"{time.perf_counter() - started:.6f}")])
    return out.text()


class MetricsProtocol(asyncio.Protocol):
    """One HTTP/1.x request per connection: GET /metrics, or an error status."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: Any = None
        self.head = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.head += data
        if b"\r\n\r\n" not in self.head and b"\n\n" not in self.head:
            if len(self.head) > MAX_REQUEST_HEAD:
                self._respond(431, "Request Header Fields Too Large", "request head too large\n")
            return
        request_line = self.head.split(b"\n", 1)[0].strip().split()
        if len(request_line) != 3 or not request_line[2].startswith(b"HTTP/"):
            self._respond(400, "Bad Request", "bad request\n")
            return
        method, target = request_line[0], request_line[1].split(b"?", 1)[0]
        if target != b"/metrics":
            self._respond(404, "Not Found", "not found: only /metrics is served\n")
        elif method not in (b"GET", b"HEAD"):
            self._respond(405, "Method Not Allowed", "method not allowed\n", extra="Allow: GET, HEAD\r\n")
        else:
            body = render(self.server)
            self._respond(200, "OK", body, content_type=CONTENT_TYPE, head_only=method == b"HEAD")

    def _respond(self, status: int, reason: str, body: str, content_type: str = "text/plain; charset=utf-8",
                 extra: str = "", head_only: bool = False) -> None:
        payload = body.encode()
        header = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                  f"Content-Length: {len(payload)}\r\n{extra}Connection: close\r\n\r\n").encode()
        self.transport.write(header if head_only else header + payload)
        self.transport.close()


class MetricsEndpoint:
    """The listeners of the metrics port; reopened when metrics-port changes. Sockets are bound
    synchronously (so CONFIG SET reports a port in use at once) and served by the event loop."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.listeners: list[asyncio.AbstractServer] = []

    def bind(self) -> list[socket.socket]:
        """Listening sockets on the server's bind addresses (a "-" address may fail)."""
        port = self.server.config.metrics_port
        sockets: list[socket.socket] = []
        for address in self.server.config.bind or ["127.0.0.1"]:
            optional = address.startswith("-")
            host = address.lstrip("-")
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((host, port))
                sock.listen(128)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                if optional:
                    continue
                for opened in sockets:
                    opened.close()
                raise OSError(exc.errno, f"Could not create metrics listener on {host}:{port}: {exc.strerror}") from None
            sockets.append(sock)
        return sockets

    async def serve(self, sockets: list[socket.socket]) -> None:
        loop = asyncio.get_running_loop()
        for sock in sockets:
            self.listeners.append(await loop.create_server(lambda: MetricsProtocol(self.server), sock=sock))

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.listeners = []


def endpoint_of(server: Server) -> MetricsEndpoint:
    endpoint = getattr(server, "metrics", None)
    if endpoint is None:
        endpoint = server.metrics = MetricsEndpoint(server)
        server.shutdown_hooks.append(endpoint.close)
    return endpoint


async def start(server: Server) -> None:
    """Open the endpoint when the server starts listening (nothing when metrics-port is 0)."""
    port = server.config.metrics_port
    if port:
        endpoint = endpoint_of(server)
        await endpoint.serve(endpoint.bind())
        server.log("notice", f"Metrics endpoint (Prometheus) listening on port {port}.")


def apply_port(server: Server, old: Any, new: Any) -> None:
    """CONFIG SET metrics-port: close the old listener and open the new one (0: none)."""
    from .config import ConfigError

    if server.loop is None:
        return
    endpoint = endpoint_of(server)
    endpoint.close()
    if server.config.metrics_port:
        try:
            sockets = endpoint.bind()
        except OSError as exc:
            server.log("warning", str(exc))
            raise ConfigError(f"Unable to listen on the metrics port: {exc.strerror}") from None
        asyncio.ensure_future(endpoint.serve(sockets), loop=server.loop)
