"""redis-cli's string conventions: how a typed line splits into arguments, how bytes are quoted.

Both follow Redis's sds helpers exactly, because users paste lines quoted the way redis-cli
prints them and scripts parse what it prints:

* ``split_args`` splits on blanks; ``"..."`` understands ``\\n \\r \\t \\b \\a \\xHH`` and
  ``\\<any>``; ``'...'`` understands only ``\\'``; a closing quote must be followed by a blank or
  the end of the line, and an unterminated quote is an error (``None``).
* ``quote`` wraps bytes in double quotes, escaping ``\\ "`` and control bytes, and writing every
  byte outside printable ASCII as ``\\xHH`` (the C locale's ``isprint``).
"""

from __future__ import annotations

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
# Blanks skipped between arguments (C isspace) and the ones that end an unquoted argument.
_SKIP_BLANKS = frozenset(b" \t\n\r\v\f")
_END_OF_WORD = frozenset(b" \n\r\t")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def split_args(line: bytes) -> list[bytes] | None:
    """Split one input line into arguments as redis-cli does; None when the quoting is invalid."""
    nul = line.find(b"\0")
    if nul >= 0:  # the line is a C string: it ends at the first NUL
        line = line[:nul]
    args: list[bytes] = []
    length = len(line)
    pos = 0
    while True:
        while pos < length and line[pos] in _SKIP_BLANKS:
            pos += 1
        if pos >= length:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            char = line[pos] if pos < length else 0
            following = line[pos + 1] if pos + 1 < length else 0
            if in_double:
                if (
                    char == 0x5C
                    and following == 0x78
                    and pos + 3 < length
                    and line[pos + 2] in _HEX_DIGITS
                    and line[pos + 3] in _HEX_DIGITS
                ):
                    current.append(int(line[pos + 2 : pos + 4], 16))
                    pos += 3
                elif char == 0x5C and following:
                    pos += 1
                    current.append(_ESCAPES.get(following, following))
                elif char == 0x22:
                    if following and following not in _SKIP_BLANKS:
                        return None
                    pos += 1
                    break
                elif not char:
                    return None
                else:
                    current.append(char)
            elif in_single:
                if char == 0x5C and following == 0x27:
                    pos += 1
                    current.append(0x27)
                elif char == 0x27:
                    if following and following not in _SKIP_BLANKS:
                        return None
                    pos += 1
                    break
                elif not char:
                    return None
                else:
                    current.append(char)
            elif not char or char in _END_OF_WORD:
                if char:
                    pos += 1
                break
            elif char == 0x22:
                in_double = True
            elif char == 0x27:
                in_single = True
            else:
                current.append(char)
            pos += 1
        args.append(bytes(current))


def _build_quote_table() -> list[bytes]:
    table = []
    for byte in range(256):
        if byte in (0x5C, 0x22):
            table.append(b"\\" + bytes([byte]))
        elif byte == 10:
            table.append(b"\\n")
        elif byte == 13:
            table.append(b"\\r")
        elif byte == 9:
            table.append(b"\\t")
        elif byte == 7:
            table.append(b"\\a")
        elif byte == 8:
            table.append(b"\\b")
        elif 0x20 <= byte <= 0x7E:
            table.append(bytes([byte]))
        else:
            table.append(b"\\x%02x" % byte)
    return table


_QUOTE_TABLE = _build_quote_table()
_PLAIN = frozenset(byte for byte in range(0x20, 0x7F) if byte not in (0x5C, 0x22))


def quote(data: bytes) -> bytes:
    """``"..."`` with redis-cli's escapes (sdscatrepr)."""
    if all(byte in _PLAIN for byte in data):
        return b'"' + data + b'"'
    table = _QUOTE_TABLE
    return b'"' + b"".join([table[byte] for byte in data]) + b'"'


def unquote(text: bytes) -> bytes | None:
    """A single argument written with redis-cli's quoting (--quoted-input, --quoted-pattern)."""
    parts = split_args(text)
    if parts is None or len(parts) != 1:
        return None
    return parts[0]
