"""Shared fixtures: an in-process Vermilion, a real redis-server as the oracle, and clients."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

from vermilion.testing import flush_all, start_server
from tests.resp_raw import RawConnection

pytest_plugins = ["pytester"]

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port}")


@pytest.fixture(scope="session")
def server():
    srv = start_server(enable_debug_command="yes")
    yield srv
    srv.stop()


@pytest.fixture
def r(server):
    flush_all(server)
    client = redis.Redis(port=server.port, protocol=2)
    yield client
    client.close()


@pytest.fixture
def r3(server):
    flush_all(server)
    client = redis.Redis(port=server.port, protocol=3)
    yield client
    client.close()


def start_oracle(workdir) -> tuple[subprocess.Popen, int]:
    """Start a real redis-server 7 on a free port (skipped locally, a failure under CI=true,
    when it is not installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install -y redis-server)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--enable-debug-command", "yes", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
    except TimeoutError:
        proc.kill()
        raise
    return proc, port


@pytest.fixture(scope="session")
def oracle_port(tmp_path_factory):
    """A real redis-server 7 on a free port: the specification the differential tests use.
    Shared by the session: tests must not depend on server-wide state other tests leave."""
    proc, port = start_oracle(tmp_path_factory.mktemp("oracle"))
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def fresh_oracle_port(tmp_path_factory):
    """A real redis-server of the module's own, for tests that compare server-wide state."""
    proc, port = start_oracle(tmp_path_factory.mktemp("fresh-oracle"))
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class Differ:
    """Sends the same command to Vermilion and real Redis and compares the raw reply bytes."""

    def __init__(self, ours: RawConnection, theirs: RawConnection) -> None:
        self.ours = ours
        self.theirs = theirs

    def both(self, *args) -> tuple[bytes, bytes]:
        return self.ours.call(*args), self.theirs.call(*args)

    def check(self, *args) -> bytes:
        ours, theirs = self.both(*args)
        assert ours == theirs, f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
        return ours

    def check_unordered(self, *args) -> bytes:
        """For replies whose element order Redis leaves unspecified (SMEMBERS, KEYS, ...)."""
        import hiredis

        ours, theirs = self.both(*args)

        def parsed(raw: bytes):
            reader = hiredis.Reader()
            reader.feed(raw)
            value = reader.gets()
            if isinstance(value, Exception):  # error objects never compare equal
                return ("error", str(value))
            return sorted(value, key=repr) if isinstance(value, list) else value

        assert ours[:1] == theirs[:1], f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
        assert parsed(ours) == parsed(theirs), f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
        return ours

    def check_type(self, *args) -> bytes:
        """Same reply type only (for values that tick, such as TTLs and timestamps)."""
        ours, theirs = self.both(*args)
        assert ours[:1] == theirs[:1], f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
        return ours

    def run(self, script: str) -> None:
        """Check each line of a script of redis-cli style commands (split on whitespace)."""
        for line in script.strip().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                self.check(*line.split())


@pytest.fixture
def diff(server, oracle_port):
    flush_all(server)
    ours = RawConnection(server.port)
    theirs = RawConnection(oracle_port)
    theirs.call("FLUSHALL")
    differ = Differ(ours, theirs)
    yield differ
    ours.close()
    theirs.close()


@pytest.fixture
def diff3(diff):
    """Like diff, with both connections switched to RESP3."""
    diff.ours.call("HELLO", "3")
    diff.theirs.call("HELLO", "3")
    return diff
