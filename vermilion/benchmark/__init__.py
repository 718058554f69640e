"""vermilion-benchmark: a drop-in for redis-benchmark 7.0 (see docs/cli.md).

The default run is redis-benchmark 7.0's test list with its names (PING_INLINE, PING_MBULK, SET,
GET, INCR, LPUSH, RPUSH, LPOP, RPOP, SADD, HSET, SPOP, ZADD, ZPOPMIN, LRANGE_100/300/500/600,
MSET); ``-t xadd`` adds the XADD test of later versions. The output is redis-benchmark's: the
progress line while a test runs, then the full latency report, or one line with -q, or CSV rows
with the same columns.
"""

from __future__ import annotations

import math
import signal
import struct
import sys
import time

from ..cli.connection import Connection, ConnectionFailure, ConnectionLost
from ..cli.resp import ERROR, encode_command
from .engine import LATENCY_MAX_US, RunState, run_single, run_threads
from .hdr import HdrHistogram
from .options import BenchConfig, OptionsExit, parse_options

LATENCY_HISTOGRAM_MIN = 10


def f32(value: float) -> float:
    """C float arithmetic: redis-benchmark computes its figures in single precision."""
    if math.isnan(value) or math.isinf(value):
        return value
    return struct.unpack("f", struct.pack("f", value))[0]


def cfmt(spec: str, value: float) -> str:
    """printf formatting of a double, with glibc's spelling of NaN for 0/0."""
    if math.isnan(value):
        return "-nan"
    return format(value, spec)


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


def gen_random_data(size: int) -> bytes:
    """redis-benchmark's deterministic payload (a fixed linear congruential sequence)."""
    state = 1234
    out = bytearray(size)
    for i in range(size):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = 48 + ((state >> 16) & 63)
    return bytes(out)


class Reporter:
    """The progress line and the report of each test."""

    def __init__(self, config: BenchConfig, server_config: tuple[str, str] | None) -> None:
        self.config = config
        self.server_config = server_config
        self.title = ""
        self.last_printed = 0
        self.previous_tick = 0
        self.previous_finished = 0
        self.start_ms = 0
        self.window_mean = math.nan
        self.overall_sum = 0
        self.overall_count = 0

    def begin(self, title: str) -> None:
        self.title = title
        self.last_printed = 0
        self.previous_finished = 0
        self.previous_tick = 0
        self.start_ms = time.time_ns() // 1_000_000
        self.overall_sum = 0
        self.overall_count = 0

    def tick(self, state: RunState) -> None:
        config = self.config
        if state.live == 0 and not state.reconnecting and state.finished < state.requests:
            sys.stderr.write("All clients disconnected... aborting.\n")
            raise SystemExit(1)
        window_sum, window_count = state.window_sum, state.window_count
        state.window_sum = state.window_count = 0
        self.overall_sum += window_sum
        self.overall_count += window_count
        if config.csv:
            return
        now = time.time_ns() // 1_000_000
        if config.idlemode:
            sys.stdout.write(f"clients: {state.live}\r")
            sys.stdout.flush()
            return
        finished = state.finished
        dt = f32((now - self.start_ms) / 1000.0)
        rps = f32(_div(f32(finished), dt))
        instant_dt = f32((now - self.previous_tick) / 1000.0)
        instant_rps = f32(_div(f32(finished - self.previous_finished), instant_dt))
        self.previous_tick = now
        self.previous_finished = finished
        window_avg = _div(window_sum, window_count) / 1000.0 if window_count else math.nan
        overall_avg = _div(self.overall_sum, self.overall_count) / 1000.0 if self.overall_count else math.nan
        line = (
            f"{self.title}: rps={cfmt('.1f', instant_rps)} (overall: {cfmt('.1f', rps)}) "
            f"avg_msec={cfmt('.3f', window_avg)} (overall: {cfmt('.3f', overall_avg)})\r"
        )
        self.last_printed = len(line)
        sys.stdout.write(line)
        sys.stdout.flush()

    def _clear_line(self) -> str:
        return " ".rjust(max(self.last_printed, 1)) + "\r"

    def report(self, state: RunState, elapsed_ms: int) -> None:
        config = self.config
        histogram = HdrHistogram(LATENCY_HISTOGRAM_MIN, LATENCY_MAX_US, max(config.precision, 1))
        histogram.record_counts(state.samples, LATENCY_MAX_US)
        finished = state.finished
        rps = f32(_div(f32(finished), f32(f32(elapsed_ms) / 1000.0)))
        p0 = f32(histogram.min() / 1000.0) if histogram.total_count else 0.0
        p50 = f32(histogram.value_at_percentile(50.0) / 1000.0)
        p95 = f32(histogram.value_at_percentile(95.0) / 1000.0)
        p99 = f32(histogram.value_at_percentile(99.0) / 1000.0)
        p100 = f32(histogram.max() / 1000.0)
        avg = f32(histogram.mean() / 1000.0)
        out = []
        if not config.quiet and not config.csv:
            out.append(self._clear_line())
            out.append(f"====== {self.title} ======\n")
            out.append(f"  {finished} requests completed in {elapsed_ms / 1000:.2f} seconds\n")
            out.append(f"  {config.numclients} parallel clients\n")
            out.append(f"  {config.datasize} bytes payload\n")
            out.append(f"  keep alive: {config.keepalive}\n")
            if self.server_config is not None:
                out.append(f'  host configuration "save": {self.server_config[0]}\n')
                out.append(f'  host configuration "appendonly": {self.server_config[1]}\n')
            out.append(f"  multi-thread: {'yes' if config.threads else 'no'}\n")
            if config.threads:
                out.append(f"  threads: {config.threads}\n")
            out.append("\nLatency by percentile distribution:\n")
            total = histogram.total_count
            previous = -1
            for percentile, value, cumulative in histogram.percentiles(1):
                if previous != cumulative or cumulative == total:
                    out.append(f"{percentile:3.3f}% <= {value / 1000.0:.3f} milliseconds (cumulative count {cumulative})\n")
                previous = cumulative
            out.append("\nCumulative distribution of latencies:\n")
            previous = -1
            for value, cumulative in histogram.linear(100, widen_after=2000, widened_units=1000):
                percentile = cumulative / total * 100.0 if total else math.nan
                if previous != cumulative or cumulative == total:
                    out.append(f"{cfmt('3.3f', percentile)}% <= {value / 1000.0:.3f} milliseconds (cumulative count {cumulative})\n")
                previous = cumulative
            out.append("\nSummary:\n")
            out.append(f"  throughput summary: {cfmt('.2f', rps)} requests per second\n")
            out.append("  latency summary (msec):\n")
            out.append("    %9s %9s %9s %9s %9s %9s\n" % ("avg", "min", "p50", "p95", "p99", "max"))
            out.append("    " + " ".join(cfmt("9.3f", v) for v in (avg, p0, p50, p95, p99, p100)) + "\n")
        elif config.csv:
            out.append(
                f'"{self.title}","{cfmt(".2f", rps)}","{cfmt(".3f", avg)}","{p0:.3f}","{p50:.3f}",'
                f'"{p95:.3f}","{p99:.3f}","{p100:.3f}"\n'
            )
        else:
            out.append(self._clear_line())
            out.append(f"{self.title}: {cfmt('.2f', rps)} requests per second, p50={p50:.3f} msec\n")
        sys.stdout.write("".join(out))
        sys.stdout.flush()


def fetch_server_config(config: BenchConfig) -> tuple[str, str] | None:
    """CONFIG GET save / appendonly, shown in the report header."""
    try:
        conn = Connection.open(config.host, config.port, config.socket_path, config.tls)
    except ConnectionFailure as exc:
        where = config.socket_path if config.socket_path is not None else f"{config.host}:{config.port}"
        sys.stderr.write(f"Could not connect to Redis at {where}: {exc}\n")
        return None
    try:
        if config.auth is not None:
            args = [b"AUTH"] + ([config.user.encode()] if config.user else []) + [config.auth.encode()]
            reply = conn.call(*args)
            if reply.type == ERROR:
                where = config.socket_path or f"{config.host}:{config.port}"
                sys.stderr.write(f"Node {where} replied with error:\n{reply.text()}\n")
                return None
        values = []
        for name in ("save", "appendonly"):
            reply = conn.call("CONFIG", "GET", name)
            if reply.type == ERROR:
                sys.stderr.write(f"ERROR: {reply.text()}\n")
                raise ConnectionLost("config")
            if not reply.elements or len(reply.elements) < 2:
                raise ConnectionLost("config")
            values.append(reply.elements[1].text())
        return values[0], values[1]
    except ConnectionLost:
        where = config.socket_path if config.socket_path is not None else f"{config.host}:{config.port}"
        sys.stderr.write(f"ERROR: failed to fetch CONFIG from {where}\n")
        return None
    finally:
        conn.close()


def default_tests(config: BenchConfig, data: bytes) -> list[tuple[str, bytes]]:
    """(title, encoded command) for the selected default tests, in redis-benchmark's order."""
    def selected(name: str) -> bool:
        return config.tests is None or f",{name}," in config.tests

    def cmd(*args: bytes) -> bytes:
        return encode_command(list(args))

    tests: list[tuple[str, bytes]] = []
    if selected("ping_inline") or selected("ping"):
        tests.append(("PING_INLINE", b"PING\r\n"))
    if selected("ping_mbulk") or selected("ping"):
        tests.append(("PING_MBULK", cmd(b"PING")))
    if selected("set"):
        tests.append(("SET", cmd(b"SET", b"key:__rand_int__", data)))
    if selected("get"):
        tests.append(("GET", cmd(b"GET", b"key:__rand_int__")))
    if selected("incr"):
        tests.append(("INCR", cmd(b"INCR", b"counter:__rand_int__")))
    if selected("lpush"):
        tests.append(("LPUSH", cmd(b"LPUSH", b"mylist", data)))
    if selected("rpush"):
        tests.append(("RPUSH", cmd(b"RPUSH", b"mylist", data)))
    if selected("lpop"):
        tests.append(("LPOP", cmd(b"LPOP", b"mylist")))
    if selected("rpop"):
        tests.append(("RPOP", cmd(b"RPOP", b"mylist")))
    if selected("sadd"):
        tests.append(("SADD", cmd(b"SADD", b"myset", b"element:__rand_int__")))
    if selected("hset"):
        tests.append(("HSET", cmd(b"HSET", b"myhash", b"element:__rand_int__", data)))
    if selected("spop"):
        tests.append(("SPOP", cmd(b"SPOP", b"myset")))
    if selected("zadd"):
        score = b"__rand_int__" if config.randomkeys else b"0"
        tests.append(("ZADD", cmd(b"ZADD", b"myzset", score, b"element:__rand_int__")))
    if selected("zpopmin"):
        tests.append(("ZPOPMIN", cmd(b"ZPOPMIN", b"myzset")))
    lranges = [("lrange_100", 99, "LRANGE_100 (first 100 elements)"),
               ("lrange_300", 299, "LRANGE_300 (first 300 elements)"),
               ("lrange_500", 499, "LRANGE_500 (first 500 elements)"),
               ("lrange_600", 599, "LRANGE_600 (first 600 elements)")]
    if selected("lrange") or any(selected(name) for name, _, _ in lranges):
        tests.append(("LPUSH (needed to benchmark LRANGE)", cmd(b"LPUSH", b"mylist", data)))
    for name, last, title in lranges:
        if selected("lrange") or selected(name):
            tests.append((title, cmd(b"LRANGE", b"mylist", b"0", str(last).encode())))
    if selected("mset"):
        tests.append(("MSET (10 keys)", cmd(b"MSET", *([b"key:__rand_int__", data] * 10))))
    # Not in redis-benchmark 7.0's default list: run only when asked for by name.
    if config.tests is not None and selected("xadd"):
        tests.append(("XADD", cmd(b"XADD", b"mystream", b"*", b"myfield", data)))
    return tests


def run_benchmark(config: BenchConfig, reporter: Reporter, title: str, command: bytes) -> None:
    reporter.begin(title)
    start_ms = time.time_ns() // 1_000_000
    if config.threads:
        elapsed, state = run_threads(config, command, reporter.tick)
    else:
        elapsed, state = run_single(config, command, reporter.tick)
    elapsed_ms = int(round(elapsed * 1000)) or (time.time_ns() // 1_000_000 - start_ms)
    reporter.report(state, elapsed_ms)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    config = BenchConfig()
    try:
        first = parse_options(argv, config)
    except OptionsExit as exc:
        return int(exc.code or 0)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    command_args = [arg.encode("utf-8", "surrogateescape") for arg in argv[first:]]
    if config.cluster:
        sys.stderr.write("vermilion-benchmark: --cluster is not available yet.\n")
        return 1
    server_config = fetch_server_config(config)
    if server_config is None:
        sys.stderr.write("WARNING: Could not fetch server CONFIG\n")
    if config.keepalive == 0:
        sys.stdout.write(
            "WARNING: keepalive disabled, you probably need 'echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse' "
            "for Linux and 'sudo sysctl -w net.inet.tcp.msl=1000' for Mac OS X in order to use a lot "
            "of clients/requests\n"
        )
    reporter = Reporter(config, server_config)
    if config.idlemode:
        sys.stdout.write(f"Creating {config.numclients} idle connections and waiting forever (Ctrl+C when done)\n")
        sys.stdout.flush()
        run_benchmark(config, reporter, "", b"")
        return 0
    if config.csv:
        sys.stdout.write('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",'
                         '"p95_latency_ms","p99_latency_ms","max_latency_ms"\n')
    if command_args:
        if config.stdin_last_arg:
            command_args.append(sys.stdin.buffer.read())
        title = b" ".join(command_args).decode("utf-8", "surrogateescape")
        command = encode_command(command_args)
        config.datasize = len(command)
        while True:
            run_benchmark(config, reporter, title, command)
            if not config.loop:
                return 0
    data = gen_random_data(config.datasize)
    while True:
        for title, command in default_tests(config, data):
            run_benchmark(config, reporter, title, command)
        if not config.csv:
            sys.stdout.write("\n")
            sys.stdout.flush()
        if not config.loop:
            return 0


def entry_point() -> None:
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    raise SystemExit(code)
