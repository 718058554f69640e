"""String commands."""

from __future__ import annotations

from ..errors import WRONGTYPE, RedisError
from ..registry import command
from ..resp.encode import NULL2, NULL3, OK


@command("get")
def get(client, argv):
    value = client.db.lookup_read(argv[1])
    if value is None:
        return NULL3 if client.resp3 else NULL2
    if value.__class__ is not bytes and value.__class__ is not bytearray:
        raise RedisError(WRONGTYPE)
    return b"$%d\r\n%s\r\n" % (len(value), value)


@command("set")
def set_(client, argv):
    if len(argv) == 3:
        client.db.set_value(argv[1], argv[2])
        return OK
    raise RedisError("ERR syntax error")
