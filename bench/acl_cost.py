"""What ACL checks cost: the same redis-benchmark run as the default user (no checks, the fast
path) and as a restricted user (every command checked at the gate), on Vermilion and on
redis-server, in one run.

usage: python bench/acl_cost.py [--tests set,get] [--pipelines 1,16] [--requests 100000] [--rounds 3]

Prints, per test and pipeline depth, the median requests/s and server CPU microseconds per
request for each (server, user), and the restricted/default ratio per server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import ROOT, free_port, run_benchmark, wait_port  # noqa: E402

# A user that may do almost everything: -flushall and a key pattern make it "restricted".
RESTRICTED = ["on", "nopass", "~key:*", "~counter:*", "~mylist", "&*", "+@all", "-flushall"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default="set,get")
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.custom = {}
    workdir = tempfile.mkdtemp(prefix="vermilion-acl-bench-")
    user_args = ["--user", "limited", *RESTRICTED]
    servers = {}
    procs = []
    try:
        for name, command in (
            ("vermilion", [sys.executable, "-m", "vermilion"]),
            ("redis", ["redis-server"]),
        ):
            port = free_port()
            proc = subprocess.Popen([*command, "--port", str(port), "--save", "", "--appendonly", "no",
                                     "--dir", workdir, *user_args],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(proc)
            wait_port(port)
            servers[name] = (port, proc.pid)
        print(f"{'test':<8}{'P':>4}  {'server':<10}{'default rps':>13}{'limited rps':>13}"
              f"{'default us':>12}{'limited us':>12}{'rps ratio':>11}")
        for test in args.tests.split(","):
            for pipeline in (int(p) for p in args.pipelines.split(",")):
                for name, (port, pid) in servers.items():
                    results = {"default": [], "limited": []}
                    for _ in range(args.rounds):
                        for user, extra in (("default", ""), ("limited", "--user limited -a x")):
                            args.extra = extra
                            results[user].append(run_benchmark(port, pid, test, pipeline, args))
                    default_rps = statistics.median(r[0] for r in results["default"])
                    limited_rps = statistics.median(r[0] for r in results["limited"])
                    default_cpu = statistics.median(r[1] for r in results["default"])
                    limited_cpu = statistics.median(r[1] for r in results["limited"])
                    print(f"{test:<8}{pipeline:>4}  {name:<10}{default_rps:>13.0f}{limited_rps:>13.0f}"
                          f"{default_cpu:>12.2f}{limited_cpu:>12.2f}{limited_rps / default_rps:>11.2f}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
