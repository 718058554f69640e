"""vermilion-server's command line, configuration loading, startup log and process life, compared
with redis-server where the two should agree.

Bad configurations never start a server, so they run in-process (fast); good ones start real
subprocesses of both servers.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import hiredis
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import free_port, wait_for_port
from tests.resp_raw import RawConnection
from vermilion import startup
from vermilion.resp.reader import split_args

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")
VERMILION = [sys.executable, "-m", "vermilion"]
# "pid:role dd Mon yyyy HH:MM:SS.mmm mark message": the part after the timestamp is comparable.
LOG_PREFIX = re.compile(r"^(\d+):([CMSX]) \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} ([.*#-]) ", re.M)


def parse(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def config_map(port: int, password: str | None = None) -> dict:
    conn = RawConnection(port)
    if password:
        conn.call("AUTH", password)
    values = parse(conn.call("CONFIG", "GET", "*"))
    conn.close()
    return dict(zip(values[0::2], values[1::2]))


def log_messages(text: str) -> list[str]:
    """Log lines as "mark message" without pid and time."""
    return [LOG_PREFIX.sub(r"\3 ", line) for line in text.splitlines() if LOG_PREFIX.match(line)]


def run_ours(args: list[str], capsysbinary, stdin: bytes = b"", monkeypatch=None) -> tuple[int, bytes, bytes]:
    """startup.main in-process: only for arguments that make it exit before serving."""
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = startup.main(args)
    out, err = capsysbinary.readouterr()
    return code, out, err


def run_redis(args: list[str], cwd, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
    proc = subprocess.run([REDIS, *args], input=stdin, capture_output=True, timeout=10, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


class Process:
    """A server started as a subprocess, stopped (SIGTERM) at the end of the test."""

    def __init__(self, command: list[str], cwd, port: int | None) -> None:
        self.proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.port = port
        if port:
            # Generous: a loaded machine can take seconds to start a Python process.
            wait_for_port(port, timeout=30)

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, out.decode(), err.decode()


# -- -v, -h ------------------------------------------------------------------------------------


def test_version(capsysbinary):
    code, out, err = run_ours(["-v"], capsysbinary)
    assert code == 0 and err == b""
    assert re.fullmatch(
        rb"Vermilion server v=\d+\.\d+\.\d+ redis_version=7\.0\.15 sha=00000000:0 malloc=\S+ bits=64 build=[0-9a-f]+\n",
        out,
    )
    assert run_ours(["--version"], capsysbinary)[1] == out


def test_help(capsysbinary):
    code, out, err = run_ours(["-h"], capsysbinary)
    assert code == 1 and out == b""
    assert err.startswith(b"Usage: vermilion-server [/path/to/redis.conf] [options] [-]\n")
    assert run_ours(["--help"], capsysbinary)[2] == err


# -- configuration errors: same stderr text and exit code as redis-server ----------------------

BAD_ARGUMENTS = [
    ["--bogus", "1"],
    ["--port", "1", "2"],
    ["--port"],
    ["--port", "abc"],
    ["--port", "70000"],
    ["--loglevel", "foo"],
    ["--loglevel", "nothing"],
    ["--maxmemory", "1.5k"],
    ["--save", "1"],
    ["--save", "--bogus", "1"],
    ["--port", "1", "--daemonize", "maybe"],
    ["-x"],
    ["--rename-command", "nosuch", "foo"],
    ["--rename-command", "get", "set"],
    ["--user", "alice", "on", "--user", "alice", "off"],
    ["--notify-keyspace-events", "Z"],
    ["--client-output-buffer-limit", "foo 1 2 3"],
    ["--client-output-buffer-limit", "normal", "1", "2"],
    ["--oom-score-adj-values", "1", "2"],
    ["--replicaof", "a"],
    ["--replicaof", "a", "70000"],
    ["--unixsocketperm", "999"],
    ["--socket-mark-id", "-1"],
    ["--shutdown-on-sigint", "bogus"],
    ["--shutdown-on-sigint", "save nosave"],
    ["--latency-tracking-info-percentiles", "101"],
    ["--foo.bar"],
    ["--logfile", "/nonexistent/dir/x.log"],
    ["--activedefrag", "yes"],
    ["--list-max-ziplist-entries", "5", "--port", "-1"],
    ["--cluster-enabled", "yes", "--replicaof", "127.0.0.1", "7000"],
    ["--requirepass", "a\nb", "--bogus"],
    ["--dir", "/nonexistent/dir"],
    ["--sentinel-like", "x"],
]


@needs_redis
@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=lambda args: " ".join(args))
def test_bad_arguments_like_redis(args, capsysbinary, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = run_redis(args, tmp_path)
    assert expected[0] == 1
    assert run_ours(args, capsysbinary) == (1, expected[1], expected[2])


@needs_redis
def test_bad_config_file_like_redis(capsysbinary, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "unbalanced.conf").write_text('port 7000\n\n  requirepass "oops\n')
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("maxmemory 1mb\n")
    (tmp_path / "conf.d" / "b.conf").write_text("\n# nothing\nbogus line\n")
    (tmp_path / "globbed.conf").write_text(f"include {tmp_path}/conf.d/*.conf\n")
    (tmp_path / "missing.conf").write_text(f"include {tmp_path}/nowhere.conf\n")
    for args in (["unbalanced.conf"], ["globbed.conf"], [str(tmp_path / "nosuch.conf")], ["missing.conf"],
                 ["unbalanced.conf", "--port", "1"]):
        code, out, err = run_redis(args, tmp_path)
        ours = run_ours(args, capsysbinary)
        assert (ours[0], ours[2]) == (code, err), args
        assert log_messages(ours[1].decode()) == log_messages(out.decode()), args


@needs_redis
def test_bad_config_from_stdin_like_redis(capsysbinary, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = b"port 7000\nbogus\n"
    code, out, err = run_redis(["-"], tmp_path, stdin=text)
    ours = run_ours(["-"], capsysbinary, stdin=text, monkeypatch=monkeypatch)
    assert (ours[0], ours[2]) == (code, err)
    assert log_messages(ours[1].decode()) == log_messages(out.decode())


def test_command_line_to_config_text():
    assert startup.command_line_options(["--port", "7000", "--save", "", "--loglevel", "verbose"]) == (
        None, False, b'port "7000" \nsave "" \nloglevel "verbose" ')
    assert startup.command_line_options(["my.conf", "--save", "900", "1", "300", "10", "-"]) == (
        "my.conf", True, b'save "900" "1" "300" "10" ')
    # --save followed by another option (or nothing) means save "".
    assert startup.command_line_options(["--save", "--port", "1"])[2] == b'save ""\nport "1" '
    assert startup.command_line_options(["--save"])[2] == b'save ""'
    # A value may start with "--" when an option waits for it.
    assert startup.command_line_options(["--requirepass", "--x--"])[2] == b'requirepass "--x--" '
    assert startup.command_line_options(["--port 7000"])[2] == b"port 7000 "


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z][a-z-]{0,20}", fullmatch=True), st.lists(st.text(max_size=10), min_size=1, max_size=4))
def test_command_line_values_reach_the_config_line_intact(name, values):
    # Redis's reading: a later "--x" starts a new option, a final "-" means stdin.
    assume(values[-1] != "-" and not any(value.startswith("--") for value in values[1:]))
    assume(not (name == "save" and values[0].startswith("--")))
    _, _, text = startup.command_line_options([f"--{name}", *values])
    assert split_args(text) == [name.encode(), *(value.encode("utf-8", "surrogateescape") for value in values)]


# -- starting for real ---------------------------------------------------------------------


@needs_redis
def test_defaults_match_redis(tmp_path):
    ours_port, theirs_port = free_port(), free_port()
    ours = Process([*VERMILION, "--port", str(ours_port)], tmp_path, ours_port)
    theirs = Process([REDIS, "--port", str(theirs_port)], tmp_path, theirs_port)
    try:
        mine, real = config_map(ours_port), config_map(theirs_port)
    finally:
        ours.stop()
        theirs.stop()
    # Per run: the port. By design: Vermilion's default bind is loopback only ("127.0.0.1 -::1",
    # as redis.conf ships it) where redis-server's built-in default is "* -::*".
    assert mine.pop(b"port") == str(ours_port).encode()
    assert mine.pop(b"bind") == b"127.0.0.1 -::1" and real.pop(b"bind") == b"* -::*"
    real.pop(b"port")
    assert mine == real


@needs_redis
def test_config_file_with_include_quoting_and_units(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("maxmemory-policy allkeys-lru\ntimeout 30\n")
    (tmp_path / "conf.d" / "b.conf").write_text("timeout 40\n")
    (tmp_path / "main.conf").write_text(
        "# settings\n"
        f"include {tmp_path}/conf.d/*.conf\n"
        f"include {tmp_path}/conf.d/nothing-*.conf\n"
        "bind 127.0.0.1\n"
        "maxmemory 2MB\n"
        "client-query-buffer-limit 2gb\n"
        "proto-max-bulk-len 1g\n"
        "maxmemory-clients 5%\n"
        "masterauth \"pa ss\\x41\\n\"\n"
        "masteruser 'it\\'s'\n"
        "save 100 1\n"
        "save 200 2\n"
        "client-output-buffer-limit pubsub 1mb 2mb 3\n"
        "client-output-buffer-limit 'replica 3kb 1k 9'\n"
        "notify-keyspace-events KEA\n"
        "hz 600\n"
        "slave-priority 5\n"
        "hash-max-ziplist-entries 99\n"
        "list-max-ziplist-entries 5\n"
        "SLOWLOG-MAX-LEN 7\n"
        "unixsocketperm 700\n"
        "oom-score-adj relative\n"
        "shutdown-on-sigterm now nosave\n"
    )
    ours_port, theirs_port = free_port(), free_port()
    ours = Process([*VERMILION, "main.conf", "--port", str(ours_port)], tmp_path, ours_port)
    theirs = Process([REDIS, "main.conf", "--port", str(theirs_port)], tmp_path, theirs_port)
    try:
        mine, real = config_map(ours_port), config_map(theirs_port)
        info = RawConnection(ours_port).call("INFO", "server")
    finally:
        ours.stop()
        theirs.stop()
    assert f"config_file:{tmp_path}/main.conf\r\n".encode() in info
    assert mine.pop(b"port") != real.pop(b"port")
    assert mine == real
    assert mine[b"timeout"] == b"40" and mine[b"masterauth"] == b"pa ssA\n"


def _wait_for_file(path, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def test_startup_log_pidfile_and_sigterm(tmp_path):
    port = free_port()
    pidfile = tmp_path / "v.pid"
    server = Process([*VERMILION, "--port", str(port), "--save", "", "--pidfile", str(pidfile),
                      "--always-show-logo", "yes"], tmp_path, port)
    pid = server.proc.pid
    assert pidfile.read_text() == f"{pid}\n"
    code, out, err = server.stop()
    assert code == 0 and err == ""
    assert not pidfile.exists()
    messages = log_messages(out)
    assert messages == [
        "# oO0OoO0OoO0Oo Vermilion is starting oO0OoO0OoO0Oo",
        f"# Vermilion version={__import__('vermilion').__version__}, bits=64, commit=00000000, modified=0, "
        f"pid={pid}, just started",
        "# Configuration loaded",
        "* monotonic clock: POSIX clock_gettime",
        "# Server initialized",
        "* Ready to accept connections tcp",
        "# User requested shutdown...",
        "* Removing the pid file.",
        "# Redis is now ready to exit, bye bye...",
    ]
    lines = out.splitlines()
    assert lines[0].startswith(f"{pid}:C ") and lines[3].startswith(f"{pid}:M ")
    assert any(line.endswith(f" PID: {pid}") for line in lines)
    assert any(line.endswith(f"Port: {port}") for line in lines)
    assert re.search(rf"^{pid}:signal-handler \(\d+\) Received SIGTERM scheduling shutdown\.\.\.$", out, re.M)


def test_sigint_running_mode_line_and_unix_socket(tmp_path):
    port = free_port()
    path = tmp_path / "v.sock"
    server = Process([*VERMILION, "--port", str(port), "--save", "", "--loglevel", "verbose",
                      "--unixsocket", str(path), "--unixsocketperm", "700"], tmp_path, port)
    _wait_for_file(path)
    assert path.stat().st_mode & 0o777 == 0o700
    with socket.socket(socket.AF_UNIX) as unix:
        unix.connect(str(path))
        unix.sendall(b"PING\r\n")
        assert unix.recv(100) == b"+PONG\r\n"
    server.proc.send_signal(signal.SIGINT)
    code, out, _ = server.stop()
    assert code == 0
    messages = log_messages(out)
    assert f"* Running mode=standalone, port={port}." in messages
    assert messages.index("* Ready to accept connections tcp") + 1 == messages.index(
        f"* The server is now ready to accept connections at {path}")
    assert "* Removing the unix socket file." in messages and not path.exists()
    assert "Received SIGINT scheduling shutdown..." in out


@needs_redis
def test_bind_failure_like_redis(tmp_path):
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        args = ["--port", port, "--bind", "127.0.0.1"]
        ours = subprocess.run([*VERMILION, *args], capture_output=True, timeout=10, cwd=tmp_path)
        theirs = subprocess.run([REDIS, *args], capture_output=True, timeout=10, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 1
    expected = [
        f"# Warning: Could not create server TCP listening socket 127.0.0.1:{port}: bind: Address already in use",
        f"# Failed listening on port {port} (TCP), aborting.",
    ]
    assert log_messages(ours.stdout.decode())[-2:] == log_messages(theirs.stdout.decode())[-2:] == expected


@needs_redis
@pytest.mark.parametrize("args", [["--port", "0"], ["--bind", ""], ["--loadmodule", "/nonexistent/m.so"],
                                  ["--foo.bar", "1"], ["--tls-port", "6443"], ["--bind", "-192.0.2.1"]])
def test_early_exits_like_redis(args, tmp_path):
    if args[0] not in ("--port", "--bind") or args == ["--bind", "-192.0.2.1"]:
        args = ["--port", str(free_port()), *args]
    ours = subprocess.run([*VERMILION, *args], capture_output=True, timeout=10, cwd=tmp_path)
    theirs = subprocess.run([REDIS, *args], capture_output=True, timeout=10, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 1
    # Redis prints warnings about its allocator (memory overcommit) that have no meaning here.
    wanted = [line for line in log_messages(theirs.stdout.decode()) if "overcommit" not in line]
    assert log_messages(ours.stdout.decode())[-2:] == wanted[-2:]


def test_daemonize(tmp_path):
    port = free_port()
    pidfile, logfile = tmp_path / "d.pid", tmp_path / "d.log"
    launcher = subprocess.run(
        [*VERMILION, "--port", str(port), "--daemonize", "yes", "--pidfile", str(pidfile), "--logfile",
         str(logfile), "--save", ""],
        capture_output=True, timeout=10, cwd=tmp_path,
    )
    assert launcher.returncode == 0 and launcher.stdout == b"" and launcher.stderr == b""
    _wait_for_file(pidfile, timeout=30)
    daemon_pid = int(pidfile.read_text())
    try:
        wait_for_port(port, timeout=30)
        os.kill(daemon_pid, 0)  # the detached process is the one serving
        assert RawConnection(port).call("PING") == b"+PONG\r\n"
        assert parse(RawConnection(port).call("CONFIG", "GET", "daemonize")) == [b"daemonize", b"yes"]
    finally:
        os.kill(daemon_pid, signal.SIGTERM)
    deadline = time.time() + 10
    while pidfile.exists():
        assert time.time() < deadline
        time.sleep(0.02)
    text = logfile.read_text()
    assert "Removing the pid file." in text and "bye bye" in text
    assert f"{daemon_pid}:M " in text


def test_config_from_stdin(tmp_path):
    port = free_port()
    proc = subprocess.Popen([*VERMILION, "-", "--save", ""], cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(f"port {port}\nmaxmemory 3mb\n".encode())
    proc.stdin.close()
    proc.stdin = None
    wait_for_port(port, timeout=30)
    assert parse(RawConnection(port).call("CONFIG", "GET", "maxmemory")) == [b"maxmemory", b"3145728"]
    # Read from stdin only: there is no file for CONFIG REWRITE.
    assert RawConnection(port).call("CONFIG", "REWRITE") == b"-ERR The server is running without a config file\r\n"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert "# Reading config from stdin" in log_messages(out.decode())


REWRITE_SETS = [
    ("maxmemory", "2mb"),
    ("save", "300 3"),
    ("notify-keyspace-events", "Ex"),
    ("client-output-buffer-limit", "pubsub 64mb 16mb 90"),
    ("maxmemory-clients", "5%"),
    ("loglevel", "verbose"),
    ("hz", "1000"),
    ("appendfsync", "always"),
    ("masterauth", 'a "quoted" secret'),
    ("proto-max-bulk-len", "1000000000"),
    ("slowlog-log-slower-than", "-1"),
    ("requirepass", "pw"),
]


@needs_redis
def test_config_rewrite_like_redis(tmp_path):
    texts = {}
    ports = {}
    for who, command in (("ours", VERMILION), ("theirs", [REDIS])):
        home = tmp_path / who
        home.mkdir()
        port = ports[who] = free_port()
        (home / "redis.conf").write_text(
            "# rewritten by both servers\n"
            f"port {port}\n"
            "bind 127.0.0.1\n"
            "\n\n"
            "save 100 1\n"
            "save 200 2\n"
            "slave-priority 50\n"
            "maxmemory 1mb\n"
            "hash-max-ziplist-entries 100\n"
            "list-max-ziplist-entries 5\n"
            "timeout 0\n"
            f"dir {home}\n"
        )
        server = Process([*command, str(home / "redis.conf")], tmp_path, port)
        try:
            conn = RawConnection(port)
            for name, value in REWRITE_SETS:
                assert conn.call("CONFIG", "SET", name, value) == b"+OK\r\n"
            assert conn.call("CONFIG", "REWRITE") == b"+OK\r\n"
            conn.close()
        finally:
            server.stop()
        text = (home / "redis.conf").read_text()
        texts[who] = text.replace(str(port), "PORT").replace(str(home), "HOME")
    ours, theirs = texts["ours"].split("\n"), texts["theirs"].split("\n")
    cut_ours, cut_theirs = ours.index("# Generated by CONFIG REWRITE"), theirs.index("# Generated by CONFIG REWRITE")
    # Lines already in the file are rewritten in place; appended ones come in Redis's hash order.
    assert ours[:cut_ours] == theirs[:cut_theirs]
    assert sorted(ours[cut_ours:]) == sorted(theirs[cut_theirs:])

    # The rewritten file starts a server with the same configuration.
    home = tmp_path / "ours"
    port = ports["ours"]
    before_restart = (home / "redis.conf").read_text()
    server = Process([*VERMILION, str(home / "redis.conf")], tmp_path, port)
    try:
        values = config_map(port, password="pw")
    finally:
        server.stop()
    assert values[b"maxmemory"] == b"2097152" and values[b"save"] == b"300 3"
    assert values[b"masterauth"] == b'a "quoted" secret' and values[b"hz"] == b"500"
    assert (home / "redis.conf").read_text() == before_restart
