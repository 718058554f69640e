"""The append only file, as Redis 7.0 keeps it: a directory (``appenddirname``) holding a base file
(an RDB, or commands), incremental files of commands, and a manifest naming them:

    file appendonly.aof.1.base.rdb seq 1 type b
    file appendonly.aof.1.incr.aof seq 1 type i

Commands reach the AOF through the propagation stream (vermilion.propagate): each finished unit
is encoded into ``AofState.buffer``; the buffer is written to the current incr file before the
replies of the loop turn are sent (``Server.before_reply_write``), fsynced there under
``appendfsync always``, by a background thread once a second under ``everysec``, never by us under
``no``.

A rewrite (BGREWRITEAOF, auto-aof-rewrite-*, CONFIG SET appendonly yes) opens a new incr file
and, at that same instant, takes the dataset for the new base: H3's incremental background
snapshot (vermilion.persistence.snapshot) when it is available, else written synchronously. When
the base is complete the manifest names it with the new incr file, and the older files become
history and are deleted, as in Redis.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, BinaryIO

from .. import errors, propagate
from ..errors import RedisError
from ..resp.reader import split_args as split_inline_args
from ..sdsrepr import sds_repr_text

if TYPE_CHECKING:
    from ..server import Server

BASE_SUFFIX = ".base"
INCR_SUFFIX = ".incr"
RDB_SUFFIX = ".rdb"
AOF_SUFFIX = ".aof"
MANIFEST_SUFFIX = ".manifest"
TEMP_PREFIX = "temp-"
TYPE_BASE, TYPE_HIST, TYPE_INCR = "b", "h", "i"
# Redis's AOF_REWRITE_ITEMS_PER_CMD: elements per RPUSH/SADD/ZADD/HMSET in a command base.
ITEMS_PER_COMMAND = 64

OFF, ON, WAIT_REWRITE = 0, 1, 2


class ManifestError(Exception):
    """A manifest Redis would refuse (the message is Redis's)."""

    def __init__(self, message: str, line: str | None = None, line_number: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.line_number = line_number


class AofFile:
    __slots__ = ("name", "seq", "kind")

    def __init__(self, name: str, seq: int, kind: str) -> None:
        self.name = name
        self.seq = seq
        self.kind = kind

    def line(self) -> str:
        return f"file {_repr_if_needed(self.name)} seq {self.seq} type {self.kind}\n"


class Manifest:
    """The files of one AOF: base (or None), history files, incr files, and sequence counters."""

    def __init__(self) -> None:
        self.base: AofFile | None = None
        self.history: list[AofFile] = []
        self.incrs: list[AofFile] = []
        self.base_seq = 0
        self.incr_seq = 0

    def render(self) -> str:
        parts = []
        if self.base is not None:
            parts.append(self.base.line())
        parts.extend(f.line() for f in self.history)
        parts.extend(f.line() for f in self.incrs)
        return "".join(parts)

    def copy(self) -> Manifest:
        twin = Manifest()
        twin.base = None if self.base is None else AofFile(self.base.name, self.base.seq, self.base.kind)
        twin.history = [AofFile(f.name, f.seq, f.kind) for f in self.history]
        twin.incrs = [AofFile(f.name, f.seq, f.kind) for f in self.incrs]
        twin.base_seq = self.base_seq
        twin.incr_seq = self.incr_seq
        return twin

    @classmethod
    def parse(cls, text: bytes) -> Manifest:
        """Redis's aofLoadManifestFromFile, with its error messages."""
        manifest = cls()
        max_seq = 0
        lines = text.split(b"\n")
        complete = text.endswith(b"\n")
        if not text:
            raise ManifestError("Found an empty AOF manifest")
        number = 0
        for index, raw in enumerate(lines):
            if index == len(lines) - 1 and raw == b"":
                break
            number += 1
            if raw.startswith(b"#"):
                continue
            if len(raw) > 1023 or (index == len(lines) - 1 and not complete):
                raise ManifestError("The AOF manifest file contains too long line")
            line = raw.strip(b" \t\r\n").decode("utf-8", "surrogateescape")
            if not line:
                raise ManifestError("Invalid AOF manifest file format", line, number)
            args = split_args(line)
            if args is None or len(args) < 6 or len(args) % 2:
                raise ManifestError("Invalid AOF manifest file format", line, number)
            name, seq, kind = None, 0, ""
            for key, value in zip(args[0::2], args[1::2]):
                key = key.lower()
                if key == "file":
                    name = value
                    if "/" in name:
                        raise ManifestError("File can't be a path, just a filename", line, number)
                elif key == "seq":
                    seq = _atoll(value)
                elif key == "type":
                    kind = value[:1]
            if not name or not seq or not kind:
                raise ManifestError("Invalid AOF manifest file format", line, number)
            entry = AofFile(name, seq, kind)
            if kind == TYPE_BASE:
                if manifest.base is not None:
                    raise ManifestError("Found duplicate base file information", line, number)
                manifest.base = entry
                manifest.base_seq = seq
            elif kind == TYPE_HIST:
                manifest.history.append(entry)
            elif kind == TYPE_INCR:
                if seq <= max_seq:
                    raise ManifestError("Found a non-monotonic sequence number", line, number)
                manifest.incrs.append(entry)
                manifest.incr_seq = seq
                max_seq = seq
            else:
                raise ManifestError("Unknown AOF file type", line, number)
        if number == 0:
            raise ManifestError("Found an empty AOF manifest")
        return manifest


def split_args(line: str) -> list[str] | None:
    """Redis's sdssplitargs on a manifest line (the inline-command splitter, on text)."""
    words = split_inline_args(line.encode("utf-8", "surrogateescape"))
    if words is None:
        return None
    return [word.decode("utf-8", "surrogateescape") for word in words]


def _atoll(text: str) -> int:
    digits = ""
    for index, char in enumerate(text.strip()):
        if char.isdigit() or (index == 0 and char in "+-"):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def _repr_if_needed(name: str) -> str:
    """Redis quotes a file name in the manifest only when it needs it (sdsneedsrepr)."""
    if all(33 <= ord(c) < 127 and c not in "\\\"'" for c in name):
        return name
    return sds_repr_text(name.encode("utf-8", "surrogateescape"))


def encode_command(argv: list) -> bytes:
    """A command (bytes or bytearray arguments) as RESP multibulk, the way the AOF stores it."""
    return b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in argv])


def select_command(db_index: int) -> bytes:
    text = b"%d" % db_index
    return b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(text), text)


class FsyncWorker:
    """Redis's bio fsync job: one background thread fsyncing the AOF on request."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.requests: list[int] = []
        self.pending = 0
        self.thread: threading.Thread | None = None
        self.stopped = False

    def submit(self, fd: int) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="vermilion-aof-fsync", daemon=True)
                self.thread.start()
            self.requests.append(fd)
            self.pending += 1
            self.lock.notify()

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.requests and not self.stopped:
                    self.lock.wait()
                if self.stopped and not self.requests:
                    return
                fd = self.requests.pop(0)
            try:
                os.fdatasync(fd)
            except OSError:
                pass
            with self.lock:
                self.pending -= 1
                self.lock.notify_all()

    def drain(self) -> None:
        """Wait until every requested fsync is done (before closing or replacing the fd)."""
        with self.lock:
            while self.pending:
                self.lock.wait(1.0)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self.lock.notify_all()


class AofState:
    """The AOF of one server: files, write buffer, fsync policy, rewrite state and statistics."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.state = OFF
        self.manifest = Manifest()
        self.fd = -1
        self.buffer: list[bytes] = []
        self.buffer_size = 0
        self.selected_db = -1
        self.last_timestamp = 0
        self.fsync = FsyncWorker()
        self.last_fsync = time.monotonic()
        # Bytes written since the last fsync was requested (everysec skips idle seconds).
        self.unsynced = False
        self.current_size = 0
        self.base_size = 0
        self.last_incr_size = 0
        self.rewrite_base_size = 0
        self.rewrites = 0
        self.rewrites_consecutive_failures = 0
        self.rewrite_in_progress = False
        self.rewrite_scheduled = False
        self.rewrite_started = 0.0
        self.last_rewrite_time_sec = -1
        self.last_bgrewrite_ok = True
        self.last_write_ok = True
        self.last_write_error = ""
        self.delayed_fsync = 0
        # The rewrite underway: new incr file info, and H3's snapshot writing its base.
        self._rewrite: dict | None = None
        self._snapshot: Any = None

    # -- paths ----------------------------------------------------------------------------------

    @property
    def config(self) -> Any:
        return self.server.config

    def dirname(self) -> str:
        return self.config.appenddirname

    def path(self, name: str) -> str:
        return os.path.join(self.dirname(), name)

    def manifest_name(self) -> str:
        return self.config.appendfilename + MANIFEST_SUFFIX

    def temp_incr_name(self) -> str:
        return TEMP_PREFIX + self.config.appendfilename + INCR_SUFFIX

    def log(self, level: str, message: str) -> None:
        self.server.log(level, message)

    # -- the manifest on disk -------------------------------------------------------------------

    def write_manifest(self, manifest: Manifest) -> bool:
        """Write the manifest through a temp file and rename, as Redis's persistAofManifest."""
        name = self.manifest_name()
        temp = TEMP_PREFIX + name
        try:
            fd = os.open(self.path(temp), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        except OSError as exc:
            self.log("warning", f"Can't open the AOF manifest file {temp}: {os.strerror(exc.errno or 0)}")
            return False
        try:
            data = manifest.render().encode("utf-8", "surrogateescape")
            while data:
                written = os.write(fd, data)
                data = data[written:]
            os.fsync(fd)
        except OSError as exc:
            self.log("warning", f"Error trying to write the temporary AOF manifest file {temp}: "
                     f"{os.strerror(exc.errno or 0)}")
            os.close(fd)
            return False
        os.close(fd)
        try:
            os.rename(self.path(temp), self.path(name))
        except OSError as exc:
            self.log("warning", f"Error trying to rename the temporary AOF manifest file {temp} "
                     f"into {name}: {os.strerror(exc.errno or 0)}")
            return False
        _fsync_dir(self.dirname())
        return True

    def load_manifest(self) -> Manifest:
        """The manifest on disk (empty when the directory or the file is missing)."""
        dirname = self.dirname()
        if not os.path.isdir(dirname):
            return Manifest()
        path = self.path(self.manifest_name())
        if not os.path.exists(path):
            return Manifest()
        with open(path, "rb") as handle:
            return Manifest.parse(handle.read())

    # -- starting -------------------------------------------------------------------------------

    def start_at_boot(self) -> Generator[float, None, bool]:
        """appendonly yes at startup: load the files (or create them); False: refuse to start.
        A generator: every 1024 replayed commands it yields the seconds to pause (0, or the
        key-load-delay) so that the event loop answers -LOADING meanwhile (Redis's
        processEventsWhileBlocked)."""
        server = self.server
        try:
            self.manifest = self.load_manifest()
        except ManifestError as exc:
            self.log("warning", "\n*** FATAL AOF MANIFEST FILE ERROR ***\n")
            if exc.line is not None:
                self.log("warning", f"Reading the manifest file, at line {exc.line_number}\n")
                self.log("warning", f">>> '{exc.line}'\n")
            self.log("warning", f"{exc}\n")
            return False
        except OSError as exc:
            self.log("warning", "Fatal error: can't open the AOF manifest file "
                     f"{self.path(self.manifest_name())} for reading: {os.strerror(exc.errno or 0)}")
            return False
        self._maybe_upgrade()
        status = yield from load_files(server, self)
        if status == "failed":
            return False
        if not os.path.isdir(self.dirname()):
            try:
                os.mkdir(self.dirname(), 0o755)
            except OSError as exc:
                self.log("warning", f"Can't open or create append-only dir {self.dirname()}: "
                         f"{os.strerror(exc.errno or 0)}")
                return False
        manifest = self.manifest
        if manifest.base is None and not manifest.incrs:
            # No AOF yet: a base of the (empty) dataset, then a first incr file (aofOpenIfNeededOnServerStart).
            name = self._new_base_name(manifest)
            self.log("notice", f"Creating AOF base file {name} on server start")
            if not self._write_base_sync(self.path(name)):
                return False
            self.base_size = _size(self.path(name))
        if manifest.incrs:
            incr = manifest.incrs[-1]
            self.log("notice", f"Opening AOF incr file {incr.name} on server start")
        else:
            incr = self._new_incr(manifest)
            self.log("notice", f"Creating AOF incr file {incr.name} on server start")
        try:
            self.fd = os.open(self.path(incr.name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            self.log("warning", f"Can't open the append-only file {incr.name}: {os.strerror(exc.errno or 0)}")
            return False
        if not self.write_manifest(manifest):
            return False
        self.current_size = self._total_size()
        self.rewrite_base_size = self.base_size
        self.last_incr_size = _size(self.path(incr.name))
        self.state = ON
        self._attach()
        return True

    def _maybe_upgrade(self) -> None:
        """A Redis 6 single appendonly.aof in dir: move it into the directory as the base
        (aofUpgradePrepare)."""
        name = self.config.appendfilename
        manifest = self.manifest
        if not os.path.isfile(name):
            return
        if os.path.isdir(self.dirname()) and (manifest.base is not None or manifest.incrs):
            return
        os.makedirs(self.dirname(), exist_ok=True)
        upgraded = Manifest()
        upgraded.base = AofFile(name, 1, TYPE_BASE)
        upgraded.base_seq = 1
        if not self.write_manifest(upgraded):
            return
        os.rename(name, self.path(name))
        _fsync_dir(self.dirname())
        self.manifest = upgraded
        self.log("notice", f"Successfully migrated an old-style AOF file ({name}) into the AOF "
                 f"directory ({self.dirname()}).")

    def _attach(self) -> None:
        propagate.attach(self.server, self.feed)
        self.server.before_reply_write = self.write_buffer

    def _detach(self) -> None:
        propagate.detach(self.server, self.feed)
        self.server.before_reply_write = None

    def _new_base_name(self, manifest: Manifest) -> str:
        if manifest.base is not None:
            manifest.base.kind = TYPE_HIST
            manifest.history.insert(0, manifest.base)
        suffix = RDB_SUFFIX if self.config.aof_use_rdb_preamble else AOF_SUFFIX
        manifest.base_seq += 1
        name = f"{self.config.appendfilename}.{manifest.base_seq}{BASE_SUFFIX}{suffix}"
        manifest.base = AofFile(name, manifest.base_seq, TYPE_BASE)
        return name

    def _new_incr(self, manifest: Manifest) -> AofFile:
        manifest.incr_seq += 1
        name = f"{self.config.appendfilename}.{manifest.incr_seq}{INCR_SUFFIX}{AOF_SUFFIX}"
        entry = AofFile(name, manifest.incr_seq, TYPE_INCR)
        manifest.incrs.append(entry)
        return entry

    def _total_size(self) -> int:
        manifest = self.manifest
        total = 0
        if manifest.base is not None:
            total += _size(self.path(manifest.base.name))
        for incr in manifest.incrs:
            total += _size(self.path(incr.name))
        return total

    # -- feeding and writing --------------------------------------------------------------------

    def feed(self, ops: list) -> None:
        """A finished propagation unit: encode it into the buffer (feedAppendOnlyFile)."""
        if self.state == WAIT_REWRITE and not self.rewrite_in_progress:
            # Turning on, the rewrite not started yet: its base will hold this change.
            return
        buffer = self.buffer
        size = 0
        if self.server.config.aof_timestamp_enabled:
            now = int(time.time())
            if now > self.last_timestamp:
                stamp = b"#TS:%d\r\n" % now
                buffer.append(stamp)
                size += len(stamp)
                self.last_timestamp = now
        for db_index, argv in ops:
            if db_index != self.selected_db:
                chunk = select_command(db_index)
                buffer.append(chunk)
                size += len(chunk)
                self.selected_db = db_index
            chunk = encode_command(argv)
            buffer.append(chunk)
            size += len(chunk)
        self.buffer_size += size

    def write_buffer(self) -> None:
        """Write what the loop turn propagated (flushAppendOnlyFile); fsync under "always"."""
        if not self.buffer or self.fd < 0:
            return
        data = b"".join(self.buffer)
        written_total = 0
        started = time.perf_counter()
        try:
            while written_total < len(data):
                written_total += os.write(self.fd, data[written_total:])
        except OSError as exc:
            self._write_failed(exc, data, written_total)
            return
        self._latency("aof-write", started)
        self.buffer = []
        self.buffer_size = 0
        self.current_size += len(data)
        if not self.last_write_ok:
            self.log("warning", "AOF write error looks solved, Redis can write again.")
            self.last_write_ok = True
            self.server.persistence.set_aof_write_error(None)
        policy = self.config.appendfsync
        if policy == "always":
            started = time.perf_counter()
            try:
                os.fdatasync(self.fd)
            except OSError as exc:
                self.log("warning", "Can't persist AOF for fsync error when the AOF fsync policy is "
                         f"'always': {os.strerror(exc.errno or 0)}. Exiting...")
                os._exit(1)
            self._latency("aof-fsync-always", started)
            self.last_fsync = time.monotonic()
        elif policy == "everysec":
            self.unsynced = True
            self._maybe_fsync_everysec()

    def _latency(self, event: str, started: float) -> None:
        """A latency-monitor sample (LATENCY LATEST ...) for a write or fsync, as Redis records."""
        observe = getattr(self.server, "observe", None)
        if observe is not None:
            observe.latency_sample(event, int((time.perf_counter() - started) * 1000))

    def _write_failed(self, exc: OSError, data: bytes, written: int) -> None:
        reason = os.strerror(exc.errno or 0)
        if self.config.appendfsync == "always":
            self.log("warning", "Can't recover from AOF write error when the AOF fsync policy is "
                     "'always'. Exiting...")
            os._exit(1)
        if self.last_write_ok:
            self.log("warning", f"Error writing to the AOF file: {reason}")
        self.last_write_ok = False
        self.last_write_error = reason
        self.server.persistence.set_aof_write_error(reason)
        self.current_size += written
        rest = data[written:]
        self.buffer = [rest]
        self.buffer_size = len(rest)

    def _maybe_fsync_everysec(self) -> None:
        now = time.monotonic()
        if self.unsynced and now - self.last_fsync >= 1.0:
            if self.fsync.pending:
                self.delayed_fsync += 1
                return
            self.fsync.submit(self.fd)
            self.last_fsync = now
            self.unsynced = False

    def cron(self) -> None:
        """Once per server cron tick: write what is buffered, the everysec fsync, scheduled and
        automatic rewrites."""
        if self.state != OFF:
            self.write_buffer()
            if self.config.appendfsync == "everysec":
                self._maybe_fsync_everysec()
        if self.rewrite_scheduled and not self.rewrite_in_progress and not _bgsave_running(self.server):
            self.rewrite_scheduled = False
            self.start_rewrite()
        if (self.state == ON and not self.rewrite_in_progress and not self.rewrite_scheduled
                and self.config.auto_aof_rewrite_percentage):
            base = self.rewrite_base_size or 1
            growth = (self.current_size * 100 // base) - 100
            if (self.current_size > self.config.auto_aof_rewrite_min_size
                    and growth >= self.config.auto_aof_rewrite_percentage):
                if _bgsave_running(self.server):
                    self.rewrite_scheduled = True
                else:
                    self.log("notice", f"Starting automatic rewriting of AOF on {growth}% growth")
                    self.start_rewrite()

    def close(self, fsync: bool = True) -> None:
        """Shutdown: write and fsync what is left, as Redis's prepareForShutdown."""
        if self.rewrite_in_progress:
            self.log("warning", "There is a child rewriting the AOF. Killing it!")
            self._abort_rewrite()
        if self.state == OFF:
            return
        self.write_buffer()
        if self.fd >= 0:
            if fsync:
                self.log("notice", "Calling fsync() on the AOF file.")
                self.fsync.drain()
                try:
                    os.fsync(self.fd)
                except OSError:
                    pass
        self.fsync.stop()

    # -- rewriting ------------------------------------------------------------------------------

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF: the status reply text, or RedisError."""
        if self.rewrite_in_progress:
            raise RedisError(errors.AOF_REWRITE_IN_PROGRESS)
        if _bgsave_running(self.server):
            self.rewrite_scheduled = True
            return "Background append only file rewriting scheduled"
        if not self.start_rewrite():
            raise RedisError(errors.AOF_REWRITE_CANT_START)
        return "Background append only file rewriting started"

    def start_rewrite(self) -> bool:
        """rewriteAppendOnlyFileBackground: a new incr file from now on, a new base of the data as
        it is now; both named in the manifest once the base is complete."""
        server = self.server
        if not os.path.isdir(self.dirname()):
            try:
                os.mkdir(self.dirname(), 0o755)
            except OSError as exc:
                self.log("warning", f"Can't open or create append-only dir {self.dirname()}: "
                         f"{os.strerror(exc.errno or 0)}")
                self._rewrite_failed()
                return False
        self.write_buffer()
        if self.state == WAIT_REWRITE:
            incr_name = self.temp_incr_name()
            try:
                fd = os.open(self.path(incr_name), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
            except OSError as exc:
                self.log("warning", f"Can't open the append-only file {incr_name}: {os.strerror(exc.errno or 0)}")
                self._rewrite_failed()
                return False
            new_manifest = self.manifest
            self.log("notice", f"Creating AOF incr file {incr_name} on background rewrite")
        else:
            new_manifest = self.manifest.copy()
            entry = self._new_incr(new_manifest)
            incr_name = entry.name
            try:
                fd = os.open(self.path(incr_name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                self.log("warning", f"Can't open the append-only file {incr_name}: {os.strerror(exc.errno or 0)}")
                self._rewrite_failed()
                return False
            if not self.write_manifest(new_manifest):
                os.close(fd)
                os.unlink(self.path(incr_name))
                self._rewrite_failed()
                return False
            self.manifest = new_manifest
            self.log("notice", f"Creating AOF incr file {incr_name} on background rewrite")
        old_fd = self.fd
        if old_fd >= 0:
            self.fsync.drain()
            os.close(old_fd)
        self.fd = fd
        self.selected_db = -1
        self.last_incr_size = 0
        self.rewrite_in_progress = True
        self.rewrite_started = time.monotonic()
        temp_base = f"temp-rewriteaof-bg-{os.getpid()}.aof"
        self._rewrite = {"temp_base": temp_base, "incr_name": incr_name}
        self.log("notice", f"Background append only file rewriting started by pid {os.getpid()}")
        started = self._start_base_snapshot(self.path(temp_base), self._rewrite_done)
        if not started:
            self.rewrite_in_progress = False
            self._rewrite = None
            self._rewrite_failed()
            return False
        return True

    def _start_base_snapshot(self, path: str, on_done: Callable[[bool], None]) -> bool:
        """Write the new base for the data as it is now. RDB bases use H3's incremental background
        snapshot when it is there; otherwise (and for command bases) the base is written at once
        and completion is reported on the next loop turn."""
        server = self.server
        if self.config.aof_use_rdb_preamble:
            try:
                from .snapshot import start_background_save
            except ImportError:
                start_background_save = None
            if start_background_save is not None and server.loop is not None:
                try:
                    self._snapshot = start_background_save(server, path, extra_aux={b"aof-base": b"1"},
                                                           on_done=on_done, kind="aof")
                    return True
                except RuntimeError:
                    self.log("warning", "Can't start the background snapshot for the AOF base: "
                             "another one is running")
                    return False
        ok = self._write_base_sync(path)
        if server.loop is not None:
            server.loop.call_soon(on_done, ok)
        else:
            on_done(ok)
        return True

    def _write_base_sync(self, path: str) -> bool:
        try:
            with open(path, "wb") as out:
                if self.config.aof_use_rdb_preamble:
                    from .rdb import write_rdb

                    write_rdb(self.server, out, extra_aux={b"aof-base": b"1"})
                else:
                    write_command_base(self.server, out)
                out.flush()
                os.fsync(out.fileno())
        except (OSError, ImportError) as exc:
            self.log("warning", f"Error writing the AOF base file {os.path.basename(path)}: {exc}")
            try:
                os.unlink(path)
            except OSError:
                pass
            return False
        return True

    def _rewrite_done(self, ok: bool) -> None:
        """backgroundRewriteDoneHandler: install the new base, retire older files."""
        rewrite = self._rewrite
        self._rewrite = None
        self._snapshot = None
        if rewrite is None:
            return
        self.rewrite_in_progress = False
        elapsed = time.monotonic() - self.rewrite_started
        self.last_rewrite_time_sec = int(elapsed)
        temp_base = self.path(rewrite["temp_base"])
        if not ok:
            self.log("warning", "Background AOF rewrite terminated with error")
            self._rewrite_failed()
            return
        self.log("notice", "Background AOF rewrite terminated with success")
        manifest = self.manifest.copy()
        base_name = self._new_base_name(manifest)
        if not self._rename_rewritten(temp_base, rewrite["temp_base"], base_name, "file", "base file"):
            return
        if self.state == WAIT_REWRITE:
            entry = self._new_incr(manifest)
            if not self._rename_rewritten(self.path(rewrite["incr_name"]), rewrite["incr_name"],
                                          entry.name, "incr file", "incr file"):
                return
        # Every incr file but the one being written now is covered by the new base.
        retired = manifest.incrs[:-1]
        manifest.incrs = manifest.incrs[-1:]
        for entry in reversed(retired):
            entry.kind = TYPE_HIST
            manifest.history.insert(0, entry)
        if not self.write_manifest(manifest):
            self._rewrite_failed()
            return
        self.manifest = manifest
        self.base_size = _size(self.path(base_name))
        self.rewrite_base_size = self.base_size
        self.current_size = self._total_size()
        self.rewrites += 1
        self.rewrites_consecutive_failures = 0
        self.last_bgrewrite_ok = True
        if self.state == WAIT_REWRITE:
            self.state = ON
        self._delete_history()
        self.log("notice", "Background AOF rewrite finished successfully")

    def _delete_history(self) -> None:
        manifest = self.manifest
        if not manifest.history:
            return
        for entry in manifest.history:
            self.log("notice", f"Removing the history file {entry.name} in the background")
            try:
                os.unlink(self.path(entry.name))
            except OSError:
                pass
        manifest.history = []
        self.write_manifest(manifest)

    def _rename_rewritten(self, source: str, label: str, target: str, failed_what: str,
                          done_what: str) -> bool:
        """Move a file the rewrite produced into its manifest name, with Redis's log lines; on
        failure the rewrite fails (False)."""
        try:
            os.rename(source, self.path(target))
        except OSError as exc:
            self.log("warning", f"Error trying to rename the temporary AOF {failed_what} {label} "
                     f"into {target}: {os.strerror(exc.errno or 0)}")
            self._rewrite_failed()
            return False
        self.log("notice", f"Successfully renamed the temporary AOF {done_what} {label} into {target}")
        return True

    def _rewrite_failed(self) -> None:
        self.last_bgrewrite_ok = False
        self.rewrites_consecutive_failures += 1
        if self.state == WAIT_REWRITE:
            # CONFIG SET appendonly yes could not complete: back to off, as Redis does.
            self._close_fd()
            self.state = OFF
            self._detach()

    def _close_fd(self) -> None:
        if self.fd >= 0:
            self.fsync.drain()
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    # -- turning on and off at run time ---------------------------------------------------------

    def turn_on(self) -> bool:
        """CONFIG SET appendonly yes (startAppendOnly): rewrite first, then append."""
        if self.state != OFF:
            return True
        self.state = WAIT_REWRITE
        self._attach()
        try:
            self.manifest = self.load_manifest()
        except (ManifestError, OSError):
            self.manifest = Manifest()
        if self.rewrite_in_progress or _bgsave_running(self.server):
            self.rewrite_scheduled = True
            self.log("warning", "AOF was enabled but there is already another background operation. "
                     "An AOF background was scheduled to start when possible.")
            return True
        if not self.start_rewrite():
            self.log("warning", "Redis needs to enable the AOF but can't trigger a background AOF "
                     "rewrite operation. Check the above logs for more info about the error.")
            self.state = OFF
            self._detach()
            return False
        return True

    def turn_off(self) -> None:
        """CONFIG SET appendonly no (stopAppendOnly)."""
        if self.state == OFF:
            return
        self.write_buffer()
        if self.fd >= 0:
            try:
                os.fsync(self.fd)
            except OSError:
                pass
        self._close_fd()
        self.state = OFF
        self.rewrite_scheduled = False
        if self.rewrite_in_progress:
            self.log("notice", "Killing running AOF rewrite child")
            self._abort_rewrite()
        self.buffer = []
        self.buffer_size = 0
        self.selected_db = -1
        self._detach()

    def _abort_rewrite(self) -> None:
        """Stop the rewrite underway and remove its temporary base (Redis kills the child)."""
        rewrite, self._rewrite = self._rewrite, None
        self.rewrite_in_progress = False
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            snapshot.abort()
        if rewrite is not None:
            try:
                os.unlink(self.path(rewrite["temp_base"]))
            except OSError:
                pass

    # -- reporting ------------------------------------------------------------------------------

    def info_lines(self) -> list[str]:
        """INFO persistence's aof_* fields after aof_rewrites_consecutive_failures... in Redis 7.0's
        order (the caller places module_fork_* between the two groups)."""
        current = -1
        if self.rewrite_in_progress:
            current = int(time.monotonic() - self.rewrite_started)
        return [
            f"aof_enabled:{1 if self.state != OFF else 0}",
            f"aof_rewrite_in_progress:{1 if self.rewrite_in_progress else 0}",
            f"aof_rewrite_scheduled:{1 if self.rewrite_scheduled else 0}",
            f"aof_last_rewrite_time_sec:{self.last_rewrite_time_sec}",
            f"aof_current_rewrite_time_sec:{current}",
            f"aof_last_bgrewrite_status:{'ok' if self.last_bgrewrite_ok else 'err'}",
            f"aof_rewrites:{self.rewrites}",
            f"aof_rewrites_consecutive_failures:{self.rewrites_consecutive_failures}",
            f"aof_last_write_status:{'ok' if self.last_write_ok else 'err'}",
            "aof_last_cow_size:0",
        ]

    def info_enabled_lines(self) -> list[str]:
        """The fields Redis adds while appendonly is on."""
        if self.state == OFF:
            return []
        return [
            f"aof_current_size:{self.current_size}",
            f"aof_base_size:{self.base_size}",
            f"aof_pending_rewrite:{1 if self.rewrite_scheduled else 0}",
            f"aof_buffer_length:{self.buffer_size}",
            f"aof_pending_bio_fsync:{self.fsync.pending}",
            f"aof_delayed_fsync:{self.delayed_fsync}",
        ]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _fsync_dir(dirname: str) -> None:
    try:
        fd = os.open(dirname or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _bgsave_running(server: Server) -> bool:
    """Whether a BGSAVE snapshot is running (Redis runs one child at a time)."""
    snapshot = getattr(server, "snapshot", None)
    return snapshot is not None and getattr(snapshot, "kind", "rdb") != "aof"


# -- loading ------------------------------------------------------------------------------------


class _Truncated(Exception):
    """Unexpected end of file at a byte offset (valid_up_to)."""


def load_files(server: Server, aof: AofState) -> Generator[float, None, str]:
    """Redis's loadAppendOnlyFiles: "ok", "truncated", "empty", "missing" or "failed" (a
    generator, see AofState.start_at_boot)."""
    manifest = aof.manifest
    if manifest.base is None and not manifest.incrs:
        return "missing"
    files = ([manifest.base] if manifest.base is not None else []) + list(manifest.incrs)
    total = 0
    for entry in files:
        path = aof.path(entry.name)
        if not os.path.exists(path):
            aof.log("warning", f"The append log file {entry.name} doesn't exist: No such file or directory")
            return "failed"
        total += _size(path)
    if total == 0:
        return "empty"
    started_all = time.monotonic()
    result = "ok"
    for position, entry in enumerate(files):
        last = position == len(files) - 1
        started = time.monotonic()
        status = yield from load_single_file(server, aof, entry.name)
        kind = "base" if entry.kind == TYPE_BASE else "incr"
        if status == "ok" or status == "empty" or (status == "truncated" and last):
            if status != "empty" or kind == "incr":
                aof.log("notice", f"DB loaded from {kind} file {entry.name}: "
                        f"{time.monotonic() - started:.3f} seconds")
        if status == "truncated" and not last:
            aof.log("warning", "Fatal error: the truncated file is not the last file")
            return "failed"
        if status == "failed":
            return "failed"
        if status == "truncated":
            result = "truncated"
    aof.log("notice", f"DB loaded from append only file: {time.monotonic() - started_all:.3f} seconds")
    aof.current_size = total
    if manifest.base is not None:
        aof.base_size = _size(aof.path(manifest.base.name))
    return result


def load_single_file(server: Server, aof: AofState, name: str) -> Generator[float, None, str]:
    """loadSingleAppendOnlyFile: "ok", "truncated", "empty" or "failed" (logged as Redis)."""
    path = aof.path(name)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        aof.log("warning", f"Fatal error: can't open the append log file {name} for reading: "
                f"{os.strerror(exc.errno or 0)}")
        return "failed"
    with handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return "empty"
        head = handle.read(5)
        handle.seek(0)
        if head == b"REDIS":
            old_style = name == aof.config.appendfilename
            aof.log("notice", "Reading RDB preamble from AOF file..." if old_style
                    else "Reading RDB base file on AOF loading...")
            from .rdb import RdbError, load_rdb

            try:
                info = load_rdb(server, handle, aof_preamble=True)
            except RdbError as exc:
                aof.log("warning", exc.message)
                if old_style:
                    aof.log("warning", f"Error reading the RDB preamble of the AOF file {name}, AOF loading aborted")
                else:
                    aof.log("warning", f"Error reading the RDB base file {name}, AOF loading aborted")
                return "failed"
            _log_rdb_loaded(aof, info)
            # An old-style file's command tail after the preamble is not read (the RDB reader
            # takes the whole file): files Redis 7 writes never have one.
            return "ok"
        return (yield from _replay(server, aof, name, path, handle))


def _log_rdb_loaded(aof: AofState, info: Any) -> None:
    """The lines Redis logs while loading an RDB (rdbLoadRio's AUX handling and the summary)."""
    aux = info.aux
    version = aux.get(b"redis-ver")
    if version is not None:
        aof.log("notice", f"Loading RDB produced by version {version.decode('latin-1')}")
    ctime = aux.get(b"ctime")
    if ctime is not None and ctime.lstrip(b"-").isdigit():
        age = max(0, int(time.time()) - int(ctime))
        aof.log("notice", f"RDB age {age} seconds")
    used = aux.get(b"used-mem")
    if used is not None and used.isdigit():
        aof.log("notice", f"RDB memory usage when created {int(used) / 1024 / 1024:.2f} Mb")
    if aux.get(b"aof-base") == b"1":
        aof.log("notice", "RDB is base AOF")
    aof.log("notice", f"Done loading RDB, keys loaded: {info.keys}, keys expired: {info.expired_skipped}.")


# Commands replayed between two turns of the event loop while loading.
_REPLAY_BATCH = 1024


def _replay(server: Server, aof: AofState, name: str, path: str,
            handle: BinaryIO) -> Generator[float, None, str]:
    from ..connection import Client
    from ..dispatch import resolve

    client = Client(server)
    client.auth_required = False
    # Replay runs with every permission, whatever the default user may do (Redis's AOF client).
    client.acl_user = None
    client.gated = False
    client.id = propagate.AOF_CLIENT_ID
    client.flags = ""
    valid_up_to = handle.tell()
    valid_before_multi = valid_up_to
    readline = handle.readline
    read = handle.read
    replayed = 0
    # key-load-delay (microseconds per command, a testing aid in Redis): spent awaiting, so that
    # clients are answered -LOADING meanwhile.
    delay = server.config.key_load_delay / 1_000_000
    try:
        while True:
            replayed += 1
            if delay > 0:
                yield delay
            elif replayed % _REPLAY_BATCH == 0:
                yield 0.0
            line = readline(1024)
            if not line:
                break
            if line[:1] == b"#":
                continue
            if line[:1] != b"*":
                return _format_error(aof, name)
            if len(line) < 2 or not line.endswith(b"\n") and len(line) < 1024:
                raise _Truncated
            argc = _atoi(line[1:])
            if argc < 1:
                return _format_error(aof, name)
            argv = []
            for _ in range(argc):
                header = readline(1024)
                if not header:
                    raise _Truncated
                if header[:1] != b"$":
                    return _format_error(aof, name)
                length = _atoi(header[1:])
                if not header.endswith(b"\n"):
                    raise _Truncated
                data = read(length) if length > 0 else b""
                if len(data) < max(length, 0):
                    raise _Truncated
                if len(read(2)) < 2:
                    raise _Truncated
                argv.append(data)
            cmd = resolve(client, argv)
            if cmd.__class__ is bytes:
                from ..registry import lookup

                if lookup(argv[0]) is None:
                    aof.log("warning", f"Unknown command '{argv[0].decode('utf-8', 'replace')}' "
                            f"reading the append only file {name}")
                    return "failed"
                valid_up_to = handle.tell()
                continue
            if cmd.full_name == "multi":
                valid_before_multi = valid_up_to
            if client.multi is not None and cmd.full_name != "exec":
                client.multi.append((cmd, argv))
            else:
                try:
                    cmd.handler(client, argv)
                except RedisError:
                    pass
            client.out.clear()
            valid_up_to = handle.tell()
        if client.multi is not None:
            aof.log("warning", f"Revert incomplete MULTI/EXEC transaction in AOF file {name}")
            valid_up_to = valid_before_multi
            raise _Truncated
    except _Truncated:
        client.multi = None
        return _truncated(aof, name, path, valid_up_to)
    return "ok"


def _atoi(text: bytes) -> int:
    digits = bytearray()
    for index, char in enumerate(text.strip(b" \t")):
        if 48 <= char <= 57 or (index == 0 and char in b"+-"):
            digits.append(char)
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def _format_error(aof: AofState, name: str) -> str:
    aof.log("warning", f"Bad file format reading the append only file {name}: make a backup of your "
            "AOF file, then use ./redis-check-aof --fix <filename.manifest>")
    return "failed"


def _truncated(aof: AofState, name: str, path: str, valid_up_to: int) -> str:
    if aof.config.aof_load_truncated:
        aof.log("warning", f"!!! Warning: short read while loading the AOF file {name}!!!")
        aof.log("warning", f"!!! Truncating the AOF {name} at offset {valid_up_to} !!!")
        try:
            os.truncate(path, valid_up_to)
        except OSError as exc:
            aof.log("warning", f"Error truncating the AOF file {name}: {os.strerror(exc.errno or 0)}")
        else:
            aof.log("warning", f"AOF {name} loaded anyway because aof-load-truncated is enabled")
            return "truncated"
    aof.log("warning", f"Unexpected end of file reading the append only file {name}. You can: "
            "1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "
            "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and "
            "restart the server.")
    return "failed"


# -- a base made of commands (aof-use-rdb-preamble no) -------------------------------------------


def write_command_base(server: Server, out: BinaryIO) -> None:
    """The dataset as commands (rewriteAppendOnlyFileRio): per db SELECT, then per key the
    commands that rebuild it and its PEXPIREAT."""
    write = out.write
    if server.config.aof_timestamp_enabled:
        write(b"#TS:%d\r\n" % int(time.time()))
    functions = _function_libraries(server)
    for code in functions:
        write(encode_command([b"FUNCTION", b"LOAD", code]))
    for db in server.dbs:
        if not db.data:
            continue
        write(select_command(db.index))
        expires = db.expires
        for key, value in list(db.data.items()):
            for argv in value_commands(key, value):
                write(encode_command(argv))
            when = expires.get(key)
            if when is not None:
                write(encode_command([b"PEXPIREAT", key, b"%d" % when]))


def _function_libraries(server: Server) -> list[bytes]:
    state = getattr(server, "functions", None) or getattr(server, "scripting", None)
    libraries = getattr(state, "libraries", None)
    if not libraries:
        return []
    codes = []
    for library in libraries.values():
        code = getattr(library, "code", None)
        if code:
            codes.append(code)
    return codes


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def value_commands(key: bytes, value: Any) -> list[list[bytes]]:
    """The commands that rebuild ``key`` holding ``value``."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return [[b"SET", key, bytes(value)]]
    type_name = getattr(value, "TYPE_NAME", None)
    if type_name == b"list":
        return [[b"RPUSH", key, *chunk] for chunk in _chunks(list(value.values()), ITEMS_PER_COMMAND)]
    if type_name == b"set":
        return [[b"SADD", key, *chunk] for chunk in _chunks(list(value.members), ITEMS_PER_COMMAND)]
    if type_name == b"zset":
        commands = []
        for chunk in _chunks(list(value.scores.items()), ITEMS_PER_COMMAND):
            argv = [b"ZADD", key]
            for member, score in chunk:
                argv.append(_format_double(score))
                argv.append(member)
            commands.append(argv)
        return commands
    if type_name == b"hash":
        commands = []
        for chunk in _chunks(list(value.fields.items()), ITEMS_PER_COMMAND):
            argv = [b"HMSET", key]
            for field, field_value in chunk:
                argv.append(field)
                argv.append(field_value)
            commands.append(argv)
        return commands
    if type_name == b"stream":
        return _stream_commands(key, value)
    raise ValueError(f"can't rewrite a value of type {cls.__name__}")


def _format_double(score: float) -> bytes:
    if score != score:
        return b"nan"
    if score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    return (b"%.17g" % score)


def _stream_commands(key: bytes, stream: Any) -> list[list[bytes]]:
    from ..types.stream import format_id

    commands: list[list[bytes]] = []
    if stream.length:
        for sid, items in stream.iter_all():
            argv = [b"XADD", key, format_id(sid)]
            argv.extend(items)
            commands.append(argv)
    else:
        commands.append([b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])
    commands.append([b"XSETID", key, format_id(stream.last_id), b"ENTRIESADDED",
                     b"%d" % stream.entries_added, b"MAXDELETEDID", format_id(stream.max_deleted_id)])
    for name in stream.group_names() if stream.groups else []:
        group = stream.groups[name]
        commands.append([b"XGROUP", b"CREATE", key, name, format_id(group.last_id),
                         b"ENTRIESREAD", b"%d" % group.entries_read])
        for consumer_name in group.consumer_names():
            consumer = group.consumers[consumer_name]
            if not consumer.pel:
                commands.append([b"XGROUP", b"CREATECONSUMER", key, name, consumer_name])
                continue
            for sid, nack in consumer.pel.items():
                commands.append([b"XCLAIM", key, name, consumer_name, b"0", format_id(sid),
                                 b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT",
                                 b"%d" % nack.delivery_count, b"JUSTID", b"FORCE"])
    return commands


# -- server integration ---------------------------------------------------------------------------


def aof_of(server: Server) -> AofState:
    aof = getattr(server, "aof", None)
    if aof is None:
        aof = server.aof = AofState(server)
    return aof


def install(server: Server) -> None:
    """Hook the AOF into a server: startup loading, the cron, shutdown, CONFIG SET appendonly."""
    aof = aof_of(server)
    server.startup_hooks.append(lambda: _startup(server))
    server.cron_hooks.append(aof.cron)
    server.before_exit_hooks.insert(0, aof.close)


def _startup(server: Server) -> Awaitable[None] | None:
    if not server.config.appendonly:
        return None
    return _load_at_startup(server)


async def _load_at_startup(server: Server) -> None:
    """Load (or create) the AOF before "Ready to accept connections", answering -LOADING to
    commands that need the data meanwhile (the loading state of vermilion.persistence.saving)."""
    import asyncio

    persistence = getattr(server, "persistence", None)
    begin = getattr(persistence, "_begin_loading", None)
    end = getattr(persistence, "_end_loading", None)
    if begin is not None:
        begin()
    try:
        steps = aof_of(server).start_at_boot()
        while True:
            try:
                pause = next(steps)
            except StopIteration as done:
                loaded = done.value
                break
            await asyncio.sleep(pause)
    finally:
        if end is not None:
            end()
    if not loaded:
        # Redis exits with status 1 when the AOF cannot be loaded; its log says why.
        os._exit(1)


def apply_appendonly(server: Server, old: Any, new: Any) -> None:
    """CONFIG SET appendonly: start (rewrite first) or stop appending."""
    from ..config import ConfigError

    aof = aof_of(server)
    if new and aof.state == OFF:
        if not aof.turn_on():
            raise ConfigError("Unable to turn on AOF. Check server logs.")
    elif not new and aof.state != OFF:
        aof.turn_off()
