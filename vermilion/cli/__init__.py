"""vermilion-cli: a drop-in for redis-cli 7.0 (see docs/cli.md)."""

from .app import entry_point, main

__all__ = ["entry_point", "main"]
