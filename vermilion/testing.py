"""Helpers for running Vermilion inside a test suite, and the pytest plugin users get.

    def test_cache(vermilion_server):
        client = redis.Redis(port=vermilion_server.port)
        ...

``vermilion_server`` starts an in-process server on a free port once per test session and empties
it before each test that uses it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def run_in_server(server: Any, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Run ``fn`` on the server's event loop thread and return its result."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    server.loop.call_soon_threadsafe(runner)
    if not done.wait(timeout):
        raise TimeoutError("server loop did not run the call in time")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def flush_all(server: Any) -> None:
    def flush() -> None:
        for db in server.dbs:
            db.flush()

    run_in_server(server, flush)


def start_server(**options: Any) -> Any:
    """A started in-process server on a free port (``port=0``) with the given config options."""
    from . import commands  # noqa: F401  registers every command
    from .server import Server

    options.setdefault("port", 0)
    # No save points unless asked: a test server must not write dump.rdb into the working
    # directory (FLUSHALL saves when save points exist, as in Redis 7.0).
    options.setdefault("save", "")
    return Server(**options).start()


@pytest.fixture(scope="session")
def _vermilion_session_server() -> Iterator[Any]:
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def vermilion_server(_vermilion_session_server: Any) -> Any:
    """A running Vermilion server (``.port``), emptied before the test."""
    flush_all(_vermilion_session_server)
    return _vermilion_session_server
