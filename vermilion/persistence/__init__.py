"""Persistence helpers: Redis's on-disk and DUMP formats."""
