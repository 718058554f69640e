"""TLS as Redis 7.0 configures it (tls.c's tlsConfigure), on the standard library's ssl.

One server context is built from the tls-* parameters; the TLS listeners (tls-port, on every bind
address) use it. The connection itself is unchanged: asyncio's SSL transport hands decrypted bytes
to ``Client.data_received`` as a TCP transport does, so the hiredis fast path works as is.

CONFIG SET of a tls-* parameter rebuilds the context (a bad one is refused and the old one kept,
as in Redis); the TLS listeners are then re-created on their already listening sockets, so
connections accepted from then on use the new context, without a moment of refusal. Two
settings Python's ssl module does not expose (TLS 1.3 ciphersuites and the server session cache)
are made with the OpenSSL calls Redis makes, through ctypes on the context's SSL_CTX.
"""

from __future__ import annotations

import ctypes
import os
import socket
import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Config
    from .server import Server

UPDATE_FAILED = "Unable to update TLS configuration. Check server logs."

_VERSIONS = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
_AUTH_MODES = {"no": ssl.CERT_NONE, "yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL}

# OpenSSL constants (ssl.h) for the calls the ssl module does not wrap.
_SSL_CTRL_SET_SESS_CACHE_SIZE = 42
_SSL_CTRL_SET_SESS_CACHE_MODE = 44
_SSL_SESS_CACHE_OFF = 0
_SSL_SESS_CACHE_SERVER = 2


class TlsError(Exception):
    """A TLS setting OpenSSL refused; the text is Redis's log line."""


class TlsState:
    """The server's TLS context and listeners."""

    def __init__(self) -> None:
        self.context: ssl.SSLContext | None = None
        self.listeners: list[Any] = []
        self.sockets: list[socket.socket] = []
        self.port = 0


def enabled(config: Config) -> bool:
    return bool(config.tls_port or config.tls_replication or config.tls_cluster)


def state(server: Server) -> TlsState:
    tls = getattr(server, "tls", None)
    if tls is None:
        tls = server.tls = TlsState()
    return tls


# -- the context --------------------------------------------------------------------------------


def parse_protocols(text: str) -> list[ssl.TLSVersion]:
    """tls-protocols: a space-separated set of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (any case);
    empty means TLSv1.2 and TLSv1.3."""
    if not text.strip():
        return [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]
    versions = []
    for word in text.split():
        version = _VERSIONS.get(word.lower())
        if version is None:
            raise TlsError("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', "
                           "'TLSv1.2' and 'TLSv1.3'.")
        versions.append(version)
    return versions


def build_context(config: Config) -> ssl.SSLContext:
    """The server context the tls-* parameters describe; TlsError with Redis's log text."""
    if not config.tls_cert_file:
        raise TlsError("No tls-cert-file configured!")
    if not config.tls_key_file:
        raise TlsError("No tls-key-file configured!")
    needs_ca = config.tls_auth_clients != "no" or config.tls_cluster or config.tls_replication
    if needs_ca and not config.tls_ca_cert_file and not config.tls_ca_cert_dir:
        raise TlsError("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                       "tls-replication or tls-auth-clients are enabled!")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    versions = parse_protocols(config.tls_protocols)
    with _no_deprecation_warnings():
        context.minimum_version = min(versions)
        context.maximum_version = max(versions)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    if config.tls_prefer_server_ciphers:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    _session_cache(context, config)
    _load_chain(context, config.tls_cert_file, config.tls_key_file, config.tls_key_file_pass)
    if config.tls_ca_cert_file or config.tls_ca_cert_dir:
        try:
            context.load_verify_locations(cafile=config.tls_ca_cert_file or None,
                                          capath=config.tls_ca_cert_dir or None)
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(f"Failed to configure CA certificate(s) file/directory: {_reason(exc)}") from None
    if config.tls_ciphers:
        try:
            context.set_ciphers(config.tls_ciphers)
        except ssl.SSLError as exc:
            raise TlsError(f"Failed to configure ciphers: {_reason(exc)}") from None
    if config.tls_ciphersuites and not _call(context, "SSL_CTX_set_ciphersuites", config.tls_ciphersuites.encode()):
        raise TlsError("Failed to configure ciphersuites: no cipher match")
    if config.tls_dh_params_file:
        try:
            context.load_dh_params(config.tls_dh_params_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(f"Failed to load DH params file: {config.tls_dh_params_file}: {_reason(exc)}") from None
    context.verify_mode = _AUTH_MODES[config.tls_auth_clients]
    if config.tls_client_cert_file:
        # The certificate this server presents when it connects out (replication, cluster):
        # checked as Redis checks it, so a bad one is refused now.
        client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _load_chain(client_context, config.tls_client_cert_file, config.tls_client_key_file,
                    config.tls_client_key_file_pass)
    return context


def _load_chain(context: ssl.SSLContext, cert: str, key: str, password: str) -> None:
    try:
        ssl._ssl._test_decode_cert(cert)  # type: ignore[attr-defined]  # parses one PEM certificate
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"Failed to load certificate: {cert}: {_reason(exc)}") from None
    try:
        context.load_cert_chain(cert, key or None, password=password or None)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"Failed to load private key: {key}: {_reason(exc)}") from None


def _session_cache(context: ssl.SSLContext, config: Config) -> None:
    """Redis's session cache settings: server-side cache of the configured size and timeout, or
    none at all."""
    if config.tls_session_caching:
        _ctrl(context, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_SERVER)
        _ctrl(context, _SSL_CTRL_SET_SESS_CACHE_SIZE, config.tls_session_cache_size)
        _call(context, "SSL_CTX_set_timeout", config.tls_session_cache_timeout)
    else:
        _ctrl(context, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_OFF)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.lower().replace("_", " ")
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0:
        return os.strerror(exc.errno)
    return " ".join(str(arg) for arg in exc.args if isinstance(arg, str)) or exc.__class__.__name__


class _no_deprecation_warnings:
    """TLSv1 and TLSv1.1 are deprecated in the ssl module but still Redis options."""

    def __enter__(self) -> None:
        import warnings

        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)

    def __exit__(self, *exc: object) -> None:
        self._catcher.__exit__(*exc)


_libssl: Any = None


def _ssl_ctx_pointer(context: ssl.SSLContext) -> int:
    # CPython's PySSLContext starts with PyObject_HEAD followed by the SSL_CTX pointer.
    return ctypes.c_void_p.from_address(id(context) + 2 * ctypes.sizeof(ctypes.c_void_p)).value or 0


def _function(name: str, argument: Any) -> Any:
    global _libssl
    if _libssl is None:
        # Resolving through the _ssl extension finds the libssl it is linked with.
        _libssl = ctypes.CDLL(ssl._ssl.__file__)  # type: ignore[attr-defined]
    function = getattr(_libssl, name)
    function.argtypes = [ctypes.c_void_p, argument]
    function.restype = ctypes.c_long
    return function


def _call(context: ssl.SSLContext, name: str, value: Any) -> int:
    argument = ctypes.c_char_p if isinstance(value, bytes) else ctypes.c_long
    result = _function(name, argument)(_ssl_ctx_pointer(context), value)
    # A refusal leaves an entry in OpenSSL's error queue, which the ssl module would later
    # report as the cause of an unrelated failure.
    _libssl.ERR_clear_error()
    return result


def _ctrl(context: ssl.SSLContext, command: int, value: int) -> int:
    function = _function("SSL_CTX_ctrl", ctypes.c_int)
    function.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    return function(_ssl_ctx_pointer(context), command, value, None)


# -- start-up and CONFIG SET --------------------------------------------------------------------


def configure(server: Server) -> bool:
    """tlsConfigure: build the context when TLS is on; False after logging why it failed."""
    if not enabled(server.config):
        return True
    try:
        context = build_context(server.config)
    except TlsError as exc:
        server.log("warning", str(exc))
        return False
    state(server).context = context
    return True


def configure_at_startup(server: Server) -> bool:
    if configure(server):
        return True
    server.log("warning", "Failed to configure TLS. Check logs for more info.")
    return False


async def open_listeners(server: Server, factory: Any) -> None:
    """Listen on tls-port on every bind address (after the plain TCP listeners)."""
    from .startup import BindError, bind_tcp

    port = server.config.tls_port
    tls = state(server)
    server.shutdown_hooks.append(lambda: _close_sockets(tls))
    if not port:
        return
    if tls.context is None and not configure_at_startup(server):
        raise OSError("TLS is misconfigured (see the log)")
    try:
        sockets = bind_tcp(server, port, server.config.bind)
    except BindError:
        server.log("warning", f"Failed listening on port {port} (TLS), aborting.")
        raise
    tls.sockets = sockets
    tls.port = port
    for sock in sockets:
        listener = await server.loop.create_server(
            factory, sock=sock.dup(), backlog=server.config.tcp_backlog, ssl=tls.context)
        tls.listeners.append(listener)
        server.listeners.append(listener)


def _restart_listeners(server: Server) -> None:
    """Serve the TLS sockets with the current context: the old listeners stop, new ones take
    over duplicates of the same listening sockets (connections keep queuing meanwhile)."""
    from .startup import _client_factory

    tls = state(server)
    for listener in tls.listeners:
        listener.close()
        if listener in server.listeners:
            server.listeners.remove(listener)
    tls.listeners = []
    if server.loop is None:
        return
    factory = _client_factory(server)

    def attach(task: Any) -> None:
        if not task.cancelled() and task.exception() is None:
            tls.listeners.append(task.result())
            server.listeners.append(task.result())

    for sock in tls.sockets:
        task = server.loop.create_task(server.loop.create_server(
            factory, sock=sock.dup(), backlog=server.config.tcp_backlog, ssl=tls.context))
        task.add_done_callback(attach)


def _close_sockets(tls: TlsState) -> None:
    for sock in tls.sockets:
        sock.close()
    tls.sockets = []


def apply_config(server: Server, old: Any, new: Any) -> None:
    """applyTlsCfg: rebuild the context when TLS is on; the new one serves new connections."""
    from .config import ConfigError

    if not enabled(server.config):
        return
    if not configure(server):
        raise ConfigError(UPDATE_FAILED)
    if state(server).sockets:
        _restart_listeners(server)


def apply_auth_clients(server: Server, old: Any, new: Any) -> None:
    """tls-auth-clients applies to connections accepted from now on, without a rebuild."""
    tls = getattr(server, "tls", None)
    if tls is not None and tls.context is not None:
        tls.context.verify_mode = _AUTH_MODES[server.config.tls_auth_clients]


def apply_port(server: Server, old: Any, new: Any) -> None:
    """applyTLSPort: configure TLS if it was not, then listen on the new port (0: stop)."""
    from .config import ConfigError
    from .startup import BindError, bind_tcp

    tls = state(server)
    if tls.context is None and not configure(server):
        raise ConfigError(UPDATE_FAILED)
    port = server.config.tls_port
    if server.loop is None:
        return
    if port:
        try:
            sockets = bind_tcp(server, port, server.config.bind)
        except BindError:
            raise ConfigError("Unable to listen on this port. Check server logs.") from None
    else:
        sockets = []
    _close_sockets(tls)
    tls.sockets = sockets
    tls.port = port
    _restart_listeners(server)


def rebind(server: Server) -> None:
    """CONFIG SET bind: the TLS port moves to the new addresses too."""
    tls = getattr(server, "tls", None)
    if tls is None or not tls.port or server.loop is None:
        return
    from .startup import bind_tcp

    for listener in tls.listeners:
        listener.close()
        if listener in server.listeners:
            server.listeners.remove(listener)
    tls.listeners = []
    _close_sockets(tls)
    tls.sockets = bind_tcp(server, tls.port, server.config.bind)
    _restart_listeners(server)


def close(server: Server) -> None:
    tls = getattr(server, "tls", None)
    if tls is not None:
        _close_sockets(tls)


__all__ = ["TlsError", "TlsState", "build_context", "configure", "configure_at_startup", "open_listeners",
           "apply_config", "apply_port", "apply_auth_clients", "parse_protocols"]
