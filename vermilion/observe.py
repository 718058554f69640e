"""Observability state as Redis 7.0 keeps it: the slow log, MONITOR clients, latency events
(LATENCY LATEST / HISTORY / GRAPH / DOCTOR) and per-command latency histograms.

Cost when unused: the connection's fast path compares each command's duration with
``server.slow_command_ns`` (the smaller of the slow log and latency monitor thresholds, a huge
number when both are off) and only then calls ``Observe.command_done``. MONITOR sends every
command through the gate only while a monitor exists (a gate condition), and ``dispatch.call``
feeds the monitors. Latency histograms are one list increment per command.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from .registry import COMMANDS, Command, set_gate_condition
from .sdsrepr import sds_repr

if TYPE_CHECKING:
    from .connection import Client
    from .server import Server

# Above any duration: the threshold when neither the slow log nor the latency monitor is on.
NEVER = 1 << 62

SLOWLOG_ENTRY_MAX_ARGC = 32
SLOWLOG_ENTRY_MAX_STRING = 128
LATENCY_TS_LEN = 160
LATENCY_GRAPH_COLS = 80
# maxmemory-clients is never taken below this, so a bad setting cannot lock everyone out.
CLIENT_EVICTION_MIN = 128 * 1024

# Histogram buckets: a duration of d ns is counted at index d.bit_length(). Redis reports its
# HdrHistogram in power-of-2 steps from 1024 ns, so index b (d < 2**b) belongs to step b - 10
# (all of d < 1024 ns to step 0); durations over a second are counted at one second, as Redis
# caps its histogram there.
HISTOGRAM_SIZE = 65
_FIRST_STEP_BITS = 10
_LAST_STEP = 20  # 1024 * 2**20 ns is the first step past one second


def new_histogram() -> list[int]:
    return [0] * HISTOGRAM_SIZE


def histogram_steps(histogram: list[int]) -> list[int]:
    """Counts per Redis reporting step k (durations below 1024 * 2**k ns)."""
    steps = [0] * (_LAST_STEP + 1)
    for bits, count in enumerate(histogram):
        if count:
            step = bits - _FIRST_STEP_BITS
            steps[min(max(step, 0), _LAST_STEP)] += count
    return steps


def step_label_usec(step: int) -> int:
    """The bucket bound Redis prints for step k: HdrHistogram's highest value equivalent to
    1024 * 2**k ns (two significant digits: a sub-bucket of 2**(k+3) ns), in microseconds."""
    return ((1 << (_FIRST_STEP_BITS + step)) + (1 << (step + 3)) - 1) // 1000


def step_bound_usec(step: int) -> float:
    return ((1 << (_FIRST_STEP_BITS + step)) + (1 << (step + 3)) - 1) / 1000


def cumulative_distribution(histogram: list[int]) -> list[tuple[int, int]]:
    """(bucket bound in µs, calls at or below it) for each step where the count grows."""
    rows = []
    total = 0
    for step, count in enumerate(histogram_steps(histogram)):
        if count:
            total += count
            rows.append((step_label_usec(step), total))
    return rows


def percentile_usec(histogram: list[int], percentile: float) -> float:
    """The bound of the step holding the given percentile of the calls (HdrHistogram's
    value_at_percentile, at the precision of the power-of-2 steps)."""
    steps = histogram_steps(histogram)
    total = sum(steps)
    if not total:
        return 0.0
    wanted = max(1, int(percentile / 100 * total + 0.5))
    seen = 0
    for step, count in enumerate(steps):
        seen += count
        if seen >= wanted:
            return step_bound_usec(step)
    return step_bound_usec(_LAST_STEP)


# -- argument display (sdscatrepr) --------------------------------------------------------------


REDACTED = b"(redacted)"


def shown_argv(cmd: Command, argv: list[bytes], server: Server) -> list[bytes]:
    """``argv`` with secrets replaced by "(redacted)", as Redis hides them from the slow log and
    MONITOR (passwords of AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, ACL SETUSER rules, sensitive
    CONFIG SET values)."""
    name = cmd.full_name
    if name == "auth":
        return [argv[0]] + [REDACTED] * (len(argv) - 1)
    if name == "hello":
        shown = list(argv)
        index = 2
        while index < len(argv):
            word = argv[index].lower()
            if word == b"auth" and index + 2 < len(argv):
                shown[index + 1] = shown[index + 2] = REDACTED
                index += 3
            elif word == b"setname" and index + 1 < len(argv):
                index += 2
            else:
                break
        return shown
    if name == "migrate":
        shown = list(argv)
        index = 6
        while index < len(argv):
            word = argv[index].lower()
            if word == b"auth" and index + 1 < len(argv):
                shown[index + 1] = REDACTED
                index += 2
            elif word == b"auth2" and index + 2 < len(argv):
                shown[index + 1] = shown[index + 2] = REDACTED
                index += 3
            elif word == b"keys":
                break
            else:
                index += 1
        return shown
    if name == "acl|setuser":
        return argv[:2] + [REDACTED] * (len(argv) - 2)
    if name == "config|set":
        from .config import lookup

        shown = list(argv)
        for index in range(2, len(argv) - 1, 2):
            param = lookup(argv[index].decode("latin-1"))
            if param is not None and param.sensitive:
                shown[index + 1] = REDACTED
        return shown
    return argv


def peer_id(client: Client) -> str:
    """getClientPeerId: the client's address ("?:0" for a client with no connection)."""
    return client.address or "?:0"


# -- latency events ---------------------------------------------------------------------------


class LatencySeries:
    """One event's samples: at most one per second (the highest), the last 160 kept."""

    __slots__ = ("samples", "max")

    def __init__(self) -> None:
        self.samples: deque[list[int]] = deque(maxlen=LATENCY_TS_LEN)
        self.max = 0

    def add(self, now: int, latency_ms: int) -> None:
        if latency_ms > self.max:
            self.max = latency_ms
        samples = self.samples
        if samples and samples[-1][0] == now:
            if latency_ms > samples[-1][1]:
                samples[-1][1] = latency_ms
            return
        samples.append([now, latency_ms])


class SlowlogEntry:
    __slots__ = ("id", "time", "duration_us", "argv", "peer", "name")

    def __init__(self, entry_id: int, duration_us: int, argv: list[bytes], peer: str, name: bytes) -> None:
        self.id = entry_id
        self.time = int(time.time())
        self.duration_us = duration_us
        self.argv = argv
        self.peer = peer
        self.name = name


def slowlog_argv(argv: list[bytes]) -> list[bytes]:
    """What a slow log entry keeps of the arguments: 32 at most (the last saying how many more
    there were), each cut to 128 bytes with a note of the bytes left out."""
    argc = len(argv)
    kept = min(argc, SLOWLOG_ENTRY_MAX_ARGC)
    result = []
    for index in range(kept):
        if kept != argc and index == kept - 1:
            result.append(b"... (%d more arguments)" % (argc - kept + 1))
            break
        arg = argv[index]
        if len(arg) > SLOWLOG_ENTRY_MAX_STRING:
            arg = arg[:SLOWLOG_ENTRY_MAX_STRING] + b"... (%d more bytes)" % (len(arg) - SLOWLOG_ENTRY_MAX_STRING)
        result.append(bytes(arg))
    return result


def _every_command(cmd: Command) -> bool:
    # While anyone monitors, every command takes the gate, where dispatch.call feeds monitors.
    return True


class Observe:
    """Per-server slow log, monitors and latency events."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.slowlog: deque[SlowlogEntry] = deque()
        self.slowlog_next_id = 0
        self.monitors: list[Client] = []
        self.latency_events: dict[str, LatencySeries] = {}
        self.saved_histograms: dict[Command, list[int]] = {}
        self.apply_thresholds()
        self.apply_latency_tracking()

    # -- thresholds ------------------------------------------------------------------------

    def apply_thresholds(self) -> None:
        """Recompute the fast path's single threshold from the configuration."""
        config = self.server.config
        slower_than = config.slowlog_log_slower_than
        self.slowlog_ns = slower_than * 1000 if slower_than >= 0 else NEVER
        latency_ms = config.latency_monitor_threshold
        self.latency_ns = latency_ms * 1_000_000 if latency_ms > 0 else NEVER
        self.server.slow_command_ns = min(self.slowlog_ns, self.latency_ns)

    # -- after a command -------------------------------------------------------------------

    def command_done(self, client: Client, cmd: Command, argv: list[bytes], duration_ns: int) -> None:
        """A command took at least ``server.slow_command_ns``: slow log and latency event."""
        if duration_ns >= self.latency_ns:
            event = "fast-command" if "fast" in cmd.flags else "command"
            self.latency_sample(event, duration_ns // 1_000_000)
        if duration_ns >= self.slowlog_ns and "skip_slowlog" not in cmd.flags:
            self.slowlog_push(client, cmd, argv, duration_ns // 1000)

    def slowlog_push(self, client: Client, cmd: Command, argv: list[bytes], duration_us: int) -> None:
        max_len = self.server.config.slowlog_max_len
        if max_len == 0:
            return
        entry = SlowlogEntry(self.slowlog_next_id, duration_us,
                             slowlog_argv(shown_argv(cmd, argv, self.server)), peer_id(client), client.name)
        self.slowlog_next_id += 1
        log = self.slowlog
        log.appendleft(entry)
        while len(log) > max_len:
            log.pop()

    def latency_sample(self, event: str, latency_ms: int) -> None:
        """Redis's latencyAddSampleIfNeeded (other subsystems call this for their events)."""
        threshold = self.server.config.latency_monitor_threshold
        if not threshold or latency_ms < threshold:
            return
        series = self.latency_events.get(event)
        if series is None:
            series = self.latency_events[event] = LatencySeries()
        series.add(int(time.time()), latency_ms)

    # -- MONITOR ---------------------------------------------------------------------------

    def add_monitor(self, client: Client) -> None:
        if client in self.monitors:
            return
        self.monitors.append(client)
        if len(self.monitors) == 1:
            set_gate_condition("monitor", _every_command)

    def remove_monitor(self, client: Client) -> None:
        if client in self.monitors:
            self.monitors.remove(client)
            if not self.monitors:
                set_gate_condition("monitor", None)

    def client_gone(self, client: Client) -> None:
        if self.monitors:
            self.remove_monitor(client)

    def feed_monitors(self, client: Client, cmd: Command, argv: list[bytes]) -> None:
        """Send one command to every monitor, in Redis's MONITOR line format."""
        now = time.time()
        seconds = int(now)
        micros = int((now - seconds) * 1_000_000)
        if client.transport is None and client.fd == -1 and not client.address:
            origin = b"lua"
        elif client.is_unix:
            origin = b"unix:" + str(self.server.config.unixsocket or "").encode()
        else:
            origin = client.address.encode()
        line = b"+%d.%06d [%d %s] %s\r\n" % (
            seconds, micros, client.db.index, origin,
            b" ".join([sds_repr(arg) for arg in shown_argv(cmd, argv, self.server)]),
        )
        for monitor in list(self.monitors):
            if monitor.closing:
                self.remove_monitor(monitor)
            else:
                monitor.send(line)

    # -- client eviction (maxmemory-clients) -------------------------------------------------

    def client_eviction_limit(self) -> int:
        """Redis's getClientEvictionLimit: bytes, 0 when client eviction is off. A negative
        maxmemory-clients is a percentage of maxmemory; never below 128 KiB."""
        config = self.server.config
        setting = config.maxmemory_clients
        if setting < 0 and config.maxmemory > 0:
            limit = int(config.maxmemory * -setting / 100)
        elif setting > 0:
            limit = setting
        else:
            return 0
        return max(limit, CLIENT_EVICTION_MIN)

    def cron(self) -> None:
        if self.server.config.maxmemory_clients:
            self.evict_clients()

    def evict_clients(self) -> int:
        """Close the clients using the most memory until normal and pub/sub clients together use
        less than the limit (CLIENT NO-EVICT clients count but are never closed)."""
        limit = self.client_eviction_limit()
        if not limit:
            return 0
        from .info import client_info_line, client_memory
        from .limits import CLASS_NORMAL, CLASS_PUBSUB, client_class

        sizes = []
        total = 0
        for client in list(self.server.clients.values()):
            if client.closing or client_class(client) not in (CLASS_NORMAL, CLASS_PUBSUB):
                continue
            used = client_memory(client)
            total += used
            if not client.no_evict and client.transport is not None:
                sizes.append((used, client))
        evicted = 0
        sizes.sort(key=lambda pair: pair[0], reverse=True)
        for used, client in sizes:
            if total < limit:
                break
            self.server.log("notice", f"Evicting client: {client_info_line(client)}")
            client.close()
            self.server.stats.evicted_clients += 1
            total -= used
            evicted += 1
        if total >= limit and sizes and evicted == len(sizes):
            self.server.log("warning", "Over client maxmemory after evicting all evictable clients")
        return evicted

    # -- latency tracking (per-command histograms) ------------------------------------------

    def apply_latency_tracking(self) -> None:
        """latency-tracking no: each command records into a shadow histogram nobody reports;
        its own histogram is kept as it was (as Redis keeps it, for when tracking is turned
        back on). ``calls`` is a histogram's sum, so the shadow's calls are carried over into
        ``untracked_calls`` when tracking resumes, and INFO commandstats keeps counting."""
        enabled = self.server.config.latency_tracking
        saved = self.saved_histograms
        for cmd in COMMANDS.values():
            if enabled:
                kept = saved.pop(cmd, None)
                if kept is not None:
                    cmd.untracked_calls += sum(cmd.latency_histogram) - sum(kept)
                    cmd.latency_histogram = kept
            elif cmd not in saved:
                saved[cmd] = cmd.latency_histogram
                cmd.untracked_calls += sum(cmd.latency_histogram)
                cmd.latency_histogram = new_histogram()

    def histogram_of(self, cmd: Command) -> list[int] | None:
        """The command's latency histogram, None when it has recorded nothing."""
        histogram = self.saved_histograms.get(cmd, cmd.latency_histogram)
        return histogram if any(histogram) else None

    def reset_histograms(self) -> None:
        """CONFIG RESETSTAT: Command.reset_stats gave every command a new histogram."""
        self.saved_histograms.clear()
        self.apply_latency_tracking()


def install(server: Server) -> None:
    """Attach the observability state to a new server (called from Server.__init__)."""
    server.observe = Observe(server)


__all__ = ["Observe", "install", "quoted", "shown_argv", "slowlog_argv", "cumulative_distribution",
           "percentile_usec", "new_histogram"]
