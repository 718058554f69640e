"""Typed RESP2/RESP3 replies for display, and command encoding.

redis-cli prints a status reply bare but a bulk string quoted, a set with ``~`` where an array
has ``)``, a double exactly as the server wrote it, a verbatim string without its format prefix.
hiredis-py collapses those distinctions (status and bulk both become ``bytes``, a set becomes a
Python ``set``, a double a ``float``), so replies that are going to be shown are parsed here,
keeping hiredis's type codes and its protocol-error wording. Bulk traffic whose replies are only
counted (--pipe, the key samplers, the benchmark) uses hiredis.
"""

from __future__ import annotations

# hiredis's reply type codes: redis-cli reports an unsupported one as "Unknown reply type: N".
STRING = 1
ARRAY = 2
INTEGER = 3
NIL = 4
STATUS = 5
ERROR = 6
DOUBLE = 7
BOOL = 8
MAP = 9
SET = 10
ATTR = 11
PUSH = 12
BIGNUM = 13
VERB = 14

AGGREGATES = frozenset({ARRAY, MAP, SET, PUSH})


class Reply:
    """One reply: ``type``; ``str`` for string-like types (and DOUBLE/BIGNUM text); ``integer``
    for INTEGER and BOOL; ``elements`` for aggregates (a MAP holds keys and values in turn)."""

    __slots__ = ("type", "str", "integer", "elements")

    def __init__(self, type_: int, text: bytes = b"", integer: int = 0, elements: list | None = None) -> None:
        self.type = type_
        self.str = text
        self.integer = integer
        self.elements = elements

    def __repr__(self) -> str:
        if self.elements is not None:
            return f"Reply({self.type}, {self.elements!r})"
        if self.type in (INTEGER, BOOL):
            return f"Reply({self.type}, {self.integer})"
        return f"Reply({self.type}, {self.str!r})"

    # Conveniences for code that consumes replies (tools, help) rather than printing them.
    @property
    def is_error(self) -> bool:
        return self.type == ERROR

    def text(self) -> str:
        return self.str.decode("utf-8", "replace")

    def pairs(self) -> list[tuple[Reply, Reply]]:
        """Key/value pairs of a map, or of a RESP2 flat array standing for one."""
        items = self.elements or []
        return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]


class ProtocolError(Exception):
    """The stream is not valid RESP; the message is hiredis's."""


class _Frame:
    __slots__ = ("reply", "remaining")

    def __init__(self, reply: Reply, remaining: int) -> None:
        self.reply = reply
        self.remaining = remaining


_AGGREGATE_PREFIX = {ord("*"): ARRAY, ord("%"): MAP, ord("~"): SET, ord(">"): PUSH}
_LINE_PREFIX = {ord("+"): STATUS, ord("-"): ERROR, ord(":"): INTEGER, ord(","): DOUBLE,
                ord("_"): NIL, ord("#"): BOOL, ord("("): BIGNUM}
_BULK_PREFIX = {ord("$"): STRING, ord("="): VERB, ord("!"): ERROR}
_NEED_MORE = object()


def _parse_integer(line: bytes) -> int:
    try:
        if not line or line != line.strip():
            raise ValueError
        return int(line)
    except ValueError:
        raise ProtocolError("Bad integer value") from None


def _valid_double(line: bytes) -> bool:
    if line in (b"inf", b"-inf", b"nan", b"-nan"):
        return True
    try:
        float(line)
    except ValueError:
        return False
    return line == line.strip()


class TypedReader:
    """Incremental parser: ``feed(data)``, then ``get()`` returns a Reply or None (need more).

    Aggregates in progress are kept on a stack, so a large reply arriving in many reads is
    parsed once, not restarted from its beginning each time."""

    __slots__ = ("buffer", "pos", "stack", "error")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.pos = 0
        self.stack: list[_Frame] = []
        self.error: str | None = None

    def feed(self, data: bytes) -> None:
        if self.pos > 65536 and self.pos * 2 > len(self.buffer):
            del self.buffer[: self.pos]
            self.pos = 0
        self.buffer += data

    def has_buffered(self) -> bool:
        return self.pos < len(self.buffer) or bool(self.stack)

    def _line(self) -> bytes | None:
        end = self.buffer.find(b"\r\n", self.pos)
        if end < 0:
            return None
        line = bytes(self.buffer[self.pos + 1 : end])
        self.pos = end + 2
        return line

    def _one(self) -> object:
        """Parse one element at the current position: a finished Reply, a new aggregate frame
        (pushed), or _NEED_MORE (position unchanged)."""
        buffer = self.buffer
        if self.pos >= len(buffer):
            return _NEED_MORE
        start = self.pos
        prefix = buffer[start]
        if prefix in _BULK_PREFIX:
            end = buffer.find(b"\r\n", start)
            if end < 0:
                return _NEED_MORE
            length = _parse_integer(bytes(buffer[start + 1 : end]))
            if length < 0:
                self.pos = end + 2
                return Reply(NIL)
            body = end + 2
            if len(buffer) < body + length + 2:
                return _NEED_MORE
            data = bytes(buffer[body : body + length])
            self.pos = body + length + 2
            kind = _BULK_PREFIX[prefix]
            if kind == VERB:
                if length < 4 or data[3:4] != b":":
                    raise ProtocolError("Verbatim string 4 bytes of content type are missing or incorrectly encoded.")
                data = data[4:]
            return Reply(kind, data)
        if prefix in _AGGREGATE_PREFIX:
            line = self._line()
            if line is None:
                return _NEED_MORE
            count = _parse_integer(line)
            kind = _AGGREGATE_PREFIX[prefix]
            if count < 0:
                return Reply(NIL)
            if kind == MAP:
                count *= 2
            reply = Reply(kind, elements=[])
            if count == 0:
                return reply
            self.stack.append(_Frame(reply, count))
            return None
        if prefix in _LINE_PREFIX:
            line = self._line()
            if line is None:
                return _NEED_MORE
            kind = _LINE_PREFIX[prefix]
            if kind == INTEGER:
                return Reply(INTEGER, integer=_parse_integer(line))
            if kind == NIL:
                return Reply(NIL)
            if kind == BOOL:
                if line not in (b"t", b"f"):
                    raise ProtocolError("Bad bool value")
                return Reply(BOOL, integer=1 if line == b"t" else 0)
            if kind == DOUBLE and not _valid_double(line):
                raise ProtocolError("Bad double value")
            return Reply(kind, line)
        shown = chr(prefix) if 0x20 <= prefix < 0x7F else "\\x%02x" % prefix
        raise ProtocolError(f'Protocol error, got "{shown}" as reply type byte')

    def get(self) -> Reply | None:
        if self.error is not None:
            raise ProtocolError(self.error)
        try:
            while True:
                item = self._one()
                if item is _NEED_MORE:
                    return None
                if item is None:  # a new aggregate: fill it
                    continue
                stack = self.stack
                while stack:
                    frame = stack[-1]
                    frame.reply.elements.append(item)
                    frame.remaining -= 1
                    if frame.remaining:
                        break
                    stack.pop()
                    item = frame.reply
                else:
                    return item
        except ProtocolError as exc:
            self.error = str(exc)
            raise


def encode_command(args: list[bytes]) -> bytes:
    """A command as a RESP multibulk request."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(b"\r\n")
    return b"".join(parts)
