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


# COMMAND GETKEYS / GETKEYSANDFLAGS
INVALID_COMMAND_SPECIFIED = "ERR Invalid command specified"
COMMAND_HAS_NO_KEYS = "ERR The command has no key arguments"
INVALID_KEY_ARGUMENT_COUNT = "ERR Invalid number of arguments specified for command"
INVALID_KEY_ARGUMENTS = "ERR Invalid arguments specified for command"


# Strings and generic keyspace commands
DECREMENT_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
INVALID_FIRST_DB = "ERR invalid first DB index"
INVALID_SECOND_DB = "ERR invalid second DB index"
LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)


def int_out_of_range(minimum: int, maximum: int) -> str:
    return f"ERR value is out of range, value must between {minimum} and {maximum}"


def unsupported_option(option: bytes) -> str:
    # Redis prints the option as a C string: it ends at the first NUL byte.
    return "ERR Unsupported option " + option.split(b"\0", 1)[0].decode("utf-8", "replace")


# Connection and server commands (HELLO, AUTH, SELECT, CLIENT, SHUTDOWN, DEBUG)
CLIENT_NAME_CHARS = "ERR Client names cannot contain spaces, newlines or special characters."
SELECT_IN_CLUSTER = "ERR SELECT is not allowed in cluster mode"
HELLO_PROTOCOL_NOT_INTEGER = "ERR Protocol version is not an integer or out of range"
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
    "protocol version at the same time"
)
AUTH_WITHOUT_PASSWORD = (
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?"
)
INVALID_CLIENT_ID = "ERR Invalid client ID"
CLIENT_ID_NOT_POSITIVE = "ERR client-id should be greater than 0"
NO_SUCH_CLIENT = "ERR No such client"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
CLIENT_PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"
NO_SHUTDOWN_IN_PROGRESS = "ERR No shutdown in progress."


def _c_text(value: bytes) -> str:
    # Redis formats these arguments with %s: the text ends at the first NUL byte.
    return value.split(b"\0", 1)[0].decode("utf-8", "replace")


def subcommand_syntax(subcommand: bytes, container: bytes) -> str:
    return (
        f"ERR unknown subcommand or wrong number of arguments for '{_c_text(subcommand)[:128]}'. "
        f"Try {_c_text(container).upper()} HELP."
    )


def hello_syntax(option: bytes) -> str:
    return f"ERR Syntax error in HELLO option '{_c_text(option)}'"


def unknown_client_type(name: bytes) -> str:
    return f"ERR Unknown client type '{_c_text(name)}'"


def no_such_user(name: bytes) -> str:
    return f"ERR No such user '{_c_text(name)}'"


def unrecognized_option(option: bytes) -> str:
    return f"ERR Unrecognized option '{_c_text(option)}'"


def client_attribute_chars(attribute: bytes) -> str:
    return f"ERR {_c_text(attribute)} cannot contain spaces, newlines or special characters."


# -- CONFIG ------------------------------------------------------------------------------------

CONFIG_NO_FILE = "ERR The server is running without a config file"
CONFIG_LOADING = "LOADING Redis is loading the dataset in memory"
CONFIG_IMMUTABLE = "can't set immutable config"
CONFIG_PROTECTED = "can't set protected config"
CONFIG_DUPLICATE = "duplicate parameter"


def config_set_unknown(name: bytes) -> str:
    return f"ERR Unknown option or number of arguments for CONFIG SET - '{_c_text(name)}'"


def config_set_failed(name: bytes, reason: str | None) -> str:
    if reason is None:
        return f"ERR CONFIG SET failed (possibly related to argument '{_c_text(name)}')"
    return f"ERR CONFIG SET failed (possibly related to argument '{_c_text(name)}') - {reason}"


def config_rewrite_failed(reason: str) -> str:
    return f"ERR Rewriting config file: {reason}"
