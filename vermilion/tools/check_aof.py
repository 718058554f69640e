"""vermilion-check-aof: check (and with --fix truncate) an append only file, reporting as
redis-check-aof 7.0 does: a manifest (multi-part AOF), an RDB-preamble file, or a plain file of
commands. Exit code 0 when valid (or fixed), 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import time
from typing import BinaryIO, TextIO

from ..persistence.aof import Manifest, ManifestError

CHECK_OK, CHECK_EMPTY, CHECK_TRUNCATED, CHECK_TIMESTAMP_TRUNCATED = 0, 1, 2, 3
USAGE = "Usage: {} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n"


class Abort(Exception):
    """redis-check-aof's exit(1) after a message."""


class _Checker:
    """The state redis-check-aof keeps while reading one file: line count, error text."""

    def __init__(self, out: TextIO, to_timestamp: int) -> None:
        self.out = out
        self.line = 1
        self.error = ""
        self.error_pos = 0
        self.to_timestamp = to_timestamp

    def fail(self, position: int, message: str) -> bool:
        self.error = "0x%16x: %s" % (position, message)
        return False

    # -- RESP records -----------------------------------------------------------------------

    def _read_long(self, handle: BinaryIO, prefix: bytes) -> int | None:
        position = handle.tell()
        self.error_pos = position
        raw = handle.readline(127)
        if not raw:
            return None
        if raw[:1] != prefix:
            self.fail(position, "Expected prefix '%s', got: '%s'" % (prefix.decode(), raw[:1].decode("latin-1")))
            return None
        digits = bytearray()
        rest = raw[1:]
        index = 0
        if rest[:1] in (b"-", b"+"):
            digits += rest[:1]
            index = 1
        while index < len(rest) and 48 <= rest[index] <= 57:
            digits.append(rest[index])
            index += 1
        value = int(digits) if digits.strip(b"+-") else 0
        tail = rest[index:index + 2]
        if not self._newline(position, tail):
            return None
        return value

    def _newline(self, position: int, two: bytes) -> bool:
        if two != b"\r\n":
            padded = (two + b"\0\0")[:2]
            return self.fail(position, "Expected \\r\\n, got: %02x%02x" % (padded[0], padded[1]))
        self.line += 1
        return True

    def _read_string(self, handle: BinaryIO) -> bytes | None:
        length = self._read_long(handle, b"$")
        if length is None:
            return None
        position = handle.tell()
        self.error_pos = position
        if length < 0 or length > (1 << 63) - 3:
            self.fail(position, "Expected to read string of %d bytes, which is not in the suitable range" % length)
            return None
        data = handle.read(length + 2)
        if len(data) != length + 2:
            self.fail(position, "Expected to read %d bytes, got %d bytes" % (length + 2, len(data)))
            return None
        if not self._newline(position, data[-2:]):
            return None
        return data[:-2]

    def _process_resp(self, handle: BinaryIO, name: str, multi: list[int]) -> bool:
        argc = self._read_long(handle, b"*")
        if argc is None:
            return False
        for index in range(argc):
            arg = self._read_string(handle)
            if arg is None:
                return False
            if index == 0:
                word = arg.lower()
                if word == b"multi":
                    multi[0] += 1
                    if multi[0] > 1:
                        return self.fail(self.error_pos, f"Unexpected MULTI in AOF {name}")
                elif word == b"exec":
                    multi[0] -= 1
                    if multi[0]:
                        return self.fail(self.error_pos, f"Unexpected EXEC in AOF {name}")
        return True

    def _annotation(self, handle: BinaryIO, path: str, last_file: bool) -> bool:
        position = handle.tell()
        raw = handle.readline(1023)
        if not raw:
            self.out.write(f"Failed to read annotations from AOF {path}, aborting...\n")
            raise Abort
        if self.to_timestamp and raw.startswith(b"#TS:"):
            digits = raw[4:].split(b"\r", 1)
            if len(digits) != 2 or not digits[0].strip().lstrip(b"-").isdigit():
                self.out.write("Invalid timestamp annotation\n")
                raise Abort
            stamp = int(digits[0])
            if stamp <= self.to_timestamp:
                return True
            if position == 0:
                self.out.write(f"AOF {path} has nothing before timestamp {self.to_timestamp}, aborting...\n")
                raise Abort
            if not last_file:
                self.out.write(f"Failed to truncate AOF {path} to timestamp {self.to_timestamp} to offset "
                               f"{position} because it is not the last file.\n")
                self.out.write("If you insist, please delete all files after this file according to the "
                               "manifest file and delete the corresponding records in manifest file "
                               "manually. Then re-run redis-check-aof.\n")
                raise Abort
            handle.truncate(position)
            return False
        return True

    # -- one file ---------------------------------------------------------------------------

    def check_single(self, name: str, path: str, last_file: bool, fix: bool, preamble: bool,
                     answer: TextIO) -> int:
        """checkSingleAof: CHECK_* or Abort."""
        self.line = 1
        self.error = ""
        try:
            handle = open(path, "r+b")
        except OSError as exc:
            self.out.write(f"Cannot open file {path}: {os.strerror(exc.errno or 0)}, aborting...\n")
            raise Abort from None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return CHECK_EMPTY
            if preamble:
                if not self._check_rdb(path, name):
                    self.out.write("RDB preamble of AOF file is not sane, aborting.\n")
                    raise Abort
                self.out.write("RDB preamble is OK, proceeding with AOF tail...\n")
                # The RDB covers the whole of a file Redis 7 writes as a base.
                handle.seek(size)
            multi = [0]
            position = handle.tell()
            at_eof = False
            while True:
                if not multi[0]:
                    position = handle.tell()
                first = handle.read(1)
                if not first:
                    at_eof = True
                    break
                handle.seek(-1, os.SEEK_CUR)
                if first == b"#":
                    if not self._annotation(handle, path, last_file):
                        return CHECK_TIMESTAMP_TRUNCATED
                elif first == b"*":
                    if not self._process_resp(handle, path, multi):
                        at_eof = handle.tell() >= size
                        break
                else:
                    self.out.write(f"AOF {name} format error\n")
                    break
            if at_eof and multi[0] and not self.error:
                self.fail(self.error_pos, "Reached EOF before reading EXEC for MULTI")
            if self.error:
                self.out.write(self.error + "\n")
            diff = size - position
            if diff == 0 and self.to_timestamp:
                self.out.write(f"Truncate nothing in AOF {name} to timestamp {self.to_timestamp}\n")
                return CHECK_OK
            self.out.write(f"AOF analyzed: filename={name}, size={size}, ok_up_to={position}, "
                           f"ok_up_to_line={self.line}, diff={diff}\n")
            if diff > 0:
                if not fix:
                    self.out.write(f"AOF {name} is not valid. Use the --fix option to try fixing it.\n")
                    raise Abort
                if not last_file:
                    self.out.write(f"Failed to truncate AOF {name} because it is not the last file\n")
                    raise Abort
                self.out.write(f"This will shrink the AOF {name} from {size} bytes, with {diff} bytes, "
                               f"to {position} bytes\n")
                self.out.write("Continue? [y/N]: ")
                self.out.flush()
                reply = answer.readline()
                if not reply or reply[:1].lower() != "y":
                    self.out.write("Aborting...\n")
                    raise Abort
                try:
                    handle.truncate(position)
                except OSError:
                    self.out.write(f"Failed to truncate AOF {name}\n")
                    raise Abort from None
                return CHECK_TRUNCATED
        return CHECK_OK

    def _check_rdb(self, path: str, name: str) -> bool:
        from .check_rdb import check_file

        self.out.flush()
        directory = os.path.dirname(path)
        previous = os.getcwd()
        try:
            # redis-check-aof names the base file as the manifest does (no directory).
            if directory:
                os.chdir(directory)
            binary = getattr(self.out, "buffer", None)
            if binary is not None:
                code = check_file(os.path.basename(path) if directory else path, binary)
                binary.flush()
            else:
                import io

                sink = io.BytesIO()
                code = check_file(os.path.basename(path) if directory else path, sink)
                self.out.write(sink.getvalue().decode("utf-8", "replace"))
        finally:
            os.chdir(previous)
        return code == 0


def _style(out: TextIO, result: int, name: str, kind: str, to_timestamp: int) -> None:
    if result == CHECK_OK:
        out.write(f"{kind} {name} is valid\n")
    elif result == CHECK_EMPTY:
        out.write(f"{kind} {name} is empty\n")
    elif result == CHECK_TIMESTAMP_TRUNCATED:
        out.write(f"Successfully truncated AOF {name} to timestamp {to_timestamp}\n")
    elif result == CHECK_TRUNCATED:
        out.write(f"Successfully truncated AOF {name}\n")


def _is_rdb(path: str, out: TextIO) -> bool:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return size >= 8 and handle.read(5) == b"REDIS"
    except OSError as exc:
        out.write(f"Cannot open file {path}: {os.strerror(exc.errno or 0)}\n")
        raise Abort from None


def _is_manifest(path: str, out: TextIO) -> bool:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        out.write(f"Cannot open file {path}: {os.strerror(exc.errno or 0)}\n")
        raise Abort from None
    found = False
    for raw in data.split(b"\n"):
        if raw.startswith(b"#"):
            continue
        if raw.startswith(b"file"):
            found = True
    return found


def check(path: str, fix: bool, to_timestamp: int, out: TextIO, answer: TextIO) -> int:
    """The whole run; the exit code."""
    checker = _Checker(out, to_timestamp)
    try:
        if _is_manifest(path, out):
            _check_multi_part(checker, path, fix, out, answer)
        else:
            preamble = _is_rdb(path, out)
            out.write("Start checking Old-Style AOF\n")
            result = checker.check_single(path, path, True, fix, preamble, answer)
            _style(out, result, path, "AOF", to_timestamp)
    except Abort:
        return 1
    return 0


def _check_multi_part(checker: _Checker, manifest_path: str, fix: bool, out: TextIO,
                      answer: TextIO) -> None:
    out.write("Start checking Multi Part AOF\n")
    try:
        with open(manifest_path, "rb") as handle:
            manifest = Manifest.parse(handle.read())
    except ManifestError as exc:
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime())
        prefix = f"{os.getpid()}:C {stamp}.{int(time.time() * 1000) % 1000:03d} # "
        out.write(prefix + "\n*** FATAL AOF MANIFEST FILE ERROR ***\n\n")
        if exc.line is not None:
            out.write(prefix + f"Reading the manifest file, at line {exc.line_number}\n\n")
            out.write(prefix + f">>> '{exc.line}'\n\n")
        out.write(prefix + f"{exc}\n\n")
        raise Abort from None
    directory = os.path.dirname(manifest_path) or "."
    total = (1 if manifest.base is not None else 0) + len(manifest.incrs)
    number = 0
    to_timestamp = checker.to_timestamp
    if manifest.base is not None:
        name = manifest.base.name
        path = os.path.join(directory, name)
        number += 1
        preamble = _is_rdb(path, out)
        out.write(f"Start to check BASE AOF ({'RDB' if preamble else 'RESP'} format).\n")
        result = checker.check_single(name, path, number == total, fix, preamble, answer)
        _style(out, result, name, "BASE AOF", to_timestamp)
    if manifest.incrs:
        out.write("Start to check INCR files.\n")
        for entry in manifest.incrs:
            number += 1
            path = os.path.join(directory, entry.name)
            result = checker.check_single(entry.name, path, number == total, fix, False, answer)
            _style(out, result, entry.name, "INCR AOF", to_timestamp)
    out.write("All AOF files and manifest are valid\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv if argv is None else argv
    out = sys.stdout
    fix = False
    to_timestamp = 0
    if len(args) == 2:
        path = args[1]
    elif len(args) == 3 and args[1] == "--fix":
        fix = True
        path = args[2]
    elif len(args) == 4 and args[1] == "--truncate-to-timestamp":
        try:
            to_timestamp = int(args[2], 10)
        except ValueError:
            out.write("Invalid timestamp, aborting...\n")
            return 1
        path = args[3]
    else:
        out.write(USAGE.format(args[0] if args else "vermilion-check-aof"))
        return 1
    code = check(path, fix, to_timestamp, out, sys.stdin)
    out.flush()
    return code


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()

__all__ = ["check", "main", "entry_point"]
