"""Capture command metadata facts from a running Redis 7.0 into vermilion/commands/meta/*.json.

Arity, flags, key specs, ACL categories, argument grammar and since-versions are facts about the
Redis interface that clients depend on, so they are read from the real server rather than typed by
hand. Each reply is stored as a typed tree so that COMMAND can re-encode it for RESP2 or RESP3:
a JSON string is a bulk string, {"+": s} a status, {"%": [[k, v], ...]} a map, {"~": [...]} a set,
a list an array, a number an integer, null a null.

The prose (summaries, history notes, key-spec notes) is replaced afterwards by our own words:
see tools/meta_prose.json, applied by ``--prose``.

usage: python tools/gen_command_meta.py PORT
"""

from __future__ import annotations

import json
import pathlib
import socket
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "vermilion" / "commands" / "meta"


class Resp3:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.call("HELLO", "3")

    def call(self, *args: str):
        out = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args
        )
        self.sock.sendall(out)
        return self.read()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 20)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(1 << 20)
        data, self.buf = self.buf[:n], self.buf[n + 2 :]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return {"+": rest.decode()}
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return self._exact(int(rest)).decode()
        if kind == b"_":
            return None
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        if kind == b"~":
            return {"~": [self.read() for _ in range(int(rest))]}
        if kind == b"%":
            return {"%": [[self.read(), self.read()] for _ in range(int(rest))]}
        raise RuntimeError(f"unexpected reply type {kind!r}")


def main() -> None:
    conn = Resp3(int(sys.argv[1]))
    infos = conn.call("COMMAND", "INFO")
    docs = dict(conn.call("COMMAND", "DOCS")["%"])
    groups: dict[str, dict] = {}
    for info in infos:
        name = info[0]
        doc = docs[name]
        group = dict(doc["%"])["group"]
        groups.setdefault(group, {})[name] = {"info": info, "docs": doc}
    OUT.mkdir(parents=True, exist_ok=True)
    for group, commands in groups.items():
        path = OUT / f"{group}.json"
        path.write_text(json.dumps(dict(sorted(commands.items())), indent=1) + "\n")
        print(path, len(commands))


if __name__ == "__main__":
    main()
