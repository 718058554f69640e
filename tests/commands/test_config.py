"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP, mostly differential against a real redis-server.

CONFIG SET changes the server for everyone, so these tests use their own pair of servers (an
in-process Vermilion and a real redis-server started with the same settings) instead of the
session-wide ones. Parsing helpers are unit-tested (with hypothesis) at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import hiredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Differ, free_port, wait_for_port
from tests.resp_raw import RawConnection, encode_command
from vermilion import config as cfg
from vermilion.config import Config, ConfigError, memtoull
from vermilion.registry import COMMANDS
from vermilion.testing import run_in_server, start_server

# Parameters whose values depend on the machine or the run, not on the implementation.
PER_MACHINE = {
    "dir",  # each server runs in its own working directory
    "port",  # each listens on its own port (ours took a free one: port 0 in its config)
}
# Left out of the CONFIG SET sweep because setting them acts on the process, not just on a value;
# each is tested on its own below.
SWEEP_SKIPPED = {
    "port", "bind",  # rebind listeners
    "dir",  # changes the working directory
    "maxclients",  # changes the process's open files limit
    "appendonly",  # real Redis starts writing an AOF
}


def parse(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def pairs_of(raw: bytes) -> dict:
    """A CONFIG GET reply (RESP2 array or RESP3 map) as a dict."""
    value = parse(raw)
    if isinstance(value, dict):
        return value
    return dict(zip(value[0::2], value[1::2]))


def pipeline(conn: RawConnection, commands: list[tuple]) -> list[bytes]:
    conn.send_raw(b"".join(encode_command(command) for command in commands))
    return [conn.read_reply() for _ in commands]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A real redis-server and an in-process Vermilion started with the same settings."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    workdir = tmp_path_factory.mktemp("config-oracle")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--bind", "127.0.0.1", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    ours = start_server(save="", bind="127.0.0.1")
    try:
        wait_for_port(port)
        yield ours, port
    finally:
        ours.stop()
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def cdiff(pair):
    ours, port = pair
    differ = Differ(RawConnection(ours.port), RawConnection(port))
    yield differ
    differ.ours.close()
    differ.theirs.close()


def check_map(differ: Differ, *command) -> dict:
    """Same CONFIG GET answer (order aside: Redis's is its hash table's order)."""
    ours, theirs = differ.both(*command)
    assert ours[:1] == theirs[:1], (command, ours, theirs)
    mine, real = pairs_of(ours), pairs_of(theirs)
    assert mine.keys() == real.keys(), (command, mine.keys() ^ real.keys())
    for name in mine:
        if name.lower().decode() in PER_MACHINE:
            mine[name] = real[name]
    assert mine == real, (command, set(mine.items()) ^ set(real.items()))
    return mine


# -- CONFIG GET ----------------------------------------------------------------------------


def test_get_everything_matches_redis(cdiff):
    ours = pairs_of(cdiff.ours.call("CONFIG", "GET", "*"))
    theirs = pairs_of(cdiff.theirs.call("CONFIG", "GET", "*"))
    assert set(ours) == set(theirs)
    different = {name.decode() for name in ours if ours[name] != theirs[name]}
    assert different <= PER_MACHINE, {name: (ours[name.encode()], theirs[name.encode()]) for name in different}


def test_get_patterns(cdiff):
    for command in (
        ("CONFIG", "GET", "*max*"),
        ("CONFIG", "GET", "maxmemory", "*slave*", "hz"),
        ("CONFIG", "GET", "*MAXMEMORY*"),
        ("CONFIG", "GET", "p?rt", "[pq]ort", "port", "*"),
        ("CONFIG", "GET", "hash-max-*", "zset-max-zip*"),
        ("CONFIG", "GET", "*[^a-z-_]*"),
        ("CONFIG", "GET", "nosuch*", "nosuch"),
        # Hidden parameters answer an exact name only.
        ("CONFIG", "GET", "*delay*"),
        ("CONFIG", "GET", "watchdog-period", "key-load-delay", "use-exit-on-panic"),
    ):
        check_map(cdiff, *command)


def test_get_exact_names(cdiff):
    cdiff.check("CONFIG", "GET", "maxmemory")
    cdiff.check("CONFIG", "GET", "nosuch")
    cdiff.check("CONFIG", "GET", "loading-process-events-interval-bytes")
    # An exact name is answered spelled as asked, and only once whatever its case.
    cdiff.check("CONFIG", "GET", "MaxMemory")
    cdiff.check("CONFIG", "GET", "HZ", "hz", "h?")
    cdiff.check("CONFIG", "GET", "slave-read-only")
    cdiff.check("CONFIG", "GET")
    cdiff.check("CONFIG")
    cdiff.check("CONFIG", "NOSUCH")


def test_get_resp3_is_a_map(cdiff):
    cdiff.ours.call("HELLO", "3")
    cdiff.theirs.call("HELLO", "3")
    cdiff.check("CONFIG", "GET", "maxmemory")
    assert cdiff.ours.call("CONFIG", "GET", "hz", "maxmemory-policy").startswith(b"%2\r\n")
    check_map(cdiff, "CONFIG", "GET", "*max*")


# -- CONFIG SET: every parameter, many values -------------------------------------------------

COMMON_VALUES = ["", "abc", "-1", "0", "1", "yes", "no", "x y"]
VALUES_BY_KIND = {
    "bool": ["YES", "No", "y", "true"],
    "int": ["5", "-5", "007", "+3", " 1", "1 ", "2147483647", "2147483648", "-2147483649", "4294967295",
            "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1k", "99", "100"],
    "memory": ["1k", "1KB", "2mb", "1g", "3Gb", "1B", "1.5k", "0x10", "-0", "+5", "007", "1kbb",
               "1048575", "1048576", "18446744073709551615", "18446744073709551616", "17179869184gb", "5%"],
    "percent": ["5%", "100%", "101%", "0%", "-5%", "%", "5 %", "1k", "9223372036854775808", "18446744073709551615"],
    "octal": ["0777", "777", "700", "999", "1000", "-1", "+7", " 7", "0x1"],
    "string": ["a/b", "a\\b", "host-name.example", "bad_host", "{title}", "{foo}", "   ", "{title",
               "{{", "x" * 300],
    "enum": ["bogus", "now nosave", "save nosave", "default now", "DEFAULT", "relative", "Absolute"],
    "flags": ["now nosave", "save nosave", "default now", "Default", "nosave  now", "force", "bogus"],
}
VALUES_BY_NAME = {
    "save": ["1 1", "1  1", " 1 1", "+1 -0", "1 4294967297", "0 1", "1", "a b", "3600 1 300 100", '""'],
    "client-output-buffer-limit": [
        "normal 1 2 3", "REPLICA 1k 2kb 3 Pubsub 1 1 +4", "master 1 1 1", "normal 1 1 -1", "normal 1 1",
        "slave 1 1 1 slave 2 2 2", "pubsub 1mb 1.5mb 3", "normal 1 1 4294967296",
    ],
    "notify-keyspace-events": ["KEA", "AKEmn", "g$lshzxetd", "g$lshzxet", "Z", "Kx", "EKmnd", "A"],
    "oom-score-adj-values": ["1 2 3", "1 2 3000", "1 2", "-2000 0 2000", "3 2 1", "1 2 x", " 1 2 3"],
    "latency-tracking-info-percentiles": ["50 99 99.9", "0.5 99.99999 100", "inf", " 5", "101", "1e1",
                                          "0x10", "nan", "1.0 2.50", "-0"],
    "replicaof": ["no one", "127.0.0.1 6380"],
    "slaveof": ["no one"],
}


def _sweep_values(name: str) -> list[str]:
    param = cfg.lookup(name)
    values = COMMON_VALUES + VALUES_BY_KIND.get(param.kind, []) + VALUES_BY_NAME.get(name, [])
    values += [value.upper() for value in param.enum_values]
    return values


def test_set_every_parameter_like_redis(cdiff):
    names = sorted(name.decode() for name in pairs_of(cdiff.theirs.call("CONFIG", "GET", "*")))
    mismatches = []
    for name in names:
        if name in SWEEP_SKIPPED:
            continue
        initial = parse(cdiff.theirs.call("CONFIG", "GET", name))[1]
        commands = []
        for value in _sweep_values(name):
            commands.append(("CONFIG", "SET", name, value))
            commands.append(("CONFIG", "GET", name))
        commands.append(("CONFIG", "SET", name, initial))
        for command, ours, theirs in zip(commands, pipeline(cdiff.ours, commands), pipeline(cdiff.theirs, commands)):
            if ours != theirs:
                mismatches.append((command, ours, theirs))
    assert not mismatches, mismatches[:10]


def test_set_errors_and_atomicity(cdiff):
    cdiff.run(
        """
        CONFIG SET
        CONFIG SET maxmemory
        CONFIG SET maxmemory 1 maxmemory-policy
        CONFIG SET nosuch 1
        CONFIG SET NoSuch 1 maxmemory 1
        CONFIG SET maxmemory 1 nosuch 1
        CONFIG SET databases 1
        CONFIG SET DATABASES 1 nosuch 1
        CONFIG SET nosuch 1 databases 1
        CONFIG SET dbfilename x.rdb
        CONFIG SET dir /
        CONFIG SET hz 5 hz 6
        CONFIG SET hz 5 HZ 6
        CONFIG SET hz 5 databases 1 hz 6
        CONFIG SET hz 5 hz 6 databases 1
        CONFIG SET hz 5 maxmemory abc
        CONFIG GET hz
        CONFIG GET maxmemory
        CONFIG SET maxmemory 10mb hz abc
        CONFIG GET maxmemory
        CONFIG SET SLAVE-PRIORITY abc
        CONFIG SET slave-priority 7 replica-priority 8
        CONFIG GET replica-priority
        CONFIG SET replica-priority 100
        CONFIG SET save abc maxmemory 1
        CONFIG GET save
        CONFIG SET logfile x
        CONFIG SET slaveof no
        CONFIG SET hz 0
        CONFIG GET hz
        CONFIG SET hz 100000
        CONFIG GET hz
        CONFIG SET hz 10 maxmemory 0
        CONFIG SET repl-backlog-size 1
        CONFIG GET repl-backlog-size
        CONFIG SET repl-backlog-size 1mb
        """
    )


def test_set_multi_argument_values(cdiff):
    cdiff.run(
        """
        CONFIG SET save 100
        CONFIG SET client-output-buffer-limit normal
        """
    )
    for command in (
        ("CONFIG", "SET", "save", "100 1 200 2"),
        ("CONFIG", "GET", "save"),
        ("CONFIG", "SET", "save", ""),
        ("CONFIG", "GET", "save"),
        ("CONFIG", "SET", "shutdown-on-sigint", "now nosave"),
        ("CONFIG", "GET", "shutdown-on-sigint"),
        ("CONFIG", "SET", "shutdown-on-sigint", "default"),
        ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 90 normal 1 2 3"),
        ("CONFIG", "GET", "client-output-buffer-limit"),
        ("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60"),
        ("CONFIG", "GET", "client-output-buffer-limit"),
    ):
        cdiff.check(*command)


def test_protected_configs_allowed_locally():
    server = start_server(enable_protected_configs="local")
    try:
        conn = RawConnection(server.port)
        assert conn.call("CONFIG", "SET", "dbfilename", "other.rdb") == b"+OK\r\n"
        assert parse(conn.call("CONFIG", "GET", "dbfilename")) == [b"dbfilename", b"other.rdb"]
        assert conn.call("CONFIG", "SET", "dbfilename", "a/b.rdb") == (
            b"-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - "
            b"dbfilename can't be a path, just a filename\r\n"
        )
        conn.close()
    finally:
        server.stop()


def test_set_dir(cdiff, tmp_path):
    before = os.getcwd()
    server = start_server(enable_protected_configs="yes")
    try:
        conn = RawConnection(server.port)
        assert conn.call("CONFIG", "SET", "dir", str(tmp_path)) == b"+OK\r\n"
        assert parse(conn.call("CONFIG", "GET", "dir"))[1] == str(tmp_path).encode()
        assert conn.call("CONFIG", "SET", "dir", str(tmp_path / "missing")) == (
            b"-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory\r\n"
        )
        # A failure later in the same command puts the directory back.
        assert conn.call("CONFIG", "SET", "dir", before, "hz", "x").startswith(b"-ERR")
        assert parse(conn.call("CONFIG", "GET", "dir"))[1] == str(tmp_path).encode()
        conn.close()
    finally:
        os.chdir(before)
        server.stop()


def test_maxclients(cdiff):
    cdiff.run(
        """
        CONFIG SET maxclients 0
        CONFIG SET maxclients abc
        CONFIG SET maxclients 4294967296
        CONFIG SET maxclients 100
        CONFIG GET maxclients
        CONFIG SET maxclients 10000
        """
    )


# -- CONFIG SET with effects: port, bind, requirepass, loglevel -----------------------------


def test_set_port_rebinds():
    server = start_server(bind="127.0.0.1")
    try:
        conn = RawConnection(server.port)
        new_port = free_port()
        assert conn.call("CONFIG", "SET", "port", str(new_port)) == b"+OK\r\n"
        wait_for_port(new_port)
        other = RawConnection(new_port)
        assert other.call("PING") == b"+PONG\r\n"
        # The connection that asked stays up.
        assert conn.call("PING") == b"+PONG\r\n"
        assert server.port == new_port
        # A port already in use fails and leaves everything as it was.
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            taken = busy.getsockname()[1]
            assert conn.call("CONFIG", "SET", "port", str(taken)) == (
                b"-ERR CONFIG SET failed (possibly related to argument 'port') - "
                b"Unable to listen on this port. Check server logs.\r\n"
            )
        assert parse(conn.call("CONFIG", "GET", "port")) == [b"port", str(new_port).encode()]
        wait_for_port(new_port)
        assert RawConnection(new_port).call("PING") == b"+PONG\r\n"
        other.close()
        conn.close()
    finally:
        server.stop()


def test_set_port_in_use_matches_redis(cdiff):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cdiff.check("CONFIG", "SET", "port", str(busy.getsockname()[1]))


def test_set_bind_rebinds_and_restores_on_failure(cdiff, pair):
    ours, theirs_port = pair
    cdiff.check("CONFIG", "SET", "bind", "192.0.2.1")
    cdiff.check("CONFIG", "GET", "bind")
    cdiff.check("CONFIG", "SET", "bind", " ".join(["127.0.0.1"] * 17))
    # Both still listen on the old address after the failures.
    wait_for_port(ours.port)
    wait_for_port(theirs_port)
    cdiff.check("CONFIG", "SET", "bind", "127.0.0.1 -::1")
    cdiff.check("CONFIG", "GET", "bind")
    cdiff.check("CONFIG", "SET", "bind", "127.0.0.1")
    wait_for_port(ours.port)


def test_bind_change_keeps_serving():
    server = start_server(bind="127.0.0.1")
    try:
        conn = RawConnection(server.port)
        assert conn.call("CONFIG", "SET", "bind", "-::1 127.0.0.1") == b"+OK\r\n"
        wait_for_port(server.port)
        assert RawConnection(server.port).call("PING") == b"+PONG\r\n"
        conn.close()
    finally:
        server.stop()


def test_requirepass_applies_to_new_connections():
    server = start_server()
    try:
        conn = RawConnection(server.port)
        assert conn.call("CONFIG", "SET", "requirepass", "secret") == b"+OK\r\n"
        assert conn.call("PING") == b"+PONG\r\n"
        fresh = RawConnection(server.port)
        assert fresh.call("PING").startswith(b"-NOAUTH")
        assert fresh.call("AUTH", "secret") == b"+OK\r\n"
        assert conn.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
        assert RawConnection(server.port).call("PING") == b"+PONG\r\n"
    finally:
        server.stop()


def test_loglevel_filters_log_lines(tmp_path):
    logfile = tmp_path / "v.log"
    server = start_server(logfile=str(logfile))
    try:
        conn = RawConnection(server.port)
        run_in_server(server, lambda: server.log("notice", "first notice"))
        assert conn.call("CONFIG", "SET", "loglevel", "warning") == b"+OK\r\n"
        run_in_server(server, lambda: server.log("notice", "second notice"))
        run_in_server(server, lambda: server.log("warning", "a warning"))
        text = logfile.read_text()
        assert "first notice" in text and "second notice" not in text
        assert f"{os.getpid()}:M " in text and " # a warning" in text
    finally:
        server.stop()


# -- RESETSTAT, REWRITE, HELP ------------------------------------------------------------


def test_resetstat(cdiff, pair):
    ours, _ = pair
    cdiff.check("SET", "k", "v")
    cdiff.check("GET", "k")
    cdiff.check("NOSUCHCOMMAND")
    cdiff.check("CONFIG", "RESETSTAT")
    cdiff.check("CONFIG", "RESETSTAT", "extra")
    stats = ours.stats
    assert stats.total_error_replies == 1  # the arity error just above
    assert all(command.calls == 0 for name, command in COMMANDS.items() if name != "config|resetstat")
    assert COMMANDS["config|resetstat"].calls == 1


def test_rewrite_without_a_file(cdiff):
    cdiff.check("CONFIG", "REWRITE")
    cdiff.check("CONFIG", "REWRITE", "extra")


def test_help(cdiff):
    lines = parse(cdiff.ours.call("CONFIG", "HELP"))
    theirs = parse(cdiff.theirs.call("CONFIG", "HELP"))
    assert lines[0] == theirs[0]
    # The same subcommands are described, each on a line that starts with its name.
    assert [line.split()[0] for line in lines if not line.startswith(b" ")] == [
        line.split()[0] for line in theirs if not line.startswith(b" ")
    ]
    cdiff.check("CONFIG", "HELP", "extra")


# -- configuration values and text, without a server -------------------------------------


def test_defaults_show_as_redis_shows_them():
    config = Config()
    assert config.show("save") == "3600 1 300 100 60 10000"
    assert config.show("client-output-buffer-limit") == (
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    )
    assert config.show("latency-tracking-info-percentiles") == "50 99 99.9"
    assert config.show("proto-max-bulk-len") == "536870912"
    assert config.show("unixsocketperm") == "0"
    # Vermilion's default bind is loopback (redis.conf's); redis-server built-in is "* -::*".
    assert config.show("bind") == "127.0.0.1 -::1"


def test_set_accepts_python_values_and_config_text():
    config = Config()
    config.set("port", 7000)
    config.set("maxmemory", "1gb")
    config.set("appendonly", "yes")
    config.set("save", "")
    config.set("bind", "127.0.0.1 -::1")
    config.set("enable-debug-command", "local")
    assert (config.port, config.maxmemory, config.appendonly) == (7000, 1024**3, True)
    assert (config.save, config.bind, config.enable_debug_command) == ([], ["127.0.0.1", "-::1"], "local")
    with pytest.raises(ConfigError, match="argument must be a memory value"):
        config.set("maxmemory", "lots")


def test_load_text_rules():
    config = Config()
    config.load_text(
        b"# comment\n"
        b"   \n"
        b"  maxmemory 2MB  \r\n"
        b'save 100 1\nsave "200" 2\n'
        b"MAXMEMORY-POLICY allkeys-lru\n"
        b"list-max-ziplist-entries 5\n"
        b'requirepass "a b\\x41"\n'
        b"client-output-buffer-limit 'pubsub 1mb 2mb 3'\n"
        b"hz 0\n"
    )
    assert config.maxmemory == 2 * 1024 * 1024
    assert config.save == [(100, 1), (200, 2)]
    assert config.maxmemory_policy == "allkeys-lru"
    assert config.requirepass == "a bA"
    assert config.client_output_buffer_limit["pubsub"] == (1024**2, 2 * 1024**2, 3)
    assert config.hz == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (b"bogus 1", 1, "Bad directive or wrong number of arguments"),
        (b"\n\nport 1 2", 3, "wrong number of arguments"),
        (b'port "1', 1, "Unbalanced quotes in configuration line"),
        (b"maxmemory lots", 1, "argument must be a memory value"),
        (b"rename-command nosuch x", 1, "No such command in rename-command"),
        (b"rename-command get set", 1, "Target command name already exists"),
        (b"foo.bar", 1, "Module config specified without value"),
        (b"sentinel monitor x", 1, "sentinel directive while not in sentinel mode"),
        (b"user a on\nuser a off", 2, "Error in user declaration 'a': Duplicate user found. "
                                      "A user can only be defined once in config files"),
    ],
)
def test_load_errors(text, line, message):
    with pytest.raises(cfg.ConfigLoadError) as caught:
        Config().load_text(text)
    assert (caught.value.line_number, caught.value.message) == (line, message)


def test_rename_command_chain():
    config = Config()
    config.load_text(b"rename-command get fetch\nrename-command fetch grab\nrename-command set \"\"\n")
    assert config.renamed_commands == [("get", "fetch"), ("fetch", "grab"), ("set", "")]
    with pytest.raises(cfg.ConfigLoadError):
        config.load_text(b"rename-command get x\n")


def test_rewrite_text_keeps_comments_and_places_lines():
    config = Config()
    old = (
        "# my settings\n"
        "port 7000\n"
        "\n\n\n"
        "slave-priority 50\n"
        "save 100 1\n"
        "save 200 2\n"
        "save 300 3\n"
        "hash-max-ziplist-entries 100\n"
        "list-max-ziplist-entries 5\n"
        "include /etc/other.conf\n"
        "maxmemory 1mb\n"
    )
    config.load_text(cfg.raw_of(old.replace("include /etc/other.conf\n", "")))
    config.port = 7000
    config.maxmemory = 3 * 1024 * 1024
    config.save = [(10, 1)]
    config.notify_keyspace_events = cfg.keyspace_events_from_string("Ex")
    text = cfg.rewrite_config_text(config, old)
    lines = text.split("\n")
    assert lines[:5] == ["# my settings", "port 7000", "", "replica-priority 50", "save 10 1"]
    assert "hash-max-listpack-entries 100" in lines  # an alias line gets the parameter's name
    assert "# ??? list-max-ziplist-entries 5" in lines
    assert "include /etc/other.conf" in lines
    assert "maxmemory 3mb" in lines
    signature = lines.index(cfg.REWRITE_SIGNATURE)
    appended = lines[signature + 1:]
    assert 'notify-keyspace-events "xE"' in appended
    assert any(line.startswith("dir ") for line in appended)
    assert "user default on nopass ~* &* +@all" in appended
    assert "save 200 2" not in lines and "save 300 3" not in lines


# -- properties -----------------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(sorted(_UNITS)), st.booleans())
def test_memtoull_units(number, unit, upper):
    text = f"{number}{unit.upper() if upper else unit}"
    assert memtoull(text) == number * _UNITS[unit]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789kKmMgGbB-+. x%", max_size=12))
def test_memtoull_never_raises_and_stays_64_bit(text):
    value = memtoull(text)
    assert value is None or 0 <= value < 2**64


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="Ag$lshzxeKEtmdn", max_size=20))
def test_keyspace_events_canonical_form_is_stable(classes):
    flags = cfg.keyspace_events_from_string(classes)
    shown = cfg.keyspace_events_to_string(flags)
    assert cfg.keyspace_events_to_string(cfg.keyspace_events_from_string(shown)) == shown


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_c_repr_reads_back(value):
    from vermilion.resp.reader import split_args

    assert split_args(cfg.raw_of(cfg.c_repr(value))) == [cfg.raw_of(value)]


def test_config_get_in_server_sees_set(pair):
    ours, _ = pair
    conn = RawConnection(ours.port)
    assert conn.call("CONFIG", "SET", "slowlog-max-len", "7") == b"+OK\r\n"
    assert run_in_server(ours, lambda: ours.config.slowlog_max_len) == 7
    assert conn.call("CONFIG", "SET", "slowlog-max-len", "128") == b"+OK\r\n"
    conn.close()
