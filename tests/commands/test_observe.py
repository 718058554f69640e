"""SLOWLOG, MONITOR, LATENCY and INFO latencystats, compared with a real redis-server."""

from __future__ import annotations

import re
import time

import hiredis
import pytest

from tests.resp_raw import RawConnection


def parse(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


@pytest.fixture
def both(diff):
    """diff with the slow log logging everything on both servers (restored afterwards)."""
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        conn.call("SLOWLOG", "RESET")
    yield diff
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        conn.call("CONFIG", "SET", "slowlog-max-len", "128")
        conn.call("CONFIG", "SET", "latency-monitor-threshold", "0")
        conn.call("SLOWLOG", "RESET")
        conn.call("LATENCY", "RESET")


def normalized_slowlog(conn: RawConnection, count: str = "-1") -> list:
    """SLOWLOG GET with what differs between servers (ids, times, durations, ports) masked."""
    entries = parse(conn.call("SLOWLOG", "GET", count))
    shown = []
    for entry_id, when, duration, argv, peer, name in entries:
        assert isinstance(entry_id, int) and isinstance(duration, int)
        assert abs(when - time.time()) < 5
        host = peer.rsplit(b":", 1)[0]
        shown.append((argv, host, name))
    return shown


def test_slowlog_help_and_errors(diff):
    diff.run("""
        SLOWLOG HELP
        SLOWLOG GET -2
        SLOWLOG GET x
        SLOWLOG GET 1 2
        SLOWLOG GET 9223372036854775808
        SLOWLOG LEN x
        SLOWLOG RESET x
        SLOWLOG FOO
        SLOWLOG
        slowlog help
    """)


def test_slowlog_entries_match_redis(both):
    for conn in (both.ours, both.theirs):
        conn.call("SET", "k", "v")
        conn.call("CLIENT", "SETNAME", "worker")
        conn.call("GET", "k")
        conn.call("SET", "big", "x" * 200)
        conn.call("DEL", *[f"key{i}" for i in range(40)])
        conn.call("AUTH", "secret")
        conn.call("HELLO", "2", "AUTH", "default", "pw")
        conn.call("CLIENT", "SETNAME", "")
    assert normalized_slowlog(both.ours) == normalized_slowlog(both.theirs)
    both.check("SLOWLOG", "GET", "0")
    ours, theirs = parse(both.ours.call("SLOWLOG", "GET", "2")), parse(both.theirs.call("SLOWLOG", "GET", "2"))
    assert len(ours) == len(theirs) == 2
    assert both.ours.call("SLOWLOG", "LEN") == both.theirs.call("SLOWLOG", "LEN")


def test_slowlog_truncates_long_arguments(both):
    for conn in (both.ours, both.theirs):
        conn.call("SLOWLOG", "RESET")
        conn.call("MSET", *[f"k{i}" for i in range(50)])
        conn.call("SET", "k", "é" * 100)
    ours = normalized_slowlog(both.ours)
    assert ours == normalized_slowlog(both.theirs)
    assert ours[1][0][-1] == b"... (20 more arguments)"
    assert ours[0][0][-1].endswith(b"... (72 more bytes)")


def test_slowlog_transactions_and_scripts(both):
    for conn in (both.ours, both.theirs):
        conn.call("SLOWLOG", "RESET")
        conn.call("MULTI")
        conn.call("SET", "a", "1")
        conn.call("INCR", "a")
        conn.call("EXEC")
        conn.call("EVAL", "redis.call('set','x','y') return redis.call('get','x')", "0")
    ours = normalized_slowlog(both.ours)
    assert ours == normalized_slowlog(both.theirs)
    assert [argv[0] for argv, _, _ in ours][:3] == [b"EVAL", b"get", b"set"]
    assert ours[1][1] == b"?"  # the script client has no address: "?:0"
    assert b"EXEC" not in [argv[0] for argv, _, _ in ours]


def test_slowlog_max_len_and_reset(both):
    for conn in (both.ours, both.theirs):
        conn.call("CONFIG", "SET", "slowlog-max-len", "3")
        for i in range(6):
            conn.call("SET", f"k{i}", "v")
    both.check("SLOWLOG", "LEN")
    assert normalized_slowlog(both.ours) == normalized_slowlog(both.theirs)
    both.check("SLOWLOG", "RESET")
    both.check("SLOWLOG", "LEN")
    for conn in (both.ours, both.theirs):
        conn.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        conn.call("SLOWLOG", "RESET")
        conn.call("SET", "k", "v")
    both.check("SLOWLOG", "LEN")
    both.check("SLOWLOG", "GET")


def test_slowlog_threshold_in_microseconds(server, r):
    r.config_set("slowlog-log-slower-than", 20000)
    try:
        r.slowlog_reset()
        r.execute_command("DEBUG", "SLEEP", "0.03")
        r.execute_command("DEBUG", "SLEEP", "0")
        entries = r.slowlog_get()
        assert [e["command"] for e in entries] == [b"DEBUG SLEEP 0.03"]
        assert entries[0]["duration"] >= 20000
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
        r.slowlog_reset()


# -- MONITOR --------------------------------------------------------------------------------------

_MONITOR_PREFIX = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]*)\] ")


def monitor_lines(port: int, script, count: int) -> list[bytes]:
    watcher = RawConnection(port)
    assert watcher.call("MONITOR") == b"+OK\r\n"
    worker = RawConnection(port)
    try:
        script(worker)
        lines = []
        for _ in range(count):
            line = watcher.read_reply()
            match = _MONITOR_PREFIX.match(line)
            assert match, line
            assert abs(int(match.group(1)) - time.time()) < 5
            origin = match.group(4)
            if origin != b"lua":
                origin = origin.rsplit(b":", 1)[0]
            lines.append(b"[%s %s] " % (match.group(3), origin) + line[match.end():])
        watcher.call("RESET")
        return lines
    finally:
        watcher.close()
        worker.close()


def _monitored_session(conn: RawConnection) -> None:
    conn.call("SELECT", "2")
    conn.call("SET", "k", 'v\x01"\n\\')
    conn.call("MULTI")
    conn.call("INCR", "n")
    conn.call("GET", "k")
    conn.call("EXEC")
    conn.call("EVAL", "redis.call('set','x','y') return redis.call('get','x')", "0")
    conn.call("AUTH", "foo")
    conn.call("HELLO", "2", "AUTH", "default", "pw")
    conn.call("CONFIG", "GET", "maxmemory")  # admin: never shown
    conn.call("GET")  # rejected before it runs: not shown
    conn.call("LPUSH", "k", "x")  # fails while running: shown
    conn.call("CLIENT", "SETNAME", "nm")
    conn.call("FLUSHALL")
    conn.call("SELECT", "0")


def test_monitor_lines_match_redis(server, oracle_port):
    ours = monitor_lines(server.port, _monitored_session, 14)
    theirs = monitor_lines(oracle_port, _monitored_session, 14)
    assert ours == theirs
    assert b'[2 lua] "set" "x" "y"\r\n' in ours
    assert b'"AUTH" "(redacted)"\r\n' in ours[9]


def test_monitor_client_rules(diff):
    for conn in (diff.ours, diff.theirs):
        assert conn.call("MONITOR") == b"+OK\r\n"
    diff.check("GET", "a")
    diff.check("SET", "a", "b")
    for conn in (diff.ours, diff.theirs):
        assert conn.call("RESET") == b"+RESET\r\n"
    diff.check("GET", "a")
    diff.run("""
        MULTI
        MONITOR
        EXEC
    """)


def test_monitor_flag_and_no_cost_when_gone(server, r):
    watcher = RawConnection(server.port)
    assert watcher.call("MONITOR") == b"+OK\r\n"
    listed = r.execute_command("CLIENT", "LIST").decode()
    assert re.search(r"flags=O .*cmd=monitor", listed)
    watcher.close()
    deadline = time.time() + 5
    while server.observe.monitors and time.time() < deadline:
        time.sleep(0.01)
    assert not server.observe.monitors
    from vermilion.registry import lookup

    assert not lookup(b"get").gated


# -- LATENCY --------------------------------------------------------------------------------------


def test_latency_help_and_errors(diff):
    diff.run("""
        LATENCY HELP
        LATENCY FOO
        LATENCY
        LATENCY HISTORY
        LATENCY GRAPH
        LATENCY LATEST x
        LATENCY HELP x
        LATENCY RESET
        LATENCY RESET a b
        LATENCY LATEST
        LATENCY HISTORY command
        LATENCY GRAPH command
        LATENCY GRAPH nosuch-event
    """)


def test_latency_monitor_events(both):
    for conn in (both.ours, both.theirs):
        conn.call("CONFIG", "SET", "latency-monitor-threshold", "5")
        conn.call("LATENCY", "RESET")
        conn.call("DEBUG", "SLEEP", "0.02")
    ours = parse(both.ours.call("LATENCY", "LATEST"))
    theirs = parse(both.theirs.call("LATENCY", "LATEST"))
    assert [row[0] for row in ours] == [row[0] for row in theirs] == [b"command"]
    name, when, latency, worst = ours[0]
    assert abs(when - time.time()) < 5 and 20 <= latency == worst < 1000
    history = parse(both.ours.call("LATENCY", "HISTORY", "command"))
    assert len(history) == 1 and history[0][1] == latency
    graph = parse(both.ours.call("LATENCY", "GRAPH", "command")).decode()
    assert graph.startswith(f"command - high {latency} ms, low {latency} ms (all time high {latency} ms)\n" + "-" * 80)
    their_graph = parse(both.theirs.call("LATENCY", "GRAPH", "command")).decode()
    assert re.sub(r"\d+", "N", graph) == re.sub(r"\d+", "N", their_graph)
    both.check("LATENCY", "RESET", "COMMAND")
    both.check("LATENCY", "LATEST")


def test_sparkline_shape():
    from vermilion.commands.observe import sparkline

    text = sparkline([1, 5, 10], ["3s", "2s", "1s"])
    rows = text.split("\n")
    assert rows[:4] == ["  #", "  |", " #|", "_||"]
    assert rows[4] == "   " and rows[5] == "321" and rows[6] == "sss"


def test_latency_histogram(diff):
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "RESETSTAT")
        conn.call("SET", "a", "1")
        conn.call("SET", "a", "2")
        conn.call("GET", "a")
    for args in (("SET", "GET", "nosuch"), ("CONFIG",), ()):
        ours = parse(diff.ours.call("LATENCY", "HISTOGRAM", *args))
        theirs = parse(diff.theirs.call("LATENCY", "HISTOGRAM", *args))
        names = lambda reply: sorted(reply[::2])  # noqa: E731
        assert names(ours) == names(theirs)
        for name, detail in zip(ours[::2], ours[1::2]):
            assert detail[0] == b"calls" and detail[2] == b"histogram_usec"
            bounds = detail[3][::2]
            assert bounds == sorted(bounds) and detail[3][-1] == detail[1]
    ours = parse(diff.ours.call("LATENCY", "HISTOGRAM", "SET"))
    assert ours[1][1] == 2


def test_latencystats_info(server, r):
    raw = RawConnection(server.port)

    def info_text() -> str:
        return parse(raw.call("INFO", "latencystats")).decode()

    r.config_resetstat()
    r.set("a", "1")
    text = info_text()
    line = next(row for row in text.split("\r\n") if row.startswith("latency_percentiles_usec_set:"))
    assert re.fullmatch(r"latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", line)
    r.config_set("latency-tracking-info-percentiles", "0 12.5 100")
    try:
        text = info_text()
        assert re.search(r"latency_percentiles_usec_set:p0=[\d.]+,p12\.5=[\d.]+,p100=[\d.]+\r\n", text)
        r.config_set("latency-tracking", "no")
        assert info_text() == "# Latencystats\r\n"
        r.set("a", "2")
        r.config_set("latency-tracking", "yes")
        histogram = r.execute_command("LATENCY", "HISTOGRAM", "set")
        assert histogram[1][1] == 1  # nothing was recorded while tracking was off
    finally:
        raw.close()
        r.config_set("latency-tracking", "yes")
        r.config_set("latency-tracking-info-percentiles", "50 99 99.9")


def test_client_list_fields_match_redis(diff):
    ours = diff.ours.call("CLIENT", "INFO")
    theirs = diff.theirs.call("CLIENT", "INFO")
    names = lambda raw: [field.split(b"=", 1)[0] for field in parse(raw).split()]  # noqa: E731
    assert names(ours) == names(theirs)


# -- client eviction -------------------------------------------------------------------------------


def _evicted_clients(conn: RawConnection) -> int:
    text = parse(conn.call("INFO", "stats")).decode()
    return int(re.search(r"evicted_clients:(\d+)", text).group(1))


@pytest.fixture(scope="module")
def own_server():
    """A Vermilion of this module's own: evicted_clients is server-wide state other tests check."""
    from vermilion.testing import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_maxmemory_clients_evicts_the_biggest_client(own_server, fresh_oracle_port, side):
    port = own_server.port if side == "ours" else fresh_oracle_port
    admin = RawConnection(port)
    admin.call("CLIENT", "NO-EVICT", "on")
    before = _evicted_clients(admin)
    admin.call("CONFIG", "SET", "maxmemory-clients", "1")  # taken as the 128 KiB minimum
    protected = RawConnection(port)
    hog = RawConnection(port)
    try:
        assert protected.call("CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
        # A request of which only the first 300 kB arrived: held in the query buffer.
        hog.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n" + b"x" * 300_000)
        assert hog.closed_by_peer(timeout=5)
        assert _evicted_clients(admin) == before + 1
        assert protected.call("PING") == b"+PONG\r\n"
    finally:
        admin.call("CONFIG", "SET", "maxmemory-clients", "0")
        admin.close()
        protected.close()
        hog.close()


def test_latency_doctor(both):
    both.check("LATENCY", "DOCTOR")  # monitoring off and nothing recorded: Redis's fixed answer
    for conn in (both.ours, both.theirs):
        conn.call("CONFIG", "SET", "latency-monitor-threshold", "5")
        conn.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        conn.call("DEBUG", "SLEEP", "0.02")
    ours = parse(both.ours.call("LATENCY", "DOCTOR")).decode()
    theirs = parse(both.theirs.call("LATENCY", "DOCTOR")).decode()
    # The statistics lines are Redis's; the advice is worded differently (docs/extensions.md).
    assert ours.split("\n")[:2] == theirs.split("\n")[:2]
    assert re.sub(r"\d+", "N", ours.split("\n")[2]) == re.sub(r"\d+", "N", theirs.split("\n")[2])
    assert re.match(r"1\. command: 1 latency spikes \(average \d+ms, mean deviation 0ms, period 1\.00 sec\)\. "
                    r"Worst all time event \d+ms\.", ours.split("\n")[2])
    assert "slowlog-log-slower-than 5000" in ours


# -- INFO stats counters ---------------------------------------------------------------------------

_COUNTED = ("keyspace_hits", "keyspace_misses", "expired_keys", "total_error_replies", "evicted_keys",
            "total_commands_processed", "dump_payload_sanitizations")


def _stat_counters(conn: RawConnection) -> dict[str, int]:
    text = parse(conn.call("INFO", "stats")).decode()
    return {name: int(re.search(rf"^{name}:(\d+)", text, re.M).group(1)) for name in _COUNTED}


def test_stats_counters_move_like_redis(diff):
    deltas = []
    for conn in (diff.ours, diff.theirs):
        before = _stat_counters(conn)
        for command in (("SET", "a", "1"), ("GET", "a"), ("GET", "nope"), ("MGET", "a", "nope", "a"),
                        ("EXISTS", "a", "nope"), ("HGET", "nope", "f"), ("LPUSH", "a", "x"), ("NOSUCH",),
                        ("SET", "e", "1", "PX", "1")):
            conn.call(*command)
        time.sleep(0.01)
        for command in (("GET", "e"), ("TYPE", "a"), ("STRLEN", "nope"), ("INCR", "a"), ("APPEND", "a", "z"),
                        ("SCARD", "nope"), ("OBJECT", "ENCODING", "a"), ("TTL", "a"), ("RENAME", "a", "c"),
                        ("SORT", "nope")):
            conn.call(*command)
        after = _stat_counters(conn)
        deltas.append({name: after[name] - before[name] for name in _COUNTED})
    assert deltas[0] == deltas[1]
