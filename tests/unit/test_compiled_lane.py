"""The compiled connection lane (setup.py, vermilion/connection.pxd) and its pure-Python source.

The suite runs whichever lane the install produced; under CI that must be the compiled one, and
the source must still pass the tests that exercise the lane, run with VERMILION_PURE=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vermilion.connection

PACKAGE = Path(vermilion.connection.__file__).parent
ROOT = PACKAGE.parent

# The tests that exercise the lane: reads and requests in every shape, groups and run timing,
# suspending (blocking), output swapping (MULTI), output limits.
LANE_TESTS = [
    "tests/unit/test_connection.py",
    "tests/unit/test_compiled_lane.py",
    "tests/commands/test_single_request_reads.py",
    "tests/commands/test_run_groups.py",
    "tests/commands/test_run_timing.py",
    "tests/commands/test_blocking.py",
    "tests/integration/test_protocol.py",
]


def _pure_requested() -> bool:
    return os.environ.get("VERMILION_PURE", "") not in ("", "0")


def test_lane_is_the_one_asked_for() -> None:
    if _pure_requested():
        assert not vermilion.connection.COMPILED
        assert vermilion.connection.__file__.endswith("connection.py")
    elif os.environ.get("CI") == "true":
        # CI installs with a compiler at hand: a lane that silently failed to build (or a build
        # that no longer matches the source) must not pass for a working one.
        assert vermilion.connection.COMPILED, vermilion.connection.__file__
    elif not vermilion.connection.COMPILED:
        pytest.skip("no compiled lane in this install (no C compiler or Cython at install time)")
    else:
        from vermilion.connection import Client

        # The extension type: its fields are slots of the C struct, not Python attributes.
        assert type(Client.__dict__["out"]).__name__ == "getset_descriptor"


def _import_lane_from(tree: Path, **env: str) -> str:
    """Which file vermilion.connection comes from when imported from ``tree``."""
    result = subprocess.run(
        [sys.executable, "-c", "import vermilion.connection as c; print(c.__file__)"],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree), **env},
        capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


@pytest.mark.skipif(not vermilion.connection.COMPILED or _pure_requested(),
                    reason="needs the compiled lane")
def test_a_build_that_no_longer_matches_its_source_is_not_used(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(PACKAGE, tree / "vermilion", ignore=shutil.ignore_patterns("__pycache__"))
    assert not _import_lane_from(tree).endswith(".py")
    assert _import_lane_from(tree, VERMILION_PURE="1").endswith("connection.py")
    source = tree / "vermilion" / "connection.py"
    source.write_text(source.read_text() + "\n# edited after the build\n")
    assert _import_lane_from(tree).endswith("connection.py")
    (tree / "vermilion" / "connection.sha256").unlink()
    assert _import_lane_from(tree).endswith("connection.py")


@pytest.mark.skipif(_pure_requested(), reason="this is the run it starts")
def test_the_pure_lane_passes_the_lane_tests() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *LANE_TESTS],
        cwd=ROOT, env={**os.environ, "VERMILION_PURE": "1"}, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
