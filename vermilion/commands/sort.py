"""SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0's sortCommandGeneric.

Elements sort numerically (each read with C's strtod; "ERR One or more scores can't be converted
into double" when one is not a number) or, with ALPHA, bytewise; ties in numeric order fall back
to comparing the elements, which makes the result deterministic. BY takes the sort key from
other keys (``weight_*``, ``obj_*->field`` for a hash field); a BY pattern without ``*`` skips
sorting (lists and sorted sets keep their order; a set is sorted ALPHA anyway when the result is
stored, so the stored list is deterministic). GET builds the reply from other keys (``#`` is the
element itself). STORE writes the result to a list.
"""

from __future__ import annotations

import math
from functools import cmp_to_key

from ..errors import NOT_INTEGER, SORT_NOT_DOUBLE, SYNTAX, WRONGTYPE, RedisError
from ..notify import NOTIFY_GENERIC, NOTIFY_LIST, notify
from ..registry import command
from ..resp.encode import EMPTY_ARRAY, NULL2, NULL3, integer
from ..types.hash import HashValue
from ..types.list import ListValue
from ..types.set import RedisSet
from ..types.string import parse_int
from ..types.zset import ZSet, c_string, strtod
from .strings import c_option


def _lookup_by_pattern(db, pattern: bytes, element: bytes) -> bytes | None:
    """The value that ``pattern`` names for ``element`` (Redis's lookupKeyByPattern): ``#`` is
    the element; the first ``*`` is replaced by it; ``->field`` after the ``*`` reads a hash
    field. None when the key (or field) is missing or of another type."""
    text = c_string(pattern)
    if text == b"#":
        return element
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if 0 <= arrow < len(text) and arrow + 2 < len(text):
        field = pattern[arrow + 2 :]
        key = pattern[:star] + element + pattern[star + 1 : arrow]
    else:
        key = pattern[:star] + element + pattern[star + 1 :]
    value = db.lookup_read(key)
    if value is None:
        return None
    if field is not None:
        if value.__class__ is not HashValue:
            return None
        return value.fields.get(field)
    if value.__class__ is bytes or value.__class__ is bytearray:
        return bytes(value)
    return None


def _sort_score(value: bytes) -> float | None:
    """An element's numeric sort key as Redis reads it (strtod to the end of the C string,
    no range error, no NaN); None when it is not a number."""
    text = c_string(value)
    if text.isdigit() and len(text) < 16:
        return float(int(text))
    score, consumed, erange = strtod(text)
    if consumed != len(text):
        return None
    if erange or math.isnan(score):
        return None
    return score


@command("sort")
def sort(client, argv):
    return _sort_generic(client, argv, False)


@command("sort_ro")
def sort_ro(client, argv):
    return _sort_generic(client, argv, True)


def _from_script(client) -> bool:
    # A script's commands run as its ScriptClient; SORT then sorts a set even under BY nosort,
    # so that the script sees the same order on every replica.
    from ..scripting.state import ScriptClient

    return isinstance(client, ScriptClient)


def _sort_generic(client, argv: list[bytes], readonly: bool) -> bytes:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sort_by = store_key = None
    gets: list[bytes] = []
    argc = len(argv)
    index = 2
    while index < argc:
        left = argc - index - 1
        option = c_option(argv[index])
        if option == b"ASC":
            desc = False
        elif option == b"DESC":
            desc = True
        elif option == b"ALPHA":
            alpha = True
        elif option == b"LIMIT" and left >= 2:
            limit_start = parse_int(argv[index + 1])
            limit_count = parse_int(argv[index + 2])
            if limit_start is None or limit_count is None:
                raise RedisError(NOT_INTEGER)
            index += 2
        elif not readonly and option == b"STORE" and left >= 1:
            store_key = argv[index + 1]
            index += 1
        elif option == b"BY" and left >= 1:
            sort_by = argv[index + 1]
            if b"*" not in c_string(sort_by):
                dontsort = True
            index += 1
        elif option == b"GET" and left >= 1:
            gets.append(argv[index + 1])
            index += 1
        else:
            raise RedisError(SYNTAX)
        index += 1

    db = client.db
    value = db.lookup_read(argv[1])
    cls = value.__class__
    if value is not None and cls is not ListValue and cls is not RedisSet and cls is not ZSet:
        raise RedisError(WRONGTYPE)
    if dontsort and cls is RedisSet and (store_key is not None or _from_script(client)):
        dontsort = False
        alpha = True
        sort_by = None
    if cls is ZSet and value.listpack:
        # Redis converts the sorted set to a skiplist for good before sorting it.
        value.listpack = False

    if value is None:
        size = 0
    elif cls is ListValue:
        size = len(value)
    elif cls is RedisSet:
        size = len(value.members)
    else:
        size = len(value.scores)
    start = min(max(limit_start, 0), size)
    limit_count = min(max(limit_count, -1), size)
    end = size - 1 if limit_count < 0 else start + limit_count - 1
    if start >= size:
        start, end = size - 1, size - 2
    if end >= size:
        end = size - 1

    if value is None:
        elements: list[bytes] = []
    elif dontsort and cls is not RedisSet:
        # Lists and sorted sets keep their own order: take just the range, DESC from the end.
        if cls is ListValue:
            ordered = list(value.values())
        else:
            ordered = [member for _, member in value.order]
        if desc:
            ordered.reverse()
        elements = ordered[start : end + 1] if end >= start else []
        end -= start
        start = 0
    elif cls is ListValue:
        elements = list(value.values())
    elif cls is RedisSet:
        elements = list(value.ordered())
    else:
        elements = list(value.scores)

    if not dontsort and elements:
        elements = _sorted(db, elements, sort_by, alpha, desc, store_key is not None)

    count = end - start + 1 if end >= start else 0
    selected = elements[start : start + count]
    output_length = len(gets) * count if gets else count
    if store_key is None:
        resp3 = client.resp3
        null = NULL3 if resp3 else NULL2
        parts = [b"*%d\r\n" % output_length]
        for element in selected:
            if not gets:
                parts.append(b"$%d\r\n%s\r\n" % (len(element), element))
            for pattern in gets:
                found = _lookup_by_pattern(db, pattern, element)
                parts.append(null if found is None else b"$%d\r\n%s\r\n" % (len(found), found))
        return b"".join(parts) if output_length else EMPTY_ARRAY
    if gets:
        stored = []
        for element in selected:
            for pattern in gets:
                found = _lookup_by_pattern(db, pattern, element)
                stored.append(b"" if found is None else found)
    else:
        stored = selected
    if output_length:
        config = client.server.config
        result = ListValue.from_values(stored, config.list_max_listpack_size,
                                       config.list_compress_depth)
        db.lookup_write(store_key)  # an expired target is reclaimed (and counted) first
        db.set_value(store_key, result)
        if output_length > 1:
            db.modified(store_key, output_length - 1)
        notify(db, NOTIFY_LIST, b"sortstore", store_key)
    elif db.delete(store_key):
        notify(db, NOTIFY_GENERIC, b"del", store_key)
    return integer(output_length)


def _sorted(db, elements: list[bytes], sort_by: bytes | None, alpha: bool, desc: bool,
            storing: bool) -> list[bytes]:
    if not alpha:
        keyed = []
        failed = False
        for element in elements:
            source = element if sort_by is None else _lookup_by_pattern(db, sort_by, element)
            score = 0.0
            if source is not None:
                parsed = _sort_score(source)
                if parsed is None:
                    failed = True
                else:
                    score = parsed
            keyed.append((score, element))
        if failed:
            raise RedisError(SORT_NOT_DOUBLE)
        keyed.sort(reverse=desc)
        return [element for _, element in keyed]
    if sort_by is None:
        if storing:
            return sorted(elements, reverse=desc)
        # strcoll in the C locale: bytewise, up to the first NUL.
        return sorted(elements, key=c_string, reverse=desc)
    keyed = []
    for element in elements:
        found = _lookup_by_pattern(db, sort_by, element)
        if found is not None and not storing:
            found = c_string(found)
        keyed.append((found, element))
    compare = _compare_missing_first_desc if desc else _compare_missing_first
    keyed.sort(key=cmp_to_key(compare))
    return [element for _, element in keyed]


def _compare_missing_first(left, right) -> int:
    a, b = left[0], right[0]
    if a is None or b is None:
        if a is b:
            return 0
        return -1 if a is None else 1
    return (a > b) - (a < b)


def _compare_missing_first_desc(left, right) -> int:
    return -_compare_missing_first(left, right)
