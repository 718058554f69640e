"""The gate: every command, whatever its source, is checked and run here (Redis's processCommand
and call()). Sources: a client socket, EXEC, scripts, AOF replay and replication streams.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from . import errors
from .errors import RedisError
from .eviction import SCRIPT_COMMANDS, oom_refusal, script_denies_oom
from .notouch import call_without_touching
from .registry import TABLE, Command
from .resp.encode import QUEUED, error

if TYPE_CHECKING:
    from .connection import Client

log = logging.getLogger("vermilion")

_perf_ns = time.perf_counter_ns

# Commands a client in MULTI runs at once instead of queueing.
_MULTI_IMMEDIATE = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# The only commands a RESP2 client may run while subscribed to something.
_SUBSCRIBER_COMMANDS = frozenset({
    "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
    "punsubscribe", "quit", "reset",
})


def resolve(client: Client, argv: list) -> Command | bytes:
    """The Command for ``argv``, or the encoded error that rejects it before it runs."""
    name = argv[0]
    cmd = TABLE.get(name)
    if cmd is None:
        cmd = TABLE.get(name.lower())
        if cmd is None:
            return reject(client, None, errors.unknown_command(argv))
    # A container with its own handler (COMMAND) runs it only when no subcommand is named.
    if cmd.subcommands is not None and (cmd.handler is None or len(argv) > 1):
        if len(argv) < 2:
            return reject(client, cmd, errors.wrong_arity(cmd.full_name))
        sub = cmd.subcommands.get(argv[1])
        if sub is None:
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                # Redis counts nothing against the container for an unknown subcommand.
                return reject(client, None, errors.unknown_subcommand(argv[1], cmd.full_name))
        cmd = sub
    arity = cmd.arity
    argc = len(argv)
    if (arity > 0 and argc != arity) or argc < -arity:
        return reject(client, cmd, errors.wrong_arity(cmd.full_name))
    return cmd


def execute(client: Client, argv: list) -> bytes | None:
    """Run one command for ``client``; returns the encoded reply (None: nothing to send now)."""
    cmd = resolve(client, argv)
    if cmd.__class__ is bytes:
        if client.multi is not None:
            client.multi_error = True
        return cmd
    multi = client.multi
    if client.auth_required and not cmd.no_auth:
        return refuse(client, cmd, errors.NOAUTH)
    if multi is not None and cmd.no_multi:
        return refuse(client, cmd, errors.NOT_ALLOWED_IN_MULTI)
    if client.acl_user is not None:
        # The user has restrictions (vermilion.acl); checked at queue time inside MULTI too.
        denied = client.server.acl.gate(client, cmd, argv)
        if denied is not None:
            return refuse(client, cmd, denied)
    if client.server.config.maxmemory:
        # Over maxmemory: evict first, or refuse what may grow memory (vermilion.eviction).
        refused = oom_refusal(client, cmd, argv)
        if refused is not None:
            return refused
    write_denial = client.server.write_denial
    if write_denial is not None:
        # MISCONF after a failed background save, LOADING while the dataset loads
        # (vermilion.persistence.saving).
        denied = write_denial(client, cmd)
        if denied is not None:
            if multi is not None and cmd.full_name == "exec":
                # Redis's execCommandAbort: the transaction is discarded with the reason.
                from .commands.transactions import discard_transaction

                discard_transaction(client)
                return reject(client, cmd, "EXECABORT Transaction discarded because of: " + denied)
            return refuse(client, cmd, denied)
    monitors = client.server.observe.monitors
    if (monitors and (cmd.is_write or cmd.is_readonly or "may_replicate" in cmd.flags)
            and client in monitors):
        # A MONITOR client counts as a replica in Redis, which may not touch the keyspace.
        return refuse(client, cmd, errors.REPLICA_KEYSPACE)
    if (client.subscriptions is not None and not client.resp3
            and cmd.full_name not in _SUBSCRIBER_COMMANDS):
        return refuse(client, cmd, errors.pubsub_context(cmd.full_name))
    busy = client.server.script_busy
    if busy is not None and "allow_busy" not in cmd.flags:
        # A script has run past busy-reply-threshold (vermilion.scripting.busy).
        return refuse(client, cmd, busy)
    pause = client.server.client_pause
    if pause is not None and pause.holds(client, cmd):
        # CLIENT PAUSE: the client waits; the command runs when the pause ends.
        return pause.postpone(client, argv)
    if multi is not None and cmd.full_name not in _MULTI_IMMEDIATE:
        # CLIENT LIST's cmd= names the last command received, queued or not (as in Redis).
        client.current_command = cmd
        multi.append((cmd, argv))
        name = cmd.full_name
        if name in SCRIPT_COMMANDS and script_denies_oom(client.server, name, argv):
            multi.denyoom = True  # its script's flags, as when queued (vermilion.scripting.oom)
        return QUEUED
    return call(client, cmd, argv)


def refuse(client: Client, cmd: Command, text: str) -> bytes:
    """Reject a command and, inside MULTI, doom the transaction (Redis's flagTransaction)."""
    if client.multi is not None:
        client.multi_error = True
    client.current_command = cmd
    return reject(client, cmd, text)


def call(client: Client, cmd: Command, argv: list) -> bytes | None:
    """Run an accepted command and account for it (Redis's call())."""
    client.current_command = cmd
    server = client.server
    if server.snapshot is not None and cmd.is_write:
        # A background snapshot keeps the keys this write touches as they are now.
        server.snapshot.before_write(client, cmd, argv)
    propagation = server.propagation
    if propagation is not None:
        # vermilion.propagate: a write that changed server.dirty is propagated after it ran.
        saved = propagation.enter(cmd)
        dirty = server.dirty
    observe = server.observe
    if observe.monitors and "skip_monitor" in cmd.flags:
        # Scripts are shown before the commands they run (Redis feeds them from EVAL/FCALL).
        observe.feed_monitors(client, cmd, argv)
    start = _perf_ns()
    try:
        if client.no_touch:
            # CLIENT NO-TOUCH: the command's keys keep their access records (vermilion.notouch).
            reply = call_without_touching(client, cmd, argv)
        else:
            reply = cmd.handler(client, argv)
    except RedisError as exc:
        cmd.failed_calls += 1
        reply = server.error_reply(exc.args[0])
    except Exception:
        reply = handler_crashed(client, cmd)
    elapsed = _perf_ns() - start
    cmd.duration_ns += elapsed
    cmd.latency_histogram[elapsed.bit_length()] += 1
    if elapsed >= server.slow_command_ns:
        observe.command_done(client, cmd, argv, elapsed)
    if observe.monitors and not cmd.is_admin and "skip_monitor" not in cmd.flags:
        observe.feed_monitors(client, cmd, argv)
    if propagation is not None:
        propagation.leave(client, cmd, argv, server.dirty - dirty, saved)
    server.stats.total_commands_processed += 1
    blocking = server.blocking
    if blocking.ready:
        # Clients blocked on keys this command made ready are served right after it, as in
        # Redis (their replies are written to their own connections).
        blocking.serve_ready()
    return reply


def handler_crashed(client: Client, cmd: Command) -> bytes:
    """A bug in a handler: log it, answer an error, never send the client a traceback."""
    log.exception("error running %s", cmd.full_name)
    client.server.log("warning", f"Internal error running '{cmd.full_name}' (see the traceback above)")
    cmd.failed_calls += 1
    return client.server.error_reply("ERR internal error running command")


def reject(client: Client, cmd: Command | None, text: str) -> bytes:
    """An error before the command ran: counted as rejected, as Redis does."""
    if cmd is not None:
        cmd.rejected_calls += 1
    return client.server.error_reply(text)


__all__ = ["execute", "call", "resolve", "reject", "refuse", "error"]
