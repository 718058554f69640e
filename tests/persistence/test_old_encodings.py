"""Files in the encodings older Redis versions wrote (zipmap, ziplist, quicklist v1, plain
lists, text-double sorted sets, second-precision expiry, stream v1), loaded by both servers.

No Redis older than 7.0 is installed here, so the files are produced by a small generator below
from the format's definition (the encoders in vermilion.persistence.encodings). Redis 7.0 still
loads every one of these encodings, so real Redis is the oracle: both servers load the same
generated file and must then hold identical values with identical encodings.
"""

from __future__ import annotations

import struct

import pytest
import redis

from tests.persistence import dataset
from tests.persistence.test_rdb import start_redis_on
from vermilion.persistence.crc64 import crc64
from vermilion.persistence.encodings import intset_encode, ziplist_encode, zipmap_encode
from vermilion.persistence.rdb import RdbError, load_rdb
from vermilion.persistence.rdbstring import encode_length, encode_string
from vermilion.testing import run_in_server, start_server
from vermilion.types.stream import StreamNode

FAR_FUTURE_S = 2_100_000_000  # an int32, as the seconds opcode stores it


def s(value: bytes | str) -> bytes:
    return encode_string(value.encode() if isinstance(value, str) else value)


def text_double(value: float) -> bytes:
    if value == float("inf"):
        return b"\xfe"
    if value == float("-inf"):
        return b"\xff"
    text = b"%.17g" % value
    return bytes((len(text),)) + text


def stream_v1() -> bytes:
    """A stream in RDB_TYPE_STREAM_LISTPACKS (Redis 5 to 6.2): no first/max-deleted IDs, no
    entries-read counters."""
    node = StreamNode((100 << 64) | 0, (b"f",))
    node.append((100 << 64) | 0, (b"f", b"1"))
    node.append((100 << 64) | 1, (b"f", b"2", b"g", b"3"))
    node.append((101 << 64) | 0, (b"f", b"4"))
    parts = [encode_length(1), s(node.rax_key()), s(node.listpack())]
    parts += [encode_length(3), encode_length(101), encode_length(0)]
    parts.append(encode_length(1))  # one group
    parts += [s("grp"), encode_length(100), encode_length(1)]
    parts.append(encode_length(1))  # global PEL
    parts += [((100 << 64) | 1).to_bytes(16, "big"), struct.pack("<q", 1_700_000_000_000), encode_length(2)]
    parts.append(encode_length(1))  # consumers
    parts += [s("worker"), struct.pack("<q", 1_700_000_000_500), encode_length(1),
              ((100 << 64) | 1).to_bytes(16, "big")]
    return b"".join(parts)


def stream_v3() -> bytes:
    """RDB_TYPE_STREAM_LISTPACKS_3 (Redis 7.2): v2's fields plus each consumer's active-time."""
    node = StreamNode((100 << 64) | 0, (b"f",))
    node.append((100 << 64) | 0, (b"f", b"1"))
    parts = [encode_length(1), s(node.rax_key()), s(node.listpack())]
    parts += [encode_length(n) for n in (1, 100, 0, 100, 0, 0, 0, 1)]
    parts += [encode_length(1), s("grp"), encode_length(100), encode_length(0), encode_length(1)]
    parts += [encode_length(1), ((100 << 64) | 0).to_bytes(16, "big"),
              struct.pack("<q", 1_700_000_000_000), encode_length(1)]
    parts += [encode_length(1), s("worker"), struct.pack("<q", 1_700_000_000_500),
              struct.pack("<q", 1_700_000_000_900), encode_length(1),
              ((100 << 64) | 0).to_bytes(16, "big")]
    return b"".join(parts)


def entries() -> list[bytes]:
    big_pairs = [(b"f%d" % i, b"v%d" % i) for i in range(600)]
    flat_big: list[bytes] = [item for pair in big_pairs for item in pair]
    return [
        b"\x00" + s("plain:string") + s("hello"),
        b"\x00" + s("plain:int") + s("-123456"),
        b"\x01" + s("plain:list") + encode_length(3) + s("a") + s("77") + s("c" * 30),
        b"\x02" + s("plain:set:ints") + encode_length(3) + s("3") + s("1") + s("2"),
        b"\x02" + s("plain:set:strs") + encode_length(2) + s("x") + s("y"),
        b"\x03" + s("plain:zset") + encode_length(3) + s("a") + text_double(1.5) + s("b")
        + text_double(float("inf")) + s("c") + text_double(-2.0),
        b"\x04" + s("plain:hash") + encode_length(2) + s("f1") + s("v1") + s("f2") + s("22"),
        b"\x04" + s("plain:hash:long") + encode_length(1) + s("f") + s("v" * 100),
        b"\x09" + s("zipmap:hash") + s(zipmap_encode([(b"name", b"redis"), (b"ver", b"2.4")])),
        b"\x09" + s("zipmap:hash:long") + s(zipmap_encode([(b"k", b"z" * 300)])),
        b"\x0a" + s("ziplist:list") + s(ziplist_encode([b"1", b"12", b"13", b"-200", b"70000",
                                                         b"5000000000", b"txt", b"q" * 100])),
        b"\x0b" + s("intset:set") + s(intset_encode([5, -3, 70000, 1 << 40], 2)),
        b"\x0b" + s("intset:set:big") + s(intset_encode(list(range(600)), 2)),
        b"\x0c" + s("ziplist:zset") + s(ziplist_encode([b"m3", b"-7", b"m1", b"1", b"m2", b"2.5"])),
        b"\x0d" + s("ziplist:hash") + s(ziplist_encode([b"a", b"1", b"b", b"two"])),
        b"\x0d" + s("ziplist:hash:big") + s(ziplist_encode(flat_big)),
        # Nodes split as tail pushes fill them: Redis keeps a loaded list's node boundaries,
        # Vermilion recomputes them (see the module notes of vermilion.persistence.rdb).
        b"\x0e" + s("quicklist:list") + encode_length(2) + s(ziplist_encode([b"x" * 1010] * 8))
        + s(ziplist_encode([b"e" * 500, b"3"])),
        b"\xfd" + struct.pack("<i", FAR_FUTURE_S) + b"\x00" + s("expire:seconds") + s("x"),
        b"\xfc" + struct.pack("<q", FAR_FUTURE_S * 1000 + 5) + b"\x00" + s("expire:ms") + s("y"),
        b"\xf8" + encode_length(100) + b"\x00" + s("with:idle") + s("z"),
        b"\x0f" + s("stream:v1") + stream_v1(),
    ]


def make_file(version: int) -> bytes:
    body = b"REDIS%04d" % version + b"\xfe\x00" + b"".join(entries()) + b"\xff"
    if version >= 5:
        body += struct.pack("<Q", crc64(body))
    return body


@pytest.mark.parametrize("version", [3, 6, 9])
def test_old_encodings_load_like_redis(version, tmp_path):
    data = make_file(version)
    (tmp_path / "old.rdb").write_bytes(data)
    proc, port = start_redis_on(tmp_path, "old.rdb")
    srv = start_server()
    try:
        info = run_in_server(srv, lambda: load_rdb(srv, data))
        assert info.version == version
        assert info.keys == len(entries())
        ours, real = redis.Redis(port=srv.port), redis.Redis(port=port)
        assert dataset.compare(ours, real, dbs=(0,)) == len(entries())
        assert ours.object("encoding", "ziplist:hash:big") == b"hashtable"
        assert ours.object("encoding", "zipmap:hash:long") == b"hashtable"
        assert ours.object("encoding", "intset:set:big") == b"hashtable"
        assert ours.lrange("ziplist:list", 0, -1) == real.lrange("ziplist:list", 0, -1)
        assert ours.zrange("plain:zset", 0, -1, withscores=True) == [(b"c", -2.0), (b"a", 1.5),
                                                                     (b"b", float("inf"))]
        assert ours.expiretime("expire:seconds") == FAR_FUTURE_S
        assert ours.pexpiretime("expire:ms") == FAR_FUTURE_S * 1000 + 5
    finally:
        srv.stop()
        proc.terminate()
        proc.wait(10)


def test_version_11_types_load():
    """Redis 7.2's set listpack (type 20) and stream v3 (type 21) load too (Redis 7.0 itself
    refuses version 11, so there is no oracle here)."""
    from vermilion.types.listpack import listpack_bytes

    body = (b"REDIS0011\xfe\x00" + b"\x14" + s("lp:set") + s(listpack_bytes([b"a", b"1", b"b"]))
            + b"\x14" + s("lp:ints") + s(listpack_bytes([b"1", b"2"]))
            + b"\x15" + s("stream:v3") + stream_v3() + b"\xff")
    data = body + struct.pack("<Q", crc64(body))
    srv = start_server()
    try:
        run_in_server(srv, lambda: load_rdb(srv, data))
        client = redis.Redis(port=srv.port)
        assert sorted(client.smembers("lp:set")) == [b"1", b"a", b"b"]
        assert client.object("encoding", "lp:ints") == b"intset"
        assert client.xpending("stream:v3", "grp")["consumers"] == [{"name": b"worker", "pending": 1}]
        assert client.xinfo_groups("stream:v3")[0]["entries-read"] == 1
    finally:
        srv.stop()


def test_module_types_are_refused():
    body = b"REDIS0009\xfe\x00\x07" + s("mod") + encode_length(12345) + b"\xff"
    srv = start_server()
    try:
        with pytest.raises(RdbError, match="module"):
            run_in_server(srv, lambda: load_rdb(srv, body + bytes(8)))
    finally:
        srv.stop()
