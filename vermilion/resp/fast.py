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
# long long maxelements; redisReadTask **task; int tasks; int ridx; ...  hiredis-py's Reader
# object holds the redisReader* after its header. A redisReadTask starts with its int type.
_READER_POINTER = 2 * ctypes.sizeof(ctypes.c_void_p)
_MAXBUF = 136 + 3 * ctypes.sizeof(ctypes.c_size_t)
_MAXELEMENTS = _MAXBUF + ctypes.sizeof(ctypes.c_size_t)
_TASKS = _MAXELEMENTS + ctypes.sizeof(ctypes.c_longlong)
_TASK_COUNT = _TASKS + ctypes.sizeof(ctypes.c_void_p)
_RIDX = _TASK_COUNT + ctypes.sizeof(ctypes.c_int)
# hiredis's initial task stack, and its reply types used by the probe below
_STACK_SIZE = 9
_ARRAY = 2


def _reader_struct(reader: hiredis.Reader) -> int:
    return ctypes.c_void_p.from_address(id(reader) + _READER_POINTER).value or 0


def _layout_ok() -> bool:
    """Whether the offsets above are right for this hiredis: setmaxbuf() must show at _MAXBUF and
    hiredis's default maxelements ((1 << 32) - 1) at _MAXELEMENTS."""
    try:
        probe = hiredis.Reader()
        probe.setmaxbuf(987_654_321)
        pointer = _reader_struct(probe)
        if not pointer:
            return False
        maxbuf = ctypes.c_size_t.from_address(pointer + _MAXBUF).value
        maxelements = ctypes.c_longlong.from_address(pointer + _MAXELEMENTS).value
        return maxbuf == 987_654_321 and maxelements == (1 << 32) - 1
    except Exception:
        return False


def _idle_probe(reader: hiredis.Reader) -> tuple[ctypes.c_int, ctypes.c_int]:
    """Views of the reader's task index and of its root task's type (see ReaderIdle)."""
    pointer = _reader_struct(reader)
    tasks = ctypes.c_void_p.from_address(pointer + _TASKS).value
    root = ctypes.c_void_p.from_address(tasks).value
    return ctypes.c_int.from_address(pointer + _RIDX), ctypes.c_int.from_address(root)


def _task_layout_ok() -> bool:
    """Whether the task stack fields are where _idle_probe reads them: a fresh reader has 9 tasks
    and index -1, half an array leaves its root task typed as an array with a child current, and
    an array read to its end leaves the root untyped."""
    try:
        probe = hiredis.Reader()
        pointer = _reader_struct(probe)
        count = ctypes.c_int.from_address(pointer + _TASK_COUNT).value
        index, root_type = _idle_probe(probe)
        if count != _STACK_SIZE or index.value != -1:
            return False
        probe.feed(b"*2\r\n$3\r\nGET\r\n")
        if probe.gets() is not False or index.value != 1 or root_type.value != _ARRAY:
            return False
        probe.feed(b"$1\r\nk\r\n")
        if probe.gets() != [b"GET", b"k"] or probe.gets() is not False:
            return False
        return index.value == 0 and root_type.value == -1
    except Exception:
        return False


_CAPPABLE = _layout_ok()
_PROBEABLE = _CAPPABLE and _task_layout_ok()


def new_reader() -> hiredis.Reader:
    """A hiredis reader refusing multibulk counts above MAX_FAST_ELEMENTS (when the layout check
    passed; otherwise a plain reader)."""
    reader = hiredis.Reader()
    if _CAPPABLE:
        pointer = _reader_struct(reader)
        ctypes.c_longlong.from_address(pointer + _MAXELEMENTS).value = MAX_FAST_ELEMENTS
    return reader


class ReaderIdle:
    """Tells, once gets() has returned False, whether the reader holds no part of a request.

    The connection keeps the raw bytes of a request until hiredis has returned it whole (the
    exact parser needs them if hiredis turns out to read it differently from Redis); knowing
    that hiredis holds nothing lets it drop them without re-encoding the requests to find the
    boundary. hiredis holds nothing when its task index is -1 (a reply just completed, buffer
    empty) or 0 with the root task not yet typed (it looked for a new request and found no
    byte). Two reads of C ints; unavailable (None from ``for_reader``) if the layout differs.
    """

    __slots__ = ("reader", "index", "root_type")

    def __init__(self, reader: hiredis.Reader) -> None:
        self.reader = reader  # the views read its memory: it must outlive them
        self.index, self.root_type = _idle_probe(reader)

    @staticmethod
    def for_reader(reader: hiredis.Reader) -> ReaderIdle | None:
        return ReaderIdle(reader) if _PROBEABLE else None

    def holds_nothing(self) -> bool:
        index = self.index.value
        return index == -1 or (index == 0 and self.root_type.value == -1)


__all__ = ["new_reader", "ReaderIdle", "MAX_FAST_ELEMENTS"]
