"""The compiled request path (setup.py, vermilion/compiled.py, the .pxd files) and its
pure-Python sources.

The suite runs whichever build the install produced; under CI that must be the compiled one, and
the sources must still pass the tests that exercise the compiled modules, run with
VERMILION_PURE=1.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vermilion.connection
from vermilion.compiled import MODULES, pure_requested

PACKAGE = Path(vermilion.connection.__file__).parent
ROOT = PACKAGE.parent

# The tests that exercise the compiled modules: reads and requests in every shape, groups and
# run timing, suspending (blocking), output swapping (MULTI), output limits, and the collection
# commands whose handlers are typed.
LANE_TESTS = [
    "tests/unit/test_connection.py",
    "tests/commands/test_lists.py",
    "tests/commands/test_sets.py",
    "tests/commands/test_hashes.py",
    "tests/commands/test_zsets.py",
    "tests/unit/test_compiled_lane.py",
    "tests/commands/test_single_request_reads.py",
    "tests/commands/test_run_groups.py",
    "tests/commands/test_run_timing.py",
    "tests/commands/test_blocking.py",
    "tests/integration/test_protocol.py",
]


def test_lane_is_the_one_asked_for() -> None:
    files = [importlib.import_module(name).__file__ for name in MODULES]
    if pure_requested():
        assert not vermilion.connection.COMPILED
        assert all(file.endswith(".py") for file in files), files
    elif os.environ.get("CI") == "true":
        # CI installs with a compiler at hand: a build that silently failed (or no longer
        # matches the sources) must not pass for a working one.
        assert vermilion.connection.COMPILED, vermilion.connection.__file__
        assert not any(file.endswith(".py") for file in files), files
    elif not vermilion.connection.COMPILED:
        pytest.skip("no compiled lane in this install (no C compiler or Cython at install time)")
    else:
        from vermilion.connection import Client

        # The extension type: its fields are slots of the C struct, not Python attributes.
        assert type(Client.__dict__["out"]).__name__ == "getset_descriptor"


def _import_lane_from(tree: Path, **env: str) -> list[str]:
    """Which files the compiled modules come from when imported from ``tree``."""
    result = subprocess.run(
        [sys.executable, "-c", "import importlib; from vermilion.compiled import MODULES; "
         "print(*(importlib.import_module(name).__file__ for name in MODULES))"],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree), **env},
        capture_output=True, text=True, check=True,
    )
    return result.stdout.split()


def _all_sources(files: list[str]) -> bool:
    return len(files) == len(MODULES) and all(file.endswith(".py") for file in files)


@pytest.mark.skipif(not vermilion.connection.COMPILED or pure_requested(),
                    reason="needs the compiled lane")
def test_a_build_that_no_longer_matches_its_source_is_not_used(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(PACKAGE, tree / "vermilion", ignore=shutil.ignore_patterns("__pycache__"))
    assert not any(file.endswith(".py") for file in _import_lane_from(tree))
    assert _all_sources(_import_lane_from(tree, VERMILION_PURE="1"))
    # One edited module turns them all to source: they cimport one another's types.
    source = tree / "vermilion" / "commands" / "lists.py"
    source.write_text(source.read_text() + "\n# edited after the build\n")
    assert _all_sources(_import_lane_from(tree))
    source.write_text(source.read_text().removesuffix("\n# edited after the build\n"))
    assert not any(file.endswith(".py") for file in _import_lane_from(tree))
    (tree / "vermilion" / "compiled.sha256").unlink()
    assert _all_sources(_import_lane_from(tree))


def test_no_typed_function_carries_a_decorator() -> None:
    """Cython silently drops the decorators of a function its .pxd declares cpdef (a handler's
    ``@command`` would vanish from the compiled build only): such functions register after
    their definition instead."""
    for name in MODULES:
        base = ROOT.joinpath(*name.split("."))
        typed = re.findall(r"^cp?def\s+(?:\w+\s+)?(\w+)\(", base.with_suffix(".pxd").read_text(), re.M)
        source = base.with_suffix(".py").read_text()
        for function in typed:
            match = re.search(rf"^((?:@.*\n)*)def {function}\(", source, re.M)
            assert match is not None, f"{name}.{function} is not a module-level function"
            assert not match.group(1), f"{name}.{function} is typed in the .pxd and decorated"


@pytest.mark.skipif(pure_requested(), reason="this is the run it starts")
def test_the_pure_lane_passes_the_lane_tests() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *LANE_TESTS],
        cwd=ROOT, env={**os.environ, "VERMILION_PURE": "1"}, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
