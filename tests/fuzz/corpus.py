"""What the fuzzers throw at a server: malformed RESP, and argument vectors for every command
COMMAND lists, drawn from a small alphabet of keys, numbers and the keywords of COMMAND DOCS.

Shared by the in-suite hypothesis tests (tests/fuzz/) and the long run (bench/fuzz.py); every
generator takes a ``random.Random`` so runs are reproducible from a seed.
"""

from __future__ import annotations

import random
import socket

import hiredis

# Commands the fuzzers never send: they stop or reconfigure the server, write files, wait on
# the network, block the connection, or lock clients out.
EXCLUDED = frozenset({
    "shutdown", "debug", "monitor", "sync", "psync", "replicaof", "slaveof", "failover", "migrate",
    "save", "bgsave", "bgrewriteaof", "config", "client", "acl", "auth", "hello", "module", "cluster",
    "wait", "waitaof", "quit", "reset", "subscribe", "psubscribe", "ssubscribe", "sentinel",
    "pfselftest",  # correct but slow here (tens of seconds): it would stall every run
})

KEYS = [b"k1", b"k2", b"{t}a", b"{t}b", b"list", b"hash", b"zset", b"stream", b""]
NUMBERS = [b"0", b"1", b"-1", b"2", b"3.5", b"-0.5", b"inf", b"-inf", b"+inf", b"nan", b"10",
           b"9223372036854775807", b"-9223372036854775808", b"18446744073709551616", b"1e308",
           b"0x10", b"", b" 1", b"100000000", b"4294967296", b"-100", b"$", b">", b"*", b"0-1", b"1-0"]
JUNK = [b"\x00", b"\xff\xfe", b"\r\n", b"a b", b"'", b'"', b"[a", b"(1", b"-", b"+", b"~", b"%", b"x" * 70]


def command_table(port: int) -> list[tuple[bytes, list[bytes], int]]:
    """(name, subcommand names, arity) for every command the server at ``port`` lists."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = hiredis.Reader()
    conn.sendall(b"*1\r\n$7\r\nCOMMAND\r\n")
    reply = _read(conn, reader)
    conn.close()
    table = []
    for entry in reply:
        name, arity = entry[0], entry[1]
        if name.decode() in EXCLUDED or b"blocking" in entry[2]:
            continue
        subs = [sub[0].split(b"|", 1)[1] for sub in (entry[9] if len(entry) > 9 else [])]
        table.append((name, subs, arity))
    table.sort()
    return table


def keywords(port: int) -> list[bytes]:
    """Tokens and upper-cased argument names from COMMAND DOCS: NX, WITHSCORES, BYSCORE, ..."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = hiredis.Reader()
    conn.sendall(b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n")
    reply = _read(conn, reader)
    conn.close()
    found: set[bytes] = set()

    def walk(node):
        if isinstance(node, list):
            for index, item in enumerate(node):
                if item in (b"token", b"name") and index + 1 < len(node) and isinstance(node[index + 1], bytes):
                    found.add(node[index + 1].upper())
                walk(item)

    walk(reply)
    return sorted(word for word in found if word and len(word) < 20)


def _read(conn: socket.socket, reader: hiredis.Reader):
    while True:
        reply = reader.gets()
        if reply is not False:
            return reply
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise ConnectionError("closed")
        reader.feed(chunk)


def random_argv(rng: random.Random, table: list, words: list[bytes]) -> list[bytes]:
    name, subs, arity = rng.choice(table)
    argv = [name if rng.random() < 0.7 else name.upper()]
    if subs and rng.random() < 0.9:
        argv.append(rng.choice(subs))
    wanted = abs(arity) - len(argv) if rng.random() < 0.6 else rng.randint(0, 7)
    for _ in range(max(0, wanted) + (rng.randint(0, 3) if arity < 0 else 0)):
        pick = rng.random()
        if pick < 0.35:
            argv.append(rng.choice(KEYS))
        elif pick < 0.65:
            argv.append(rng.choice(NUMBERS))
        elif pick < 0.93:
            argv.append(rng.choice(words))
        else:
            argv.append(rng.choice(JUNK))
    return argv


def encode(argv: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def malformed(rng: random.Random) -> bytes:
    """One malformed (or borderline) request: random bytes, broken headers, huge lengths,
    nested types, inline junk, or a valid request cut or corrupted at a random byte."""
    kind = rng.randrange(9)
    if kind == 0:
        return rng.randbytes(rng.randint(1, 200))
    if kind == 1:
        count = rng.choice([b"-1", b"0", b"1", b"2", b"1024", b"1048577", b"2147483647", b"2147483648",
                            b"-2", b"abc", b"", b" 1", b"01", b"1x", b"99999999999999999999"])
        return b"*" + count + b"\r\n" + b"$4\r\nPING\r\n" * rng.randint(0, 2)
    if kind == 2:
        length = rng.choice([b"-1", b"-2", b"0", b"536870912", b"536870913", b"1073741824", b"abc", b"",
                             b"4", b"3", b"5", b"01"])
        return b"*1\r\n$" + length + b"\r\nPING\r\n"
    if kind == 3:
        nested = rng.choice([b"*1\r\n*1\r\n$4\r\nPING\r\n", b"*2\r\n$4\r\nECHO\r\n:1\r\n", b"*1\r\n_\r\n",
                             b"*2\r\n$4\r\nECHO\r\n%1\r\n+a\r\n+b\r\n", b"*1\r\n#t\r\n", b"*1\r\n,1.5\r\n",
                             b"*2\r\n$4\r\nECHO\r\n~1\r\n$1\r\na\r\n", b"*1\r\n!3\r\nerr\r\n", b"*1\r\n>1\r\n+a\r\n"])
        return nested
    if kind == 4:
        line = b" ".join(rng.choice([b"PING", b"ECHO", b'"a', b"'b'", b'"\\x4', b"\\", b"\t", b"\x00",
                                     b'"x"y', b"''", b'""', b"GET", b"k1"]) for _ in range(rng.randint(1, 6)))
        return line + rng.choice([b"\r\n", b"\n", b"\r", b""])
    if kind == 5:
        return b"x" * rng.choice([65535, 65536, 65537, 70000]) + rng.choice([b"", b"\r\n"])
    if kind == 6:
        return b"*" + b"9" * rng.randint(1, 30) + b"\r\n"
    valid = encode([b"SET", b"k1", rng.randbytes(rng.randint(0, 40))]) + encode([b"GET", b"k1"])
    position = rng.randrange(len(valid))
    if kind == 7:
        return valid[:position]
    corrupted = bytearray(valid)
    corrupted[position] = rng.randrange(256)
    return bytes(corrupted)
