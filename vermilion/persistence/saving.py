"""RDB persistence of a server: SAVE, BGSAVE, save points, loading at startup, the shutdown save,
FLUSHALL's save, DEBUG RELOAD, the MISCONF state and INFO persistence's rdb_* fields.

Each Server has one ``Persistence`` (``server.persistence``) holding Redis's bookkeeping
(lastsave, lastbgsave_status, dirty_before_bgsave, the scheduled flag). Files are written as
Redis writes them: a synchronous save to ``temp-<pid>.rdb`` in the working directory (``dir``),
fsynced, then renamed over ``dbfilename``; a background save through
``vermilion.persistence.snapshot`` (no fork: see that module) to ``temp-bg-<pid>.rdb``, renamed
the same way when it completes. The log lines are Redis's. At startup the file is parsed in a
worker thread while the event loop answers -LOADING (Redis answers between chunks of its load).

Embedded servers (``Server.start()``) do not load a file at start and do not save when
``stop()`` is called (tests and applications embedding a server would otherwise litter their
working directory); the command-line server does both, as redis-server.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from .. import errors, info
from ..errors import RedisError
from ..registry import Command, set_gate_condition
from .rdb import SHORT_READ, RdbError, load_rdb, write_rdb
from .snapshot import BackgroundSnapshot, start_background_save

if TYPE_CHECKING:
    from ..connection import Client
    from ..server import Server

# Seconds before a failed background save is retried by the save points (Redis's
# CONFIG_BGSAVE_RETRY_DELAY).
BGSAVE_RETRY_DELAY = 5
# The signal Redis kills its saving child with on purpose (SIGUSR1): not counted as an error.
_SIGUSR1 = 10

# Where Redis 7.0.15's rdb.c reports these load failures (its log line names the source line).
_RDB_C_LINES = {"read": 3249, "checksum": 3225}

# Servers of this process whose last background save failed: while any has one, writes and PING
# take the full gate so that dispatch.execute can answer MISCONF (the command table is shared).
_FAILED: set[int] = set()


# Servers of this process loading their dataset: every command without the "loading" flag takes
# the full gate, where it is answered -LOADING.
_LOADING: set[int] = set()


def _needs_data(cmd: Command) -> bool:
    return "loading" not in cmd.flags


def _misconf_candidates(cmd: Command) -> bool:
    return cmd.is_write or cmd.full_name in ("ping", "exec")


class Persistence:
    """Redis's RDB bookkeeping for one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        now = int(time.time())
        # Redis starts with lastsave = now: save points count from the start.
        self.lastsave = now
        self.lastbgsave_try = 0
        self.lastbgsave_ok = True
        # strerror of the AOF's last failed write, None while writes succeed (vermilion.persistence.aof).
        self.aof_write_error: str | None = None
        self.bgsave_scheduled = False
        self.dirty_before_bgsave = 0
        # server.dirty when the last save started: Redis zeroes its dirty counter on a save, but
        # here server.dirty only grows (command propagation measures what each command added).
        self.dirty_at_last_save = 0
        self.bgsave_started = 0.0
        # The BGSAVE's snapshot while it runs.
        self.running: BackgroundSnapshot | None = None
        self.bgsave_dir = ""
        self.last_bgsave_seconds = -1
        self.rdb_saves = 0
        self.last_load_keys_loaded = 0
        self.last_load_keys_expired = 0
        self.loading = False
        self.loading_started = 0
        self.loading_total_bytes = 0
        server.startup_hooks.append(self.load_at_startup)
        server.cron_hooks.append(self.cron)
        server.shutdown_checks.append(self.prepare_shutdown)

    # -- file names -------------------------------------------------------------------------

    @property
    def filename(self) -> str:
        return self.server.config.dbfilename

    def bgsave(self) -> BackgroundSnapshot | None:
        """The running BGSAVE, if any (an AOF rewrite's snapshot is not one)."""
        snapshot = self.server.snapshot
        return snapshot if snapshot is not None and snapshot.kind == "rdb" else None

    # -- SAVE (Redis's rdbSave) ---------------------------------------------------------------

    def save(self) -> bool:
        """Write the dataset to ``dbfilename`` now, as Redis's rdbSave; False on failure."""
        server = self.server
        temp = f"temp-{os.getpid()}.rdb"
        try:
            handle = open(temp, "wb")
        except OSError as exc:
            server.log("warning", f"Failed opening the temp RDB file {temp} (in server root dir "
                                  f"{_cwd()}) for saving: {os.strerror(exc.errno or 0)}")
            return False
        operation = "rdbSaveRio"
        try:
            with handle:
                write_rdb(server, handle)
                operation = "fflush"
                handle.flush()
                operation = "fsync"
                os.fsync(handle.fileno())
        except Exception as exc:  # OSError, or a value the codec cannot write
            reason = os.strerror(exc.errno or 0) if isinstance(exc, OSError) else str(exc)
            server.log("warning", f"Write error saving DB on disk({operation}): {reason}")
            _remove(temp)
            return False
        if not self._move_into_place(temp):
            return False
        server.log("notice", "DB saved on disk")
        self.dirty_at_last_save = server.dirty
        self.lastsave = int(time.time())
        self._set_bgsave_status(True)
        return True

    def _move_into_place(self, temp: str, directory: str | None = None) -> bool:
        """Rename ``temp`` over ``dbfilename`` (in ``directory``: the working directory when the
        save started, as a forked child keeps it, default the current one)."""
        directory = directory or _cwd()
        try:
            os.replace(os.path.join(directory, temp), os.path.join(directory, self.filename))
        except OSError as exc:
            self.server.log("warning", f"Error moving temp DB file {temp} on the final destination "
                                       f"{self.filename} (in server root dir {directory}): "
                                       f"{os.strerror(exc.errno or 0)}")
            _remove(os.path.join(directory, temp))
            return False
        return True

    # -- BGSAVE (Redis's rdbSaveBackground and backgroundSaveDoneHandler) -----------------------

    def start_bgsave(self) -> bool:
        """Start a background save; False when another one (or an AOF rewrite) runs."""
        server = self.server
        if server.snapshot is not None:
            return False
        self.rdb_saves += 1
        self.dirty_before_bgsave = server.dirty
        self.lastbgsave_try = int(time.time())
        self.bgsave_started = time.time()
        # Absolute: CONFIG SET dir may change the working directory before the save completes.
        self.bgsave_dir = _cwd()
        temp = os.path.join(self.bgsave_dir, f"temp-bg-{os.getpid()}.rdb")
        self.running = start_background_save(server, temp, on_done=self._bgsave_done)
        server.log("notice", f"Background saving started by pid {os.getpid()}")
        return True

    def _bgsave_done(self, ok: bool) -> None:
        server = self.server
        snapshot, self.running = self.running, None
        self.last_bgsave_seconds = int(time.time() - self.bgsave_started)
        if snapshot.aborted:
            server.log("warning", f"Background saving terminated by signal {_SIGUSR1}")
            return
        if ok:
            ok = self._move_into_place(os.path.basename(snapshot.path), self.bgsave_dir)
            if ok:
                server.log("notice", "DB saved on disk")
        elif snapshot.error_op == "open":
            server.log("warning", f"Failed opening the temp RDB file {os.path.basename(snapshot.path)} "
                                  f"(in server root dir {self.bgsave_dir}) for saving: {snapshot.error}")
        else:
            server.log("warning", f"Write error saving DB on disk({snapshot.error_op}): {snapshot.error}")
        if ok:
            server.log("notice", "Background saving terminated with success")
            self.dirty_at_last_save = self.dirty_before_bgsave
            self.lastsave = int(time.time())
            self._set_bgsave_status(True)
        else:
            server.log("warning", "Background saving error")
            self._set_bgsave_status(False)

    def kill_bgsave(self) -> None:
        """Stop a running BGSAVE (FLUSHALL, SHUTDOWN), as Redis's killRDBChild."""
        snapshot = self.bgsave()
        if snapshot is not None:
            snapshot.abort()

    # -- the MISCONF state ------------------------------------------------------------------------

    def _set_bgsave_status(self, ok: bool) -> None:
        self.lastbgsave_ok = ok
        self._update_write_denial()

    def set_aof_write_error(self, reason: str | None) -> None:
        """The AOF's last write failed (``reason``: strerror) or, with None, works again."""
        self.aof_write_error = reason
        self._update_write_denial()

    def _update_write_denial(self) -> None:
        server = self.server
        if self.loading:
            return  # _end_loading settles it
        if self.lastbgsave_ok and self.aof_write_error is None:
            server.write_denial = None
            _FAILED.discard(id(server))
            if not _FAILED:
                set_gate_condition("misconf", None)
        else:
            server.write_denial = self.write_denied
            _FAILED.add(id(server))
            set_gate_condition("misconf", _misconf_candidates)

    def write_denied(self, client: Client, cmd: Command) -> str | None:
        """The MISCONF error for a command the gate is about to run, or None (Redis's
        writeCommandsDeniedByDiskError: a failed background save, save points configured and
        stop-writes-on-bgsave-error on; writes, EXEC of queued writes and PING are refused)."""
        config = self.server.config
        if not self.lastbgsave_ok and config.save and config.stop_writes_on_bgsave_error:
            error = errors.MISCONF_RDB
        elif self.aof_write_error is not None and config.appendonly:
            # A failed AOF write (Redis's DISK_ERROR_TYPE_AOF): writes stop until one succeeds.
            error = errors.MISCONF_AOF + self.aof_write_error
        else:
            return None
        if cmd.is_write or cmd.full_name == "ping":
            return error
        if cmd.full_name == "exec" and client.multi:
            if any(queued.is_write for queued, _argv in client.multi):
                return error
        return None

    # -- save points and scheduled saves (serverCron) ------------------------------------------

    def cron(self) -> None:
        server = self.server
        if server.snapshot is not None:
            return
        now = int(time.time())
        retry_allowed = self.lastbgsave_ok or now - self.lastbgsave_try > BGSAVE_RETRY_DELAY
        dirty = self.changes_since_last_save()
        for seconds, changes in server.config.save:
            if dirty >= changes and now - self.lastsave > seconds and retry_allowed:
                server.log("notice", f"{changes} changes in {seconds} seconds. Saving...")
                self.start_bgsave()
                return
        if self.bgsave_scheduled and retry_allowed and self.start_bgsave():
            self.bgsave_scheduled = False

    # -- FLUSHALL, SHUTDOWN ----------------------------------------------------------------

    def after_flushall(self) -> None:
        """Redis 7.0's FLUSHALL: kill a running BGSAVE, then save the empty dataset when save
        points are configured."""
        self.kill_bgsave()
        if self.server.config.save:
            self.save()

    def prepare_shutdown(self, options: set[bytes]) -> bool:
        """SHUTDOWN's and SIGTERM's save (Redis's prepareForShutdown); False aborts the exit."""
        server = self.server
        if self.bgsave() is not None:
            server.log("warning", "There is a child saving an .rdb. Killing it!")
            self.kill_bgsave()
        if (server.config.save and b"nosave" not in options) or b"save" in options:
            server.log("notice", "Saving the final RDB snapshot before exiting.")
            if not self.save():
                if b"force" in options:
                    server.log("warning", "Error trying to save the DB. Exit anyway.")
                else:
                    server.log("warning", "Error trying to save the DB, can't exit.")
                    return False
        return True

    # -- loading --------------------------------------------------------------------------------

    def load_at_startup(self) -> Awaitable[None] | None:
        """Load ``dbfilename`` before "Ready to accept connections", as Redis: the file is read in
        a worker thread while the event loop answers -LOADING to commands that need the data
        (the returned awaitable; startup awaits it). A corrupt file ends the process (exit 1).
        With appendonly on, the AOF is what gets loaded (the AOF's own startup hook)."""
        server = self.server
        if server.config.appendonly or not os.path.lexists(self.filename):
            return None
        return self._load_at_startup()

    async def _load_at_startup(self) -> None:
        server = self.server
        start = time.time()
        self._begin_loading()
        try:
            await server.loop.run_in_executor(None, self.load, self.filename)
        except FileNotFoundError:
            return
        except IsADirectoryError:
            # Redis opens it, then its first read fails: a short read.
            self._report_load_error(RdbError(SHORT_READ, "read", 0), self.filename)
            raise SystemExit(1) from None
        except OSError as exc:
            server.log("warning", f"Fatal error loading the DB: {os.strerror(exc.errno or 0)}. Exiting.")
            raise SystemExit(1) from None
        except RdbError as exc:
            self._report_load_error(exc, self.filename)
            raise SystemExit(1) from None
        finally:
            self._end_loading()
        server.log("notice", f"DB loaded from disk: {time.time() - start:.3f} seconds")

    def _begin_loading(self) -> None:
        server = self.server
        self.loading = True
        self.loading_started = int(time.time())
        try:
            self.loading_total_bytes = os.path.getsize(self.filename)
        except OSError:
            self.loading_total_bytes = 0
        server.write_denial = self._loading_denied
        _LOADING.add(id(server))
        set_gate_condition("loading", _needs_data)

    def _end_loading(self) -> None:
        server = self.server
        self.loading = False
        server.write_denial = None
        self._update_write_denial()
        _LOADING.discard(id(server))
        if not _LOADING:
            set_gate_condition("loading", None)

    def _loading_denied(self, client: Client, cmd: Command) -> str | None:
        """While the dataset loads, Redis refuses commands without the "loading" flag (and EXEC
        of such commands)."""
        if _needs_data(cmd):
            return errors.CONFIG_LOADING
        if cmd.full_name == "exec" and client.multi:
            if any(_needs_data(queued) for queued, _argv in client.multi):
                return errors.CONFIG_LOADING
        return None

    def loading_info_lines(self) -> list[str]:
        """INFO persistence's extra fields while loading. The file is parsed in one piece, so no
        progress is known until it is done (Redis's figures for nothing loaded yet)."""
        if not self.loading:
            return []
        return [
            f"loading_start_time:{self.loading_started}",
            f"loading_total_bytes:{self.loading_total_bytes}",
            "loading_rdb_used_mem:0",
            "loading_loaded_bytes:0",
            "loading_loaded_perc:0.00",
            "loading_eta_seconds:1",
        ]

    def load(self, path: str, into: list | None = None) -> bool:
        """Load an RDB file into the (empty) databases with Redis's log lines; RdbError or
        OSError when it cannot be read."""
        server = self.server
        with open(path, "rb") as handle:
            data = handle.read()
        loaded = load_rdb(server, data, into_dbs=into)
        delay = server.config.key_load_delay
        if delay > 0 and self.loading:
            # key-load-delay (microseconds per key, a testing aid in Redis): the file is parsed in
            # one piece here, so the whole delay is spent after it, still loading.
            time.sleep(loaded.keys * delay / 1_000_000)
        aux = loaded.aux
        version = aux.get(b"redis-ver")
        if version is not None:
            server.log("notice", f"Loading RDB produced by version {version.decode('latin-1')}")
        created = aux.get(b"ctime")
        if created is not None and created.isdigit():
            server.log("notice", f"RDB age {int(time.time()) - int(created)} seconds")
        used = aux.get(b"used-mem")
        if used is not None and used.isdigit():
            server.log("notice", f"RDB memory usage when created {int(used) / (1024 * 1024):.2f} Mb")
        line = f"Done loading RDB, keys loaded: {loaded.keys}, keys expired: {loaded.expired_skipped}"
        if loaded.empty_skipped:
            line += f", empty keys skipped: {loaded.empty_skipped}"
        server.log("notice", line + ".")
        self.last_load_keys_loaded = loaded.keys
        self.last_load_keys_expired = loaded.expired_skipped
        return True

    def _report_load_error(self, exc: RdbError, path: str) -> None:
        """Redis's lines for a file it cannot load, then redis-check-rdb's report on stdout."""
        server = self.server
        if exc.kind in ("signature", "version"):
            server.log("warning", exc.message)
            server.log("warning", f"Fatal error loading the DB: {os.strerror(errno.EINVAL)}. Exiting.")
            return
        if exc.kind == "read":
            server.log("warning", SHORT_READ)
            reason = "Unexpected EOF reading RDB file"
        elif exc.kind == "checksum":
            server.log("warning", exc.message)
            reason = "RDB CRC error"
        else:
            reason = exc.message
        # Redis reports the bytes loaded so far, counted every loading-process-events-interval-bytes.
        interval = max(1, server.config.loading_process_events_interval_bytes)
        offset = exc.offset - exc.offset % interval
        line = _RDB_C_LINES.get(exc.kind, 0)
        server.log("warning", f"Internal error in RDB reading offset {offset}, function at "
                              f"rdb.c:{line} -> {reason}")
        try:
            from ..tools.check_rdb import check_file

            check_file(path, sys.stdout.buffer)
            sys.stdout.flush()
        except Exception:  # the report is a courtesy; the exit happens anyway
            server.log("warning", "Terminating server after rdb file reading failure.")

    # -- DEBUG RELOAD ---------------------------------------------------------------------------

    def debug_reload(self, argv: list) -> None:
        """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back (RedisError on failure).

        Redis kills itself when NOFLUSH finds a key of the file already present without MERGE;
        here the reload fails with the load error instead and the dataset is left as it was."""
        merge = noflush = nosave = False
        for arg in argv[2:]:
            option = arg.lower()
            if option == b"merge":
                merge = True
            elif option == b"noflush":
                noflush = True
            elif option == b"nosave":
                nosave = True
            else:
                raise RedisError(errors.DEBUG_RELOAD_OPTIONS)
        server = self.server
        if not nosave and not self.save():
            raise RedisError(errors.SAVE_FAILED)
        from ..keyspace.db import Db

        if not noflush:
            # Redis's emptyData: every database and the function libraries.
            for db in server.dbs:
                db.flush()
            scripting = server.__dict__.get("scripting")
            if scripting is not None:
                scripting.functions.flush()
        staging = [Db(server, db.index) for db in server.dbs]
        scripting = server.__dict__.get("scripting")
        kept_libraries = None
        if merge and scripting is not None:
            # MERGE: libraries of the file replace those of the same name (Redis's
            # RDBFLAGS_ALLOW_DUP); the file's are loaded apart, then joined.
            from ..scripting.functions import Libraries

            kept_libraries = scripting.functions.current
            scripting.functions.current = Libraries()
        try:
            self.load(self.filename, staging)
        except (OSError, RdbError) as exc:
            if isinstance(exc, RdbError):
                server.log("warning", exc.message)
            raise RedisError(errors.DEBUG_RELOAD_LOAD_FAILED) from None
        finally:
            if kept_libraries is not None:
                loaded_libraries = scripting.functions.current
                scripting.functions.current = kept_libraries
        if kept_libraries is not None:
            scripting.functions._join(loaded_libraries, True)
        if not merge:
            for db, loaded in zip(server.dbs, staging):
                for key in loaded.data:
                    if key in db.data:
                        server.log("warning", f"RDB has duplicated key '{key.decode('latin-1')}' "
                                              f"in DB {db.index}")
                        raise RedisError(errors.DEBUG_RELOAD_LOAD_FAILED)
        for db, loaded in zip(server.dbs, staging):
            expires = loaded.expires
            for key, value in loaded.data.items():
                if key in db.data:
                    # Replaced by the file's value: WATCHes break, nothing counts as a change.
                    db.expires.pop(key, None)
                    db.modified(key, 0)
                db.data[key] = value
                db.access[key] = loaded.access.get(key, server.lru_clock)
                when = expires.get(key)
                if when is not None:
                    db.expires[key] = when
        server.log("warning", "DB reloaded by DEBUG RELOAD")

    # -- INFO persistence ---------------------------------------------------------------------

    def changes_since_last_save(self) -> int:
        return self.server.dirty - self.dirty_at_last_save

    def bgsave_in_progress(self) -> int:
        return 1 if self.bgsave() is not None else 0

    def current_bgsave_seconds(self) -> int:
        return int(time.time() - self.bgsave_started) if self.bgsave() is not None else -1


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "unknown"


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _progress(server: Any) -> tuple[int, int]:
    snapshot = server.snapshot
    return snapshot.progress() if snapshot is not None else (0, 0)


def _fork_percent(server: Any) -> str:
    done, total = _progress(server)
    return f"{100.0 * done / total:.2f}" if total else "0.00"


info.GAUGES["loading"] = lambda server: int(server.persistence.loading)
info.GAUGES["current_save_keys_processed"] = lambda server: _progress(server)[0]
info.GAUGES["current_save_keys_total"] = lambda server: _progress(server)[1]
info.GAUGES["current_fork_perc"] = _fork_percent
info.GAUGES["rdb_changes_since_last_save"] = lambda server: server.persistence.changes_since_last_save()
info.GAUGES["rdb_bgsave_in_progress"] = lambda server: server.persistence.bgsave_in_progress()
info.GAUGES["lastsave"] = lambda server: server.persistence.lastsave
info.GAUGES["rdb_last_bgsave_status"] = lambda server: "ok" if server.persistence.lastbgsave_ok else "err"
info.GAUGES["rdb_last_bgsave_time_sec"] = lambda server: server.persistence.last_bgsave_seconds
info.GAUGES["rdb_current_bgsave_time_sec"] = lambda server: server.persistence.current_bgsave_seconds()
info.GAUGES["rdb_saves"] = lambda server: server.persistence.rdb_saves
info.GAUGES["rdb_last_load_keys_expired"] = lambda server: server.persistence.last_load_keys_expired
info.GAUGES["rdb_last_load_keys_loaded"] = lambda server: server.persistence.last_load_keys_loaded
info.GAUGES["loading_fields"] = lambda server: server.persistence.loading_info_lines()


__all__ = ["Persistence", "BGSAVE_RETRY_DELAY"]
