"""vermilion-cli's tool modes and connection features, against redis-cli 7.0's behaviour."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import hiredis
import pytest

from tests.cli.conftest import VERMILION_CLI, CliPair, require_binary, run

KEYSPACE = b"""\
MSET a 1 bb 22 ccc 333 "spaced key" x "bin\\x00key" y
RPUSH list1 a b c
RPUSH list2 a
SADD set1 x y z
HSET hash1 f v
ZADD zset1 1 m 2 n
XADD stream1 1-1 f v
"""


def _load_keyspace(pair) -> None:
    pair.redis(stdin=KEYSPACE)
    # Let the server finish rehashing its key table, so that SCAN's order stays the same for
    # both programs.
    time.sleep(0.3)


def test_scan_and_key_samplers(cli_pair):
    _load_keyspace(cli_pair)
    cli_pair.same("--scan")
    cli_pair.same("--no-raw", "--scan")
    cli_pair.same("--scan", "--pattern", "list*")
    cli_pair.same("--scan", "--quoted-pattern", '"bin\\x00*"')
    cli_pair.same("--scan", "--quoted-pattern", '"broken')
    cli_pair.same("--bigkeys")
    cli_pair.same("--bigkeys", "--pattern", "*1")
    cli_pair.same("--memkeys")
    cli_pair.same("--memkeys-samples", "2")
    cli_pair.same("--hotkeys")  # no LFU policy: the server's error, exit status 1
    cli_pair.redis("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    try:
        cli_pair.same("--hotkeys")
    finally:
        cli_pair.redis("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_scan_count_lists_every_key(cli_pair):
    """--count (a redis-cli 7.2 option) passes COUNT to SCAN."""
    cli_pair.redis(stdin=KEYSPACE)
    everything = sorted(cli_pair.redis("--scan").out.split(b"\n"))
    assert sorted(cli_pair.vermilion("--scan", "--count", "2").out.split(b"\n")) == everything


def test_key_samplers_against_vermilion(cli_pair_vermilion):
    _load_keyspace(cli_pair_vermilion)
    cli_pair_vermilion.same("--scan")
    cli_pair_vermilion.same("--bigkeys")


def _mass_insert_file(path, count: int, bad: bool = False) -> None:
    with open(path, "wb") as handle:
        chunk = []
        for i in range(count):
            key = b"key:%d" % i
            value = b"value:%d" % i
            chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
            if len(chunk) == 10000:
                handle.write(b"".join(chunk))
                chunk = []
        if bad:
            chunk.append(b"*2\r\n$4\r\nINCR\r\n$5\r\nkey:1\r\n")
        handle.write(b"".join(chunk))


@pytest.mark.parametrize("target", ["redis", "vermilion"])
def test_pipe_mass_insertion(target, cli_pair, cli_pair_vermilion, tmp_path):
    pair = cli_pair if target == "redis" else cli_pair_vermilion
    data = tmp_path / "mass.resp"
    _mass_insert_file(data, 50_000)
    results = []
    for runner in (pair.redis, pair.vermilion):
        pair.redis("FLUSHALL")
        results.append(runner("--pipe", stdin=data.read_bytes()))
        assert pair.redis("DBSIZE").out == b"50000\n"
        assert pair.redis("GET", "key:49999").out == b"value:49999\n"
    theirs, ours = results
    assert ours == theirs
    assert ours.out == (b"All data transferred. Waiting for the last reply...\n"
                        b"Last reply received from server.\nerrors: 0, replies: 50000\n")


def test_pipe_reports_errors(cli_pair, tmp_path):
    data = tmp_path / "bad.resp"
    _mass_insert_file(data, 100, bad=True)
    theirs = cli_pair.redis("--pipe", stdin=data.read_bytes())
    ours = cli_pair.vermilion("--pipe", stdin=data.read_bytes())
    assert ours == theirs
    assert ours.rc == 1 and b"errors: 1, replies: 101" in ours.out


def test_latency_single_shot(cli_pair):
    raw = re.compile(rb"^\d+ \d+ \d+\.\d\d \d+\n$")
    csv = re.compile(rb"^\d+,\d+,\d+\.\d\d,\d+\n$")
    for runner in (cli_pair.redis, cli_pair.vermilion):
        assert raw.match(runner("--latency", "-i", "0.2").out)
        assert csv.match(runner("--latency", "--csv", "-i", "0.2").out)


def test_stat_and_latency_history_and_dist(cli_pair):
    port = ["-p", str(cli_pair.port)]
    modes = {"stat": ["--stat", "-i", "0.1"], "history": ["--latency-history", "-i", "0.3"],
             "dist": ["--latency-dist", "-i", "0.2"]}
    processes = {name: subprocess.Popen(VERMILION_CLI + port + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for name, args in modes.items()}
    time.sleep(2.0)
    output = {}
    for name, process in processes.items():
        process.send_signal(signal.SIGINT)
        output[name] = process.communicate(timeout=10)[0].decode()
    lines = output["stat"].splitlines()
    assert lines[0] == "------- data ------ --------------------- load -------------------- - child -"
    assert lines[1].startswith("keys       mem      clients blocked requests")
    assert re.match(r"^\d+ +\d+(\.\d\d)?[BKMG] +\d+ +\d+ +\d+ \(\+\d+\) +\d+", lines[2]), lines[2]
    assert re.search(r"\d+ \d+ \d+\.\d\d \d+\n -- 0\.\d\d seconds range\n", output["history"]), output["history"]
    assert "K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds" in output["dist"]
    assert "\x1b[48;5;" in output["dist"]


def test_rdb_transfer(cli_pair, tmp_path):
    cli_pair.redis(stdin=KEYSPACE)
    # No 5 s wait for other replicas before a diskless transfer.
    delay = cli_pair.redis("CONFIG", "GET", "repl-diskless-sync-delay").out.split(b"\n")[1].decode()
    cli_pair.redis("CONFIG", "SET", "repl-diskless-sync-delay", "0")
    try:
        _check_rdb_transfer(cli_pair, tmp_path)
    finally:
        cli_pair.redis("CONFIG", "SET", "repl-diskless-sync-delay", delay)


def _check_rdb_transfer(cli_pair, tmp_path):
    theirs = run([cli_pair.redis_cli], ["-p", str(cli_pair.port), "--rdb", str(tmp_path / "theirs.rdb")])
    ours = cli_pair.vermilion("--rdb", str(tmp_path / "ours.rdb"))
    assert ours.rc == theirs.rc == 0
    assert ours.err.replace(b"ours", b"theirs") == theirs.err
    assert (tmp_path / "ours.rdb").read_bytes()[:9] == b"REDIS0010"
    assert (tmp_path / "ours.rdb").stat().st_size == (tmp_path / "theirs.rdb").stat().st_size
    functions = cli_pair.vermilion("--functions-rdb", str(tmp_path / "functions.rdb"))
    assert functions.rc == 0 and b"REPLCONF rdb-filter-only functions" in functions.err


def test_eval_script(cli_pair, tmp_path):
    script = tmp_path / "script.lua"
    script.write_text("return {KEYS[1], ARGV[1], #KEYS, #ARGV}")
    cli_pair.same("--eval", str(script), "k1", "k2", ",", "a1")
    cli_pair.same("--no-raw", "--eval", str(script), "k1", ",", "a1", "a2")
    cli_pair.same("--eval", str(tmp_path / "missing.lua"))


# -- cluster redirections ---------------------------------------------------------------------------


class Redirector:
    """A fake cluster node answering every command with -MOVED or -ASK to another server."""

    def __init__(self, kind: str, target_port: int) -> None:
        self.kind = kind.encode()
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        reader = hiredis.Reader()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                reader.feed(data)
                while reader.gets() is not False:
                    conn.sendall(b"-%s 3999 127.0.0.1:%d\r\n" % (self.kind, self.target_port))

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("kind", ["MOVED", "ASK"])
def test_cluster_mode_follows_redirections(cli_pair, kind):
    cli_pair.redis("SET", "ck", "cv")
    node = Redirector(kind, cli_pair.port)
    try:
        pair = CliPair(node.port)
        pair.same("-c", "GET", "ck")
        pair.same("GET", "ck")  # without -c the error is printed
        pair.same("-c", stdin=b"GET ck\nGET ck\n")
        pair.same("-c", "--no-raw", stdin=b"GET ck\n")
    finally:
        node.close()


# -- TLS ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A real redis-server with TLS on a free port (skipped when openssl or TLS support is missing)."""
    openssl = shutil.which("openssl")
    server = require_binary("redis-server")
    if openssl is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")

    def sh(*args: str) -> None:
        subprocess.run(args, cwd=directory, check=True, capture_output=True)

    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]  # quick to generate
    sh(openssl, "req", "-x509", *curve, "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
       "-days", "2", "-subj", "/CN=Vermilion test CA")
    sh(openssl, "req", *curve, "-nodes", "-keyout", "redis.key", "-out", "redis.csr",
       "-subj", "/CN=localhost")
    sh(openssl, "x509", "-req", "-in", "redis.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
       "-out", "redis.crt", "-days", "2")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--tls-cert-file", "redis.crt",
         "--tls-key-file", "redis.key", "--tls-ca-cert-file", "ca.crt", "--save", "", "--daemonize", "no"],
        cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.skip("this redis-server has no TLS support")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port, directory
    process.terminate()
    process.wait(10)


def test_tls_connections(tls_server):
    port, directory = tls_server
    pair = CliPair(port)
    files = ["--cert", str(directory / "redis.crt"), "--key", str(directory / "redis.key")]
    ca = ["--cacert", str(directory / "ca.crt")]
    assert pair.same("--tls", *files, *ca, "PING").out == b"PONG\n"
    pair.same("--tls", "--sni", "localhost", *files, "--insecure", "SET", "k", "v")
    pair.same("--tls", *files, "PING")  # the test CA is not trusted by default
    pair.same("--tls", "--cacert", str(directory / "nope.crt"), "PING")
    pair.same("--tls", *files, *ca, "--tls-ciphers", "NO-SUCH-CIPHER", "PING")
    ours = pair.vermilion("-u", f"rediss://127.0.0.1:{port}", *files, *ca, "GET", "k", port=False)
    assert ours.out == b"v\n"
    assert os.path.exists(directory / "redis.crt")


def _online_replicas(pair: CliPair) -> int:
    info = pair.redis("INFO", "replication").out.decode()
    return len(re.findall(r"^slave\d+:.*state=online", info, re.MULTILINE))


def test_replica_mode(cli_pair):
    """--replica: the handshake messages, then the master's stream as CSV."""
    # Both CLIs take the first thing streamed after their REPLCONF ACK as its reply. When they sync in
    # separate transfers, a periodic PING between the two reaches only the first, which then shows a
    # SELECT the other swallowed; so the master's PINGs are held off here.
    saved = {name: cli_pair.redis("CONFIG", "GET", name).out.split(b"\n")[1].decode()
             for name in ("repl-diskless-sync-delay", "repl-ping-replica-period")}
    cli_pair.redis("CONFIG", "SET", "repl-diskless-sync-delay", "0", "repl-ping-replica-period", "86400")
    port = ["-p", str(cli_pair.port), "--replica"]
    try:
        processes = [subprocess.Popen([cli_pair.redis_cli, *port], stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
                     subprocess.Popen(VERMILION_CLI + port, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)]
        deadline = time.monotonic() + 30
        while _online_replicas(cli_pair) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        cli_pair.redis("SET", "replicated", "value")
        time.sleep(1.5)  # vermilion-cli sends its ACK a second after the transfer
        outputs = []
        for process in processes:
            process.send_signal(signal.SIGINT)
            outputs.append(process.communicate(timeout=10)[0])
    finally:
        for name, value in saved.items():
            cli_pair.redis("CONFIG", "SET", name, value)
    theirs, ours = outputs
    assert ours == theirs
    assert b'"SET","replicated","value"\n' in ours


def test_lua_debugger_session(cli_pair, tmp_path):
    script = tmp_path / "debug.lua"
    script.write_text('local a = 1\nredis.call("set", KEYS[1], a)\nreturn a + 1\n')
    cli_pair.same("--ldb", "--eval", str(script), "k", ",", "v", stdin=b"s\np\nc\n")
    cli_pair.same("--ldb-sync-mode", "--eval", str(script), "k", stdin=b"n\nquit\n")


def test_interactive_connect_command(cli_pair, cli_pair_vermilion):
    script = f"ping\nconnect 127.0.0.1 {cli_pair_vermilion.port}\nset where vermilion\nget where\n".encode()
    cli_pair.same("--no-raw", stdin=script)


def test_monitor_streams_until_interrupted(cli_pair):
    port = ["-p", str(cli_pair.port), "MONITOR"]
    processes = [subprocess.Popen([cli_pair.redis_cli, *port], stdout=subprocess.PIPE, stderr=subprocess.PIPE),
                 subprocess.Popen(VERMILION_CLI + port, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    time.sleep(1.0)
    cli_pair.redis("SET", "watched", "1")
    time.sleep(0.3)
    outputs = []
    for process in processes:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
        assert process.returncode == -signal.SIGINT and err == b""
        outputs.append(re.sub(rb"^\d+\.\d+ \[0 [^\]]+\]", b"T [0 ADDR]", out, flags=re.M))
    theirs, ours = outputs
    assert ours == theirs
    assert ours.startswith(b"OK\n") and b'T [0 ADDR] "SET" "watched" "1"\n' in ours
