"""Machine instructions per command on the in-process request path, counted by valgrind.

Timings on this shared two-core machine drift by 10-30% between runs, which hides changes of a
few percent. An instruction count does not drift: callgrind counts what the interpreter executes
for bench/hotpath.py's workloads (the requests redis-benchmark sends, pipelined, through
Client.data_received with a fake transport). Two runs that differ only in the number of batches
are subtracted, so start-up and imports drop out. Instructions are not time (cache misses and
the kernel's share are not in them); quote bench/compare.py for throughput, and this for whether
a change to the hot path made it cheaper.

usage: python bench/instructions.py [--tests ping,get,lpush] [--baseline PATH] [--batches 300]

--baseline PATH counts another source tree too (a clone at the older commit), for before/after
figures. Needs valgrind (apt-get install valgrind); each count takes about a minute.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

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
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    trees = [("this tree", ROOT)]
    if args.baseline:
        trees.append(("baseline", os.path.abspath(args.baseline)))
    header = f"{'test':<8}" + "".join(f"{name:>14}" for name, _ in trees)
    print(f"instructions per command, -P {args.pipeline}, {args.batches} batches")
    print(header + ("    change" if args.baseline else ""))
    for test in args.tests.upper().split(","):
        figures = [per_command(tree, test, args.batches, args.pipeline) for _, tree in trees]
        line = f"{test:<8}" + "".join(f"{figure:>14,.0f}" for figure in figures)
        if args.baseline:
            line += f"{(figures[0] - figures[1]) / figures[1]:>+10.1%}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
