"""A blocking connection to a server over TCP, a unix socket or TLS, speaking like hiredis.

Error texts are hiredis's (``Connection refused``, ``Server closed the connection``, the resolver's
message), since redis-cli prints them verbatim after ``Could not connect to Redis at ...`` or
``Error: ``.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .resp import PUSH, ProtocolError, Reply, TypedReader, encode_command

if TYPE_CHECKING:
    import ssl

KEEPALIVE_INTERVAL = 15  # seconds, as redis-cli's aggressive keepalive


@dataclass
class TlsOptions:
    """--tls and friends."""

    enabled: bool = False
    sni: str | None = None
    cacert: str | None = None
    cacertdir: str | None = None
    cert: str | None = None
    key: str | None = None
    ciphers: str | None = None
    ciphersuites: str | None = None
    insecure: bool = False
    _warned_ciphersuites: bool = False

    def context(self) -> ssl.SSLContext:
        """An SSL context configured like redis-cli's (chain verified, host name not checked)."""
        import ssl  # only TLS users pay for the import

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        # Failures carry hiredis's texts (printed after "Could not negotiate a TLS connection: ").
        if self.insecure:
            context.verify_mode = ssl.CERT_NONE
        else:
            context.verify_mode = ssl.CERT_REQUIRED
            try:
                if self.cacert or self.cacertdir:
                    context.load_verify_locations(cafile=self.cacert, capath=self.cacertdir)
                else:
                    context.load_default_certs()
            except (OSError, ssl.SSLError):
                raise TlsFailure("Invalid CA Certificate File/Directory") from None
        if self.cert and self.key:  # as redis-cli: a certificate without its key is ignored
            try:
                context.load_cert_chain(self.cert)
            except (OSError, ssl.SSLError):
                pass  # the key may be in its own file: judged below
            try:
                context.load_cert_chain(self.cert, self.key)
            except FileNotFoundError as exc:
                missing_cert = exc.filename == self.cert or not os.path.exists(self.cert)
                raise TlsFailure("Invalid client certificate" if missing_cert else "Invalid private key") from None
            except (OSError, ssl.SSLError):
                if not _loads_as_certificate(self.cert):
                    raise TlsFailure("Invalid client certificate") from None
                raise TlsFailure("Invalid private key") from None
        if self.ciphers:
            try:
                context.set_ciphers(self.ciphers)
            except ssl.SSLError:
                raise TlsFailure("Error while configuring ciphers") from None
        if self.ciphersuites and not self._warned_ciphersuites:
            # Python's ssl module has no way to choose TLS 1.3 ciphersuites.
            import sys

            sys.stderr.write("Warning: --tls-ciphersuites is not supported here and is ignored.\n")
            self._warned_ciphersuites = True
        return context


def _loads_as_certificate(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return b"-----BEGIN CERTIFICATE-----" in handle.read()
    except OSError:
        return False


class ConnectionFailure(Exception):
    """Could not connect; ``str()`` is hiredis's errstr."""


class TlsFailure(ConnectionFailure):
    """The TCP connection opened but the TLS handshake failed."""


class ConnectionLost(Exception):
    """The link broke while talking: ``eof`` for a clean close by the server, ``protocol`` when
    the server sent something that is not RESP (both are hiredis's error classes)."""

    def __init__(self, message: str, eof: bool = False, protocol: bool = False) -> None:
        super().__init__(message)
        self.eof = eof
        self.protocol = protocol


def _socket_error_text(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    if exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc)


def _set_keepalive(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_INTERVAL)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, KEEPALIVE_INTERVAL // 3))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass


def open_socket(host: str | None, port: int, unix_path: str | None, tls: TlsOptions | None) -> socket.socket:
    """Connect like hiredis's redisConnect / redisConnectUnix; ConnectionFailure on error."""
    if unix_path is not None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(unix_path)
        except OSError as exc:
            sock.close()
            raise ConnectionFailure(_socket_error_text(exc)) from None
    else:
        sock = _connect_tcp(host or "127.0.0.1", port)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        _set_keepalive(sock)
    if tls is not None and tls.enabled:
        import ssl

        try:
            context = tls.context()
        except TlsFailure:
            sock.close()
            raise
        try:
            sock = context.wrap_socket(sock, server_hostname=tls.sni)
        except ssl.SSLError as exc:
            sock.close()
            reason = (exc.reason or "unknown error").lower().replace("_", " ")
            raise ConnectionFailure(f"SSL_connect failed: {reason}") from None
        except OSError as exc:
            sock.close()
            raise ConnectionFailure(_socket_error_text(exc)) from None
    return sock


def _connect_tcp(host: str, port: int) -> socket.socket:
    # hiredis asks for IPv4 addresses first and falls back to IPv6.
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as first:
        try:
            infos = socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_STREAM)
        except socket.gaierror:
            raise ConnectionFailure(_socket_error_text(first)) from None
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise ConnectionFailure(_socket_error_text(last) if last else "Can't create socket")


# What happens to RESP3 push replies that arrive while waiting for a reply (hiredis's push
# callback): handed to a printer, silently dropped (hiredis's default), or returned as replies.
PUSH_DROP = "drop"
PUSH_RETURN = "return"


class Connection:
    """One server link: send commands, read typed replies."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = TypedReader()
        self.push_handler: Callable[[Reply], None] | str = PUSH_DROP
        self.closed = False
        # Bytes read past the end of a replication payload (--rdb, --replica).
        self.leftover = b""
        # hiredis's errstr: the last error on this link ("" while none happened).
        self.errstr = ""

    @classmethod
    def open(cls, host: str | None, port: int, unix_path: str | None = None,
             tls: TlsOptions | None = None) -> Connection:
        return cls(open_socket(host, port, unix_path, tls))

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _lost(self, message: str, eof: bool = False, protocol: bool = False) -> ConnectionLost:
        self.errstr = message
        return ConnectionLost(message, eof, protocol)

    def send_raw(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self._lost(_socket_error_text(exc)) from None

    def send(self, args: list[bytes]) -> None:
        self.send_raw(encode_command(args))

    def read_some(self) -> None:
        """One blocking read into the reply buffer."""
        try:
            data = self.sock.recv(1 << 16)
        except InterruptedError:
            raise
        except OSError as exc:
            if exc.errno == errno.EINTR:
                raise InterruptedError from None
            if type(exc).__module__ == "ssl":
                # The server ended the TLS session (e.g. it wanted a client certificate).
                raise self._lost("Server closed the connection", eof=True) from None
            raise self._lost(_socket_error_text(exc)) from None
        if not data:
            raise self._lost("Server closed the connection", eof=True)
        self.reader.feed(data)

    def buffered_reply(self) -> Reply | None:
        """A reply already received, without blocking (push replies handled as configured)."""
        while True:
            try:
                reply = self.reader.get()
            except ProtocolError as exc:
                raise self._lost(str(exc), protocol=True) from None
            if reply is None:
                return None
            if reply.type == PUSH and self.push_handler != PUSH_RETURN:
                if callable(self.push_handler):
                    self.push_handler(reply)
                continue
            return reply

    def read_reply(self) -> Reply:
        while True:
            reply = self.buffered_reply()
            if reply is not None:
                return reply
            self.read_some()

    def call(self, *args: bytes | str) -> Reply:
        """Send one command and wait for its reply."""
        self.send([a.encode() if isinstance(a, str) else a for a in args])
        return self.read_reply()
