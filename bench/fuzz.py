"""Long fuzz run against a vermilion-server process: random argument vectors for every command
COMMAND lists (pipelined), malformed RESP on connections of their own, and random splits.

Counts requests, checks PING on a fresh connection after every batch, and reports every reply
carrying "internal error" or "Traceback" (with the request that caused it) and every
"Internal error" line of the server's log. The generators are tests/fuzz/corpus.py's.

usage: python bench/fuzz.py [--requests 1000000] [--seed 1] [--batch 200]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import hiredis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fuzz import corpus  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(port)


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(100) == b"+PONG\r\n"
    except OSError:
        return False


def run_batch(port: int, batch: list[list[bytes]]) -> list:
    """Send a pipeline plus a final PING; the replies (exceptions as objects) before it."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"".join(map(corpus.encode, batch)) + b"*2\r\n$4\r\nECHO\r\n$8\r\n__done__\r\n")
        reader = hiredis.Reader()
        replies: list = []
        while True:
            reply = reader.gets()
            if reply is False:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    replies.append(ConnectionError("closed"))
                    return replies
                reader.feed(chunk)
                continue
            if reply in (b"__done__", b"QUEUED") and len(replies) >= len(batch):
                return replies
            replies.append(reply)


def malformed_case(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(data)
        except OSError:
            return b""
        sock.settimeout(0.05)
        received = b""
        try:
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return received


def suspicious(reply) -> bool:
    text = repr(reply).lower()
    return "internal error" in text or "traceback" in text


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=200)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="vermilion-fuzz-")
    logfile = os.path.join(workdir, "vermilion.log")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vermilion", "--port", str(port), "--save", "",
                             "--dir", workdir, "--logfile", logfile], cwd=workdir)
    findings: list[str] = []
    sent = malformed_sent = batches = 0
    try:
        wait_port(port)
        table = corpus.command_table(port)
        words = corpus.keywords(port)
        rng = random.Random(options.seed)
        started = time.time()
        while sent < options.requests:
            if rng.random() < 0.05:
                data = b"".join(corpus.malformed(rng) for _ in range(rng.randint(1, 3)))
                received = malformed_case(port, data)
                malformed_sent += 1
                sent += 1
                if suspicious(received):
                    findings.append(f"malformed {data!r} -> {received[:300]!r}")
            else:
                batch = [corpus.random_argv(rng, table, words) for _ in range(options.batch)]
                try:
                    replies = run_batch(port, batch)
                except socket.timeout:
                    saved = os.path.join(workdir, f"slow_batch_{batches}.txt")
                    with open(saved, "w") as handle:
                        handle.write(repr(batch))
                    findings.append(f"no reply within 20 s to batch {batches} (saved in {saved})")
                    replies = []
                    deadline = time.time() + 120
                    while not ping(port) and time.time() < deadline:
                        time.sleep(1)
                sent += len(batch)
                for argv, reply in zip(batch, replies):
                    if suspicious(reply):
                        findings.append(f"{argv!r} -> {reply!r}")
                if replies and isinstance(replies[-1], ConnectionError):
                    findings.append(f"connection closed in batch {batches} after {len(replies) - 1} replies")
            batches += 1
            if batches % 50 == 0:
                if not ping(port) or proc.poll() is not None:
                    findings.append(f"server unresponsive after {sent} requests")
                    break
                elapsed = time.time() - started
                print(f"{sent} requests, {elapsed:.0f} s, {sent / elapsed:.0f}/s, findings {len(findings)}",
                      flush=True)
        elapsed = time.time() - started
        alive = ping(port)
    finally:
        proc.terminate()
        proc.wait(30)
    with open(logfile, errors="replace") as handle:
        log_errors = [line.rstrip() for line in handle if "Internal error" in line or "Traceback" in line]
    print(f"\nrequests: {sent} ({malformed_sent} malformed cases), batches: {batches}, "
          f"time: {elapsed:.1f} s ({sent / elapsed:.0f} requests/s), server alive at the end: {alive}")
    print(f"suspicious replies: {len(findings)}; 'Internal error' log lines: {len(log_errors)}")
    for finding in findings[:50]:
        print("  reply:", finding)
    for line in log_errors[:50]:
        print("  log:", line)
    return 0 if alive and not findings and not log_errors else 1


if __name__ == "__main__":
    sys.exit(main())
