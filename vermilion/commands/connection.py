"""Connection commands."""

from __future__ import annotations

from ..registry import command
from ..resp.encode import PONG, bulk


@command("ping")
def ping(client, argv):
    if len(argv) == 1:
        return PONG
    return bulk(argv[1])
