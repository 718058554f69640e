"""Pipelined calls of fast commands are timed as runs (vermilion.connection): the counts, the
slow log and latency tracking must still read as Redis's do."""

from __future__ import annotations

import re
import time

import hiredis

from tests.resp_raw import encode_command
from vermilion.registry import TABLE


def parse(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def pipeline(conn, commands: list[tuple]) -> list:
    """Send every command in one write (one read on the server), return the parsed replies."""
    conn.send_raw(b"".join(encode_command(args) for args in commands))
    return [parse(conn.read_reply()) for _ in commands]


def commandstats_calls(conn) -> dict[str, int]:
    text = parse(conn.call("INFO", "commandstats")).decode()
    return {name: int(calls) for name, calls in re.findall(r"cmdstat_([^:]+):calls=(\d+)", text)}


# One read mixing runs of fast commands (LPUSH, GET, HSET: longer than the 32 calls a run may
# hold, and interrupted by a command that is not fast (SET), by one the gate runs (MULTI/EXEC)
# and by an error.
MIXED = (
    [("LPUSH", "l", str(n)) for n in range(40)]
    + [("GET", "k")] * 3
    + [("SET", "k", "v")]
    + [("GET", "k")] * 70
    + [("MULTI",), ("GET", "k"), ("EXEC",)]
    + [("HSET", "h", "f", "1")] * 5
    + [("LPUSH", "k", "x")]
    + [("HSET", "h", "f", "2")]
)


def test_pipelined_calls_are_counted_as_redis_counts_them(diff):
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "RESETSTAT")
    ours = pipeline(diff.ours, MIXED)
    theirs = pipeline(diff.theirs, MIXED)
    assert [repr(reply) for reply in ours] == [repr(reply) for reply in theirs]
    ours_calls = commandstats_calls(diff.ours)
    theirs_calls = commandstats_calls(diff.theirs)
    for name in ("lpush", "get", "set", "hset", "multi", "exec"):
        assert ours_calls[name] == theirs_calls[name], name
    assert ours_calls["get"] == 74
    text = parse(diff.ours.call("INFO", "commandstats")).decode()
    lpush = re.search(r"cmdstat_lpush:calls=41,usec=(\d+),usec_per_call=[\d.]+,rejected_calls=0,"
                      r"failed_calls=1", text)
    assert lpush, text
    # Each call sits in one histogram bucket: the buckets add up to the calls.
    histogram = parse(diff.ours.call("LATENCY", "HISTOGRAM", "get", "lpush"))
    for name, detail in zip(histogram[::2], histogram[1::2]):
        assert detail[1] == ours_calls[name.decode()]
        assert detail[3][-1] == detail[1]


def logged_by_both(diff, commands: list[tuple], threshold: str) -> tuple[list, list]:
    """The slow log's argv lists (newest first) on each server after ``commands`` ran in one
    read under slowlog-log-slower-than ``threshold``."""
    shown = []
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "SET", "slowlog-log-slower-than", threshold)
        conn.call("SLOWLOG", "RESET")
        try:
            pipeline(conn, commands)
        finally:
            conn.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        entries = parse(conn.call("SLOWLOG", "GET", "-1"))
        conn.call("SLOWLOG", "RESET")
        restore = [b"CONFIG", b"SET", b"slowlog-log-slower-than", b"10000"]
        shown.append([entry[3] for entry in entries
                      if entry[3][0] != b"SLOWLOG" and entry[3] != restore])
    return shown[0], shown[1]


def test_slowlog_threshold_zero_logs_every_pipelined_call(diff):
    commands = [("LPUSH", "l", "a"), ("LPUSH", "l", "b"), ("GET", "k"), ("GET", "k"), ("GET", "k")]
    ours, theirs = logged_by_both(diff, commands, "0")
    assert ours == theirs
    assert [argv[0] for argv in ours] == [b"GET"] * 3 + [b"LPUSH"] * 2


def test_a_stall_inside_a_run_reaches_the_slow_log(diff):
    """A fast command held up (here by a sleep) inside a run of calls is still logged, with
    at least the time it was held up."""
    conn = diff.ours
    conn.call("SLOWLOG", "RESET")
    cmd = TABLE[b"get"]
    original = cmd.handler

    def held_up(client, argv):
        if argv[1] == b"stall":
            time.sleep(0.03)
        return original(client, argv)

    cmd.handler = held_up
    try:
        pipeline(conn, [("GET", "a"), ("GET", "stall"), ("GET", "b")])
    finally:
        cmd.handler = original
    entries = parse(conn.call("SLOWLOG", "GET", "-1"))
    gets = [entry for entry in entries if entry[3][0] == b"GET"]
    assert len(gets) == 1
    assert gets[0][2] >= 30000
    conn.call("SLOWLOG", "RESET")


def test_calls_while_latency_tracking_is_off_still_count(diff):
    for conn in (diff.ours, diff.theirs):
        conn.call("CONFIG", "RESETSTAT")
        conn.call("SET", "a", "1")
        conn.call("CONFIG", "SET", "latency-tracking", "no")
        try:
            conn.call("SET", "a", "2")
            conn.call("GET", "a")
            pipeline(conn, [("GET", "a")] * 4)
        finally:
            conn.call("CONFIG", "SET", "latency-tracking", "yes")
        conn.call("GET", "a")
    ours = commandstats_calls(diff.ours)
    theirs = commandstats_calls(diff.theirs)
    assert (ours["set"], ours["get"]) == (theirs["set"], theirs["get"]) == (2, 6)
    # The histograms hold only what was recorded while tracking was on.
    histogram = parse(diff.ours.call("LATENCY", "HISTOGRAM", "set", "get"))
    recorded = {name: detail[1] for name, detail in zip(histogram[::2], histogram[1::2])}
    assert recorded == {b"set": 1, b"get": 1}


def test_a_threshold_set_inside_a_pipeline_applies_to_the_calls_after_it(diff):
    commands = [("CONFIG", "SET", "slowlog-log-slower-than", "0"), ("GET", "k"), ("GET", "k"),
                ("LPUSH", "l", "a"), ("CONFIG", "SET", "slowlog-log-slower-than", "10000"),
                ("GET", "k")]
    ours, theirs = logged_by_both(diff, commands, "10000")
    assert ours == theirs
    assert [argv[0] for argv in ours] == [b"LPUSH", b"GET", b"GET", b"CONFIG"]
