"""MEMORY USAGE of the same values in Vermilion and a real redis-server, per type and encoding.

Starts both servers (or uses --vermilion-port/--redis-port), writes each sample value under the
same key in both, and prints a table: case, Redis's figure, Vermilion's, and their ratio.

usage: python bench/memory_usage.py [--vermilion-port N --redis-port N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.compare import free_port, wait_port  # noqa: E402


def cases() -> list[tuple[str, list[list]]]:
    """(label, commands that build key "k") for every type and encoding."""
    def many(command: str, count: int, make) -> list[list]:
        return [[command, "k", *make(i)] for i in range(count)]

    return [
        ("string int", [["SET", "k", "12345"]]),
        ("string embstr 20B", [["SET", "k", "x" * 20]]),
        ("string raw 100B", [["SET", "k", "x" * 100]]),
        ("string raw 1000B", [["SET", "k", "x" * 1000]]),
        ("string raw 100KB", [["SET", "k", "x" * 100_000]]),
        ("list 10 x 10B", many("RPUSH", 10, lambda i: ["v" * 10])),
        ("list 100k x 10B", [["RPUSH", "k", *(["element-%03d" % (i % 1000)] * 1000)] for i in range(100)]),
        ("list 10k x 100B", [["RPUSH", "k", *(["y" * 100] * 1000)] for i in range(10)]),
        ("hash listpack 10", many("HSET", 10, lambda i: [f"field{i}", f"value{i}"])),
        ("hash hashtable 1000", [["HSET", "k", *sum(([f"field{i}", f"value{i}"] for i in range(1000)), [])]]),
        ("hash hashtable 100k", [["HSET", "k", *sum(([f"f{i}:{j}", "v" * 20] for j in range(1000)), [])]
                                 for i in range(100)]),
        ("set intset 100", [["SADD", "k", *range(100)]]),
        ("set hashtable 1000", [["SADD", "k", *[f"member:{i}" for i in range(1000)]]]),
        ("set hashtable 100k", [["SADD", "k", *[f"member:{i}:{j}" for j in range(1000)]] for i in range(100)]),
        ("zset listpack 100", [["ZADD", "k", *sum(([i, f"m{i}"] for i in range(100)), [])]]),
        ("zset skiplist 1000", [["ZADD", "k", *sum(([i * 1.5, f"member:{i}"] for i in range(1000)), [])]]),
        ("zset skiplist 100k", [["ZADD", "k", *sum(([j, f"member:{i}:{j}"] for j in range(1000)), [])]
                                for i in range(100)]),
        ("stream 10 entries", many("XADD", 10, lambda i: ["*", "field", f"value{i}"])),
        ("stream 10k entries", many("XADD", 10_000, lambda i: ["*", "field", f"value{i}", "n", i])),
        ("hll 3 elements", [["PFADD", "k", "a", "b", "c"]]),
        ("hll dense", [["PFADD", "k", *[f"e{i}:{j}" for j in range(1000)]] for i in range(20)]),
    ]


def start(command: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vermilion-port", type=int)
    parser.add_argument("--redis-port", type=int)
    args = parser.parse_args()
    processes = []
    vport, rport = args.vermilion_port, args.redis_port
    if vport is None:
        vport = free_port()
        executable = os.path.join(os.path.dirname(sys.executable), "vermilion-server")
        processes.append(start([executable, "--port", str(vport), "--save", "",
                                "--dir", tempfile.mkdtemp(prefix="vermilion-usage-")], vport))
    if rport is None:
        rport = free_port()
        processes.append(start(["redis-server", "--port", str(rport), "--save", "",
                                "--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="redis-usage-")], rport))
    try:
        ours, theirs = redis.Redis(port=vport), redis.Redis(port=rport)
        print(f"{'case':<22} {'Redis':>10} {'Vermilion':>10} {'ratio':>6}")
        for label, commands in cases():
            figures = []
            for client in (theirs, ours):
                client.delete("k")
                pipe = client.pipeline(transaction=False)
                for command in commands:
                    pipe.execute_command(*command)
                pipe.execute()
                figures.append(client.memory_usage("k"))
            ratio = figures[1] / figures[0]
            print(f"{label:<22} {figures[0]:>10} {figures[1]:>10} {ratio:>6.2f}")
    finally:
        for process in processes:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
