"""Replay scenario files of redis-cli command lines against Vermilion and real Redis and compare
every reply (see the header of each file in tests/scenarios for the line markers)."""

from __future__ import annotations

import pathlib

import pytest

from vermilion.resp.reader import split_args
from vermilion.testing import flush_all

from tests.resp_raw import RawConnection

SCENARIOS = pathlib.Path(__file__).resolve().parent.parent / "scenarios"


def sessions(path: pathlib.Path):
    title, lines = None, []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("## "):
            if title is not None:
                yield title, lines
            title, lines = line[3:], []
        elif line and not line.startswith("#") and title is not None:
            lines.append(line)
    if title is not None:
        yield title, lines


CASES = [
    pytest.param(path, title, lines, id=f"{path.stem}:{title}")
    for path in sorted(SCENARIOS.glob("*.redis"))
    for title, lines in sessions(path)
]


def unordered(reply: bytes):
    import hiredis

    reader = hiredis.Reader()
    reader.feed(reply)
    value = reader.gets()
    return (reply[:1], sorted(value, key=repr) if isinstance(value, list) else value)


@pytest.mark.parametrize("path, title, lines", CASES)
def test_scenario_matches_redis(server, oracle_port, path, title, lines):
    flush_all(server)
    ours, theirs = RawConnection(server.port), RawConnection(oracle_port)
    theirs.call("FLUSHALL")
    try:
        for line in lines:
            marker = line[0] if line[0] in "~%" else ""
            args = split_args(line[len(marker):].encode())
            mine, reference = ours.call(*args), theirs.call(*args)
            if marker == "~":
                assert mine[:1] == reference[:1], f"{line}: {mine!r} vs {reference!r}"
            elif marker == "%":
                assert unordered(mine) == unordered(reference), f"{line}: {mine!r} vs {reference!r}"
            else:
                assert mine == reference, f"{line}: vermilion {mine!r} != redis {reference!r}"
    finally:
        ours.close()
        theirs.close()
