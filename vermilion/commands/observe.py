"""SLOWLOG, LATENCY and MONITOR (state and formats in vermilion/observe.py)."""

from __future__ import annotations

import time

from .. import errors, info
from ..errors import RedisError
from ..observe import LATENCY_GRAPH_COLS, Observe, cumulative_distribution, percentile_usec
from ..registry import COMMANDS, command
from ..resp.encode import OK, array, bulk, integer, map_, simple, verbatim
from .config_cmd import RESETSTAT_HOOKS
from .connection import RESET_HOOKS, parse_int64, subcommand_syntax_error
from .introspection import lookup_by_full_name



def _help(container: str, lines: list[str]) -> bytes:
    # SLOWLOG and LATENCY end their help with "Prints this help." (not CLIENT's wording).
    heading = f"{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return array([simple(row) for row in [heading, *lines, "HELP", "    Prints this help."]])


def _observe(client) -> Observe:
    return client.server.observe


# -- SLOWLOG -------------------------------------------------------------------------------------


def _slowlog_entry(entry) -> bytes:
    return array([
        integer(entry.id),
        integer(entry.time),
        integer(entry.duration_us),
        array([bulk(arg) for arg in entry.argv]),
        bulk(entry.peer.encode()),
        bulk(entry.name),
    ])


@command("slowlog|get")
def slowlog_get(client, argv):
    if len(argv) > 3:
        raise RedisError(subcommand_syntax_error(argv))
    log = _observe(client).slowlog
    count = 10
    if len(argv) == 3:
        count = parse_int64(argv[2])
        if count is None or count < -1:
            raise RedisError(errors.SLOWLOG_COUNT)
        if count == -1:
            count = len(log)
    entries = list(log)[:count]
    return array([_slowlog_entry(entry) for entry in entries])


@command("slowlog|len")
def slowlog_len(client, argv):
    return integer(len(_observe(client).slowlog))


@command("slowlog|reset")
def slowlog_reset(client, argv):
    _observe(client).slowlog.clear()
    return OK


@command("slowlog|help")
def slowlog_help(client, argv):
    return _help("SLOWLOG", [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ])


# -- LATENCY ------------------------------------------------------------------------------------


@command("latency|latest")
def latency_latest(client, argv):
    rows = []
    for event, series in _observe(client).latency_events.items():
        last_time, last_latency = series.samples[-1]
        rows.append(array([bulk(event.encode()), integer(last_time), integer(last_latency),
                           integer(series.max)]))
    return array(rows)


@command("latency|history")
def latency_history(client, argv):
    series = _observe(client).latency_events.get(argv[2].decode("latin-1"))
    if series is None:
        return array([])
    return array([array([integer(when), integer(latency)]) for when, latency in series.samples])


@command("latency|reset")
def latency_reset(client, argv):
    events = _observe(client).latency_events
    if len(argv) == 2:
        resets = len(events)
        events.clear()
        return integer(resets)
    resets = 0
    for raw in argv[2:]:
        wanted = raw.decode("latin-1").lower()
        for event in [e for e in events if e.lower() == wanted]:
            del events[event]
            resets += 1
    return integer(resets)


_SPARK_CHARS = "_o#"


def sparkline(values: list[int], labels: list[str], columns: int = LATENCY_GRAPH_COLS, rows: int = 4) -> str:
    """Redis's filled ASCII sparkline: ``rows`` rows of 3 levels each, then the labels written
    downwards under their column after one blank line; wrapped every ``columns`` samples."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    levels = len(_SPARK_CHARS) * rows
    out = []
    for start in range(0, len(values), columns):
        if start:
            out.append("\n")
        chunk = range(start, min(start + columns, len(values)))
        steps = []
        for index in chunk:
            step = int(int((values[index] - low) * levels) / span)
            steps.append(min(max(step, 0), levels - 1))
        for row in range(rows):
            line = []
            for step in steps:
                level = step - (rows - row - 1) * len(_SPARK_CHARS)
                if 0 <= level < len(_SPARK_CHARS):
                    line.append(_SPARK_CHARS[level])
                elif level >= len(_SPARK_CHARS):
                    line.append("|")
                else:
                    line.append(" ")
            out.append("".join(line) + "\n")
        if any(labels[index] for index in chunk):
            out.append(" " * len(steps) + "\n")
            depth = 0
            while True:
                line = [labels[index][depth] if depth < len(labels[index]) else " " for index in chunk]
                if all(depth >= len(labels[index]) for index in chunk):
                    break
                out.append("".join(line) + "\n")
                depth += 1
    return "".join(out)


def _ago(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


@command("latency|graph")
def latency_graph(client, argv):
    event = argv[2].decode("latin-1")
    series = _observe(client).latency_events.get(event)
    if series is None:
        raise RedisError(f"ERR No samples available for event '{event}'")
    now = int(time.time())
    values = [latency for _, latency in series.samples]
    labels = [_ago(now - when) for when, _ in series.samples]
    text = (f"{event} - high {max(values)} ms, low {min(values)} ms (all time high {series.max} ms)\n"
            + "-" * LATENCY_GRAPH_COLS + "\n" + sparkline(values, labels))
    return verbatim(text.encode(), client.resp3)


DOCTOR_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
    "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep "
    "space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
)
DOCTOR_OPENING = ("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, "
                  "do you Dave?\n\n")
DOCTOR_QUIET = ("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the "
                "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think "
                "things over.\n")
DOCTOR_NO_ADVICE = ("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
                    "the Redis community to get some help, providing this report in your help request.\n")

# Advice in our own words, in the order Redis gives its advice; the key names the condition.
_ADVICE = {
    "slowlog_enable": "- Commands that may be slow cause latency here, and the slow log is off: turn it on with "
                      "'CONFIG SET slowlog-log-slower-than {micros}' to see which ones.",
    "slowlog_tune": "- The slow log only records commands slower than the latency monitor threshold; use "
                    "'CONFIG SET slowlog-log-slower-than {micros}' to see the commands behind these spikes.",
    "slowlog_inspect": "- Look at SLOWLOG GET to find the commands that take too long "
                       "(https://redis.io/commands/slowlog).",
    "scheduler": "- Even commands with no system calls ran slowly: the process is not getting the CPU. Lower "
                 "the load of the machine, give the server a machine of its own, look for noisy neighbours, "
                 "and measure with 'redis-cli --intrinsic-latency 100'.",
    "local_disk": "- Keep persistence files on local disks: network disks are slow to write and fsync.",
    "ssd": "- Faster disks (SSD) shorten fsync and rewrite times; consider them once the rest is ruled out.",
    "data_writeback": "- Mounting ext3/4 with data=writeback may speed up writes, at the price of weaker "
                      "guarantees after a crash (the AOF may then need repairing).",
    "disk_contention": "- Other processes compete for the disk: reduce disk activity on this machine.",
    "no_appendfsync": "- If your data safety needs allow it, set 'no-appendfsync-on-rewrite yes' so that no "
                      "fsync happens while a rewrite or snapshot writes to the disk.",
    "relax_fsync": "- 'appendfsync always' makes every write wait for the disk; 'everysec' is much faster.",
    "write_load": "- A heavy write load makes the final AOF rewrite steps slow; send fewer, larger commands "
                  "(or group them in scripts).",
    "hz": "- Raise 'hz' (for instance 'CONFIG SET hz 100') so that keys expire in smaller steps.",
    "large_objects": "- Deleting, expiring or evicting very large values blocks the server; split such values "
                     "into several smaller keys.",
    "mass_eviction": "- Sudden memory pressure (a lower 'maxmemory', large set operations, SORT STORE, "
                     "RESTORE of big keys) makes the server evict many keys at once.",
    "thp": "- Transparent huge pages are in use by this process: they cause latency spikes, notably while "
           "persisting. Disable them ('echo never > /sys/kernel/mm/transparent_hugepage/enabled') and "
           "restart the server.",
}
_EVENT_ADVICE = {
    "fast-command": ("scheduler",),
    "aof-write-pending-fsync": ("local_disk", "disk_contention", "ssd", "data_writeback"),
    "aof-write-active-child": ("no_appendfsync", "data_writeback", "ssd"),
    "aof-write-alone": ("local_disk", "data_writeback", "ssd"),
    "aof-fsync-always": ("relax_fsync",),
    "aof-fstat": ("disk_contention", "local_disk"),
    "rdb-unlink-temp-file": ("disk_contention", "local_disk"),
    "aof-rewrite-diff-write": ("write_load", "data_writeback", "ssd", "local_disk"),
    "aof-rename": ("write_load", "data_writeback", "ssd", "local_disk"),
    "expire-cycle": ("hz", "large_objects"),
    "eviction-del": ("large_objects",),
    "eviction-cycle": ("mass_eviction",),
}


def _anon_huge_pages() -> int:
    try:
        with open("/proc/self/smaps_rollup") as smaps:
            for line in smaps:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def latency_report(server) -> str:
    """LATENCY DOCTOR: each event's statistics (as Redis words them), then advice."""
    events = server.observe.latency_events
    config = server.config
    if not events and not config.latency_monitor_threshold:
        return DOCTOR_DISABLED
    now = int(time.time())
    parts = []
    advice: set[str] = set()
    for number, (event, series) in enumerate(events.items(), 1):
        if number == 1:
            parts.append(DOCTOR_OPENING)
        values = [latency for _, latency in series.samples]
        count = len(values)
        average = sum(values) // count
        deviation = sum(abs(average - value) for value in values) // count
        period = max(1, now - min(when for when, _ in series.samples))
        parts.append(f"{number}. {event}: {count} latency spikes (average {average}ms, mean deviation "
                     f"{deviation}ms, period {period / count:.2f} sec). Worst all time event {series.max}ms.")
        if event.lower() == "command":
            slower_than = config.slowlog_log_slower_than
            if slower_than < 0:
                advice.add("slowlog_enable")
            elif slower_than // 1000 > config.latency_monitor_threshold:
                advice.add("slowlog_tune")
            advice.update(("slowlog_inspect", "large_objects"))
        advice.update(_EVENT_ADVICE.get(event.lower(), ()))
        parts.append("\n")
    if "hz" in advice and config.hz >= 100:
        advice.discard("hz")
    if "relax_fsync" in advice and getattr(config, "appendfsync", "") != "always":
        advice.discard("relax_fsync")
    if _anon_huge_pages() > 0:
        advice.add("thp")
    if not events and not advice:
        parts.append(DOCTOR_QUIET)
    elif not advice:
        parts.append(DOCTOR_NO_ADVICE)
    else:
        parts.append("\nI have a few advices for you:\n\n")
        micros = config.latency_monitor_threshold * 1000
        for key, text in _ADVICE.items():
            if key in advice:
                parts.append(text.format(micros=micros) + "\n")
    return "".join(parts)


@command("latency|doctor")
def latency_doctor(client, argv):
    return verbatim(latency_report(client.server).encode(), client.resp3)


def _histogram_reply(histogram: list[int], resp3: bool) -> bytes:
    rows = cumulative_distribution(histogram)
    calls = rows[-1][1] if rows else 0
    buckets = map_([(integer(bound), integer(count)) for bound, count in rows], resp3)
    return map_([(bulk(b"calls"), integer(calls)), (bulk(b"histogram_usec"), buckets)], resp3)


@command("latency|histogram")
def latency_histogram(client, argv):
    observe = _observe(client)
    if len(argv) == 2:
        candidates = list(COMMANDS.values())
    else:
        candidates = []
        for name in argv[2:]:
            cmd = lookup_by_full_name(name)
            if cmd is None:
                continue
            if cmd.subcommands:
                candidates.extend(dict.fromkeys(cmd.subcommands.values()))
            else:
                candidates.append(cmd)
    pairs = []
    for cmd in dict.fromkeys(candidates):
        histogram = observe.histogram_of(cmd)
        if histogram is not None:
            pairs.append((bulk(cmd.full_name.encode()), _histogram_reply(histogram, client.resp3)))
    return map_(pairs, client.resp3)


@command("latency|help")
def latency_help(client, argv):
    return _help("LATENCY", [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ])


# -- MONITOR ------------------------------------------------------------------------------------


@command("monitor")
def monitor(client, argv):
    if client.multi is not None:
        # Inside EXEC: the client expects one reply per command (Redis's CLIENT_DENY_BLOCKING).
        raise RedisError(errors.MONITOR_DENY_BLOCKING)
    observe = _observe(client)
    if client in observe.monitors:
        return None
    observe.add_monitor(client)
    return OK


def _end_monitoring(client) -> None:
    # RESET leaves monitor mode, as in Redis.
    client.server.observe.remove_monitor(client)


RESET_HOOKS.append(_end_monitoring)


def _reset_histograms(server) -> None:
    server.observe.reset_histograms()


RESETSTAT_HOOKS.append(_reset_histograms)

_other_flags = info.CLIENT_GAUGES.get("flags")


def _client_flags(client) -> str:
    letters = _other_flags(client) if _other_flags is not None else ""
    if client in client.server.observe.monitors:
        letters += "O"
    return letters


info.CLIENT_GAUGES["flags"] = _client_flags


# -- INFO latencystats -----------------------------------------------------------------------------


def _percentile_name(value: float) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def section_latencystats(server) -> list[str]:
    if not server.config.latency_tracking:
        return []
    percentiles = server.config.latency_tracking_info_percentiles
    lines = []
    for cmd in COMMANDS.values():
        histogram = server.observe.histogram_of(cmd)
        if histogram is None:
            continue
        figures = ",".join(f"p{_percentile_name(p)}={percentile_usec(histogram, p):.3f}" for p in percentiles)
        lines.append(f"latency_percentiles_usec_{cmd.full_name}:{figures}")
    return lines


info.SECTIONS["latencystats"] = ("Latencystats", section_latencystats)
