"""BGREWRITEAOF and the AOF status command (a Vermilion extension, see docs/extensions.md)."""

from __future__ import annotations

import os

from ..persistence.aof import OFF, TYPE_BASE, TYPE_HIST, aof_of
from ..registry import command
from ..resp.encode import array, bulk, integer, map_, simple

_KIND_NAMES = {TYPE_BASE: b"base", TYPE_HIST: b"history"}


@command("bgrewriteaof")
def bgrewriteaof(client, argv):
    return simple(aof_of(client.server).bgrewriteaof())


@command("aof")
def aof_status(client, argv):
    """The AOF's state: what INFO persistence says about it plus the files the manifest names."""
    aof = aof_of(client.server)
    config = client.server.config
    files = []
    if aof.state != OFF:
        manifest = aof.manifest
        entries = ([manifest.base] if manifest.base is not None else []) + manifest.history + manifest.incrs
        for entry in entries:
            size = _size(aof.path(entry.name))
            files.append(array([
                bulk(entry.name.encode("utf-8", "surrogateescape")),
                integer(entry.seq),
                bulk(_KIND_NAMES.get(entry.kind, b"incr")),
                integer(size),
            ]))
    resp3 = client.resp3
    pairs = [
        (bulk(b"enabled"), integer(0 if aof.state == OFF else 1)),
        (bulk(b"appendfsync"), bulk(config.appendfsync.encode())),
        (bulk(b"dir"), bulk(os.path.abspath(config.appenddirname).encode("utf-8", "surrogateescape"))),
        (bulk(b"rewrite_in_progress"), integer(1 if aof.rewrite_in_progress else 0)),
        (bulk(b"rewrite_scheduled"), integer(1 if aof.rewrite_scheduled else 0)),
        (bulk(b"last_rewrite_status"), bulk(b"ok" if aof.last_bgrewrite_ok else b"err")),
        (bulk(b"last_rewrite_time_sec"), integer(aof.last_rewrite_time_sec)),
        (bulk(b"rewrites"), integer(aof.rewrites)),
        (bulk(b"last_write_status"), bulk(b"ok" if aof.last_write_ok else b"err")),
        (bulk(b"base_size"), integer(aof.base_size)),
        (bulk(b"current_size"), integer(aof.current_size)),
        (bulk(b"buffer_length"), integer(aof.buffer_size)),
        (bulk(b"files"), array(files)),
    ]
    return map_(pairs, resp3)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1
