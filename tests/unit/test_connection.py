"""The connection's request loop with a fake transport: any chunking gives the same replies,
and the bytes kept for exact re-parsing stay bounded."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from vermilion import commands  # noqa: F401
from vermilion.connection import Client
from vermilion.server import Server

from tests.resp_raw import encode_command


class FakeTransport:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def get_extra_info(self, name: str, default=None):
        return default

    def close(self) -> None:
        self.closed = True


def new_client() -> tuple[Client, FakeTransport]:
    server = Server()
    client = Client(server)
    transport = FakeTransport()
    client.connection_made(transport)
    return client, transport


REQUESTS = [
    (encode_command(("PING",)), b"+PONG\r\n"),
    (encode_command(("SET", "k", "v" * 300)), b"+OK\r\n"),
    (encode_command(("GET", "k")), b"$300\r\n" + b"v" * 300 + b"\r\n"),
    (encode_command(("PING", "x\r\ny")), b"$4\r\nx\r\ny\r\n"),
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(range(len(REQUESTS))), min_size=1, max_size=30), st.data())
def test_any_chunking_gives_the_same_replies(order, data):
    order = [1] + order  # the key exists before any GET
    stream = b"".join(REQUESTS[i][0] for i in order)
    expected = b"".join(REQUESTS[i][1] for i in order)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    client, transport = new_client()
    start = 0
    for cut in cuts + [len(stream)]:
        if cut > start:
            client.data_received(stream[start:cut])
            start = cut
        assert sum(len(c) for c in client.raw_pending) <= 400
    assert bytes(transport.data) == expected
    assert client.raw_pending == []


# hiredis reads an integer element where Redis demands a bulk string: the exact parser must take
# over at exactly this request, whatever part of the stream was already consumed.
MALFORMED = (b"*2\r\n$4\r\nECHO\r\n:5\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(range(len(REQUESTS))), min_size=1, max_size=12), st.data())
def test_any_chunking_hands_over_at_the_malformed_request(order, data):
    order = [1] + order
    stream = b"".join(REQUESTS[i][0] for i in order) + MALFORMED[0] + REQUESTS[0][0]
    expected = b"".join(REQUESTS[i][1] for i in order) + MALFORMED[1]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    client, transport = new_client()
    start = 0
    for cut in cuts + [len(stream)]:
        if cut > start and not transport.closed:
            client.data_received(stream[start:cut])
            start = cut
    assert bytes(transport.data) == expected
    assert transport.closed


def test_inline_after_multibulk_in_one_read():
    client, transport = new_client()
    client.data_received(encode_command(("PING",)) + b"PING\r\n" + encode_command(("PING", "a")))
    assert bytes(transport.data) == b"+PONG\r\n+PONG\r\n$1\r\na\r\n"


def test_huge_bulk_length_is_refused_at_once():
    client, transport = new_client()
    client.data_received(b"*2\r\n$3\r\nGET\r\n$1073741824\r\n")
    assert bytes(transport.data) == b"-ERR Protocol error: invalid bulk length\r\n"
    assert transport.closed


class BackedUpTransport(FakeTransport):
    """A socket the peer stopped reading: every write goes over the high-water mark."""

    def __init__(self, client: Client, buffered: int) -> None:
        super().__init__()
        self.client = client
        self.buffered = buffered
        self.aborted = False
        self.reading_paused = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.buffered += len(data)
        self.client.pause_writing()

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def abort(self) -> None:
        self.aborted = True

    def pause_reading(self) -> None:
        self.reading_paused = True


def test_a_lone_reply_written_at_the_turn_end_is_held_to_the_output_limits():
    # Server.flush_queued writes a client's one reply itself (the -P 1 case): the write that
    # takes the client over its limit must drop it, and one over the flow-control mark must
    # pause its reading, as Client.flush does.
    for limit, buffered, dropped in (("normal 1mb 0 0", 2 << 20, True),
                                     ("normal 0 0 0", 65 << 20, False)):
        server = Server()
        server.config.set("client-output-buffer-limit", limit)
        client = Client(server)
        transport = BackedUpTransport(client, buffered)
        client.connection_made(transport)
        client.out.append(b"+PONG\r\n")
        client.flush_pending = True
        server.flush_queue.append(client)
        server.flush_queued()
        assert bytes(transport.data) == b"+PONG\r\n"
        assert transport.aborted is dropped and client.closing is dropped
        assert transport.reading_paused is not dropped
        assert (server.stats.total_net_output_bytes, server.stats.total_writes_processed) == (7, 1)
