"""Machine instructions per command on the in-process request path, counted by valgrind.

Timings on this shared two-core machine drift by 10-30% between runs, which hides changes of a
few percent. An instruction count does not drift: callgrind counts what the interpreter executes
for bench/hotpath.py's workloads (the requests redis-benchmark sends, pipelined, through
Client.data_received with a fake transport). Two runs that differ only in the number of batches
are subtracted, so start-up and imports drop out. Instructions are not time (cache misses and
the kernel's share are not in them); quote bench/compare.py for throughput, and this for whether
a change to the hot path made it cheaper.

usage: python bench/instructions.py [--tests ping,get,lpush] [--baseline PATH] [--batches 300]
                                    [--pipeline 16] [--server [--requests 20000]]

--baseline PATH counts another source tree too (a clone at the older commit), for before/after
figures. Needs valgrind (apt-get install valgrind); each count takes about a minute.

--server counts a real server instead: ``python -m vermilion`` (uvloop, sockets, the end-of-turn
flush) under callgrind, driven by redis-benchmark -c 50 with the test's name (redis-benchmark's
-t: ping_mbulk, lpush, ...); two runs that differ by --requests are subtracted. Under valgrind
the server is the bottleneck, so every loop turn finds all 50 clients ready and the count
repeats to within 0.2%.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run under valgrind: feed ``batches`` pipelines of the workload to one client.
_RUNNER = """
import sys
sys.path.insert(0, {bench!r})
from hotpath import FakeTransport, WORKLOADS
from vermilion.connection import Client
from vermilion.server import Server

server = Server()
client = Client(server)
client.connection_made(FakeTransport())
batch = WORKLOADS[{test!r}] * {pipeline}
for _ in range({batches}):
    client.data_received(batch)
"""


def count(tree: str, test: str, batches: int, pipeline: int) -> int:
    """Instructions callgrind counted for a whole run of the runner."""
    code = _RUNNER.format(bench=os.path.join(ROOT, "bench"), test=test, batches=batches,
                          pipeline=pipeline)
    env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")  # same dict probes each run
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code],
        capture_output=True, text=True, env=env, check=True,
        cwd=tree,  # "python -c" puts the working directory first on sys.path
    )
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise SystemExit(f"valgrind printed no count:\n{result.stderr[-2000:]}")
    return int(match.group(1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_count(tree: str, test: str, requests: int, pipeline: int) -> int:
    """Instructions callgrind counted for a server that served a warm-up and ``requests``."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             "-m", "vermilion", "--port", str(port), "--save", ""],
            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    raise SystemExit("the server did not start under valgrind")
                time.sleep(0.2)
        benchmark = ["redis-benchmark", "-p", str(port), "-c", "50", "-P", str(pipeline), "-q",
                     "-t", test]
        subprocess.run(benchmark + ["-n", "2000"], capture_output=True, check=True)
        if requests:
            subprocess.run(benchmark + ["-n", str(requests)], capture_output=True, check=True)
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
        stderr = server.communicate(timeout=120)[1]
    match = re.search(r"Collected : (\d+)", stderr)
    if match is None:
        raise SystemExit(f"valgrind printed no count:\n{stderr[-2000:]}")
    return int(match.group(1))


def per_server_request(tree: str, test: str, requests: int, pipeline: int) -> float:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        short = pool.submit(server_count, tree, test, 0, pipeline)
        long = pool.submit(server_count, tree, test, requests, pipeline)
        return (long.result() - short.result()) / requests


def per_command(tree: str, test: str, batches: int, pipeline: int) -> float:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        short = pool.submit(count, tree, test, 10, pipeline)
        long = pool.submit(count, tree, test, 10 + batches, pipeline)
        return (long.result() - short.result()) / (batches * pipeline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default="ping,get,set,lpush,rpop,sadd,hset,zadd")
    parser.add_argument("--baseline", default="")
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    if args.server and shutil.which("redis-benchmark") is None:
        raise SystemExit("--server needs redis-benchmark (apt-get install redis-tools)")
    trees = [("this tree", ROOT)]
    if args.baseline:
        trees.append(("baseline", os.path.abspath(args.baseline)))
    header = f"{'test':<11}" + "".join(f"{name:>14}" for name, _ in trees)
    if args.server:
        print(f"instructions per request of a server, redis-benchmark -c 50 -P {args.pipeline}, "
              f"{args.requests} requests")
    else:
        print(f"instructions per command, -P {args.pipeline}, {args.batches} batches")
    print(header + ("    change" if args.baseline else ""))
    for test in args.tests.upper().split(","):
        if args.server:
            figures = [per_server_request(tree, test.lower(), args.requests, args.pipeline)
                       for _, tree in trees]
        else:
            figures = [per_command(tree, test, args.batches, args.pipeline) for _, tree in trees]
        line = f"{test:<11}" + "".join(f"{figure:>14,.0f}" for figure in figures)
        if args.baseline:
            line += f"{(figures[0] - figures[1]) / figures[1]:>+10.1%}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
