"""Per-server scripting state: the script cache, the running script, and what scripts call.

``Scripting.of(server)`` gives the server's instance (created on first use). A script runs on the
event loop thread like any command: ``run`` prepares the run (Redis's scriptPrepareForRun),
calls into Lua, and turns the outcome into the reply. Commands a script issues go through
``redis_call``: the checks of Redis's scriptCall, then ``dispatch.call`` on a client of its own.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from ..connection import Client
from ..dispatch import call
from ..errors import RedisError
from ..eviction import OOM
from .busy import Busy
from .engine import (
    INT32_MAX,
    LRAND48_INITIAL,
    LuaEngine,
    LuaRaise,
    ScriptError,
    c_int,
    lookup_script_command,
    lrand48_next,
    lrand48_seed,
    number_text,
    to_number,
)
from .oom import denies_oom_calls, refusal_at_start

if TYPE_CHECKING:
    from ..registry import Command
    from ..server import Server

# Script flags (shebang "#!lua flags=..." and function flags), as Redis numbers them.
FLAG_NO_WRITES = 1 << 0
FLAG_ALLOW_OOM = 1 << 1
FLAG_ALLOW_STALE = 1 << 2
FLAG_NO_CLUSTER = 1 << 3
FLAG_EVAL_COMPAT_MODE = 1 << 4
FLAG_ALLOW_CROSS_SLOT = 1 << 5

FLAG_NAMES: list[tuple[int, bytes]] = [
    (FLAG_NO_WRITES, b"no-writes"),
    (FLAG_ALLOW_OOM, b"allow-oom"),
    (FLAG_ALLOW_STALE, b"allow-stale"),
    (FLAG_NO_CLUSTER, b"no-cluster"),
    (FLAG_ALLOW_CROSS_SLOT, b"allow-cross-slot-keys"),
]

_LOG_LEVELS = ("debug", "verbose", "notice", "warning")

# Beyond this many KEYS + ARGV the tables are built from Python rather than passed as Lua
# arguments (the Lua stack is small).
_MAX_STACK_ARGS = 67


class ScriptClient(Client):
    """The client scripts run their commands as (Redis's Lua client): never connected."""

    __slots__ = ()


class Script:
    """A cached EVAL script."""

    __slots__ = ("sha", "body", "flags", "function")

    def __init__(self, sha: bytes, body: bytes, flags: int, function: Any) -> None:
        self.sha = sha
        self.body = body
        self.flags = flags
        self.function = function


class ScriptRun:
    """What Redis keeps in scriptRunCtx while a script runs."""

    __slots__ = (
        "caller",
        "name",
        "is_eval",
        "read_only",
        "write_dirty",
        "start",
        "timed_out",
        "killed",
        "caller_argv",
        "error_mark",
        "failed",
        "deny_oom",
    )

    def __init__(self, caller: Client, name: bytes, is_eval: bool, read_only: bool,
                 caller_argv: list[bytes]) -> None:
        self.caller = caller
        self.caller_argv = caller_argv
        self.name = name
        self.is_eval = is_eval
        self.read_only = read_only
        self.write_dirty = False
        self.start = time.monotonic()
        self.timed_out = False
        self.killed = False
        # Error replies counted so far when the last command the script ran finished: the
        # script's own command is "failed" only for errors after that (as Redis counts it).
        self.error_mark = 0
        # Errors in the reply already counted by the command that produced them: each makes the
        # script's command "failed" directly (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE).
        self.failed = 0
        # Memory was over maxmemory before the script's command ran and the script may not
        # ignore it: denyoom commands are refused until its first write (vermilion.scripting.oom).
        self.deny_oom = False

    def duration_ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)


class Scripting:
    """EVAL scripts, functions and the script being run, for one server."""

    def __init__(self, server: Server) -> None:
        from .functions import Functions

        self.server = server
        self.scripts: dict[bytes, Script] = {}
        self.run_ctx: ScriptRun | None = None
        self.rand_state = LRAND48_INITIAL
        self.client = ScriptClient(server)
        self.busy = Busy(self)
        self.functions = Functions(self)
        self._eval_engine: LuaEngine | None = None

    @classmethod
    def of(cls, server: Server) -> Scripting:
        state = server.__dict__.get("scripting")
        if state is None:
            state = cls(server)
            server.scripting = state
        return state

    @property
    def eval_engine(self) -> LuaEngine:
        engine = self._eval_engine
        if engine is None:
            engine = self._eval_engine = LuaEngine(self, "eval")
        return engine

    # -- the EVAL script cache ------------------------------------------------------------------

    def script_for(self, body: bytes) -> Script:
        """The cached script for ``body``, compiling it first (RedisError when it does not)."""
        sha = hashlib.sha1(body).hexdigest().encode()
        script = self.scripts.get(sha)
        if script is not None:
            return script
        flags, shebang_len = parse_shebang(body)
        engine = self.eval_engine
        function, message = engine.compile(body[shebang_len:])
        if function is None:
            raise ScriptError(b"ERR Error compiling script (new function): " + _c_bytes(message or b""))
        script = Script(sha, body, flags, function)
        self.scripts[sha] = script
        return script

    def flush_scripts(self) -> None:
        """SCRIPT FLUSH: forget every script and start from a fresh Lua state, as Redis does."""
        self.scripts = {}
        self._eval_engine = None

    # -- running ----------------------------------------------------------------------------------

    def check_flags(self, flags: int, read_only_command: bool) -> None:
        """Redis's scriptPrepareForRun checks that depend on the script's flags."""
        if flags & FLAG_EVAL_COMPAT_MODE:
            return
        server = self.server
        if flags & FLAG_NO_CLUSTER and getattr(server.config, "cluster_enabled", False):
            raise RedisError("ERR Can not run script on cluster, 'no-cluster' flag is set.")
        if server.config.maxmemory and server.script_oom:
            refusal = refusal_at_start(flags)
            if refusal is not None:
                raise RedisError(refusal)
        if not flags & FLAG_NO_WRITES and read_only_command:
            raise RedisError("ERR Can not execute a script with write flag using *_ro command.")

    def run(self, caller: Client, engine: LuaEngine, function: Any, name: bytes, flags: int,
            read_only_command: bool, is_eval: bool, argv: list[bytes], nkeys: int,
            command: Command) -> bytes:
        """Run ``function`` for ``caller``, whose command is ``argv`` (keys from argv[3]), and
        return the reply."""
        if flags & FLAG_EVAL_COMPAT_MODE:
            read_only = read_only_command
        else:
            self.check_flags(flags, read_only_command)
            read_only = read_only_command or bool(flags & FLAG_NO_WRITES)
        server = self.server
        stats = server.stats
        errors_before = stats.total_error_replies
        run = ScriptRun(caller, name, is_eval, read_only, argv)
        run.error_mark = errors_before
        if server.config.maxmemory:
            run.deny_oom = denies_oom_calls(server, caller, flags)
        client = self.client
        client.db = caller.db
        client.resp3 = False
        client.user = caller.user
        client.acl_user = caller.acl_user
        # A CLIENT NO-TOUCH caller's scripts touch no key either, not even with TOUCH.
        client.no_touch = caller.no_touch
        blocking = server.blocking
        blocking.deferred += 1
        self.run_ctx = run
        try:
            count = len(argv)
            if count == 3:
                outcome = engine.run0(function, caller.resp3)
            elif count <= _MAX_STACK_ARGS:
                outcome = engine.run(function, caller.resp3, nkeys, *argv[3:])
            else:
                outcome = engine.run_tables(function, caller.resp3,
                                            engine.table(argv[3 : 3 + nkeys]),
                                            engine.table(argv[3 + nkeys :]))
        except Exception:  # a bug on our side: never let it take the server down
            server.log("warning", "Internal error running a Lua script")
            logging.getLogger("vermilion").exception("Lua script failed")
            outcome = (False, None, None, None, False, b"internal error")
        finally:
            self.run_ctx = None
            blocking.deferred -= 1
            if run.timed_out:
                self.busy.leave(run)
        if outcome.__class__ is not bytes:
            if outcome[4]:
                run.failed += 1
            outcome = self._error(run, outcome)
        if stats.total_error_replies > run.error_mark:
            run.failed += 1
        if run.failed:
            command.failed_calls += run.failed
        if blocking.ready and not blocking.deferred:
            blocking.serve_ready()
        return outcome

    def _error(self, run: ScriptRun, outcome: tuple) -> bytes:
        message, source, line, ignore_stats = outcome[1], outcome[2], outcome[3], outcome[4]
        if message is None:
            fallback = outcome[5] if len(outcome) > 5 else b"unknown error"
            text = b"ERR Error running script %s, %s" % (run.name, (fallback or b"")[:100])
            return self.error_reply(text.rstrip(b"\r\n"), count=True)
        text = message
        if source is not None and line is not None:
            text += b" script: %s, on %s:%s." % (run.name, source, line)
        return self.error_reply(text, count=not ignore_stats)

    # -- errors -------------------------------------------------------------------------------------

    def error_reply(self, text: bytes, count: bool = True) -> bytes:
        """An error reply from raw bytes (newlines become spaces), counted in errorstats."""
        if count:
            self.count_error(text)
        return b"-" + text.replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n"

    def reply_error(self, text: bytes, already_counted: bool) -> None:
        """An error inside the reply a script returns (called while converting it)."""
        if already_counted:
            if self.run_ctx is not None:
                self.run_ctx.failed += 1
        else:
            self.count_error(text)

    def count_error(self, text: bytes) -> None:
        stats = self.server.stats
        stats.total_error_replies += 1
        # Redis takes the code up to a space within the first 32 bytes of "-<text>", else "ERR".
        space = text.find(b" ", 0, 31)
        code = text[:space].decode("utf-8", "replace") if space >= 0 else "ERR"
        stats.error_codes[code] = stats.error_codes.get(code, 0) + 1

    # -- redis.call / redis.pcall ---------------------------------------------------------------------

    def redis_call(self, engine: LuaEngine, raise_error: bool, *args: Any) -> Any:
        run = self.run_ctx
        if run is None:
            raise LuaRaise(
                engine.error_table(b"redis.call/pcall can only be called inside a script invocation")
            )
        if not args:
            return self._fail(engine, raise_error,
                              b"Please specify at least one argument for this redis lib call")
        argv = []
        for arg in args:
            cls = arg.__class__
            if cls is bytes:
                argv.append(arg)
            elif cls is int or cls is float:
                argv.append(b"%.17g" % arg)
            else:
                return self._fail(engine, raise_error,
                                  b"Lua redis lib command arguments must be strings or integers")
        cmd = lookup_script_command(argv)
        argc = len(argv)
        if cmd is None:
            return self._refuse(engine, raise_error, None,
                                b"ERR Unknown Redis command called from script")
        arity = cmd.arity
        if (arity > 0 and argc != arity) or argc < -arity:
            return self._refuse(engine, raise_error, cmd,
                                b"ERR Wrong number of args calling Redis command from script")
        if "noscript" in cmd.flags:
            return self._refuse(engine, raise_error, cmd,
                                b"ERR This Redis command is not allowed from script")
        if self.client.acl_user is not None:
            # The caller's user has restrictions (vermilion.acl): scripts run with them too.
            denied = self.server.acl.script_check(self.client, run.caller, cmd, argv)
            if denied is not None:
                return self._refuse(engine, raise_error, cmd, b"ERR " + denied)
        if cmd.is_write:
            if run.read_only:
                return self._refuse(engine, raise_error, cmd,
                                    b"ERR Write commands are not allowed from read-only scripts.")
            write_denial = self.server.write_denial
            if write_denial is not None:
                # A failed background save: MISCONF (vermilion.persistence.saving).
                denied = write_denial(self.client, cmd)
                if denied is not None:
                    return self._refuse(engine, raise_error, cmd, denied.encode())
            if run.deny_oom and cmd.denyoom and not run.write_dirty:
                # Memory was over maxmemory when the script started (Redis's scriptVerifyOOM):
                # refused only before its first write, which cannot be undone halfway.
                return self._refuse(engine, raise_error, cmd, _OOM)
            run.write_dirty = True
        reply = call(self.client, cmd, argv)
        run.error_mark = self.server.stats.total_error_replies
        if reply is None:
            return None
        first = reply[0]
        if first == 36:  # $
            if reply[1] == 45:
                return False
            return reply[reply.index(b"\r\n") + 2 : -2]
        if first == 58:  # :
            return int(reply[1:-2])
        if first == 43:  # +
            return engine.ok_table(reply[1:-2])
        if first == 45:  # -
            table = engine.error_table(reply[:-2], True)
            if raise_error:
                raise LuaRaise(table)
            return table
        return engine.parse_reply(reply)

    def _fail(self, engine: LuaEngine, raise_error: bool, message: bytes) -> Any:
        """An argument error: an error table, raised by redis.call (counted when replied)."""
        table = engine.error_table(message)
        if raise_error:
            raise LuaRaise(table)
        return table

    def _refuse(self, engine: LuaEngine, raise_error: bool, cmd: Command | None,
                text: bytes) -> Any:
        """A command the script may not run (``text`` starts with its error code): counted now
        as an error and a rejected call of ``cmd``, not again when it becomes the reply."""
        self.count_error(text)
        if cmd is not None:
            cmd.rejected_calls += 1
        self.run_ctx.error_mark = self.server.stats.total_error_replies
        table = engine.error_table(b"-" + text, True)
        if raise_error:
            raise LuaRaise(table)
        return table

    # -- the rest of the redis.* API ----------------------------------------------------------------

    def set_resp(self, engine: LuaEngine, *args: Any) -> None:
        if self.run_ctx is None:
            raise LuaRaise(engine.error_table(b"redis.setresp can only be called inside a script invocation"))
        if len(args) != 1:
            raise LuaRaise(engine.error_table(b"redis.setresp() requires one argument."))
        version = c_int(to_number(args[0]) or 0.0)
        if version != 2 and version != 3:
            raise LuaRaise(engine.error_table(b"RESP version must be 2 or 3."))
        self.client.resp3 = version == 3
        engine.set_script_resp3(version == 3)

    def set_repl(self, engine: LuaEngine, *args: Any) -> None:
        """redis.set_repl: validated and accepted (commands are not replicated yet)."""
        if self.run_ctx is None:
            raise LuaRaise(engine.error_table(b"redis.set_repl can only be called inside a script invocation"))
        if len(args) != 1:
            raise LuaRaise(engine.error_table(b"redis.set_repl() requires two arguments."))
        flags = c_int(to_number(args[0]) or 0.0)
        if flags & ~3:
            raise LuaRaise(engine.error_table(
                b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
            ))

    def lua_log(self, engine: LuaEngine, *args: Any) -> None:
        if len(args) < 2:
            raise LuaRaise(engine.error_table(b"redis.log() requires two arguments or more."))
        level = to_number(args[0])
        if level is None:
            raise LuaRaise(engine.error_table(b"First argument must be a number (log level)."))
        level = c_int(level)
        if not 0 <= level <= 3:
            raise LuaRaise(engine.error_table(b"Invalid debug level."))
        parts = []
        for index, value in enumerate(args[1:], 1):
            cls = value.__class__
            if cls is int or cls is float:
                value = number_text(float(value))
            elif cls is not bytes:
                continue
            if index != 1:
                parts.append(b" ")
            parts.append(value)
        self.server.log(_LOG_LEVELS[level], b"".join(parts).decode("utf-8", "replace"))

    def acl_check_cmd(self, engine: LuaEngine, *args: Any) -> bool:
        """True when the script's user may run the command with these arguments."""
        if self.run_ctx is None:
            raise LuaRaise(engine.error_table(b"redis.acl_check_cmd can only be called inside a script invocation"))
        if not args:
            raise LuaRaise(engine.error_table(b"Please specify at least one argument for this redis lib call"))
        argv = []
        for arg in args:
            cls = arg.__class__
            if cls is bytes:
                argv.append(arg)
            elif cls is int or cls is float:
                argv.append(b"%.17g" % arg)
            else:
                raise LuaRaise(engine.error_table(b"Lua redis lib command arguments must be strings or integers"))
        cmd = lookup_script_command(argv)
        if cmd is None:
            raise LuaRaise(engine.error_table(b"Invalid command passed to redis.acl_check_cmd()"))
        user = self.client.acl_user
        if user is None:
            return True
        from ..acl import check as acl_check

        return acl_check.check(user, cmd, argv)[0] == acl_check.OK

    # -- math.random / math.randomseed (Redis's rand48, identical on every platform) ------------------

    def math_random(self, engine: LuaEngine, *args: Any) -> float:
        if self.run_ctx is None and not self.functions.loading:
            raise engine.c_error(b"math.random can only be called inside a script invocation")
        self.rand_state, value = lrand48_next(self.rand_state)
        r = (value % INT32_MAX) / INT32_MAX
        count = len(args)
        if count == 0:
            return r
        if count == 1:
            upper = engine.check_int(args, 1)
            if not 1 <= upper:
                raise engine.arg_error(1, b"interval is empty")
            return float(math.floor(r * upper) + 1)
        if count == 2:
            lower = engine.check_int(args, 1)
            upper = engine.check_int(args, 2)
            if not lower <= upper:
                raise engine.arg_error(2, b"interval is empty")
            return float(math.floor(r * (upper - lower + 1)) + lower)
        raise engine.c_error(b"wrong number of arguments")

    def math_randomseed(self, engine: LuaEngine, *args: Any) -> None:
        if self.run_ctx is None and not self.functions.loading:
            raise engine.c_error(b"math.randomseed can only be called inside a script invocation")
        self.rand_state = lrand48_seed(engine.check_int(args, 1))

    # -- SCRIPT KILL / FUNCTION KILL --------------------------------------------------------------

    def kill(self, is_eval: bool) -> None:
        run = self.run_ctx
        if run is None:
            raise RedisError("NOTBUSY No scripts in execution right now.")
        if run.write_dirty:
            raise RedisError(
                "UNKILLABLE Sorry the script already executed write commands against the "
                "dataset. You can either wait the script termination or kill the server in a "
                "hard way using the SHUTDOWN NOSAVE command."
            )
        if is_eval and not run.is_eval:
            raise RedisError(BUSY_FUNCTION)
        if not is_eval and run.is_eval:
            raise RedisError(BUSY_EVAL)
        run.killed = True


_OOM = OOM.encode()

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = (
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)


def _c_bytes(value: bytes) -> bytes:
    """What C's %s prints of a string: up to its first NUL byte."""
    return value.split(b"\0", 1)[0]


def parse_shebang(body: bytes) -> tuple[int, int]:
    """(flags, length of the shebang line) of an EVAL script (Redis's evalExtractShebangFlags);
    RedisError for a bad shebang. Without one the script runs in EVAL compatibility mode."""
    from ..resp.reader import split_args

    if not body.startswith(b"#!"):
        return FLAG_EVAL_COMPAT_MODE, 0
    end = body.split(b"\0", 1)[0].find(b"\n")
    if end < 0:
        raise RedisError("ERR Invalid script shebang")
    parts = split_args(body[:end])
    if not parts:
        raise RedisError("ERR Invalid engine in script shebang")
    if parts[0].split(b"\0", 1)[0] != b"#!lua":
        raise ScriptError(b"ERR Unexpected engine in script shebang: " + _c_bytes(parts[0]))
    flags = 0
    for part in parts[1:]:
        if part.startswith(b"flags="):
            value = part[6:]
            names = value.split(b",") if value else []
            for name in names:
                bit = next((b for b, n in FLAG_NAMES if n == name.split(b"\0", 1)[0]), None)
                if bit is None:
                    raise ScriptError(b"ERR Unexpected flag in script shebang: " + _c_bytes(name))
                flags |= bit
        else:
            raise ScriptError(b"ERR Unknown lua shebang option: " + _c_bytes(part))
    return flags, end


__all__ = [
    "BUSY_EVAL",
    "BUSY_FUNCTION",
    "FLAG_NAMES",
    "Script",
    "ScriptRun",
    "Scripting",
    "parse_shebang",
]
