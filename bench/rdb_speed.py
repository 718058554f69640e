"""RDB save and load speed: write_rdb and load_rdb on N keys, against redis-server's SAVE and
DEBUG RELOAD of the same data for scale.

    .venv/bin/python bench/rdb_speed.py [--keys 1000000] [--port 7209]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time

import redis

import vermilion.commands  # noqa: F401  (registers the commands a Server expects)
from vermilion.persistence.rdb import load_rdb, write_rdb
from vermilion.server import Server


def fill(server, keys: int) -> None:
    from vermilion.types.hash import HashValue
    from vermilion.types.list import ListValue

    def work() -> None:
        db = server.dbs[0]
        for i in range(keys):
            kind = i % 10
            key = b"key:%d" % i
            if kind == 8:
                db.data[key] = HashValue({b"f1": b"v%d" % i, b"f2": b"x" * 30})
            elif kind == 9:
                db.data[key] = ListValue.from_values([b"a", b"b", b"%d" % i])
            else:
                db.data[key] = b"value:%d" % i
            db.access[key] = server.lru_clock
            if i % 7 == 0:
                db.expires[key] = 4_000_000_000_000

    work()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=7209)
    args = parser.parse_args()
    # Servers that are not started: the codec alone, without an event loop thread competing.
    server = Server(port=0)
    fill(server, args.keys)
    buffer = io.BytesIO()
    started = time.perf_counter()
    write_rdb(server, buffer)
    save_s = time.perf_counter() - started
    data = buffer.getvalue()
    fresh = Server(port=0)
    started = time.perf_counter()
    load_rdb(fresh, data)
    load_s = time.perf_counter() - started
    print(f"vermilion: {args.keys} keys, {len(data) / 1e6:.1f} MB: save {save_s:.2f} s, load {load_s:.2f} s")
    binary = shutil.which("redis-server")
    if binary is None:
        return
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "bench.rdb"), "wb") as handle:
            handle.write(data)
        proc = subprocess.Popen([binary, "--port", str(args.port), "--dir", directory,
                                 "--dbfilename", "bench.rdb", "--save", "", "--enable-debug-command", "yes"],
                                stdout=subprocess.DEVNULL)
        try:
            client = redis.Redis(port=args.port)
            while True:
                try:
                    if client.info("persistence")["loading"] == 0:
                        break
                except redis.ConnectionError:
                    pass
                time.sleep(0.05)
            started = time.perf_counter()
            client.save()
            redis_save = time.perf_counter() - started
            started = time.perf_counter()
            client.execute_command("DEBUG", "RELOAD")
            redis_reload = time.perf_counter() - started
            print(f"redis-server: SAVE {redis_save:.2f} s, DEBUG RELOAD (save+load) {redis_reload:.2f} s,"
                  f" dbsize {client.dbsize()}")
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
