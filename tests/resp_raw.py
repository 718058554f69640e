"""A raw RESP connection for exact comparisons: sends one command, returns the reply's bytes.

redis-py and hiredis both lose distinctions that matter here (status vs bulk string, RESP3
types), so the differential tests compare the bytes each server sent.
"""

from __future__ import annotations

import socket


def encode_command(args: tuple) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, (int, float)):
            arg = repr(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class RawConnection:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args) -> bytes:
        self.sock.sendall(encode_command(args))
        return self.read_reply()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buffer += chunk

    def _line_end(self, start: int) -> int:
        while True:
            end = self.buffer.find(b"\r\n", start)
            if end >= 0:
                return end
            self._fill()

    def _skip(self, pos: int) -> int:
        """Position just after the complete reply starting at ``pos``."""
        end = self._line_end(pos)
        kind = self.buffer[pos : pos + 1]
        head = self.buffer[pos + 1 : end]
        after = end + 2
        if kind in (b"$", b"=", b"!"):
            length = int(head)
            if length < 0:
                return after
            while len(self.buffer) < after + length + 2:
                self._fill()
            return after + length + 2
        if kind in (b"*", b"~", b">", b"%", b"|"):
            count = int(head)
            if kind in (b"%", b"|"):
                count *= 2
            for _ in range(max(count, 0)):
                after = self._skip(after)
            if kind == b"|":  # an attribute precedes the real reply
                after = self._skip(after)
            return after
        return after

    def read_reply(self) -> bytes:
        if not self.buffer:
            self._fill()
        end = self._skip(0)
        reply, self.buffer = self.buffer[:end], self.buffer[end:]
        return reply

    def closed_by_peer(self, timeout: float = 2.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
