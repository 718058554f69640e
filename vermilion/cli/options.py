"""vermilion-cli's command line: redis-cli 7.0's options, parsed the way redis-cli parses them.

Options come first; the first argument that does not start with ``-`` starts the command. An
option that needs a value but is last, or an unknown option, is an error. The settings land in
one ``CliConfig``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from .. import __version__
from .connection import TlsOptions
from .format import OUTPUT_CSV, OUTPUT_JSON, OUTPUT_QUOTED_JSON, OUTPUT_RAW, OUTPUT_STANDARD
from .sds import unquote

DEFAULT_PIPE_TIMEOUT = 30
AUTH_ENV = "REDISCLI_AUTH"
CLUSTER_YES_ENV = "REDISCLI_CLUSTER_YES"


@dataclass
class CliConfig:
    host: str = "127.0.0.1"
    port: int = 6379
    socket_path: str | None = None
    tls: TlsOptions = field(default_factory=TlsOptions)
    repeat: int = 1
    interval: float = 0.0  # seconds
    dbnum: int = 0
    user: str | None = None
    auth: str | None = None
    askpass: bool = False
    no_auth_warning: bool = False
    resp2: bool = False
    # 0: RESP2; 1: RESP3 required (-3); 2: RESP3 if the server has it (--json).
    resp3: int = 0
    stdin_last_arg: bool = False
    stdin_tag: str | None = None
    bulk_delimiter: bytes = b"\n"
    reply_delimiter: bytes = b"\n"
    cluster_mode: bool = False
    set_errcode: bool = False
    output: int = OUTPUT_STANDARD
    push_output: bool = True
    quoted_input: bool = False
    stat_mode: bool = False
    latency_mode: bool = False
    latency_history: bool = False
    latency_dist_mode: bool = False
    mono: bool = False
    lru_test_keys: int = 0
    replica_mode: bool = False
    rdb_filename: str | None = None
    functions_rdb: bool = False
    pipe_mode: bool = False
    pipe_timeout: int = DEFAULT_PIPE_TIMEOUT
    bigkeys: bool = False
    memkeys: bool = False
    memkeys_samples: int = 0
    hotkeys: bool = False
    scan_mode: bool = False
    pattern: bytes | None = None
    count: int | None = None
    intrinsic_latency: int | None = None
    eval_file: str | None = None
    eval_ldb: bool = False
    eval_ldb_sync: bool = False
    cluster_manager: str | None = None
    verbose: bool = False


class UsageExit(SystemExit):
    pass


def version_text() -> str:
    return f"vermilion-cli {__version__} (redis-cli 7.0 compatible)"


USAGE = """\
{version}

Usage: vermilion-cli [OPTIONS] [command [argument ...]]

Connection
  -h <host>            Server host name or address (127.0.0.1).
  -p <port>            Server port (6379).
  -s <path>            Unix socket to connect to instead of host and port.
  -u <uri>             redis://[[user:]password@]host[:port][/db], or rediss:// for TLS.
  -a, --pass <pass>    Password (the {auth_env} environment variable is safer).
  --user <name>        ACL user name to authenticate as (with -a).
  --askpass            Ask for the password on the terminal (ignores -a and {auth_env}).
  --no-auth-warning    Do not warn about a password given on the command line.
  -n <db>              Database number to select.
  -2 / -3              Speak RESP2 / RESP3 (HELLO 3).
  --tls                Use TLS. With --sni <host>, --cacert <file>, --cacertdir <dir>,
                       --cert <file>, --key <file>, --tls-ciphers <list>, --insecure.

Commands
  -r <count>           Run the command count times (negative: forever).
  -i <seconds>         Pause between repetitions (and --scan/--stat cycles); may be fractional.
  -x                   Append standard input as the last argument.
  -X <tag>             Replace the argument equal to <tag> with standard input.
  --quoted-input       Arguments are written with quotes and escapes, as the prompt accepts.
  -c                   Cluster mode: follow -MOVED and -ASK redirections.
  -e                   Exit with status 1 when the command replies with an error.
  --eval <file>        EVAL the Lua script in <file>; keys, then a comma, then arguments.
  --ldb, --ldb-sync-mode  With --eval: step through the script in the Lua debugger.

Output
  --raw / --no-raw     Bare replies (the default when stdout is not a terminal) / formatted.
  --csv, --json, --quoted-json   Replies as CSV or JSON (--json asks for RESP3).
  -d <delimiter>       Separator between the elements of a raw multi-bulk reply (\\n).
  -D <delimiter>       Separator between raw replies (\\n).
  --show-pushes <y|n>  Print RESP3 push messages (yes when stdout is a terminal).

Tools
  --scan [--pattern <glob>] [--quoted-pattern <glob>] [--count <n>]   List keys with SCAN.
  --bigkeys            Sample the keyspace for the keys with the most elements.
  --memkeys            Sample the keyspace for the keys using the most memory
                       (--memkeys-samples <n> to pass SAMPLES to MEMORY USAGE).
  --hotkeys            Sample the keyspace for the most accessed keys (LFU policies).
  --stat               Print rolling server statistics.
  --latency            Sample PING round trips; --latency-history keeps a line per
                       interval (15 s, change with -i); --latency-dist draws a spectrum.
  --pipe               Send the raw protocol read from standard input (mass insertion);
                       --pipe-timeout <s> gives up waiting for replies after s seconds (30).
  --rdb <file>         Save an RDB snapshot from the server (- for stdout);
                       --functions-rdb <file> keeps only the functions.
  --replica            Show the commands a master sends to its replicas.
  --lru-test <keys>    Simulate a cache workload with an 80-20 access pattern.
  --intrinsic-latency <seconds>  Measure this machine's scheduling latency.
  --verbose            More output.

  --help, --version

Without a command vermilion-cli is interactive: type "help" at the prompt.
"""


def usage(status: int = 0) -> None:
    """Print the usage text and exit: on stdout with status 0 when asked for (--help), on
    stderr with status 1 after a usage error."""
    stream = sys.stderr if status else sys.stdout
    stream.write(USAGE.format(version=version_text(), auth_env=AUTH_ENV))
    raise UsageExit(status)


def _percent_decode(text: str) -> str:
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


def parse_uri(config: CliConfig, uri: str) -> None:
    """redis://[[user:]password@][host[:port]][/db] and rediss:// (TLS)."""
    lowered = uri.lower()
    if lowered.startswith("rediss://"):
        config.tls.enabled = True
        rest = uri[len("rediss://"):]
    elif lowered.startswith("redis://"):
        rest = uri[len("redis://"):]
    else:
        sys.stderr.write("Invalid URI scheme\n")
        raise UsageExit(1)
    if not rest:
        return
    at = rest.find("@")
    if at >= 0:
        colon = rest.find(":")
        userinfo = rest[:at]
        if 0 <= colon < at:
            config.user = _percent_decode(rest[:colon])
            userinfo = rest[colon + 1 : at]
        config.auth = _percent_decode(userinfo)
        rest = rest[at + 1 :]
    if not rest:
        return
    slash = rest.find("/")
    if not rest.startswith("/"):
        hostport = rest if slash < 0 else rest[:slash]
        colon = hostport.find(":")
        if colon >= 0:
            config.port = c_atoi(hostport[colon + 1 :])
            hostport = hostport[:colon]
        config.host = hostport
    rest = "" if slash < 0 else rest[slash + 1 :]
    if rest:
        config.dbnum = c_atoi(rest)


def c_atoi(text: str) -> int:
    """C atoi: leading blanks, a sign, digits; anything else stops (0 when no digits)."""
    text = text.lstrip(" \t\n\r\v\f")
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    digits = ""
    for char in text:
        if not "0" <= char <= "9":
            break
        digits += char
    return sign * int(digits) if digits else 0


def _atof(text: str) -> float:
    text = text.strip()
    for end in range(len(text), 0, -1):
        try:
            return float(text[:end])
        except ValueError:
            continue
    return 0.0


def parse_options(argv: list[str], config: CliConfig) -> int:
    """Fill ``config`` from argv (argv[0] is the program); returns the index of the command."""
    i = 1
    count = len(argv)

    def value() -> str:
        nonlocal i
        i += 1
        return argv[i]

    # Options taking a value: name -> setter. Redis only accepts them when a value follows.
    def set_host(v: str) -> None:
        config.host = v

    def set_interval(v: str) -> None:
        config.interval = _atof(v)

    def set_pattern(v: str) -> None:
        config.pattern = v.encode("utf-8", "surrogateescape")

    def set_quoted_pattern(v: str) -> None:
        pattern = unquote(v.encode("utf-8", "surrogateescape"))
        if pattern is None:
            sys.stderr.write("Invalid quoted string specified for --quoted-pattern.\n")
            raise UsageExit(1)
        config.pattern = pattern

    def set_show_pushes(v: str) -> None:
        if v[:1].lower() == "n":
            config.push_output = False
        elif v[:1].lower() == "y":
            config.push_output = True
        else:
            sys.stderr.write(f"Unknown --show-pushes value '{v}' (valid: '[y]es', '[n]o')\n")

    def set_rdb(v: str) -> None:
        config.rdb_filename = v

    def set_functions_rdb(v: str) -> None:
        config.rdb_filename = v
        config.functions_rdb = True

    def set_lru(v: str) -> None:
        config.lru_test_keys = c_atoi(v)

    def set_intrinsic(v: str) -> None:
        config.intrinsic_latency = c_atoi(v)

    def set_memkeys_samples(v: str) -> None:
        config.memkeys = True
        config.memkeys_samples = c_atoi(v)

    def set_tls(attribute: str):
        return lambda v: setattr(config.tls, attribute, v)

    with_value = {
        "-h": set_host,
        "-p": lambda v: setattr(config, "port", c_atoi(v)),
        "-s": lambda v: setattr(config, "socket_path", v),
        "-r": lambda v: setattr(config, "repeat", c_atoi(v)),
        "-i": set_interval,
        "-n": lambda v: setattr(config, "dbnum", c_atoi(v)),
        "-a": lambda v: setattr(config, "auth", v),
        "--pass": lambda v: setattr(config, "auth", v),
        "--user": lambda v: setattr(config, "user", v),
        "-u": lambda v: parse_uri(config, v),
        "-X": lambda v: setattr(config, "stdin_tag", v),
        "-d": lambda v: setattr(config, "bulk_delimiter", v.encode("utf-8", "surrogateescape")),
        "-D": lambda v: setattr(config, "reply_delimiter", v.encode("utf-8", "surrogateescape")),
        "--pattern": set_pattern,
        "--quoted-pattern": set_quoted_pattern,
        "--count": lambda v: setattr(config, "count", c_atoi(v)),
        "--show-pushes": set_show_pushes,
        "--rdb": set_rdb,
        "--functions-rdb": set_functions_rdb,
        "--lru-test": set_lru,
        "--intrinsic-latency": set_intrinsic,
        "--pipe-timeout": lambda v: setattr(config, "pipe_timeout", c_atoi(v)),
        "--memkeys-samples": set_memkeys_samples,
        "--eval": lambda v: setattr(config, "eval_file", v),
        "--sni": set_tls("sni"),
        "--cacert": set_tls("cacert"),
        "--cacertdir": set_tls("cacertdir"),
        "--cert": set_tls("cert"),
        "--key": set_tls("key"),
        "--tls-ciphers": set_tls("ciphers"),
        "--tls-ciphersuites": set_tls("ciphersuites"),
    }

    def set_attr(name: str, setting: object):
        return lambda: setattr(config, name, setting)

    def set_json(mode: int):
        def apply() -> None:
            if not config.resp2 and config.resp3 == 0:
                config.resp3 = 2  # RESP3 if available, as JSON maps need it
            config.output = mode
        return apply

    def set_resp3() -> None:
        config.resp3 = 1

    def set_ldb(sync: bool):
        def apply() -> None:
            config.eval_ldb = True
            config.eval_ldb_sync = config.eval_ldb_sync or sync
            config.output = OUTPUT_RAW
        return apply

    def set_latency_history() -> None:
        config.latency_mode = True
        config.latency_history = True

    def set_memkeys() -> None:
        config.memkeys = True
        config.memkeys_samples = 0

    def set_insecure() -> None:
        config.tls.insecure = True

    def set_tls_enabled() -> None:
        config.tls.enabled = True

    flags = {
        "-x": set_attr("stdin_last_arg", True),
        "--no-auth-warning": set_attr("no_auth_warning", True),
        "--askpass": set_attr("askpass", True),
        "--raw": set_attr("output", OUTPUT_RAW),
        "--no-raw": set_attr("output", OUTPUT_STANDARD),
        "--quoted-input": set_attr("quoted_input", True),
        "--csv": set_attr("output", OUTPUT_CSV),
        "--json": set_json(OUTPUT_JSON),
        "--quoted-json": set_json(OUTPUT_QUOTED_JSON),
        "--latency": set_attr("latency_mode", True),
        "--latency-dist": set_attr("latency_dist_mode", True),
        "--mono": set_attr("mono", True),
        "--latency-history": set_latency_history,
        "--slave": set_attr("replica_mode", True),
        "--replica": set_attr("replica_mode", True),
        "--stat": set_attr("stat_mode", True),
        "--scan": set_attr("scan_mode", True),
        "--pipe": set_attr("pipe_mode", True),
        "--bigkeys": set_attr("bigkeys", True),
        "--memkeys": set_memkeys,
        "--hotkeys": set_attr("hotkeys", True),
        "--ldb": set_ldb(False),
        "--ldb-sync-mode": set_ldb(True),
        "-c": set_attr("cluster_mode", True),
        "-e": set_attr("set_errcode", True),
        "--verbose": set_attr("verbose", True),
        "--tls": set_tls_enabled,
        "--insecure": set_insecure,
        "-2": set_attr("resp2", True),
        "-3": set_resp3,
    }

    while i < count:
        arg = argv[i]
        last = i == count - 1
        if arg == "--help" or (arg == "-h" and last):
            usage()
        elif arg in ("-v", "--version"):
            sys.stdout.write(version_text() + "\n")
            raise UsageExit(0)
        elif arg in with_value and not last:
            with_value[arg](value())
        elif arg in flags:
            flags[arg]()
        elif arg == "--cluster" and not last:
            config.cluster_manager = value()
            # Its arguments run up to the next option.
            while i + 1 < count and not argv[i + 1].startswith("-"):
                i += 1
        elif arg.startswith("--cluster-") and config.cluster_manager is not None:
            if i + 1 < count and not argv[i + 1].startswith("-"):
                i += 1
        elif arg.startswith("-"):
            sys.stderr.write(f"Unrecognized option or bad number of args for: '{arg}'\n")
            raise UsageExit(1)
        else:
            break  # the command starts here
        i += 1

    if config.eval_ldb and config.eval_file is None:
        sys.stderr.write("Options --ldb and --ldb-sync-mode require --eval.\n")
        sys.stderr.write(f"Try {argv[0]} --help for more information.\n")
        raise UsageExit(1)
    if not config.no_auth_warning and config.auth is not None:
        sys.stderr.write(
            "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n"
        )
    if config.stdin_last_arg and config.stdin_tag is not None:
        sys.stderr.write("Options -x and -X are mutually exclusive.\n")
        raise UsageExit(1)
    if config.resp2 and config.resp3 == 1:
        sys.stderr.write("Options -2 and -3 are mutually exclusive.\n")
        raise UsageExit(1)
    if config.socket_path and config.cluster_mode:
        sys.stderr.write("Options -c and -s are mutually exclusive.\n")
        raise UsageExit(1)
    if config.resp2:
        config.resp3 = 0
    return i


def parse_env(config: CliConfig) -> None:
    auth = os.environ.get(AUTH_ENV)
    if auth is not None and config.auth is None:
        config.auth = auth
