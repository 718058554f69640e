"""maxmemory and its eviction policies, as Redis's evict.c does them.

When ``used_memory`` (vermilion.memory, in Redis's terms) is above ``maxmemory``, a command that
may grow memory (flag ``denyoom``) first evicts keys. LRU, LFU and TTL policies sample
``maxmemory-samples`` keys per database into a 16-entry pool ordered by "idleness" and evict the
best candidate; random policies pick a random key. Eviction works in bursts limited in time by
``maxmemory-eviction-tenacity``; a burst that runs out of time continues on the next loop turns
(Redis's evictionTimeProc). With nothing left to evict, or under ``noeviction``, the command is
refused with the OOM error.

Access bookkeeping: ``db.access`` holds each key's last access in seconds (the LRU clock, as
Redis's 1-second LRU resolution). Under an LFU policy the databases get a ``db.lfu``, and their
lookups also update it (key -> 16-bit minutes << 8 | 8-bit logarithmic counter,
vermilion.keyspace.lfu); with any other policy lookups pay one test for LFU.
"""

from __future__ import annotations

import random
import time
from bisect import insort
from typing import TYPE_CHECKING, Any

from . import memory, registry
from .keyspace.db import Db
from .keyspace.lfu import NoAccessTimes, lfu_decayed, lfu_minutes
from .notify import NOTIFY_EVICTED, notify
from .scripting.oom import script_denies_oom

if TYPE_CHECKING:
    from .server import Server

OOM = "OOM command not allowed when used memory > 'maxmemory'."
POOL_SIZE = 16
# Policy names the notes use, accepted everywhere a policy is named; CONFIG GET shows the target.
POLICY_ALIASES = {"lru": "allkeys-lru", "ttl": "volatile-ttl"}

EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2


def key_frequency(db: Db, key: bytes) -> int:
    """OBJECT FREQ: the key's LFU counter after decay (without counting this as an access)."""
    lfu = db.lfu
    packed = lfu.get(key) if lfu is not None else None
    if packed is None:
        return 0
    return lfu_decayed(packed, lfu_minutes(), db.server.config.lfu_decay_time)


# -- sampling keys ---------------------------------------------------------------------------


class _Sampler:
    """Random keys of one dict (a db's data or expires) without walking it on every draw.

    Python dicts have no random access: draws come from a list snapshot of the keys, rebuilt
    when the dict has changed by more than a 32nd of its size since (new keys join the pool at
    the next rebuild; keys gone since are skipped by the caller)."""

    __slots__ = ("keys", "size", "changes")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.size = 0
        self.changes = 0

    def draw_one(self, source: dict, changes: int) -> bytes:
        """One key drawn from a non-empty ``source`` (possibly gone since the snapshot)."""
        return self.draw(source, 1, changes)[0]

    def draw(self, source: dict, count: int, changes: int) -> list[bytes]:
        size = len(source)
        churn = abs(size - self.size) + (changes - self.changes)
        if not self.keys or (churn and churn * 32 > size) or len(self.keys) < count:
            self.keys = list(source)
            self.size = size
            self.changes = changes
        keys = self.keys
        if not keys:
            return []
        size = len(keys)
        if size <= count:
            return keys
        draw = random.random  # random.choices' own method, without its per-call checks
        return [keys[int(draw() * size)] for _ in range(count)]


class Eviction:
    """Per-server eviction state: policy flags, the pool, sampling snapshots, the next db for
    random policies, and the continuation of a burst that ran out of time."""

    def __init__(self, server: Server) -> None:
        self.server = server
        # (idleness, key, db index) in ascending idleness: the best candidate is last.
        self.pool: list[tuple[float, bytes, int]] = []
        self.pool_keys: set[bytes] = set()
        self.samplers: dict[tuple[int, bool], _Sampler] = {}
        self.next_db = 0
        self.continuing = False
        self.policy = ""
        self.allkeys = False
        self.kind = ""

    def configure(self) -> None:
        """Apply maxmemory / maxmemory-policy: gates, the LFU database class, flags."""
        server = self.server
        config = server.config
        policy = config.maxmemory_policy
        self.policy = policy
        self.allkeys = policy.startswith("allkeys")
        self.kind = policy.split("-", 1)[-1] if policy != "noeviction" else ""
        self.pool = []
        self.pool_keys = set()
        lfu = "lfu" in policy
        for db in server.dbs:
            # A database counts LFU accesses while it has a db.lfu (vermilion.keyspace.lfu).
            if lfu and db.lfu is None:
                db.lfu = {}
                db.access = NoAccessTimes()
            elif not lfu and db.lfu is not None:
                db.lfu = None
                db.access = {}
        _set_gate(server, bool(config.maxmemory))

    # -- the eviction loop -------------------------------------------------------------------

    def perform(self) -> int:
        """Evict until used_memory fits maxmemory (Redis's performEvictions): EVICT_OK when it
        fits, EVICT_RUNNING when the time limit stopped a burst that will continue on the next
        loop turns, EVICT_FAIL when nothing (more) can be evicted."""
        server = self.server
        maxmemory = server.config.maxmemory
        if not maxmemory:
            return EVICT_OK
        # Far below the limit, the containers written since the last cron tick need not be
        # re-costed first (the tick settles them): re-costing a list or set on every write
        # cost more than the write itself. Strings and the per-key tables are always current.
        if memory.used_memory(server, settled=False) <= maxmemory - (maxmemory >> 4):
            return EVICT_OK
        used = memory.used_memory(server)
        if used <= maxmemory:
            return EVICT_OK
        return self._evict(used, maxmemory)

    def _evict(self, used: int, maxmemory: int) -> int:
        if not self.kind:
            return EVICT_FAIL
        server = self.server
        limit = _time_limit_s(server.config.maxmemory_eviction_tenacity)
        started = time.perf_counter()
        freed_keys = 0
        stats = server.stats
        while used > maxmemory:
            picked = self._pick()
            if picked is None:
                return EVICT_FAIL
            db, key = picked
            snapshot = getattr(server, "snapshot", None)
            if snapshot is not None:
                # A background save in progress keeps the key's current value first, as before
                # any command that deletes it.
                _protect_from_snapshot(snapshot, db, key)
            freed = memory.freed_by_delete(db, key)
            db.delete(key)
            used -= freed
            stats.evicted_keys += 1
            if server.notify_flags:
                notify(db, NOTIFY_EVICTED, b"evicted", key)
            propagate = getattr(server, "propagate", None)
            if propagate is not None:
                # Redis propagates UNLINK when evictions free lazily.
                lazy = server.config.lazyfree_lazy_eviction
                propagate(db.index, [b"UNLINK" if lazy else b"DEL", key])
            freed_keys += 1
            if freed_keys % 16 == 0 and time.perf_counter() - started > limit:
                if used > maxmemory:
                    self._continue_later()
                    return EVICT_RUNNING
        return EVICT_OK

    def _continue_later(self) -> None:
        loop = self.server.loop
        if loop is None or self.continuing:
            return
        self.continuing = True
        loop.call_soon(self._continuation)

    def _continuation(self) -> None:
        self.continuing = False
        server = self.server
        maxmemory = server.config.maxmemory
        if maxmemory:
            used = memory.used_memory(server)
            if used > maxmemory:
                self._evict(used, maxmemory)

    def _pick(self) -> tuple[Db, bytes] | None:
        server = self.server
        dbs = server.dbs
        allkeys = self.allkeys
        if self.kind == "random":
            count = len(dbs)
            for _ in range(count):
                self.next_db = (self.next_db + 1) % count
                db = dbs[self.next_db]
                source = db.data if allkeys else db.expires
                if source:
                    sampler = self._sampler(db, allkeys)
                    for _ in range(4):
                        key = sampler.draw_one(source, db.deletions)
                        if key in source:
                            return db, key
                    # Mostly stale snapshot: take a fresh one.
                    sampler.keys = []
                    return db, sampler.draw_one(source, db.deletions)
            return None
        pool = self.pool
        for _ in range(64):
            total = 0
            for db in dbs:
                source = db.data if allkeys else db.expires
                if source:
                    total += len(source)
                    self._populate(db, source)
            if not total:
                return None
            while pool:
                _, key, index = pool.pop()
                self.pool_keys.discard(key)
                db = dbs[index]
                source = db.data if allkeys else db.expires
                if key in source:
                    return db, key
        return None

    def _sampler(self, db: Db, allkeys: bool) -> _Sampler:
        sampler = self.samplers.get((db.index, allkeys))
        if sampler is None:
            sampler = self.samplers[(db.index, allkeys)] = _Sampler()
        return sampler

    def _populate(self, db: Db, source: dict) -> None:
        """Sample keys of one db into the pool, kept sorted by idleness, best candidate last
        (evictionPoolPopulate)."""
        server = self.server
        count = server.config.maxmemory_samples
        keys = self._sampler(db, self.allkeys).draw(source, count, db.deletions)
        kind = self.kind
        pool = self.pool
        data = db.data
        if kind == "lru":
            access = db.access
            clock = server.lru_clock
        elif kind == "lfu":
            lfu = db.lfu or {}
            now = lfu_minutes()
            decay = server.config.lfu_decay_time
        else:
            expires = db.expires
        members = self.pool_keys
        index = db.index
        by_lru = kind == "lru"
        by_lfu = kind == "lfu"
        for key in keys:
            if key not in data or key in members:
                continue
            if by_lru:
                idle = clock - access.get(key, clock)
            elif by_lfu:
                packed = lfu.get(key)
                idle = 255 - (0 if packed is None else lfu_decayed(packed, now, decay))
            else:
                when = expires.get(key)
                if when is None:
                    continue
                idle = -when
            # Kept in order of idleness; a full pool drops its worst candidate (the first).
            if len(pool) >= POOL_SIZE:
                if idle <= pool[0][0]:
                    continue
                members.discard(pool.pop(0)[1])
            insort(pool, (idle, key, index))
            members.add(key)


class _EvictionContext:
    """Stands for the evicting command where a background snapshot asks for a client."""

    __slots__ = ("db",)

    def __init__(self, db: Db) -> None:
        self.db = db


def _protect_from_snapshot(snapshot: Any, db: Db, key: bytes) -> None:
    snapshot.before_write(_EvictionContext(db), registry.COMMANDS["del"], [b"DEL", key])


def _time_limit_s(tenacity: int) -> float:
    """evictionTimeLimitUs: 50 us per tenacity step up to 10, then +15% per step; 100 = none."""
    if tenacity <= 10:
        return 50e-6 * tenacity
    if tenacity < 100:
        return 500e-6 * 1.15 ** (tenacity - 10)
    return float("inf")


# -- the gate ----------------------------------------------------------------------------------

# Servers (in this process) with a maxmemory set: while any has one, denyoom commands take the
# full gate, which checks the limit of the client's own server.
_LIMITED: set[int] = set()


def _set_gate(server: Server, limited: bool) -> None:
    before = bool(_LIMITED)
    if limited:
        _LIMITED.add(id(server))
    else:
        _LIMITED.discard(id(server))
    if bool(_LIMITED) != before:
        registry.set_gate_condition("maxmemory", _gated if _LIMITED else None)


def _gated(cmd: registry.Command) -> bool:
    return cmd.denyoom or cmd.full_name in SCRIPT_COMMANDS


def detach(server: Server) -> None:
    _set_gate(server, False)


# Commands that run a script, whose flags (vermilion.scripting.oom) may make them denyoom.
SCRIPT_COMMANDS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})
# Commands that may run scripts: they record whether memory was over the limit before they ran,
# which the scripts then go by (Redis's pre_command_oom_state, vermilion.scripting.oom).
_RUN_SCRIPTS = SCRIPT_COMMANDS | {"exec"}


def oom_refusal(client: Any, cmd: registry.Command, argv: list) -> bytes | None:
    """processCommand's maxmemory step: evict when over the limit; when that cannot bring memory
    under it, the error reply for a command that may grow memory (None: go on)."""
    server = client.server
    if server.script_busy is not None:
        return None
    out_of_memory = server.eviction.perform() == EVICT_FAIL
    name = cmd.full_name
    if name in _RUN_SCRIPTS:
        server.script_oom = out_of_memory
    if not out_of_memory:
        return None
    multi = client.multi
    if name == "exec":
        # EXEC is refused when it would run a command that may grow memory; the transaction is
        # then aborted, as Redis's execCommandAbort does.
        if not multi or not (multi.denyoom or any(queued.denyoom for queued, _ in multi)):
            return None
        from .commands.transactions import discard_transaction
        from .dispatch import reject

        discard_transaction(client)
        return reject(client, cmd, "EXECABORT Transaction discarded because of: " + OOM)
    if not (cmd.denyoom
            or (multi is not None and name not in ("discard", "quit", "reset"))
            or (name in SCRIPT_COMMANDS and script_denies_oom(server, name, argv))):
        return None
    from .dispatch import refuse

    return refuse(client, cmd, OOM)


def attach(server: Server) -> None:
    """Give a new server its eviction state (called from Server.__init__)."""
    memory.tune_allocator()
    server.mem_peak = 0
    server.startup_memory = memory.STARTUP_MEMORY
    server.script_oom = False
    server.eviction = Eviction(server)
    server.eviction.configure()
    server.shutdown_hooks.append(lambda: detach(server))


def cron(server: Server) -> None:
    """Each cron tick: cost what was written, compact oversized per-key dicts now and then,
    track the peak, and keep evicting when over the limit (performEvictions from the cron)."""
    memory.settle_all(server)
    for db in server.dbs:
        if db.data:
            memory.compact(db)
    used = memory.used_memory(server)
    if used > server.mem_peak:
        server.mem_peak = used
    if server.config.maxmemory:
        server.eviction.perform()


def apply_config(server: Server) -> None:
    """CONFIG SET maxmemory / maxmemory-policy: re-arm, and when the new limit is below what is
    used, warn as Redis does and start evicting at once (continuing over the next loop turns)."""
    eviction = getattr(server, "eviction", None)
    if eviction is None:
        return
    eviction.configure()
    maxmemory = server.config.maxmemory
    if not maxmemory:
        return
    used = memory.used_memory(server)
    if used > maxmemory:
        server.log("warning", (
            f"WARNING: the new maxmemory value set via CONFIG SET ({maxmemory}) is smaller than "
            f"the current memory usage ({used}). This will result in key eviction and/or the "
            "inability to accept new write commands depending on the maxmemory-policy."))
        eviction.perform()
