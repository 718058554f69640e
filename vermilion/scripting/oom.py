"""Scripts under maxmemory, as Redis 7.0 decides it (eval.c evalGetCommandFlags, script.c
scriptPrepareForRun and scriptVerifyOOM).

Three places decide:
- the gate (vermilion.eviction.oom_refusal): a script command counts as ``denyoom`` when its
  script has a shebang without ``no-writes`` or ``allow-oom`` (``script_denies_oom``), and is then
  refused up front when memory cannot be brought under the limit. Every command that may run a
  script (EVAL*, FCALL*, EXEC) records there whether memory was over the limit before it ran
  (``server.script_oom``, Redis's pre_command_oom_state): scripts go by that, not by the memory
  their own run uses;
- the start of a run (``refusal_at_start``): a script with a shebang and neither flag that got
  past the gate (inside EXEC, or EVALSHA of a script loaded in the same transaction) is refused;
- each redis.call/pcall (``ScriptRun.deny_oom``, checked in Scripting.redis_call): a legacy script
  (no shebang) may not run a ``denyoom`` command before its first write.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..server import Server

NO_ALLOW_OOM = (
    "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
)

_FCALLS = ("fcall", "fcall_ro")
_EVALSHAS = ("evalsha", "evalsha_ro")


def script_flags_of(server: Server, name: str, argv: list) -> int | None:
    """The flags of the script ``argv`` (an EVAL*, EVALSHA* or FCALL* command) would run, as
    the gate sees them before it runs (None when unknown: not cached, not loaded, a bad
    shebang)."""
    from ..errors import RedisError
    from .state import parse_shebang

    scripting = server.__dict__.get("scripting")
    if name in _FCALLS:
        if scripting is None:
            return None
        function = scripting.functions.lookup(argv[1])
        return None if function is None else function.flags
    if name in _EVALSHAS:
        sha = argv[1]
        if len(sha) != 40 or scripting is None:
            return None
        script = scripting.scripts.get(sha.lower())
        return None if script is None else script.flags
    if scripting is not None:
        script = scripting.scripts.get(hashlib.sha1(argv[1]).hexdigest().encode())
        if script is not None:
            return script.flags
    try:
        return parse_shebang(argv[1])[0]
    except RedisError:  # a bad shebang: the command keeps its own flags, the handler says why
        return None


def script_denies_oom(server: Server, name: str, argv: list) -> bool:
    """Whether a script command counts as ``denyoom`` (Redis's scriptFlagsToCmdFlags): only with
    known flags from a shebang or a function, and neither ``no-writes`` nor ``allow-oom``."""
    from .state import FLAG_ALLOW_OOM, FLAG_EVAL_COMPAT_MODE, FLAG_NO_WRITES

    flags = script_flags_of(server, name, argv)
    if flags is None:
        return False
    return not flags & (FLAG_NO_WRITES | FLAG_ALLOW_OOM | FLAG_EVAL_COMPAT_MODE)


def refusal_at_start(flags: int) -> str | None:
    """The error that stops a script with a shebang (or a function) from starting while memory
    was over the limit before its command ran; None: it may run. Called only with maxmemory set
    and ``server.script_oom``."""
    from .state import FLAG_ALLOW_OOM, FLAG_EVAL_COMPAT_MODE, FLAG_NO_WRITES

    if flags & (FLAG_ALLOW_OOM | FLAG_NO_WRITES | FLAG_EVAL_COMPAT_MODE):
        return None
    return NO_ALLOW_OOM


def denies_oom_calls(server: Server, caller: Any, flags: int) -> bool:
    """Whether the script about to run may not call ``denyoom`` commands before its first write:
    memory was over the limit before its command ran and the script has no ``allow-oom`` (a
    script without a shebang never has it). Commands replayed from the AOF are exempt."""
    from ..propagate import AOF_CLIENT_ID
    from .state import FLAG_ALLOW_OOM, FLAG_EVAL_COMPAT_MODE

    if not server.config.maxmemory or not server.script_oom or caller.id == AOF_CLIENT_ID:
        return False
    return bool(flags & FLAG_EVAL_COMPAT_MODE or not flags & FLAG_ALLOW_OOM)


__all__ = ["NO_ALLOW_OOM", "denies_oom_calls", "refusal_at_start", "script_flags_of",
           "script_denies_oom"]
