"""The vermilion-server command line and process life: options, logging, banner, pidfile,
daemonizing, supervision, listening sockets, and the startup and shutdown log lines.

Everything here follows redis-server 7.0.15: the command line is turned into configuration text
the way redis-server does it, fatal configuration errors print the same text, and the log lines
come in the same order with the same layout (``pid:role dd Mon yyyy HH:MM:SS.mmm mark message``).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

from . import REDIS_VERSION, __version__
from .config import (
    Config,
    ConfigError,
    ConfigFileUnreadable,
    ConfigLoadError,
    c_repr,
    raw_of,
    read_config_file,
)
from . import tls
from .resp.reader import split_args

if TYPE_CHECKING:
    from .server import Server

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3}
LEVEL_MARKS = ".-*#"
DEFAULT_PIDFILE = "/var/run/redis.pid"
PROGRAM = "vermilion-server"

try:
    import syslog as _syslog
except ImportError:  # pragma: no cover - not on every platform
    _syslog = None


# -- logging in Redis's format ---------------------------------------------------------------


def log_line(pid: int, role: str, level: str, message: str, now: float | None = None) -> str:
    """One log line: ``pid:role dd Mon yyyy HH:MM:SS.mmm mark message``."""
    now = time.time() if now is None else now
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
    return f"{pid}:{role} {stamp}.{int(now * 1000) % 1000:03d} {LEVEL_MARKS[LEVELS[level]]} {message}\n"


def write_log(config: Config, level: str, text: str, to_syslog: bool = True) -> None:
    """Write finished log text where the config sends it: the logfile (opened for each line, as
    Redis does, so rotating it works) or stdout; and syslog when enabled."""
    data = raw_of(text)
    if config.logfile:
        try:
            with open(raw_of(config.logfile), "ab") as handle:
                handle.write(data)
        except OSError:
            pass
    else:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except (OSError, ValueError, AttributeError):
            pass
    if to_syslog and config.syslog_enabled and _syslog is not None:
        _open_syslog(config)
        _syslog.syslog(_SYSLOG_PRIORITY[level], text.rstrip("\n"))


_SYSLOG_PRIORITY = {
    "debug": getattr(_syslog, "LOG_DEBUG", 7),
    "verbose": getattr(_syslog, "LOG_INFO", 6),
    "notice": getattr(_syslog, "LOG_NOTICE", 5),
    "warning": getattr(_syslog, "LOG_WARNING", 4),
}
_syslog_opened = False


def _open_syslog(config: Config) -> None:
    global _syslog_opened
    if _syslog_opened:
        return
    facility_name = "LOG_USER" if config.syslog_facility == "user" else "LOG_" + config.syslog_facility.upper()
    facility = getattr(_syslog, facility_name, _syslog.LOG_USER)
    _syslog.openlog(config.syslog_ident, _syslog.LOG_PID | _syslog.LOG_NDELAY | _syslog.LOG_NOWAIT, facility)
    _syslog_opened = True


def log(config: Config, level: str, message: str, role: str = "M", pid: int | None = None) -> None:
    """Log a line with the config's level filter (for use before a Server exists)."""
    if LEVELS[level] < LEVELS.get(config.loglevel, 2):
        return
    write_log(config, level, log_line(os.getpid() if pid is None else pid, role, level, message))


def log_from_signal_handler(server: Server, message: str) -> None:
    """The line Redis's signal handler writes: ``pid:signal-handler (unixtime) message``."""
    config = server.config
    if LEVELS["warning"] < LEVELS.get(config.loglevel, 2) or (not config.logfile and config.daemonize):
        return
    text = f"{os.getpid()}:signal-handler ({int(time.time())}) {message}\n"
    # Redis's signal handler writes the line to the log only, not to syslog.
    write_log(config, "warning", text, to_syslog=False)


# -- the command line ------------------------------------------------------------------------


def version_line() -> str:
    from .info import BUILD_ID

    bits = 64 if sys.maxsize > 2**32 else 32
    return (
        f"Vermilion server v={__version__} redis_version={REDIS_VERSION} sha=00000000:0 "
        f"malloc=libc bits={bits} build={BUILD_ID}"
    )


def usage() -> str:
    return (
        f"Usage: {PROGRAM} [/path/to/redis.conf] [options] [-]\n"
        f"       {PROGRAM} - (read config from stdin)\n"
        f"       {PROGRAM} -v or --version\n"
        f"       {PROGRAM} -h or --help\n"
        "\n"
        "Examples:\n"
        f"       {PROGRAM} (run the server with default conf)\n"
        f"       echo 'maxmemory 128mb' | {PROGRAM} -\n"
        f"       {PROGRAM} /etc/redis/6379.conf\n"
        f"       {PROGRAM} --port 7777\n"
        f"       {PROGRAM} --port 7777 --replicaof 127.0.0.1 8888\n"
        f"       {PROGRAM} /etc/myredis.conf --loglevel verbose -\n"
        f"       {PROGRAM} /etc/myredis.conf --loglevel verbose\n"
        "\n"
        "Any configuration directive can be given as --name value; the options are read after\n"
        "the configuration file and stdin, so they win.\n"
    )


def command_line_options(args: list[str]) -> tuple[str | None, bool, bytes]:
    """redis-server's reading of its arguments: (config file, read stdin?, options text).

    A first argument not starting with '-' is the config file. '-' first or last reads stdin.
    ``--name`` starts a directive and the arguments after it are its values, each quoted as
    Redis quotes them, so ``--save "" --port 7000`` becomes the lines ``save ""`` and
    ``port "7000"``. ``--save`` with no value means ``save ""``."""
    config_file = None
    index = 0
    if args and not args[0].startswith("-"):
        config_file = args[0]
        index = 1
    from_stdin = False
    options = bytearray()
    handled_last_value = True
    count = len(args)
    while index < count:
        arg = args[index]
        if arg == "-" and (index == 0 or index == count - 1):
            from_stdin = True
        elif handled_last_value and arg.startswith("--"):
            if options:
                options += b"\n"
            options += raw_of(arg[2:]) + b" "
            words = split_args(raw_of(arg))
            if words is not None and len(words) == 1:
                # A bare option name: its value is in the next arguments.
                handled_last_value = False
                if arg.lower() == "--save":
                    following = args[index + 1] if index + 1 < count else None
                    if following is None or following.startswith("--"):
                        # "--save --port 1" (as generated from an empty list) means save "".
                        options += b'""'
                        handled_last_value = following is not None
            else:
                handled_last_value = True
        else:
            options += raw_of(c_repr(arg)) + b" "
            handled_last_value = True
        index += 1
    return config_file, from_stdin, bytes(options)


def load_configuration(config: Config, config_file: str | None, from_stdin: bool, options: bytes) -> None:
    """Read the file, then stdin, then the options, as one text (Redis's loadServerConfig)."""
    text = b""
    if config_file is not None:
        text = read_config_file(config_file)
    if from_stdin:
        log(config, "warning", "Reading config from stdin", role="C")
        text += sys.stdin.buffer.read()
    if options:
        text += b"\n" + options
    if config_file is not None:
        config.config_file = os.path.abspath(config_file)
    config.load_text(text)


# -- process life: daemon, pidfile, supervision ----------------------------------------------


def daemonize() -> None:
    """Detach: fork twice (the parent and the middle process exit), new session, and stdin,
    stdout and stderr on /dev/null (so a daemon logging to stdout logs nowhere, as in Redis)."""
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    fd = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)


def write_pidfile(server: Server) -> None:
    config = server.config
    if not config.pidfile:
        config.pidfile = DEFAULT_PIDFILE
    try:
        with open(raw_of(config.pidfile), "w") as handle:
            handle.write(f"{os.getpid()}\n")
    except OSError as exc:
        server.log("warning", f"Failed to write PID file: {os.strerror(exc.errno or 0)}")


def before_exit(server: Server) -> None:
    """What Redis does between "User requested shutdown" and "ready to exit": remove the pid
    file and the unix socket file."""
    config = server.config
    if config.daemonize or config.pidfile:
        server.log("notice", "Removing the pid file.")
        try:
            os.unlink(raw_of(config.pidfile))
        except OSError:
            pass
    if getattr(server, "unix_listener", None) is not None and config.unixsocket:
        server.log("notice", "Removing the unix socket file.")
        try:
            os.unlink(raw_of(config.unixsocket))
        except OSError as exc:
            server.log("warning", f"Error removing the unix socket file: {os.strerror(exc.errno or 0)}")


def detect_supervision(config: Config) -> str | None:
    """Redis's redisIsSupervised: 'upstart', 'systemd' or None; auto looks at the environment."""
    mode = config.supervised
    if mode == "auto":
        if os.environ.get("UPSTART_JOB"):
            log(config, "verbose", "Upstart supervision detected.", role="C")
            mode = "upstart"
        elif os.environ.get("NOTIFY_SOCKET"):
            log(config, "verbose", "Systemd supervision detected.", role="C")
            mode = "systemd"
    if mode == "upstart":
        if not os.environ.get("UPSTART_JOB"):
            log(config, "warning", "upstart supervision requested, but UPSTART_JOB not found!", role="C")
            return None
        log(config, "notice", "supervised by upstart, will stop to signal readiness.", role="C")
        os.kill(os.getpid(), signal.SIGSTOP)
        os.environ.pop("UPSTART_JOB", None)
    elif mode == "systemd":
        if not os.environ.get("NOTIFY_SOCKET"):
            log(config, "warning", "systemd supervision error: NOTIFY_SOCKET not found!", role="C")
            return None
        if not notify_systemd("STATUS=Redis is loading...\n"):
            log(config, "warning", "systemd supervision error: sd_notify: -1", role="C")
            return None
        log(config, "notice", "Supervised by systemd. Please make sure you set appropriate values for "
            "TimeoutStartSec and TimeoutStopSec in your service unit.", role="C")
    else:
        return None
    config.supervised = mode
    return mode


def notify_systemd(message: str) -> bool:
    """sd_notify: one datagram to $NOTIFY_SOCKET ('@' is the abstract namespace)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError:
        return False
    return True


# -- the banner ------------------------------------------------------------------------------

# A cut gem of cinnabar: our own art. Fields on the right as Redis lays them out.
_LOGO = r"""
            ____________
           /\    /\    /\             Vermilion {version} (Redis {redis} compatible) {bits} bit
          /  \  /  \  /  \
         /____\/____\/____\           Running in {mode} mode
         \    /\    /\    /           Port: {port}
          \  /  \  /  \  /            PID: {pid}
           \/    \/    \/
            \          /              a Redis-compatible server in Python
             \        /
              \      /
               \    /
                \  /
                 \/
"""


def ascii_logo(port: int, pid: int) -> str:
    bits = 64 if sys.maxsize > 2**32 else 32
    return _LOGO.lstrip("\n").format(
        version=__version__, redis=REDIS_VERSION, bits=bits, mode="standalone", port=port, pid=pid
    ) + "\n"


def show_logo(server: Server) -> None:
    """The banner when always-show-logo is set or stdout (the log) is a terminal; otherwise the
    one line Redis prints instead."""
    config = server.config
    try:
        tty = sys.stdout.isatty()
    except (ValueError, AttributeError):
        tty = False
    if (not config.syslog_enabled and not config.logfile and tty) or config.always_show_logo:
        if LEVELS["notice"] >= LEVELS.get(config.loglevel, 2):
            write_log(config, "notice", ascii_logo(server.port, os.getpid()))
    else:
        server.log("notice", f"Running mode=standalone, port={server.port}.")


# -- listening sockets (Redis's listenToPort, changeListenPort, changeBindAddr) --------------

# Errors that skip an address instead of failing (a protocol or family the host lacks).
_SKIPPED_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EPFNOSUPPORT", "EAFNOSUPPORT")
    if hasattr(errno, name)
)


class BindError(OSError):
    """An address that could not be listened on; ``text`` is what Redis logs about it."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(code, text)
        self.text = text


def _tcp_socket(address: str, port: int, backlog: int) -> socket.socket:
    ipv6 = ":" in address
    host: str | None = address
    if address == "*" or (ipv6 and address == "::*"):
        host = None
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, str(port), family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BindError(0, exc.strerror or str(exc)) from None
    for info in infos:
        try:
            sock = socket.socket(info[0], info[1], info[2])
        except OSError:
            continue
        try:
            if ipv6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(info[4])
            except OSError as exc:
                raise BindError(exc.errno or 0, f"bind: {os.strerror(exc.errno or 0)}") from None
            try:
                sock.listen(backlog)
            except OSError as exc:
                raise BindError(exc.errno or 0, f"listen: {os.strerror(exc.errno or 0)}") from None
        except BaseException:
            sock.close()
            raise
        sock.setblocking(False)
        return sock
    raise BindError(0, "unable to bind socket, errno: 0")


def bind_tcp(server: Server, port: int, addresses: list[str]) -> list[socket.socket]:
    """Listening sockets on every address ('-' prefix: optional); BindError after logging when
    a required address fails. Port 0 (embedded servers) takes a free port for all of them."""
    for attempt in range(5):
        sockets: list[socket.socket] = []
        chosen = port
        try:
            for entry in addresses:
                optional = entry.startswith("-")
                address = entry[1:] if optional else entry
                try:
                    sock = _tcp_socket(address, chosen, server.config.tcp_backlog)
                except BindError as exc:
                    retry = port == 0 and sockets and exc.errno == errno.EADDRINUSE and attempt < 4
                    if not retry:
                        server.log("warning", f"Warning: Could not create server TCP listening socket "
                                              f"{address}:{chosen}: {exc.text}")
                    if exc.errno == errno.EADDRNOTAVAIL and optional:
                        continue
                    if exc.errno in _SKIPPED_ERRNOS:
                        continue
                    raise
                sockets.append(sock)
                if chosen == 0:
                    chosen = sock.getsockname()[1]
            return sockets
        except BindError as exc:
            for sock in sockets:
                sock.close()
            if not (port == 0 and sockets and exc.errno == errno.EADDRINUSE and attempt < 4):
                raise
    raise BindError(errno.EADDRINUSE, "bind: " + os.strerror(errno.EADDRINUSE))


def _client_factory(server: Server) -> Any:
    from .connection import Client

    return lambda: Client(server)


async def open_listeners(server: Server) -> None:
    """Listen as the config says (Redis's initServer part): TCP on every bind address, the unix
    socket. Logs and raises OSError when that fails."""
    config = server.config
    loop = server.loop
    factory = _client_factory(server)
    server.tcp_listeners = []
    server.unix_listener = None
    port = config.port
    if port != 0 or server.ephemeral_port:
        try:
            sockets = bind_tcp(server, port, config.bind)
        except BindError:
            server.log("warning", f"Failed listening on port {port} (TCP), aborting.")
            raise
        for sock in sockets:
            listener = await loop.create_server(factory, sock=sock, backlog=config.tcp_backlog)
            server.listeners.append(listener)
            server.tcp_listeners.append(listener)
        if sockets:
            server.port = sockets[0].getsockname()[1]
    if config.unixsocket:
        path = raw_of(config.unixsocket)
        try:
            os.unlink(path)
        except OSError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            if config.unixsocketperm:
                os.chmod(path, config.unixsocketperm)
            sock.listen(config.tcp_backlog)
        except OSError as exc:
            sock.close()
            server.log("warning", f"Failed opening Unix socket: {exc.strerror}")
            raise
        sock.setblocking(False)
        listener = await loop.create_unix_server(factory, sock=sock, backlog=config.tcp_backlog)
        server.listeners.append(listener)
        server.unix_listener = listener
    await tls.open_listeners(server, factory)
    if not server.tcp_listeners and server.unix_listener is None and not tls.state(server).listeners:
        server.log("warning", "Configured to not listen anywhere, exiting.")
        raise OSError(errno.EADDRNOTAVAIL, "not listening anywhere")


def _close_tcp_listeners(server: Server) -> None:
    for listener in getattr(server, "tcp_listeners", []):
        listener.close()
        if listener in server.listeners:
            server.listeners.remove(listener)
    server.tcp_listeners = []


def _start_tcp_listeners(server: Server, sockets: list[socket.socket]) -> None:
    """Serve already-bound sockets from inside a command (no awaiting there): the sockets listen
    at once, so connections queue until the tasks attach them to the loop."""
    loop = server.loop
    factory = _client_factory(server)

    def attach(task: Any) -> None:
        if not task.cancelled() and task.exception() is None:
            listener = task.result()
            server.listeners.append(listener)
            server.tcp_listeners.append(listener)

    for sock in sockets:
        task = loop.create_task(loop.create_server(factory, sock=sock, backlog=server.config.tcp_backlog))
        task.add_done_callback(attach)
    if sockets:
        server.port = sockets[0].getsockname()[1]


def change_listen_port(server: Server) -> None:
    """CONFIG SET port: close the TCP listeners and listen on the new port (0: no TCP)."""
    port = server.config.port
    if port == 0 and server.ephemeral_port:
        # An embedded server's "any free port" is the one it already has.
        port = server.port
    if server.loop is None:
        server.port = port
        return
    _close_tcp_listeners(server)
    if port == 0:
        server.port = 0
        return
    try:
        sockets = bind_tcp(server, port, server.config.bind)
    except BindError:
        raise ConfigError("Unable to listen on this port. Check server logs.") from None
    _start_tcp_listeners(server, sockets)


def change_bind_addresses(server: Server) -> None:
    """CONFIG SET bind: listen on the new addresses instead of the old ones."""
    if server.loop is None:
        return
    _close_tcp_listeners(server)
    port = server.port
    try:
        if port != 0:
            _start_tcp_listeners(server, bind_tcp(server, port, server.config.bind))
        tls.rebind(server)
    except BindError:
        server.log("warning", "Failed to bind, trying to restore old listening sockets.")
        raise ConfigError("Failed to bind to specified addresses.") from None


# -- open files limit (Redis's adjustOpenFilesLimit) ------------------------------------------

MIN_RESERVED_FDS = 32


def _file_limit_ceiling(hard: int) -> int:
    """The highest RLIMIT_NOFILE this process may set: the hard limit, or fs.nr_open for root."""
    if os.geteuid() != 0:
        return hard
    try:
        with open("/proc/sys/fs/nr_open") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return hard


def adjust_open_files_limit(server: Server) -> bool:
    """Raise the open files limit to maxclients + 32, or lower maxclients to what the system
    allows, with Redis's log lines. False when not even the reserved descriptors fit."""
    import resource

    config = server.config
    maxfiles = config.maxclients + MIN_RESERVED_FDS
    try:
        old_limit, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as exc:
        server.log("warning", f"Unable to obtain the current NOFILE limit ({os.strerror(exc.errno or 0)}), "
                              "assuming 1024 and setting the max clients configuration accordingly.")
        config.maxclients = 1024 - MIN_RESERVED_FDS
        return True
    if old_limit == resource.RLIM_INFINITY or old_limit >= maxfiles:
        return True
    # Redis tries maxfiles, then 16 fewer each time; the first value the system accepts is the
    # largest multiple-of-16 step under the ceiling, so go there directly.
    ceiling = _file_limit_ceiling(hard if hard != resource.RLIM_INFINITY else maxfiles)
    best = maxfiles if maxfiles <= ceiling else maxfiles - 16 * -(-(maxfiles - ceiling) // 16)
    error = 0
    while best > old_limit:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (best, best))
            break
        except (OSError, ValueError) as exc:
            error = getattr(exc, "errno", None) or errno.EPERM
            if best < 16:
                best = old_limit
                break
            best -= 16
    if best < old_limit:
        best = old_limit
    if best >= maxfiles:
        server.log("notice", f"Increased maximum number of open files to {maxfiles} "
                             f"(it was originally set to {old_limit}).")
        return True
    requested = config.maxclients
    if best <= MIN_RESERVED_FDS:
        server.log("warning", f"Your current 'ulimit -n' of {old_limit} is not enough for the server to start. "
                              f"Please increase your open file limit to at least {maxfiles}. Exiting.")
        return False
    config.maxclients = best - MIN_RESERVED_FDS
    server.log("warning", f"You requested maxclients of {requested} requiring at least {maxfiles} max file "
                          "descriptors.")
    server.log("warning", f"Server can't set maximum open files to {maxfiles} because of OS error: "
                          f"{os.strerror(error or errno.EPERM)}.")
    server.log("warning", f"Current maximum open files is {best}. maxclients has been reduced to "
                          f"{config.maxclients} to compensate for low ulimit. If you need higher maxclients "
                          "increase 'ulimit -n'.")
    return True


# -- the startup sequence ----------------------------------------------------------------------


def check_tls(server: Server) -> bool:
    return tls.configure_at_startup(server)


def load_modules(server: Server) -> bool:
    """Vermilion runs no native Redis modules: a loadmodule directive aborts the start as a
    module that fails to load does in Redis."""
    config = server.config
    for path, _args in config.modules:
        if os.path.exists(raw_of(path)):
            reason = "Vermilion cannot load native Redis modules"
        else:
            reason = f"{path}: cannot open shared object file: No such file or directory"
        server.log("warning", f"Module {path} failed to load: {reason}")
        server.log("warning", f"Can't load module from {path}: server aborting")
        return False
    if config.module_configs:
        server.log("warning", "Module Configuration detected without loadmodule directive or no ApplyConfig "
                              "call: aborting")
        return False
    return True


async def serve_from_command_line(server: Server) -> int:
    """The part of redis-server's main() that runs in the event loop: listen, pidfile, banner,
    module loading, the ready line; then serve until a signal or SHUTDOWN."""
    import asyncio

    config = server.config
    if not adjust_open_files_limit(server) or not check_tls(server):
        return 1
    server.log("notice", "monotonic clock: POSIX clock_gettime")
    try:
        await server.listen()
    except OSError:
        return 1
    if config.daemonize or config.pidfile:
        write_pidfile(server)
    show_logo(server)
    server.log("warning", "Server initialized")
    if not load_modules(server):
        await server.close()
        return 1
    if not server.acl.load_at_startup():  # user directives or the aclfile (vermilion.acl)
        await server.close()
        return 1
    for hook in server.startup_hooks:
        pending = hook()
        if pending is not None:
            # Dataset loading (vermilion.persistence.saving): clients get -LOADING meanwhile.
            await pending
    if server.tcp_listeners or tls.state(server).listeners:
        # Redis 7.0 says "Ready to accept connections", 7.2 adds the connection type; the longer
        # line satisfies harnesses that wait for either.
        server.log("notice", "Ready to accept connections tcp")
    if server.unix_listener is not None:
        server.log("notice", f"The server is now ready to accept connections at {config.unixsocket}")
    if config.supervised == "systemd":
        if config.replicaof is None:
            notify_systemd("STATUS=Ready to accept connections\n")
        notify_systemd("READY=1\n")
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    server._stop_future = stop
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, _on_signal, server, signum)
        except (NotImplementedError, RuntimeError):
            pass
    code = await stop
    await server.close()
    return code


def _on_signal(server: Server, signum: int) -> None:
    name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
    log_from_signal_handler(server, f"Received {name} scheduling shutdown...")
    # shutdown-on-sigterm / shutdown-on-sigint: SHUTDOWN's options for this signal.
    setting = server.config.shutdown_on_sigint if signum == signal.SIGINT else server.config.shutdown_on_sigterm
    options = {word.encode() for word in setting.split() if word != "default"}
    if not server.request_shutdown(0, options):
        server.log("warning", f"{name} received but errors trying to shut down the server, "
                              "check the logs for more information")


def main(argv: list[str] | None = None) -> int:
    """vermilion-server: returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-v", "--version"):
        print(version_line())
        return 0
    if args and args[0] in ("-h", "--help"):
        sys.stderr.write(usage())
        return 1
    if "--sentinel" in args or os.path.basename(sys.argv[0] if argv is None else "").endswith("sentinel"):
        sys.stderr.write("Vermilion does not implement Sentinel mode.\n")
        return 1
    from . import commands  # noqa: F401  registers every command
    from .server import Server

    config = Config()
    try:
        config_file, from_stdin, options = command_line_options(args)
        load_configuration(config, config_file, from_stdin, options)
    except ConfigLoadError as exc:
        sys.stderr.buffer.write(exc.report())
        sys.stderr.flush()
        return 1
    except ConfigFileUnreadable as exc:
        log(config, "warning", str(exc), role="C")
        return 1
    from .registry import rename_command

    for old_name, new_name in config.renamed_commands:
        rename_command(old_name, new_name)

    # Supervision is settled first, as in Redis (its messages come before the starting lines).
    supervised = detect_supervision(config)
    pid = os.getpid()
    log(config, "warning", "oO0OoO0OoO0Oo Vermilion is starting oO0OoO0OoO0Oo", role="C")
    log(config, "warning", f"Vermilion version={__version__}, bits={64 if sys.maxsize > 2**32 else 32}, "
                           f"commit=00000000, modified=0, pid={pid}, just started", role="C")
    if not args:
        log(config, "warning", "Warning: no config file specified, using the default config. In order to "
                               f"specify a config file use {PROGRAM} /path/to/redis.conf", role="C")
    else:
        log(config, "warning", "Configuration loaded", role="C")
    if config.daemonize and supervised is None:
        daemonize()
    server = Server(config)
    server.ephemeral_port = False
    from .memory import measure_startup

    measure_startup(server)
    if config.maxmemory and config.maxmemory < server.startup_memory:
        log(config, "warning", f"WARNING: maxmemory ({config.maxmemory} bytes) is less than the memory "
                               f"Vermilion uses at startup ({server.startup_memory} bytes): every write "
                               "will evict or be refused. Are you sure this is what you really want?")
    return server.run()


__all__ = [
    "main", "command_line_options", "load_configuration", "log_line", "write_log", "version_line", "usage",
    "ascii_logo", "bind_tcp", "change_listen_port", "change_bind_addresses",
]
