"""Command families: one module each. Importing this package registers every command."""

from importlib import import_module

FAMILIES = ("strings", "keys", "connection", "server_cmd", "introspection", "config_cmd")

for _family in FAMILIES:
    import_module(f"{__name__}.{_family}")
