"""The modules setup.py compiles with Cython when it can, and the check that a build matches them.

Each module listed is plain Python that runs as it is; its ``.pxd`` beside it (Cython's augmenting
.pxd) gives the compiled build C types: extension types for the objects the request path reads on
every call (the client, the command, the database, the values LPUSH, SADD and HSET touch) and
typed locals in the hottest handlers. The compiled modules cimport one another's types, so they
are used all together or not at all: ``vermilion/__init__.py`` imports every one of them
from source when VERMILION_PURE is set or when the build's stamp no longer matches the sources.

This file is read by setup.py without importing the package (an isolated build cannot), so it
needs nothing beyond the standard library.
"""

from __future__ import annotations

import hashlib
import os

MODULES = (
    "vermilion.registry",
    "vermilion.connection",
    "vermilion.types.list",
    "vermilion.types.set",
    "vermilion.types.hash",
    "vermilion.keyspace.db",
    "vermilion.commands.lists",
    "vermilion.commands.sets",
    "vermilion.commands.hashes",
    "vermilion.commands.zsets",
)

# Written beside the compiled modules by the build: the digest of the sources it compiled.
STAMP = "compiled.sha256"


def pure_requested() -> bool:
    """VERMILION_PURE set (to anything but 0): no build at install time, sources at run time."""
    return os.environ.get("VERMILION_PURE", "") not in ("", "0")


def source_paths(root: str) -> list[str]:
    """The .py and .pxd of every compiled module, under ``root`` (the directory holding the
    ``vermilion`` package)."""
    paths = []
    for module in MODULES:
        base = os.path.join(root, *module.split("."))
        paths += [base + ".py", base + ".pxd"]
    return paths


def sources_digest(root: str) -> str:
    digest = hashlib.sha256()
    for path in source_paths(root):
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()
