"""What INFO and CLIENT LIST report: section builders and the per-client line, as Redis 7.0 lays
them out (same section names, field names and order, ``\\r\\n`` line endings).

Each section is a function ``builder(server) -> list[str]`` of ``name:value`` lines in
``SECTIONS``; a subsystem that owns a section's facts (replication, persistence, scripting)
replaces that entry with its own builder. Figures owned by subsystems that keep no counter in
``server.stats`` (pub/sub channel counts, blocked clients, ...) come from ``GAUGES``: a subsystem
registers ``GAUGES["pubsub_channels"] = lambda server: ...``; until then the idle value shows, which
is the truth while that subsystem does not exist. Counters in ``server.stats`` named like the
Redis field are picked up by name.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import platform
import resource
import selectors
import sys
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import REDIS_VERSION, __version__
from .registry import COMMANDS

if TYPE_CHECKING:
    from .connection import Client
    from .server import Server

# Identifiers Redis generates at start: fixed for the life of this process.
RUN_ID = os.urandom(20).hex()
MASTER_REPLID = os.urandom(20).hex()
# redis_build_id: a stable hex tag of this build (Redis hashes its build; we hash our version).
BUILD_ID = hashlib.sha1(f"vermilion {__version__}".encode()).hexdigest()[:15]
EXECUTABLE = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
LRU_CLOCK_MAX = (1 << 24) - 1

GAUGES: dict[str, Callable[[Any], Any]] = {}
# Per-client figures owned by other subsystems: "sub", "psub", "ssub" (subscription counts) and
# "flags" (extra CLIENT LIST flag letters such as "P" or "b"); called as provider(client).
CLIENT_GAUGES: dict[str, Callable[[Any], Any]] = {}


def gauge(server: Server, name: str, default: Any = 0) -> Any:
    provider = GAUGES.get(name)
    return default if provider is None else provider(server)


def _config(server: Server, attr: str, default: Any) -> Any:
    return getattr(server.config, attr, default)


# -- memory ----------------------------------------------------------------------------------


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]


def _load_mallinfo() -> Callable[[], _MallInfo2] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        fn = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    fn.argtypes = []
    return fn


_mallinfo = _load_mallinfo()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def allocator_figures() -> tuple[int, int, int]:
    """(allocated, active, resident) bytes as the C allocator sees this process.

    allocated: bytes handed out and not freed (small blocks plus mmapped ones, which include
    pymalloc's arenas); active: the heap's size plus mmapped blocks; resident: the RSS.
    """
    rss = process_rss()
    if _mallinfo is None:
        return rss, rss, rss
    info = _mallinfo()
    allocated = info.uordblks + info.hblkhd
    active = info.arena + info.hblkhd
    return allocated, max(active, allocated), rss


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: B below 1024, then K, M, G, T, P with two decimals."""
    if n < 1024:
        return f"{n}B"
    for power, unit in ((2, "K"), (3, "M"), (4, "G"), (5, "T"), (6, "P")):
        if n < 1024**power:
            return f"{n / 1024 ** (power - 1):.2f}{unit}"
    return f"{n}B"


class _ServerMemo:
    """Per-server figures INFO keeps between calls (instantaneous metrics)."""

    __slots__ = ("samples", "last_sample", "timer", "__weakref__")

    def __init__(self) -> None:
        # metric name -> ring of recent per-second rates (Redis keeps 16 samples, 100 ms apart)
        self.samples: dict[str, list[float]] = {}
        self.last_sample: dict[str, tuple[float, int]] = {}
        self.timer: Any = None


_MEMOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_METRIC_SAMPLES = 16
_SAMPLED = {
    "ops": "total_commands_processed",
    "net_input": "total_net_input_bytes",
    "net_output": "total_net_output_bytes",
    "net_repl_input": "total_net_repl_input_bytes",
    "net_repl_output": "total_net_repl_output_bytes",
}


def _memo(server: Server) -> _ServerMemo:
    memo = _MEMOS.get(server)
    if memo is None:
        memo = _MEMOS[server] = _ServerMemo()
    return memo


def start_sampling(server: Server) -> None:
    """Sample the instantaneous_* metrics every 100 ms from now on (as Redis's cron does)."""
    memo = _memo(server)
    if memo.timer is None and server.loop is not None:
        sample_metrics(server)


def sample_metrics(server: Server) -> None:
    memo = _memo(server)
    now = time.monotonic()
    stats = server.stats
    for metric, counter in _SAMPLED.items():
        value = getattr(stats, counter, 0)
        last = memo.last_sample.get(metric)
        memo.last_sample[metric] = (now, value)
        if last is None or now <= last[0]:
            continue
        rate = (value - last[1]) / (now - last[0])
        ring = memo.samples.setdefault(metric, [])
        ring.append(rate)
        if len(ring) > _METRIC_SAMPLES:
            del ring[0]
    if server.loop is not None and not server.loop.is_closed():
        memo.timer = server.loop.call_later(0.1, sample_metrics, server)


def instantaneous(server: Server, metric: str) -> float:
    ring = _memo(server).samples.get(metric)
    return sum(ring) / len(ring) if ring else 0.0


def memory_figures(server: Server) -> dict[str, int]:
    """used_memory and its parts in Redis's terms (vermilion.memory); rss and allocator_* are
    this process's real figures."""
    from .memory import figures

    allocated, active, resident = allocator_figures()
    m = figures(server)
    m.update(rss=process_rss(), allocated=allocated, active=active, resident=resident)
    return m


# -- per client --------------------------------------------------------------------------------


def _input_pending(client: Client) -> int:
    if client.exact is not None:
        return client.exact.pending()
    return sum(len(chunk) for chunk in client.raw_pending)


def multi_memory(client: Client) -> int:
    """Bytes held by queued MULTI commands, counted as Redis does (arguments plus pointers)."""
    if not client.multi:
        return 0
    total = 0
    for queued in client.multi:
        argv = queued[1]
        total += sum(len(arg) for arg in argv) + 8 * len(argv)
    return total


def client_memory(client: Client, argv_mem: int = 0) -> int:
    return (
        sys.getsizeof(client)
        + _input_pending(client)
        + client.output_pending()
        + argv_mem
        + multi_memory(client)
    )


def client_flags(client: Client) -> str:
    """CLIENT LIST flags in Redis's letter order; N when none applies."""
    flags = ""
    extra = CLIENT_GAUGES.get("flags")
    extra_letters = extra(client) if extra is not None else ""
    for letter in "SOMP":
        if letter in extra_letters:
            flags += letter
    if client.multi is not None:
        flags += "x"
    for letter in "btRB":
        if letter in extra_letters:
            flags += letter
    if client.watch_dirty:
        flags += "d"
    if client.kill_after_reply:
        flags += "c"
    if "u" in extra_letters:
        flags += "u"
    if client.is_unix:
        flags += "U"
    if "r" in extra_letters:
        flags += "r"
    if client.no_evict:
        flags += "e"
    if client.no_touch:  # Redis 7.2's CLIENT NO-TOUCH shows T
        flags += "T"
    return flags or "N"


def _client_count(client: Client, name: str) -> int:
    provider = CLIENT_GAUGES.get(name)
    return 0 if provider is None else provider(client)


REPLY_CHUNK_BYTES = 16 * 1024


def client_info_line(client: Client, argv: list | None = None, now: float | None = None) -> str:
    """One CLIENT LIST / CLIENT INFO line, Redis 7.0's fields in Redis's order.

    ``argv`` is the command being run when the line describes the client running it (Redis
    counts its arguments as argv-mem).
    """
    if now is None:
        now = time.time()
    argv_mem = sum(len(arg) for arg in argv) if argv else 0
    qbuf = _input_pending(client)
    pending = client.output_pending()
    # Redis fills a 16 KiB reply buffer (obl) and then a list of 16 KiB blocks (oll nodes
    # holding omem bytes): the same split of this client's pending output.
    obl = min(pending, REPLY_CHUNK_BYTES)
    omem = pending - obl
    oll = -(-omem // REPLY_CHUNK_BYTES)
    cmd = client.current_command
    multi = -1 if client.multi is None else len(client.multi)
    name = client.name.decode("latin-1")
    events = "r" if not client.closing else ""
    if pending:
        events += "w"
    return (
        f"id={client.id} addr={client.address} laddr={client.local_address} fd={client.fd} "
        f"name={name} age={int(now - client.created)} idle={int(now - client.last_interaction)} "
        f"flags={client_flags(client)} db={client.db.index} sub={_client_count(client, 'sub')} "
        f"psub={_client_count(client, 'psub')} ssub={_client_count(client, 'ssub')} "
        f"multi={multi} qbuf={qbuf} qbuf-free=0 argv-mem={argv_mem} "
        f"multi-mem={multi_memory(client)} rbs=0 rbp=0 obl={obl} oll={oll} omem={omem} "
        f"tot-mem={client_memory(client, argv_mem)} events={events} "
        f"cmd={cmd.full_name if cmd is not None else 'NULL'} user={client.user} redir=-1 "
        f"resp={3 if client.resp3 else 2}"
    )


# -- sections ------------------------------------------------------------------------------------


def _multiplexing_api() -> str:
    name = selectors.DefaultSelector.__name__.replace("Selector", "").lower()
    return name or "select"


def _compiler_version() -> str:
    words = platform.python_compiler().split()
    if len(words) >= 2 and words[0] == "GCC":
        return words[1]
    return "0.0.0"


_UNAME = platform.uname()
_OS = f"{_UNAME.system} {_UNAME.release} {_UNAME.machine}"
_ARCH_BITS = 64 if sys.maxsize > 2**32 else 32


def section_server(server: Server) -> list[str]:
    now = time.time()
    uptime = int(now - server.start_time)
    hz = server.config.hz
    return [
        f"redis_version:{REDIS_VERSION}",
        "redis_git_sha1:00000000",
        "redis_git_dirty:0",
        f"redis_build_id:{BUILD_ID}",
        f"redis_mode:{'cluster' if _config(server, 'cluster_enabled', False) else 'standalone'}",
        f"os:{_OS}",
        f"arch_bits:{_ARCH_BITS}",
        "monotonic_clock:POSIX clock_gettime",
        f"multiplexing_api:{_multiplexing_api()}",
        "atomicvar_api:python-gil",
        f"gcc_version:{_compiler_version()}",
        f"process_id:{os.getpid()}",
        f"process_supervised:{gauge(server, 'process_supervised', 'no')}",
        f"run_id:{RUN_ID}",
        f"tcp_port:{server.port}",
        f"server_time_usec:{int(now * 1_000_000)}",
        f"uptime_in_seconds:{uptime}",
        f"uptime_in_days:{uptime // 86400}",
        f"hz:{hz}",
        f"configured_hz:{hz}",
        f"lru_clock:{int(now) & LRU_CLOCK_MAX}",
        f"executable:{EXECUTABLE}",
        f"config_file:{gauge(server, 'config_file', '')}",
        "io_threads_active:0",
        f"vermilion_version:{__version__}",
    ]


def section_clients(server: Server) -> list[str]:
    clients = list(server.clients.values())
    max_in = max((_input_pending(c) for c in clients), default=0)
    max_out = max((c.output_pending() for c in clients), default=0)
    return [
        f"connected_clients:{len(clients)}",
        "cluster_connections:0",
        f"maxclients:{_config(server, 'maxclients', 10000)}",
        f"client_recent_max_input_buffer:{max_in}",
        f"client_recent_max_output_buffer:{max_out}",
        f"blocked_clients:{gauge(server, 'blocked_clients')}",
        f"tracking_clients:{gauge(server, 'tracking_clients')}",
        f"clients_in_timeout_table:{gauge(server, 'clients_in_timeout_table')}",
    ]


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "0.00"


def section_memory(server: Server) -> list[str]:
    m = memory_figures(server)
    used, rss, peak = m["used"], m["rss"], m["peak"]
    allocated, active, resident = m["allocated"], m["active"], m["resident"]
    net = used - m["startup"]
    dataset_perc = m["dataset"] * 100 / net if net > 0 else 0.0
    system = total_system_memory()
    lua = gauge(server, "used_memory_lua")
    vm_functions = gauge(server, "used_memory_vm_functions")
    scripts = gauge(server, "used_memory_scripts")
    maxmemory = _config(server, "maxmemory", 0)
    return [
        f"used_memory:{used}",
        f"used_memory_human:{bytes_to_human(used)}",
        f"used_memory_rss:{rss}",
        f"used_memory_rss_human:{bytes_to_human(rss)}",
        f"used_memory_peak:{peak}",
        f"used_memory_peak_human:{bytes_to_human(peak)}",
        f"used_memory_peak_perc:{used * 100 / peak if peak else 0:.2f}%",
        f"used_memory_overhead:{m['overhead']}",
        f"used_memory_startup:{m['startup']}",
        f"used_memory_dataset:{m['dataset']}",
        f"used_memory_dataset_perc:{dataset_perc:.2f}%",
        f"allocator_allocated:{allocated}",
        f"allocator_active:{active}",
        f"allocator_resident:{resident}",
        f"total_system_memory:{system}",
        f"total_system_memory_human:{bytes_to_human(system)}",
        f"used_memory_lua:{lua}",
        f"used_memory_vm_eval:{lua}",
        f"used_memory_lua_human:{bytes_to_human(lua)}",
        f"used_memory_scripts_eval:{gauge(server, 'used_memory_scripts_eval')}",
        f"number_of_cached_scripts:{gauge(server, 'number_of_cached_scripts')}",
        f"number_of_functions:{gauge(server, 'number_of_functions')}",
        f"number_of_libraries:{gauge(server, 'number_of_libraries')}",
        f"used_memory_vm_functions:{vm_functions}",
        f"used_memory_vm_total:{lua + vm_functions}",
        f"used_memory_vm_total_human:{bytes_to_human(lua + vm_functions)}",
        f"used_memory_functions:{gauge(server, 'used_memory_functions')}",
        f"used_memory_scripts:{scripts}",
        f"used_memory_scripts_human:{bytes_to_human(scripts)}",
        f"maxmemory:{maxmemory}",
        f"maxmemory_human:{bytes_to_human(maxmemory)}",
        f"maxmemory_policy:{_config(server, 'maxmemory_policy', 'noeviction')}",
        f"allocator_frag_ratio:{_ratio(active, allocated)}",
        f"allocator_frag_bytes:{active - allocated}",
        f"allocator_rss_ratio:{_ratio(resident, active)}",
        f"allocator_rss_bytes:{resident - active}",
        f"rss_overhead_ratio:{_ratio(rss, resident)}",
        f"rss_overhead_bytes:{rss - resident}",
        f"mem_fragmentation_ratio:{_ratio(rss, used)}",
        f"mem_fragmentation_bytes:{rss - used}",
        f"mem_not_counted_for_evict:{gauge(server, 'mem_not_counted_for_evict')}",
        f"mem_replication_backlog:{gauge(server, 'mem_replication_backlog')}",
        f"mem_total_replication_buffers:{gauge(server, 'mem_total_replication_buffers')}",
        f"mem_clients_slaves:{gauge(server, 'mem_clients_slaves')}",
        f"mem_clients_normal:{m['clients_normal']}",
        f"mem_cluster_links:{gauge(server, 'mem_cluster_links')}",
        f"mem_aof_buffer:{gauge(server, 'mem_aof_buffer')}",
        "mem_allocator:libc",
        "active_defrag_running:0",
        f"lazyfree_pending_objects:{gauge(server, 'lazyfree_pending_objects')}",
        f"lazyfreed_objects:{gauge(server, 'lazyfreed_objects')}",
    ]


def section_persistence(server: Server) -> list[str]:
    from .persistence.aof import aof_of

    aof = aof_of(server)  # the aof_* fields (vermilion.persistence.aof)
    return [
        f"loading:{gauge(server, 'loading')}",
        "async_loading:0",
        "current_cow_peak:0",
        "current_cow_size:0",
        "current_cow_size_age:0",
        f"current_fork_perc:{gauge(server, 'current_fork_perc', '0.00')}",
        f"current_save_keys_processed:{gauge(server, 'current_save_keys_processed')}",
        f"current_save_keys_total:{gauge(server, 'current_save_keys_total')}",
        f"rdb_changes_since_last_save:{gauge(server, 'rdb_changes_since_last_save', server.dirty)}",
        f"rdb_bgsave_in_progress:{gauge(server, 'rdb_bgsave_in_progress')}",
        f"rdb_last_save_time:{gauge(server, 'lastsave', int(server.start_time))}",
        f"rdb_last_bgsave_status:{gauge(server, 'rdb_last_bgsave_status', 'ok')}",
        f"rdb_last_bgsave_time_sec:{gauge(server, 'rdb_last_bgsave_time_sec', -1)}",
        f"rdb_current_bgsave_time_sec:{gauge(server, 'rdb_current_bgsave_time_sec', -1)}",
        f"rdb_saves:{gauge(server, 'rdb_saves')}",
        # A background save here is no fork: no copy-on-write to report.
        "rdb_last_cow_size:0",
        f"rdb_last_load_keys_expired:{gauge(server, 'rdb_last_load_keys_expired')}",
        f"rdb_last_load_keys_loaded:{gauge(server, 'rdb_last_load_keys_loaded')}",
        *aof.info_lines(),
        "module_fork_in_progress:0",
        "module_fork_last_cow_size:0",
        *aof.info_enabled_lines(),
        *gauge(server, "loading_fields", ()),
    ]


# Redis 7.0's stats fields in order. Each is read from server.stats by name (0 when the
# counter does not exist yet), except those computed below.
STATS_FIELDS = (
    "total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
    "total_net_input_bytes", "total_net_output_bytes", "total_net_repl_input_bytes",
    "total_net_repl_output_bytes", "instantaneous_input_kbps", "instantaneous_output_kbps",
    "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps", "rejected_connections",
    "sync_full", "sync_partial_ok", "sync_partial_err", "expired_keys", "expired_stale_perc",
    "expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds", "evicted_keys",
    "evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time",
    "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns",
    "pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets",
    "slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses",
    "active_defrag_key_hits", "active_defrag_key_misses", "total_active_defrag_time",
    "current_active_defrag_time", "tracking_total_keys", "tracking_total_items",
    "tracking_total_prefixes", "unexpected_error_replies", "total_error_replies",
    "dump_payload_sanitizations", "total_reads_processed", "total_writes_processed",
    "io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks",
    "reply_buffer_expands",
)
_RATES = {
    "instantaneous_ops_per_sec": ("ops", False),
    "instantaneous_input_kbps": ("net_input", True),
    "instantaneous_output_kbps": ("net_output", True),
    "instantaneous_input_repl_kbps": ("net_repl_input", True),
    "instantaneous_output_repl_kbps": ("net_repl_output", True),
}
# Gauges (current sizes, not counters) owned by other subsystems.
_STATS_GAUGES = frozenset({
    "pubsub_channels", "pubsub_patterns", "pubsubshard_channels", "tracking_total_keys",
    "tracking_total_items", "tracking_total_prefixes", "slave_expires_tracked_keys",
    "migrate_cached_sockets", "current_eviction_exceeded_time", "current_active_defrag_time",
})


def section_stats(server: Server) -> list[str]:
    stats = server.stats
    lines = []
    for field in STATS_FIELDS:
        rate = _RATES.get(field)
        if rate is not None:
            value = instantaneous(server, rate[0])
            text = f"{value / 1024:.2f}" if rate[1] else str(int(value))
        elif field in _STATS_GAUGES:
            text = str(gauge(server, field))
        elif field == "expired_stale_perc":
            text = f"{float(getattr(stats, field, 0)):.2f}"
        else:
            text = str(getattr(stats, field, 0))
        lines.append(f"{field}:{text}")
    return lines


def section_replication(server: Server) -> list[str]:
    return [
        "role:master",
        "connected_slaves:0",
        "master_failover_state:no-failover",
        f"master_replid:{MASTER_REPLID}",
        "master_replid2:0000000000000000000000000000000000000000",
        "master_repl_offset:0",
        "second_repl_offset:-1",
        "repl_backlog_active:0",
        f"repl_backlog_size:{_config(server, 'repl_backlog_size', 1048576)}",
        "repl_backlog_first_byte_offset:0",
        "repl_backlog_histlen:0",
    ]


def _seconds(value: float) -> str:
    return f"{value:.6f}"


def section_cpu(server: Server) -> list[str]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread_usage = getattr(resource, "RUSAGE_THREAD", None)
    main = resource.getrusage(thread_usage) if thread_usage is not None else own
    return [
        f"used_cpu_sys:{_seconds(own.ru_stime)}",
        f"used_cpu_user:{_seconds(own.ru_utime)}",
        f"used_cpu_sys_children:{_seconds(children.ru_stime)}",
        f"used_cpu_user_children:{_seconds(children.ru_utime)}",
        f"used_cpu_sys_main_thread:{_seconds(main.ru_stime)}",
        f"used_cpu_user_main_thread:{_seconds(main.ru_utime)}",
    ]


def section_modules(server: Server) -> list[str]:
    return []


def section_commandstats(server: Server) -> list[str]:
    lines = []
    for cmd in COMMANDS.values():
        if cmd.calls or cmd.failed_calls or cmd.rejected_calls:
            usec = cmd.duration_ns // 1000
            per_call = cmd.duration_ns / 1000 / cmd.calls if cmd.calls else 0.0
            lines.append(
                f"cmdstat_{cmd.full_name}:calls={cmd.calls},usec={usec},"
                f"usec_per_call={per_call:.2f},rejected_calls={cmd.rejected_calls},"
                f"failed_calls={cmd.failed_calls}"
            )
    return lines


def section_errorstats(server: Server) -> list[str]:
    codes = server.stats.error_codes
    return [f"errorstat_{code}:count={codes[code]}" for code in sorted(codes)]


def section_latencystats(server: Server) -> list[str]:
    # Per-command latency histograms are not kept: the section is empty, as Redis shows it
    # with latency-tracking disabled.
    return []


def section_cluster(server: Server) -> list[str]:
    return [f"cluster_enabled:{1 if _config(server, 'cluster_enabled', False) else 0}"]


def section_keyspace(server: Server) -> list[str]:
    lines = []
    for db in server.dbs:
        keys = len(db.data)
        if keys:
            lines.append(f"db{db.index}:keys={keys},expires={len(db.expires)},avg_ttl={db.avg_ttl}")
    return lines


# name -> (header, builder), in the order Redis prints them.
SECTIONS: dict[str, tuple[str, Callable[[Any], list[str]]]] = {
    "server": ("Server", section_server),
    "clients": ("Clients", section_clients),
    "memory": ("Memory", section_memory),
    "persistence": ("Persistence", section_persistence),
    "stats": ("Stats", section_stats),
    "replication": ("Replication", section_replication),
    "cpu": ("CPU", section_cpu),
    "modules": ("Modules", section_modules),
    "commandstats": ("Commandstats", section_commandstats),
    "errorstats": ("Errorstats", section_errorstats),
    "latencystats": ("Latencystats", section_latencystats),
    "cluster": ("Cluster", section_cluster),
    "keyspace": ("Keyspace", section_keyspace),
}
DEFAULT_SECTIONS = frozenset(
    {"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
     "errorstats", "cluster", "keyspace"}
)
ALL_SECTIONS = frozenset(SECTIONS)
# Names that select a section under another name.
_ALIASES = {"module_list": "modules"}


def select_sections(args: list[bytes]) -> frozenset[str]:
    """The sections INFO's arguments ask for (none: Redis's default set)."""
    if not args:
        return DEFAULT_SECTIONS
    chosen: set[str] = set()
    for arg in args:
        name = arg.decode("latin-1").lower()
        if name in ("all", "everything"):
            chosen |= ALL_SECTIONS
        elif name == "default":
            chosen |= DEFAULT_SECTIONS
        else:
            chosen.add(_ALIASES.get(name, name))
    return frozenset(chosen)


def info_text(server: Server, sections: frozenset[str]) -> str:
    """The INFO payload: each chosen section's header and lines, sections separated by a blank
    line, every line ending in CRLF."""
    start_sampling(server)
    parts = []
    for name, (header, builder) in SECTIONS.items():
        if name in sections:
            lines = builder(server)
            parts.append(f"# {header}\r\n" + "".join(f"{line}\r\n" for line in lines))
    return "\r\n".join(parts)
