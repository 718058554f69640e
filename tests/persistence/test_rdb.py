"""RDB files both ways between Vermilion and real Redis 7.0, through the wire.

Redis -> Vermilion: a dataset with every type and encoding is built on a real redis-server,
SAVEd, loaded with load_rdb into a fresh Vermilion, and every key is compared (DUMP bytes,
encoding, TTL, DBSIZE per db, functions). Vermilion -> Redis: the same dataset built on Vermilion
is written with write_rdb and a real redis-server is started on that file.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
import redis

from tests.conftest import IN_CI, free_port, wait_for_port
from tests.persistence import dataset
from vermilion.persistence.rdb import RdbError, load_rdb, write_rdb
from vermilion.testing import run_in_server, start_server

LIBRARY = "#!lua name=mylib\nredis.register_function('answer', function() return 42 end)"


def start_redis_on(directory, filename: str, *extra: str) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(directory),
         "--dbfilename", filename, "--daemonize", "no", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return proc, port


@pytest.fixture
def vermilion():
    srv = start_server()
    client = redis.Redis(port=srv.port)
    yield srv, client
    client.close()
    srv.stop()


@pytest.fixture
def saved_by_redis(fresh_oracle_port):
    """The dataset SAVEd by real Redis: (file bytes, live client on that Redis)."""
    client = redis.Redis(port=fresh_oracle_port)
    client.flushall()
    client.function_flush()
    dataset.build(client)
    client.function_load(LIBRARY)
    client.save()
    # Redis's encodings after loading are the reference (a loaded short string is embstr).
    client.execute_command("DEBUG", "RELOAD")
    directory = client.config_get("dir")["dir"]
    filename = client.config_get("dbfilename")["dbfilename"]
    with open(os.path.join(directory, filename), "rb") as handle:
        data = handle.read()
    yield data, client
    client.function_flush()
    client.flushall()
    client.close()


def test_redis_file_loads_into_vermilion(saved_by_redis, vermilion):
    data, real = saved_by_redis
    srv, ours = vermilion
    info = run_in_server(srv, lambda: load_rdb(srv, data))
    assert info.version == 10
    assert info.aux[b"redis-ver"] == b"7.0.15"
    assert info.functions == 1
    assert dataset.compare(ours, real) >= 28
    assert ours.fcall("answer", 0) == 42
    assert ours.function_dump() == real.function_dump()


def test_vermilion_file_loads_into_redis(vermilion, tmp_path):
    srv, ours = vermilion
    dataset.build(ours)
    ours.function_load(LIBRARY)
    buffer = io.BytesIO()
    run_in_server(srv, lambda: write_rdb(srv, buffer))
    (tmp_path / "from-vermilion.rdb").write_bytes(buffer.getvalue())
    proc, port = start_redis_on(tmp_path, "from-vermilion.rdb")
    reloaded = start_server()
    try:
        real = redis.Redis(port=port)
        assert real.fcall("answer", 0) == 42
        # Against a Vermilion that loaded the same file: encodings are those after a load.
        run_in_server(reloaded, lambda: load_rdb(reloaded, buffer.getvalue()))
        assert dataset.compare(redis.Redis(port=reloaded.port), real) >= 28
        for db, keys in dataset.keys_by_db(ours).items():
            ours.select(db)
            real.select(db)
            for key in keys:
                assert dataset.contents(ours, key) == dataset.contents(real, key), key
        ours.select(0)
        real.close()
    finally:
        reloaded.stop()
        proc.terminate()
        proc.wait(10)
    assert subprocess.run(["redis-check-rdb", str(tmp_path / "from-vermilion.rdb")],
                          capture_output=True).returncode == 0


def test_written_file_round_trips_and_matches_redis_layout(saved_by_redis, vermilion):
    """Loading Redis's file and writing it again gives the same bytes, except for the AUX
    values (time, memory) and hash-table order."""
    data, real = saved_by_redis
    srv, ours = vermilion
    run_in_server(srv, lambda: load_rdb(srv, data))
    buffer = io.BytesIO()
    run_in_server(srv, lambda: write_rdb(srv, buffer))
    again = start_server()
    try:
        info = run_in_server(again, lambda: load_rdb(again, buffer.getvalue()))
        assert info.keys == sum(len(keys) for keys in dataset.keys_by_db(real).values())
        assert dataset.compare(redis.Redis(port=again.port), real) >= 28
    finally:
        again.stop()


def test_expired_keys_are_skipped_except_in_aof_preamble(vermilion):
    srv, ours = vermilion
    ours.set("gone", "x", px=1)
    ours.set("kept", "y")
    buffer = io.BytesIO()
    run_in_server(srv, lambda: write_rdb(srv, buffer))
    data = buffer.getvalue()
    import time

    time.sleep(0.01)
    fresh = start_server()
    try:
        info = run_in_server(fresh, lambda: load_rdb(fresh, data))
        assert (info.keys, info.expired_skipped) == (1, 1)
        info = run_in_server(fresh, lambda: load_rdb(fresh, data, into_dbs=[type(fresh.dbs[0])(fresh, 0)],
                                                     aof_preamble=True))
        assert info.keys == 2
    finally:
        fresh.stop()


def test_checksum_and_compression_settings(tmp_path):
    srv = start_server(rdbchecksum="no", rdbcompression="no")
    try:
        client = redis.Redis(port=srv.port)
        client.set("long", "a" * 200)
        buffer = io.BytesIO()
        run_in_server(srv, lambda: write_rdb(srv, buffer))
        data = buffer.getvalue()
        assert data.endswith(b"\xff" + bytes(8))
        assert b"a" * 200 in data  # not LZF-compressed
        (tmp_path / "plain.rdb").write_bytes(data)
        proc, port = start_redis_on(tmp_path, "plain.rdb")
        try:
            assert redis.Redis(port=port).get("long") == b"a" * 200
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        srv.stop()


def test_truncated_files_raise_rdb_error(saved_by_redis):
    data, _ = saved_by_redis
    srv = start_server()
    try:
        # Every cut point must give RdbError, never another exception or a partial load.
        step = max(1, len(data) // 150)
        for cut in range(0, len(data) - 1, step):
            with pytest.raises(RdbError):
                run_in_server(srv, lambda: load_rdb(srv, data[:cut]))
        assert all(not db.data for db in srv.dbs)
    finally:
        srv.stop()


def test_corruption_is_detected(saved_by_redis):
    data, _ = saved_by_redis
    srv = start_server()
    try:
        flipped = bytearray(data)
        flipped[data.index(b"hello")] ^= 0x40  # inside a plain string: only the CRC tells
        with pytest.raises(RdbError, match=r"Wrong RDB checksum expected: \(\w+\) got: \(\w+\)\. Aborting now\."):
            run_in_server(srv, lambda: load_rdb(srv, bytes(flipped)))
        with pytest.raises(RdbError, match="Wrong signature trying to load DB from file"):
            run_in_server(srv, lambda: load_rdb(srv, b"REDIX" + data[5:]))
        with pytest.raises(RdbError, match="Can't handle RDB format version 12"):
            run_in_server(srv, lambda: load_rdb(srv, b"REDIS0012" + data[9:]))
        with pytest.raises(RdbError, match="Short read or OOM loading DB"):
            run_in_server(srv, lambda: load_rdb(srv, data[:-20]))
        assert all(not db.data for db in srv.dbs)
    finally:
        srv.stop()


def test_random_damage_never_escapes_as_another_exception(saved_by_redis):
    """Byte damage with the checksum switched off: either the file still loads or RdbError."""
    import random

    data, _ = saved_by_redis
    rng = random.Random(5)
    srv = start_server(rdbchecksum="no")
    try:
        for _ in range(150):
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(9, len(data) - 9)] = rng.randrange(256)

            def attempt() -> None:
                for db in srv.dbs:
                    db.data.clear()
                    db.expires.clear()
                try:
                    load_rdb(srv, bytes(damaged), into_dbs=[type(srv.dbs[0])(srv, i) for i in range(16)])
                except RdbError:
                    pass

            run_in_server(srv, attempt)
    finally:
        srv.stop()


def test_lru_idle_time_travels_both_ways(tmp_path):
    """Under an LRU policy each key's idle time is saved (IDLE opcode) and restored on load."""
    srv = start_server(maxmemory_policy="allkeys-lru")
    try:
        ours = redis.Redis(port=srv.port)
        ours.set("src", "v")
        ours.restore("old", 0, ours.dump("src"), idletime=5000)
        buffer = io.BytesIO()
        run_in_server(srv, lambda: write_rdb(srv, buffer))
        assert b"\xf8" in buffer.getvalue()
        (tmp_path / "lru.rdb").write_bytes(buffer.getvalue())
        proc, port = start_redis_on(tmp_path, "lru.rdb", "--maxmemory-policy", "allkeys-lru")
        try:
            real = redis.Redis(port=port)
            assert 4990 <= real.object("idletime", "old") <= 5100
            real.save()
            again = start_server(maxmemory_policy="allkeys-lru")
            try:
                run_in_server(again, lambda: load_rdb(again, (tmp_path / "lru.rdb").read_bytes()))
                assert 4990 <= redis.Redis(port=again.port).object("idletime", "old") <= 5100
            finally:
                again.stop()
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        srv.stop()


def test_load_leaves_a_file_after_the_rdb(vermilion, tmp_path):
    """An AOF preamble is followed by commands: the file is left where the RDB ends."""
    srv, ours = vermilion
    ours.set("k", "v")
    buffer = io.BytesIO()
    run_in_server(srv, lambda: write_rdb(srv, buffer, extra_aux={b"aof-base": b"1"}))
    tail = b"*1\r\n$4\r\nPING\r\n"
    path = tmp_path / "preamble.aof"
    path.write_bytes(buffer.getvalue() + tail)
    fresh = start_server()
    try:
        with open(path, "rb") as handle:
            info = run_in_server(fresh, lambda: load_rdb(fresh, handle, aof_preamble=True))
            assert handle.read() == tail
        assert info.size == len(buffer.getvalue())
        assert info.aux[b"aof-base"] == b"1"
        assert list(info.aux)[-1] == b"aof-base"
    finally:
        fresh.stop()


def test_lfu_counter_travels_both_ways(tmp_path):
    """Under an LFU policy each key's counter is saved (FREQ opcode) and restored on load."""
    srv = start_server(maxmemory_policy="allkeys-lfu")
    try:
        ours = redis.Redis(port=srv.port)
        ours.set("src", "v")
        ours.restore("hot", 0, ours.dump("src"), frequency=77)
        buffer = io.BytesIO()
        run_in_server(srv, lambda: write_rdb(srv, buffer))
        assert b"\xf9\x4d\x00\x03hot" in buffer.getvalue()
        (tmp_path / "lfu.rdb").write_bytes(buffer.getvalue())
        proc, port = start_redis_on(tmp_path, "lfu.rdb", "--maxmemory-policy", "allkeys-lfu")
        try:
            real = redis.Redis(port=port)
            assert real.object("freq", "hot") == 77
            real.save()
            again = start_server(maxmemory_policy="allkeys-lfu")
            try:
                run_in_server(again, lambda: load_rdb(again, (tmp_path / "lfu.rdb").read_bytes()))
                client = redis.Redis(port=again.port)
                assert client.object("freq", "hot") == 77
                assert client.object("freq", "src") == real.object("freq", "src")
            finally:
                again.stop()
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        srv.stop()
