"""How ZADD and ZRANK scale from a 1,000-member sorted set to a 1,000,000-member one.

Two measurements:

1. handler: the command handlers called directly on an in-process server (no network), so the
   figure is the data structure's cost plus the handler's own. Without the protocol's fixed
   cost, the cache and TLB misses of a million members (a dict probe, a bisection over a chunk
   of scores) weigh most here: ZRANK slows 2.4-3.2x on this machine;
2. wire (with --wire, needs redis-benchmark): a Vermilion server in a subprocess, driven by
   redis-benchmark with random members (``-r``) and pipelining, as a client would see it. With
   --redis, a real redis-server is measured the same way in the same rounds: how much Redis
   itself slows down on the big set, for reference. This is the speed a client sees, and what
   the 2x target is about.

Members are ``member:%012d`` (redis-benchmark's __rand_int__ format) with random scores; ZRANK
asks for random existing members. In process, ZADD draws members from twice the set's size (as
many new members as updates); on the wire, from the set's own members (updates, each moving a
member to a random new score).

usage: python bench/zset_scale.py [--big 1000000] [--small 1000] [--ops 200000] [--rounds 10]
                                  [--wire [--redis]]
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
          f"ZRANK {rank_small / rank_big:.2f}x   (no network: the cache misses of a big set weigh most)")


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


def _start(command: list[str], port: int, workdir: str) -> subprocess.Popen:
    proc = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise SystemExit(f"{command[0]} did not start")
            time.sleep(0.05)


def _load(port: int, size: int) -> None:
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


def wire_benchmark(small: int, big: int, ops: int, rounds: int, with_redis: bool) -> None:
    if shutil.which("redis-benchmark") is None:
        print("wire     skipped: redis-benchmark is not installed")
        return
    servers = {"vermilion": [sys.executable, "-m", "vermilion", "--save", ""]}
    if with_redis:
        if shutil.which("redis-server") is None:
            print("wire     redis-server is not installed: Vermilion alone")
        else:
            servers["redis"] = ["redis-server", "--save", "", "--appendonly", "no"]
    workdir = tempfile.mkdtemp(prefix="vermilion-zset-scale-")
    ports: dict[str, int] = {}
    procs: list[subprocess.Popen] = []
    try:
        for name, command in servers.items():
            ports[name] = port = _free_port()
            procs.append(_start(command + ["--port", str(port)], port, workdir))
            for size in (small, big):
                _load(port, size)
        # (server, size) -> ZADD rates, ZRANK rates; the servers alternate within each round
        rates = {(name, size): ([], []) for name in servers for size in (small, big)}
        per_round = max(1000, ops // rounds)
        for _ in range(rounds):
            for name, port in ports.items():
                for size in (small, big):
                    key = f"z{size}"
                    rates[name, size][0].append(_benchmark(
                        port, per_round, size, ["ZADD", key, "__rand_int__", "member:__rand_int__"]))
                    rates[name, size][1].append(_benchmark(
                        port, per_round, size, ["ZRANK", key, "member:__rand_int__"]))
        for name in servers:
            for size in (small, big):
                add_rate, rank_rate = (statistics.median(r) for r in rates[name, size])
                print(f"wire     {name:<9} {size:>9,} members: ZADD {add_rate:>10,.0f} rps     "
                      f"ZRANK {rank_rate:>10,.0f} rps")
            add_small, rank_small = (statistics.median(r) for r in rates[name, small])
            add_big, rank_big = (statistics.median(r) for r in rates[name, big])
            target = "   (target: within 2x)" if name == "vermilion" else "   (for reference)"
            print(f"wire     {name:<9} slowdown {big:,} vs {small:,}: ZADD {add_small / add_big:.2f}x   "
                  f"ZRANK {rank_small / rank_big:.2f}x{target}")
    finally:
        for proc in procs:
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
    parser.add_argument("--redis", action="store_true",
                        help="with --wire: measure a real redis-server the same way, for reference")
    args = parser.parse_args()
    handler_benchmark(args.small, args.big, args.ops, args.rounds)
    if args.wire:
        wire_benchmark(args.small, args.big, args.ops, args.rounds, args.redis)
    return 0


if __name__ == "__main__":
    sys.exit(main())
