"""Bitmap and bitfield commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Bitmaps are plain string values. Bit 0 is the most significant bit of the first byte. Commands
that write bits turn the value into a ``bytearray`` (Redis's unshared "raw" string) and change it
in place, growing it with zero bytes as needed. Wide operations (counting, searching, BITOP) work
on big integers built from whole byte ranges, in chunks where the range can be large, rather
than bit by bit.

The argument checks follow Redis 7.0 in order: for example BITCOUNT and BITPOS look the key up
before they parse their range, so a missing key answers 0 / -1 even for malformed ranges.
"""

from __future__ import annotations

from ..errors import (
    BIT_OFFSET,
    BIT_VALUE,
    BITFIELD_OVERFLOW,
    BITFIELD_RO_WRITE,
    BITFIELD_TYPE,
    BITOP_NOT_SINGLE,
    BITPOS_BIT,
    NOT_INTEGER,
    SYNTAX,
    WRONGTYPE,
    RedisError,
)
from ..notify import NOTIFY_GENERIC, NOTIFY_STRING, notify
from ..registry import command
from ..resp.encode import MINUS_ONE, NULL2, NULL3, ONE, ZERO, integer
from ..types.string import parse_int
from .strings import c_option

# Ranges longer than this are counted / searched in slices, so a 512 MB bitmap never becomes
# one 512 MB Python integer.
_CHUNK = 1 << 20


def unshare_string(db, key: bytes, value) -> bytearray:
    """The value as a bytearray stored under ``key`` (Redis's dbUnshareStringValue): a change
    of representation only, so nothing is counted or signalled."""
    if value.__class__ is bytearray:
        return value
    value = bytearray(value)
    db.replace_representation(key, value)
    return value


def _bit_offset(client, arg: bytes, hash_bits: int = 0) -> int:
    """A bit offset argument; with ``hash_bits`` "#N" means N * hash_bits (BITFIELD)."""
    use_hash = hash_bits > 0 and arg[:1] == b"#"
    offset = parse_int(arg[1:] if use_hash else arg)
    if offset is None:
        raise RedisError(BIT_OFFSET)
    if use_hash:
        # C multiplies in a signed 64-bit integer, which wraps.
        offset = ((offset * hash_bits + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)
    if offset < 0 or (offset >> 3) >= client.server.config.proto_max_bulk_len:
        raise RedisError(BIT_OFFSET)
    return offset


def _string_for_bits(client, key: bytes, max_bit: int):
    """The bytearray at ``key`` grown to hold ``max_bit``, created if missing (Redis's
    lookupStringForBitCommand); also whether it was created, and whether it grew."""
    db = client.db
    value = db.lookup_write(key)
    size = (max_bit >> 3) + 1
    if value is None:
        value = bytearray(size)
        db.set_value(key, value)
        return value, True, True
    cls = value.__class__
    if cls is bytes:
        value = unshare_string(db, key, value)
    elif cls is not bytearray:
        raise RedisError(WRONGTYPE)
    if len(value) < size:
        value.extend(bytes(size - len(value)))
        return value, False, True
    return value, False, False


def _is_string(value) -> bool:
    cls = value.__class__
    return cls is bytes or cls is bytearray


# -- SETBIT / GETBIT ---------------------------------------------------------------------------


@command("setbit")
def setbit(client, argv):
    offset = parse_int(argv[2])
    if offset is None or offset < 0 or (offset >> 3) >= client.server.config.proto_max_bulk_len:
        raise RedisError(BIT_OFFSET)
    arg = argv[3]
    if arg == b"1":
        on = 1
    elif arg == b"0":
        on = 0
    else:
        # Any other integer is out of range; a non-integer gets the same error text.
        raise RedisError(BIT_VALUE)
    key = argv[1]
    db = client.db
    value = db.lookup_write(key)
    index = offset >> 3
    mask = 0x80 >> (offset & 7)
    if value is None:
        value = bytearray(index + 1)
        if on:
            value[index] = mask
        db.set_value(key, value)
        notify(db, NOTIFY_STRING, b"setbit", key)
        return ZERO
    cls = value.__class__
    if cls is not bytearray:
        if cls is not bytes:
            raise RedisError(WRONGTYPE)
        value = unshare_string(db, key, value)
    size = len(value)
    if index >= size:
        value.extend(bytes(index + 1 - size))
        old = 0
    else:
        old = value[index] & mask
        if (old != 0) == on:
            return ONE if old else ZERO
    if on:
        value[index] |= mask
    else:
        value[index] &= ~mask & 0xFF
    db.modified(key)
    notify(db, NOTIFY_STRING, b"setbit", key)
    return ONE if old else ZERO


@command("getbit")
def getbit(client, argv):
    offset = parse_int(argv[2])
    if offset is None or offset < 0 or (offset >> 3) >= client.server.config.proto_max_bulk_len:
        raise RedisError(BIT_OFFSET)
    value = client.db.lookup_read(argv[1])
    if value is None:
        return ZERO
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    index = offset >> 3
    if index < len(value) and value[index] & (0x80 >> (offset & 7)):
        return ONE
    return ZERO


# -- BITCOUNT / BITPOS -------------------------------------------------------------------------


def _unit_is_bit(arg: bytes) -> bool:
    unit = c_option(arg)
    if unit == b"BIT":
        return True
    if unit == b"BYTE":
        return False
    raise RedisError(SYNTAX)


def _clip_range(start: int, end: int, total: int) -> tuple[int, int]:
    if start < 0:
        start += total
    if end < 0:
        end += total
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= total:
        end = total - 1
    return start, end


def popcount(value, first_bit: int, last_bit: int) -> int:
    """Number of set bits from ``first_bit`` to ``last_bit`` inclusive."""
    first = first_bit >> 3
    last = last_bit >> 3
    total = 0
    with memoryview(value) as view:
        for start in range(first, last + 1, _CHUNK):
            total += int.from_bytes(view[start : min(start + _CHUNK, last + 1)], "big").bit_count()
        head = view[first] >> (8 - (first_bit & 7))
        tail = view[last] & ((1 << (7 - (last_bit & 7))) - 1)
    return total - head.bit_count() - tail.bit_count()


@command("bitcount")
def bitcount(client, argv):
    value = client.db.lookup_read(argv[1])
    if value is None:
        return ZERO
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    argc = len(argv)
    size = len(value)
    if argc == 2:
        if not size:
            return ZERO
        return integer(popcount(value, 0, size * 8 - 1))
    if argc != 4 and argc != 5:
        raise RedisError(SYNTAX)
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    if start is None or end is None:
        raise RedisError(NOT_INTEGER)
    if start < 0 and end < 0 and start > end:
        return ZERO
    in_bits = argc == 5 and _unit_is_bit(argv[4])
    start, end = _clip_range(start, end, size * 8 if in_bits else size)
    if start > end:
        return ZERO
    if not in_bits:
        start, end = start * 8, end * 8 + 7
    return integer(popcount(value, start, end))


def first_bit(value, first_bit_pos: int, last_bit_pos: int, bit: int) -> int:
    """Position of the first bit equal to ``bit`` in the inclusive bit range, or -1."""
    first = first_bit_pos >> 3
    last = last_bit_pos >> 3
    with memoryview(value) as view:
        start = first
        while start <= last:
            stop = min(start + _CHUNK, last + 1)
            width = (stop - start) * 8
            bits = int.from_bytes(view[start:stop], "big")
            if not bit:
                bits ^= (1 << width) - 1
            if start == first:
                bits &= (1 << (width - (first_bit_pos & 7))) - 1
            if stop == last + 1:
                bits &= ~((1 << (7 - (last_bit_pos & 7))) - 1)
            if bits:
                return start * 8 + width - bits.bit_length()
            start = stop
    return -1


@command("bitpos")
def bitpos(client, argv):
    bit = parse_int(argv[2])
    if bit is None:
        raise RedisError(NOT_INTEGER)
    if bit != 0 and bit != 1:
        raise RedisError(BITPOS_BIT)
    value = client.db.lookup_read(argv[1])
    if value is None:
        # A missing key is an endless run of zero bits.
        return MINUS_ONE if bit else ZERO
    if not _is_string(value):
        raise RedisError(WRONGTYPE)
    argc = len(argv)
    size = len(value)
    in_bits = False
    end_given = False
    if 4 <= argc <= 6:
        start = parse_int(argv[3])
        if start is None:
            raise RedisError(NOT_INTEGER)
        if argc == 6:
            in_bits = _unit_is_bit(argv[5])
        if argc >= 5:
            end = parse_int(argv[4])
            if end is None:
                raise RedisError(NOT_INTEGER)
            end_given = True
        else:
            end = size * 8 + 7 if in_bits else size - 1
        start, end = _clip_range(start, end, size * 8 if in_bits else size)
    elif argc == 3:
        start, end = 0, size - 1
    else:
        raise RedisError(SYNTAX)
    if start > end:
        return MINUS_ONE
    if not in_bits:
        start, end = start * 8, end * 8 + 7
    found = first_bit(value, start, end, bit)
    if found < 0 and not bit and not end_given:
        # Looking for a clear bit with an open end: the string continues with zeroes.
        return integer(end + 1)
    return integer(found)


# -- BITOP -------------------------------------------------------------------------------------

_BITOPS = {b"AND": 0, b"OR": 1, b"XOR": 2, b"NOT": 3}


def bitwise(operation: int, sources: list, size: int) -> bytearray:
    """AND / OR / XOR / NOT of byte strings, shorter ones read as zero-padded to ``size``.

    Each slice of up to _CHUNK bytes is combined as big integers, which keeps the work in C
    and the temporary integers small however large the operands are.
    """
    result = bytearray(size)
    full_mask = (1 << (min(size, _CHUNK) * 8)) - 1 if operation == 3 else 0
    for start in range(0, size, _CHUNK):
        stop = min(start + _CHUNK, size)
        width = stop - start
        combined = None
        for source in sources:
            part = source[start:stop]
            operand = int.from_bytes(part, "big") << ((width - len(part)) * 8)
            if combined is None:
                combined = operand
            elif operation == 0:
                combined &= operand
            elif operation == 1:
                combined |= operand
            else:
                combined ^= operand
        if operation == 3:
            combined ^= full_mask if width == _CHUNK or width == size else (1 << (width * 8)) - 1
        result[start:stop] = combined.to_bytes(width, "big")
    return result


@command("bitop")
def bitop(client, argv):
    operation = _BITOPS.get(c_option(argv[1]))
    if operation is None:
        raise RedisError(SYNTAX)
    if operation == 3 and len(argv) != 4:
        raise RedisError(BITOP_NOT_SINGLE)
    db = client.db
    sources = []
    for key in argv[3:]:
        value = db.lookup_read(key)
        if value is None:
            value = b""
        elif not _is_string(value):
            raise RedisError(WRONGTYPE)
        sources.append(value)
    size = max(len(value) for value in sources)
    target = argv[2]
    if not size:
        if db.delete(target):
            notify(db, NOTIFY_GENERIC, b"del", target)
        return ZERO
    result = bitwise(operation, sources, size)
    if db.expires and target in db.expires:
        db.lookup_write(target)  # an expired target is reclaimed (and counted) first
    db.set_value(target, result)
    notify(db, NOTIFY_STRING, b"set", target)
    return integer(size)


# -- BITFIELD ----------------------------------------------------------------------------------

_GET, _SET, _INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2
_OVERFLOW_TYPES = {b"WRAP": _WRAP, b"SAT": _SAT, b"FAIL": _FAIL}


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """(signed, width) of a type argument: i1..i64 or u1..u63 (read as a C string)."""
    text = arg.split(b"\0", 1)[0]
    kind = text[:1]
    if kind == b"i":
        signed = True
    elif kind == b"u":
        signed = False
    else:
        raise RedisError(BITFIELD_TYPE)
    width = parse_int(text[1:])
    if width is None or width < 1 or width > (64 if signed else 63):
        raise RedisError(BITFIELD_TYPE)
    return signed, width


def read_bits(value, offset: int, width: int) -> int:
    """The unsigned integer stored in ``width`` bits at bit ``offset`` (zeros past the end)."""
    first = offset >> 3
    stop = (offset + width + 7) >> 3
    chunk = value[first:stop]
    number = int.from_bytes(chunk, "big") << ((stop - first - len(chunk)) * 8)
    return (number >> (stop * 8 - offset - width)) & ((1 << width) - 1)


def write_bits(value: bytearray, offset: int, width: int, number: int) -> None:
    """Store the low ``width`` bits of ``number`` at bit ``offset`` (the value is long enough)."""
    first = offset >> 3
    stop = (offset + width + 7) >> 3
    shift = stop * 8 - offset - width
    mask = ((1 << width) - 1) << shift
    current = int.from_bytes(value[first:stop], "big")
    current = (current & ~mask) | ((number << shift) & mask)
    value[first:stop] = current.to_bytes(stop - first, "big")


def _as_signed(number: int, width: int) -> int:
    if number >> (width - 1):
        return number - (1 << width)
    return number


_U64 = (1 << 64) - 1


def _int64(number: int) -> int:
    """``number`` wrapped to a signed 64-bit integer, as C arithmetic leaves it."""
    number &= _U64
    return number - (1 << 64) if number >> 63 else number


def _signed_result(value: int, increment: int, width: int, overflow_type: int) -> tuple[bool, int]:
    """(overflowed, new value) of ``value + increment`` in a signed ``width``-bit field.

    The bounds checks are Redis's, including its 64-bit wrap-around when computing how far the
    value is from the limits: a SET of a value far below a narrow field's minimum counts as an
    overflow (so SAT stores the maximum), exactly as the C code behaves.
    """
    high = (1 << (width - 1)) - 1
    low = -high - 1
    room_up = _int64(high - value)
    room_down = _int64(low - value)
    if value > high or (width != 64 and increment > room_up) or (
        value >= 0 and increment > 0 and increment > room_up
    ):
        limit = high
    elif value < low or (width != 64 and increment < room_down) or (
        value < 0 and increment < 0 and increment < room_down
    ):
        limit = low
    else:
        return False, value + increment
    if overflow_type == _SAT:
        return True, limit
    # WRAP (FAIL ignores the value): two's complement truncation to the field.
    return True, ((value + increment - low) & ((1 << width) - 1)) + low


def _unsigned_result(value: int, increment: int, width: int, overflow_type: int) -> tuple[bool, int]:
    """(overflowed, new value) of ``value + increment`` in an unsigned ``width``-bit field;
    ``value`` is a 64-bit unsigned pattern (SET of a negative number is a huge value)."""
    high = (1 << width) - 1
    if value > high or (increment > 0 and increment > _int64(high - value)):
        limit = high
    elif increment < 0 and increment < _int64(-value):
        limit = 0
    else:
        return False, value + increment
    if overflow_type == _SAT:
        return True, limit
    return True, (value + increment) & high


def _bitfield(client, argv, read_only_command: bool):
    ops = []
    overflow_type = _WRAP
    read_only = True
    highest_write_bit = 0
    argc = len(argv)
    index = 2
    while index < argc:
        remaining = argc - index - 1
        name = c_option(argv[index])
        if name == b"GET" and remaining >= 2:
            opcode = _GET
        elif name == b"SET" and remaining >= 3:
            opcode = _SET
        elif name == b"INCRBY" and remaining >= 3:
            opcode = _INCRBY
        elif name == b"OVERFLOW" and remaining >= 1:
            overflow_type = _OVERFLOW_TYPES.get(c_option(argv[index + 1]))
            if overflow_type is None:
                raise RedisError(BITFIELD_OVERFLOW)
            index += 2
            continue
        else:
            raise RedisError(SYNTAX)
        signed, width = _bitfield_type(argv[index + 1])
        offset = _bit_offset(client, argv[index + 2], width)
        argument = 0
        if opcode != _GET:
            read_only = False
            highest_write_bit = max(highest_write_bit, offset + width - 1)
            argument = parse_int(argv[index + 3])
            if argument is None:
                raise RedisError(NOT_INTEGER)
            index += 4
        else:
            index += 3
        ops.append((opcode, signed, width, offset, argument, overflow_type))

    db = client.db
    key = argv[1]
    grown = False
    created = False
    if read_only:
        value = db.lookup_read(key)
        if value is not None and not _is_string(value):
            raise RedisError(WRONGTYPE)
    else:
        if read_only_command:
            raise RedisError(BITFIELD_RO_WRITE)
        value, created, grown = _string_for_bits(client, key, highest_write_bit)

    null = NULL3 if client.resp3 else NULL2
    replies = [b"*%d\r\n" % len(ops)]
    changes = 0
    for opcode, signed, width, offset, argument, overflow_type in ops:
        if opcode == _GET:
            if value is None:
                replies.append(ZERO)
                continue
            number = read_bits(value, offset, width)
            replies.append(integer(_as_signed(number, width) if signed else number))
            continue
        stored = read_bits(value, offset, width)
        if signed:
            old = _as_signed(stored, width)
            if opcode == _INCRBY:
                overflowed, new = _signed_result(old, argument, width, overflow_type)
                reply = new
            else:
                overflowed, new = _signed_result(argument, 0, width, overflow_type)
                reply = old
        else:
            old = stored
            if opcode == _INCRBY:
                overflowed, new = _unsigned_result(old, argument, width, overflow_type)
                reply = new
            else:
                overflowed, new = _unsigned_result(argument & 0xFFFFFFFFFFFFFFFF, 0, width,
                                                   overflow_type)
                reply = old
        if overflowed and overflow_type == _FAIL:
            replies.append(null)
            continue
        replies.append(integer(reply))
        write_bits(value, offset, width, new)
        if grown or old != new:
            changes += 1

    if created:
        # Creating the key counted one change already; Redis counts only the writes.
        if changes:
            if changes > 1:
                db.modified(key, changes - 1)
        else:
            client.server.dirty -= 1
    elif changes:
        db.modified(key, changes)
    if changes:
        notify(db, NOTIFY_STRING, b"setbit", key)
    return b"".join(replies)


@command("bitfield")
def bitfield(client, argv):
    return _bitfield(client, argv, False)


@command("bitfield_ro")
def bitfield_ro(client, argv):
    return _bitfield(client, argv, True)


__all__ = ["bitwise", "first_bit", "popcount", "read_bits", "unshare_string", "write_bits"]
