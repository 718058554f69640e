"""vermilion-benchmark: redis-benchmark 7.0's options, test names and output, and its histogram."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli.conftest import VERMILION_BENCHMARK, require_binary, run
from vermilion.benchmark import gen_random_data
from vermilion.benchmark.hdr import HdrHistogram


def bench(port: int, *args: str, stdin: bytes = b""):
    return run(VERMILION_BENCHMARK, ["-p", str(port), *args], stdin=stdin, timeout=60)


def redis_bench(port: int, *args: str):
    return run([require_binary("redis-benchmark")], ["-p", str(port), *args], timeout=60)


def final_lines(output: bytes) -> list[str]:
    """The lines that stay on the screen: progress lines end with \\r and are overwritten."""
    lines = []
    for line in output.decode().split("\n"):
        lines.append(line.split("\r")[-1])
    return lines


QUIET = re.compile(r"^(.+): \d+\.\d\d requests per second, p50=\d+\.\d{3} msec$")
CSV_ROW = re.compile(r'^"([^"]+)"(,"\d+\.\d+"){7}$')


def test_default_test_names_match_redis_benchmark(oracle_port):
    ours = [m.group(1) for line in final_lines(bench(oracle_port, "-n", "100", "-c", "5", "-q").out)
            if (m := QUIET.match(line))]
    theirs = [m.group(1) for line in final_lines(redis_bench(oracle_port, "-n", "100", "-c", "5", "-q").out)
              if (m := QUIET.match(line))]
    assert ours == theirs
    assert ours[:4] == ["PING_INLINE", "PING_MBULK", "SET", "GET"] and ours[-1] == "MSET (10 keys)"


def test_csv_output(oracle_port):
    ours = bench(oracle_port, "-t", "ping,set,get,lrange_100,xadd", "-n", "300", "--csv")
    theirs = redis_bench(oracle_port, "-t", "ping,set,get,lrange_100", "-n", "300", "--csv")
    our_lines = ours.out.decode().splitlines()
    their_lines = theirs.out.decode().splitlines()
    assert our_lines[0] == their_lines[0]  # the header
    assert all(CSV_ROW.match(line) for line in our_lines[1:]), our_lines
    names = [CSV_ROW.match(line).group(1) for line in our_lines[1:]]
    assert names[:-1] == [CSV_ROW.match(line).group(1) for line in their_lines[1:]]
    assert names[-1] == "XADD"  # not in the default list, available with -t
    assert b"rps=" not in ours.out  # no progress line in CSV mode


def _shape(line: str) -> str:
    """A line with its numbers masked (and the padding that depends on their width)."""
    return re.sub(r" +", " ", re.sub(r"\d+(\.\d+)?", "N", line))


def test_full_report_has_redis_benchmarks_shape(oracle_port):
    args = ["-t", "get", "-n", "2000", "-c", "10"]
    ours = final_lines(bench(oracle_port, *args).out)
    theirs = final_lines(redis_bench(oracle_port, *args).out)

    def skeleton(lines):  # everything but the per-bucket lines, numbers masked
        return [_shape(line) for line in lines if line.strip() and "<=" not in line]

    assert skeleton(ours) == skeleton(theirs)
    percentiles = [line for line in ours if "% <=" in line]
    assert percentiles[0].startswith("0.000% <= ")
    assert any(line.startswith("100.000% <= ") and line.endswith("(cumulative count 2000)") for line in percentiles)
    assert "  2000 requests completed in " in "\n".join(ours)


def test_against_vermilion(server):
    port = server.port
    quiet = final_lines(bench(port, "-t", "set,get,incr,lpush,rpop,sadd,hset,zadd,mset", "-n", "500", "-q").out)
    assert [QUIET.match(line).group(1) for line in quiet if QUIET.match(line)] == [
        "SET", "GET", "INCR", "LPUSH", "RPOP", "SADD", "HSET", "ZADD", "MSET (10 keys)"]


def test_options_reach_the_server(server):
    port = server.port
    import redis

    client = redis.Redis(port=port)
    client.flushall()
    out = bench(port, "-r", "50", "-n", "400", "-c", "4", "-P", "4", "-q", "SET", "k:__rand_int__", "v")
    assert out.rc == 0
    keys = client.keys("k:*")
    assert 1 < len(keys) <= 50 and all(re.fullmatch(rb"k:\d{12}", key) for key in keys)
    assert bench(port, "--dbnum", "3", "-n", "10", "-q", "SET", "in-db3", "x").rc == 0
    assert redis.Redis(port=port, db=3).get("in-db3") == b"x"
    assert bench(port, "-x", "-n", "5", "-q", "SET", "from-stdin", stdin=b"payload").rc == 0
    assert client.get("from-stdin") == b"payload"
    assert bench(port, "-k", "0", "-n", "20", "-c", "2", "-q", "PING").rc == 0
    resp3 = bench(port, "-3", "-n", "50", "-q", "HGETALL", "nohash")
    assert QUIET.match(final_lines(resp3.out)[0])
    threaded = bench(port, "--threads", "2", "-n", "1000", "-c", "6", "-t", "get")
    assert "  multi-thread: yes" in final_lines(threaded.out)
    assert "  threads: 2" in final_lines(threaded.out)
    assert "  1000 requests completed in " in threaded.out.decode()
    errors = bench(port, "-e", "-n", "20", "-c", "1", "-q", "NOSUCHCOMMAND")
    assert "Error from server: ERR unknown command 'NOSUCHCOMMAND'" in errors.out.decode()


def test_option_errors_and_idle_mode(server):
    invalid = bench(server.port, "--bogus")
    assert invalid.rc == 1 and invalid.out.startswith(b'Invalid option "--bogus" or option argument missing\n\n')
    assert bench(server.port, "-n").rc == 1
    refused = run(VERMILION_BENCHMARK, ["-p", "1", "-n", "10", "-t", "ping"])
    assert refused.rc == 1
    assert b"Could not connect to Redis at 127.0.0.1:1: Connection refused" in refused.err
    process = subprocess.Popen(VERMILION_BENCHMARK + ["-p", str(server.port), "-I", "-c", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=10)
    assert out.startswith(b"Creating 3 idle connections and waiting forever (Ctrl+C when done)\n")
    assert b"clients: 3\r" in out


def test_payload_is_redis_benchmarks():
    # redis-benchmark fills values from a fixed linear congruential sequence (-d 3 sets "VXK").
    assert gen_random_data(3) == b"VXK"
    assert gen_random_data(20) == b"VXKeHogKgJ=[5V9_X^b?"
    assert len(set(gen_random_data(64))) > 10


# -- the histogram -------------------------------------------------------------------------------


def test_histogram_layout_matches_hdr_histogram():
    histogram = HdrHistogram(10, 3_000_000, 3)
    assert histogram.counts_len == 10240
    assert histogram.lowest_equivalent(100) == 96 and histogram.highest_equivalent(100) == 103
    assert histogram.highest_equivalent(263) == 263
    assert histogram.highest_equivalent(20_000) == 20_015  # from 16 ms on, buckets of 16 us
    for value in (100, 200, 300):
        histogram.record(value)
    assert list(histogram.percentiles()) == [(0.0, 103, 1), (50.0, 207, 2), (75.0, 303, 3), (100.0, 303, 3)]
    assert histogram.min() == 96 and histogram.max() == 303
    assert histogram.value_at_percentile(50) == 207
    linear = list(histogram.linear(100, widen_after=2000, widened_units=1000))
    assert linear == [(103, 1), (207, 2), (303, 3)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=10, max_value=3_000_000), min_size=1, max_size=300))
def test_histogram_iterators_are_consistent(values):
    histogram = HdrHistogram(10, 3_000_000, 3)
    for value in values:
        histogram.record(value)
    total = len(values)
    report = list(histogram.percentiles())
    assert report[0][0] == 0.0 and report[-1] == (100.0, histogram.max(), total)
    assert all(a[1] <= b[1] and a[2] <= b[2] and a[0] < b[0] for a, b in zip(report, report[1:]))
    for percentile, value, cumulative in report[:-1]:
        # Every reported value covers at least the reported share of the samples.
        assert sum(1 for v in values if histogram.lowest_equivalent(v) <= value) >= cumulative
        assert cumulative * 100.0 / total >= percentile
    steps = list(histogram.linear(100, widen_after=2000, widened_units=1000))
    assert steps[-1][1] == total
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(steps, steps[1:]))
    assert histogram.value_at_percentile(100) == histogram.max()
    assert histogram.min() == histogram.lowest_equivalent(min(values))
