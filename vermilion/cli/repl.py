"""The interactive prompt, on prompt_toolkit, behaving like redis-cli's linenoise prompt.

* the prompt is ``host:port[db]> `` (``not connected> `` while there is no link);
* Tab cycles through whole-line completions of command and subcommand names (and ``@group``
  after ``help``), Esc goes back to what was typed;
* the arguments still to type are shown in grey after the cursor (``:set nohints`` hides them);
* history is redis-cli's: ~/.rediscli_history or $REDISCLI_HISTFILE, one line per entry, the
  last 100 kept, AUTH and ACL SETUSER lines never stored;
* Ctrl-C or Ctrl-D on an empty line leave, Ctrl-L or ``clear`` clear the screen;
* ``N command`` runs a command N times, ``connect host port`` switches server, ``quit``/``exit``
  leave, ``:set hints|nohints`` change preferences (also read from ~/.redisclirc).

When standard input is not a terminal the lines are read from it without prompt or history, so
``vermilion-cli < commands.txt`` runs a file of commands.
"""

from __future__ import annotations

import os
import re
import sys
import time

from .format import OUTPUT_RAW, OUTPUT_STANDARD, write_stdout
from .options import c_atoi
from .sds import split_args

HISTFILE_ENV = "REDISCLI_HISTFILE"
HISTFILE_DEFAULT = ".rediscli_history"
RCFILE_ENV = "REDISCLI_RCFILE"
RCFILE_DEFAULT = ".redisclirc"
HISTORY_MAX = 100
_REPEAT = re.compile(rb"[+-]?[0-9]+")
_LONG_MAX = 2**63 - 1


def dotfile_path(env_name: str, default_name: str) -> str | None:
    """$ENV if set (None for /dev/null), else ~/default_name."""
    path = os.environ.get(env_name)
    if path:
        return None if path == "/dev/null" else path
    home = os.environ.get("HOME")
    if home:
        return os.path.join(home, default_name)
    return None


class Preferences:
    def __init__(self) -> None:
        self.hints = True

    def apply(self, argv: list[bytes], interactive: bool) -> None:
        where = "" if interactive else ".redisclirc: "
        if argv[0].lower() == b":set" and len(argv) >= 2:
            value = argv[1].lower()
            if value == b"hints":
                self.hints = True
            elif value == b"nohints":
                self.hints = False
            else:
                write_stdout(f"{where}unknown redis-cli preference '{argv[1].decode(errors='replace')}'\n".encode())
        else:
            write_stdout(f"{where}unknown redis-cli internal command '{argv[0].decode(errors='replace')}'\n".encode())

    def load(self) -> None:
        path = dotfile_path(RCFILE_ENV, RCFILE_DEFAULT)
        if path is None:
            return
        try:
            with open(path, "rb") as handle:
                for raw in handle:
                    argv = split_args(raw)
                    if argv:
                        self.apply(argv, False)
        except OSError:
            pass


class LineHistory:
    """linenoise's history: in memory, newest last, no two identical lines in a row, at most
    100 lines, and the whole list rewritten to the file after each addition."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lines: list[str] = []
        if path is not None:
            try:
                with open(path, "rb") as handle:
                    for raw in handle:
                        line = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "surrogateescape")
                        self._append(line)
            except OSError:
                pass

    def _append(self, line: str) -> bool:
        if self.lines and self.lines[-1] == line:
            return False
        self.lines.append(line)
        if len(self.lines) > HISTORY_MAX:
            del self.lines[0]
        return True

    def add(self, line: str) -> bool:
        return self._append(line)

    def save(self) -> None:
        if self.path is None:
            return
        try:
            old_umask = os.umask(0o177)
            try:
                with open(self.path, "wb") as handle:
                    for line in self.lines:
                        handle.write(line.encode("utf-8", "surrogateescape") + b"\n")
            finally:
                os.umask(old_umask)
            os.chmod(self.path, 0o600)
        except OSError:
            pass


class _LineSource:
    """Where lines come from: a prompt_toolkit session on a terminal, else standard input."""

    def __init__(self, cli, tty: bool, history: LineHistory | None, prefs: Preferences) -> None:
        self.cli = cli
        self.tty = tty
        self.history = history
        self.prefs = prefs
        self.session = self._make_session() if tty else None

    def _make_session(self):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.application.current import get_app
        from prompt_toolkit.history import History
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.layout.processors import Processor, Transformation
        from prompt_toolkit.styles import Style

        cli = self.cli
        prefs = self.prefs
        line_history = self.history

        class SharedHistory(History):
            """prompt_toolkit's view of LineHistory: Up/Down walk it; storing is ours."""

            def load_history_strings(self):
                return list(reversed(line_history.lines)) if line_history else []

            def store_string(self, string: str) -> None:
                pass

            def append_string(self, string: str) -> None:
                pass

        class HintProcessor(Processor):
            def apply_transformation(self, ti):
                document = ti.document
                # An accepted line is left as typed, without its hint (as linenoise does).
                if not prefs.hints or ti.lineno != document.line_count - 1 or get_app().is_done:
                    return Transformation(ti.fragments)
                hint = cli.ensure_help().hint(document.text)
                if not hint:
                    return Transformation(ti.fragments)
                return Transformation(list(ti.fragments) + [("class:hint", hint)])

        bindings = KeyBindings()
        cycle = {"candidates": None, "index": 0, "original": "", "shown": None}

        def show(buffer, text: str) -> None:
            cycle["shown"] = text
            buffer.text = text
            buffer.cursor_position = len(text)

        @bindings.add("tab")
        def _complete(event) -> None:
            buffer = event.current_buffer
            if cycle["shown"] is None or buffer.text != cycle["shown"]:
                candidates = cli.ensure_help().completions(buffer.text)
                if not candidates:
                    event.app.output.bell()
                    return
                cycle.update(candidates=candidates, index=0, original=buffer.text)
            else:
                cycle["index"] = (cycle["index"] + 1) % (len(cycle["candidates"]) + 1)
            candidates = cycle["candidates"]
            if cycle["index"] == len(candidates):
                event.app.output.bell()
                show(buffer, cycle["original"])
            else:
                show(buffer, candidates[cycle["index"]])

        @bindings.add("escape", eager=True)
        def _cancel(event) -> None:
            buffer = event.current_buffer
            if cycle["shown"] is not None and buffer.text == cycle["shown"]:
                show(buffer, cycle["original"])
            cycle["shown"] = None

        @bindings.add("c-l")
        def _clear(event) -> None:
            event.app.renderer.clear()

        style = Style.from_dict({"hint": "ansibrightblack"})
        return PromptSession(
            history=SharedHistory(),
            key_bindings=bindings,
            input_processors=[HintProcessor()],
            style=style,
            include_default_pygments_style=False,
            enable_history_search=False,
            mouse_support=False,
        )

    def read(self, prompt: str) -> str | None:
        if self.session is None:
            raw = sys.stdin.buffer.readline()
            if not raw:
                return None
            return raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
        # prompt_toolkit reloads history lazily: give it the lines added since last time.
        self.session.history._loaded = False
        self.session.history._loaded_strings = []
        try:
            return self.session.prompt(prompt)
        except (KeyboardInterrupt, EOFError):
            return None


def repl(cli) -> None:
    """Read, run, print until quit, Ctrl-C or the end of input (redis-cli's repl())."""
    config = cli.config
    cli.interactive = True
    tty = sys.stdin.isatty()
    history = None
    prefs = Preferences()
    if tty:
        history = LineHistory(dotfile_path(HISTFILE_ENV, HISTFILE_DEFAULT))
        prefs.load()
    if not cli.formatter.eval_ldb:
        cli.refresh_prompt()
    cli.ensure_help()
    source = _LineSource(cli, tty, history, prefs)
    while True:
        prompt = cli.prompt if cli.conn is not None or cli.formatter.eval_ldb else "not connected> "
        line = source.read(prompt)
        if line is None:
            break
        if not line:
            continue
        raw = line.encode("utf-8", "surrogateescape")
        argv = split_args(raw)
        repeat = 1
        skip = 0
        if argv and len(argv) > 1 and _REPEAT.fullmatch(argv[0]):
            repeat = int(argv[0])
            if repeat <= 0 or repeat > _LONG_MAX:
                write_stdout(b"Invalid redis-cli repeat command option value.\n")
                continue
            skip = 1
        dangerous = False
        if argv:
            first = argv[skip].lower()
            if first == b"auth" or (first == b"acl" and skip + 1 < len(argv) and argv[skip + 1].lower() == b"setuser"):
                dangerous = True
        if not dangerous and history is not None:
            history.add(line)
            history.save()
        if argv is None:
            write_stdout(b"Invalid argument(s)\n")
            continue
        if not argv:
            continue
        command = argv[0].lower()
        if command in (b"quit", b"exit"):
            raise SystemExit(0)
        if argv[0].startswith(b":"):
            prefs.apply(argv, True)
            continue
        if command == b"restart":
            if config.eval_file:
                cli.formatter.eval_ldb = True
                cli.formatter.mode = config.output = OUTPUT_RAW
                return
            write_stdout(b"Use 'restart' only in Lua debugging mode.\n")
            continue
        if len(argv) == 3 and command == b"connect":
            config.host = argv[1].decode("utf-8", "surrogateescape")
            config.port = c_atoi(argv[2].decode("latin-1"))
            cli.refresh_prompt()
            cli.connect(force=True)
            cli.help_table = None
            continue
        if len(argv) == 1 and command == b"clear":
            write_stdout(b"\x1b[H\x1b[2J")
            continue
        start = time.monotonic()
        try:
            cli.issue_command(argv[skip:], repeat)
        except KeyboardInterrupt:
            raise SystemExit(1) from None
        if cli.eval_ldb_end:
            cli.eval_ldb_end = False
            cli.read_reply(False)
            suffix = "" if config.eval_ldb_sync else " -- dataset changes rolled back"
            write_stdout(f"\n(Lua debugging session ended{suffix})\n\n".encode())
        elapsed = time.monotonic() - start
        if elapsed >= 0.5 and config.output == OUTPUT_STANDARD:
            write_stdout(b"(%.2fs)\n" % elapsed)
    raise SystemExit(0)


def ask_password(message: str) -> str:
    """--askpass: read the password with the typed characters shown as ``*``."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    from prompt_toolkit import prompt

    try:
        return prompt(message, is_password=True)
    except (KeyboardInterrupt, EOFError):
        return ""
