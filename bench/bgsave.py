"""BGSAVE under load, and RDB load time, Vermilion against real Redis.

    python bench/bgsave.py                 # 1,000,000 keys (takes a few minutes)
    python bench/bgsave.py --keys 100000   # quicker
    python bench/bgsave.py --only load     # or --only bgsave
    python bench/bgsave.py --fork-probe    # why Vermilion does not fork (see below)

Measures:
1. GET latency (p50/p99/max, one client, requests back to back) on a Vermilion server holding
   ``--keys`` string keys: for a few seconds without BGSAVE, then for the whole of a BGSAVE.
2. The server's RSS before and at its peak during that BGSAVE (sampled every 20 ms).
3. The time from process start to answering PING for a server loading an RDB of ``--keys`` keys
   written by real Redis (DEBUG POPULATE then SAVE), Vermilion and Redis on the same file.

``--fork-probe`` measures what a fork-based BGSAVE would cost in CPython: it builds the same dict
in this process, forks, lets the child walk every key and value (as a serializer must), and
reads the child's Private_Dirty from /proc/PID/smaps_rollup: the pages copy-on-write duplicated.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

VERMILION = [sys.executable, "-m", "vermilion"]
PORT_OURS, PORT_REDIS = 7305, 7306


def fork_probe(count: int) -> None:
    data = {b"key:%d" % i: b"value:%d" % i for i in range(count)}

    def mem(pid: int) -> dict[str, int]:
        out = {}
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                parts = line.split()
                if parts[0] in ("Rss:", "Private_Dirty:", "Shared_Dirty:"):
                    out[parts[0][:-1]] = int(parts[1]) // 1024
        return out

    before = mem(os.getpid())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        total = 0
        for key, value in data.items():
            total += len(key) + len(value)
        os.write(write_end, b"x")
        time.sleep(2)
        os._exit(0)
    os.close(write_end)
    os.read(read_end, 1)
    child = mem(pid)
    os.waitpid(pid, 0)
    print(f"fork probe, {count} keys: parent RSS {before['Rss']} MB; child after one walk: "
          f"Private_Dirty {child['Private_Dirty']} MB "
          f"({100 * child['Private_Dirty'] / max(1, before['Rss']):.0f}% of the parent's RSS copied)")


def wait_ping(port: int, timeout: float = 600.0) -> float:
    """Seconds until the server on ``port`` answers PING."""
    start = time.perf_counter()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.005)
    raise TimeoutError(f"nothing answered on {port}")


class Client:
    """A minimal blocking RESP client (one request at a time)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def call(self, *args: bytes | str) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            arg = arg.encode() if isinstance(arg, str) else arg
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        self.sock.sendall(b"".join(parts))
        line = self.file.readline()
        if line[:1] == b"$" and line[1:2] != b"-":
            self.file.read(int(line[1:]) + 2)
        return line

    def info_field(self, field: str) -> str:
        self.sock.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n")
        size = int(self.file.readline()[1:])
        text = self.file.read(size + 2).decode()
        for line in text.splitlines():
            if line.startswith(field + ":"):
                return line.split(":", 1)[1]
        return ""


def fill(port: int, count: int) -> None:
    """SET key:<i> value:<i> for i < count, pipelined through redis-cli --pipe."""
    lines = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue:%d\r\n"
                     % (len(b"key:%d" % i), i, len(b"value:%d" % i), i) for i in range(count))
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=lines, check=True,
                   stdout=subprocess.DEVNULL)


def latency_window(port: int, count: int, until) -> list[float]:
    client = Client(port)
    samples = []
    clock = time.perf_counter
    i = 0
    while not until():
        key = b"key:%d" % (i * 7919 % count)
        start = clock()
        client.call(b"GET", key)
        samples.append(clock() - start)
        i += 1
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return (f"{len(ordered)} GETs, p50 {pct(0.50):.3f} ms, p99 {pct(0.99):.3f} ms, "
            f"p99.9 {pct(0.999):.3f} ms, max {ordered[-1] * 1000:.1f} ms")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bgsave_under_load(workdir: str, count: int) -> None:
    proc = subprocess.Popen([*VERMILION, "--port", str(PORT_OURS), "--dir", workdir, "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ping(PORT_OURS)
        fill(PORT_OURS, count)
        control = Client(PORT_OURS)
        deadline = time.time() + 5
        baseline = latency_window(PORT_OURS, count, lambda: time.time() > deadline)
        print(f"without BGSAVE: {summary(baseline)}")
        rss_before = rss_mb(proc.pid)
        peak = [rss_before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        assert control.call("BGSAVE").startswith(b"+Background saving started")
        finished = threading.Event()

        def watch() -> None:
            while control.info_field("rdb_bgsave_in_progress") != "0":
                time.sleep(0.05)
            finished.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        during = latency_window(PORT_OURS, count, finished.is_set)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        print(f"during BGSAVE ({elapsed:.1f} s, status {control.info_field('rdb_last_bgsave_status')}): "
              f"{summary(during)}")
        print(f"RSS: {rss_before:.0f} MB before BGSAVE, peak {peak[0]:.0f} MB during "
              f"({peak[0] / rss_before:.2f}x)")
    finally:
        proc.terminate()
        proc.wait(60)


def load_times(workdir: str, count: int) -> None:
    redis_dir = os.path.join(workdir, "redis")
    ours_dir = os.path.join(workdir, "ours")
    os.makedirs(redis_dir)
    os.makedirs(ours_dir)
    redis = subprocess.Popen(["redis-server", "--port", str(PORT_REDIS), "--dir", redis_dir, "--save", "",
                              "--enable-debug-command", "yes"], stdout=subprocess.DEVNULL)
    wait_ping(PORT_REDIS)
    client = Client(PORT_REDIS)
    client.call("DEBUG", "POPULATE", str(count))
    client.call("SAVE")
    redis.terminate()
    redis.wait(60)
    shutil.copy(os.path.join(redis_dir, "dump.rdb"), os.path.join(ours_dir, "dump.rdb"))
    size = os.path.getsize(os.path.join(redis_dir, "dump.rdb")) / 1e6
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, command, port, where in (
        ("redis", ["redis-server", "--save", ""], PORT_REDIS, redis_dir),
        ("vermilion", [*VERMILION, "--save", ""], PORT_OURS, ours_dir),
    ):
        started = time.perf_counter()
        proc = subprocess.Popen([*command, "--port", str(port), "--dir", where],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ping(port)
        times[name] = time.perf_counter() - started
        cpu[name] = cpu_seconds(proc.pid)
        keys = Client(port).call("DBSIZE")
        proc.terminate()
        proc.wait(60)
        print(f"{name}: start to PING with {count} keys ({size:.1f} MB RDB): {times[name]:.2f} s, "
              f"{cpu[name]:.2f} s of CPU (DBSIZE {keys.strip().decode()})")
    print(f"load time ratio vermilion/redis: {times['vermilion'] / times['redis']:.1f}x wall clock, "
          f"{cpu['vermilion'] / cpu['redis']:.1f}x CPU time (the CPU ratio is the steadier one on a busy machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--fork-probe", action="store_true")
    parser.add_argument("--only", choices=("bgsave", "load"), help="run one of the two measurements")
    args = parser.parse_args()
    if args.fork_probe:
        fork_probe(args.keys)
        return
    workdir = tempfile.mkdtemp(prefix="vermilion-bgsave-")
    try:
        if args.only != "load":
            save_dir = os.path.join(workdir, "bgsave")
            os.makedirs(save_dir)
            bgsave_under_load(save_dir, args.keys)
        if args.only != "bgsave":
            load_times(workdir, args.keys)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
