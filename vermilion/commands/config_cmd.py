"""CONFIG GET, SET, RESETSTAT, REWRITE and HELP.

The parameters themselves (names, types, parsing, CONFIG GET's text, the rewrite of the file) are
the table in ``vermilion/config.py``; this module is the command surface over it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import errors, glob, info
from ..config import (
    NAMES,
    ConfigError,
    Param,
    lookup,
    rewrite_config_file,
    show_value,
    text_of,
)
from ..errors import RedisError
from ..registry import COMMANDS, command
from ..resp.encode import OK, bulk, map_
from .connection import help_reply

if TYPE_CHECKING:
    from ..connection import Client

# Subsystems with statistics outside server.stats and the command table register a reset here.
RESETSTAT_HOOKS: list[Callable[[Any], None]] = []

_GLOB_CHARS = frozenset(b"[*?")


@command("config|get")
def config_get(client: Client, argv: list[bytes]) -> bytes:
    config = client.server.config
    # Matches keyed by lower-case name: a parameter shows once however many patterns match it.
    found: dict[bytes, tuple[bytes, Param]] = {}
    for pattern in argv[2:]:
        if not _GLOB_CHARS.intersection(pattern.split(b"\0", 1)[0]):
            key = pattern.lower()
            if key not in found:
                param = lookup(text_of(pattern))
                if param is not None:
                    # An exact name is answered spelled as asked, hidden parameters included.
                    found[key] = (pattern, param)
            continue
        matcher = glob.compile(pattern, nocase=True)
        for name, param in NAMES:
            if param.hidden:
                continue
            key = name.encode()
            if key not in found and matcher(key):
                found[key] = (key, param)
    pairs = [
        (bulk(name), bulk(show_value(config, param, getattr(config, param.attr)).encode("utf-8", "surrogateescape")))
        for name, param in found.values()
    ]
    return map_(pairs, client.resp3)


def _protected_allowed(client: Client) -> bool:
    setting = client.server.config.enable_protected_configs
    if setting == "yes":
        return True
    if setting == "local":
        address = client.address or ""
        return client.is_unix or address.startswith("127.") or address.startswith("[::1]:")
    return False


def _split_value(param: Param, value: bytes) -> list[str]:
    """CONFIG SET's one argument as the set function's arguments: multi-argument parameters
    split on single spaces (so "a  b" holds an empty argument, as in Redis)."""
    text = text_of(value)
    if not param.multi_arg:
        return [text]
    return text.split(" ") if text else []


def _restore(server: Any, changes: list[tuple[Param, Any]]) -> None:
    config = server.config
    for param, old in changes:
        if param.name == "dir":
            try:
                os.chdir(old)
            except OSError as exc:
                server.log("warning", f"Failed restoring failed CONFIG SET command. Error setting dir to "
                                      f"'{old}': {os.strerror(exc.errno or 0)}")
        else:
            setattr(config, param.attr, old)


@command("config|set")
def config_set(client: Client, argv: list[bytes]) -> bytes:
    if len(argv) % 2:
        raise RedisError(errors.SYNTAX)
    server = client.server
    config = server.config
    # Check every name first; the first problem found is the one reported (Redis's order).
    chosen: list[tuple[bytes, Param, bytes]] = []
    entries: list[bytes] = []
    unknown: bytes | None = None
    problem: tuple[bytes, str | None] | None = None
    loading = False
    for index in range(2, len(argv), 2):
        name = argv[index]
        param = lookup(text_of(name))
        if param is None:
            if unknown is None and problem is None and not loading:
                unknown = name
            continue
        if unknown is not None or problem is not None or loading:
            continue
        if not param.mutable or (param.protected and not _protected_allowed(client)):
            problem = (name, errors.CONFIG_IMMUTABLE if not param.mutable else errors.CONFIG_PROTECTED)
            continue
        if param.deny_loading and getattr(server, "loading", False):
            loading = True
            continue
        # A name and its alias are different entries of Redis's table: not duplicates.
        entry = name.lower()
        if entry in entries:
            problem = (name, errors.CONFIG_DUPLICATE)
            continue
        entries.append(entry)
        chosen.append((entry, param, argv[index + 1]))
    if loading:
        raise RedisError(errors.CONFIG_LOADING)
    if unknown is not None:
        raise RedisError(errors.config_set_unknown(unknown))
    if problem is not None:
        raise RedisError(errors.config_set_failed(*problem))

    olds = [(param, _current(config, param)) for _entry, param, _value in chosen]
    hooks: list[tuple[Callable[[Any, Any, Any], None], int]] = []
    for index, (entry, param, value) in enumerate(chosen):
        try:
            changed = config.set_from_args(param, _split_value(param, value))
        except ConfigError as exc:
            _restore(server, olds[: index + 1])
            raise RedisError(errors.config_set_failed(entry, exc.text)) from None
        hook = param.on_change
        if changed and hook is not None and all(hook is not known for known, _ in hooks):
            hooks.append((hook, index))

    for hook, index in hooks:
        param = chosen[index][1]
        try:
            hook(server, olds[index][1], getattr(config, param.attr))
        except ConfigError as exc:
            server.log("warning", f"Failed applying new configuration. Possibly related to new "
                                  f"{chosen[index][0].decode()} setting. Restoring previous settings.")
            _restore(server, olds)
            for undo, undo_index in hooks:
                undo_param = chosen[undo_index][1]
                try:
                    undo(server, None, getattr(config, undo_param.attr))
                except ConfigError as undo_exc:
                    server.log("warning", f"Failed applying restored failed CONFIG SET command: {undo_exc.text}")
            raise RedisError(errors.config_set_failed(chosen[index][0], exc.text)) from None
    return OK


def _current(config: Any, param: Param) -> Any:
    if param.name == "dir":
        return os.getcwdb()
    return getattr(config, param.attr)


@command("config|resetstat")
def config_resetstat(client: Client, argv: list[bytes]) -> bytes:
    server = client.server
    server.stats.reset()
    for cmd in COMMANDS.values():
        cmd.reset_stats()
    for hook in RESETSTAT_HOOKS:
        hook(server)
    return OK


@command("config|rewrite")
def config_rewrite(client: Client, argv: list[bytes]) -> bytes:
    server = client.server
    path = server.config.config_file
    if not path:
        raise RedisError(errors.CONFIG_NO_FILE)
    try:
        rewrite_config_file(server.config, path)
    except OSError as exc:
        reason = os.strerror(exc.errno or 0)
        server.log("warning", f"CONFIG REWRITE failed: {reason}")
        raise RedisError(errors.config_rewrite_failed(reason)) from None
    server.log("warning", "CONFIG REWRITE executed with success.")
    return OK


_HELP = [
    "GET <pattern> [<pattern> ...]",
    "    Show every parameter whose name matches one of the glob-style patterns, with its value.",
    "SET <parameter> <value> [<parameter> <value> ...]",
    "    Change parameters at run time; all of them change or, on any error, none.",
    "RESETSTAT",
    "    Zero the statistics INFO reports (commands, errors, keyspace hits and misses, ...).",
    "REWRITE",
    "    Write the current configuration back to the file the server was started with.",
]


@command("config|help")
def config_help(client: Client, argv: list[bytes]) -> bytes:
    return help_reply(b"config", _HELP)


# INFO server's config_file field and process_supervised field.
info.GAUGES["config_file"] = lambda server: server.config.config_file or ""
info.GAUGES["process_supervised"] = (
    lambda server: server.config.supervised if server.config.supervised in ("upstart", "systemd") else "no"
)
