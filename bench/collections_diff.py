"""Differential random walk over the collection commands: the same random command stream goes to
a vermilion-server and a real redis-server, and every reply and, after every command, every
key's type, encoding and contents must match.

The arguments are drawn from a small pool of keys and awkward values (empty strings, huge and
non-numeric numbers, lex and score bounds, long elements) so that keys change type, meet
WRONGTYPE, cross the listpack / intset thresholds and meet CONFIG SET of those thresholds.

Where Redis leaves a result unspecified the comparison is relaxed, and only there:
- random picks (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) are compared by reply length, and
  after SPOP both servers are given Redis's copy of every key (DUMP / RESTORE on both);
- SCANs are followed to the end and the sets of what they returned are compared;
- SORT ... BY of a set or sorted set: ties keep Redis's hash table order, so the replies are
  compared as multisets and a STORE destination is copied from Redis;
- SORT can answer "One or more scores can't be converted into double" on Redis for valid
  numbers: Redis 7.0 tests a stale errno (ERANGE left by an earlier strtod), so that reply is
  not held against us.

The first difference stops the run with the last commands that led to it.

usage: python bench/collections_diff.py [--seed 1] [--commands 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable

import hiredis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench.compare import free_port, wait_port  # noqa: E402

KEYS = [b"l1", b"l2", b"s1", b"s2", b"h1", b"z1", b"z2", b"str", b"nokey"]
VALUES = [b"a", b"b", b"c", b"1", b"2", b"10", b"-1", b"0", b"", b"x" * 70, b"3.5", b"-inf",
          b"+inf", b"nan", b"(1", b"[a", b"-", b"+", b"(", b"[", b"999999999999999999999",
          b"1e400", b"0x10", b" 1"]
NUMBERS = [b"0", b"1", b"-1", b"2", b"-2", b"3", b"10", b"-100", b"100", b"9223372036854775807",
           b"-9223372036854775808", b"abc", b"1.5", b""]
UNORDERED = {b"SINTER", b"SUNION", b"SDIFF", b"HGETALL", b"SMEMBERS", b"HKEYS", b"HVALS"}
RANDOM = {b"SRANDMEMBER", b"HRANDFIELD", b"ZRANDMEMBER", b"SPOP"}
SCANS = {b"HSCAN", b"SSCAN", b"ZSCAN"}
STALE_ERRNO = ("error", "ERR One or more scores can't be converted into double")


class Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = hiredis.Reader()

    def call(self, *args: bytes):
        self.sock.sendall(b"*%d\r\n" % len(args)
                          + b"".join(b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in args))
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return plain(reply)
            self.reader.feed(self.sock.recv(65536))


def plain(reply):
    """A reply in a comparable form (hiredis's error objects compare by identity)."""
    if isinstance(reply, Exception):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [plain(element) for element in reply]
    return reply


def generators(rnd: random.Random) -> list[Callable[[], list[bytes]]]:
    def key() -> bytes:
        return rnd.choice(KEYS)

    def value() -> bytes:
        return rnd.choice(VALUES)

    def number() -> bytes:
        return rnd.choice(NUMBERS)

    def some(*options: bytes) -> list[bytes]:
        return [option for option in options if rnd.random() < 0.3]

    def maybe(*args: bytes) -> list[bytes]:
        return list(args) if rnd.random() < 0.5 else []

    def end() -> bytes:
        return rnd.choice([b"LEFT", b"RIGHT"])

    return [
        lambda: [b"LPUSH", key()] + [value() for _ in range(rnd.randint(0, 3))],
        lambda: [b"RPUSH", key()] + [value() for _ in range(rnd.randint(1, 3))],
        lambda: [b"RPUSH", key()] + [value() for _ in range(rnd.randint(100, 140))],
        lambda: [b"LPUSHX", key(), value()],
        lambda: [rnd.choice([b"LPOP", b"RPOP"]), key()] + maybe(number()),
        lambda: [b"LRANGE", key(), number(), number()],
        lambda: [b"LINDEX", key(), number()],
        lambda: [b"LSET", key(), number(), value()],
        lambda: [b"LINSERT", key(), rnd.choice([b"BEFORE", b"AFTER", b"x"]), value(), value()],
        lambda: [b"LREM", key(), number(), value()],
        lambda: [b"LTRIM", key(), number(), number()],
        lambda: [b"LPOS", key(), value()] + [arg for option in some(b"RANK", b"COUNT", b"MAXLEN")
                                             for arg in (option, number())],
        lambda: [b"LMOVE", key(), key(), end(), rnd.choice([b"LEFT", b"RIGHT", b"UP"])],
        lambda: [b"LMPOP", number(), key(), key(), end()] + maybe(b"COUNT", number()),
        lambda: [rnd.choice([b"BLPOP", b"BRPOP", b"BZPOPMIN", b"BZPOPMAX"]), key(), key(),
                 rnd.choice([b"0.01", b"-1", b"x", b"0.001", b"inf"])],
        lambda: [b"BLMOVE", key(), key(), end(), end(), b"0.01"],
        lambda: [b"BLMPOP", b"0.01", b"2", key(), key(), end(), b"COUNT", number()],
        lambda: [b"BZMPOP", b"0.01", b"1", key(), rnd.choice([b"MIN", b"MAX"])],
        lambda: [b"SADD", key()] + [value() for _ in range(rnd.randint(1, 4))],
        lambda: [b"SADD", key()] + [b"%d" % rnd.randint(-2000, 2000)
                                    for _ in range(rnd.randint(100, 600))],
        lambda: [b"SREM", key(), value(), value()],
        lambda: [b"SPOP", key()] + maybe(number()),
        lambda: [b"SMOVE", key(), key(), value()],
        lambda: [rnd.choice([b"SINTER", b"SUNION", b"SDIFF"]), key(), key()],
        lambda: [rnd.choice([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]), key(), key(), key()],
        lambda: [b"SINTERCARD", number(), key(), key()] + maybe(b"LIMIT", number()),
        lambda: [b"SMISMEMBER", key(), value(), value()],
        lambda: [b"HSET", key(), value(), value()],
        lambda: [b"HSET", key()] + [b"%s%d" % (value(), index)
                                    for index in range(rnd.randint(60, 140)) for _ in (0, 1)],
        lambda: [b"HINCRBY", key(), value(), number()],
        lambda: [b"HINCRBYFLOAT", key(), value(), value()],
        lambda: [b"HDEL", key(), value()],
        lambda: [b"HMGET", key(), value(), value()],
        lambda: [b"HSETNX", key(), value(), value()],
        lambda: [b"HSTRLEN", key(), value()],
        lambda: [b"ZADD", key()] + some(b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR") + [value(), value()],
        lambda: [b"ZADD", key()] + [arg for _ in range(rnd.randint(60, 140))
                                    for arg in (b"%d" % rnd.randint(-50, 50), b"m%d" % rnd.randint(0, 300))],
        lambda: [b"ZINCRBY", key(), value(), value()],
        lambda: ([b"ZRANGE", key(), value(), value()] + some(b"BYSCORE", b"BYLEX", b"REV", b"WITHSCORES")
                 + maybe(b"LIMIT", number(), number())),
        lambda: ([b"ZRANGE", key(), rnd.choice([b"-", b"+", b"[a", b"(m1"]),
                  rnd.choice([b"-", b"+", b"[z", b"(m5"]), b"BYLEX"] + some(b"REV")
                 + maybe(b"LIMIT", number(), number())),
        lambda: ([b"ZRANGE", key(), rnd.choice([b"-inf", b"(0", b"5", b"+inf"]),
                  rnd.choice([b"-inf", b"(10", b"-5", b"+inf"]), b"BYSCORE"] + some(b"REV", b"WITHSCORES")
                 + maybe(b"LIMIT", number(), number())),
        lambda: [b"ZRANGEBYSCORE", key(), value(), value()] + some(b"WITHSCORES"),
        lambda: [b"ZREVRANGEBYLEX", key(), value(), value()],
        lambda: [rnd.choice([b"ZCOUNT", b"ZLEXCOUNT"]), key(), value(), value()],
        lambda: [rnd.choice([b"ZRANK", b"ZREVRANK", b"ZSCORE"]), key(), value()],
        lambda: [rnd.choice([b"ZREMRANGEBYSCORE", b"ZREMRANGEBYLEX"]), key(), value(), value()],
        lambda: [b"ZREMRANGEBYRANK", key(), number(), number()],
        lambda: [rnd.choice([b"ZPOPMIN", b"ZPOPMAX"]), key()] + maybe(number()),
        lambda: ([rnd.choice([b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"]), key(), b"2", key(), key()]
                 + maybe(b"WEIGHTS", value(), value())
                 + maybe(b"AGGREGATE", rnd.choice([b"SUM", b"MIN", b"MAX", b"X"]))),
        lambda: [rnd.choice([b"ZUNION", b"ZINTER", b"ZDIFF"]), b"2", key(), key()] + some(b"WITHSCORES"),
        lambda: [b"ZMSCORE", key(), value(), value()],
        lambda: [b"ZINTERCARD", b"2", key(), key()],
        lambda: [b"ZRANGESTORE", key(), key(), number(), number()] + some(b"REV"),
        lambda: [b"ZMPOP", b"2", key(), key(), rnd.choice([b"MIN", b"MAX"])] + maybe(b"COUNT", number()),
        lambda: [rnd.choice(sorted(SCANS)), key(), b"0"] + maybe(b"MATCH", rnd.choice([b"*1*", b"m?", b"[ab]*"])),
        lambda: [rnd.choice([b"SRANDMEMBER", b"ZRANDMEMBER"]), key(),
                 rnd.choice([b"0", b"1", b"-3", b"100", b"x"])],
        lambda: [b"HRANDFIELD", key(), rnd.choice([b"0", b"1", b"-3", b"x"]), b"WITHVALUES"],
        lambda: [rnd.choice([b"ZCARD", b"HLEN", b"LLEN", b"SCARD", b"HKEYS", b"HVALS", b"HGETALL",
                             b"SMEMBERS", b"TYPE"]), key()],
        lambda: [b"SORT", key()] + some(b"ALPHA", b"DESC") + maybe(b"LIMIT", number(), number()),
        lambda: ([b"SORT", key(), b"BY", rnd.choice([b"w_*", b"nosort", b"h1->*", b"*->f"]), b"GET",
                  rnd.choice([b"#", b"h1->a", b"w_*", b"*->b"])] + some(b"ALPHA", b"DESC")
                 + maybe(b"STORE", key())),
        lambda: [b"SET", b"w_" + value(), number()],
        lambda: [b"SET", b"str", value()],
        lambda: [b"DEL", key()],
        lambda: [b"CONFIG", b"SET", rnd.choice([b"set-max-intset-entries", b"hash-max-listpack-entries",
                                                b"zset-max-listpack-entries", b"list-max-listpack-size"]),
                 rnd.choice([b"0", b"1", b"128", b"512", b"-2"])],
    ]


def state(conn: Connection, key: bytes) -> tuple:
    """A key's type, encoding and contents, unordered things sorted."""
    kind = conn.call(b"TYPE", key)
    encoding = conn.call(b"OBJECT", b"ENCODING", key)
    if kind == b"list":
        contents = conn.call(b"LRANGE", key, b"0", b"-1")
    elif kind == b"set":
        contents = sorted(conn.call(b"SMEMBERS", key))
    elif kind == b"hash":
        flat = conn.call(b"HGETALL", key)
        contents = sorted(zip(flat[::2], flat[1::2]))
    elif kind == b"zset":
        contents = conn.call(b"ZRANGE", key, b"0", b"-1", b"WITHSCORES")
    else:
        contents = conn.call(b"GET", key)
    return kind, encoding, contents


def scanned(conn: Connection, args: list[bytes], first) -> object:
    """Everything a SCAN returns once followed to cursor 0, as a sorted set of its items."""
    if not (isinstance(first, list) and len(first) == 2):
        return first
    items = list(first[1])
    cursor = first[0]
    while cursor != b"0":
        page = conn.call(args[0], args[1], cursor, *args[3:])
        if not isinstance(page, list):
            return page
        cursor = page[0]
        items += page[1]
    if args[0] != b"SSCAN":
        items = list(zip(items[::2], items[1::2]))
    return sorted(set(items))


def copy_from_redis(redis: Connection, ours: Connection, key: bytes) -> None:
    """Give both servers Redis's value of ``key``, restored the same way on each."""
    dump = redis.call(b"DUMP", key)
    for conn in (redis, ours):
        conn.call(b"DEL", key)
        if dump is not None:
            conn.call(b"RESTORE", key, b"0", dump)


def compared(args: list[bytes], redis: Connection, ours: Connection, theirs, mine,
             source_kind: bytes | None) -> tuple:
    """The two replies in the form they must agree in (see the module docstring).
    ``source_kind``: for SORT, the type its key had before it ran."""
    name = args[0]
    if name == b"SORT" and theirs == STALE_ERRNO and isinstance(mine, list):
        return mine, mine
    if name == b"SORT" and b"BY" in args and source_kind in (b"set", b"zset"):
        if b"STORE" in args:
            copy_from_redis(redis, ours, args[args.index(b"STORE") + 1])
        if isinstance(theirs, list) and isinstance(mine, list):
            return sorted(map(repr, theirs)), sorted(map(repr, mine))
    if name in RANDOM:
        if isinstance(theirs, list) and isinstance(mine, list):
            return len(theirs), len(mine)
        if isinstance(theirs, bytes) and isinstance(mine, bytes):
            return 1, 1
    if name in SCANS:
        return scanned(redis, args, theirs), scanned(ours, args, mine)
    if name in UNORDERED and isinstance(theirs, list) and isinstance(mine, list):
        return sorted(map(repr, theirs)), sorted(map(repr, mine))
    return theirs, mine


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commands", type=int, default=20000)
    args = parser.parse_args()
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise SystemExit("needs redis-server (apt-get install redis-server)")
    rnd = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="vermilion-diff-")
    redis_port, our_port = free_port(), free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": workdir}
    servers = [
        subprocess.Popen([redis_server, "--port", str(redis_port), "--save", "", "--dir", workdir], **quiet),
        subprocess.Popen([sys.executable, "-m", "vermilion", "--port", str(our_port), "--save", ""],
                         env=dict(os.environ, PYTHONPATH=ROOT), **quiet),
    ]
    try:
        wait_port(redis_port)
        wait_port(our_port)
        redis, ours = Connection(redis_port), Connection(our_port)
        commands = generators(rnd)
        history: list[list[bytes]] = []
        for step in range(args.commands):
            command = rnd.choice(commands)()
            history.append(command)
            source_kind = redis.call(b"TYPE", command[1]) if command[0] == b"SORT" else None
            theirs, mine = compared(command, redis, ours, redis.call(*command), ours.call(*command),
                                    source_kind)
            problem = None
            if theirs != mine:
                problem = f"replies differ\n  redis: {theirs!r}\n  ours:  {mine!r}"
            elif command[0] == b"SPOP":
                for key in KEYS:
                    copy_from_redis(redis, ours, key)
            else:
                for key in KEYS:
                    expected, got = state(redis, key), state(ours, key)
                    if expected != got:
                        problem = f"{key!r} differs\n  redis: {expected!r}\n  ours:  {got!r}"
                        break
            if problem is not None:
                print(f"command {step}: {problem}\nthe last commands:")
                for earlier in history[-8:]:
                    print("   ", b" ".join(earlier).decode(errors="replace"))
                return 1
        print(f"{args.commands} commands, seed {args.seed}: no difference")
        return 0
    finally:
        for server in servers:
            server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
