"""INFO: Redis 7.0's sections and fields in Redis's order, compared with a real redis-server."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.resp_raw import RawConnection
from vermilion import REDIS_VERSION, __version__
from vermilion.info import bytes_to_human, select_sections

# Fields only Vermilion has.
OURS_ONLY = {"vermilion_version"}
# Fields whose values are the same on any idle server started the same way.
DETERMINISTIC = {
    "redis_version", "redis_git_sha1", "redis_git_dirty", "redis_mode", "arch_bits",
    "monotonic_clock", "multiplexing_api", "process_supervised", "hz", "configured_hz",
    "io_threads_active", "config_file", "cluster_connections", "maxclients", "blocked_clients",
    "tracking_clients", "clients_in_timeout_table", "maxmemory", "maxmemory_human",
    "maxmemory_policy", "loading", "async_loading", "rdb_bgsave_in_progress",
    "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec",
    "aof_enabled", "aof_rewrite_in_progress", "aof_last_bgrewrite_status", "aof_last_write_status",
    "role", "master_failover_state", "master_replid2", "second_repl_offset", "repl_backlog_size",
    "cluster_enabled", "pubsub_channels", "pubsub_patterns", "pubsubshard_channels",
    "active_defrag_running", "evicted_clients",
}
# Left out on purpose: the oracle is shared by the whole session, and other tests' commands
# (SYNC/PSYNC, REPLICAOF) create a replication backlog on it, so connected_slaves,
# master_repl_offset, repl_backlog_active, mem_replication_backlog and mem_clients_slaves depend on
# what ran before.
NUMERIC = re.compile(r"-?\d+(\.\d+)?%?")


def parse_info(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(section header, [(field, value), ...]), ...] of an INFO payload, checking its layout."""
    assert text == "" or text.endswith("\r\n")
    sections = []
    for block in text.split("\r\n\r\n") if text else []:
        lines = block.strip("\r\n").split("\r\n")
        assert lines[0].startswith("# "), lines
        fields = []
        for line in lines[1:]:
            assert "\n" not in line and "\r" not in line
            name, _, value = line.partition(":")
            fields.append((name, value))
        sections.append((lines[0][2:], fields))
    return sections


def info_payload(conn: RawConnection, *args: str) -> str:
    reply = conn.call("INFO", *args)
    header_end = reply.index(b"\r\n")
    body = reply[header_end + 2 : -2]
    if reply[:1] == b"=":
        assert body[:4] == b"txt:"
        body = body[4:]
    else:
        assert reply[:1] == b"$"
    assert len(body) == int(reply[1:header_end]) - (4 if reply[:1] == b"=" else 0)
    return body.decode()


@pytest.fixture
def conns(server, fresh_oracle_port):
    # A real Redis of this module's own: INFO compares server-wide state that other tests'
    # commands (SAVE, SYNC, ...) would change on the shared oracle.
    ours, theirs = RawConnection(server.port), RawConnection(fresh_oracle_port)
    yield ours, theirs
    ours.close()
    theirs.close()


def compare(ours_text: str, theirs_text: str, value_exempt=()) -> None:
    ours, theirs = parse_info(ours_text), parse_info(theirs_text)
    assert [h for h, _ in ours] == [h for h, _ in theirs]
    for (header, our_fields), (_, their_fields) in zip(ours, theirs):
        if header in ("Commandstats", "Errorstats", "Latencystats", "Keyspace"):
            continue  # contents depend on what ran before; checked separately
        our_names = [n for n, _ in our_fields if n not in OURS_ONLY]
        assert our_names == [n for n, _ in their_fields], header
        their_values = dict(their_fields)
        for name, value in our_fields:
            if name in OURS_ONLY:
                continue
            if name in DETERMINISTIC and name not in value_exempt:
                assert value == their_values[name], name
            elif their_values[name] and NUMERIC.fullmatch(their_values[name]):
                assert NUMERIC.fullmatch(value), (name, value)


@pytest.mark.parametrize("args", [(), ("default",), ("all",), ("everything",), ("server", "cpu")])
def test_sections_and_fields_match_redis(conns, args):
    ours, theirs = conns
    compare(info_payload(ours, *args), info_payload(theirs, *args))


@pytest.mark.parametrize(
    "args",
    [
        ("server",), ("clients",), ("memory",), ("persistence",), ("stats",), ("replication",),
        ("cpu",), ("modules",), ("module_list",), ("commandstats",), ("errorstats",),
        ("latencystats",), ("cluster",), ("keyspace",), ("SERVER",), ("Keyspace", "cpu"),
        ("nosuch",), ("cpu", "nosuch", "keyspace"), ("cluster", "server"), ("server", "server"),
        ("default", "commandstats"), ("modules", "keyspace"),
    ],
)
def test_section_selection(conns, args):
    ours, theirs = conns
    our_headers = [h for h, _ in parse_info(info_payload(ours, *args))]
    their_headers = [h for h, _ in parse_info(info_payload(theirs, *args))]
    assert our_headers == their_headers


def test_empty_selection_is_an_empty_bulk(diff):
    diff.check("INFO", "nosuch")
    diff.both("HELLO", "3")  # the reply carries each server's own client id
    diff.check("INFO", "nosuch")


def test_resp3_is_verbatim(conns):
    ours, theirs = conns
    ours.call("HELLO", "3")
    theirs.call("HELLO", "3")
    assert ours.call("INFO", "cluster") == theirs.call("INFO", "cluster")
    compare(info_payload(ours), info_payload(theirs))


def test_values(server, conns):
    ours, theirs = conns
    ours.call("SET", "k", "v")
    server_fields = dict(parse_info(info_payload(ours, "server"))[0][1])
    assert server_fields["redis_version"] == REDIS_VERSION
    assert server_fields["vermilion_version"] == __version__
    assert server_fields["tcp_port"] == str(server.port)
    assert re.fullmatch(r"[0-9a-f]{40}", server_fields["run_id"])
    assert server_fields["run_id"] == dict(parse_info(info_payload(ours, "server"))[0][1])["run_id"]
    assert int(server_fields["lru_clock"]) < 1 << 24
    clients = dict(parse_info(info_payload(ours, "clients"))[0][1])
    assert int(clients["connected_clients"]) >= 1
    stats = dict(parse_info(info_payload(ours, "stats"))[0][1])
    assert int(stats["total_connections_received"]) >= 1
    memory = dict(parse_info(info_payload(ours, "memory"))[0][1])
    assert int(memory["used_memory"]) > 0 and int(memory["used_memory_rss"]) > 0
    assert int(memory["used_memory_peak"]) >= int(memory["used_memory"])
    assert memory["used_memory_human"] == bytes_to_human(int(memory["used_memory"]))
    cpu = dict(parse_info(info_payload(ours, "cpu"))[0][1])
    assert float(cpu["used_cpu_user"]) > 0


def test_keyspace_lines(diff):
    diff.check("INFO", "keyspace")
    for args in (("SET", "a", "1"), ("SET", "b", "2"), ("SELECT", "3"), ("SET", "c", "3")):
        diff.check(*args)
    diff.check("INFO", "keyspace")
    diff.check("SELECT", "0")


def test_errorstats_and_commandstats(server, conns):
    ours, _ = conns
    before = dict(parse_info(info_payload(ours, "errorstats"))[0][1])
    ours.call("NOSUCHCOMMAND")
    ours.call("CLIENT", "NOSUCH")
    ours.call("HELLO", "9")
    errorstats = dict(parse_info(info_payload(ours, "errorstats"))[0][1])
    err_before = int(before.get("errorstat_ERR", "count=0")[6:])
    assert errorstats["errorstat_ERR"] == f"count={err_before + 2}"
    assert re.fullmatch(r"count=\d+", errorstats["errorstat_NOPROTO"])
    assert list(errorstats) == sorted(errorstats)
    ours.call("CLIENT", "ID")
    ours.call("ECHO", "x")
    commandstats = dict(parse_info(info_payload(ours, "commandstats"))[0][1])
    pattern = r"calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+"
    assert re.fullmatch(pattern, commandstats["cmdstat_client|id"])
    assert re.fullmatch(pattern, commandstats["cmdstat_echo"])
    assert "failed_calls=0" not in commandstats["cmdstat_hello"]


def test_select_sections_names():
    assert "commandstats" not in select_sections([])
    assert "commandstats" in select_sections([b"all"])
    assert "modules" in select_sections([b"module_list"])
    assert select_sections([b"DEFAULT"]) == select_sections([])


def test_bytes_to_human():
    assert bytes_to_human(0) == "0B"
    assert bytes_to_human(1023) == "1023B"
    assert bytes_to_human(1024) == "1.00K"
    assert bytes_to_human(916872) == "895.38K"
    assert bytes_to_human(6668288) == "6.36M"
    assert bytes_to_human(25276514304) == "23.54G"


def test_redis_py_info(r, r3):
    for client in (r, r3):
        everything = client.info("everything")
        assert everything["redis_version"] == REDIS_VERSION
        assert everything["role"] == "master"
        assert isinstance(everything["used_memory"], int)
        assert client.info("keyspace") == {}
        client.set("k", "v")
        assert client.info("keyspace")["db0"]["keys"] == 1
        client.delete("k")


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_redis_cli_info(server, oracle_port):
    ours = subprocess.run(
        ["redis-cli", "-p", str(server.port), "INFO"], capture_output=True, text=True, timeout=20
    )
    theirs = subprocess.run(
        ["redis-cli", "-p", str(oracle_port), "INFO"], capture_output=True, text=True, timeout=20
    )
    assert ours.returncode == 0, ours.stderr
    our_headers = [line for line in ours.stdout.splitlines() if line.startswith("#")]
    their_headers = [line for line in theirs.stdout.splitlines() if line.startswith("#")]
    assert our_headers == their_headers
    assert f"redis_version:{REDIS_VERSION}" in ours.stdout.splitlines()
    raw_outputs = [
        subprocess.run(
            ["redis-cli", "--raw", "-p", str(port), "INFO", "cluster"],
            capture_output=True, timeout=20,
        ).stdout
        for port in (server.port, oracle_port)
    ]
    assert raw_outputs[0] == raw_outputs[1] == b"# Cluster\r\ncluster_enabled:0\r\n"
