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
    # Lengths count bytes and each argument ends at a NUL byte (C's %.*s); other bytes are kept
    # as they are (surrogateescape, undone by resp.encode.error).
    args = b""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + _c_bytes(arg)[: 128 - len(args)] + b"' "
    text = b"ERR unknown command '" + _c_bytes(argv[0])[:128] + b"', with args beginning with: " + args
    return text.decode("utf-8", "surrogateescape").replace("\r", " ").replace("\n", " ")


def _c_bytes(value: object) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).split(b"\0", 1)[0]
    return str(value).encode()


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def _clip(value: object) -> str:
    return _c_bytes(value)[:128].decode("utf-8", "surrogateescape")


def error_code(text: str) -> str:
    """The errorstats name of an error: its first word when a space comes within the first 32
    characters of "-<text>", else ERR (Redis's rule)."""
    space = text.find(" ", 0, 31)
    return "ERR" if space < 0 else text[:space]


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
    return value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


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


# Bitmaps, bitfields and HyperLogLog
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_SINGLE = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)
BITFIELD_OVERFLOW = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_WRITE = "ERR BITFIELD_RO only supports the GET subcommand"
HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_CORRUPTED = "INVALIDOBJ Corrupted HLL object detected"
PFDEBUG_NO_KEY = "ERR The specified key does not exist"
HLL_NOT_SPARSE = "ERR HLL encoding is not sparse"


def pfdebug_unknown(subcommand: bytes) -> str:
    return f"ERR Unknown PFDEBUG subcommand '{_c_text(subcommand)}'"


# -- transactions and pub/sub -----------------------------------------------------------------

EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
NOT_ALLOWED_IN_MULTI = "ERR Command not allowed inside a transaction"


def pubsub_context(full_name: str) -> str:
    """A RESP2 client in subscriber mode ran something other than the subscriber commands."""
    return (
        f"ERR Can't execute '{full_name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
        "/ RESET are allowed in this context"
    )


def deny_blocking_subscribe(command_name: str) -> str:
    """A subscribe command run where a reply per command is expected (inside EXEC, a script)."""
    return f"ERR {command_name} isn't allowed for a DENY BLOCKING client"


# -- sets, sorted sets and SORT --------------------------------------------------------------

ZADD_XX_NX = "ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIR = "ERR INCR option supports a single increment-element pair"
SCORE_NAN = "ERR resulting score is not a number (NaN)"
MIN_MAX_NOT_FLOAT = "ERR min or max is not a float"
LEX_RANGE_INVALID = "ERR min or max not valid string range item"
ZRANGE_LIMIT_BY_RANK = (
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
)
ZRANGE_WITHSCORES_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
SET_NUMKEYS_POSITIVE = "ERR numkeys should be greater than 0"
SET_NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
SET_LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
ZSET_COUNT_POSITIVE = "ERR count should be greater than 0"
VALUE_OUT_OF_RANGE = "ERR value is out of range"
SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double"


def zset_needs_keys(full_name: str) -> str:
    return f"ERR at least 1 input key is needed for '{full_name}' command"


# -- lists and hashes --------------------------------------------------------------------------

INDEX_OUT_OF_RANGE = "ERR index out of range"
LPOS_RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list"
)
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_NOT_POSITIVE = "ERR count should be greater than 0"
HASH_VALUE_NOT_INTEGER = "ERR hash value is not an integer"
HASH_VALUE_NOT_FLOAT = "ERR hash value is not a float"
VALUE_NAN_OR_INFINITY = "ERR value is NaN or Infinity"
CLIENT_UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"


# -- Streams -----------------------------------------------------------------------------------

INVALID_STREAM_ID = "ERR Invalid stream ID specified as stream command argument"
XADD_ID_TOO_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
STREAM_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
TRIM_MAXLEN_AND_MINID = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
TRIM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
TRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
TRIM_LIMIT_WITHOUT_STRATEGY = (
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
)
TRIM_LIMIT_WITHOUT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
XTRIM_WITHOUT_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
INVALID_START_ID = "ERR invalid start ID for the interval"
INVALID_END_ID = "ERR invalid end ID for the interval"
XREAD_UNBALANCED = (
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
)
XREAD_GROUP_OPTION = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
XREAD_NOACK_OPTION = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
XREADGROUP_MISSING_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREADGROUP_DOLLAR_ID = (
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
    "just return an empty result set."
)
XREAD_GREATER_ID = (
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
    "<consumer> option."
)
BLOCKED_GROUP_GONE = "NOGROUP the consumer group this client was blocked on no longer exists"
BLOCKED_STREAM_GONE = "UNBLOCKED the stream key no longer exists"
XGROUP_KEY_MISSING = (
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
    "use the MKSTREAM option to create an empty stream automatically."
)
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
ENTRIESREAD_INVALID = "ERR value for ENTRIESREAD must be positive or -1"
XSETID_BELOW_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_BELOW_MAX_DELETED = (
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
)
XSETID_ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_ENTRIES_ADDED_BELOW_LENGTH = (
    "ERR The entries_added specified in XSETID is smaller than the target stream length"
)
XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT = "ERR COUNT must be > 0"
XAUTOCLAIM_COUNT_MEMORY = (
    "ERR Insufficient memory, failed allocating transient memory, COUNT too high."
)


def xclaim_unrecognized(option: bytes) -> str:
    return f"ERR Unrecognized XCLAIM option '{_c_text(option)}'"


def xreadgroup_no_group(key: bytes, group: bytes) -> str:
    return (
        f"NOGROUP No such key '{_c_text(key)}' or consumer group '{_c_text(group)}' "
        "in XREADGROUP with GROUP option"
    )


def no_key_or_group(key: bytes, group: bytes) -> str:
    return f"NOGROUP No such key '{_c_text(key)}' or consumer group '{_c_text(group)}'"


def no_group_for_key(group: bytes, key: bytes) -> str:
    return f"NOGROUP No such consumer group '{_c_text(group)}' for key name '{_c_text(key)}'"


def blocking_from_script(command: bytes) -> str:
    return f"ERR {_c_text(command)} command is not allowed with BLOCK option from scripts"


# Persistence: SAVE, BGSAVE, SHUTDOWN's save, DEBUG RELOAD, MISCONF (vermilion.persistence.saving)
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
BGSAVE_CHILD_ACTIVE = (
    "ERR Another child process is active (AOF?): can't BGSAVE right now. "
    "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
)
# Redis answers a failed SAVE with its shared bare "-ERR".
SAVE_FAILED = "ERR"
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."
DEBUG_RELOAD_OPTIONS = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
DEBUG_RELOAD_LOAD_FAILED = "ERR Error trying to load the RDB dump"
MISCONF_RDB = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is configured "
    "to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    "Please check the Redis logs for details about the RDB error."
)
# Followed by strerror of the failed write (Redis's writeCommandsGetDiskErrorMessage).
MISCONF_AOF = "MISCONF Errors writing to the AOF file: "


# Geo commands (vermilion.commands.geo)
GEO_MEMBER_UNDECODABLE = "ERR could not decode requested zset member"
GEO_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_RADIUS_NOT_FLOAT = "ERR need numeric radius"
GEO_RADIUS_NEGATIVE = "ERR radius cannot be negative"
GEO_WIDTH_NOT_FLOAT = "ERR need numeric width"
GEO_HEIGHT_NOT_FLOAT = "ERR need numeric height"
GEO_BOX_NEGATIVE = "ERR height or width cannot be negative"
GEO_COUNT_POSITIVE = "ERR COUNT must be > 0"
GEO_ANY_NEEDS_COUNT = "ERR the ANY argument requires COUNT argument"
GEORADIUS_STORE_OPTIONS = (
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
)
GEOSEARCHSTORE_OPTIONS = (
    "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
)


def geo_invalid_pair(longitude: float, latitude: float) -> str:
    return "ERR invalid longitude,latitude pair %f,%f" % (longitude, latitude)


def geo_needs_origin(command: bytes) -> str:
    return f"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {_c_text(command)}"


def geo_needs_shape(command: bytes) -> str:
    return f"ERR exactly one of BYRADIUS and BYBOX can be specified for {_c_text(command)}"


# SLOWLOG, MONITOR (vermilion/commands/observe.py).
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
MONITOR_DENY_BLOCKING = "ERR MONITOR isn't allowed for DENY BLOCKING client"
REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace"

# BGREWRITEAOF (vermilion/persistence/aof.py).
AOF_REWRITE_IN_PROGRESS = "ERR Background append only file rewriting already in progress"
AOF_REWRITE_CANT_START = (
    "ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
)
