"""vermilion-server: command line compatible with redis-server."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from . import commands  # noqa: F401  registers every command
    from .server import Server

    server = Server()
    args = sys.argv[1:] if argv is None else argv
    i = 0
    while i < len(args):
        if args[i] == "--port":
            server.config.port = int(args[i + 1])
            i += 2
        else:
            i += 1
    return server.run()


if __name__ == "__main__":
    sys.exit(main())
