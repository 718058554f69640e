"""Command families: one module each. Importing this package registers every command."""

from importlib import import_module

FAMILIES = ("strings", "keys", "connection", "server_cmd", "introspection", "config_cmd", "bitmaps", "hyperloglog", "transactions", "pubsub", "lists", "hashes", "sets", "zsets", "sort", "streams", "scripting")

for _family in FAMILIES:
    import_module(f"{__name__}.{_family}")
