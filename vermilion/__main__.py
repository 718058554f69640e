"""vermilion-server: command line compatible with redis-server (see startup.py)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from .startup import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
