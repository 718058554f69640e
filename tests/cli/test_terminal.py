"""vermilion-cli on a terminal (tmux), compared with redis-cli on the same terminal.

One-shot commands print the terminal rendering when stdout is a tty; the interactive prompt is
driven with the same keystrokes in both programs and the screens compared: prompt, replies, inline
hints, Tab completion, history, ``help``, SELECT/MULTI in the prompt, SUBSCRIBE until Ctrl-C, and
reconnecting after a server restart.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
import time

import pytest

from tests.cli.conftest import Tmux, require_binary, tmux_binary

VERMILION = f"{shlex.quote(sys.executable)} -m vermilion.cli"

# Rendered in a terminal: each script is fed to both programs (stdout is the terminal, so the
# replies get the terminal rendering), and a few commands are also given on the command line.
SCRIPT = [
    "GET str", "GET missing", "LRANGE list 0 -1", "LRANGE missing 0 -1", "HGETALL hash",
    "ZRANGE zset 0 -1 WITHSCORES", "INCR str", "NOSUCH command", "SMEMBERS set", "EXISTS str",
    "COMMAND INFO get", "CONFIG GET maxmemory",
] + [f"DEBUG PROTOCOL {kind}" for kind in
     ("string", "integer", "double", "null", "array", "set", "map", "push", "verbatim", "true", "false")]
RUNS = [
    ("", SCRIPT), ("-3", SCRIPT), ("--raw", SCRIPT[:6]), ("--csv", SCRIPT[:6]), ("-3 --json", SCRIPT[:6]),
    ("GET str", None), ("-3 DEBUG PROTOCOL push", None), ("-r 2 HGETALL hash", None),
]

DATA = b"""\
SET str "hello\\nworld"
RPUSH list a "b c" "" "\\xc3\\xa9"
HSET hash f1 v1 f2 v2
ZADD zset 1 a 2.5 b
SADD set one
"""


def _blocks(text: str) -> list[str]:
    return re.findall(r"<<<BEGIN>>>\n(.*?)<<<END>>>", text, re.S)


def test_terminal_rendering(cli_pair, tmp_path):
    """redis-cli then vermilion-cli, on the same terminal: the same screen text."""
    tmux_binary()
    cli_pair.redis(stdin=DATA)
    port = cli_pair.port
    script = tmp_path / "run.sh"
    lines = []
    for index, (arguments, commands) in enumerate(RUNS):
        if commands is not None:
            (tmp_path / f"in{index}.txt").write_text("\n".join(commands) + "\n")
        for program in (shlex.quote(cli_pair.redis_cli), VERMILION):
            lines.append("echo '<<<BEGIN>>>'")
            if commands is None:
                lines.append(f"{program} -p {port} {arguments}")
            else:
                lines.append(f"{program} -p {port} {arguments} < {tmp_path}/in{index}.txt")
            lines.append("echo '<<<END>>>'")
    lines.append("echo '<<<DONE>>>'")
    script.write_text("\n".join(lines) + "\n")
    terminal = Tmux(tmux_binary(), width=200, height=50)
    try:
        terminal.type(f"bash {shlex.quote(str(script))}")
        terminal.send("Enter")
        text = terminal.wait_for(r"^<<<DONE>>>$", timeout=60, whole_history=True)
    finally:
        terminal.close()
    blocks = _blocks(text)
    assert len(blocks) == 2 * len(RUNS)
    for index, (arguments, _commands) in enumerate(RUNS):
        theirs, ours = blocks[2 * index], blocks[2 * index + 1]
        assert ours == theirs, f"{arguments}:\n--- redis-cli\n{theirs}--- vermilion-cli\n{ours}"
        assert theirs.strip(), arguments


ELAPSED = re.compile(r"\(\d+\.\d\ds\)")


def _normalised(screen: str) -> list[str]:
    lines = [ELAPSED.sub("(N.NNs)", line.rstrip()) for line in screen.rstrip("\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


class Session:
    """One CLI in its own tmux terminal."""

    def __init__(self, program: str, port: int, histfile: str) -> None:
        self.terminal = Tmux(tmux_binary(), width=160, height=40, env={"REDISCLI_HISTFILE": histfile})
        self.prompt = f"127.0.0.1:{port}> "
        try:
            self.terminal.type(f"clear; {program} -p {port}")
            self.terminal.send("Enter")
            self.terminal.wait_last_line(self.prompt)
        except BaseException:
            self.terminal.close()
            raise

    def send(self, *keys: str, text: str | None = None) -> None:
        """Type ``text``, then press ``keys``."""
        if text is not None:
            self.terminal.type(text)
        if keys:
            self.terminal.send(*keys)

    def settle(self, wait_for: str | None = None) -> None:
        """Wait for a pattern, or for the screen to stop changing."""
        if wait_for is not None:
            self.terminal.wait_for(wait_for)
            return
        previous = None
        for _ in range(40):
            time.sleep(0.1)
            current = self.terminal.screen()
            if current == previous:
                return
            previous = current

    def keys(self, *keys: str, text: str | None = None, wait_for: str | None = None) -> None:
        self.send(*keys, text=text)
        self.settle(wait_for)

    def screen(self) -> list[str]:
        return _normalised(self.terminal.screen())

    def close(self) -> None:
        self.terminal.close()


def _compare(sessions: list[Session], what: str) -> list[str]:
    theirs, ours = (session.screen() for session in sessions)
    assert ours == theirs, f"{what}:\n--- redis-cli\n" + "\n".join(theirs) + "\n--- vermilion-cli\n" + "\n".join(ours)
    return ours


def test_interactive_session(cli_pair, tmp_path):
    """The same keystrokes in redis-cli and vermilion-cli: the same screens and history file."""
    port = cli_pair.port
    cli_pair.redis("SET", "foo", "bar")
    sessions: list[Session] = []
    try:
        sessions.append(Session(shlex.quote(cli_pair.redis_cli), port, str(tmp_path / "redis.history")))
        sessions.append(Session(VERMILION, port, str(tmp_path / "vermilion.history")))

        def both(*keys: str, text: str | None = None, wait_for: str | None = None) -> None:
            for session in sessions:
                session.send(*keys, text=text)
            for session in sessions:
                session.settle(wait_for)

        both("Enter", text="get foo", wait_for=rf'^"bar"\n127\.0\.0\.1:{port}>$')
        both("Enter", text="lrange nolist 0 -1", wait_for=rf"^\(empty array\)\n127\.0\.0\.1:{port}>$")
        _compare(sessions, "replies")
        # Inline hints: the arguments still to type, after the cursor.
        both(text="set a b ")
        screen = _compare(sessions, "hint after SET key value")
        assert screen[-1].startswith(sessions[0].prompt + "set a b [NX|XX] [GET]")
        both("C-u")
        both(text="config get")
        assert _compare(sessions, "hint of a subcommand")[-1].endswith("config get parameter [parameter ...]")
        # Tab cycles through whole-line completions.
        both("C-u")
        both(text="con")
        both("Tab")
        assert _compare(sessions, "first completion")[-1].startswith(sessions[0].prompt + "CONFIG")
        both("Tab")
        assert "CONFIG GET" in _compare(sessions, "second completion")[-1]
        both("C-u")
        both(text="help @str")
        both("Tab")
        _compare(sessions, "completion of a help group")
        both("C-u")
        both("Enter", text="help set", wait_for=r"^  group: string")
        _compare(sessions, "help SET")
        both("Enter", text="select 2", wait_for=rf"^127\.0\.0\.1:{port}\[2\]>$")
        both("Enter", text="multi", wait_for=r"\(TX\)>$")
        both("Enter", text="discard", wait_for=rf"^127\.0\.0\.1:{port}\[2\]>$")
        both("Enter", text="auth nopass", wait_for=r"^\(error\)")
        both("Enter", text="3 echo hi", wait_for=rf'"hi"\n"hi"\n"hi"\n127\.0\.0\.1:{port}\[2\]>$')
        _compare(sessions, "prompt with a database and a transaction")
        # History: Up brings back the previous line.
        both("Up")
        _compare(sessions, "history")
        both("C-u")
        both("Enter", text="subscribe news", wait_for=r"^3\) \(integer\) 1$")
        cli_pair.redis("PUBLISH", "news", "hello")
        both(wait_for=r'^3\) "hello"$')
        _compare(sessions, "subscribed")
        time.sleep(0.6)  # both print the elapsed time ("(0.NNs)") only after half a second
        both("C-c", wait_for=rf"^127\.0\.0\.1:{port}\[2\]>$")
        _compare(sessions, "back at the prompt after Ctrl-C")
        both("Enter", text="quit", wait_for=r"^\$$")
    finally:
        for session in sessions:
            session.close()
    theirs = (tmp_path / "redis.history").read_bytes()
    ours = (tmp_path / "vermilion.history").read_bytes()
    assert ours == theirs
    assert b"auth" not in ours and b"get foo\n" in ours


def test_reconnects_after_a_server_restart(tmp_path):
    """The prompt survives the server going away and coming back on the same port."""
    server_binary = require_binary("redis-server")
    redis_cli = require_binary("redis-cli")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def start() -> subprocess.Popen:
        process = subprocess.Popen([server_binary, "--port", str(port), "--save", "", "--dir", str(tmp_path)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    server = start()
    sessions: list[Session] = []
    try:
        sessions.append(Session(shlex.quote(redis_cli), port, "/dev/null"))
        sessions.append(Session(VERMILION, port, "/dev/null"))
        for session in sessions:
            session.keys("Enter", text="ping", wait_for=r"^PONG$")
        server.terminate()
        server.wait(10)
        for session in sessions:
            session.keys("Enter", text="ping", wait_for=r"^not connected>$")
        _compare(sessions, "server gone")
        server = start()
        for session in sessions:
            session.keys("Enter", text="set back yes", wait_for=r"^OK$")
        _compare(sessions, "server back")
    finally:
        for session in sessions:
            session.close()
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("extra", [[], ["-3"]], ids=["resp2", "resp3"])
def test_vermilion_prompt_against_vermilion(server, extra):
    """The prompt works against Vermilion itself (help and hints come from its COMMAND DOCS)."""
    terminal = Tmux(tmux_binary(), width=160, height=40, env={"REDISCLI_HISTFILE": "/dev/null"})
    try:
        terminal.type(f"{VERMILION} -p {server.port} {' '.join(extra)}")
        terminal.send("Enter")
        terminal.wait_last_line(f"127.0.0.1:{server.port}> ")
        terminal.type("set k v")
        terminal.send("Enter")
        terminal.wait_for(r"^OK$")
        terminal.type("hset h ")
        terminal.wait_for(r"> hset h field value \[field value \.\.\.\]")
        terminal.send("C-u")
        terminal.type("help get")
        terminal.send("Enter")
        terminal.wait_for(r"^  GET key$")
        terminal.type("hgetall h")
        terminal.send("Enter")
        terminal.wait_for(r"^\(empty (array|hash)\)$")
    finally:
        terminal.close()
