"""The Prometheus endpoint (metrics-port, a Vermilion extension): scraped over HTTP and parsed."""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis

from tests.conftest import free_port
from vermilion.testing import start_server

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_exposition(text: str) -> tuple[dict[str, str], dict[tuple[str, tuple], float]]:
    """A strict reader of the Prometheus text format: {family: type}, {(name, labels): value}.
    Every sample must follow the HELP and TYPE lines of its family."""
    types: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[tuple[str, tuple], float] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in helped, f"HELP twice for {name}"
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge", "summary", "histogram", "untyped")
            assert name in helped and name not in types
            types[name] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels_text, value = match.group(1), match.group(3), match.group(4)
            assert name in types, f"sample before its TYPE: {line!r}"
            labels = tuple(sorted((k, v) for k, v, _ in _LABEL.findall(labels_text or "")))
            key = (name, labels)
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = float(value)
    return types, samples


def http_get(port: int, path: str = "/metrics", method: str = "GET") -> tuple[int, dict[str, str], str]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return status, headers, body.decode()


@pytest.fixture(scope="module")
def metrics_server():
    port = free_port()
    server = start_server(metrics_port=port)
    yield server, port
    server.stop()


def test_scrape_parses_and_has_redis_exporter_names(metrics_server):
    server, port = metrics_server
    # Command statistics belong to the process (every server in it shares the command table), so
    # per-command figures are compared before and after.
    _, before = parse_exposition(http_get(port)[2])
    client = redis.Redis(port=server.port)
    client.set("k", "v")
    client.set("t", "v", ex=100)
    client.get("k")
    client.get("missing")
    with pytest.raises(redis.ResponseError):
        client.execute_command("LPUSH", "k", "x")
    status, headers, body = http_get(port)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert int(headers["Content-Length"]) == len(body.encode())
    types, samples = parse_exposition(body)
    for name in ("redis_up", "redis_uptime_in_seconds", "redis_connected_clients", "redis_blocked_clients",
                 "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_memory_used_rss_bytes",
                 "redis_instantaneous_ops_per_sec", "redis_rdb_last_save_timestamp_seconds",
                 "redis_db_keys", "redis_db_keys_expiring"):
        assert types[name] == "gauge", name
    for name in ("redis_commands_processed_total", "redis_keyspace_hits_total", "redis_keyspace_misses_total",
                 "redis_expired_keys_total", "redis_evicted_keys_total", "redis_connections_received_total",
                 "redis_net_input_bytes_total", "redis_net_output_bytes_total", "redis_commands_total",
                 "redis_commands_duration_seconds_total", "redis_errors_total"):
        assert types[name] == "counter", name
    assert samples[("redis_up", ())] == 1
    assert samples[("redis_db_keys", (("db", "db0"),))] == 2
    assert samples[("redis_db_keys_expiring", (("db", "db0"),))] == 1

    def grew(name: str, cmd: str) -> float:
        key = (name, (("cmd", cmd),))
        return samples[key] - before.get(key, 0)

    assert grew("redis_commands_total", "get") == 2
    assert grew("redis_commands_total", "set") == 2
    assert grew("redis_commands_failed_calls_total", "lpush") == 1
    assert samples[("redis_errors_total", (("err", "WRONGTYPE"),))] >= 1
    assert samples[("redis_keyspace_hits_total", ())] >= 1
    assert samples[("redis_keyspace_misses_total", ())] >= 1
    assert samples[("redis_connected_clients", ())] >= 1
    client.close()


def test_other_paths_and_methods(metrics_server):
    _, port = metrics_server
    assert http_get(port, "/")[0] == 404
    assert http_get(port, "/metrics", "POST")[0] == 405
    status, headers, body = http_get(port, "/metrics", "HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 0


def test_off_by_default_and_config_set(server, r):
    assert r.config_get("metrics-port") == {"metrics-port": "0"}
    assert "metrics-port" not in r.config_get("*")
    port = free_port()
    r.config_set("metrics-port", port)
    try:
        deadline = time.time() + 5
        while True:
            try:
                status, _, body = http_get(port)
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.05)
        assert status == 200 and "redis_up 1" in body
    finally:
        r.config_set("metrics-port", 0)
    with pytest.raises(OSError):
        http_get(port)
