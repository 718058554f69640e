"""The hiredis reader of the connection's fast path, with a cap on multibulk counts.

hiredis allocates a request's whole argument list when it reads the ``*<count>`` header, and
freeing a partly filled list visits every slot: a client sending ``*2147483647`` and one element,
then hanging up, froze the server for about 30 seconds (measured: 33 s to free one such reader).
hiredis has a limit for this (``maxelements``) that hiredis-py does not expose, so it is set here
on the C reader, after checking the structure's layout on a probe reader. A count above the cap
makes hiredis raise, and the connection hands the request to the exact parser, which accepts
counts up to Redis's INT_MAX and grows its list only as elements arrive.
"""

from __future__ import annotations

import ctypes

import hiredis

MAX_FAST_ELEMENTS = 1024 * 1024

# redisReader (hiredis read.h): int err; char errstr[128]; char *buf; size_t pos, len, maxbuf;
# long long maxelements; ...  hiredis-py's Reader object holds the redisReader* after its header.
_READER_POINTER = 2 * ctypes.sizeof(ctypes.c_void_p)
_MAXBUF = 136 + 3 * ctypes.sizeof(ctypes.c_size_t)
_MAXELEMENTS = _MAXBUF + ctypes.sizeof(ctypes.c_size_t)


def _layout_ok() -> bool:
    """Whether the offsets above are right for this hiredis: setmaxbuf() must show at _MAXBUF and
    hiredis's default maxelements ((1 << 32) - 1) at _MAXELEMENTS."""
    try:
        probe = hiredis.Reader()
        probe.setmaxbuf(987_654_321)
        pointer = ctypes.c_void_p.from_address(id(probe) + _READER_POINTER).value
        if not pointer:
            return False
        maxbuf = ctypes.c_size_t.from_address(pointer + _MAXBUF).value
        maxelements = ctypes.c_longlong.from_address(pointer + _MAXELEMENTS).value
        return maxbuf == 987_654_321 and maxelements == (1 << 32) - 1
    except Exception:
        return False


_CAPPABLE = _layout_ok()


def new_reader() -> hiredis.Reader:
    """A hiredis reader refusing multibulk counts above MAX_FAST_ELEMENTS (when the layout check
    passed; otherwise a plain reader)."""
    reader = hiredis.Reader()
    if _CAPPABLE:
        pointer = ctypes.c_void_p.from_address(id(reader) + _READER_POINTER).value
        ctypes.c_longlong.from_address(pointer + _MAXELEMENTS).value = MAX_FAST_ELEMENTS
    return reader


__all__ = ["new_reader", "MAX_FAST_ELEMENTS"]
