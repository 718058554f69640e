"""Throughput of Vermilion against a real redis-server, measured in the same run.

Starts both servers, runs redis-benchmark against each in turn (alternating, several rounds) and
prints, per test and pipeline depth, the median requests/s of each, their ratio, and each server's
CPU time per request (utime+stime from /proc/PID/stat): at -P 1 redis-benchmark's own thread is the
bottleneck, so the CPU figure is the fairer comparison there.

usage: python bench/compare.py [--tests set,get,incr,mset] [--pipelines 1,16] [--clients 50]
                               [--requests 200000] [--rounds 3] [--extra "-d 3"]
                               [--baseline PATH] [--pin]
                               [--command "LABEL=COMMAND ARGS..." ...] [--keyspace 100000]
                               [--server-args "--appendonly yes --appendfsync everysec"]

--baseline PATH adds a third server: Vermilion from another source tree (a clone checked out at
an older commit, imported through PYTHONPATH), for before/after figures from one run. --pin runs
the servers on CPU 0 and redis-benchmark on CPU 1 (taskset): on this two-core machine that keeps
the scheduler from moving them about, which otherwise spreads rounds by +-30%.

--command adds a custom redis-benchmark command line (repeatable), run with -r KEYSPACE so that
__rand_int__ draws from that many values; --tests "" runs only the custom ones. __rand_int__ is
zero-padded to 12 digits, which commands taking an integer (SETBIT's offset) reject. For example:

  python bench/compare.py --tests "" --command "setbit=SETBIT bitkey 4242 1" \
      --command "pfadd=PFADD hll __rand_int__" --command "xadd=XADD stream * f __rand_int__" \
      --command "geoadd=GEOADD geo 13.361389 38.115556 __rand_int__" \
      --command "zadd=ZADD zs 3479099956230698 __rand_int__"
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def pinned(cpu: int, command: list[str], args) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if args.pin else command


def run_benchmark(port: int, pid: int, test: str, pipeline: int, args) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request) for one redis-benchmark run.
    ``test`` is a -t test name or the label of a --command."""
    command = pinned(1, [
        "redis-benchmark", "-p", str(port), "-c", str(args.clients), "-n", str(args.requests),
        "-P", str(pipeline), "--csv", *args.extra.split(),
    ], args)
    custom = args.custom.get(test)
    if custom is None:
        command += ["-t", test]
    else:
        command += ["-r", str(args.keyspace), *custom]
    before = cpu_seconds(pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    rows = [row for row in csv.reader(io.StringIO(output)) if row and row[0] != "test"]
    # The lrange_* tests first fill the list ("LPUSH (needed to benchmark LRANGE)"): their own row
    # is the one named after the test (the CPU figure covers both phases).
    named = [row for row in rows if row[0].split(" ")[0].lower() == test.lower()]
    rps = float((named or rows[-1:])[0][1])
    return rps, used * 1e6 / args.requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default="set,get,incr,mset")
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--extra", default="")
    parser.add_argument("--server-args", default="",
                        help='config for both servers, e.g. "--appendonly yes --appendfsync always"')
    parser.add_argument("--command", action="append", default=[],
                        help='a custom benchmark, "LABEL=COMMAND ARGS..." (repeatable)')
    parser.add_argument("--keyspace", type=int, default=100000,
                        help="-r for custom commands: __rand_int__ values drawn from this many")
    parser.add_argument("--baseline", default="",
                        help="another Vermilion source tree to run as well (before/after figures)")
    parser.add_argument("--pin", action="store_true",
                        help="servers on CPU 0, redis-benchmark on CPU 1 (needs taskset)")
    args = parser.parse_args()
    args.custom = {}
    for spec in args.command:
        label, _, line = spec.partition("=")
        if not line.split():
            raise SystemExit(f"--command needs LABEL=COMMAND ARGS..., got {spec!r}")
        args.custom[label] = line.split()
    tests = [test for test in args.tests.split(",") if test] + list(args.custom)
    if shutil.which("redis-benchmark") is None or shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)")

    workdir = tempfile.mkdtemp(prefix="vermilion-bench-")
    server_args = args.server_args.split()
    # name -> (port, process); a directory each: with --server-args "--appendonly yes" each
    # writes an appendonlydir.
    servers: dict[str, tuple[int, subprocess.Popen]] = {}

    def start(name: str, command: list[str], env: dict | None = None) -> None:
        directory = os.path.join(workdir, name)
        os.mkdir(directory)
        port = free_port()
        command = pinned(0, [*command, "--port", str(port), "--save", "", "--dir", directory,
                             *server_args], args)
        servers[name] = (port, subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL, cwd=directory, env=env))

    start("redis", ["redis-server", "--appendonly", "no"])
    start("vermilion", [sys.executable, "-m", "vermilion"])
    if args.baseline:
        start("baseline", [sys.executable, "-m", "vermilion"],
              dict(os.environ, PYTHONPATH=os.path.abspath(args.baseline)))
    names = [name for name in ("vermilion", "baseline", "redis") if name in servers]
    try:
        for port, _ in servers.values():
            wait_port(port)
        results: dict[tuple[str, int, str], list[tuple[float, float]]] = {}
        pipelines = [int(p) for p in args.pipelines.split(",")]
        for _ in range(args.rounds):
            for pipeline in pipelines:
                for test in tests:
                    for name in names:
                        port, proc = servers[name]
                        results.setdefault((test, pipeline, name), []).append(
                            run_benchmark(port, proc.pid, test, pipeline, args)
                        )
        print(f"redis-benchmark -c {args.clients} -n {args.requests}, median of {args.rounds} rounds {args.extra}")
        header = (f"{'test':<8}{'-P':>4}{'vermilion rps':>15}{'redis rps':>12}{'ratio':>7}"
                  f"{'us/req ours':>13}{'us/req redis':>14}{'cpu ratio':>10}")
        if args.baseline:
            header += f"{'baseline ratio':>16}{'us/req baseline':>17}"
        print(header)
        for pipeline in pipelines:
            for test in tests:
                theirs = results[(test, pipeline, "redis")]
                their_rps = statistics.median(r for r, _ in theirs)
                their_cpu = statistics.median(c for _, c in theirs)
                ours = results[(test, pipeline, "vermilion")]
                ours_rps = statistics.median(r for r, _ in ours)
                ours_cpu = statistics.median(c for _, c in ours)
                line = (f"{test.upper():<8}{pipeline:>4}{ours_rps:>15,.0f}{their_rps:>12,.0f}"
                        f"{ours_rps / their_rps:>7.2f}{ours_cpu:>13.2f}{their_cpu:>14.2f}"
                        f"{their_cpu / ours_cpu if ours_cpu else 0:>10.2f}")
                if args.baseline:
                    base = results[(test, pipeline, "baseline")]
                    line += (f"{statistics.median(r for r, _ in base) / their_rps:>16.2f}"
                             f"{statistics.median(c for _, c in base):>17.2f}")
                print(line)
    finally:
        for _, proc in servers.values():
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
