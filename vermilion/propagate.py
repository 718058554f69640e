"""Command propagation: what a write did, as commands for the AOF (and later replicas).

Redis's call() propagates a command that changed ``server.dirty``; a handler may replace what its
command propagates (rewriteClientCommandVector, alsoPropagate), and the effects of one execution
unit (a command, EXEC, a script) reach the AOF together, wrapped in MULTI/EXEC when there is more
than one (propagatePendingCommands). This module holds that machinery.

While nothing consumes the stream (no AOF), ``server.propagation`` is None and every entry point
costs one attribute test. When a consumer attaches, write commands (and EXEC, scripts) are sent
through the full gate (``registry.set_gate_condition``) so that ``dispatch.call`` sees them.

API for handlers and other subsystems:

- ``server.propagate(db_index, argv)``: add one command to the stream (an expired or evicted key's
  DEL, a served blocking pop). Inside a command it joins that command's unit; outside (cron) it is
  a unit of its own.
- ``server.propagate_as(client, [argv, ...])``: what the running command propagates instead of its
  own argv (SET ... PXAT for SETEX; several SREMs for SPOP with a count), Redis's
  rewriteClientCommandVector: like the argv it replaces, it is propagated only when the command
  changed ``server.dirty``. Called again, it replaces again; ``[]`` propagates nothing.
- ``propagate.force_propagation(server)``: the running command is propagated even though it
  changed nothing (Redis's forceCommandPropagation: FLUSHALL and FLUSHDB of empty databases).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .registry import set_gate_condition

if TYPE_CHECKING:
    from .connection import Client
    from .registry import Command
    from .server import Server

Sink = Callable[[list], None]

# Commands whose own argv is never propagated: their effects are (the commands they ran).
_EFFECTS_ONLY = frozenset({
    "exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro",
})
# Commands that must take the full gate while propagating, besides every "write" command
# (PFCOUNT is read-only but propagates when it rewrites its cached cardinality).
_RUNS_OTHERS = _EFFECTS_ONLY | {"multi", "pfcount"}
# Redis does not wrap the effects of a command that may touch arbitrary keys (FLUSHALL's
# per-key events, active expiry) in MULTI/EXEC when it runs directly.
_NO_WRAP_FLAG = "touches_arbitrary_keys"

# The id of the client that replays the AOF (Redis's CLIENT_ID_AOF): commands accept from it
# what only Redis's own propagation writes (XADD ... MAXLEN = n LIMIT m).
AOF_CLIENT_ID = (1 << 64) - 1

# The gate condition is process-wide (the command table is); several embedded servers share it.
_PROPAGATING: set[int] = set()

MULTI = [b"MULTI"]
EXEC = [b"EXEC"]


def _needs_gate(cmd: Command) -> bool:
    return cmd.is_write or cmd.full_name in _RUNS_OTHERS


class Propagation:
    """The pending commands of the execution unit being run, and the consumers of the stream."""

    __slots__ = ("server", "pending", "depth", "replacement", "forced", "sinks", "top_command")

    def __init__(self, server: Server) -> None:
        self.server = server
        # (db index, argv) in the order Redis would emit them.
        self.pending: list[tuple[int, list[bytes]]] = []
        # Nesting of dispatch.call (EXEC and scripts call it for each inner command).
        self.depth = 0
        # propagate_as() of the command running at this depth, else None.
        self.replacement: list[tuple[int, list[bytes]]] | None = None
        # force() of the command running at this depth: propagated even if nothing changed.
        self.forced = False
        # Each sink receives a finished unit: a list of (db index, argv).
        self.sinks: list[Sink] = []
        self.top_command: Command | None = None

    # -- around each dispatch.call ------------------------------------------------------------

    def enter(self, cmd: Command) -> tuple:
        if self.depth == 0:
            self.top_command = cmd
        self.depth += 1
        saved = (self.replacement, self.forced)
        self.replacement = None
        self.forced = False
        return saved

    def leave(self, client: Client, cmd: Command, argv: list, dirty: int, saved: tuple) -> None:
        replacement = self.replacement
        forced = self.forced
        self.replacement, self.forced = saved
        self.depth -= 1
        if (dirty or forced) and cmd.full_name not in _EFFECTS_ONLY:
            if replacement is not None:
                self.pending.extend(replacement)
            elif self.depth == 0 and not self.pending:
                # The common case, one plain write: a unit of its own, straight to the sinks.
                self.top_command = None
                unit = [(client.db.index, argv)]
                for sink in self.sinks:
                    sink(unit)
                return
            else:
                self.pending.append((client.db.index, argv))
        if self.depth == 0:
            self.flush_unit()

    # -- the API ------------------------------------------------------------------------------

    def add(self, db_index: int, argv: list[bytes]) -> None:
        self.pending.append((db_index, argv))
        if self.depth == 0:
            self.flush_unit()

    def replace(self, client: Client, argvs: list[list[bytes]]) -> None:
        index = client.db.index
        if self.depth == 0:
            # Not inside a command (a client served after another's write): plain propagation.
            for argv in argvs:
                self.add(index, argv)
            return
        self.replacement = [(index, argv) for argv in argvs]

    def force(self) -> None:
        """Propagate the running command even when it changed nothing (forceCommandPropagation:
        FLUSHALL / FLUSHDB of empty databases)."""
        if self.depth:
            self.forced = True

    def flush_unit(self) -> None:
        """Hand the pending commands to every sink as one unit (propagatePendingCommands)."""
        ops = self.pending
        if not ops:
            return
        self.pending = []
        top = self.top_command
        self.top_command = None
        if len(ops) > 1 and (top is None or _NO_WRAP_FLAG not in top.flags):
            # MULTI takes the first command's db, so a SELECT goes before it (as Redis 7.0).
            ops = [(ops[0][0], MULTI), *ops, (ops[-1][0], EXEC)]
        for sink in self.sinks:
            sink(ops)


def propagate(server: Server, db_index: int, argv: list[bytes]) -> None:
    """Append one command to the propagation stream (nothing when nobody consumes it)."""
    propagation = server.propagation
    if propagation is not None:
        propagation.add(db_index, argv)


def propagate_as(server: Server, client: Client, argvs: list[list[bytes]]) -> None:
    """Make the running command propagate ``argvs`` instead of its own argv."""
    propagation = server.propagation
    if propagation is not None:
        propagation.replace(client, argvs)


def force_propagation(server: Server) -> None:
    """The running command is propagated even if it changed nothing (free when off)."""
    propagation = server.propagation
    if propagation is not None:
        propagation.force()


def attach(server: Server, sink: Sink) -> None:
    """Start sending finished units to ``sink``; write commands now take the full gate."""
    propagation = server.propagation
    if propagation is None:
        propagation = server.propagation = Propagation(server)
        _PROPAGATING.add(id(server))
        set_gate_condition("propagation", _needs_gate)
    if sink not in propagation.sinks:
        propagation.sinks.append(sink)


def detach(server: Server, sink: Sink) -> None:
    """Stop sending to ``sink``; with no sink left, propagation costs nothing again."""
    propagation = server.propagation
    if propagation is None:
        return
    if sink in propagation.sinks:
        propagation.sinks.remove(sink)
    if not propagation.sinks and propagation.depth == 0:
        server.propagation = None
        _PROPAGATING.discard(id(server))
        if not _PROPAGATING:
            set_gate_condition("propagation", None)
