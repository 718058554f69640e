"""Vermilion: a Redis-compatible in-memory data server."""

__version__ = "0.1.0"
# The Redis version whose behaviour Vermilion follows (INFO redis_version, HELLO, Lua).
REDIS_VERSION = "7.0.15"


def __getattr__(name: str):
    if name == "Server":
        from .server import Server

        return Server
    raise AttributeError(name)
