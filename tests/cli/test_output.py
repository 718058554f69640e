"""vermilion-cli prints exactly what redis-cli 7.0 prints, when its output is a pipe.

Each case runs redis-cli and vermilion-cli with the same arguments (and standard input) and
compares stdout, stderr and the exit status byte for byte. DEBUG PROTOCOL makes the real server
send every RESP2/RESP3 reply type; the command scripts cover the everyday commands against the
real server and against Vermilion.
"""

from __future__ import annotations

import pytest

DEBUG_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
               "push", "verbatim", "true", "false"]
MODES = [[], ["--no-raw"], ["--csv"], ["--json"], ["--quoted-json"], ["-d", "::", "-D", "@@"]]


@pytest.mark.parametrize("protocol", [[], ["-3"]], ids=["resp2", "resp3"])
def test_every_reply_type_in_every_output_mode(cli_pair, protocol):
    printable = [kind for kind in DEBUG_TYPES if kind not in ("bignum", "attrib")]
    script = "".join(f"DEBUG PROTOCOL {kind}\n" for kind in printable).encode()
    for mode in MODES:
        cli_pair.same(*protocol, *mode, stdin=script)
    # redis-cli 7.0 cannot print a big number and rejects attributes: same message, same status.
    for mode in ([], ["--no-raw"]):
        for kind in ("bignum", "attrib", "map", "verbatim"):
            cli_pair.same(*protocol, *mode, "DEBUG", "PROTOCOL", kind)


SETUP = b"""\
RPUSH list a b "c d" "" "\\x00\\x01\\xc3\\xa9" "tab\\there" "quote\\"back\\\\slash"
HSET hash f1 v1 f2 v2 "" empty
ZADD zset 1 a 2.5 b -3 "c c"
SADD set only
SET str "line1\\nline2\\r\\x7f\\xff"
SET num 42
XADD stream 1-1 field value
XADD stream 2-0 f2 v2
"""

SCRIPT = b"""\
GET str
GET num
GET missing
INCR num
INCRBYFLOAT num 0.5
LRANGE list 0 -1
LRANGE missing 0 -1
LINDEX list 4
HGETALL hash
HGET hash f1
ZRANGE zset 0 -1 WITHSCORES
ZSCORE zset b
SMEMBERS set
SMEMBERS missing
XRANGE stream - +
XLEN stream
TYPE list
EXISTS list str missing
DEL nothing
NOSUCHCOMMAND a b
GET a b c
INCR str
SET k v EX 0
CONFIG GET maxmemory
OBJECT ENCODING list
PING
PING "hello world"
ECHO ""
MULTI
SET in-tx 1
GET in-tx
EXEC
CLIENT SETNAME x
CLIENT GETNAME
SELECT 3
SET db3 x
GET db3
SELECT 0
"""


def _script_cases():
    return [[], ["--no-raw"], ["--csv"], ["--json"], ["-3", "--no-raw"], ["-3"], ["-3", "--json"]]


@pytest.mark.parametrize("mode", _script_cases(), ids=lambda m: " ".join(m) or "raw")
def test_command_script_against_redis(cli_pair, mode):
    _same_from_fresh_data(cli_pair, mode)


def _same_from_fresh_data(pair, mode):
    """Run the script through each CLI, from the same data each time."""
    results = []
    for runner in (pair.redis, pair.vermilion):
        pair.redis("FLUSHALL")
        pair.redis(stdin=SETUP)
        results.append(runner(*mode, stdin=SCRIPT))
    theirs, ours = results
    assert ours == theirs, f"{mode!r}:\n vermilion {ours!r}\n redis-cli {theirs!r}"


@pytest.mark.parametrize("mode", _script_cases(), ids=lambda m: " ".join(m) or "raw")
def test_command_script_against_vermilion(cli_pair_vermilion, mode):
    """The same script through both CLIs against Vermilion: the CLIs agree whatever the server."""
    _same_from_fresh_data(cli_pair_vermilion, mode)


def test_resp3_maps_with_nested_values(cli_pair):
    # Map values spanning several lines start on a line of their own.
    for command in (["COMMAND", "INFO", "get"], ["COMMAND", "DOCS", "set"], ["CONFIG", "GET", "maxmemory*"]):
        cli_pair.same("-3", "--no-raw", *command)
        cli_pair.same("--no-raw", *command)


def test_one_shot_commands_and_options(cli_pair):
    cli_pair.same("SET", "k", "v")
    cli_pair.same("--no-raw", "GET", "k")
    cli_pair.same("-r", "3", "-i", "0.01", "SET", "rl", "x")
    cli_pair.same("NOSUCH")
    cli_pair.same("-e", "NOSUCH")
    cli_pair.same("-n", "2", "SET", "db2", "x")
    cli_pair.same("-u", f"redis://127.0.0.1:{cli_pair.port}/2", "GET", "db2", port=False)
    cli_pair.same("--quoted-input", "SET", '"a\\x00b"', '"x y"')
    cli_pair.same("--quoted-input", "GET", '"unterminated')
    cli_pair.same("-x", "SET", "from-stdin", stdin=b"hello\nworld\n")
    cli_pair.same("-X", "TAG", "SET", "TAG", "value", stdin=b"tagged")
    cli_pair.same("-a", "wrong", "PING")
    cli_pair.same("--user", "nobody", "--pass", "x", "--no-auth-warning", "PING")


def test_option_errors(cli_pair):
    cli_pair.same("--no-such-option")
    cli_pair.same("-x", "-X", "t", "PING")
    cli_pair.same("-2", "-3", "PING")
    cli_pair.same("-X", "NOPE", "SET", "TAG", "value", stdin=b"tagged")
    cli_pair.same("-n", "99", "PING")
    cli_pair.same("-u", "http://nowhere", "PING", port=False)


def test_connection_failures(cli_pair):
    cli_pair.same("-p", "1", "PING", port=False)
    cli_pair.same("-s", "/nonexistent/redis.sock", "PING", port=False)
    cli_pair.same("-h", "nonexistent.invalid", "PING", port=False)


def test_help_from_command_docs(cli_pair):
    """help COMMAND / help @group render COMMAND DOCS like redis-cli's compiled help."""
    cli_pair.same("help", "SET")
    topics = ["SET", "set", "CONFIG", "config get", "CLIENT KILL", "@string", "@generic", "@stream",
              "@nosuchgroup", "XADD", "BITFIELD", "GEOSEARCH", "MIGRATE", "SORT", "@server", "@sorted-set"]
    cli_pair.same(stdin="".join(f"help {topic}\n" for topic in topics).encode())


def test_commands_from_standard_input(cli_pair):
    script = b"SET a 1\nGET a\n\n   \nINCR a\nGET 'unbalanced\n3 PING\n-1 PING\n0 PING\nquit\nPING\n"
    cli_pair.same(stdin=script)
    cli_pair.same("--no-raw", stdin=script)
    cli_pair.same("--no-raw", stdin=b"SELECT 5\nSET k v\nMULTI\nGET k\nEXEC\nDISCARD\n")


def test_unix_socket_on_vermilion(tmp_path):
    """Vermilion listens on unixsocket with unixsocketperm; both CLIs reach it with -s."""
    import os
    import stat

    from tests.cli.conftest import CliPair
    from vermilion.testing import start_server

    path = str(tmp_path / "vermilion.sock")
    server = start_server(unixsocket=path, unixsocketperm=0o700)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
        pair = CliPair(0)
        assert pair.same("-s", path, "PING", port=False).out == b"PONG\n"
        pair.same("-s", path, "SET", "k", "v", port=False)
        assert pair.vermilion("-s", path, "GET", "k", port=False).out == b"v\n"
        info = pair.vermilion("-s", path, "CLIENT", "INFO", port=False).out
        assert f"addr={path}:0 laddr={path}:0".encode() in info
        assert b" flags=U " in info
    finally:
        server.stop()
