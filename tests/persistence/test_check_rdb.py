"""vermilion-check-rdb against redis-check-rdb: the same report, line for line, on good and
damaged files (Redis's own source-line reference in "Internal error" lines is the one part that
cannot match)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import redis

from tests.conftest import IN_CI

LIBRARY = "#!lua name=lib\nredis.register_function('f', function() return 1 end)"


def run_both(path) -> tuple[tuple[int, str], tuple[int, str]]:
    real_binary = shutil.which("redis-check-rdb")
    if real_binary is None:
        if IN_CI:
            pytest.fail("redis-check-rdb is not installed")
        pytest.skip("redis-check-rdb is not installed")
    real = subprocess.run([real_binary, str(path)], capture_output=True)
    ours = subprocess.run([sys.executable, "-m", "vermilion.tools.check_rdb", str(path)],
                          capture_output=True)

    def normal(text: bytes) -> str:
        text = text.decode("latin-1")
        text = re.sub(r"function at \S+ ->", "function at X ->", text)
        return re.sub(r"^\d+:C .*? # ", "PID:C DATE # ", text, flags=re.M)

    return (real.returncode, normal(real.stdout)), (ours.returncode, normal(ours.stdout))


@pytest.fixture(scope="module")
def good_file(fresh_oracle_port, tmp_path_factory):
    client = redis.Redis(port=fresh_oracle_port)
    client.flushall()
    client.set("plain", "v")
    client.set("ttl", "v", px=100_000_000)
    client.rpush("list", "a", "b", "c")
    client.hset("hash", mapping={"f": "v"})
    client.select(4)
    client.zadd("zset", {"m": 1})
    client.xadd("stream", {"f": "v"})
    client.function_load(LIBRARY, replace=True)
    client.save()
    directory = client.config_get("dir")["dir"]
    with open(f"{directory}/dump.rdb", "rb") as handle:
        data = handle.read()
    client.function_flush()
    client.flushall()
    client.close()
    return data


def damaged(good: bytes) -> dict[str, bytes]:
    bad_type = bytearray(good)
    bad_type[good.index(b"\x00\x05plain")] = 0x30
    bad_crc = bytearray(good)
    bad_crc[-2] ^= 1
    bad_listpack = bytearray(good)
    bad_listpack[good.index(b"\x04list") + 8] ^= 0x7F
    return {
        "good": good,
        "bad-type": bytes(bad_type),
        "bad-crc": bytes(bad_crc),
        "bad-magic": b"REDIX" + good[5:],
        "bad-version": b"REDIS0099" + good[9:],
        "bad-listpack": bytes(bad_listpack),
        "cut-aux": good[:60],
        "cut-value": good[: good.index(b"\x04list") + 9],
        "cut-checksum": good[:-3],
        "empty": b"",
    }


@pytest.mark.parametrize("case", ["good", "bad-type", "bad-crc", "bad-magic", "bad-version",
                                  "bad-listpack", "cut-aux", "cut-value", "cut-checksum", "empty"])
def test_report_matches_redis_check_rdb(good_file, tmp_path, case):
    path = tmp_path / f"{case}.rdb"
    path.write_bytes(damaged(good_file)[case])
    real, ours = run_both(path)
    assert ours == real


def test_missing_file_and_usage(tmp_path):
    real, ours = run_both(tmp_path / "missing.rdb")
    assert ours == real
    usage = subprocess.run([sys.executable, "-m", "vermilion.tools.check_rdb"], capture_output=True)
    assert usage.returncode == 1 and b"Usage:" in usage.stderr


@pytest.mark.parametrize("version", [3, 9])
def test_old_version_files(tmp_path, version):
    from tests.persistence.test_old_encodings import make_file

    path = tmp_path / f"v{version}.rdb"
    path.write_bytes(make_file(version))
    real, ours = run_both(path)
    assert ours == real
    assert ours[0] == 0
