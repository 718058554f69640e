"""Vermilion: a Redis-compatible in-memory data server."""

import os
import sys

__version__ = "0.1.0"
# The Redis version whose behaviour Vermilion follows (INFO redis_version, HELLO, Lua).
REDIS_VERSION = "7.0.15"


def __getattr__(name: str):
    if name == "Server":
        from .server import Server

        return Server
    raise AttributeError(name)


class _SourceLane:
    """Import hook that loads vermilion.connection from its .py source, ahead of a compiled
    build (setup.py) that is refused (VERMILION_PURE=1) or no longer matches the source."""

    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "connection.py")

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None):
        if name != "vermilion.connection":
            return None
        from importlib.util import spec_from_file_location

        return spec_from_file_location(name, cls.source)


def _compiled_lane_usable() -> bool:
    """Whether a compiled connection lane beside the source may be imported."""
    from importlib.machinery import EXTENSION_SUFFIXES

    here = os.path.dirname(_SourceLane.source)
    if not any(os.path.exists(os.path.join(here, "connection" + suffix)) for suffix in EXTENSION_SUFFIXES):
        return True  # nothing compiled: the source is what gets imported anyway
    if os.environ.get("VERMILION_PURE", "") not in ("", "0"):
        return False
    import hashlib

    digest = hashlib.sha256()
    try:
        for name in ("connection.py", "connection.pxd"):
            with open(os.path.join(here, name), "rb") as source:
                digest.update(source.read())
        with open(os.path.join(here, "connection.sha256")) as stamp:
            built_from = stamp.read().strip()
    except OSError:
        return False
    return built_from == digest.hexdigest()


if not _compiled_lane_usable():
    sys.meta_path.insert(0, _SourceLane)
