"""The embedding API: a server started in-process on port 0, used and stopped again."""

from __future__ import annotations

import asyncio

import redis

from vermilion.testing import start_server


def test_start_use_stop_from_a_thread():
    server = start_server()
    try:
        assert server.port > 0
        client = redis.Redis(port=server.port)
        assert client.set("a", "1")
        assert client.get("a") == b"1"
        client.close()
    finally:
        server.stop()
    try:
        redis.Redis(port=server.port, socket_connect_timeout=0.5).ping()
    except redis.ConnectionError:
        pass
    else:
        raise AssertionError("server still answering after stop()")


def test_two_servers_are_independent():
    first, second = start_server(), start_server()
    try:
        redis.Redis(port=first.port).set("k", "first")
        assert redis.Redis(port=second.port).get("k") is None
    finally:
        first.stop()
        second.stop()


def test_context_manager():
    from vermilion import commands  # noqa: F401
    from vermilion.server import Server

    with Server(port=0) as server:
        assert redis.Redis(port=server.port).ping()


def test_serving_inside_an_existing_event_loop():
    from vermilion import commands  # noqa: F401
    from vermilion.server import Server

    async def scenario() -> bytes:
        server = Server(port=0)
        await server.listen()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"*1\r\n$4\r\nPING\r\n")
        reply = await reader.readline()
        writer.close()
        await server.close()
        return reply

    assert asyncio.run(scenario()) == b"+PONG\r\n"


def test_pytest_fixture_is_provided(pytester):
    pytester.makepyfile(
        """
        import redis

        def test_uses_fixture(vermilion_server):
            client = redis.Redis(port=vermilion_server.port)
            client.set("x", "1")
            assert client.get("x") == b"1"

        def test_starts_empty(vermilion_server):
            assert redis.Redis(port=vermilion_server.port).get("x") is None
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)
