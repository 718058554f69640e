"""Fixtures for the vermilion-cli / vermilion-benchmark tests: run either CLI as a subprocess,
drive a terminal through tmux, and a real redis-server (the ``oracle_port`` fixture) as the
reference for what redis-cli prints."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid

import pytest

IN_CI = os.environ.get("CI") == "true"

VERMILION_CLI = [sys.executable, "-m", "vermilion.cli"]
VERMILION_BENCHMARK = [sys.executable, "-m", "vermilion.benchmark"]


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install -y redis-tools)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


class Result:
    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.rc = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and (self.rc, self.out, self.err) == (other.rc, other.out, other.err)

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"


def run(command: list[str], args: list[str], stdin: bytes = b"", env: dict | None = None,
        timeout: float = 30) -> Result:
    full_env = dict(os.environ)
    full_env.pop("FAKETTY", None)
    full_env["REDISCLI_HISTFILE"] = "/dev/null"
    full_env["REDISCLI_RCFILE"] = "/dev/null"
    if env:
        full_env.update(env)
    completed = subprocess.run(command + args, input=stdin, capture_output=True, timeout=timeout, env=full_env)
    return Result(completed)


class CliPair:
    """redis-cli and vermilion-cli, run with the same arguments."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.redis_cli = require_binary("redis-cli")

    def redis(self, *args: str, stdin: bytes = b"", env: dict | None = None, port: bool = True) -> Result:
        prefix = ["-p", str(self.port)] if port else []
        return run([self.redis_cli], prefix + list(args), stdin, env)

    def vermilion(self, *args: str, stdin: bytes = b"", env: dict | None = None, port: bool = True) -> Result:
        prefix = ["-p", str(self.port)] if port else []
        return run(VERMILION_CLI, prefix + list(args), stdin, env)

    def same(self, *args: str, stdin: bytes = b"", env: dict | None = None, port: bool = True) -> Result:
        """Both programs print the same bytes on stdout and stderr and exit alike."""
        theirs = self.redis(*args, stdin=stdin, env=env, port=port)
        ours = self.vermilion(*args, stdin=stdin, env=env, port=port)
        assert ours == theirs, f"{args!r}:\n vermilion {ours!r}\n redis-cli {theirs!r}"
        return ours


@pytest.fixture
def cli_pair(oracle_port) -> CliPair:
    """Both CLIs against the real redis-server, emptied first."""
    pair = CliPair(oracle_port)
    pair.redis("FLUSHALL")
    return pair


@pytest.fixture
def cli_pair_vermilion(server) -> CliPair:
    """Both CLIs against the in-process Vermilion, emptied first."""
    pair = CliPair(server.port)
    pair.redis("FLUSHALL")
    return pair


# -- tmux -------------------------------------------------------------------------------------------


def tmux_binary() -> str:
    path = shutil.which("tmux")
    if path is None:
        message = "tmux is not installed (apt-get install -y tmux)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


class Tmux:
    """A detached tmux server with one wide window running bash."""

    def __init__(self, binary: str, width: int = 220, height: int = 60, env: dict | None = None) -> None:
        self.binary = binary
        self.socket = f"vermilion-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        environment = dict(os.environ)
        environment.update({"TERM": "xterm-256color", "PS1": "$ ", "REDISCLI_RCFILE": "/dev/null"})
        environment.pop("FAKETTY", None)
        if env:
            environment.update(env)
        self.env = environment
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in (env or {}).items())
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                   f"env PS1='$ ' TERM=xterm-256color REDISCLI_RCFILE=/dev/null {exports} bash --norc --noprofile")
        try:
            self._tmux("set-option", "-g", "history-limit", "100000")
            self.wait_for(r"^\$$")
        except BaseException:
            self.close()  # never leave a tmux server behind
            raise

    def _tmux(self, *args: str) -> str:
        completed = subprocess.run([self.binary, "-L", self.socket, *args], capture_output=True,
                                   env=self.env, timeout=20)
        return completed.stdout.decode("utf-8", "replace")

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-t", "t", "-p")

    def history(self) -> str:
        return self._tmux("capture-pane", "-t", "t", "-p", "-S", "-", "-E", "-")

    def lines(self) -> list[str]:
        text = self.screen().rstrip("\n").split("\n")
        while text and not text[-1].strip():
            text.pop()
        return text

    def last_line(self) -> str:
        lines = self.lines()
        return lines[-1] if lines else ""

    def wait_for(self, pattern: str, timeout: float = 15.0, whole_history: bool = False) -> str:
        regex = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        text = ""
        while time.time() < deadline:
            text = self.history() if whole_history else self.screen()
            # Lines are matched without trailing blanks (tmux does not keep them).
            stripped = "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n") + "\n"
            if regex.search(stripped):
                return text
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {pattern!r}; screen:\n{text}")

    def wait_last_line(self, expected: str, timeout: float = 15.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.last_line().rstrip() == expected.rstrip():
                return
            time.sleep(0.05)
        raise AssertionError(f"last line is {self.last_line()!r}, expected {expected!r}:\n{self.screen()}")

    def clear(self) -> None:
        self.type("clear")
        self.send("Enter")
        time.sleep(0.1)
        self._tmux("clear-history", "-t", "t")
        self.wait_for(r"\A\$\n")

    def close(self) -> None:
        self._tmux("kill-server")


@pytest.fixture
def tmux():
    terminal = Tmux(tmux_binary())
    yield terminal
    terminal.close()


def shell_quote(args: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(arg) for arg in args)
