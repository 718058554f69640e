"""cjson (lua-cjson 2.1.0 as Redis bundles it): encode, decode, the configuration functions."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..engine import _STRTOD, NULL, Builtin, LuaRaise, lua_type_name, number_text, to_number
from .common import INT_MAX

if TYPE_CHECKING:
    from ..engine import LuaEngine


_ESCAPES = {
    0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0C: b"\\f", 0x0D: b"\\r",
    0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x7F: b"\\u007f",
}
_CHAR2ESCAPE: list[bytes] = []
for _code in range(256):
    if _code in _ESCAPES:
        _CHAR2ESCAPE.append(_ESCAPES[_code])
    elif _code < 0x20:
        _CHAR2ESCAPE.append(b"\\u%04x" % _code)
    else:
        _CHAR2ESCAPE.append(bytes((_code,)))
_NEEDS_ESCAPE = bytes(code for code in range(256) if _CHAR2ESCAPE[code] != bytes((code,)))

_T_OBJ_BEGIN, _T_OBJ_END, _T_ARR_BEGIN, _T_ARR_END, _T_STRING, _T_NUMBER, _T_BOOLEAN = range(7)
_T_NULL, _T_COLON, _T_COMMA, _T_END, _T_WHITESPACE, _T_ERROR, _T_UNKNOWN = range(7, 14)
_TOKEN_NAMES = [
    "T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER",
    "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
]
_CH2TOKEN = [_T_ERROR] * 256
_CH2TOKEN[0] = _T_END
for _ch in b" \t\r\n":
    _CH2TOKEN[_ch] = _T_WHITESPACE
for _ch, _tok in zip(b"{}[],:", (_T_OBJ_BEGIN, _T_OBJ_END, _T_ARR_BEGIN, _T_ARR_END, _T_COMMA, _T_COLON)):
    _CH2TOKEN[_ch] = _tok
for _ch in b'fiInNt"+-0123456789':
    _CH2TOKEN[_ch] = _T_UNKNOWN
_ESCAPE2CHAR = {
    ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b", ord("t"): b"\t",
    ord("n"): b"\n", ord("f"): b"\f", ord("r"): b"\r",
}


class _JsonError(Exception):
    """A decode error: the message luaL_error gets."""


class CJson:
    """One cjson module instance with its configuration (cjson.new() makes another)."""

    def __init__(self, engine: LuaEngine) -> None:
        self.engine = engine
        self.encode_sparse_convert = 0
        self.encode_sparse_ratio = 2
        self.encode_sparse_safe = 10
        self.encode_max_depth = 1000
        self.decode_max_depth = 1000
        self.encode_number_precision = 14
        self.encode_keep_buffer = 1
        self.encode_invalid_numbers = 0
        self.decode_invalid_numbers = 1

    def functions(self) -> dict[bytes, Callable]:
        return {
            b"encode": self.encode,
            b"decode": self.decode,
            b"encode_sparse_array": self.cfg_encode_sparse_array,
            b"encode_max_depth": self.cfg_encode_max_depth,
            b"decode_max_depth": self.cfg_decode_max_depth,
            b"encode_number_precision": self.cfg_encode_number_precision,
            b"encode_keep_buffer": self.cfg_encode_keep_buffer,
            b"encode_invalid_numbers": self.cfg_encode_invalid_numbers,
            b"decode_invalid_numbers": self.cfg_decode_invalid_numbers,
            b"new": self.new,
        }

    def new(self, *args: Any) -> Any:
        instance = CJson(self.engine)
        runtime = self.engine.runtime
        table = runtime.table_from({key: Builtin(fn) for key, fn in instance.functions().items()})
        table[b"null"] = NULL
        table[b"_NAME"] = b"cjson"
        table[b"_VERSION"] = b"2.1.0"
        return table

    # -- configuration ----------------------------------------------------------------------------

    def _arg_init(self, args: tuple, count: int) -> list:
        if len(args) > count:
            raise self.engine.arg_error(count + 1, b"found too many arguments")
        return list(args) + [None] * (count - len(args))

    def _integer_option(self, args: list, index: int, name: str, low: int, high: int) -> int:
        value = args[index - 1]
        if value is not None:
            number = to_number(value)
            if number is None:
                raise self.engine.type_error(index, b"number", tuple(args))
            number = int(number) if -(2**63) <= number < 2**63 else -(2**63)
            if not low <= number <= high:
                raise self.engine.arg_error(
                    1, b"expected integer between %d and %d" % (low, high)
                )
            setattr(self, name, number)
        return getattr(self, name)

    def _enum_option(self, args: list, index: int, name: str, options: list[bytes] | None,
                     bool_true: int) -> Any:
        if options is None:
            options = [b"off", b"on"]
            bool_true = 1
        value = args[index - 1]
        if value is not None:
            if bool_true and value.__class__ is bool:
                setattr(self, name, int(value) * bool_true)
            else:
                setattr(self, name, self._check_option(args, index, options))
        setting = getattr(self, name)
        if bool_true and (setting == 0 or setting == bool_true):
            return bool(setting)
        return options[setting]

    def _check_option(self, args: list, index: int, options: list[bytes]) -> int:
        value = args[index - 1]
        cls = value.__class__
        if cls is bytes:
            text = value
        elif cls is int or cls is float:
            text = number_text(float(value))
        else:
            raise self.engine.type_error(index, b"string", tuple(args))
        text = text.split(b"\0", 1)[0]
        if text in options:
            return options.index(text)
        raise self.engine.arg_error(index, b"invalid option '%s'" % text)

    def cfg_encode_sparse_array(self, *args: Any) -> tuple:
        values = self._arg_init(args, 3)
        convert = self._enum_option(values, 1, "encode_sparse_convert", None, 1)
        ratio = self._integer_option(values, 2, "encode_sparse_ratio", 0, INT_MAX)
        safe = self._integer_option(values, 3, "encode_sparse_safe", 0, INT_MAX)
        return convert, ratio, safe

    def cfg_encode_max_depth(self, *args: Any) -> int:
        values = self._arg_init(args, 1)
        return self._integer_option(values, 1, "encode_max_depth", 1, INT_MAX)

    def cfg_decode_max_depth(self, *args: Any) -> int:
        values = self._arg_init(args, 1)
        return self._integer_option(values, 1, "decode_max_depth", 1, INT_MAX)

    def cfg_encode_number_precision(self, *args: Any) -> int:
        values = self._arg_init(args, 1)
        return self._integer_option(values, 1, "encode_number_precision", 1, 14)

    def cfg_encode_keep_buffer(self, *args: Any) -> Any:
        values = self._arg_init(args, 1)
        return self._enum_option(values, 1, "encode_keep_buffer", None, 1)

    def cfg_encode_invalid_numbers(self, *args: Any) -> Any:
        values = self._arg_init(args, 1)
        return self._enum_option(values, 1, "encode_invalid_numbers", [b"off", b"on", b"null"], 1)

    def cfg_decode_invalid_numbers(self, *args: Any) -> Any:
        values = self._arg_init(args, 1)
        return self._enum_option(values, 1, "decode_invalid_numbers", None, 1)

    # -- encoding ---------------------------------------------------------------------------------

    def encode(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise self.engine.arg_error(1, b"expected 1 argument")
        out: list[bytes] = []
        self._append(args[0], 0, out)
        return b"".join(out)

    def _fail(self, type_name: str, reason: bytes) -> LuaRaise:
        return self.engine.c_error(b"Cannot serialise %s: %s" % (type_name.encode(), reason))

    def _append(self, value: Any, depth: int, out: list[bytes]) -> None:
        cls = value.__class__
        if cls is bytes:
            out.append(_json_string(value))
        elif cls is bool:
            out.append(b"true" if value else b"false")
        elif cls is int or cls is float:
            out.append(self._number(float(value)))
        elif value is None or value is NULL:
            out.append(b"null")
        else:
            kind = lua_type_name(value)
            if kind != "table":
                raise self._fail(kind, b"type not supported")
            depth += 1
            if depth > self.encode_max_depth:
                raise self.engine.c_error(b"Cannot serialise, excessive nesting (%d)" % depth)
            length = self._array_length(value)
            if length > 0:
                out.append(b"[")
                for index in range(1, length + 1):
                    if index > 1:
                        out.append(b",")
                    self._append_entry(value, index, value[index], depth, out)
                out.append(b"]")
            else:
                out.append(b"{")
                first = True
                for key, item in value.items():
                    if not first:
                        out.append(b",")
                    first = False
                    key_cls = key.__class__
                    if key_cls is bytes:
                        out.append(_json_string(key))
                    elif key_cls is int or key_cls is float:
                        out.append(b'"' + self._number(float(key)) + b'"')
                    else:
                        raise self._fail(lua_type_name(key), b"table key must be a number or string")
                    out.append(b":")
                    self._append_entry(value, key, item, depth, out)
                out.append(b"}")

    def _append_entry(self, table: Any, key: Any, item: Any, depth: int, out: list[bytes]) -> None:
        """``item``, found at ``table[key]``. lupa hands Lua numbers with an integral value to
        Python as ints, which have no negative zero: a 0 is checked in Lua, and cjson writes -0
        as "-0"."""
        if item.__class__ is int and item == 0:
            engine = self.engine
            test = engine.negative_zero_test
            if test is None:
                test = engine.negative_zero_test = engine.runtime.eval(
                    "function(t, k) local v = t[k] return v == 0 and 1 / v < 0 end")
            if test(table, key):
                out.append(b"-0")
                return
        self._append(item, depth, out)

    def _array_length(self, table: Any) -> int:
        """lua_array_length: the array size, 0 (an object) or the sparse-array error."""
        largest = 0
        items = 0
        for key in table.keys():
            cls = key.__class__
            if (cls is int or cls is float) and key:
                number = float(key)
                if math.floor(number) == number and number >= 1:
                    if number > largest:
                        largest = number
                    items += 1
                    continue
            return 0
        ratio = self.encode_sparse_ratio
        if ratio > 0 and largest > items * ratio and largest > self.encode_sparse_safe:
            if not self.encode_sparse_convert:
                raise self._fail("table", b"excessively sparse array")
            return 0
        return int(largest)

    def _number(self, number: float) -> bytes:
        if math.isinf(number) or number != number:
            mode = self.encode_invalid_numbers
            if mode == 0:
                raise self._fail("number", b"must not be NaN or Inf")
            if mode == 1:
                if number != number:
                    return b"NaN"
                return b"-Infinity" if number < 0 else b"Infinity"
            return b"null"
        return _format_g(number, self.encode_number_precision)

    # -- decoding ---------------------------------------------------------------------------------

    def decode(self, *args: Any) -> Any:
        engine = self.engine
        if len(args) != 1:
            raise engine.arg_error(1, b"expected 1 argument")
        data = engine.check_string(args, 1)
        if len(data) >= 2 and (not data[0] or not data[1]):
            raise engine.c_error(b"JSON parser does not support UTF-16 or UTF-32")
        parser = _JsonParser(self, data)
        try:
            token = parser.next_token()
            value = parser.value(token)
            token = parser.next_token()
            if token[0] != _T_END:
                parser.throw("the end", token)
        except _JsonError as exc:
            raise engine.c_error(exc.args[0]) from None
        return value


def _format_g(number: float, precision: int) -> bytes:
    return b"%.*g" % (precision, number)


def _json_string(value: bytes) -> bytes:
    if not value.translate(None, _NEEDS_ESCAPE) == value:
        value = b"".join([_CHAR2ESCAPE[byte] for byte in value])
    return b'"' + value + b'"'


class _JsonParser:
    def __init__(self, cjson: CJson, data: bytes) -> None:
        self.cjson = cjson
        self.engine = cjson.engine
        # The C parser reads a NUL-terminated string.
        self.data = data + b"\0"
        self.pos = 0
        self.depth = 0

    def throw(self, expected: str, token: tuple) -> None:
        found = token[2] if token[0] == _T_ERROR else _TOKEN_NAMES[token[0]].encode()
        raise _JsonError(b"Expected %s but found %s at character %d" % (expected.encode(), found, token[1] + 1))

    def next_token(self) -> tuple:
        """(type, index, value)."""
        data = self.data
        while True:
            ch = data[self.pos]
            kind = _CH2TOKEN[ch]
            if kind != _T_WHITESPACE:
                break
            self.pos += 1
        index = self.pos
        if kind == _T_ERROR:
            return (_T_ERROR, index, b"invalid token")
        if kind == _T_END:
            return (_T_END, index, None)
        if kind != _T_UNKNOWN:
            self.pos += 1
            return (kind, index, None)
        if ch == 34:  # "
            return self.string()
        if ch == 45 or 48 <= ch <= 57:
            if not self.cjson.decode_invalid_numbers and self.invalid_number():
                return (_T_ERROR, index, b"invalid number")
            return self.number()
        if data.startswith(b"true", self.pos):
            self.pos += 4
            return (_T_BOOLEAN, index, True)
        if data.startswith(b"false", self.pos):
            self.pos += 5
            return (_T_BOOLEAN, index, False)
        if data.startswith(b"null", self.pos):
            self.pos += 4
            return (_T_NULL, index, None)
        if self.cjson.decode_invalid_numbers and self.invalid_number():
            return self.number()
        return (_T_ERROR, index, b"invalid token")

    def invalid_number(self) -> bool:
        data = self.data
        p = self.pos
        if data[p] == 43:  # +
            return True
        if data[p] == 45:  # -
            p += 1
        if data[p] == 48:  # 0
            following = data[p + 1]
            return (following | 0x20) == 0x78 or 48 <= following <= 57
        if data[p] <= 57:
            return False
        head = data[p : p + 3].lower()
        return head in (b"inf", b"nan")

    def number(self) -> tuple:
        index = self.pos
        value, length = _strtod(self.data, self.pos)
        if length == 0:
            return (_T_ERROR, index, b"invalid number")
        self.pos += length
        return (_T_NUMBER, index, value)

    def string(self) -> tuple:
        data = self.data
        start = self.pos
        self.pos += 1
        out = bytearray()
        while True:
            ch = data[self.pos]
            if ch == 34:
                break
            if ch == 0:
                return (_T_ERROR, self.pos, b"unexpected end of string")
            if ch == 92:  # backslash
                code = data[self.pos + 1]
                if code == 117:  # u
                    if self.unicode_escape(out):
                        continue
                    return (_T_ERROR, self.pos, b"invalid unicode escape code")
                translated = _ESCAPE2CHAR.get(code)
                if translated is None:
                    return (_T_ERROR, self.pos, b"invalid escape code")
                out += translated
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        self.pos += 1
        return (_T_STRING, start, bytes(out))

    def unicode_escape(self, out: bytearray) -> bool:
        data = self.data
        codepoint = _hex4(data, self.pos + 2)
        if codepoint < 0:
            return False
        length = 6
        if codepoint & 0xF800 == 0xD800:
            if codepoint & 0x400:
                return False
            if data[self.pos + 6] != 92 or data[self.pos + 7] != 117:
                return False
            low = _hex4(data, self.pos + 8)
            if low < 0 or low & 0xFC00 != 0xDC00:
                return False
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
            length = 12
        encoded = _utf8(codepoint)
        if not encoded:
            return False
        out += encoded
        self.pos += length
        return True

    def descend(self) -> None:
        self.depth += 1
        if self.depth > self.cjson.decode_max_depth:
            raise _JsonError(
                b"Found too many nested data structures (%d) at character %d" % (self.depth, self.pos)
            )

    def value(self, token: tuple) -> Any:
        kind = token[0]
        if kind == _T_STRING or kind == _T_NUMBER or kind == _T_BOOLEAN:
            return token[2]
        if kind == _T_NULL:
            return NULL
        if kind == _T_OBJ_BEGIN:
            return self.object()
        if kind == _T_ARR_BEGIN:
            return self.array()
        self.throw("value", token)

    def object(self) -> Any:
        self.descend()
        table = self.engine.new_table()
        token = self.next_token()
        if token[0] == _T_OBJ_END:
            self.depth -= 1
            return table
        while True:
            if token[0] != _T_STRING:
                self.throw("object key string", token)
            key = token[2]
            token = self.next_token()
            if token[0] != _T_COLON:
                self.throw("colon", token)
            token = self.next_token()
            table[key] = self.value(token)
            token = self.next_token()
            if token[0] == _T_OBJ_END:
                self.depth -= 1
                return table
            if token[0] != _T_COMMA:
                self.throw("comma or object end", token)
            token = self.next_token()

    def array(self) -> Any:
        self.descend()
        table = self.engine.new_table()
        token = self.next_token()
        if token[0] == _T_ARR_END:
            self.depth -= 1
            return table
        index = 1
        while True:
            table[index] = self.value(token)
            token = self.next_token()
            if token[0] == _T_ARR_END:
                self.depth -= 1
                return table
            if token[0] != _T_COMMA:
                self.throw("comma or array end", token)
            token = self.next_token()
            index += 1


def _hex4(data: bytes, pos: int) -> int:
    chunk = data[pos : pos + 4]
    if len(chunk) < 4 or any(byte not in b"0123456789abcdefABCDEF" for byte in chunk):
        return -1
    return int(chunk, 16)


def _utf8(codepoint: int) -> bytes:
    if codepoint <= 0x7F:
        return bytes((codepoint,))
    if codepoint <= 0x7FF:
        return bytes((0xC0 | (codepoint >> 6), 0x80 | (codepoint & 0x3F)))
    if codepoint <= 0xFFFF:
        return bytes((0xE0 | (codepoint >> 12), 0x80 | ((codepoint >> 6) & 0x3F), 0x80 | (codepoint & 0x3F)))
    if codepoint <= 0x1FFFFF:
        return bytes((
            0xF0 | (codepoint >> 18), 0x80 | ((codepoint >> 12) & 0x3F),
            0x80 | ((codepoint >> 6) & 0x3F), 0x80 | (codepoint & 0x3F),
        ))
    return b""


def _strtod(data: bytes, pos: int) -> tuple[float, int]:
    """C strtod at ``pos``: (value, bytes consumed; 0 when nothing parses)."""
    found = _STRTOD.match(data, pos)
    if found is None:
        return 0.0, 0
    text = found.group(0)
    stripped = text.lstrip(b" \t\n\v\f\r")
    body = stripped.lstrip(b"+-")
    negative = stripped.startswith(b"-")
    lowered = body.lower()
    if lowered.startswith(b"0x"):
        digits = lowered[2:]
        if b"p" in digits or b"." in digits:
            value = float.fromhex(lowered.decode())
        else:
            value = float(int(digits, 16))
    elif lowered.startswith(b"nan"):
        value = math.nan
    else:
        value = float(lowered)
    return (-value if negative else value), len(text)
