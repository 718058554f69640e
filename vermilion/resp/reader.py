"""Request parsing exactly as Redis 7.0's networking.c does it.

The connection's fast path feeds well-formed multibulk requests to hiredis (C, about 0.2 us per
command). hiredis neither parses inline commands nor words its errors as Redis does, and it accepts
a few things Redis rejects (integers or nulls inside a request). Whenever a request does not start
with '*', or hiredis raises or returns something that is not a list of bulk strings, the connection
hands the retained raw bytes to ``ExactParser``, which follows Redis's rules byte for byte
(``processInlineBuffer`` and ``processMultibulkBuffer``): hand-written because no library parses
requests with Redis's exact acceptance rules and error texts.
"""

from __future__ import annotations

from ..errors import ProtocolError

INLINE_MAX_SIZE = 64 * 1024  # PROTO_INLINE_MAX_SIZE
INT_MAX = 2**31 - 1

_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("a"): b"\a"}
_HEX = b"0123456789abcdefABCDEF"
_SPACE = b" \n\r\t\v\f\0"  # isspace() plus NUL, as sdssplitargs skips them


def parse_int(text: bytes) -> int | None:
    """Redis's string2ll: optional '-', no '+', no leading zeros, no spaces, fits in 64 bits."""
    length = len(text)
    if length == 0 or length > 20:
        return None
    if text == b"0":
        return 0
    start = 1 if text[0] == 45 else 0  # '-'
    if start == length or not (49 <= text[start] <= 57):
        return None
    for ch in text[start + 1 :]:
        if not 48 <= ch <= 57:
            return None
    value = int(text)
    if not -(2**63) <= value < 2**63:
        return None
    return value


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs: split an inline command; None when quotes are unbalanced."""
    args: list[bytes] = []
    pos = 0
    end = len(line)
    while True:
        while pos < end and line[pos] in _SPACE:
            pos += 1
        if pos >= end:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if pos >= end:
                    return None
                ch = line[pos]
                if (
                    ch == 92
                    and pos + 3 < end
                    and line[pos + 1] == 120
                    and line[pos + 2] in _HEX
                    and line[pos + 3] in _HEX
                ):
                    current.append(int(line[pos + 2 : pos + 4], 16))
                    pos += 3
                elif ch == 92 and pos + 1 < end:
                    pos += 1
                    escaped = line[pos]
                    current += _ESCAPES.get(escaped, bytes((escaped,)))
                elif ch == 34:
                    # A closing quote must be followed by a space or the end.
                    if pos + 1 < end and line[pos + 1] not in _SPACE:
                        return None
                    pos += 1
                    break
                else:
                    current.append(ch)
            elif in_single:
                if pos >= end:
                    return None
                ch = line[pos]
                if ch == 92 and pos + 1 < end and line[pos + 1] == 39:
                    pos += 1
                    current.append(39)
                elif ch == 39:
                    if pos + 1 < end and line[pos + 1] not in _SPACE:
                        return None
                    pos += 1
                    break
                else:
                    current.append(ch)
            else:
                if pos >= end:
                    break
                ch = line[pos]
                if ch in b" \n\r\t\0":
                    break
                if ch == 34:
                    in_double = True
                elif ch == 39:
                    in_single = True
                else:
                    current.append(ch)
            pos += 1
        args.append(bytes(current))


class ExactParser:
    """A query buffer parsed with Redis's rules; used for inline commands and malformed input."""

    __slots__ = ("buffer", "pos", "max_bulk_len", "auth_required", "partial_argv", "partial_count", "partial_bytes")

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.buffer = bytearray()
        self.pos = 0
        self.max_bulk_len = max_bulk_len
        # A callable telling whether the client still has to authenticate (smaller limits then).
        self.auth_required = _never
        # A multibulk request whose elements arrive over several reads: the elements parsed so
        # far (their bytes are dropped from the buffer, ``pos`` is where the next one starts),
        # the count announced, and the wire bytes they took. Parsing resumes there, as Redis
        # keeps a client's partial argv, so a long request costs linear time and memory.
        self.partial_argv: list[bytes] | None = None
        self.partial_count = 0
        self.partial_bytes = 0

    def feed(self, data: bytes) -> None:
        if self.pos:
            del self.buffer[: self.pos]
            self.pos = 0
        self.buffer += data

    def pending(self) -> int:
        """Bytes of requests not returned yet (a partial request's parsed elements included)."""
        return len(self.buffer) - self.pos + self.partial_bytes

    def next_command(self) -> list[bytes] | None:
        """The next complete command, [] for an empty one, None when more bytes are needed."""
        if self.partial_argv is not None:
            argv, self.partial_argv = self.partial_argv, None
            return self._elements(argv, self.partial_count, self.pos)
        if self.pos >= len(self.buffer):
            return None
        if self.buffer[self.pos] == 42:  # '*'
            return self._multibulk()
        return self._inline()

    def _find(self, byte: bytes, start: int) -> int:
        """Redis's strchr on the query buffer: the search ends at a NUL byte, so a line with a
        NUL before its end reads as not complete yet."""
        buffer = self.buffer
        found = buffer.find(byte, start)
        if found > start and buffer.find(b"\0", start, found) >= 0:
            return -1
        return found

    def _inline(self) -> list[bytes] | None:
        buffer = self.buffer
        newline = self._find(b"\n", self.pos)
        if newline < 0:
            if len(buffer) - self.pos > INLINE_MAX_SIZE:
                raise ProtocolError("ERR Protocol error: too big inline request")
            return None
        line_end = newline - 1 if newline > self.pos and buffer[newline - 1] == 13 else newline
        argv = split_args(bytes(buffer[self.pos : line_end]))
        if argv is None:
            raise ProtocolError("ERR Protocol error: unbalanced quotes in request")
        self.pos = newline + 1
        return argv

    def _multibulk(self) -> list[bytes] | None:
        buffer = self.buffer
        pos = self.pos
        newline = self._find(b"\r", pos)
        if newline < 0:
            if len(buffer) - pos > INLINE_MAX_SIZE:
                raise ProtocolError("ERR Protocol error: too big mbulk count string")
            return None
        if newline + 1 >= len(buffer):
            return None
        count = parse_int(bytes(buffer[pos + 1 : newline]))
        if count is None or count > INT_MAX:
            raise ProtocolError("ERR Protocol error: invalid multibulk length")
        if count > 10 and self.auth_required():
            raise ProtocolError("ERR Protocol error: unauthenticated multibulk length")
        pos = newline + 2
        if count <= 0:
            self.pos = pos
            return []
        return self._elements([], count, pos)

    def _elements(self, argv: list[bytes], count: int, pos: int) -> list[bytes] | None:
        buffer = self.buffer
        max_bulk_len = self.max_bulk_len
        append = argv.append
        while len(argv) < count:
            newline = buffer.find(b"\r", pos)
            if newline > pos and buffer.find(b"\0", pos, newline) >= 0:
                newline = -1  # Redis's strchr stops at a NUL: the line is not complete yet
            if newline < 0:
                if len(buffer) - pos > INLINE_MAX_SIZE:
                    raise ProtocolError("ERR Protocol error: too big bulk count string")
                return self._wait(argv, count, pos)
            if newline + 1 >= len(buffer):
                return self._wait(argv, count, pos)
            if buffer[pos] != 36:  # '$'
                raise ProtocolError(
                    "ERR Protocol error: expected '$', got '%s'" % chr(buffer[pos])
                )
            digits = bytes(buffer[pos + 1 : newline])
            # string2ll for a length: digits only, no leading zero (a sign makes it invalid too).
            if not digits.isdigit() or (digits[0] == 48 and len(digits) > 1) or len(digits) > 19:
                raise ProtocolError("ERR Protocol error: invalid bulk length")
            length = int(digits)
            if length > max_bulk_len:
                raise ProtocolError("ERR Protocol error: invalid bulk length")
            if length > 16384 and self.auth_required():
                raise ProtocolError("ERR Protocol error: unauthenticated bulk length")
            start = newline + 2
            end = start + length
            if len(buffer) < end + 2:
                return self._wait(argv, count, pos)
            append(bytes(buffer[start:end]))
            pos = end + 2  # Redis skips the two bytes after the bulk unchecked
        self.pos = pos
        self.partial_bytes = 0
        return argv

    def _wait(self, argv: list[bytes], count: int, pos: int) -> None:
        if argv:
            self.partial_bytes += pos - self.pos
            self.pos = pos
            self.partial_argv, self.partial_count = argv, count
        return None


def _never() -> bool:
    return False
