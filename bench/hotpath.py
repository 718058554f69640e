"""In-process cost of the request path, without sockets: feeds pipelined requests to a Client
with a fake transport and reports nanoseconds per command. For profiling the hot path only;
quote bench/compare.py (real redis-benchmark against real Redis) for figures.

usage: python bench/hotpath.py [--pipeline 16] [--batches 20000]
"""

from __future__ import annotations

import argparse
import time

from vermilion import commands  # noqa: F401
from vermilion.connection import Client
from vermilion.server import Server


class FakeTransport:
    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_extra_info(self, name: str, default=None):
        return default

    def close(self) -> None:
        pass


def request(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


# The requests redis-benchmark sends for its tests of the same names (no -r: keys are literal).
WORKLOADS = {
    "SET": request(b"SET", b"key:__rand_int__", b"xxx"),
    "GET": request(b"GET", b"key:__rand_int__"),
    "PING": request(b"PING"),
    "INCR": request(b"INCR", b"counter:__rand_int__"),
    "LPUSH": request(b"LPUSH", b"mylist", b"xxx"),
    "RPUSH": request(b"RPUSH", b"mylist", b"xxx"),
    "LPOP": request(b"LPOP", b"mylist"),
    "RPOP": request(b"RPOP", b"mylist"),
    "SADD": request(b"SADD", b"myset", b"element:__rand_int__"),
    "HSET": request(b"HSET", b"myhash", b"element:__rand_int__", b"xxx"),
    "ZADD": request(b"ZADD", b"myzset", b"0", b"element:__rand_int__"),
    "SPOP": request(b"SPOP", b"myset"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--batches", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--tests", default="set,get,ping",
                        help="comma-separated: " + ",".join(WORKLOADS))
    args = parser.parse_args()
    server = Server()
    client = Client(server)
    client.connection_made(FakeTransport())
    for name in args.tests.upper().split(","):
        batch = WORKLOADS[name] * args.pipeline
        best = float("inf")
        # CPU time of this thread, best of several runs: wall time is noisy on a shared machine.
        for _ in range(args.repeats):
            started = time.thread_time()
            for _ in range(args.batches):
                client.data_received(batch)
            best = min(best, time.thread_time() - started)
        print(f"{name:<6} {best * 1e9 / (args.batches * args.pipeline):8.0f} ns/command")


if __name__ == "__main__":
    main()
