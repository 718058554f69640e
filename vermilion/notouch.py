"""CLIENT NO-TOUCH (Redis 7.2): the commands of such a client leave the access time (LRU,
OBJECT IDLETIME) and the LFU counter of the keys they read as they were. TOUCH still touches,
except from a script (Redis looks at the top-level command, which is then EVAL or FCALL).

Zero cost for other clients: CLIENT NO-TOUCH ON makes the client gated, so its commands reach
``dispatch.call``, which hands them to ``call_without_touching``. That runs the handler and then
puts back what the command's keys (vermilion.keyspecs) had before. As in Redis, where the access
time lives in the value object, a value that is still there (same object, or moved by RENAME or
MOVE) keeps its old time; a new value (SET over a key) is new, and so is its time, except that
under an LFU policy an overwritten key keeps its counter (Redis's dbSetValue copies it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import keyspecs

if TYPE_CHECKING:
    from .connection import Client
    from .keyspace.db import Db
    from .registry import Command


# Commands that replace a key by deleting it and adding a new one (its LFU counter starts anew).
_REPLACE_BY_NEW_KEY = frozenset({"copy", "restore"})


def call_without_touching(client: Client, cmd: Command, argv: list) -> Any:
    """Run ``cmd``'s handler for a no-touch client, leaving its keys' access records alone."""
    if cmd.full_name == "touch" and not _in_script(client):
        return cmd.handler(client, argv)
    refs = keyspecs.get_keys(cmd, argv)
    if not refs:
        return cmd.handler(client, argv)
    db = client.db
    data = db.data
    access = db.access
    lfu = db.lfu
    keys = [argv[position] for position, _flags in refs]
    # (key, value, access, LFU) of each key present before; the list keeps the values alive, so
    # their ids identify them afterwards.
    before = []
    for key in keys:
        value = data.get(key)
        if value is not None:
            before.append((key, value, access.get(key), None if lfu is None else lfu.get(key)))
    if not before:
        return cmd.handler(client, argv)
    name = cmd.full_name
    try:
        return cmd.handler(client, argv)
    finally:
        _restore(db, keys, before, name not in _REPLACE_BY_NEW_KEY)
        if name == "move":
            _restore_moved(client, argv, before)


def _restore(db: Db, keys: list, before: list, overwrite_keeps_counter: bool = True) -> None:
    data = db.data
    access = db.access
    lfu = db.lfu
    by_value = {id(value): (seen, packed) for _key, value, seen, packed in before}
    by_key = {key: packed for key, _value, _seen, packed in before}
    for key in keys:
        current = data.get(key)
        if current is None:
            continue
        kept = by_value.get(id(current))
        if kept is not None:
            seen, packed = kept
            if seen is not None:
                access[key] = seen
            if packed is not None and lfu is not None:
                lfu[key] = packed
        elif lfu is not None and overwrite_keeps_counter:
            packed = by_key.get(key)
            if packed is not None:
                lfu[key] = packed


def _restore_moved(client: Client, argv: list, before: list) -> None:
    """MOVE took the value, with the access record its lookup just refreshed, to another db."""
    try:
        target = client.server.dbs[int(argv[2])]
    except (ValueError, IndexError):
        return
    if target is client.db:
        return
    _restore(target, [argv[1]], before)


def _in_script(client: Client) -> bool:
    scripting = client.server.__dict__.get("scripting")
    return scripting is not None and scripting.client is client


__all__ = ["call_without_touching"]
