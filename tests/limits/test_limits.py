"""Connection limits, differential against real Redis where the client can see the difference:
maxclients, protected mode, idle timeout, TCP keepalive, query and output buffer limits, output
flow control, and rename-command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import redis

from tests.conftest import free_port, wait_for_port
from tests.limits.conftest import non_loopback_address, wait_until
from vermilion import limits
from vermilion.testing import run_in_server, start_server


def read_all(sock: socket.socket, timeout: float = 3.0) -> tuple[bytes, bool]:
    """Everything received until the peer closes (True) or goes quiet (False)."""
    sock.settimeout(timeout)
    received = b""
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except socket.timeout:
            return received, False
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
        sock.settimeout(0.5)


@pytest.fixture
def limited():
    """start(**config) -> an in-process server of the test's own, stopped afterwards."""
    servers = []

    def start(**options):
        srv = start_server(**options)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


# -- maxclients -----------------------------------------------------------------------------------


def test_maxclients_refuses_with_redis_error(limited, real_redis):
    ours = limited(maxclients=2)
    theirs = real_redis("--maxclients", "2")
    for port in (ours.port, theirs.port):
        first = socket.create_connection(("127.0.0.1", port))
        second = socket.create_connection(("127.0.0.1", port))
        first.sendall(b"PING\r\n")
        assert first.recv(100) == b"+PONG\r\n"
        third = socket.create_connection(("127.0.0.1", port))
        assert read_all(third) == (b"-ERR max number of clients reached\r\n", True)
        second.sendall(b"PING\r\n")
        assert second.recv(100) == b"+PONG\r\n"
        second.close()
        time.sleep(0.1)
        fourth = socket.create_connection(("127.0.0.1", port))
        fourth.sendall(b"INFO stats\r\n")
        stats, closed = read_all(fourth, 1)
        assert not closed and b"rejected_connections:1\r\n" in stats, port
        for sock in (first, third, fourth):
            sock.close()


# -- protected mode -------------------------------------------------------------------------------


def test_protected_mode_denies_non_loopback_clients(limited, real_redis):
    address = non_loopback_address()
    ours = limited(bind="0.0.0.0")
    theirs = real_redis("--bind", "0.0.0.0")
    replies = []
    for port in (ours.port, theirs.port):
        outside = socket.create_connection((address, port))
        outside.sendall(b"PING\r\n")
        replies.append(read_all(outside))
        outside.close()
        local = redis.Redis(port=port)
        assert local.ping()
        assert local.info("stats")["rejected_connections"] == 1
        local.config_set("protected-mode", "no")
        allowed = socket.create_connection((address, port))
        allowed.sendall(b"PING\r\n")
        assert allowed.recv(100) == b"+PONG\r\n"
        allowed.close()
        local.config_set("protected-mode", "yes")
        local.config_set("requirepass", "pw")
        with_password = socket.create_connection((address, port))
        with_password.sendall(b"AUTH pw\r\nPING\r\n")
        assert read_all(with_password, 1) == (b"+OK\r\n+PONG\r\n", False)
        with_password.close()
        local.close()
    assert replies[0] == replies[1]
    assert replies[0][0].startswith(b"-DENIED Redis is running in protected mode") and replies[0][1]


# -- idle timeout and keepalive -------------------------------------------------------------------


def test_idle_clients_are_closed_but_not_blocked_or_subscribed_ones(limited):
    srv = limited(timeout=1)
    idle = socket.create_connection(("127.0.0.1", srv.port))
    idle.sendall(b"PING\r\n")
    assert idle.recv(100) == b"+PONG\r\n"
    blocked = socket.create_connection(("127.0.0.1", srv.port))
    blocked.sendall(b"BLPOP nothing 0\r\n")
    subscriber = socket.create_connection(("127.0.0.1", srv.port))
    subscriber.sendall(b"SUBSCRIBE news\r\n")
    subscriber.recv(100)
    started = time.time()
    assert read_all(idle, 4) == (b"", True)
    assert 1.0 < time.time() - started < 3.5
    for survivor in (blocked, subscriber):
        survivor.sendall(b"")
    client = redis.Redis(port=srv.port)
    assert client.publish("news", "hi") == 1
    assert client.lpush("nothing", "x") == 1
    assert blocked.recv(100) == b"*2\r\n$7\r\nnothing\r\n$1\r\nx\r\n"
    assert subscriber.recv(200).endswith(b"$4\r\nnews\r\n$2\r\nhi\r\n")
    client.close()


def test_tcp_keepalive_sets_socket_options(limited):
    srv = limited(tcp_keepalive=120)
    client = redis.Redis(port=srv.port)
    client.ping()

    def options():
        sock = next(iter(srv.clients.values())).transport.get_extra_info("socket")
        return (sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT))

    assert run_in_server(srv, options) == (1, 120, 40, 3)
    client.close()


# -- query buffer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("request_head", [
    b"*2\r\n$3\r\nGET\r\n$3000000\r\n",  # one big bulk (the fast path holds it)
    b"PING ",  # inline and no newline: refused with "too big inline request" at 64 KB first
])
def test_query_buffer_limit_closes_the_client(limited, real_redis, request_head):
    ours = limited(client_query_buffer_limit="1mb", logfile=os.devnull)
    theirs = real_redis("--client-query-buffer-limit", "1mb")
    results = []
    for port in (ours.port, theirs.port):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(request_head)
        try:
            for _ in range(40):
                sock.sendall(b"x" * 65536)
        except OSError:
            pass
        results.append(read_all(sock))
        sock.close()
        assert redis.Redis(port=port).ping()
    assert results[0] == results[1]


def test_query_buffer_limit_log_line(limited, tmp_path):
    logfile = tmp_path / "v.log"
    srv = limited(client_query_buffer_limit="1mb", logfile=str(logfile))
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.sendall(b"*2\r\n$3\r\nSET\r\n$2000000\r\n")
    try:
        for _ in range(40):
            sock.sendall(b"x" * 65536)
    except OSError:
        pass
    assert read_all(sock) == (b"", True)
    assert wait_until(lambda: "Closing client that reached max query buffer length: id=" in logfile.read_text())
    assert '(qbuf initial bytes: "*2\\r\\n$3\\r\\nSET\\r\\n$2000000\\r\\nxxxx' in logfile.read_text()


# -- output buffer limits and flow control --------------------------------------------------------


def test_normal_client_over_output_limit_is_closed(limited, real_redis, tmp_path):
    logfile = tmp_path / "v.log"
    ours = limited(logfile=str(logfile))
    theirs = real_redis()
    for port in (ours.port, theirs.port):
        admin = redis.Redis(port=port)
        admin.config_set("client-output-buffer-limit", "normal 1mb 0 0")
        admin.set("big", "x" * 200_000)
        reader = socket.create_connection(("127.0.0.1", port))
        reader.sendall(b"GET big\r\n" * 100)  # 20 MB of replies, never read
        assert wait_until(lambda: admin.info("clients")["connected_clients"] == 1), port
        data, closed = read_all(reader, 2)
        assert (data, closed) == (b"", True), port  # nothing of the refused replies arrives
        admin.config_set("client-output-buffer-limit", "normal 0 0 0")
        admin.close()
    assert "scheduled to be closed ASAP for overcoming of output buffer limits." in logfile.read_text()


def test_soft_output_limit_needs_its_period(limited):
    srv = limited(client_output_buffer_limit="normal 0 256kb 2")
    admin = redis.Redis(port=srv.port)
    admin.set("big", "x" * 100_000)
    reader = socket.create_connection(("127.0.0.1", srv.port))
    reader.sendall(b"GET big\r\n" * 200)
    time.sleep(1.0)
    reader.sendall(b"GET big\r\n")
    assert admin.info("clients")["connected_clients"] == 2  # over the soft limit for 1 s only
    time.sleep(2.5)
    reader.sendall(b"GET big\r\n")
    assert wait_until(lambda: admin.info("clients")["connected_clients"] == 1)
    admin.close()


def test_a_client_that_does_not_read_is_not_buffered_without_bound(limited, monkeypatch):
    monkeypatch.setattr(limits, "FLOW_CONTROL_PENDING", 2 * 1024 * 1024)
    srv = limited()
    admin = redis.Redis(port=srv.port)
    admin.set("big", "x" * 100_000)
    reader = socket.create_connection(("127.0.0.1", srv.port))
    reader.settimeout(10)
    requests = 400  # 40 MB of replies
    sender_error = []

    def send_all():
        # One request per read: flow control acts between reads (one read's replies are
        # always produced in full, as in Redis).
        try:
            for _ in range(requests):
                reader.sendall(b"GET big\r\n")
                time.sleep(0.001)
        except OSError as exc:
            sender_error.append(exc)

    import threading

    sender = threading.Thread(target=send_all)
    sender.start()
    time.sleep(1.5)

    def held():
        return max(c.output_pending() for c in srv.clients.values())

    peak = run_in_server(srv, held)
    # Reading stopped once 2 MB were pending (the rest waits in the kernel's buffers).
    assert 2 * 1024 * 1024 < peak < 3 * 1024 * 1024
    total = 0
    expected = requests * len(b"$100000\r\n" + b"x" * 100_000 + b"\r\n")
    while total < expected:
        chunk = reader.recv(1 << 20)
        assert chunk
        total += len(chunk)
    sender.join(10)
    assert total == expected and not sender_error
    assert admin.ping()
    admin.close()


# -- rename-command -------------------------------------------------------------------------------


def test_rename_command_in_config_file(real_redis, tmp_path):
    config = tmp_path / "renamed.conf"
    config.write_text('rename-command get fetch\nrename-command flushdb ""\nsave ""\n')
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vermilion", str(config), "--port", str(port),
                             "--dir", str(tmp_path), "--logfile", str(tmp_path / "v.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        theirs = real_redis(config_file=str(config))
        from tests.resp_raw import RawConnection

        ours_conn, theirs_conn = RawConnection(port), RawConnection(theirs.port)
        for args in (("SET", "k", "v"), ("GET", "k"), ("FETCH", "k"), ("fetch", "k", "x"), ("FLUSHDB",),
                     ("COMMAND", "INFO", "fetch", "get", "flushdb")):
            assert ours_conn.call(*args) == theirs_conn.call(*args), args
        ours_conn.close()
        theirs_conn.close()
    finally:
        proc.terminate()
        proc.wait(10)


# -- multibulk counts -----------------------------------------------------------------------------


def test_huge_multibulk_count_neither_refused_nor_stalling(limited, real_redis):
    """Redis accepts counts up to INT_MAX and waits for the elements; a client that then hangs
    up must not freeze the server (hiredis freed such a request slot by slot: 30 s)."""
    ours = limited()
    theirs = real_redis()
    for port in (ours.port, theirs.port):
        attacker = socket.create_connection(("127.0.0.1", port))
        attacker.sendall(b"*1\r\n$4\r\nPING\r\n*2147483647\r\n$4\r\nPING\r\n$1\r\nx\r\n")
        assert read_all(attacker, 0.5) == (b"+PONG\r\n", False)
        attacker.close()
        time.sleep(0.1)
        probe = socket.create_connection(("127.0.0.1", port))
        started = time.time()
        probe.sendall(b"PING\r\n")
        assert probe.recv(100) == b"+PONG\r\n"
        assert time.time() - started < 1.0
        probe.close()


def test_requests_over_the_fast_path_cap_take_the_exact_parser(limited, monkeypatch):
    from vermilion.resp import fast

    monkeypatch.setattr(fast, "MAX_FAST_ELEMENTS", 100)
    srv = limited()
    sock = socket.create_connection(("127.0.0.1", srv.port))
    request = b"*502\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n" + b"".join(b"$3\r\n%03d\r\n" % i for i in range(500))
    for start in range(0, len(request), 37):  # elements arrive over many reads
        sock.sendall(request[start : start + 37])
    sock.sendall(b"*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$3\r\n498\r\n$2\r\n-1\r\n")
    assert read_all(sock, 2) == (b":500\r\n*2\r\n$3\r\n498\r\n$3\r\n499\r\n", False)
    sock.close()
