"""List values.

A list is a Python ``list`` used as a double-ended array: the elements are ``items[head:]``, and
the slots before ``head`` are free room (None) for pushes at the head, so pushes and pops at both
ends are amortised O(1) while indexing (LINDEX, LSET) is O(1) and a range (LRANGE) is one slice.
The free room is at most about the list's own size: it is reclaimed when pops at the head leave
more than half the array unused.

Elements are kept ALREADY ENCODED as RESP bulk strings (``b"$3\\r\\nfoo\\r\\n"``): pops, LINDEX
and LRANGE send stored bytes as they are, and a push encodes its element once. Two elements are
equal exactly when their encodings are, so searches (LPOS, LREM, LINSERT) compare encoded bytes.
Code that needs the raw values (SORT, persistence, DUMP) uses ``values()`` /
``ListValue.from_values()``; ``encode_element`` / ``decode_element`` convert one element.

Redis 7.0 stores every list as a quicklist (a linked list of listpack nodes, small lists
included: the listpack encoding for small lists came in 7.2), so OBJECT ENCODING always answers
``quicklist``. The node size limit (``list-max-listpack-size``) and compression depth
(``list-compress-depth``) a list was created with are kept for DEBUG OBJECT.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import listpack

# Free room added in front when a push at the head finds none (at least this much).
_MIN_HEAD_ROOM = 8
# Pops at the head compact the array once this many slots are free and they are over half.
_COMPACT_AFTER = 64


def encode_element(value: bytes) -> bytes:
    """One list element as stored: its RESP bulk string."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def decode_element(encoded: bytes) -> bytes:
    """The raw value of a stored element."""
    return encoded[encoded.index(b"\n") + 1 : -2]


def clamp_range(start: int, end: int, length: int) -> tuple[int, int] | None:
    """Redis's inclusive index range: negative indexes count from the end; None when empty."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    if start < 0:
        start = 0
    if start > end or start >= length:
        return None
    if end >= length:
        end = length - 1
    return start, end


class ListValue:
    """A Redis list: encoded elements in ``items[head:]``, the list's head first."""

    __slots__ = ("items", "head", "fill", "compress_depth")

    TYPE_NAME = b"list"

    def __init__(self, fill: int = -2, compress_depth: int = 0,
                 items: Iterable[bytes] = ()) -> None:
        self.items: list[bytes | None] = list(items)
        self.head = 0
        self.fill = fill
        self.compress_depth = compress_depth

    @classmethod
    def from_values(cls, values: Iterable[bytes], fill: int = -2,
                    compress_depth: int = 0) -> ListValue:
        """A list of the given raw values, head first."""
        return cls(fill, compress_depth, [b"$%d\r\n%s\r\n" % (len(v), v) for v in values])

    def __len__(self) -> int:
        return len(self.items) - self.head

    def encoding(self) -> bytes:
        return b"quicklist"

    def copy(self) -> ListValue:
        return ListValue(self.fill, self.compress_depth, self.items[self.head :])

    def encoded(self) -> list[bytes]:
        """A copy of the encoded elements, head first."""
        return self.items[self.head :]

    def values(self) -> Iterator[bytes]:
        """The raw values, head first."""
        items = self.items
        for index in range(self.head, len(items)):
            encoded = items[index]
            yield encoded[encoded.index(b"\n") + 1 : -2]

    # -- ends --------------------------------------------------------------------------------

    def push_head(self, encoded: bytes) -> None:
        head = self.head
        if not head:
            room = max(_MIN_HEAD_ROOM, len(self.items))
            self.items[:0] = [None] * room
            head = room
        head -= 1
        self.items[head] = encoded
        self.head = head

    def push_head_many(self, encoded: list[bytes]) -> None:
        """Push each of ``encoded`` at the head in turn (the last one ends up first)."""
        encoded = encoded[::-1]
        head = self.head
        if head < len(encoded):
            room = max(_MIN_HEAD_ROOM, len(self.items), len(encoded))
            self.items[:0] = [None] * room
            head += room
        self.items[head - len(encoded) : head] = encoded
        self.head = head - len(encoded)

    def pop_head(self) -> bytes:
        items = self.items
        head = self.head
        element = items[head]
        items[head] = None
        head += 1
        if head >= _COMPACT_AFTER and head * 2 > len(items):
            del items[:head]
            head = 0
        self.head = head
        return element

    def pop_many(self, from_head: bool, count: int) -> list[bytes]:
        """Pop ``count`` elements (at most all) from one end, in popping order."""
        items = self.items
        head = self.head
        count = min(count, len(items) - head)
        if from_head:
            end = head + count
            popped = items[head:end]
            if end == len(items):
                self.clear()
                return popped
            items[head:end] = [None] * count
            if end >= _COMPACT_AFTER and end * 2 > len(items):
                del items[:end]
                end = 0
            self.head = end
            return popped
        popped = items[len(items) - count :]
        del items[len(items) - count :]
        popped.reverse()
        if len(items) == head:
            self.clear()
        return popped

    def clear(self) -> None:
        self.items = []
        self.head = 0

    # -- positions ---------------------------------------------------------------------------

    def encoded_range(self, start: int, end: int) -> list[bytes]:
        """Encoded elements ``start..end`` (inclusive, already clamped)."""
        head = self.head
        return self.items[head + start : head + end + 1]

    def index_of(self, encoded: bytes) -> int:
        """Position of the first element equal to ``encoded``, or -1."""
        try:
            return self.items.index(encoded, self.head) - self.head
        except ValueError:
            return -1

    def insert(self, index: int, encoded: bytes) -> None:
        """Insert before position ``index`` (0 <= index <= length)."""
        if index == 0:
            self.push_head(encoded)
        else:
            self.items.insert(self.head + index, encoded)

    def keep_range(self, start: int, end: int) -> None:
        """Drop everything outside ``start..end`` (inclusive, already clamped)."""
        head = self.head
        self.items = self.items[head + start : head + end + 1]
        self.head = 0

    def replace_all(self, encoded: list[bytes]) -> None:
        self.items = encoded
        self.head = 0

    # -- DEBUG OBJECT ------------------------------------------------------------------------

    def _nodes(self) -> list[list[bytes]]:
        """The quicklist nodes of this list as Redis fills them when it is built by pushes at
        the tail: each node takes elements while the size limit allows."""
        return listpack.quicklist_nodes(list(self.values()), listpack.clamp_fill(self.fill))

    def serialized_length(self) -> int:
        """Bytes RDB spends on the value: the node count, then each node's container type and
        its listpack (LZF-compressed when that helps), as Redis's rdbSaveObject writes them."""
        nodes = self._nodes()
        total = listpack.rdb_length_size(len(nodes))
        for node in nodes:
            total += 1 + listpack.rdb_string_size(listpack.listpack_bytes(node))
        return total

    def debug_object_extra(self) -> str:
        nodes = self._nodes()
        count = len(self)
        uncompressed = sum(listpack.listpack_size(node) for node in nodes)
        average = count / len(nodes) if nodes else 0.0
        return (
            f" ql_nodes:{len(nodes)} ql_avg_node:{average:.2f}"
            f" ql_listpack_max:{listpack.clamp_fill(self.fill)}"
            f" ql_compressed:{1 if self.compress_depth else 0} ql_uncompressed_size:{uncompressed}"
        )


__all__ = ["ListValue", "clamp_range", "decode_element", "encode_element"]
