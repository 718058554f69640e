"""Wire behaviour compared byte for byte with real Redis: inline commands, pipelining, and
malformed requests (error text, then the connection closes)."""

from __future__ import annotations

import socket

import pytest


def exchange(port: int, data: bytes, timeout: float = 2.0) -> bytes:
    """Send raw bytes; everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return received + b"<open>"
            if not chunk:
                return received + b"<closed>"
            received += chunk
            sock.settimeout(0.3)


CASES = [
    b"PING\r\n",
    b"PING\n",
    b"ping hello\r\n",
    b'ECHO "a b\\x41"\r\n',
    b"\r\n\r\nPING\r\n",
    b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n",
    b"*0\r\n*1\r\n$4\r\nPING\r\n",
    b"*-1\r\n*1\r\n$4\r\nPING\r\n",
    b"*abc\r\n",
    b"*1\r\n:5\r\n",
    b"*2\r\n$4\r\nECHO\r\n:5\r\n",
    # Element types hiredis would hand over as plain bytes (or skip, for an attribute).
    b"*1\r\n+PING\r\n",
    b"*2\r\n$4\r\nECHO\r\n=7\r\ntxt:abc\r\n",
    b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n(12\r\n",
    b"*2\r\n$4\r\nECHO\r\n|1\r\n+a\r\n+b\r\n$1\r\nx\r\n",
    b"*2\r\n$4\r\nECHO\r\n$5\r\na\n+bc\r\n*2\r\n$4\r\nECHO\r\n$3\r\n(|=\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$abc\r\n",
    b"*3000000000\r\n",
    b"PING\r\n*1\r\nx\r\n",
    b'SET k "unbalanced\r\nPING\r\n',
    b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nNOPE\r\n",
    b"*1\r\n$4\r\nPI",
    b"$3\r\nfoo\r\n",
    b"*2\r\n$3\r\nGET\r\n*1\r\n$1\r\nk\r\n",
]


@pytest.mark.parametrize("data", CASES, ids=[repr(c)[:40] for c in CASES])
def test_wire_matches_redis(server, oracle_port, data):
    assert exchange(server.port, data) == exchange(oracle_port, data)


def test_pipeline_split_at_every_byte(server, oracle_port):
    request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in request:
            sock.sendall(bytes([byte]))
        expected = b"+OK\r\n$2\r\nvv\r\n+PONG\r\n"
        received = b""
        while len(received) < len(expected):
            received += sock.recv(100)
        assert received == expected
