"""Capture command metadata facts from a running Redis 7.0 into vermilion/commands/meta/*.json.

Arity, flags, key specs, ACL categories, argument grammar and since-versions are facts about the
Redis interface that clients depend on, so they are read from the real server rather than typed by
hand. Each reply is stored as a typed tree so that COMMAND can re-encode it for RESP2 or RESP3:
a JSON string is a bulk string, {"+": s} a status, {"%": [[k, v], ...]} a map, {"~": [...]} a set,
a list an array, a number an integer, null a null.

The prose is ours, not Redis's: tools/meta_prose.json holds, per command or subcommand full name,

    {"summary": "...",
     "complexity": "...",                      # may be left out when Redis's is a bare O(...)
     "history": [["6.2.0", "..."], ...],       # one entry per history entry, same versions
     "key_spec_notes": {"0": "...", ...}}      # by key-spec index, for each spec with notes

and every capture merges it in, so regenerating never brings Redis's wording back. The files
listed in HAND_WRITTEN (meta/extensions.json: subcommands newer than 7.0) are left alone. Generation
refuses to write anything while a text is missing or no longer lines up with the facts (a new
command, a changed history, a new key-spec note): it lists what to add to meta_prose.json.

usage:
    python tools/gen_command_meta.py PORT        capture from the Redis on PORT, merge the prose
    python tools/gen_command_meta.py --prose     re-apply meta_prose.json to the existing files
"""

from __future__ import annotations

import json
import pathlib
import re
import socket
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "vermilion" / "commands" / "meta"
PROSE = pathlib.Path(__file__).resolve().parent / "meta_prose.json"
# Written by hand (subcommands newer than Redis 7.0, with their own prose): never regenerated.
HAND_WRITTEN = {"extensions.json"}

# A complexity with no words in it (O(1), O(log(N)), O(N*M)) is a fact, kept as captured.
_BARE_BIG_O = re.compile(r"^[O(){}\[\]NMKLS0-9 +*/.,^log-]*$")


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


# -- merging our prose -----------------------------------------------------------------------


def _apply_docs(name: str, docs: dict, prose: dict, problems: list[str]) -> None:
    ours = prose.get(name)
    if ours is None:
        problems.append(f"{name}: no entry")
        return
    for pair in docs["%"]:
        key, value = pair
        if key == "summary":
            if "summary" not in ours:
                problems.append(f"{name}: no summary")
            pair[1] = ours.get("summary", value)
        elif key == "complexity":
            if "complexity" in ours:
                pair[1] = ours["complexity"]
            elif not _BARE_BIG_O.match(value):
                problems.append(f"{name}: the complexity has words, it needs our own")
        elif key == "history":
            entries = value["~"]
            texts = ours.get("history", [])
            versions = [entry[0] for entry in entries]
            if [version for version, _ in texts] != versions:
                problems.append(f"{name}: history must have one text per version {versions}")
                continue
            for entry, (_, text) in zip(entries, texts):
                entry[1] = text
        elif key == "subcommands":
            for sub_name, sub_docs in value["%"]:
                _apply_docs(sub_name, sub_docs, prose, problems)
    if "history" in ours and not any(key == "history" for key, _ in docs["%"]):
        problems.append(f"{name}: prose has a history but the command has none")


def _apply_info(info: list, prose: dict, problems: list[str]) -> None:
    name = info[0]
    notes = dict(prose.get(name, {}).get("key_spec_notes", {}))
    for index, spec in enumerate(info[8]["~"]):
        for pair in spec["%"]:
            if pair[0] == "notes":
                text = notes.pop(str(index), None)
                if text is None:
                    problems.append(f"{name}: key spec {index} has notes, give ours")
                else:
                    pair[1] = text
    if notes:
        problems.append(f"{name}: notes for key specs without notes: {sorted(notes)}")
    if isinstance(info[9], list):
        for sub in info[9]:
            _apply_info(sub, prose, problems)


def apply_prose(commands: dict[str, dict], prose: dict) -> list[str]:
    """Put our texts into the captured trees (in place); returns what is missing or stale."""
    problems: list[str] = []
    for name, entry in commands.items():
        _apply_docs(name, entry["docs"], prose, problems)
        _apply_info(entry["info"], prose, problems)
    return problems


# -- files -----------------------------------------------------------------------------------


def capture(port: int) -> dict[str, dict]:
    conn = Resp3(port)
    infos = conn.call("COMMAND", "INFO")
    docs = dict(conn.call("COMMAND", "DOCS")["%"])
    return {info[0]: {"info": info, "docs": docs[info[0]]} for info in infos}


def load_existing() -> dict[str, dict]:
    commands: dict[str, dict] = {}
    for path in sorted(OUT.glob("*.json")):
        if path.name not in HAND_WRITTEN:
            commands.update(json.loads(path.read_text()))
    return commands


def sort_subcommands(commands: dict[str, dict]) -> None:
    """Subcommands by name: Redis lists them in hash-table order, which changes every run."""
    for entry in commands.values():
        if isinstance(entry["info"][9], list):
            entry["info"][9].sort(key=lambda sub: sub[0])
        for key, value in entry["docs"]["%"]:
            if key == "subcommands":
                value["%"].sort(key=lambda pair: pair[0])


def write(commands: dict[str, dict]) -> None:
    groups: dict[str, dict] = {}
    for name, entry in commands.items():
        group = dict(entry["docs"]["%"])["group"]
        groups.setdefault(group, {})[name] = entry
    OUT.mkdir(parents=True, exist_ok=True)
    for group, members in groups.items():
        path = OUT / f"{group}.json"
        path.write_text(json.dumps(dict(sorted(members.items())), indent=1) + "\n")
        print(path, len(members))


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    commands = load_existing() if sys.argv[1] == "--prose" else capture(int(sys.argv[1]))
    prose = json.loads(PROSE.read_text())
    problems = apply_prose(commands, prose)
    if problems:
        print("tools/meta_prose.json needs attention; nothing was written:", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        sys.exit(1)
    sort_subcommands(commands)
    write(commands)


if __name__ == "__main__":
    main()
