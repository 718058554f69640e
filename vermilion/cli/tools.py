"""vermilion-cli's tool modes: --scan, --bigkeys, --memkeys, --hotkeys, --stat, --latency,
--latency-history, --latency-dist, --pipe, --rdb, --functions-rdb, --replica, --lru-test and
--intrinsic-latency. Their printed lines are redis-cli 7.0's, so scripts that read them work.

Ctrl-C ends the key samplers and --scan early (the summary is still printed), as in redis-cli.
"""

from __future__ import annotations

import math
import os
import random
import select
import signal
import sys
import time
from collections.abc import Callable

from . import resp
from .connection import ConnectionFailure, ConnectionLost, Connection
from .format import OUTPUT_CSV, OUTPUT_RAW, OUTPUT_STANDARD, write_stdout
from .options import CliConfig
from .sds import quote

_cancel = {"requested": False}


def _request_cancel(signum, frame) -> None:
    _cancel["requested"] = True


def _catch_sigint() -> None:
    _cancel["requested"] = False
    signal.signal(signal.SIGINT, _request_cancel)


def out(text: str) -> None:
    write_stdout(text.encode("utf-8", "surrogateescape"))


def err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def select_mode(config: CliConfig) -> Callable | None:
    """The tool mode asked for, in redis-cli's order of precedence."""
    if config.latency_mode:
        return latency_mode
    if config.latency_dist_mode:
        return latency_dist_mode
    if config.replica_mode:
        return replica_mode
    if config.rdb_filename is not None:
        return rdb_mode
    if config.pipe_mode:
        return pipe_mode
    if config.bigkeys:
        return lambda cli: find_big_keys(cli, memkeys=False)
    if config.memkeys:
        return lambda cli: find_big_keys(cli, memkeys=True)
    if config.hotkeys:
        return find_hot_keys
    if config.stat_mode:
        return stat_mode
    if config.scan_mode:
        return scan_mode
    if config.lru_test_keys:
        return lru_test_mode
    if config.intrinsic_latency is not None:
        return intrinsic_latency_mode
    return None


def _connect_or_exit(cli) -> None:
    if not cli.connect():
        raise SystemExit(1)


def reconnecting_call(cli, *args: bytes | str) -> resp.Reply:
    """A command that survives a server restart: retry every second, showing the attempts."""
    tries = 0
    while True:
        if cli.conn is not None:
            try:
                reply = cli.conn.call(*args)
                if tries:
                    out("\r\x1b[0K")
                return reply
            except ConnectionLost as exc:
                if exc.protocol:
                    err(f"Error: {exc}\n")
                    raise SystemExit(1) from None
        tries += 1
        out("\r\x1b[0K")
        out(f"Reconnecting... {tries}\r")
        if cli.conn is not None:
            cli.conn.close()
            cli.conn = None
        config = cli.config
        try:
            cli.conn = Connection.open(config.host, config.port, None, config.tls)
        except ConnectionFailure:
            cli.conn = None
        time.sleep(1)


def _ms() -> int:
    return time.time_ns() // 1_000_000


def _us() -> int:
    return time.time_ns() // 1_000


# -- latency -------------------------------------------------------------------------------------

LATENCY_SAMPLE_RATE = 0.010
LATENCY_HISTORY_DEFAULT_INTERVAL = 15000  # ms


def _latency_line(config: CliConfig, low: int, high: int, avg: float, count: int) -> str:
    if config.output == OUTPUT_STANDARD:
        return f"min: {low}, max: {high}, avg: {avg:.2f} ({count} samples)"
    if config.output == OUTPUT_CSV:
        return f"{low},{high},{avg:.2f},{count}\n"
    if config.output == OUTPUT_RAW:
        return f"{low} {high} {avg:.2f} {count}\n"
    return ""


def latency_mode(cli) -> int:
    """PING every 10 ms; show min/max/avg in ms. Not on a terminal (or with --raw/--csv) it runs
    for -i seconds (1 by default) and prints one line."""
    _connect_or_exit(cli)
    config = cli.config
    interval_ms = int(config.interval * 1000)
    history_interval = interval_ms if interval_ms else LATENCY_HISTORY_DEFAULT_INTERVAL
    if interval_ms == 0:
        interval_ms = 1000
    low = high = total = count = 0
    avg = 0.0
    history_start = _ms()
    while True:
        start = _ms()
        reconnecting_call(cli, "PING")
        latency = _ms() - start
        count += 1
        if count == 1:
            low = high = total = latency
            avg = float(latency)
        else:
            low = min(low, latency)
            high = max(high, latency)
            total += latency
            avg = total / count
        if config.output == OUTPUT_STANDARD:
            out("\x1b[0G\x1b[2K")
            out(_latency_line(config, low, high, avg, count))
        elif config.latency_history:
            out(_latency_line(config, low, high, avg, count))
        elif _ms() - history_start > interval_ms:
            out(_latency_line(config, low, high, avg, count))
            return 0
        if config.latency_history and _ms() - history_start > history_interval:
            out(" -- %.2f seconds range\n" % ((_ms() - history_start) / 1000))
            history_start = _ms()
            low = high = total = count = 0
        time.sleep(LATENCY_SAMPLE_RATE)


_SPECTRUM_COLOR = [0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 144, 143, 142, 184, 226, 214, 208, 202, 196]
_SPECTRUM_MONO = [0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253]
# (upper bound in microseconds, 0 = anything above; character)
_DIST_BUCKETS = [
    (10, "."), (125, "-"), (250, "*"), (500, "#"), (1000, "1"), (2000, "2"), (3000, "3"),
    (4000, "4"), (5000, "5"), (6000, "6"), (7000, "7"), (8000, "8"), (9000, "9"),
    (10000, "A"), (20000, "B"), (30000, "C"), (40000, "D"), (50000, "E"), (100000, "F"),
    (200000, "G"), (300000, "H"), (400000, "I"), (500000, "J"), (1000000, "K"),
    (2000000, "L"), (4000000, "M"), (8000000, "N"), (16000000, "O"), (30000000, "P"),
    (60000000, "Q"), (0, "?"),
]


def latency_dist_mode(cli) -> int:
    """A line of coloured cells per interval: how the PING latencies spread over buckets."""
    _connect_or_exit(cli)
    config = cli.config
    palette = _SPECTRUM_MONO if config.mono else _SPECTRUM_COLOR
    interval_ms = int(config.interval * 1000) or 1000
    counts = [0] * len(_DIST_BUCKETS)
    count = 0
    outputs = 0
    history_start = _us()
    while True:
        start = _us()
        reconnecting_call(cli, "PING")
        latency = _us() - start
        count += 1
        for index, (limit, _char) in enumerate(_DIST_BUCKETS):
            if limit == 0 or latency <= limit:
                counts[index] += 1
                break
        if count and (_us() - history_start) // 1000 > interval_ms:
            if outputs % 20 == 0:
                _show_dist_legend(palette)
            outputs += 1
            line = "\x1b[38;5;0m"
            for index, (_limit, char) in enumerate(_DIST_BUCKETS):
                color = palette[math.ceil(counts[index] / count * (len(palette) - 1))]
                line += f"\x1b[48;5;{color}m{char}"
                counts[index] = 0
            out(line + "\x1b[0m\n")
            history_start = _us()
            count = 0
        time.sleep(LATENCY_SAMPLE_RATE)


def _show_dist_legend(palette: list[int]) -> None:
    out("---------------------------------------------\n")
    out(". - * #          .01 .125 .25 .5 milliseconds\n")
    out("1,2,3,...,9      from 1 to 9     milliseconds\n")
    out("A,B,C,D,E        10,20,30,40,50  milliseconds\n")
    out("F,G,H,I,J        .1,.2,.3,.4,.5       seconds\n")
    out("K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds\n")
    out("From 0 to 100%: " + "".join(f"\x1b[48;5;{color}m " for color in palette) + "\x1b[0m\n")
    out("---------------------------------------------\n")


# -- replication: --replica, --rdb ---------------------------------------------------------------

RDB_EOF_MARK_SIZE = 40


def _replconf(cli, name: str, value: str) -> None:
    err(f"sending REPLCONF {name} {value}\n")
    try:
        reply = cli.conn.call("REPLCONF", name, value)
    except ConnectionLost:
        err("\nI/O error\n")
        raise SystemExit(1) from None
    if reply.type == resp.ERROR:
        err(f"REPLCONF {name} error: {reply.text()}\n")


def _send_sync(cli) -> tuple[int, bytes | None]:
    """SYNC, then read the payload header: (length, None) or (0, end-of-file mark)."""
    conn = cli.conn
    try:
        conn.sock.sendall(b"SYNC\r\n")
    except OSError:
        err("Error writing to master\n")
        raise SystemExit(1) from None
    # Replies already buffered by the typed reader come first.
    pending = bytes(conn.reader.buffer[conn.reader.pos :])
    conn.reader = resp.TypedReader()
    line = bytearray()
    while True:
        if pending:
            byte, pending = pending[:1], pending[1:]
        else:
            try:
                byte = conn.sock.recv(1)
            except OSError:
                byte = b""
            if not byte:
                err("Error reading bulk length while SYNCing\n")
                raise SystemExit(1)
        if byte == b"\n" and line:
            break
        if byte != b"\n":
            line += byte
    header = bytes(line).rstrip(b"\r")
    conn.leftover = pending
    if header.startswith(b"-"):
        out(f"SYNC with master failed: {header.decode(errors='replace')}\n")
        raise SystemExit(1)
    if header[1:5] == b"EOF:" and len(header) - 5 >= RDB_EOF_MARK_SIZE:
        return 0, header[5 : 5 + RDB_EOF_MARK_SIZE]
    return int(header[1:] or b"0"), None


def _payload_chunks(cli, length: int, mark: bytes | None):
    """Yield the RDB payload (without the end mark when one is used); returns its size."""
    conn = cli.conn
    pending = conn.leftover
    conn.leftover = b""
    remaining = length if mark is None else None
    tail = b""
    total = 0
    while remaining is None or remaining > 0:
        if pending:
            chunk, pending = pending, b""
        else:
            try:
                chunk = conn.sock.recv(65536 if remaining is None else min(65536, remaining))
            except OSError:
                chunk = b""
            if not chunk:
                return None
        if remaining is not None:
            if len(chunk) > remaining:
                pending = chunk[remaining:]
                chunk = chunk[:remaining]
            remaining -= len(chunk)
            total += len(chunk)
            yield chunk
            continue
        data = tail + chunk
        end = data.find(mark)
        if end >= 0 and end + RDB_EOF_MARK_SIZE == len(data):
            total += end
            yield data[:end]
            conn.leftover = pending
            return total
        keep = min(len(data), RDB_EOF_MARK_SIZE)
        total += len(data) - keep
        yield data[: len(data) - keep]
        tail = data[len(data) - keep :]
    conn.leftover = pending
    return total


def rdb_mode(cli) -> int:
    """--rdb FILE (or -): fetch a snapshot through the replication handshake."""
    _connect_or_exit(cli)
    config = cli.config
    _replconf(cli, "capa", "eof")
    _replconf(cli, "rdb-only", "1")
    if config.functions_rdb:
        _replconf(cli, "rdb-filter-only", "functions")
    length, mark = _send_sync(cli)
    filename = config.rdb_filename
    if mark is not None:
        err(f"SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{filename}'\n")
    else:
        err(f"SYNC sent to master, writing {length} bytes to '{filename}'\n")
    if filename == "-":
        fd = sys.stdout.fileno()
    else:
        try:
            fd = os.open(filename, os.O_CREAT | os.O_WRONLY, 0o644)
        except OSError as exc:
            err(f"Error opening '{filename}': {os.strerror(exc.errno or 0)}\n")
            return 1
    chunks = _payload_chunks(cli, length, mark)
    written = 0
    while True:
        try:
            chunk = next(chunks)
        except StopIteration as stop:
            if stop.value is None:
                err("I/O Error reading RDB payload from socket\n")
                return 1
            break
        os.write(fd, chunk)
        written += len(chunk)
    if mark is not None:
        if filename != "-":
            os.ftruncate(fd, written)
        err(f"Transfer finished with success after {written} bytes\n")
    else:
        err("Transfer finished with success.\n")
    cli.conn.close()
    cli.conn = None
    if filename != "-":
        try:
            os.fsync(fd)
        except OSError as exc:
            err(f"Fail to fsync '{filename}': {os.strerror(exc.errno or 0)}\n")
            return 1
        os.close(fd)
    return 0


def replica_mode(cli) -> int:
    _connect_or_exit(cli)
    _replconf(cli, "capa", "eof")
    _replconf(cli, "rdb-filter-only", "")
    replica_stream(cli)
    return 0


def replica_stream(cli) -> None:
    """SYNC, skip the snapshot, then print what the master streams, as CSV."""
    length, mark = _send_sync(cli)
    if mark is not None:
        err("SYNC with master, discarding bytes of bulk transfer until EOF marker...\n")
    else:
        err(f"SYNC with master, discarding {length} bytes of bulk transfer...\n")
    chunks = _payload_chunks(cli, length, mark)
    while True:
        try:
            next(chunks)
        except StopIteration as stop:
            if stop.value is None:
                err("Error reading RDB payload while SYNCing\n")
                raise SystemExit(1) from None
            size = stop.value
            break
    leftover = cli.conn.leftover
    if leftover:
        cli.conn.reader.feed(leftover)
        cli.conn.leftover = b""
    if mark is not None:
        # The count includes the end-of-payload mark, as redis-cli reports it.
        err(f"SYNC done after {size + RDB_EOF_MARK_SIZE} bytes. Logging commands from master.\n")
        time.sleep(1)  # let the master see this replica online
        # Like redis-cli, wait for a "reply" to the ACK: the master sends none, so the first
        # thing it streams (usually a SELECT) is taken as one and not shown.
        _replconf(cli, "ACK", "0")
    else:
        err("SYNC done. Logging commands from master.\n")
    original = cli.config.output
    cli.formatter.mode = OUTPUT_CSV
    try:
        while cli.read_reply(False):
            pass
    finally:
        cli.formatter.mode = original


# -- --pipe ----------------------------------------------------------------------------------------


def pipe_mode(cli) -> int:
    """Send standard input (raw protocol) while reading replies; a final ECHO with a random
    20-byte payload tells when the server has answered everything."""
    import hiredis  # replies here are only counted, so the C parser is fine

    _connect_or_exit(cli)
    config = cli.config
    sock = cli.conn.sock
    # Bytes the typed reader already holds (replies to AUTH/SELECT are consumed already).
    sock.setblocking(False)
    reader = hiredis.Reader()
    stdin = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
    stdin_fd = stdin.fileno()
    errors = replies = 0
    out_buffer = b""
    eof = False
    done = False
    magic = os.urandom(20)
    last_read = time.time()
    while not done:
        want_write = not eof or bool(out_buffer)
        try:
            readable, writable, _ = select.select([sock], [sock] if want_write else [], [], 1.0)
        except InterruptedError:
            continue
        if readable:
            read_error = False
            while True:
                try:
                    data = sock.recv(1 << 18)
                    if not data:
                        read_error = True
                        break
                    reader.feed(data)
                except BlockingIOError:
                    break
                except OSError:
                    read_error = True
                    break
            while True:
                try:
                    reply = reader.gets()
                except hiredis.ProtocolError:
                    err("Error reading replies from server\n")
                    return 1
                if reply is False:
                    break
                last_read = time.time()
                if isinstance(reply, hiredis.ReplyError):
                    err(f"{reply}\n")
                    errors += 1
                elif eof and isinstance(reply, bytes) and len(reply) == 20 and reply == magic:
                    out("Last reply received from server.\n")
                    done = True
                    replies -= 1
                replies += 1
            if read_error:
                return 1
        if writable:
            written_this_loop = 0
            while True:
                if out_buffer:
                    try:
                        sent = sock.send(out_buffer)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError as exc:
                        err(f"Error writing to the server: {os.strerror(exc.errno or 0)}\n")
                        return 1
                    out_buffer = out_buffer[sent:]
                    written_this_loop += sent
                    if out_buffer:
                        break
                if not out_buffer and not eof:
                    chunk = os.read(stdin_fd, 1 << 16)
                    if not chunk:
                        eof = True
                        out_buffer = b"\r\n*2\r\n$4\r\nECHO\r\n$20\r\n" + magic + b"\r\n"
                        out("All data transferred. Waiting for the last reply...\n")
                    else:
                        out_buffer = chunk
                if (not out_buffer and eof) or written_this_loop > 128 * 1024:
                    break
        if eof and config.pipe_timeout > 0 and time.time() - last_read > config.pipe_timeout:
            err(f"No replies for {config.pipe_timeout} seconds: exiting.\n")
            errors += 1
            break
    out(f"errors: {errors}, replies: {replies}\n")
    return 1 if errors else 0


# -- keyspace samplers -----------------------------------------------------------------------------


def _send_scan(cli, cursor: int) -> tuple[int, list[bytes]]:
    config = cli.config
    args: list[bytes] = [b"SCAN", str(cursor).encode()]
    if config.pattern is not None:
        args += [b"MATCH", config.pattern]
    if config.count is not None:
        args += [b"COUNT", str(config.count).encode()]
    try:
        reply = cli.conn.call(*args)
    except ConnectionLost:
        err("\nI/O error\n")
        raise SystemExit(1) from None
    if reply.type == resp.ERROR:
        err(f"SCAN error: {reply.text()}\n")
        raise SystemExit(1)
    if reply.type != resp.ARRAY:
        err("Non ARRAY response from SCAN!\n")
        raise SystemExit(1)
    if len(reply.elements) != 2:
        err("Invalid element count from SCAN!\n")
        raise SystemExit(1)
    cursor_reply, keys = reply.elements
    try:
        cursor = int(cursor_reply.str or b"0")
    except ValueError:
        cursor = 0
    return cursor, [key.str for key in keys.elements]


def _dbsize(cli) -> int:
    try:
        reply = cli.conn.call("DBSIZE")
    except ConnectionLost:
        err("\nI/O error\n")
        raise SystemExit(1) from None
    if reply.type == resp.ERROR:
        err(f"Couldn't determine DBSIZE: {reply.text()}\n")
        raise SystemExit(1)
    if reply.type != resp.INTEGER:
        err("Non INTEGER response from DBSIZE!\n")
        raise SystemExit(1)
    return reply.integer


def _pipeline(cli, commands: list[list[bytes]]) -> list[resp.Reply]:
    conn = cli.conn
    conn.send_raw(b"".join(resp.encode_command(command) for command in commands))
    return [conn.read_reply() for _ in commands]


class _TypeInfo:
    __slots__ = ("name", "size_command", "unit", "biggest", "count", "total", "biggest_key")

    def __init__(self, name: str, size_command: bytes | None, unit: str) -> None:
        self.name = name
        self.size_command = size_command
        self.unit = unit
        self.biggest = 0
        self.count = 0
        self.total = 0
        self.biggest_key: str | None = None


# The built-in types, in the order redis-cli's summary lists them (its hash table's order).
_BUILTIN_TYPES = [
    ("list", b"LLEN", "items"),
    ("hash", b"HLEN", "fields"),
    ("string", b"STRLEN", "bytes"),
    ("stream", b"XLEN", "entries"),
    ("set", b"SCARD", "members"),
    ("zset", b"ZCARD", "members"),
]


def _pct(sampled: int, total: int) -> float:
    return 100 * sampled / total if total else math.nan


def _fmt_pct(value: float) -> str:
    return "  nan" if math.isnan(value) else f"{value:05.2f}"


def find_big_keys(cli, memkeys: bool) -> int:
    """--bigkeys / --memkeys: SCAN the keyspace, size every key, report the biggest per type."""
    _connect_or_exit(cli)
    config = cli.config
    _catch_sigint()
    types: dict[str, _TypeInfo] = {name: _TypeInfo(name, command, unit) for name, command, unit in _BUILTIN_TYPES}
    total_keys = _dbsize(cli)
    out("\n# Scanning the entire keyspace to find biggest keys as well as\n")
    out("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n")
    out("# per 100 SCAN commands (not usually needed).\n\n")
    sampled = total_length = 0
    cursor = 0
    while True:
        pct = _pct(sampled, total_keys)
        cursor, keys = _send_scan(cli, cursor)
        type_replies = _pipeline(cli, [[b"TYPE", key] for key in keys]) if keys else []
        key_types: list[_TypeInfo | None] = []
        for key, reply in zip(keys, type_replies):
            if reply.type != resp.STATUS:
                if reply.type == resp.ERROR:
                    err(f"TYPE returned an error: {reply.text()}\n")
                else:
                    err(f"Invalid reply type ({reply.type}) for TYPE on key '{key.decode(errors='replace')}'!\n")
                raise SystemExit(1)
            name = reply.text()
            info = types.get(name)
            if info is None and name != "none":
                info = types[name] = _TypeInfo(name, None, "?")
            key_types.append(info)
        size_commands = []
        for key, info in zip(keys, key_types):
            if info is None or (info.size_command is None and not memkeys):
                continue
            if not memkeys:
                size_commands.append([info.size_command, key])
            elif config.memkeys_samples == 0:
                size_commands.append([b"MEMORY", b"USAGE", key])
            else:
                size_commands.append([b"MEMORY", b"USAGE", key, b"SAMPLES", str(config.memkeys_samples).encode()])
        size_replies = iter(_pipeline(cli, size_commands) if size_commands else [])
        for key, info in zip(keys, key_types):
            if info is None:
                continue
            size = 0
            if info.size_command is not None or memkeys:
                reply = next(size_replies)
                if reply.type != resp.INTEGER:
                    command = "MEMORY USAGE" if memkeys else info.size_command.decode()
                    err(f"Warning:  {command} on '{key.decode(errors='replace')}' failed (may have changed type)\n")
                else:
                    size = reply.integer
            info.total += size
            info.count += 1
            total_length += len(key)
            sampled += 1
            if info.biggest < size:
                info.biggest_key = quote(key).decode("utf-8", "surrogateescape")
                unit = "bytes" if memkeys else info.unit
                out(f"[{_fmt_pct(pct)}%] Biggest {info.name:<6} found so far '{info.biggest_key}' with {size} {unit}\n")
                info.biggest = size
            if sampled % 1000000 == 0:
                out(f"[{_fmt_pct(pct)}%] Sampled {sampled} keys so far\n")
        if sampled and sampled % 100 == 0 and config.interval:
            time.sleep(config.interval)
        if cursor == 0 or _cancel["requested"]:
            break
    out("\n-------- summary -------\n\n")
    if _cancel["requested"]:
        out(f"[{_fmt_pct(pct)}%] ")
    out(f"Sampled {sampled} keys in the keyspace!\n")
    out(f"Total key length in bytes is {total_length} (avg len {total_length / sampled if total_length else 0:.2f})\n\n")
    for info in types.values():
        if info.biggest_key is not None:
            unit = "bytes" if memkeys else info.unit
            out(f"Biggest {info.name:>6} found '{info.biggest_key}' has {info.biggest} {unit}\n")
    out("\n")
    for info in types.values():
        unit = "bytes" if memkeys else info.unit
        share = 100 * info.count / sampled if sampled else 0
        average = info.total / info.count if info.count else 0
        out(f"{info.count} {info.name}s with {info.total} {unit} ({share:05.2f}% of keys, avg size {average:.2f})\n")
    return 0


HOTKEYS_SAMPLE = 16


def find_hot_keys(cli) -> int:
    """--hotkeys: OBJECT FREQ of every key; the 16 most accessed (needs an LFU policy)."""
    _connect_or_exit(cli)
    config = cli.config
    _catch_sigint()
    counters = [0] * HOTKEYS_SAMPLE
    names: list[str | None] = [None] * HOTKEYS_SAMPLE
    total_keys = _dbsize(cli)
    out("\n# Scanning the entire keyspace to find hot keys as well as\n")
    out("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n")
    out("# per 100 SCAN commands (not usually needed).\n\n")
    sampled = 0
    cursor = 0
    while True:
        pct = _pct(sampled, total_keys)
        cursor, keys = _send_scan(cli, cursor)
        replies = _pipeline(cli, [[b"OBJECT", b"FREQ", key] for key in keys]) if keys else []
        freqs = []
        for key, reply in zip(keys, replies):
            if reply.type == resp.INTEGER:
                freqs.append(reply.integer)
            elif reply.type == resp.ERROR:
                err(f"Error: {reply.text()}\n")
                raise SystemExit(1)
            else:
                err(f"Warning: OBJECT freq on '{quote(key).decode(errors='replace')}' failed (may have been deleted)\n")
                freqs.append(0)
        for key, freq in zip(keys, freqs):
            sampled += 1
            if sampled % 1000000 == 0:
                out(f"[{_fmt_pct(pct)}%] Sampled {sampled} keys so far\n")
            # A small sorted pool, lowest counter first, as redis-cli keeps it.
            k = 0
            while k < HOTKEYS_SAMPLE and freq > counters[k]:
                k += 1
            if k == 0:
                continue
            k -= 1
            if not (k == 0 or counters[k] == 0):
                counters[:k] = counters[1 : k + 1]
                names[:k] = names[1 : k + 1]
            counters[k] = freq
            names[k] = quote(key).decode("utf-8", "surrogateescape")
            out(f"[{_fmt_pct(pct)}%] Hot key '{names[k]}' found so far with counter {freq}\n")
        if sampled and sampled % 100 == 0 and config.interval:
            time.sleep(config.interval)
        if cursor == 0 or _cancel["requested"]:
            break
    out("\n-------- summary -------\n\n")
    if _cancel["requested"]:
        out(f"[{_fmt_pct(pct)}%] ")
    out(f"Sampled {sampled} keys in the keyspace!\n")
    for i in range(1, HOTKEYS_SAMPLE + 1):
        k = HOTKEYS_SAMPLE - i
        if counters[k] > 0:
            out(f"hot key found with counter: {counters[k]}\tkeyname: {names[k]}\n")
    return 0


def scan_mode(cli) -> int:
    """--scan: every key (matching --pattern), one per line; quoted on a terminal."""
    _connect_or_exit(cli)
    config = cli.config
    _catch_sigint()
    cursor = 0
    while True:
        cursor, keys = _send_scan(cli, cursor)
        if config.output == OUTPUT_STANDARD:
            write_stdout(b"".join(quote(key) + b"\n" for key in keys))
        else:
            write_stdout(b"".join(_c_string(key) + b"\n" for key in keys))
        if config.interval:
            time.sleep(config.interval)
        if cursor == 0 or _cancel["requested"]:
            return 0


def _c_string(data: bytes) -> bytes:
    nul = data.find(b"\0")
    return data if nul < 0 else data[:nul]


# -- --stat ----------------------------------------------------------------------------------------


def _info_field(info: bytes, field: str) -> bytes | None:
    """The value after ``field`` at its first occurrence in INFO (up to \\r or a comma)."""
    at = info.find(field.encode())
    if at < 0:
        return None
    start = at + len(field) + 1
    end = info.find(b"\r", start)
    if end < 0:
        end = len(info)
    comma = info.find(b",", start, end)
    if comma >= 0:
        end = comma
    return info[start:end]


def _info_long(info: bytes, field: str) -> int | None:
    value = _info_field(info, field)
    if value is None:
        return None
    digits = value.strip()
    sign = 1
    if digits[:1] in (b"-", b"+"):
        sign = -1 if digits[:1] == b"-" else 1
        digits = digits[1:]
    number = b""
    for byte in digits:
        if 48 <= byte <= 57:
            number += bytes([byte])
        else:
            break
    return sign * int(number) if number else 0


def bytes_to_human(n: int) -> str:
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n < 1024:
        return f"{sign}{n}B"
    if n < 1024 * 1024:
        return f"{sign}{n / 1024:.2f}K"
    if n < 1024**3:
        return f"{sign}{n / 1024 ** 2:.2f}M"
    if n < 1024**4:
        return f"{sign}{n / 1024 ** 3:.2f}G"
    return f"{sign}{n / 1024 ** 4:.2f}T"


def stat_mode(cli) -> int:
    """--stat: one line of key count, memory, clients, requests, connections per interval."""
    _connect_or_exit(cli)
    config = cli.config
    interval = config.interval or 1.0
    requests = 0
    line_number = 0
    while True:
        reply = reconnecting_call(cli, "INFO")
        if reply.type == resp.ERROR:
            out(f"ERROR: {reply.text()}\n")
            return 1
        info = reply.str
        if line_number % 20 == 0:
            out("------- data ------ --------------------- load -------------------- - child -\n"
                "keys       mem      clients blocked requests            connections          \n")
        line_number += 1
        keys = 0
        for db in range(20):
            value = _info_long(info, f"db{db}:keys")
            if value is not None:
                keys += value
        line = f"{keys:<11}"
        line += f"{bytes_to_human(_info_long(info, 'used_memory') or 0):<8}"
        line += f" {_info_long(info, 'connected_clients') or 0:<8}"
        line += f"{_info_long(info, 'blocked_clients') or 0:<8}"
        total = _info_long(info, "total_commands_processed") or 0
        line += f"{f'{total} (+{0 if requests == 0 else total - requests})':<19}"
        requests = total
        line += f" {_info_long(info, 'total_connections_received') or 0:<12}"
        children = (_info_long(info, "bgsave_in_progress") or 0)
        children |= (_info_long(info, "aof_rewrite_in_progress") or 0) << 1
        children |= (_info_long(info, "loading") or 0) << 2
        line += {1: "SAVE", 2: "AOF", 3: "SAVE+AOF", 4: "LOAD"}.get(children, "")
        out(line + "\n")
        time.sleep(interval)


# -- --lru-test, --intrinsic-latency ----------------------------------------------------------------


def _power_law(low: int, high: int, alpha: float) -> int:
    high += 1
    r = random.random()
    value = ((high ** (alpha + 1) - low ** (alpha + 1)) * r + low ** (alpha + 1)) ** (1.0 / (alpha + 1))
    return (high - 1 - int(value)) + low


def lru_test_mode(cli) -> int:
    """Half writes, half reads over keys drawn with an 80-20 distribution; hits per second."""
    _connect_or_exit(cli)
    keys = cli.config.lru_test_keys
    batch = 250
    while True:
        start = _ms()
        hits = misses = 0
        while _ms() - start < 1000:
            writes = []
            for _ in range(batch):
                value = "".join(chr(ord("A") + random.randrange(ord("z") - ord("A"))) for _ in range(5))
                writes.append([b"SET", f"lru:{_power_law(1, keys, 6.2)}".encode(), value.encode()])
            _pipeline(cli, writes)
            reads = [[b"GET", f"lru:{_power_law(1, keys, 6.2)}".encode()] for _ in range(batch)]
            for reply in _pipeline(cli, reads):
                if reply.type == resp.ERROR:
                    out(f"{reply.text()}\n")
                elif reply.type == resp.NIL:
                    misses += 1
                else:
                    hits += 1
        total = hits + misses
        out(f"{total} Gets/sec | Hits: {hits} ({hits / total * 100:.2f}%) | "
            f"Misses: {misses} ({misses / total * 100:.2f}%)\n")


def _compute_something_fast() -> int:
    state = list(range(256))
    i = j = output = 0
    for _ in range(1000):
        i = (i + 1) & 255
        j = (j + state[i]) & 255
        state[i], state[j] = state[j], state[i]
        output += state[(state[i] + state[j]) & 255]
    return output


def intrinsic_latency_mode(cli) -> int:
    """How long this process is kept from running: the worst gap around a short computation."""
    run_time = cli.config.intrinsic_latency * 1_000_000
    test_end = _us() + run_time
    _catch_sigint()
    max_latency = runs = 0
    while True:
        start = _us()
        _compute_something_fast()
        end = _us()
        latency = end - start
        runs += 1
        if latency <= 0:
            continue
        if latency > max_latency:
            max_latency = latency
            out(f"Max latency so far: {max_latency} microseconds.\n")
        avg_us = run_time / runs
        if _cancel["requested"] or end > test_end:
            out(f"\n{runs} total runs (avg latency: {avg_us:.4f} microseconds / {avg_us * 1e3:.2f} nanoseconds per run).\n")
            out(f"Worst run took {max_latency / avg_us:.0f}x longer than the average latency.\n")
            return 0


