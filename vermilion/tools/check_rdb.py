"""vermilion-check-rdb: checks an RDB file and reports as redis-check-rdb does.

Each line mirrors redis-check-rdb 7.0: ``[offset N]`` is how far the file had been read, AUX
fields and database switches are listed, and a problem ends the walk with the
``--- RDB ERROR DETECTED ---`` block (what was being read, the key and its type) and exit code 1.
Values are fully decoded and validated, as Redis's loader does in check mode.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, BinaryIO

from .. import REDIS_VERSION
from ..persistence.rdb import RdbError, RdbVisitor, walk_rdb

# Redis's names for the value types, by type byte (redis-check-rdb's rdb_type_string).
TYPE_NAMES = (
    "string", "list-linked", "set-hashtable", "zset-v1", "hash-hashtable", "zset-v2",
    "module-pre-release", "module-value", "", "hash-zipmap", "list-ziplist", "set-intset",
    "zset-ziplist", "hash-ziplist", "quicklist", "stream", "hash-listpack", "zset-listpack",
    "quicklist-v2", "stream-v2", "set-listpack", "stream-v3",
)


def _c_text(data: bytes) -> bytes:
    """What C's %s prints of an sds: up to the first NUL."""
    return data.split(b"\0", 1)[0]


class _Report(RdbVisitor):
    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self.out = out
        self.keys = 0
        self.expires = 0
        self.already_expired = 0
        self.offset = 0

    def line(self, offset: int, text: bytes) -> None:
        self.offset = offset
        self.out.write(b"[offset %d] %s\n" % (offset, text))

    def aux(self, offset: int, name: bytes, value: bytes) -> None:
        self.line(offset, b"AUX FIELD %s = '%s'" % (_c_text(name), _c_text(value)))

    def select_db(self, offset: int, index: int) -> None:
        self.line(offset, b"Selecting DB ID %d" % index)

    def key_read(self, offset: int, key: bytes) -> None:
        self.keys += 1

    def checksum(self, offset: int, status: str) -> None:
        if status == "disabled":
            self.line(offset, b"RDB file was saved with checksum disabled: no check performed.")
        elif status == "ok":
            self.line(offset, b"Checksum OK")
        self.offset = offset

    def info(self) -> None:
        self.out.write(b"[info] %d keys read\n" % self.keys)
        self.out.write(b"[info] %d expires\n" % self.expires)
        self.out.write(b"[info] %d already expired\n" % self.already_expired)

    def error(self, offset: int, message: str) -> None:
        out = self.out
        out.write(b"--- RDB ERROR DETECTED ---\n")
        out.write(b"[offset %d] %s\n" % (offset, message.encode("latin-1", "replace")))
        out.write(b"[additional info] While doing: %s\n" % self.doing.encode())
        if self.key is not None:
            out.write(b"[additional info] Reading key '%s'\n" % _c_text(self.key))
        if self.key_type != -1:
            name = TYPE_NAMES[self.key_type] if 0 <= self.key_type < len(TYPE_NAMES) else "unknown"
            out.write(b"[additional info] Reading type %d (%s)\n" % (self.key_type, name.encode()))
        self.info()


def _error_text(error: RdbError) -> str:
    if error.kind == "read":
        return "Unexpected EOF reading RDB file"
    if error.kind == "checksum":
        return "RDB CRC error"
    if error.kind in ("signature", "version") or error.message.startswith(
        ("Invalid object type", "Pre-release function")
    ):
        return error.message
    # Problems found inside a value are reported by Redis's loader with its own prefix.
    return f"Internal error in RDB reading offset 0, function at rdbLoadObject -> {error.message}"


def check_file(path: str, out: BinaryIO) -> int:
    """Check ``path``, writing the report to ``out``; the exit code (0 sane, 1 not)."""
    report = _Report(out)
    report.line(0, b"Checking RDB file %s" % path.encode())
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return 1
    now = int(time.time() * 1000)

    def on_entry(db_index: int, key: bytes, value: Any, expire_ms: int | None,
                 idle: int | None, freq: int | None) -> None:
        if value is None:
            raise RdbError("Unexpected EOF reading RDB file", "read", report.offset)
        if expire_ms is not None:
            report.expires += 1
            if expire_ms < now:
                report.already_expired += 1

    try:
        info = walk_rdb(data, on_entry, visitor=report)
    except RdbError as error:
        text = _error_text(error)
        report.error(error.offset, text)
        if text.startswith("Internal error"):
            # Redis's loader logs this line (in its log format) before giving up.
            stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime())
            millis = int(time.time() * 1000) % 1000
            out.write(b"%d:C %s.%03d # Terminating server after rdb file reading failure.\n"
                      % (os.getpid(), stamp.encode(), millis))
        return 1
    report.line(info.size, rb"\o/ RDB looks OK! \o/")
    report.info()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv if argv is None else argv
    if len(args) == 2 and args[1] in ("-v", "--version"):
        sys.stdout.write(f"vermilion-check-rdb {REDIS_VERSION}\n")
        return 0
    if len(args) != 2:
        sys.stderr.write(f"Usage: {args[0]} <rdb-file-name>\n")
        return 1
    out = sys.stdout.buffer
    code = check_file(args[1], out)
    out.flush()
    return code


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
