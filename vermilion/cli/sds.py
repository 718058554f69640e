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

from ..sdsrepr import sds_repr as quote

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


def unquote(text: bytes) -> bytes | None:
    """A single argument written with redis-cli's quoting (--quoted-input, --quoted-pattern)."""
    parts = split_args(text)
    if parts is None or len(parts) != 1:
        return None
    return parts[0]
