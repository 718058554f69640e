"""Which arguments of a command are keys, and how the command uses them.

This follows Redis 7.0's getKeysFromCommandWithSpecs, because COMMAND GETKEYS, ACL key patterns
and Cluster slot routing must all agree with real Redis, including where Redis is lenient:

1. When the command has at least one key spec that is not ``not_key`` and none is marked
   ``variable_flags``, the specs are walked in order. A spec that cannot be resolved on this
   argument vector (a ``keynum`` that is not a clean integer, a range that runs past the end, an
   ``unknown`` begin_search, or an ``incomplete`` spec) voids the whole walk.
2. Otherwise, or when the walk was voided, the command's own extractor runs if Redis has one for
   it (the ``_PROCS`` table below: SORT, MIGRATE, XREAD, numkeys commands, SET, BITFIELD, ...).
   Several of these report keys without flags, exactly as Redis does.
3. Otherwise the command has no keys here.

Arguments are compared the way Redis's C code compares them: keyword matches are
case-insensitive and stop at a NUL byte (``strcasecmp``), numkeys in a spec must be a strict
integer (``string2ll``) while the fallback extractors read it with ``atoi``.

Each Command is compiled once into a small plan (a closure), cached per Command object, so the
per-call work is a few integer operations for the common single-key commands.
"""

from __future__ import annotations

from collections.abc import Callable

from .registry import Command

# The order in which Redis lists key-spec flags (COMMAND INFO, COMMAND GETKEYSANDFLAGS).
KEY_FLAG_ORDER = (
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
    "not_key", "incomplete", "variable_flags",
)

KeyRef = tuple[int, frozenset[str]]
Extractor = Callable[[list], list[KeyRef]]

NO_FLAGS: frozenset[str] = frozenset()
_RO_ACCESS = frozenset({"RO", "access"})
_OW_UPDATE = frozenset({"OW", "update"})
_RW_ACCESS_UPDATE = frozenset({"RW", "access", "update"})
_RW_ACCESS_DELETE = frozenset({"RW", "access", "delete"})

_INT32 = 1 << 32
_INT64_MAX = (1 << 63) - 1
_C_SPACE = b" \t\n\v\f\r"


def _wrap32(value: int) -> int:
    """``value`` as a C int (two's complement, 32 bits)."""
    value &= _INT32 - 1
    return value - _INT32 if value >= 1 << 31 else value


def _cdiv(num: int, den: int) -> int:
    """C integer division (truncates toward zero)."""
    quotient = abs(num) // abs(den)
    return quotient if (num >= 0) == (den > 0) else -quotient


def _cstr(arg: bytes) -> bytes:
    """What C string functions see of an argument: everything before the first NUL."""
    nul = arg.find(b"\0")
    return arg if nul < 0 else arg[:nul]


def _ceq(arg: bytes, lower_word: bytes) -> bool:
    """strcasecmp(arg, word) == 0 for a lower-case ASCII ``lower_word``."""
    if len(arg) == len(lower_word):
        return arg.lower() == lower_word
    return len(arg) > len(lower_word) and _cstr(arg).lower() == lower_word


def string2ll(arg: bytes) -> int | None:
    """Redis's strict integer parser: no spaces, no '+', no leading zeros, 64-bit range."""
    size = len(arg)
    if size == 0 or size > 20:
        return None
    if arg == b"0":
        return 0
    start = 1 if arg[0] == 45 else 0  # '-'
    if start == size or not 49 <= arg[start] <= 57:  # first digit 1-9
        return None
    if not arg[start:].isdigit():  # bytes.isdigit is ASCII-only
        return None
    value = int(arg)
    if value > _INT64_MAX or value < -_INT64_MAX - 1:
        return None
    return value


def atoi(arg: bytes) -> int:
    """C's atoi as glibc implements it: strtol (clamped to 64 bits) truncated to an int."""
    text = _cstr(arg).lstrip(_C_SPACE)
    end = 1 if text[:1] in (b"+", b"-") else 0
    while end < len(text) and 48 <= text[end] <= 57:
        end += 1
    digits = text[:end]
    if not digits.lstrip(b"+-"):
        return 0
    value = int(digits)
    value = max(-_INT64_MAX - 1, min(_INT64_MAX, value))
    return _wrap32(value)


# -- key specs -----------------------------------------------------------------------------

_BS_INDEX, _BS_KEYWORD, _BS_UNKNOWN = 0, 1, 2
_FK_RANGE, _FK_KEYNUM, _FK_UNKNOWN = 0, 1, 2


class KeySpec:
    """One key spec of a command, decoded from the COMMAND INFO tree."""

    __slots__ = (
        "flags", "not_key", "incomplete", "bs_type", "index", "keyword", "startfrom",
        "fk_type", "lastkey", "keystep", "limit", "keynumidx", "firstkey",
    )

    def __init__(self, tree: dict) -> None:
        fields = dict(tree["%"])
        self.flags: frozenset[str] = frozenset(f["+"] for f in fields["flags"]["~"])
        self.not_key = "not_key" in self.flags
        self.incomplete = "incomplete" in self.flags
        begin = dict(fields["begin_search"]["%"])
        begin_spec = dict(begin["spec"]["%"])
        find = dict(fields["find_keys"]["%"])
        find_spec = dict(find["spec"]["%"])
        self.index = self.startfrom = 0
        self.keyword = b""
        if begin["type"] == "index":
            self.bs_type = _BS_INDEX
            self.index = begin_spec["index"]
        elif begin["type"] == "keyword":
            self.bs_type = _BS_KEYWORD
            self.keyword = begin_spec["keyword"].lower().encode()
            self.startfrom = begin_spec["startfrom"]
        else:
            self.bs_type = _BS_UNKNOWN
        self.lastkey = self.keystep = self.limit = self.keynumidx = self.firstkey = 0
        if find["type"] == "range":
            self.fk_type = _FK_RANGE
            self.lastkey = find_spec["lastkey"]
            self.keystep = find_spec["keystep"]
            self.limit = find_spec["limit"]
        elif find["type"] == "keynum":
            self.fk_type = _FK_KEYNUM
            self.keynumidx = find_spec["keynumidx"]
            self.firstkey = find_spec["firstkey"]
            self.keystep = find_spec["keystep"]
        else:
            self.fk_type = _FK_UNKNOWN


def key_specs(cmd: Command) -> list[KeySpec]:
    return [KeySpec(tree) for tree in cmd.info[8]["~"]]


def _keyword_start(spec: KeySpec, argv: list) -> int:
    """The argument after the spec's keyword, or 0 when the keyword is absent."""
    argc = len(argv)
    if spec.startfrom > 0:
        start, end = spec.startfrom, argc - 1
    else:
        start, end = argc + spec.startfrom, 1
    step = 1 if start <= end else -1
    i = start
    keyword = spec.keyword
    while i != end:
        if i >= argc or i < 1:
            break
        if _ceq(argv[i], keyword):
            return i + 1
        i += step
    return 0


def _walk_specs(specs: list[KeySpec], argv: list) -> list[KeyRef] | None:
    """Keys found by the specs, or None when a spec cannot be resolved (Redis's -1)."""
    argc = len(argv)
    keys: list[KeyRef] = []
    for spec in specs:
        if spec.not_key:
            continue
        if spec.bs_type == _BS_INDEX:
            first = spec.index
        elif spec.bs_type == _BS_KEYWORD:
            first = _keyword_start(spec, argv)
            if not first:
                continue
        else:
            return None
        step = spec.keystep
        if spec.fk_type == _FK_RANGE:
            if spec.lastkey >= 0:
                last = first + spec.lastkey
            elif not spec.limit:
                last = argc + spec.lastkey
            else:
                last = first + (_cdiv(argc - first, spec.limit) + spec.lastkey)
        elif spec.fk_type == _FK_KEYNUM:
            if first + spec.keynumidx >= argc:
                return None
            numkeys = string2ll(argv[first + spec.keynumidx])
            if numkeys is None or numkeys < 0:
                return None
            first += spec.firstkey
            last = _wrap32(first + _wrap32(numkeys) - 1)
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        flags = spec.flags
        keys.extend((i, flags) for i in range(first, last + 1, step))
        if spec.incomplete:
            return None
    return keys


# -- Redis's per-command extractors (getkeys_proc) -----------------------------------------


def _numkeys_extractor(store_at: int, count_at: int, first_at: int) -> Extractor:
    """[destkey] numkeys key [key ...]: Redis's genericGetKeys (keys carry no flags)."""

    def extract(argv: list) -> list[KeyRef]:
        num = atoi(argv[count_at])
        if num < 1 or num > len(argv) - first_at:
            return []
        keys = [(first_at + i, NO_FLAGS) for i in range(num)]
        if store_at:
            keys.append((store_at, NO_FLAGS))
        return keys

    return extract


def _sort_keys(argv: list) -> list[KeyRef]:
    keys = [(1, _RO_ACCESS)]
    store_at = 0
    argc = len(argv)
    i = 2
    while i < argc:
        arg = argv[i]
        if _ceq(arg, b"limit"):
            i += 2
        elif _ceq(arg, b"store") and i + 1 < argc:
            store_at = i + 1  # the last STORE wins, as in SORT itself
        elif _ceq(arg, b"get") or _ceq(arg, b"by"):
            i += 1
        i += 1
    if store_at:
        keys.append((store_at, _OW_UPDATE))
    return keys


def _sort_ro_keys(argv: list) -> list[KeyRef]:
    return [(1, _RO_ACCESS)]


_MIGRATE_SKIP = ((b"copy", 0), (b"replace", 0), (b"auth", 1), (b"auth2", 2))


def _migrate_keys(argv: list) -> list[KeyRef]:
    argc = len(argv)
    first, num = 3, 1
    if argc > 6:
        i = 6
        while i < argc:
            arg = argv[i]
            if _ceq(arg, b"keys"):
                if _cstr(argv[3]):
                    num = 0  # a key and KEYS together: MIGRATE itself reports the error
                else:
                    first = i + 1
                    num = argc - first
                break
            for word, skip in _MIGRATE_SKIP:
                if _ceq(arg, word):
                    i += skip
                    break
            i += 1
    return [(first + i, _RW_ACCESS_DELETE) for i in range(num)]


def _xread_keys(argv: list) -> list[KeyRef]:
    argc = len(argv)
    streams_at = -1
    i = 1
    while i < argc:
        arg = argv[i]
        if _ceq(arg, b"block") or _ceq(arg, b"count"):
            i += 1
        elif _ceq(arg, b"group"):
            i += 2
        elif _ceq(arg, b"noack"):
            pass
        elif _ceq(arg, b"streams"):
            streams_at = i
            break
        else:
            break
        i += 1
    if streams_at < 0:
        return []
    num = argc - streams_at - 1
    if num == 0 or num % 2:
        return []
    return [(i, NO_FLAGS) for i in range(streams_at + 1, argc - num // 2)]


def _set_keys(argv: list) -> list[KeyRef]:
    # GET makes SET read the old value. Redis compares the first four C chars exactly here.
    for arg in argv[3:]:
        if _cstr(arg).lower() == b"get":
            return [(1, _RW_ACCESS_UPDATE)]
    return [(1, _OW_UPDATE)]


def _bitfield_keys(argv: list) -> list[KeyRef]:
    argc = len(argv)
    readonly = True
    i = 2
    while i < argc:
        remaining = argc - i - 1
        arg = argv[i]
        if _ceq(arg, b"get") and remaining >= 2:
            i += 2
        elif (_ceq(arg, b"set") or _ceq(arg, b"incrby")) and remaining >= 3:
            readonly = False
            break
        elif _ceq(arg, b"overflow") and remaining >= 1:
            i += 1
        else:
            readonly = False  # a syntax error: assume the worst, as Redis does
            break
        i += 1
    return [(1, _RO_ACCESS if readonly else _RW_ACCESS_UPDATE)]


# GEORADIUS and GEORADIUSBYMEMBER also have an extractor in Redis, but their key specs always
# resolve, so it is never consulted and is left out here.
_PROCS: dict[str, Extractor] = {
    "zunionstore": _numkeys_extractor(1, 2, 3),
    "zinterstore": _numkeys_extractor(1, 2, 3),
    "zdiffstore": _numkeys_extractor(1, 2, 3),
    "zunion": _numkeys_extractor(0, 1, 2),
    "zinter": _numkeys_extractor(0, 1, 2),
    "zdiff": _numkeys_extractor(0, 1, 2),
    "zintercard": _numkeys_extractor(0, 1, 2),
    "sintercard": _numkeys_extractor(0, 1, 2),
    "eval": _numkeys_extractor(0, 2, 3),
    "evalsha": _numkeys_extractor(0, 2, 3),
    "eval_ro": _numkeys_extractor(0, 2, 3),
    "evalsha_ro": _numkeys_extractor(0, 2, 3),
    "fcall": _numkeys_extractor(0, 2, 3),
    "fcall_ro": _numkeys_extractor(0, 2, 3),
    "lmpop": _numkeys_extractor(0, 1, 2),
    "blmpop": _numkeys_extractor(0, 2, 3),
    "zmpop": _numkeys_extractor(0, 1, 2),
    "bzmpop": _numkeys_extractor(0, 2, 3),
    "sort": _sort_keys,
    "sort_ro": _sort_ro_keys,
    "migrate": _migrate_keys,
    "xread": _xread_keys,
    "xreadgroup": _xread_keys,
    "set": _set_keys,
    "bitfield": _bitfield_keys,
}


# -- compiled plans ------------------------------------------------------------------------


class _Plan:
    __slots__ = ("extract", "has_keys")

    def __init__(self, extract: Extractor, has_keys: bool) -> None:
        self.extract = extract
        self.has_keys = has_keys


def _no_keys(argv: list) -> list[KeyRef]:
    return []


def _single_key(position: int, flags: frozenset[str]) -> Extractor:
    """The common shape: one key at a fixed position (GET, SET-like, HSET, ...)."""
    single = [(position, flags)]

    def extract(argv: list) -> list[KeyRef]:
        if position < len(argv):
            return list(single)
        return []

    return extract


def _compile(cmd: Command) -> _Plan:
    specs = key_specs(cmd)
    proc = _PROCS.get(cmd.full_name)
    use_specs = any("not_key" not in s.flags for s in specs) and not any(
        "variable_flags" in s.flags for s in specs
    )
    has_keys = proc is not None or any("not_key" not in s.flags for s in specs)
    if not use_specs:
        return _Plan(proc or _no_keys, has_keys)
    if (
        proc is None
        and len(specs) == 1
        and specs[0].bs_type == _BS_INDEX
        and specs[0].fk_type == _FK_RANGE
        and specs[0].lastkey == 0
        and "incomplete" not in specs[0].flags
    ):
        return _Plan(_single_key(specs[0].index, specs[0].flags), True)

    def extract(argv: list) -> list[KeyRef]:
        keys = _walk_specs(specs, argv)
        if keys is not None:
            return keys
        return proc(argv) if proc is not None else []

    return _Plan(extract, has_keys)


_plans: dict[Command, _Plan] = {}


def _plan(cmd: Command) -> _Plan:
    plan = _plans.get(cmd)
    if plan is None:
        plan = _plans[cmd] = _compile(cmd)
    return plan


def get_keys(cmd: Command, argv: list) -> list[KeyRef]:
    """The keys of ``argv`` (a full command line, ``argv[0]`` the command name) for ``cmd``.

    Returns ``(argv position, key-spec flags)`` pairs in Redis's order; flags are empty where
    Redis's own extractor gives none. An empty list means Redis finds no key either (no key
    specs, or arguments it cannot make sense of); it never raises. For a subcommand, ``argv``
    still starts at the container's name (``[b"OBJECT", b"ENCODING", key]``).
    """
    return _plan(cmd).extract(argv)


def has_keys(cmd: Command) -> bool:
    """Whether Redis considers that ``cmd`` may take keys (doesCommandHaveKeys)."""
    return _plan(cmd).has_keys
