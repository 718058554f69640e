"""Abuse a server and check it holds: a 1 GB bulk length, a multibulk header of 10^9 elements
followed by elements, 100 MB of garbage, and a subscriber that never reads. For each attack it
reports what the attacker received, whether it was disconnected, the server's peak RSS, and the
latency of a PING loop another client runs meanwhile.

usage: python bench/limits.py [--server vermilion|redis|both] [--garbage-mb 100] [--elements-mb 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Watch:
    """A PING loop on its own connection plus RSS sampling, while an attack runs."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid = port, pid
        self.latencies: list[float] = []
        self.peak_rss = 0.0
        self.failures = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        last_sample = 0.0
        while self.running:
            start = time.perf_counter()
            try:
                sock.sendall(b"PING\r\n")
                if sock.recv(100) != b"+PONG\r\n":
                    self.failures += 1
            except OSError:
                self.failures += 1
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.latencies.append(time.perf_counter() - start)
            if start - last_sample > 0.05:
                self.peak_rss = max(self.peak_rss, rss_mb(self.pid))
                last_sample = start
            time.sleep(0.001)
        sock.close()

    def stop(self) -> str:
        self.running = False
        self.thread.join()
        values = sorted(self.latencies) or [0.0]
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return (f"PINGs {len(values)} (failed {self.failures}), latency p50 {statistics.median(values) * 1000:.2f} ms "
                f"p99 {p99 * 1000:.2f} ms max {values[-1] * 1000:.2f} ms; server peak RSS {self.peak_rss:.0f} MB")


def stream(port: int, head: bytes, body: bytes, total: int) -> tuple[bytes, bool, int]:
    """Send ``head`` then ``body`` repeatedly up to ``total`` bytes; (reply, closed, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    closed = False
    try:
        sock.sendall(head)
        sent = len(head)
        while sent < total:
            sock.sendall(body)
            sent += len(body)
    except OSError:
        closed = True
    sock.settimeout(2)
    received = b""
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                closed = True
                break
            received += chunk
    except socket.timeout:
        pass
    except OSError:
        closed = True
    sock.close()
    return received, closed, sent


def slow_subscriber(port: int) -> str:
    subscriber = socket.create_connection(("127.0.0.1", port))
    subscriber.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    subscriber.sendall(b"SUBSCRIBE flood\r\n")
    time.sleep(0.2)
    publisher = socket.create_connection(("127.0.0.1", port))
    message = b"x" * 1024
    command = b"*3\r\n$7\r\nPUBLISH\r\n$5\r\nflood\r\n$1024\r\n" + message + b"\r\n"
    started = time.time()
    published = 0
    receivers = None
    while time.time() - started < 60:
        publisher.sendall(command * 100)
        data = b""
        while data.count(b"\r\n") < 100:
            data += publisher.recv(1 << 16)
        published += 100
        receivers = data.split(b"\r\n")[-2]
        if receivers == b":0":
            break
    elapsed = time.time() - started
    publisher.close()
    subscriber.close()
    return (f"subscriber dropped after {published} messages ({published * 1024 / 2**20:.1f} MB published) "
            f"in {elapsed:.2f} s" if receivers == b":0" else "subscriber NOT dropped within 60 s")


def attack_all(name: str, port: int, pid: int, options: argparse.Namespace) -> None:
    print(f"\n== {name} (port {port}), RSS at start {rss_mb(pid):.0f} MB")
    attacks = [
        ("1 GB bulk length", lambda: stream(port, b"*2\r\n$3\r\nSET\r\n$1073741824\r\n", b"x" * 65536, 1 << 20)),
        ("bulk of 400 MB (under proto-max-bulk-len), all but its last bytes sent: held, not refused",
         lambda: stream(port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$419430400\r\n", b"x" * 65536, 400 << 20)),
        ("multibulk of 10^9 elements", lambda: stream(port, b"*1000000000\r\n", b"$1\r\nx\r\n" * 9000,
                                                       options.elements_mb << 20)),
        ("multibulk of 3*10^9 elements", lambda: stream(port, b"*3000000000\r\n", b"", 0)),
        (f"{options.garbage_mb} MB of garbage", lambda: stream(port, b"", os.urandom(65536).replace(b"\n", b"_"),
                                                               options.garbage_mb << 20)),
    ]
    for label, attack in attacks:
        watch = Watch(port, pid)
        started = time.time()
        received, closed, sent = attack()
        took = time.time() - started
        summary = watch.stop()
        print(f"- {label}: sent {sent / 2**20:.1f} MB in {took:.2f} s; got {received[:70]!r}; "
              f"disconnected: {closed}\n    {summary}; RSS after {rss_mb(pid):.0f} MB")
    watch = Watch(port, pid)
    result = slow_subscriber(port)
    print(f"- subscriber that never reads (client-output-buffer-limit pubsub 32mb 8mb 60): {result}\n"
          f"    {watch.stop()}; RSS after {rss_mb(pid):.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=("vermilion", "redis", "both"), default="both")
    parser.add_argument("--garbage-mb", type=int, default=100)
    parser.add_argument("--elements-mb", type=int, default=100)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="vermilion-limits-")
    servers = []
    if options.server in ("vermilion", "both"):
        servers.append(("vermilion", [sys.executable, "-m", "vermilion"]))
    if options.server in ("redis", "both") and shutil.which("redis-server"):
        servers.append(("redis-server", ["redis-server"]))
    for name, command in servers:
        port = free_port()
        proc = subprocess.Popen([*command, "--port", str(port), "--save", "", "--dir", workdir,
                                 "--logfile", os.path.join(workdir, f"{name}.log")], cwd=workdir)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            attack_all(name, port, proc.pid, options)
        finally:
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
