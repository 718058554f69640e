"""Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO, FUNCTION.

The engine is in ``vermilion.scripting`` (see docs/scripting.md); the handlers here parse
arguments and word replies. SCRIPT DEBUG (the Lua debugger) is not implemented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errors, glob, info
from ..errors import RedisError
from ..registry import COMMANDS, command
from ..resp.encode import OK, ONE, ZERO, array, bulk, integer, map_, null, set_, simple
from ..scripting.engine import ScriptError
from ..scripting.functions import ENGINE_NAME
from ..scripting.state import BUSY_EVAL, FLAG_NAMES, Scripting
from ..types.string import parse_int

if TYPE_CHECKING:
    from ..connection import Client

_NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."


def _scripting(client: Client) -> Scripting:
    state = client.server.__dict__.get("scripting")
    return state if state is not None else Scripting.of(client.server)


def _number_of_keys(argv: list, function_call: bool) -> int:
    if argv[2] == b"0":
        return 0
    numkeys = parse_int(argv[2])
    if numkeys is None:
        raise RedisError("ERR Bad number of keys provided" if function_call else errors.NOT_INTEGER)
    if numkeys > len(argv) - 3:
        raise RedisError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise RedisError("ERR Number of keys can't be negative")
    return numkeys


def _bytes_errors(name: str):
    """Reply ScriptError's bytes as they are (they quote user input, not always UTF-8)."""

    def wrap(handler):
        def guarded(client, argv):
            try:
                return handler(client, argv)
            except ScriptError as exc:
                COMMANDS[name].failed_calls += 1
                return _scripting(client).error_reply(exc.raw)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


def _help(container: str, lines: list[str]) -> bytes:
    rows = [f"{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", *lines,
            "HELP", "    Prints this help."]
    return array([simple(row) for row in rows])


# -- EVAL ---------------------------------------------------------------------------------------


def _eval(client: Client, argv: list, read_only: bool, name: str) -> bytes:
    numkeys = _number_of_keys(argv, False)
    scripting = _scripting(client)
    script = scripting.script_for(argv[1])
    return scripting.run(client, scripting.eval_engine, script.function, script.sha, script.flags,
                         read_only, True, argv, numkeys, COMMANDS[name])


def _evalsha(client: Client, argv: list, read_only: bool, name: str) -> bytes:
    sha = argv[1]
    if len(sha) != 40:
        raise RedisError(_NOSCRIPT)
    numkeys = 0 if argv[2] == b"0" else _number_of_keys(argv, False)
    scripting = client.server.__dict__.get("scripting") or Scripting.of(client.server)
    script = scripting.scripts.get(sha) or scripting.scripts.get(sha.lower())
    if script is None:
        raise RedisError(_NOSCRIPT)
    return scripting.run(client, scripting.eval_engine, script.function, script.sha, script.flags,
                         read_only, True, argv, numkeys, COMMANDS[name])


@command("eval")
@_bytes_errors("eval")
def eval_(client, argv):
    return _eval(client, argv, False, "eval")


@command("eval_ro")
@_bytes_errors("eval_ro")
def eval_ro(client, argv):
    return _eval(client, argv, True, "eval_ro")


@command("evalsha")
def evalsha(client, argv):
    return _evalsha(client, argv, False, "evalsha")


@command("evalsha_ro")
def evalsha_ro(client, argv):
    return _evalsha(client, argv, True, "evalsha_ro")


# -- SCRIPT -------------------------------------------------------------------------------------

_SCRIPT_HELP = [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
]


@command("script|help")
def script_help(client, argv):
    return _help("SCRIPT", _SCRIPT_HELP)


@command("script|load")
@_bytes_errors("script|load")
def script_load(client, argv):
    return bulk(_scripting(client).script_for(argv[2]).sha)


@command("script|exists")
def script_exists(client, argv):
    scripts = _scripting(client).scripts
    # Redis looks the digests up without regard to case.
    return array([ONE if sha.lower() in scripts else ZERO for sha in argv[2:]])


def _flush_mode(argv: list, message: str) -> None:
    if len(argv) == 3 and argv[2].lower() in (b"sync", b"async"):
        return
    if len(argv) != 2:
        raise RedisError(message)


@command("script|flush")
def script_flush(client, argv):
    _flush_mode(argv, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    _scripting(client).flush_scripts()
    return OK


@command("script|kill")
def script_kill(client, argv):
    _scripting(client).kill(True)
    return OK


# -- FCALL --------------------------------------------------------------------------------------


def _fcall(client: Client, argv: list, read_only: bool, name: str) -> bytes:
    scripting = _scripting(client)
    functions = scripting.functions
    function = functions.lookup(argv[1])
    if function is None:
        raise RedisError("ERR Function not found")
    numkeys = _number_of_keys(argv, True)
    return scripting.run(client, functions.engine, function.closure, function.name,
                         function.flags, read_only, False, argv, numkeys, COMMANDS[name])


@command("fcall")
def fcall(client, argv):
    return _fcall(client, argv, False, "fcall")


@command("fcall_ro")
def fcall_ro(client, argv):
    return _fcall(client, argv, True, "fcall_ro")


# -- FUNCTION -----------------------------------------------------------------------------------

_FUNCTION_HELP = [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using "
    "FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore "
    "policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance "
    "of failure",
    "      in case of functions name collision with another library).",
]


@command("function|help")
def function_help(client, argv):
    return _help("FUNCTION", _FUNCTION_HELP)


@command("function|load")
@_bytes_errors("function|load")
def function_load(client, argv):
    replace = False
    position = 2
    while position < len(argv) - 1:
        option = argv[position]
        position += 1
        if option.lower() == b"replace":
            replace = True
            continue
        raise ScriptError(b"ERR Unknown option given: " + option.split(b"\0", 1)[0])
    if position >= len(argv):
        raise RedisError("ERR Function code is missing")
    name = _scripting(client).functions.load(argv[position], replace)
    client.server.dirty += 1
    return bulk(name)


@command("function|delete")
def function_delete(client, argv):
    _scripting(client).functions.delete(argv[2])
    client.server.dirty += 1
    return OK


@command("function|flush")
def function_flush(client, argv):
    if len(argv) > 3:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    _flush_mode(argv, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    _scripting(client).functions.flush()
    client.server.dirty += 1
    return OK


@command("function|kill")
def function_kill(client, argv):
    _scripting(client).kill(False)
    return OK


@command("function|dump")
def function_dump(client, argv):
    return bulk(_scripting(client).functions.dump())


@command("function|restore")
@_bytes_errors("function|restore")
def function_restore(client, argv):
    if len(argv) > 4:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    policy = b"append"
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in (b"append", b"replace", b"flush"):
            raise RedisError(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
            )
    _scripting(client).functions.restore(argv[2], policy)
    client.server.dirty += 1
    return OK


@command("function|list")
@_bytes_errors("function|list")
def function_list(client, argv):
    with_code = False
    pattern = None
    position = 2
    while position < len(argv):
        option = argv[position]
        lowered = option.lower()
        if not with_code and lowered == b"withcode":
            with_code = True
        elif pattern is None and lowered == b"libraryname":
            if position >= len(argv) - 1:
                raise RedisError("ERR library name argument was not given")
            position += 1
            pattern = argv[position]
        else:
            raise ScriptError(b"ERR Unknown argument " + option.split(b"\0", 1)[0])
        position += 1
    resp3 = client.resp3
    libraries = []
    for library in _scripting(client).functions.current.libraries.values():
        if pattern is not None and not glob.match(pattern, library.name, nocase=True):
            continue
        functions = []
        for function in library.functions.values():
            description = null(resp3) if function.description is None else bulk(function.description)
            flags = [simple(name) for bit, name in FLAG_NAMES if function.flags & bit]
            functions.append(map_([
                (bulk(b"name"), bulk(function.name)),
                (bulk(b"description"), description),
                (bulk(b"flags"), set_(flags, resp3)),
            ], resp3))
        fields = [
            (bulk(b"library_name"), bulk(library.name)),
            (bulk(b"engine"), bulk(ENGINE_NAME)),
            (bulk(b"functions"), array(functions)),
        ]
        if with_code:
            fields.append((bulk(b"library_code"), bulk(library.code)))
        libraries.append(map_(fields, resp3))
    return array(libraries)


@command("function|stats")
def function_stats(client, argv):
    scripting = _scripting(client)
    run = scripting.run_ctx
    resp3 = client.resp3
    if run is not None and run.is_eval:
        raise RedisError(BUSY_EVAL)
    if run is None:
        running = null(resp3)
    else:
        running = map_([
            (bulk(b"name"), bulk(run.name)),
            (bulk(b"command"), array([bulk(arg) for arg in run.caller_argv])),
            (bulk(b"duration_ms"), integer(run.duration_ms())),
        ], resp3)
    current = scripting.functions.current
    engines = map_([(bulk(ENGINE_NAME), map_([
        (bulk(b"libraries_count"), integer(len(current.libraries))),
        (bulk(b"functions_count"), integer(current.function_count())),
    ], resp3))], resp3)
    return map_([(bulk(b"running_script"), running), (bulk(b"engines"), engines)], resp3)


# -- INFO figures ---------------------------------------------------------------------------------


def _eval_memory(server) -> int:
    state = server.__dict__.get("scripting")
    if state is None or state._eval_engine is None:
        return 0
    return state._eval_engine.memory()


def _function_memory(server) -> int:
    state = server.__dict__.get("scripting")
    if state is None or state.functions._engine is None:
        return 0
    return state.functions._engine.memory()


def _scripts_memory(server) -> int:
    state = server.__dict__.get("scripting")
    if state is None:
        return 0
    return sum(len(script.body) + 40 for script in state.scripts.values())


def _functions_memory(server) -> int:
    state = server.__dict__.get("scripting")
    if state is None:
        return 0
    return sum(len(library.code) + len(library.name)
               for library in state.functions.current.libraries.values())


def _count(server, what: str) -> int:
    state = server.__dict__.get("scripting")
    if state is None:
        return 0
    if what == "scripts":
        return len(state.scripts)
    current = state.functions.current
    return len(current.libraries) if what == "libraries" else current.function_count()


info.GAUGES["used_memory_lua"] = _eval_memory
info.GAUGES["used_memory_vm_functions"] = _function_memory
info.GAUGES["used_memory_scripts_eval"] = _scripts_memory
info.GAUGES["used_memory_functions"] = _functions_memory
info.GAUGES["used_memory_scripts"] = lambda server: _scripts_memory(server) + _functions_memory(server)
info.GAUGES["number_of_cached_scripts"] = lambda server: _count(server, "scripts")
info.GAUGES["number_of_functions"] = lambda server: _count(server, "functions")
info.GAUGES["number_of_libraries"] = lambda server: _count(server, "libraries")
