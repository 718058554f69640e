"""Build of the optional compiled connection lane; everything else is in pyproject.toml.

``vermilion/connection.py`` is compiled with Cython (typed by ``connection.pxd``) when Cython and
a C compiler are available. Without them, or if the build fails, the package installs as plain
Python and runs the same source uncompiled: the lane is a speed-up, never a requirement.
Beside the compiled module the build writes ``connection.sha256``, the digest of the sources it
was built from; ``vermilion/__init__.py`` uses the source instead of a build that no longer
matches it (an edited checkout with a stale in-place build).
"""

from __future__ import annotations

import hashlib
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

LANE_SOURCES = ("vermilion/connection.py", "vermilion/connection.pxd")


def lane_digest(root: str) -> str:
    digest = hashlib.sha256()
    for name in LANE_SOURCES:
        with open(os.path.join(root, name), "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()


class OptionalBuildExt(build_ext):
    """Builds the lane if it can; a failure leaves the pure-Python package, with a warning."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler, no headers: stay pure Python
            _warn(exc)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            _warn(exc)
            return
        self.lane_built = True
        _write_stamp(os.path.dirname(self.get_ext_fullpath(ext.name)))

    def copy_extensions_to_source(self) -> None:
        # In-place builds (editable installs) are built in the build directory, then copied.
        if getattr(self, "lane_built", False):
            super().copy_extensions_to_source()
            _write_stamp(os.path.join(ROOT, "vermilion"))


ROOT = os.path.dirname(os.path.abspath(__file__))


def _write_stamp(package_dir: str) -> None:
    with open(os.path.join(package_dir, "connection.sha256"), "w") as out:
        out.write(lane_digest(ROOT) + "\n")


def _warn(exc: Exception) -> None:
    print(f"vermilion: the compiled connection lane was not built ({exc}); "
          "installing the pure-Python lane", file=sys.stderr)


def extensions() -> list:
    if os.environ.get("VERMILION_PURE", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    from setuptools import Extension

    try:
        return cythonize(
            [Extension("vermilion.connection", ["vermilion/connection.py"])],
            compiler_directives={
                "language_level": 3,
                # The source's annotations are for readers and type checkers; the .pxd types it.
                "annotation_typing": False,
            },
            quiet=True,
        )
    except Exception as exc:  # noqa: BLE001 - Cython refused the source: stay pure Python
        _warn(exc)
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
