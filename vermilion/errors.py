"""Every error text Vermilion sends, in one place, worded exactly as Redis 7.0 words it.

A handler raises ``RedisError(TEXT)``; the gate turns it into ``-TEXT\\r\\n``. The first word of the
text is the error code that INFO errorstats counts (``ERR``, ``WRONGTYPE``, ...).
"""

from __future__ import annotations


class RedisError(Exception):
    """An error reply. ``args[0]`` is the text without the leading '-'."""

    __slots__ = ()

    @property
    def text(self) -> str:
        return self.args[0]


class ProtocolError(Exception):
    """The client broke the protocol: reply with the error, then close the connection."""


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
INCR_FLOAT_NAN = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX = "ERR DB index is out of range"
INVALID_DB_INDEX = "ERR invalid DB index"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPROTO = "NOPROTO unsupported protocol version"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
NOT_POSITIVE = "ERR value is out of range, must be positive"
CURSOR = "ERR invalid cursor"
EXPIRE_OPTIONS = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_LT = "ERR GT and LT options at the same time are not compatible"
DEBUG_DISABLED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)
MULTI_NESTED = "ERR MULTI calls can not be nested"


def wrong_arity(full_name: str) -> str:
    return f"ERR wrong number of arguments for '{full_name}' command"


def invalid_expire(command: str) -> str:
    return f"ERR invalid expire time in '{command}' command"


def unknown_subcommand(subcommand: bytes, container: str) -> str:
    return f"ERR unknown subcommand '{_clip(subcommand)}'. Try {container.upper()} HELP."


def unknown_command(argv: list) -> str:
    # Redis quotes arguments until the list reaches 128 characters, each clipped to what is left.
    args = ""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += "'" + _text(arg)[: 128 - len(args)] + "' "
    text = f"ERR unknown command '{_clip(argv[0])}', with args beginning with: {args}"
    return text.replace("\r", " ").replace("\n", " ")


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def _clip(value: object) -> str:
    return _text(value)[:128]


def error_code(text: str) -> str:
    """The errorstats name of an error: its first word."""
    space = text.find(" ")
    return text if space < 0 else text[:space]
