"""A read holding exactly one request runs through the connection's single-request lane
(Client._run_one); anything more or less goes through _run_fast. Both must answer as Redis does,
including at the edges between them. Each case is sent in one write, so one read on the server."""

from __future__ import annotations

import time

import pytest

from tests.resp_raw import RawConnection

CASES = {
    "one request": [b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"],
    "one request, then an inline command": [b"*1\r\n$4\r\nPING\r\nPING\r\n"],
    "one request, then half of another": [b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGE", b"T\r\n$1\r\nk\r\n"],
    "a payload holding a star": [b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na*b\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"],
    "an unknown command": [b"*1\r\n$4\r\nNOPE\r\n"],
    "a wrong argument count": [b"*1\r\n$3\r\nGET\r\n"],
    "an error from the handler": [b"*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$1\r\nx\r\n"],
    "CLIENT REPLY OFF, then single requests": [
        b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"],
    "CLIENT REPLY SKIP, then single requests": [
        b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"],
}


def exchange(port: int, reads: list[bytes]) -> list[bytes]:
    """Each read sent alone, then a PING whose reply marks the end of the replies."""
    conn = RawConnection(port)
    try:
        conn.call("DEL", "k")
        for data in reads:
            conn.send_raw(data)
            time.sleep(0.05)  # so that the server reads it alone
        conn.send_raw(b"*2\r\n$4\r\nPING\r\n$3\r\nend\r\n")
        got = []
        while not got or got[-1] != b"$3\r\nend\r\n":
            got.append(conn.read_reply())
        return got
    finally:
        conn.close()


@pytest.mark.parametrize("case", list(CASES))
def test_reads_around_one_request_are_answered_as_redis_answers(server, oracle_port, case):
    assert exchange(server.port, CASES[case]) == exchange(oracle_port, CASES[case])


def answered_then_closed(port: int, data: bytes) -> tuple[bytes, bool]:
    conn = RawConnection(port)
    try:
        conn.send_raw(data)
        return conn.read_reply(), conn.closed_by_peer()
    finally:
        conn.close()


@pytest.mark.parametrize("request_bytes", [
    b"*2\r\n$3\r\nGET\r\n:1\r\n",
    # Non-bulk first elements: hiredis hands over a list, a dict or an int as the command name
    # (bench/fuzz.py found the lane looking up an unhashable one).
    b"*1\r\n*1\r\n$4\r\nPING\r\n",
    b"*2\r\n*0\r\n$1\r\nk\r\n",
    b"*1\r\n%1\r\n$1\r\na\r\n$1\r\nb\r\n",
    b"*2\r\n:1\r\n$1\r\nk\r\n",
], ids=["int argument", "array command", "empty array command", "map command", "int command"])
def test_a_non_bulk_argument_is_a_protocol_error(server, oracle_port, request_bytes):
    ours, theirs = (answered_then_closed(port, request_bytes) for port in (server.port, oracle_port))
    assert ours == theirs
    assert ours[1]


def test_quit_alone_in_a_read_answers_then_closes(server, oracle_port):
    request = b"*1\r\n$4\r\nQUIT\r\n"
    ours, theirs = (answered_then_closed(port, request) for port in (server.port, oracle_port))
    assert ours == theirs == (b"+OK\r\n", True)
