"""Vermilion: a Redis-compatible in-memory data server."""

import os
import sys

from .compiled import MODULES, STAMP, pure_requested, sources_digest

__version__ = "0.1.0"
# The Redis version whose behaviour Vermilion follows (INFO redis_version, HELLO, Lua).
REDIS_VERSION = "7.0.15"


def __getattr__(name: str):
    if name == "Server":
        from .server import Server

        return Server
    raise AttributeError(name)


class _Sources:
    """Import hook that loads the compiled modules (vermilion.compiled.MODULES) from their .py
    sources, ahead of a compiled build (setup.py) that is refused (VERMILION_PURE=1) or no
    longer matches the sources."""

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None):
        if name not in MODULES:
            return None
        from importlib.util import spec_from_file_location

        return spec_from_file_location(name, os.path.join(cls.root, *name.split(".")) + ".py")


def _compiled_build_usable() -> bool:
    """Whether the compiled modules beside the sources may be imported (all of them: they
    cimport one another's types, so a mix of compiled and source modules cannot work)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    bases = [os.path.join(_Sources.root, *name.split(".")) for name in MODULES]
    if not any(os.path.exists(base + suffix) for base in bases for suffix in EXTENSION_SUFFIXES):
        return True  # nothing compiled: the sources are what gets imported anyway
    if pure_requested():
        return False
    try:
        with open(os.path.join(_Sources.root, "vermilion", STAMP)) as stamp:
            built_from = stamp.read().strip()
        return built_from == sources_digest(_Sources.root)
    except OSError:
        return False


if not _compiled_build_usable():
    sys.meta_path.insert(0, _Sources)
