"""Fixtures for the limits, protected-mode and TLS tests: real redis-servers started with the
options a test needs (the session oracle's options are fixed), and a certificate authority."""

from __future__ import annotations

import pathlib
import shutil
import socket
import subprocess
import time

import pytest

from tests.conftest import IN_CI, free_port, wait_for_port
from tests.limits.certs import make_certs


def non_loopback_address() -> str:
    """An address of this machine that is not loopback (protected mode refuses it)."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        for address in out.split():
            if "." in address and not address.startswith("127."):
                return address
    except (OSError, subprocess.SubprocessError):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
        return probe.getsockname()[0]


class RealRedis:
    def __init__(self, proc: subprocess.Popen, port: int, logfile: pathlib.Path) -> None:
        self.proc = proc
        self.port = port
        self.logfile = logfile

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""


@pytest.fixture
def real_redis(tmp_path):
    """start(*options, port=None) -> RealRedis: a redis-server of the test's own."""
    started: list[RealRedis] = []
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install -y redis-server)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)

    def start(*options: str, port: int | None = None, wait_port: int | None = None,
              config_file: str | None = None) -> RealRedis:
        port = free_port() if port is None else port
        logfile = tmp_path / f"redis-{port}.log"
        proc = subprocess.Popen(
            [binary, *([config_file] if config_file else []), "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
             "--logfile", str(logfile), "--daemonize", "no", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(wait_port or port)
        except TimeoutError:
            proc.kill()
            raise
        instance = RealRedis(proc, port, logfile)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.proc.terminate()
        instance.proc.wait(10)


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> dict[str, str]:
    return make_certs(tmp_path_factory.mktemp("tls"))


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
