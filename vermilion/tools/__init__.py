"""Command-line tools that work on Redis's files (vermilion-check-rdb)."""
