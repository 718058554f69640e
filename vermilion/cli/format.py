"""Reply formatting, byte for byte as redis-cli 7.0 prints it.

Four renderings: the terminal one (numbered, indented, quoted: ``1) "a"``, ``(integer) 1``,
``(nil)``, maps as ``1# key => value``, sets with ``~``), raw (the default when stdout is not a
terminal: bare values, one per line), CSV and JSON. A reply type redis-cli 7.0 cannot print (a
RESP3 big number) ends the program with its "Unknown reply type" message.
"""

from __future__ import annotations

import os
import sys

from . import resp
from .resp import Reply
from .sds import quote

OUTPUT_STANDARD = 0
OUTPUT_RAW = 1
OUTPUT_CSV = 2
OUTPUT_JSON = 3
OUTPUT_QUOTED_JSON = 4

_EMPTY_AGGREGATE = {
    resp.ARRAY: b"(empty array)\n",
    resp.MAP: b"(empty hash)\n",
    resp.SET: b"(empty set)\n",
    resp.PUSH: b"(empty push)\n",
}
_INDEX_SEPARATOR = {resp.SET: b"~", resp.MAP: b"#"}


class UnknownReplyType(Exception):
    """A reply type redis-cli has no rendering for (exits with status 1)."""

    def __init__(self, reply_type: int) -> None:
        super().__init__(f"Unknown reply type: {reply_type}")


def c_string(data: bytes) -> bytes:
    """What printf("%s") shows of a reply's text: up to the first NUL."""
    nul = data.find(b"\0")
    return data if nul < 0 else data[:nul]


def spans_lines(reply: Reply) -> bool:
    """Whether the terminal rendering of a reply takes more than one line."""
    kind = reply.type
    elements = reply.elements
    if kind in (resp.ARRAY, resp.SET, resp.PUSH):
        if not elements:
            return False
        return len(elements) > 1 or spans_lines(elements[0])
    if kind == resp.MAP:
        if not elements:
            return False
        return len(elements) > 2 or spans_lines(elements[1])
    return False


def format_tty(reply: Reply, prefix: bytes = b"") -> bytes:
    kind = reply.type
    if kind == resp.STRING:
        return quote(reply.str) + b"\n"
    if kind == resp.STATUS:
        return c_string(reply.str) + b"\n"
    if kind == resp.INTEGER:
        return b"(integer) %d\n" % reply.integer
    if kind == resp.ERROR:
        return b"(error) " + c_string(reply.str) + b"\n"
    if kind == resp.NIL:
        return b"(nil)\n"
    if kind == resp.DOUBLE:
        return b"(double) " + c_string(reply.str) + b"\n"
    if kind == resp.VERB:
        return reply.str + b"\n"
    if kind == resp.BOOL:
        return b"(true)\n" if reply.integer else b"(false)\n"
    if kind in _EMPTY_AGGREGATE:
        elements = reply.elements
        if not elements:
            return _EMPTY_AGGREGATE[kind]
        is_map = kind == resp.MAP
        count = len(elements) // 2 if is_map else len(elements)
        width = len(str(count))
        child_prefix = prefix + b" " * (width + 2)
        separator = _INDEX_SEPARATOR.get(kind, b")")
        out = bytearray()
        step = 2 if is_map else 1
        for index in range(0, len(elements), step):
            number = index // step + 1
            out += b"%s%*d%s " % (b"" if index == 0 else prefix, width, number, separator)
            out += format_tty(elements[index], child_prefix)
            if is_map:
                del out[-1:]
                out += b" => "
                value = elements[index + 1]
                if spans_lines(value):
                    # A value spanning lines starts on its own line, aligned with the key.
                    out += b"\n" + child_prefix
                out += format_tty(value, child_prefix)
        return bytes(out)
    raise UnknownReplyType(kind)


class Formatter:
    """The output settings that shape a rendering (-d, -D, the mode, the Lua debugger)."""

    def __init__(self, mode: int = OUTPUT_STANDARD, bulk_delimiter: bytes = b"\n",
                 reply_delimiter: bytes = b"\n") -> None:
        self.mode = mode
        self.bulk_delimiter = bulk_delimiter
        self.reply_delimiter = reply_delimiter
        # Set while a Lua debugging session runs: its status lines are colourised, and the
        # "<endsession>" line ends the session (on_ldb_end is then called).
        self.eval_ldb = False
        self.on_ldb_end = None

    def format(self, reply: Reply, verbatim: bool = False) -> bytes:
        """A reply as redis-cli prints it after a command (cliFormatReply)."""
        if verbatim:
            return self.raw(reply)
        mode = self.mode
        if mode == OUTPUT_STANDARD:
            return format_tty(reply)
        if mode == OUTPUT_RAW:
            return self.raw(reply) + self.reply_delimiter
        if mode == OUTPUT_CSV:
            return self.csv(reply) + b"\n"
        return self.json(reply, mode == OUTPUT_QUOTED_JSON) + b"\n"

    def raw(self, reply: Reply) -> bytes:
        kind = reply.type
        if kind in (resp.STRING, resp.STATUS, resp.VERB):
            if kind == resp.STATUS and self.eval_ldb:
                if reply.str.startswith(b"<endsession>"):
                    self.eval_ldb = False
                    if self.on_ldb_end is not None:
                        self.on_ldb_end()
                    return b""
                return colorize_ldb_line(reply.str)
            return reply.str
        if kind == resp.NIL:
            return b""
        if kind == resp.INTEGER:
            return b"%d" % reply.integer
        if kind == resp.ERROR:
            return reply.str + b"\n"
        if kind == resp.DOUBLE:
            return c_string(reply.str)
        if kind == resp.BOOL:
            return b"(true)" if reply.integer else b"(false)"
        if kind in (resp.ARRAY, resp.SET, resp.PUSH):
            return self.bulk_delimiter.join([self.raw(element) for element in reply.elements])
        if kind == resp.MAP:
            items = reply.elements
            return self.bulk_delimiter.join(
                [self.raw(items[i]) + b" " + self.raw(items[i + 1]) for i in range(0, len(items), 2)]
            )
        raise UnknownReplyType(kind)

    def csv(self, reply: Reply) -> bytes:
        kind = reply.type
        if kind in (resp.STRING, resp.STATUS, resp.VERB):
            return quote(reply.str)
        if kind == resp.INTEGER:
            return b"%d" % reply.integer
        if kind == resp.ERROR:
            return b"ERROR," + quote(c_string(reply.str))
        if kind == resp.NIL:
            return b"NULL"
        if kind == resp.DOUBLE:
            return c_string(reply.str)
        if kind == resp.BOOL:
            return b"true" if reply.integer else b"false"
        if kind in resp.AGGREGATES:
            return b",".join([self.csv(element) for element in reply.elements])
        raise UnknownReplyType(kind)

    def json(self, reply: Reply, quoted: bool = False) -> bytes:
        kind = reply.type
        if kind in (resp.STRING, resp.STATUS, resp.VERB):
            return json_string(reply.str, quoted)
        if kind == resp.INTEGER:
            return b"%d" % reply.integer
        if kind == resp.ERROR:
            return b"error:" + json_string(c_string(reply.str), quoted)
        if kind == resp.NIL:
            return b"null"
        if kind == resp.DOUBLE:
            return c_string(reply.str)
        if kind == resp.BOOL:
            return b"true" if reply.integer else b"false"
        if kind in (resp.ARRAY, resp.SET, resp.PUSH):
            return b"[" + b",".join([self.json(element, quoted) for element in reply.elements]) + b"]"
        if kind == resp.MAP:
            items = reply.elements
            parts = []
            for i in range(0, len(items), 2):
                key = items[i]
                if key.type in (resp.ERROR, resp.STATUS, resp.STRING, resp.VERB):
                    rendered = self.json(key, quoted)
                else:
                    # JSON keys are strings: a non-string RESP3 key is rendered, then quoted.
                    rendered = self.json(key, quoted)
                    if not rendered.startswith(b'"'):
                        rendered = b'"' + rendered + b'"'
                parts.append(rendered + b":" + self.json(items[i + 1], quoted))
            return b"{" + b",".join(parts) + b"}"
        raise UnknownReplyType(kind)


def _build_json_table() -> list[bytes]:
    table = []
    for byte in range(256):
        if byte in (0x5C, 0x22):
            table.append(b"\\" + bytes([byte]))
        elif byte == 10:
            table.append(b"\\n")
        elif byte == 12:
            table.append(b"\\f")
        elif byte == 13:
            table.append(b"\\r")
        elif byte == 9:
            table.append(b"\\t")
        elif byte == 8:
            table.append(b"\\b")
        elif byte <= 0x1F:
            table.append(b"\\u%04x" % byte)
        else:
            table.append(bytes([byte]))
    return table


_JSON_TABLE = _build_json_table()


def json_string(data: bytes, quoted: bool = False) -> bytes:
    """A JSON string; --quoted-json writes redis-cli's quoting with its backslashes doubled."""
    if quoted:
        return quote(data).replace(b"\\", b"\\\\")
    table = _JSON_TABLE
    return b'"' + b"".join([table[byte] for byte in data]) + b'"'


def is_color_term() -> bool:
    term = os.environ.get("TERM")
    return term is not None and "xterm" in term


def _colorize(text: bytes, color: str) -> bytes:
    if not is_color_term():
        return text
    bold = 1 if "bold" in color else 0
    code = 37
    for name, value in (("red", 31), ("green", 32), ("yellow", 33), ("blue", 34),
                        ("magenta", 35), ("cyan", 36), ("white", 37)):
        if name in color:
            code = value
            break
    return b"\x1b[%d;%d;49m" % (bold, code) + text + b"\x1b[0m"


def colorize_ldb_line(line: bytes) -> bytes:
    """The Lua debugger's status lines, coloured by their tag as redis-cli does."""
    color = "white"
    if b"<debug>" in line:
        color = "bold"
    if b"<redis>" in line:
        color = "green"
    if b"<reply>" in line:
        color = "cyan"
    if b"<error>" in line:
        color = "red"
    if b"<hint>" in line:
        color = "bold"
    if b"<value>" in line or b"<retval>" in line:
        color = "magenta"
    if len(line) > 4 and line[3:4].isdigit():
        if line[1:2] == b">":
            color = "yellow"
        elif line[2:3] == b"#":
            color = "bold"
    return _colorize(line, color)


def format_invalidate_tty(reply: Reply) -> bytes:
    """RESP3 client-side caching invalidations, shown as ``-> invalidate: 'k1', 'k2'``."""
    keys = reply.elements[1].elements or []
    return b"-> invalidate: " + b", ".join(b"'" + c_string(key.str) + b"'" for key in keys) + b"\n"


def is_invalidate(reply: Reply) -> bool:
    elements = reply.elements
    return (
        reply.type == resp.PUSH
        and len(elements) == 2
        and elements[0].type == resp.STRING
        and elements[0].str.startswith(b"invalidate")
        and elements[1].type == resp.ARRAY
    )


def write_stdout(data: bytes) -> None:
    if data:
        out = sys.stdout.buffer
        out.write(data)
        out.flush()
