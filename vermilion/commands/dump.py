"""DUMP and RESTORE: a key's value in Redis's serialisation (RDB value encoding, RDB version,
CRC-64), byte-identical with Redis 7.0 wherever Redis's own layout is deterministic."""

from __future__ import annotations

from ..errors import NOT_INTEGER, SYNTAX, RedisError
from ..keyspace.db import now_ms
from ..notify import NOTIFY_GENERIC, notify
from ..persistence.rdb import (
    EmptyKey,
    RdbError,
    dump_payload,
    load_dump_payload,
    set_key_frequency,
    verify_dump_payload,
)
from ..registry import command
from ..resp.encode import OK, bulk, null
from ..types.string import parse_int
from .strings import c_option

BUSY_KEY = "BUSYKEY Target key name already exists."
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"
INVALID_TTL = "ERR Invalid TTL value, must be >= 0"
INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"


@command("dump")
def dump(client, argv):
    value = client.db.lookup_read(argv[1])
    if value is None:
        return null(client.resp3)
    return bulk(dump_payload(value, bool(client.server.config.rdbcompression)))


def _int(data: bytes) -> int:
    number = parse_int(data)
    if number is None:
        raise RedisError(NOT_INTEGER)
    return number


@command("restore")
def restore(client, argv):
    key = argv[1]
    replace = absttl = False
    idle = freq = -1
    index = 4
    while index < len(argv):
        option = c_option(argv[index])
        more = len(argv) - index - 1
        if option == b"REPLACE":
            replace = True
        elif option == b"ABSTTL":
            absttl = True
        elif option == b"IDLETIME" and more >= 1 and freq == -1:
            index += 1
            idle = _int(argv[index])
            if idle < 0:
                raise RedisError(INVALID_IDLETIME)
        elif option == b"FREQ" and more >= 1 and idle == -1:
            index += 1
            freq = _int(argv[index])
            if not 0 <= freq <= 255:
                raise RedisError(INVALID_FREQ)
        else:
            raise RedisError(SYNTAX)
        index += 1
    db = client.db
    if not replace and db.lookup_write(key) is not None:
        raise RedisError(BUSY_KEY)
    ttl = _int(argv[2])
    if ttl < 0:
        raise RedisError(INVALID_TTL)
    server = client.server
    payload = argv[3]
    if not verify_dump_payload(payload, bool(getattr(server, "skip_checksum_validation", False))):
        raise RedisError(BAD_PAYLOAD)
    try:
        value = load_dump_payload(server, payload)
    except (RdbError, EmptyKey):
        raise RedisError(BAD_DATA_FORMAT) from None
    deleted = db.delete(key) if replace else False
    if ttl and not absttl:
        ttl += now_ms()
    if ttl and ttl <= now_ms():
        # Already expired: the key is not created (a replaced one is gone, as after DEL).
        if deleted:
            notify(db, NOTIFY_GENERIC, b"del", key)
            if server.propagation is not None:
                server.propagate_as(client, [[b"DEL", key]])
        return OK
    db.add_copy(key, value, ttl or None)
    policy = str(getattr(server.config, "maxmemory_policy", "noeviction"))
    if "lfu" in policy:
        if freq >= 0:
            set_key_frequency(db, key, freq)
    elif idle >= 0:
        db.access[key] = server.lru_clock - idle
    notify(db, NOTIFY_GENERIC, b"restore", key)
    if ttl and not absttl and server.propagation is not None:
        # A relative TTL is propagated as an absolute one (Redis's restoreCommand).
        server.propagate_as(client, [[argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"]])
    return OK
