"""String values: integer parsing, encodings, and Redis's long double arithmetic.

Redis parses integers strictly (no sign '+', no leading zeros or spaces, 64-bit range) and does
INCRBYFLOAT / HINCRBYFLOAT in x87 80-bit ``long double`` (64-bit significand), printing the
result with ``%.17Lf`` and trimming trailing zeros. Python has no long double, so values are kept
as exact ``Fraction``s and rounded to the long double grid after every operation, which gives
the same bits, hence the same text, as the C code.
"""

from __future__ import annotations

import re
from fractions import Fraction

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
# Redis shares one object for each integer in [0, OBJ_SHARED_INTEGERS).
SHARED_INTEGERS = 10000
# Strings up to this length are "embstr" in Redis, longer ones "raw".
EMBSTR_LIMIT = 44
# string2ld copies into a buffer of this size and rejects anything that does not fit.
MAX_LONG_DOUBLE_CHARS = 5 * 1024


def parse_int(data: bytes | bytearray) -> int | None:
    """The value of a canonical signed 64-bit decimal (Redis's string2ll), else None."""
    if 0 < len(data) <= 20:
        try:
            number = int(data)
        except ValueError:
            return None
        if INT64_MIN <= number <= INT64_MAX and b"%d" % number == data:
            return number
    return None


def string_encoding(value: bytes | bytearray) -> bytes:
    """OBJECT ENCODING of a string: bytearray is an unshared "raw" buffer; bytes follow Redis's
    tryObjectEncoding (integers as "int", short strings "embstr", the rest "raw")."""
    if value.__class__ is bytearray:
        return b"raw"
    size = len(value)
    if size <= 20 and parse_int(value) is not None:
        return b"int"
    return b"embstr" if size <= EMBSTR_LIMIT else b"raw"


# -- long double ---------------------------------------------------------------------------------

_SIGNIFICAND_BITS = 64
_MIN_NORMAL_EXP = -16382  # the smallest normal long double is 2**-16382
_OVERFLOW_BITS = 16384  # values of 2**16384 and above are infinite

INF = float("inf")

_DECIMAL = re.compile(rb"([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?")
_HEX = re.compile(
    rb"([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?"
)
_INFINITY = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)


def round_long_double(value: Fraction) -> Fraction | float:
    """``value`` rounded to the nearest long double (ties to even); +-INF on overflow."""
    if not value:
        return Fraction(0)
    negative = value < 0
    num, den = (-value.numerator if negative else value.numerator), value.denominator
    exp = num.bit_length() - den.bit_length()
    # Make 2**exp <= |value| < 2**(exp + 1).
    if (num << -exp if exp < 0 else num) < (den << exp if exp > 0 else den):
        exp -= 1
    if exp >= _OVERFLOW_BITS:
        return -INF if negative else INF
    shift = max(exp, _MIN_NORMAL_EXP) - (_SIGNIFICAND_BITS - 1)
    if shift >= 0:
        divisor = den << shift
        quotient, remainder = divmod(num, divisor)
    else:
        divisor = den
        quotient, remainder = divmod(num << -shift, divisor)
    twice = remainder * 2
    if twice > divisor or (twice == divisor and quotient & 1):
        quotient += 1
    if quotient.bit_length() + shift > _OVERFLOW_BITS:
        return -INF if negative else INF
    result = Fraction(quotient << shift) if shift >= 0 else Fraction(quotient, 1 << -shift)
    return -result if negative else result


def _digits_value(digits: bytes, base: int) -> int:
    # int() refuses very long decimal strings; convert in chunks.
    if len(digits) <= 4000:
        return int(digits, base)
    value = 0
    for start in range(0, len(digits), 4000):
        chunk = digits[start : start + 4000]
        value = value * base ** len(chunk) + int(chunk, base)
    return value


def _exponent(text: bytes | None) -> int | None:
    """A decimal exponent, or None when it is too large to matter (only its sign then counts)."""
    if not text:
        return 0
    sign = -1 if text[:1] == b"-" else 1
    digits = text.lstrip(b"+-").lstrip(b"0")
    if len(digits) > 9:
        return None
    return sign * int(digits or b"0")


def parse_long_double(data: bytes | bytearray) -> Fraction | float | None:
    """Redis's string2ld: the long double ``data`` spells, +-INF for "inf", None when invalid
    (not a complete number, NaN, overflow, or a nonzero value that underflows to zero)."""
    if not 0 < len(data) < MAX_LONG_DOUBLE_CHARS:
        return None
    data = bytes(data)
    match = _DECIMAL.fullmatch(data)
    if match is not None:
        sign, whole, fraction, only_fraction, exp_text = match.groups()
        if only_fraction is not None:
            whole, fraction = b"", only_fraction
        fraction = fraction or b""
        digits = (whole + fraction).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exponent = _exponent(exp_text)
        if exponent is None:
            return None  # astronomically large (overflow) or small (underflow to zero)
        exponent -= len(fraction)
        magnitude = exponent + len(digits)  # the value lies in [10**(magnitude-1), 10**magnitude)
        if magnitude > 4934 or magnitude < -4952:
            return None
        mantissa = _digits_value(digits, 10)
        exact = Fraction(mantissa * 10**exponent) if exponent >= 0 else Fraction(mantissa, 10**-exponent)
    else:
        match = _HEX.fullmatch(data)
        if match is None:
            match = _INFINITY.fullmatch(data)
            if match is None:
                return None
            return -INF if match.group(1) == b"-" else INF
        sign, whole, fraction, only_fraction, exp_text = match.groups()
        if only_fraction is not None:
            whole, fraction = b"", only_fraction
        fraction = fraction or b""
        digits = (whole + fraction).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exponent = _exponent(exp_text)
        if exponent is None:
            return None
        exponent -= 4 * len(fraction)
        mantissa = _digits_value(digits, 16)
        bits = mantissa.bit_length() + exponent
        if bits > _OVERFLOW_BITS + 1 or bits < -16500:
            return None
        exact = Fraction(mantissa << exponent) if exponent >= 0 else Fraction(mantissa, 1 << -exponent)
    rounded = round_long_double(exact)
    if rounded.__class__ is float or not rounded:
        return None
    return -rounded if sign == b"-" else rounded


def add_long_double(left: Fraction | float, right: Fraction | float) -> Fraction | None:
    """``left + right`` in long double arithmetic; None when the result is infinite or NaN."""
    if left.__class__ is float or right.__class__ is float:
        return None
    total = round_long_double(left + right)
    if total.__class__ is float:
        return None
    return total


_SCALE = 10**17
_CHUNK = 10**3000


def _decimal_text(number: int) -> bytes:
    # Python refuses to print integers of more than 4300 digits in one go.
    if number < _CHUNK:
        return b"%d" % number
    high, low = divmod(number, _CHUNK)
    return _decimal_text(high) + b"%03000d" % low


def format_long_double_human(value: Fraction) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare '.') removed, "-0" printed as "0"."""
    negative = value < 0
    num, den = abs(value.numerator), value.denominator
    quotient, remainder = divmod(num * _SCALE, den)
    twice = remainder * 2
    if twice > den or (twice == den and quotient & 1):
        quotient += 1
    whole, fraction = divmod(quotient, _SCALE)
    text = (_decimal_text(whole) + b".%017d" % fraction).rstrip(b"0")
    if text.endswith(b"."):
        text = text[:-1]
    if negative and text != b"0":
        text = b"-" + text
    return text


__all__ = [
    "EMBSTR_LIMIT",
    "INT64_MAX",
    "INT64_MIN",
    "SHARED_INTEGERS",
    "add_long_double",
    "format_long_double_human",
    "parse_int",
    "parse_long_double",
    "round_long_double",
    "string_encoding",
]
