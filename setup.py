"""Build of the optional compiled request path; everything else is in pyproject.toml.

The modules listed in ``vermilion/compiled.py`` (the connection lane, the command table, the
database, the hot collection types and their commands) are compiled with Cython, typed by the
``.pxd`` beside each, when Cython and a C compiler are available. Without them, or if the build
fails, the package installs as plain Python and runs the same sources uncompiled: compiling is a
speed-up, never a requirement. Beside the compiled modules the build writes ``compiled.sha256``,
the digest of the sources it was built from; ``vermilion/__init__.py`` uses the sources instead
of a build that no longer matches them (an edited checkout with a stale in-place build).
"""

from __future__ import annotations

import os
import runpy
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
COMPILED = runpy.run_path(os.path.join(ROOT, "vermilion", "compiled.py"))


class OptionalBuildExt(build_ext):
    """Builds every compiled module or none; a failure leaves the pure-Python package, with a
    warning. Partial builds are useless: the modules cimport one another's types."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler, no headers: stay pure Python
            _warn(exc)  # no stamp: whatever was built is not used
            return
        if self.extensions:
            _write_stamp(os.path.dirname(self.get_ext_fullpath("vermilion.compiled")))

    def copy_extensions_to_source(self) -> None:
        # In-place builds (editable installs) are built in the build directory, then copied;
        # this runs only once every module has been built.
        super().copy_extensions_to_source()
        _write_stamp(os.path.join(ROOT, "vermilion"))


def _write_stamp(package_dir: str) -> None:
    with open(os.path.join(package_dir, COMPILED["STAMP"]), "w") as out:
        out.write(COMPILED["sources_digest"](ROOT) + "\n")


def _warn(exc: Exception) -> None:
    print(f"vermilion: the compiled request path was not built ({exc}); "
          "installing pure Python", file=sys.stderr)


def extensions() -> list:
    if COMPILED["pure_requested"]():
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    from setuptools import Extension

    modules = [Extension(name, [name.replace(".", "/") + ".py"]) for name in COMPILED["MODULES"]]
    try:
        return cythonize(
            modules,
            compiler_directives={
                "language_level": 3,
                # The sources' annotations are for readers and type checkers; the .pxd types them.
                "annotation_typing": False,
            },
            nthreads=os.cpu_count() or 1,
            quiet=True,
        )
    except Exception as exc:  # noqa: BLE001 - Cython refused a source: stay pure Python
        _warn(exc)
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
