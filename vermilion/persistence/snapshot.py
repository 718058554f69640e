"""Background snapshots: an RDB file of the dataset as it was at one instant, written a slice at
a time from the event loop while clients keep being served (BGSAVE, the AOF rewrite's preamble).

Why not fork, as Redis does: CPython keeps a reference count in every object, so a child that
merely walks the keyspace writes to nearly every page it reads and copy-on-write duplicates them.
Measured with 1,000,000 small string keys (``bench/bgsave.py --fork-probe``): a 145 MB process,
and the child's Private_Dirty reached 92 MB after one walk (63% copied), so a fork costs about
1.6x the memory (and a fork of a process running uvloop and threads is fragile besides).

How the in-process snapshot keeps the instant of its start:

- At the start it keeps, for every non-empty database, the ``data`` and ``expires`` dict objects
  and a list of the keys (the one pause: about 30 ms per million keys). FLUSHDB, FLUSHALL and SWAPDB replace or exchange these dict objects
  (``Db.flush``, ``Db.swap_contents``) instead of emptying them, so the kept dicts go on
  describing the start without any help.
- A command may change a kept dict or a value in place. While a snapshot runs, write commands take
  the full gate (``registry.set_gate_condition``) and ``dispatch.call`` calls ``before_write``
  first: every key the command can touch (``vermilion.keyspecs``) that is still in a kept dict
  and not written yet is encoded as it is now, i.e. as it was at the start (copy-on-write at key
  level). A key that does not exist yet is remembered as created after the start, so a value it
  gets later is never written. MOVE and COPY ... DB name a key of another database, which is
  protected too; a write command whose keys cannot be determined first finishes the snapshot
  synchronously. Clients served by a blocking command (``before_blocked_serve``) are treated the
  same way.
- Keys removed without a command (expiry, eviction) while the snapshot runs are left out of the
  file: an expired key would be dropped when the file is loaded anyway, and an evicted one is
  what the memory limit asked to lose.

The writer encodes entries for about ``SLICE_SECONDS`` per event-loop turn, after the replies of
that turn are written, and appends them to the file; the final flush, fsync and close run in a
worker thread, so a large file's fsync does not stall the loop either. ``rdb-key-save-delay``
(microseconds per key, a testing aid in Redis too) slows the writer down.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import keyspecs
from ..registry import Command, set_gate_condition
from .crc64 import crc64
from .rdb import encode_db_header, encode_entry, key_frequency, rdb_epilogue, rdb_prelude

if TYPE_CHECKING:
    from ..server import Server

# Time the writer may hold the event loop per turn.
SLICE_SECONDS = 0.00025
# Bytes of encoded entries gathered before they are checksummed and handed to the file.
_CHUNK_BYTES = 256 * 1024

# Servers of this process with a snapshot running: the gate condition is process-wide (one
# command table), so it stays on while any of them has one.
_RUNNING: set[int] = set()

# Blocking commands whose served client writes a key it was not blocked on (the destination).
_MOVES_TO_OTHER_KEY = frozenset({"blmove", "brpoplpush"})


def _write_commands(cmd: Command) -> bool:
    return cmd.is_write


class _DbState:
    """What a snapshot keeps of one database."""

    __slots__ = ("index", "data", "expires", "access", "keys", "expires_size", "position", "saved",
                 "fresh")

    def __init__(self, db: Any) -> None:
        self.index = db.index
        self.data: dict = db.data
        self.expires: dict = db.expires
        self.access: dict = db.access
        self.keys = list(self.data)
        self.expires_size = len(self.expires)
        # Next key to write; -1 until the database's header is written.
        self.position = -1
        # key -> its entry encoded before a command changed it
        self.saved: dict[bytes, bytes] = {}
        # keys that did not exist when a command first touched them: not part of the snapshot
        self.fresh: set[bytes] = set()


class BackgroundSnapshot:
    """One running background snapshot; see the module docstring and start_background_save."""

    def __init__(self, server: Server, path: str, extra_aux: dict[bytes, bytes] | None,
                 on_done: Callable[[bool], None], kind: str) -> None:
        self.server = server
        self.path = path
        self.kind = kind
        self.on_done = on_done
        config = server.config
        self.compress = bool(getattr(config, "rdbcompression", True))
        self.checksum = bool(getattr(config, "rdbchecksum", True))
        policy = str(getattr(config, "maxmemory_policy", "noeviction"))
        self.policy = "lru" if "lru" in policy else "lfu" if "lfu" in policy else ""
        self.states = [_DbState(db) for db in server.dbs if db.data]
        self.by_data = {id(state.data): state for state in self.states}
        self.keys_total = sum(len(state.keys) for state in self.states)
        self.keys_processed = 0
        self.current = 0
        self.crc = 0
        self.pending: list[bytes] = []
        self.pending_size = 0
        # True when the last turn gave way to pending replies (see _turn).
        self.yielded = False
        # True once every entry is encoded: writes no longer need protecting.
        self.entries_done = False
        self.finished = False
        self.aborted = False
        self.ok = False
        # On failure: the strerror text, and what failed ("open", "rdbSaveRio", "fsync"), for
        # the caller's log line.
        self.error: str | None = None
        self.error_op = ""
        self.file: Any = None
        # True while the worker thread flushes and closes the file (it owns it then).
        self.syncing = False
        try:
            self.file = open(path, "wb")
        except OSError as exc:
            self.error = os.strerror(exc.errno or 0)
            self.error_op = "open"
        self._append(rdb_prelude(server, extra_aux))

    # -- protecting keys before commands change them -------------------------------------------

    def before_write(self, client: Any, cmd: Command, argv: list) -> None:
        """Called by the gate before a write command runs (see the module docstring)."""
        if self.entries_done:
            return
        refs = keyspecs.get_keys(cmd, argv)
        if not refs:
            if keyspecs.has_keys(cmd):
                # Keys Redis cannot locate in these arguments: be safe, finish now.
                self.finish_now()
            return
        db = client.db
        state = self.by_data.get(id(db.data))
        if state is not None and state.data is db.data:
            protect = self._protect
            for position, _flags in refs:
                protect(state, argv[position])
        name = cmd.full_name
        if name == "move" or name == "copy":
            self._protect_other_db(name, argv)

    def before_blocked_serve(self, entry: Any) -> None:
        """Called before a client blocked on keys is served (it runs its command again)."""
        if self.entries_done:
            return
        cmd = entry.client.current_command
        if cmd is not None and cmd.full_name in _MOVES_TO_OTHER_KEY:
            self.finish_now()
            return
        data = entry.db.data
        state = self.by_data.get(id(data))
        if state is not None and state.data is data:
            for key in entry.keys:
                self._protect(state, key)

    def _protect(self, state: _DbState, key: bytes) -> None:
        if key in state.saved or key in state.fresh or state.position >= len(state.keys):
            return
        value = state.data.get(key)
        if value is None:
            state.fresh.add(key)
            return
        try:
            state.saved[key] = self._encode(state, key, value)
        except Exception as exc:  # a value the codec cannot write: the save fails, not the command
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        """Give up on an unexpected error: the snapshot completes as failed on the next turn."""
        if self.error is None:
            self.error = f"{exc.__class__.__name__}: {exc}"
            self.error_op = "rdbSaveRio"
        if not self.entries_done:
            self.server.loop.call_soon(self._complete)
            self.entries_done = True

    def _protect_other_db(self, name: str, argv: list) -> None:
        # MOVE key db / COPY source destination DB db: the key in the other database.
        target: bytes | None = None
        key = argv[1]
        if name == "move" and len(argv) == 3:
            target = argv[2]
        elif name == "copy":
            key = argv[2]
            for position in range(3, len(argv) - 1):
                if argv[position].lower() == b"db":
                    target = argv[position + 1]
        if target is None:
            return
        try:
            index = int(target)
        except ValueError:
            return
        dbs = self.server.dbs
        if 0 <= index < len(dbs):
            data = dbs[index].data
            state = self.by_data.get(id(data))
            if state is not None and state.data is data:
                self._protect(state, key)

    # -- writing ----------------------------------------------------------------------------

    def _encode(self, state: _DbState, key: bytes, value: Any) -> bytes:
        idle = freq = None
        if self.policy == "lru":
            clock = self.server.lru_clock
            idle = max(0, clock - state.access.get(key, clock))
        elif self.policy == "lfu":
            freq = key_frequency(self.server.dbs[state.index], key)
        return encode_entry(key, value, state.expires.get(key), compress=self.compress,
                            idle_seconds=idle, freq=freq)

    def _append(self, chunk: bytes) -> None:
        self.pending.append(chunk)
        self.pending_size += len(chunk)
        if self.pending_size >= _CHUNK_BYTES:
            self._flush_pending()

    def _flush_pending(self) -> None:
        if not self.pending:
            return
        chunk = b"".join(self.pending)
        self.pending = []
        self.pending_size = 0
        if self.checksum:
            self.crc = crc64(chunk, self.crc)
        if self.error is None:
            try:
                self.file.write(chunk)
            except OSError as exc:
                self.error = os.strerror(exc.errno or 0)
                self.error_op = "rdbSaveRio"

    def step(self, deadline: float | None, max_keys: int = 0) -> bool:
        """Encode entries until ``deadline`` (perf_counter; None: to the end) or, when
        ``max_keys`` is set, that many keys; True when every entry is encoded."""
        clock = time.perf_counter
        states = self.states
        while self.current < len(states):
            state = states[self.current]
            keys = state.keys
            if state.position < 0:
                self._append(encode_db_header(state.index, len(keys), state.expires_size))
                state.position = 0
            data = state.data
            saved = state.saved
            fresh = state.fresh
            position = state.position
            end = len(keys)
            if max_keys:
                end = min(end, position + max_keys)
            batch: list[bytes] = []
            size = 0
            while position < end:
                key = keys[position]
                position += 1
                entry = saved.get(key)
                if entry is None:
                    if key in fresh:
                        continue
                    value = data.get(key)
                    if value is None:  # expired or evicted since the start
                        continue
                    entry = self._encode(state, key, value)
                batch.append(entry)
                size += len(entry)
                if not position & 7 and (size >= _CHUNK_BYTES
                                          or (deadline is not None and clock() > deadline)):
                    break
            self.keys_processed += position - state.position
            state.position = position
            if batch:
                self._append(b"".join(batch))
            if max_keys and position < len(keys):
                return False
            if position >= len(keys):
                # Nothing of this database is needed any more.
                state.saved = {}
                state.fresh = set()
                state.keys = []
                state.position = 1
                self.current += 1
            if max_keys or (deadline is not None and clock() > deadline):
                return self.current >= len(states)
        return True

    def _turn(self) -> None:
        if self.finished or self.entries_done:
            return
        server = self.server
        if server.flush_queue and not self.yielded:
            # Replies of this loop turn are waiting to be written (Server.flush_queued runs after
            # this callback): let them go first, once, so a request does not wait for a slice.
            self.yielded = True
            server.loop.call_soon(self._turn)
            return
        self.yielded = False
        # rdb-key-save-delay (microseconds per key, a testing aid in Redis) slows the writer down:
        # a turn writes about a millisecond's worth of keys, then waits that long.
        delay = getattr(self.server.config, "rdb_key_save_delay", 0)
        batch = max(1, 1000 // delay) if delay > 0 else 0
        try:
            if self.error is not None:
                done = True
            elif delay > 0:
                done = self.step(None, max_keys=batch)
            else:
                done = self.step(time.perf_counter() + SLICE_SECONDS)
        except Exception as exc:
            self._fail(exc)
            return
        if done:
            self._complete()
        elif delay > 0:
            self.server.loop.call_later(batch * delay / 1_000_000, self._turn)
        else:
            self.server.loop.call_soon(self._turn)

    def finish_now(self) -> None:
        """Encode every remaining entry at once (a write the key-level hook cannot protect)."""
        if self.finished or self.entries_done:
            return
        if self.error is None:
            try:
                self.step(None)
            except Exception as exc:
                self._fail(exc)
                return
        self._complete()

    def _complete(self) -> None:
        if self.finished or self.syncing:
            return
        self.entries_done = True
        self.states = []
        self.by_data = {}
        self._append(rdb_epilogue(self.crc_before_eof() if self.checksum else None))
        self._flush_pending()
        self.syncing = True
        threading.Thread(target=self._sync_and_close, name="vermilion-snapshot", daemon=True).start()

    def crc_before_eof(self) -> int:
        self._flush_pending()
        return self.crc

    def _sync_and_close(self) -> None:
        error = self.error
        handle = self.file
        if handle is not None:
            try:
                if error is None:
                    self.error_op = "fflush"
                    handle.flush()
                    self.error_op = "fsync"
                    os.fsync(handle.fileno())
                    self.error_op = ""
            except OSError as exc:
                error = os.strerror(exc.errno or 0)
            except ValueError:  # closed by abort() meanwhile
                error = "aborted"
            finally:
                try:
                    handle.close()
                except (OSError, ValueError):
                    pass
        loop = self.server.loop
        try:
            loop.call_soon_threadsafe(self._exited, error)
        except (AttributeError, RuntimeError):  # the server stopped meanwhile: nobody to tell
            pass

    def _exited(self, error: str | None) -> None:
        """The file is complete, as when Redis's saving child exits. Redis notices that in
        serverCron (checkChildrenDone), so until the next cron tick the save is still in
        progress (INFO, BGSAVE, BGREWRITEAOF, CONFIG SET appendonly say so): the same here."""
        if self.finished:
            return
        self.exit_error = error
        self.server.cron_hooks.append(self._reap)

    def _reap(self) -> None:
        self.server.cron_hooks.remove(self._reap)
        self._done(self.exit_error)

    def _done(self, error: str | None) -> None:
        if self.finished:
            return
        self.error = error
        self.ok = error is None
        if not self.ok:
            _remove(self.path)
        self._detach()
        self.on_done(self.ok)

    def abort(self) -> None:
        """Stop at once and delete the partial file; ``on_done(False)`` with ``aborted`` set."""
        if self.finished:
            return
        self.aborted = True
        self.entries_done = True
        self.states = []
        self.by_data = {}
        if self.file is not None and not self.syncing:
            try:
                self.file.close()
            except OSError:
                pass
        _remove(self.path)
        self._detach()
        self.on_done(False)

    def _detach(self) -> None:
        self.finished = True
        server = self.server
        if server.snapshot is self:
            server.snapshot = None
        _RUNNING.discard(id(server))
        if not _RUNNING:
            set_gate_condition("snapshot", None)

    # -- INFO figures ---------------------------------------------------------------------------

    def progress(self) -> tuple[int, int]:
        """(keys written, keys at the start)."""
        return self.keys_processed, self.keys_total


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def start_background_save(server: Server, path: str, *, on_done: Callable[[bool], None],
                          extra_aux: dict[bytes, bytes] | None = None,
                          kind: str = "rdb") -> BackgroundSnapshot:
    """Start writing an RDB of the current dataset to ``path`` in the background.

    Returns at once (the keyspace is not copied: see the module docstring). The file holds the
    data exactly as it is at this call, whatever commands run meanwhile. ``extra_aux`` adds AUX
    fields (``{b"aof-base": b"1"}`` for an AOF base file). When the file is complete, flushed,
    fsynced and closed, ``on_done(True)`` runs on the event loop; on a write error (or when
    ``path`` cannot be opened) the partial file is removed and ``on_done(False)`` runs, with
    ``snapshot.error`` holding the strerror text. ``snapshot.abort()`` stops it (the file is
    removed, ``on_done(False)`` runs at once with ``snapshot.aborted`` True).

    Only one snapshot runs at a time per server: ``server.snapshot`` is the running one (its
    ``kind`` says whose: "rdb" for BGSAVE, "aof" for an AOF rewrite), None otherwise; callers
    check it first, as Redis checks for an active child process. The caller renames the file
    into place (Redis's temp-file-then-rename) in ``on_done``.
    """
    if server.snapshot is not None:
        raise RuntimeError("a background snapshot is already running")
    snapshot = BackgroundSnapshot(server, path, extra_aux, on_done, kind)
    server.snapshot = snapshot
    _RUNNING.add(id(server))
    set_gate_condition("snapshot", _write_commands)
    server.loop.call_soon(snapshot._turn)
    return snapshot


__all__ = ["BackgroundSnapshot", "start_background_save", "SLICE_SECONDS"]
