"""vermilion-benchmark's command line: redis-benchmark 7.0's options and their limits."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .. import __version__
from ..cli.connection import TlsOptions
from ..cli.options import c_atoi

DEFAULT_PRECISION = 3
MAX_PRECISION = 4
MAX_THREADS = 500


@dataclass
class BenchConfig:
    host: str = "127.0.0.1"
    port: int = 6379
    socket_path: str | None = None
    tls: TlsOptions = field(default_factory=TlsOptions)
    user: str | None = None
    auth: str | None = None
    numclients: int = 50
    requests: int = 100000
    keepalive: int = 1
    datasize: int = 3
    pipeline: int = 1
    randomkeys: bool = False
    keyspacelen: int = 0
    quiet: bool = False
    csv: bool = False
    loop: bool = False
    idlemode: bool = False
    dbnum: int = 0
    tests: str | None = None  # ",name,name," lower case, when -t was given
    precision: int = DEFAULT_PRECISION
    threads: int = 0
    cluster: bool = False
    enable_tracking: bool = False
    showerrors: bool = False
    resp3: bool = False
    stdin_last_arg: bool = False


class OptionsExit(SystemExit):
    pass


USAGE = """\
Usage: vermilion-benchmark [OPTIONS] [COMMAND ARGS...]

Options:
 -h <hostname>      Server host (127.0.0.1)
 -p <port>          Server port (6379)
 -s <socket>        Unix socket to use instead of host and port
 -a <password>      Password to AUTH with
 --user <username>  ACL user to AUTH as (with -a)
 -u <uri>           redis://[[user:]password@]host[:port][/db] (rediss:// for TLS)
 -c <clients>       Parallel connections (50)
 -n <requests>      Requests in total (100000)
 -d <size>          Value size in bytes for SET/GET and friends (3)
 --dbnum <db>       Database to SELECT (0)
 -3                 Speak RESP3 (HELLO 3 on each connection)
 --threads <num>    Spread the connections over num worker processes
 --enable-tracking  Send CLIENT TRACKING on first
 -k <boolean>       1 keeps connections open, 0 reconnects after each reply (1)
 -r <keyspacelen>   Replace __rand_int__ in the command (and in the default tests' keys,
                    members and scores) by a random 12-digit number below keyspacelen,
                    a new one for every request. Without -r every request uses the same key.
 -P <numreq>        Requests sent per round trip (pipelining; 1)
 -e                 Print error replies (at most one a second)
 -q                 Quiet: only requests per second
 --precision <n>    Significant figures of the latency histogram (3)
 --csv              CSV output
 -l                 Loop forever
 -t <tests>         Only the comma-separated tests (names as printed, any case); ignored
                    when a command is given
 -I                 Idle mode: open the connections and wait
 -x                 Append standard input as the last argument of the command
 --tls              Use TLS; with --sni <host>, --cacert <file>, --cacertdir <dir>,
                    --cert <file>, --key <file>, --tls-ciphers <list>, --insecure
 --help             This help
 --version          The version

A command given after the options is benchmarked instead of the default tests, for example
   vermilion-benchmark -r 10000 -n 10000 lpush mylist __rand_int__
"""


def parse_options(argv: list[str], config: BenchConfig) -> int:
    """Fill ``config``; returns the index where the command to benchmark starts."""
    i = 1
    count = len(argv)

    def invalid(arg: str) -> None:
        sys.stdout.write(f'Invalid option "{arg}" or option argument missing\n\n')
        sys.stdout.write(USAGE)
        raise OptionsExit(1)

    while i < count:
        arg = argv[i]
        last = i == count - 1

        def value() -> str:
            nonlocal i
            if last:
                invalid(arg)
            i += 1
            return argv[i]

        if arg == "-c":
            config.numclients = c_atoi(value())
        elif arg in ("-v", "--version"):
            sys.stdout.write(f"vermilion-benchmark {__version__} (redis-benchmark 7.0 compatible)\n")
            raise OptionsExit(0)
        elif arg == "-n":
            config.requests = c_atoi(value())
        elif arg == "-k":
            config.keepalive = c_atoi(value())
        elif arg == "-h":
            config.host = value()
        elif arg == "-p":
            config.port = c_atoi(value())
        elif arg == "-s":
            config.socket_path = value()
        elif arg == "-x":
            config.stdin_last_arg = True
        elif arg == "-a":
            config.auth = value()
        elif arg == "--user":
            config.user = value()
        elif arg == "-u":
            from ..cli.options import CliConfig, UsageExit, parse_uri

            parsed = CliConfig(host=config.host, port=config.port)
            parsed.tls = config.tls
            try:
                parse_uri(parsed, value())
            except UsageExit as exc:
                raise OptionsExit(exc.code) from None
            config.host, config.port = parsed.host, parsed.port
            if parsed.user is not None:
                config.user = parsed.user
            if parsed.auth is not None:
                config.auth = parsed.auth
            if parsed.dbnum:
                config.dbnum = parsed.dbnum
        elif arg == "-3":
            config.resp3 = True
        elif arg == "-d":
            config.datasize = min(max(c_atoi(value()), 1), 1024 * 1024 * 1024)
        elif arg == "-P":
            config.pipeline = max(c_atoi(value()), 1)
        elif arg == "-r":
            text = value()
            if text.startswith("-") and not text[1:2].isdigit():
                invalid(text)
            config.randomkeys = True
            config.keyspacelen = max(c_atoi(text), 0)
        elif arg == "-q":
            config.quiet = True
        elif arg == "--csv":
            config.csv = True
        elif arg == "-l":
            config.loop = True
        elif arg == "-I":
            config.idlemode = True
        elif arg == "-e":
            config.showerrors = True
        elif arg == "-t":
            config.tests = "," + value().lower() + ","
        elif arg == "--dbnum":
            config.dbnum = c_atoi(value())
        elif arg == "--precision":
            precision = c_atoi(value())
            if precision < 0:
                precision = DEFAULT_PRECISION
            config.precision = min(precision, MAX_PRECISION)
        elif arg == "--threads":
            threads = c_atoi(value())
            if threads > MAX_THREADS:
                sys.stdout.write(f"WARNING: too many threads, limiting threads to {MAX_THREADS}.\n")
                threads = MAX_THREADS
            config.threads = max(threads, 0)
        elif arg == "--cluster":
            config.cluster = True
        elif arg == "--enable-tracking":
            config.enable_tracking = True
        elif arg == "--help":
            sys.stdout.write(USAGE)
            raise OptionsExit(0)
        elif arg == "--tls":
            config.tls.enabled = True
        elif arg == "--sni":
            config.tls.sni = value()
        elif arg == "--cacertdir":
            config.tls.cacertdir = value()
        elif arg == "--cacert":
            config.tls.cacert = value()
        elif arg == "--insecure":
            config.tls.insecure = True
        elif arg == "--cert":
            config.tls.cert = value()
        elif arg == "--key":
            config.tls.key = value()
        elif arg == "--tls-ciphers":
            config.tls.ciphers = value()
        elif arg == "--tls-ciphersuites":
            config.tls.ciphersuites = value()
        else:
            if arg.startswith("-"):
                invalid(arg)
            return i
        i += 1
    return i
