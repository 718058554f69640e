"""maxmemory and eviction measured: memory held under each policy, and cache hit rates against a
real redis-server.

  policies: for each of the 8 policies, a Vermilion with maxmemory (default 100mb) receives
            --requests SETs of --size-byte values over --key-range random keys from
            redis-benchmark (-P 16; with EX for the volatile-* policies). Prints used_memory,
            the limit, RSS now and at peak (VmHWM), evicted keys, and OOM errors (noeviction).
  quality:  a Zipf-distributed GET / SET-on-miss workload over --keys distinct keys, with
            maxmemory sized per server so that --fraction of the keys fit (per-key cost measured
            on each server first); prints each server's hit rate per policy.

usage: python bench/eviction.py policies [--maxmemory 100mb] [--requests 1100000]
       python bench/eviction.py quality [--keys 1000000] [--requests 3000000] [--fraction 0.1]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.compare import free_port, wait_port  # noqa: E402

POLICIES = ["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu",
            "allkeys-random", "volatile-random", "volatile-ttl"]
VERMILION = os.path.join(os.path.dirname(sys.executable), "vermilion-server")


def start(kind: str, port: int, *options: str) -> subprocess.Popen:
    binary = VERMILION if kind == "vermilion" else "redis-server"
    command = [binary, "--port", str(port), "--save", "", "--appendonly", "no",
               "--dir", tempfile.mkdtemp(prefix="vermilion-eviction-"), *options]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def proc_status(pid: int) -> dict[str, int]:
    figures = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                figures[name] = int(value.split()[0]) * 1024
    return figures


def mb(value: int) -> str:
    return f"{value / 1024 / 1024:.1f}MB"


def run_policies(args) -> None:
    print(f"{'policy':<16} {'used_memory':>12} {'maxmemory':>10} {'RSS':>9} {'peak RSS':>9} "
          f"{'RSS/max':>7} {'evicted':>8} {'errors':>7} {'req/s':>8}")
    value = "x" * args.size
    for policy in args.policies.split(","):
        port = free_port()
        process = start("vermilion", port, "--maxmemory", args.maxmemory, "--maxmemory-policy", policy)
        try:
            command = ["redis-benchmark", "-p", str(port), "-c", "50", "-P", "16", "-n",
                       str(args.requests), "-r", str(args.key_range), "--csv", "SET", "key:__rand_int__", value]
            if policy.startswith("volatile"):
                command += ["EX", "100000"]
            started = time.time()
            result = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.time() - started
            client = redis.Redis(port=port)
            info = client.info()
            errors = result.stdout.count("OOM") + result.stderr.count("OOM")
            status = proc_status(process.pid)
            print(f"{policy:<16} {mb(info['used_memory']):>12} {mb(info['maxmemory']):>10} "
                  f"{mb(status['VmRSS']):>9} {mb(status['VmHWM']):>9} "
                  f"{status['VmHWM'] / info['maxmemory']:>7.2f} {info['evicted_keys']:>8} "
                  f"{'yes' if errors else 'no':>7} {args.requests / elapsed:>8.0f}", flush=True)
            client.close()
        finally:
            stop(process)


def zipf_sampler(keys: int, exponent: float, seed: int):
    weights = [1.0 / (rank ** exponent) for rank in range(1, keys + 1)]
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    rng = random.Random(seed)
    # Ranks are mapped to key ids through a fixed permutation, so that hot keys are scattered.
    permutation = list(range(keys))
    rng.shuffle(permutation)

    def draw(count: int) -> list[int]:
        return [permutation[bisect.bisect_left(cumulative, rng.random() * total)] for _ in range(count)]

    return draw


def per_key_cost(client: redis.Redis, size: int, sample: int = 20000) -> float:
    before = client.info("memory")["used_memory"]
    pipe = client.pipeline(transaction=False)
    for i in range(sample):
        pipe.set(f"probe:{i:08d}", "x" * size)
    pipe.execute()
    after = client.info("memory")["used_memory"]
    client.flushall()
    return (after - before) / sample


def hit_rate(client: redis.Redis, keys: int, requests: int, size: int, exponent: float) -> float:
    draw = zipf_sampler(keys, exponent, seed=42)
    value = "x" * size
    hits = misses = 0
    batch = 200
    for start_at in range(0, requests, batch):
        ids = draw(batch)
        pipe = client.pipeline(transaction=False)
        for key in ids:
            pipe.get(f"key:{key:08d}")
        replies = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for key, reply in zip(ids, replies):
            if reply is None:
                misses += 1
                pipe.set(f"key:{key:08d}", value)
            else:
                hits += 1
        pipe.execute()
        # Hit rate after warming up: count the second half only.
        if start_at + batch == requests // 2:
            hits = misses = 0
    return hits / (hits + misses)


def run_quality(args) -> None:
    print(f"keys={args.keys} requests={args.requests} value={args.size}B zipf s={args.exponent} "
          f"fraction in memory={args.fraction}")
    print(f"{'policy':<12} {'server':<10} {'bytes/key':>9} {'maxmemory':>10} {'keys held':>9} {'hit rate':>8}")
    for policy in args.policies.split(","):
        for kind in ("redis", "vermilion"):
            port = free_port()
            process = start(kind, port)
            try:
                client = redis.Redis(port=port)
                base = client.info("memory")["used_memory"]
                cost = per_key_cost(client, args.size)
                limit = int(base + cost * args.keys * args.fraction)
                client.config_set("maxmemory-policy", policy)
                client.config_set("maxmemory", limit)
                rate = hit_rate(client, args.keys, args.requests, args.size, args.exponent)
                held = client.dbsize()
                print(f"{policy:<12} {kind:<10} {cost:>9.0f} {mb(limit):>10} {held:>9} {rate:>8.3f}", flush=True)
                client.close()
            finally:
                stop(process)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    policies = sub.add_parser("policies")
    policies.add_argument("--maxmemory", default="100mb")
    policies.add_argument("--requests", type=int, default=1_100_000)
    policies.add_argument("--key-range", type=int, default=10_000_000)
    policies.add_argument("--size", type=int, default=1000)
    policies.add_argument("--policies", default=",".join(POLICIES))
    quality = sub.add_parser("quality")
    quality.add_argument("--keys", type=int, default=1_000_000)
    quality.add_argument("--requests", type=int, default=3_000_000)
    quality.add_argument("--size", type=int, default=100)
    quality.add_argument("--fraction", type=float, default=0.1)
    quality.add_argument("--exponent", type=float, default=1.0)
    quality.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    args = parser.parse_args()
    if args.what == "policies":
        run_policies(args)
    else:
        run_quality(args)


if __name__ == "__main__":
    main()
