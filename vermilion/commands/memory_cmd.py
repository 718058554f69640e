"""MEMORY: per-key usage, the server's memory figures, the doctor's report, allocator controls.

Figures are in Redis's terms (vermilion.memory); allocator and RSS figures are this process's.
"""

from __future__ import annotations

from .. import memory
from ..errors import NOT_INTEGER, SYNTAX, RedisError
from ..info import allocator_figures, gauge, process_rss
from ..registry import command
from ..resp.encode import OK, array, bulk, double, integer, null, verbatim
from .connection import help_reply

_HELP_REPLY = help_reply(b"memory", [
    "DOCTOR",
    "    Report memory problems this instance can detect.",
    "MALLOC-STATS",
    "    The memory allocator's own statistics.",
    "PURGE",
    "    Ask the allocator to give freed memory back to the system.",
    "STATS",
    "    The memory figures of the server, as a map.",
    "USAGE <key> [SAMPLES <count>]",
    "    Bytes used by <key> and its value. Nested values are sampled up to <count>",
    "    times (default: 5, 0 means sample all).",
])


@command("memory|help")
def memory_help(client, argv):
    return _HELP_REPLY


@command("memory|usage")
def memory_usage(client, argv):
    samples = memory.DEFAULT_SAMPLES
    position = 3
    while position < len(argv):
        if argv[position].lower() == b"samples" and position + 1 < len(argv):
            try:
                samples = int(argv[position + 1])
            except ValueError:
                raise RedisError(NOT_INTEGER) from None
            if not -(2**63) <= samples < 2**63 or not argv[position + 1].strip() == argv[position + 1]:
                raise RedisError(NOT_INTEGER)
            if samples < 0:
                raise RedisError(SYNTAX)
            if samples == 0:
                samples = 2**63 - 1
            position += 2
        else:
            raise RedisError(SYNTAX)
    key = argv[2]
    value = client.db.lookup_read_silent(key)
    if value is None:
        return null(client.resp3)
    return integer(memory.key_cost(key, value, samples))


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@command("memory|stats")
def memory_stats(client, argv):
    server = client.server
    resp3 = client.resp3
    m = memory.figures(server)
    allocated, active, resident = allocator_figures()
    rss = process_rss()
    used = m["used"]
    keys = m["keys"]
    net = used - m["startup"]
    items: list[tuple[bytes, bytes]] = [
        (b"peak.allocated", integer(m["peak"])),
        (b"total.allocated", integer(used)),
        (b"startup.allocated", integer(m["startup"])),
        (b"replication.backlog", integer(gauge(server, "mem_replication_backlog"))),
        (b"clients.slaves", integer(gauge(server, "mem_clients_slaves"))),
        (b"clients.normal", integer(m["clients_normal"])),
        (b"cluster.links", integer(gauge(server, "mem_cluster_links"))),
        (b"aof.buffer", integer(gauge(server, "mem_aof_buffer"))),
        (b"lua.caches", integer(gauge(server, "used_memory_scripts_eval"))),
        (b"functions.caches", integer(gauge(server, "used_memory_functions"))),
    ]
    for index, main, expires in m["tables"]:
        tables = _map([
            (b"overhead.hashtable.main", integer(main)),
            (b"overhead.hashtable.expires", integer(expires)),
            (b"overhead.hashtable.slot-to-keys", integer(0)),
        ], resp3)
        items.append((b"db.%d" % index, tables))
    items += [
        (b"overhead.total", integer(m["overhead"])),
        (b"keys.count", integer(keys)),
        (b"keys.bytes-per-key", integer(net // keys if keys else 0)),
        (b"dataset.bytes", integer(m["dataset"])),
        (b"dataset.percentage", double(_ratio(m["dataset"] * 100, net), resp3)),
        (b"peak.percentage", double(_ratio(used * 100, m["peak"]), resp3)),
        (b"allocator.allocated", integer(allocated)),
        (b"allocator.active", integer(active)),
        (b"allocator.resident", integer(resident)),
        (b"allocator-fragmentation.ratio", double(_ratio(active, allocated), resp3)),
        (b"allocator-fragmentation.bytes", integer(active - allocated)),
        (b"allocator-rss.ratio", double(_ratio(resident, active), resp3)),
        (b"allocator-rss.bytes", integer(resident - active)),
        (b"rss-overhead.ratio", double(_ratio(rss, resident), resp3)),
        (b"rss-overhead.bytes", integer(rss - resident)),
        (b"fragmentation", double(_ratio(rss, used), resp3)),
        (b"fragmentation.bytes", integer(rss - used)),
    ]
    return _map(items, resp3)


def _map(items: list[tuple[bytes, bytes]], resp3: bool) -> bytes:
    if resp3:
        return b"%%%d\r\n" % len(items) + b"".join(bulk(k) + v for k, v in items)
    return array([part for k, v in items for part in (bulk(k), v)])


# The reports are Redis's own texts: tools and people match on them.
_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
    "used in these conditions. Please, leave for your mission on Earth and fill it with some "
    "data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
)
_FINE = ("Hi Sam, I can't find any memory issue in your instance. I can only account for what "
         "occurs on this base.\n")
_ISSUES_HEAD = "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
_ISSUES_TAIL = "I'm here to keep you safe, Sam. I want to help you.\n"
_BIG_PEAK = (
    " * Peak memory: In the past this instance used more than 150% the memory that is currently "
    "using. The allocator is normally not able to release memory after a peak, so you can expect "
    "to see a big fragmentation ratio, however this is actually harmless and is only due to the "
    "memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than "
    "expected, the memory will be used as soon as you fill the Redis instance with more data. If "
    "the memory peak was only occasional and you want to try to reclaim memory, please try the "
    "MEMORY PURGE command, otherwise the only other option is to shutdown and restart the "
    "instance.\n\n"
)
_HIGH_FRAG = (
    " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than "
    "1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum "
    "of the logical allocations Redis performed). This problem is usually due either to a large "
    "peak memory (check if there is a peak memory entry above in the report) or may result from "
    "a workload that causes the allocator to fragment memory a lot. If the problem is a large "
    "peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc "
    "allocator and not the default libc malloc. Note: The currently used allocator is "
    "\"libc\".\n\n"
)
_HIGH_ALLOC_FRAG = (
    " * High allocator fragmentation: This instance has an allocator external fragmentation "
    "greater than 1.1. This problem is usually due either to a large peak memory (check if there "
    "is a peak memory entry above in the report) or may result from a workload that causes the "
    "allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n"
)
_BIG_CLIENTS = (
    " * Big client buffers: The clients output buffers in this instance are greater than 200K "
    "per client (on average). This may result from different causes, like Pub/Sub clients "
    "subscribed to channels bot not receiving data fast enough, so that data piles on the Redis "
    "instance output buffer, or clients sending commands with large replies or very large "
    "sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to "
    "investigate the issue if it causes problems in your instance, or to understand better why "
    "certain clients are using a big amount of memory.\n\n"
)
_MANY_SCRIPTS = (
    " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). "
    "This may be because scripts are generated and `EVAL`ed, instead of being parameterized "
    "(with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called "
    "periodically, the scripts' caches may end up consuming most of your memory.\n\n"
)


def doctor_report(server) -> str:
    """Redis's getMemoryDoctorReport over our figures."""
    m = memory.figures(server)
    used = m["used"]
    # Redis calls an instance under 5 MB empty; its startup takes under 1 MB of that, ours more.
    if used - m["startup"] + memory.STARTUP_MEMORY < 5 * 1024 * 1024:
        return _EMPTY
    allocated, active, _ = allocator_figures()
    rss = process_rss()
    issues = []
    if m["peak"] / used > 1.5:
        issues.append(_BIG_PEAK)
    if rss / used > 1.4 and rss - used > 10 << 20:
        issues.append(_HIGH_FRAG)
    if allocated and active / allocated > 1.1 and active - allocated > 10 << 20:
        issues.append(_HIGH_ALLOC_FRAG)
    clients = len(server.clients)
    if clients and m["clients_normal"] / clients > 200 * 1024:
        issues.append(_BIG_CLIENTS)
    if gauge(server, "number_of_cached_scripts") > 1000:
        issues.append(_MANY_SCRIPTS)
    if not issues:
        return _FINE
    return _ISSUES_HEAD + "".join(issues) + _ISSUES_TAIL


@command("memory|doctor")
def memory_doctor(client, argv):
    return verbatim(doctor_report(client.server).encode(), client.resp3)


@command("memory|malloc-stats")
def memory_malloc_stats(client, argv):
    return verbatim(memory.malloc_stats_text().encode(), client.resp3)


@command("memory|purge")
def memory_purge(client, argv):
    memory.purge()
    return OK
