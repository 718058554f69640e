"""vermilion-cli's core: connecting, sending commands, printing replies, and the program entry.

The flow is redis-cli 7.0's: parse options; run a tool mode if one was asked for; with no command
start the interactive prompt (reading lines from standard input when it is not a terminal);
otherwise connect and run the command given on the command line (``-r`` times, every ``-i``
seconds). Commands that stream (MONITOR, SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE) print until Ctrl-C,
which in the interactive prompt returns to the prompt.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from . import resp
from .connection import (
    PUSH_DROP,
    PUSH_RETURN,
    Connection,
    ConnectionFailure,
    ConnectionLost,
    TlsFailure,
)
from .format import (
    OUTPUT_RAW,
    OUTPUT_STANDARD,
    Formatter,
    UnknownReplyType,
    format_invalidate_tty,
    is_invalidate,
    write_stdout,
)
from .help import HelpTable
from .options import CliConfig, UsageExit, c_atoi, parse_env, parse_options
from .resp import Reply
from .sds import unquote

# Commands whose reply is text meant to be read as is (INFO, CLIENT LIST...): printed raw even
# in the terminal rendering.
_SUB_RAW = {
    b"debug": ({b"htstats", b"htstats-key"}, 2, None),
    b"memory": ({b"malloc-stats", b"doctor"}, 2, None),
    b"cluster": ({b"nodes", b"info"}, None, 2),
    b"client": ({b"list", b"info"}, 2, None),
    b"latency": ({b"doctor"}, None, 2),
    b"proxy": ({b"info"}, 2, None),
}


def wants_raw_output(argv: list[bytes]) -> bool:
    command = argv[0].lower()
    if command in (b"info", b"lolwut"):
        return True
    if command == b"latency" and len(argv) == 3 and argv[1].lower() == b"graph":
        return True
    rule = _SUB_RAW.get(command)
    if rule is None or len(argv) < 2:
        return False
    subcommands, at_least, exactly = rule
    if at_least is not None and len(argv) < at_least:
        return False
    if exactly is not None and len(argv) != exactly:
        return False
    return argv[1].lower() in subcommands


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Cli:
    """The state redis-cli keeps in its globals: settings, the link, the prompt, the modes."""

    def __init__(self, config: CliConfig) -> None:
        self.config = config
        self.conn: Connection | None = None
        self.formatter = Formatter(config.output, config.bulk_delimiter, config.reply_delimiter)
        self.formatter.on_ldb_end = self._ldb_ended
        self.interactive = False
        self.prompt = ""
        self.in_multi = False
        self.pre_multi_dbnum = 0
        self.input_dbnum = config.dbnum  # the database asked for (-n, SELECT, the URI)
        config.dbnum = 0  # the database actually selected
        self.help_table: HelpTable | None = None
        self.shutdown = False
        self.monitor_mode = False
        self.pubsub_mode = False
        self.replica_mode = False
        self.last_cmd_type = -1
        self.cluster_reissue = False
        self.cluster_send_asking = False
        self.enable_ldb_on_eval = False
        self.eval_ldb_end = False
        self.refresh_prompt()

    # -- prompt ------------------------------------------------------------------------------

    def refresh_prompt(self) -> None:
        if self.formatter.eval_ldb:
            return
        config = self.config
        if config.socket_path is not None:
            prompt = f"redis {config.socket_path}"
        else:
            prompt = format_address(config.host, config.port)
        if config.dbnum != 0:
            prompt += f"[{config.dbnum}]"
        if self.in_multi:
            prompt += "(TX)"
        self.prompt = prompt + "> "

    # -- connecting --------------------------------------------------------------------------

    def connect(self, force: bool = False, quiet: bool = False) -> bool:
        """cliConnect: (re)open the link, then AUTH, SELECT and HELLO 3 as configured."""
        config = self.config
        if self.conn is None or force:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
                config.dbnum = 0
                self.in_multi = False
                self.pubsub_mode = False
                self.refresh_prompt()
            use_tcp = config.socket_path is None or (config.cluster_mode and self.cluster_reissue)
            try:
                self.conn = Connection.open(
                    config.host, config.port, None if use_tcp else config.socket_path, config.tls
                )
            except TlsFailure as exc:
                sys.stderr.write(f"Could not negotiate a TLS connection: {exc}\n")
                return False
            except ConnectionFailure as exc:
                if not quiet:
                    where = format_plain_address(config.host, config.port) if use_tcp else config.socket_path
                    sys.stderr.write(f"Could not connect to Redis at {where}: {exc}\n")
                return False
            # A refused AUTH or SELECT is reported and the link kept: a command still runs
            # (and gets the server's error), but the tool modes give up.
            try:
                if not self._authenticate() or not self._select() or not self._switch_protocol():
                    self._set_push_handler()
                    return False
            except ConnectionLost:
                sys.stderr.write("\nI/O error\n")
                return False
        self._set_push_handler()
        return True

    def _set_push_handler(self) -> None:
        if self.conn is not None:
            self.conn.push_handler = self._print_push if self.config.push_output else PUSH_DROP

    def _authenticate(self) -> bool:
        config = self.config
        if config.auth is None:
            return True
        if config.user is None:
            reply = self.conn.call("AUTH", config.auth)
        else:
            reply = self.conn.call("AUTH", config.user, config.auth)
        if reply.type == resp.ERROR:
            sys.stderr.write(f"AUTH failed: {reply.text()}\n")
            return False
        return True

    def _select(self) -> bool:
        config = self.config
        if self.input_dbnum == config.dbnum:
            return True
        reply = self.conn.call("SELECT", str(self.input_dbnum))
        if reply.type == resp.ERROR:
            sys.stderr.write(f"SELECT {self.input_dbnum} failed: {reply.text()}\n")
            return False
        config.dbnum = self.input_dbnum
        self.refresh_prompt()
        return True

    def _switch_protocol(self) -> bool:
        config = self.config
        if not config.resp3 or config.resp2:
            return True
        reply = self.conn.call("HELLO", "3")
        if reply.type == resp.ERROR:
            sys.stderr.write(f"HELLO 3 failed: {reply.text()}\n")
            return config.resp3 != 1
        return True

    def _print_push(self, reply: Reply) -> None:
        if self.config.output == OUTPUT_STANDARD and is_invalidate(reply):
            write_stdout(format_invalidate_tty(reply))
        else:
            write_stdout(self._format(reply, False))

    # -- sending and reading -----------------------------------------------------------------

    def _format(self, reply: Reply, verbatim: bool) -> bytes:
        try:
            return self.formatter.format(reply, verbatim)
        except UnknownReplyType as exc:
            sys.stdout.flush()
            sys.stderr.write(f"{exc}\n")
            raise SystemExit(1) from None

    def _ldb_ended(self) -> None:
        self.enable_ldb_on_eval = False
        self.eval_ldb_end = True
        self.formatter.mode = OUTPUT_STANDARD
        self.config.output = OUTPUT_STANDARD
        self.refresh_prompt()

    def read_reply(self, output_raw: bool) -> bool:
        """cliReadReply: read one reply and print it; False when the link broke in a way the
        interactive prompt recovers from by reconnecting."""
        try:
            reply = self.conn.read_reply()
        except ConnectionLost as exc:
            if self.shutdown:
                self.conn.close()
                self.conn = None
                return True
            if self.interactive and not exc.protocol:
                return False
            sys.stdout.flush()
            sys.stderr.write(f"Error: {exc}\n")
            raise SystemExit(1) from None
        self.last_cmd_type = reply.type
        config = self.config
        show = True
        if (
            config.cluster_mode
            and reply.type == resp.ERROR
            and (reply.str.startswith(b"MOVED ") or reply.str.startswith(b"ASK "))
        ):
            show = False
            self._follow_redirection(reply)
        elif not self.interactive and config.set_errcode and reply.type == resp.ERROR:
            sys.stderr.write(f"{reply.text()}\n")
            raise SystemExit(1)
        if show:
            write_stdout(self._format(reply, output_raw))
        return True

    def _follow_redirection(self, reply: Reply) -> None:
        parts = reply.str.split(b" ")
        slot = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        target = parts[2] if len(parts) > 2 else b""
        host, _, port = target.rpartition(b":")
        if host:
            self.config.host = host.decode("utf-8", "replace")
        self.config.port = int(port) if port.isdigit() else 0
        if self.interactive:
            write_stdout(
                f"-> Redirected to slot [{slot}] located at "
                f"{format_plain_address(self.config.host, self.config.port)}\n".encode()
            )
        self.cluster_reissue = True
        if reply.str.startswith(b"ASK "):
            self.cluster_send_asking = True
        self.refresh_prompt()

    def _send_asking(self) -> bool:
        self.cluster_send_asking = False
        if self.conn is None:
            return False
        try:
            reply = self.conn.call("ASKING")
        except ConnectionLost:
            sys.stderr.write("\nI/O error\n")
            return False
        if reply.type == resp.ERROR:
            sys.stderr.write(f"ASKING failed: {reply.text()}\n")
            return False
        return True

    def print_help(self, args: list[bytes]) -> None:
        if not args:
            write_stdout(generic_help().encode())
            return
        table = self.ensure_help()
        text = table.help_text([arg.decode("utf-8", "replace") for arg in args])
        write_stdout(text.encode("utf-8", "replace"))

    def ensure_help(self) -> HelpTable:
        if self.help_table is None:
            call = None
            if self.conn is not None or self.connect(quiet=True):
                conn = self.conn

                def call(*args):
                    return conn.call(*args)

            self.help_table = HelpTable.from_server(call)
        return self.help_table

    def send_command(self, argv: list[bytes], repeat: int) -> bool:
        """cliSendCommand: run one command ``repeat`` times (forever when negative)."""
        command = argv[0].lower()
        if self.conn is None:
            return False
        output_raw = wants_raw_output(argv)
        if command == b"shutdown":
            self.shutdown = True
        if command == b"monitor":
            self.monitor_mode = True
        if command in (b"subscribe", b"psubscribe", b"ssubscribe"):
            self.pubsub_mode = True
        if command in (b"sync", b"psync"):
            self.replica_mode = True
        if len(argv) == 3 and command == b"script" and argv[1].lower() == b"debug":
            self.enable_ldb_on_eval = argv[2].lower() in (b"yes", b"sync")
        if command == b"eval" and self.enable_ldb_on_eval:
            self.formatter.eval_ldb = True
            self.formatter.mode = OUTPUT_RAW
            self.config.output = OUTPUT_RAW
        while repeat < 0 or repeat > 0:
            repeat -= 1
            try:
                self.conn.send(argv)
            except ConnectionLost:
                return False
            if self.monitor_mode or self.pubsub_mode:
                return self._stream_replies(output_raw)
            if self.replica_mode:
                write_stdout(b"Entering replica output mode...  (press Ctrl-C to quit)\n")
                from .tools import replica_stream

                replica_stream(self)
                self.replica_mode = False
                return False
            if not self.read_reply(output_raw):
                return False
            self._after_reply(command, argv)
            if self.cluster_reissue:
                break
            if self.config.interval:
                time.sleep(self.config.interval)
            sys.stdout.flush()
        return True

    def _after_reply(self, command: bytes, argv: list[bytes]) -> None:
        failed = self.last_cmd_type == resp.ERROR
        config = self.config
        if command == b"select" and len(argv) == 2 and not failed:
            self.input_dbnum = config.dbnum = c_atoi(argv[1].decode("latin-1"))
            self.refresh_prompt()
        elif command == b"auth" and len(argv) in (2, 3):
            if self.conn is not None:
                try:
                    self._select()
                except ConnectionLost:
                    pass
        elif command == b"multi" and len(argv) == 1 and not failed:
            self.in_multi = True
            self.pre_multi_dbnum = config.dbnum
            self.refresh_prompt()
        elif command == b"exec" and len(argv) == 1 and self.in_multi:
            self.in_multi = False
            if failed:
                config.dbnum = self.pre_multi_dbnum
            self.refresh_prompt()
        elif command == b"discard" and len(argv) == 1 and not failed:
            self.in_multi = False
            config.dbnum = self.pre_multi_dbnum
            self.refresh_prompt()

    def _stream_replies(self, output_raw: bool) -> bool:
        """MONITOR and the SUBSCRIBE family: print replies until Ctrl-C (which, at the
        interactive prompt, reconnects and returns to it)."""
        conn = self.conn
        try:
            if self.monitor_mode:
                while True:
                    if not self.read_reply(output_raw):
                        raise SystemExit(1)
            if self.config.output != OUTPUT_RAW:
                write_stdout(b"Reading messages... (press Ctrl-C to quit)\n")
            conn.push_handler = PUSH_RETURN  # push messages are the replies here
            while self.pubsub_mode:
                if not self.read_reply(output_raw):
                    raise SystemExit(1)
                if self.last_cmd_type == resp.ERROR:
                    self.pubsub_mode = False
                    self._set_push_handler()
            return True
        except KeyboardInterrupt:
            if not self.interactive:
                raise
            self.monitor_mode = False
            self.pubsub_mode = False
            return self.connect(force=True)

    def issue_command(self, argv: list[bytes], repeat: int) -> bool:
        """issueCommandRepeat: (re)connect when there is no usable link, send, and follow
        cluster redirections. A link that breaks during the command is reported and dropped;
        the next command reconnects."""
        if not self.formatter.eval_ldb and argv[0].lower() in (b"help", b"?"):
            self.print_help(argv[1:])
            return True
        while True:
            if self.cluster_reissue or self.conn is None or self.conn.errstr:
                if not self.connect(force=True):
                    self.print_context_error()
                    self.cluster_reissue = False
                    return False
            self.cluster_reissue = False
            if self.cluster_send_asking and not self._send_asking():
                self.print_context_error()
                return False
            if not self.send_command(argv, repeat):
                self.print_context_error()
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                    # The next link starts in database 0: SELECT again on reconnecting.
                    self.config.dbnum = 0
                    self.in_multi = False
                return False
            if not (self.config.cluster_mode and self.cluster_reissue):
                return True

    def print_context_error(self) -> None:
        if self.conn is not None:
            sys.stderr.write(f"Error: {self.conn.errstr}\n")

    # -- modes ---------------------------------------------------------------------------------

    def noninteractive(self, args: list[bytes]) -> int:
        config = self.config
        if config.quoted_input:
            unquoted = [unquote(arg) for arg in args]
            if any(arg is None for arg in unquoted):
                write_stdout(b"Invalid quoted string\n")
                return 1
            args = unquoted
        if config.stdin_last_arg:
            args = args + [read_stdin()]
        elif config.stdin_tag is not None:
            tag = config.stdin_tag.encode("utf-8", "surrogateescape")
            for index, arg in enumerate(args):
                if arg == tag:
                    args = args[:index] + [read_stdin()] + args[index + 1 :]
                    break
            else:
                sys.stderr.write("Using -X option but stdin tag not match.\n")
                return 1
        return 0 if self.issue_command(args, config.repeat) else 1

    def eval_mode(self, args: list[bytes]) -> int:
        """--eval FILE keys , args: EVAL the script (and with --ldb, debug it)."""
        config = self.config
        result = True
        while True:
            if self.formatter.eval_ldb:
                write_stdout(
                    b"Lua debugging session started, please use:\n"
                    b"quit    -- End the session.\n"
                    b"restart -- Restart the script in debug mode again.\n"
                    b"help    -- Show Lua script debugging commands.\n\n"
                )
            try:
                with open(config.eval_file, "rb") as handle:
                    script = handle.read()
            except OSError as exc:
                sys.stderr.write(f"Can't open file '{config.eval_file}': {os.strerror(exc.errno or 0)}\n")
                raise SystemExit(1) from None
            if self.formatter.eval_ldb and self.conn is not None:
                try:
                    self.conn.call("SCRIPT", "DEBUG", "sync" if config.eval_ldb_sync else "yes")
                except ConnectionLost:
                    pass
            keys: list[bytes] = []
            values: list[bytes] = []
            seen_comma = False
            for arg in args:
                if not seen_comma and arg == b",":
                    seen_comma = True
                    continue
                (values if seen_comma else keys).append(arg)
            argv = [b"EVAL", script, str(len(keys)).encode()] + keys + values
            debugging = self.formatter.eval_ldb
            if debugging:
                self.enable_ldb_on_eval = True
            result = self.issue_command(argv, config.repeat)
            if not debugging:
                break
            if not self.formatter.eval_ldb:
                write_stdout(b"Eval debugging session can't start:\n")
                self.read_reply(False)
                break
            from .repl import repl

            self.prompt = "lua debugger> "
            repl(self)
            self.connect(force=True)
            write_stdout(b"\n")
        return 0 if result else 1


def format_plain_address(host: str, port: int) -> str:
    return f"{host}:{port}"


def read_stdin() -> bytes:
    return sys.stdin.buffer.read()


def generic_help() -> str:
    from .options import version_text

    return (
        f"{version_text()}\n"
        "Help on commands:\n"
        '      "help @<group>"   the commands of a group (help <Tab> cycles through the groups)\n'
        '      "help <command>"  one command: its arguments, summary and first version\n'
        '      "quit"            leave\n'
        "\n"
        "Preferences:\n"
        '      ":set hints"      show the arguments still to type, in grey (the default)\n'
        '      ":set nohints"    do not\n'
        "Put preferences in ~/.redisclirc to keep them.\n"
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    config = CliConfig()
    if not os.isatty(sys.stdout.fileno()) and os.environ.get("FAKETTY") is None:
        config.output = OUTPUT_RAW
        config.push_output = False
    try:
        first = parse_options(argv, config)
    except UsageExit as exc:
        return int(exc.code or 0)
    command = [arg.encode("utf-8", "surrogateescape") for arg in argv[first:]]
    parse_env(config)
    if config.askpass:
        from .repl import ask_password

        config.auth = ask_password("Please input password: ")
    if config.cluster_manager is not None:
        sys.stderr.write("vermilion-cli: the --cluster manager commands are not available yet.\n")
        return 1
    # Like redis-cli, the non-interactive modes die on SIGPIPE and SIGINT.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    cli = Cli(config)
    from . import tools

    mode = tools.select_mode(config)
    if mode is not None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        return mode(cli)
    if not command and config.eval_file is None:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a broken link reconnects instead
        from .repl import repl

        cli.connect()
        repl(cli)
        return 0
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if config.eval_file is not None:
        if not cli.connect():
            return 1
        if config.eval_ldb:
            cli.formatter.eval_ldb = True
            cli.formatter.mode = OUTPUT_RAW
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return cli.eval_mode(command)
    # A failed first attempt is silent: sending the command retries, and that one reports.
    cli.connect(quiet=True)
    return cli.noninteractive(command)


def entry_point() -> None:
    try:
        code = main()
    except BrokenPipeError:
        code = 1
    sys.stdout.flush()
    raise SystemExit(code)
