"""RDB persistence commands: SAVE, BGSAVE, LASTSAVE (the machinery is in
vermilion.persistence.saving; SHUTDOWN's save, FLUSHALL's save and DEBUG RELOAD call it too)."""

from __future__ import annotations

from .. import errors
from ..errors import RedisError
from ..registry import command
from ..resp.encode import OK, integer, simple

_STARTED = simple("Background saving started")
_SCHEDULED = simple("Background saving scheduled")


@command("save")
def save(client, argv):
    persistence = client.server.persistence
    if persistence.bgsave() is not None:
        raise RedisError(errors.BGSAVE_IN_PROGRESS)
    persistence.rdb_saves += 1
    if not persistence.save():
        raise RedisError(errors.SAVE_FAILED)
    return OK


@command("bgsave")
def bgsave(client, argv):
    """BGSAVE [SCHEDULE]"""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise RedisError(errors.SYNTAX)
    server = client.server
    persistence = server.persistence
    # A command running with client.multi set is inside EXEC (outside it would have been queued).
    in_exec = client.multi is not None
    if persistence.bgsave() is not None:
        raise RedisError(errors.BGSAVE_IN_PROGRESS)
    if server.snapshot is not None or in_exec:
        if schedule or in_exec:
            persistence.bgsave_scheduled = True
            return _SCHEDULED
        raise RedisError(errors.BGSAVE_CHILD_ACTIVE)
    persistence.start_bgsave()
    return _STARTED


@command("lastsave")
def lastsave(client, argv):
    return integer(client.server.persistence.lastsave)
