"""How ZADD and ZRANK scale from a 1,000-member sorted set to a 1,000,000-member one.

Two measurements:

1. handler: the command handlers called directly on an in-process server (no network), so the
   figure is the data structure's cost plus the handler's own;
2. wire (with --wire, needs redis-benchmark): a Vermilion server in a subprocess, driven by
   redis-benchmark with random members (``-r``) and pipelining, as a client would see it.

Members are ``member:%012d`` (redis-benchmark's __rand_int__ format) with random scores; ZADD
adds new members and updates existing ones, ZRANK asks for random existing members.

usage: python bench/zset_scale.py [--big 1000000] [--small 1000] [--ops 200000] [--rounds 10]
                                  [--wire]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


class _Client:
    """The minimum a handler needs from a connection."""

    def __init__(self, server) -> None:
        self.server = server
        self.db = server.dbs[0]
        self.resp3 = False


def _member(i: int) -> bytes:
    return b"member:%012d" % i


def _fill(handler, client, key: bytes, size: int) -> None:
    batch = 1000
    for start in range(0, size, batch):
        argv = [b"zadd", key]
        for i in range(start, min(start + batch, size)):
            argv.append(b"%d" % random.randrange(10**9))
            argv.append(_member(i))
        handler(client, argv)


def _time_ops(handler, client, commands: list[list[bytes]]) -> float:
    start = time.perf_counter()
    for argv in commands:
        handler(client, argv)
    return len(commands) / (time.perf_counter() - start)


def handler_benchmark(small: int, big: int, ops: int, rounds: int) -> None:
    from vermilion import commands  # noqa: F401  registers every command
    from vermilion.registry import TABLE
    from vermilion.server import Server

    server = Server(port=0, save="")
    client = _Client(server)
    zadd, zrank = TABLE[b"zadd"].handler, TABLE[b"zrank"].handler
    rates: dict[int, tuple[list[float], list[float]]] = {}
    for size in (small, big):
        _fill(zadd, client, b"z%d" % size, size)
        rates[size] = ([], [])
    # Rounds alternate between the two sizes, so that load from elsewhere on the machine
    # affects both alike; the median of each is reported.
    per_round = max(1, ops // rounds)
    rng = random.Random(7)
    for _ in range(rounds):
        for size in (small, big):
            key = b"z%d" % size
            ranks = [[b"zrank", key, _member(rng.randrange(size))] for _ in range(per_round)]
            adds = [[b"zadd", key, b"%d" % rng.randrange(10**9), _member(rng.randrange(2 * size))]
                    for _ in range(per_round)]
            rates[size][1].append(_time_ops(zrank, client, ranks))
            rates[size][0].append(_time_ops(zadd, client, adds))
    for size in (small, big):
        add_rate, rank_rate = (statistics.median(r) for r in rates[size])
        print(f"handler  {size:>9,} members: ZADD {add_rate:>10,.0f} ops/s   "
              f"ZRANK {rank_rate:>10,.0f} ops/s")
    add_small, rank_small = (statistics.median(r) for r in rates[small])
    add_big, rank_big = (statistics.median(r) for r in rates[big])
    print(f"handler  slowdown {big:,} vs {small:,}: ZADD {add_small / add_big:.2f}x   "
          f"ZRANK {rank_small / rank_big:.2f}x   (target: within 2x)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _benchmark(port: int, ops: int, keyspace: int, command: list[str]) -> float:
    output = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-n", str(ops), "-r", str(keyspace), "-P", "16",
         "-c", "10", "--csv", *command],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(output.strip().splitlines()[-1].split(",")[1].strip('"'))


def wire_benchmark(small: int, big: int, ops: int, rounds: int) -> None:
    if shutil.which("redis-benchmark") is None:
        print("wire     skipped: redis-benchmark is not installed")
        return
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="vermilion-zset-scale-")
    proc = subprocess.Popen([sys.executable, "-m", "vermilion", "--port", str(port), "--save", ""],
                            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.05)
        for size in (small, big):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                for start in range(0, size, 1000):
                    args = [b"ZADD", b"z%d" % size]
                    for i in range(start, min(start + 1000, size)):
                        args += [b"%d" % random.randrange(10**9), _member(i)]
                    sock.sendall(b"*%d\r\n" % len(args)
                                 + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
                    reply = b""
                    while not reply.endswith(b"\r\n"):
                        reply += sock.recv(100)
        rates: dict[int, tuple[list[float], list[float]]] = {small: ([], []), big: ([], [])}
        per_round = max(1000, ops // rounds)
        for _ in range(rounds):
            for size in (small, big):
                key = f"z{size}"
                rates[size][0].append(_benchmark(
                    port, per_round, size, ["ZADD", key, "__rand_int__", "member:__rand_int__"]))
                rates[size][1].append(_benchmark(
                    port, per_round, size, ["ZRANK", key, "member:__rand_int__"]))
        for size in (small, big):
            add_rate, rank_rate = (statistics.median(r) for r in rates[size])
            print(f"wire     {size:>9,} members: ZADD {add_rate:>10,.0f} rps     "
                  f"ZRANK {rank_rate:>10,.0f} rps")
        add_small, rank_small = (statistics.median(r) for r in rates[small])
        add_big, rank_big = (statistics.median(r) for r in rates[big])
        print(f"wire     slowdown {big:,} vs {small:,}: ZADD {add_small / add_big:.2f}x   "
              f"ZRANK {rank_small / rank_big:.2f}x")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--wire", action="store_true")
    args = parser.parse_args()
    handler_benchmark(args.small, args.big, args.ops, args.rounds)
    if args.wire:
        wire_benchmark(args.small, args.big, args.ops, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
