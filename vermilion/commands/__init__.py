"""Command families: one module each. Importing this package registers every command."""

from importlib import import_module

FAMILIES = ("strings", "keys", "connection", "server_cmd", "introspection", "config_cmd", "bitmaps", "hyperloglog", "transactions", "pubsub", "lists", "hashes", "sets", "zsets", "geo", "sort", "streams", "scripting", "dump", "acl", "aof_cmd", "memory_cmd", "persistence", "observe")

for _family in FAMILIES:
    import_module(f"{__name__}.{_family}")
