"""Every configuration parameter as one table: name, type, default, whether CONFIG SET may change it.

``Config`` holds the current values as attributes named like the parameter with '-' replaced by
'_' (``config.proto_max_bulk_len``), so hot paths read them with one attribute lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ConfigError(Exception):
    """A bad parameter name or value; the text is what Redis says about it."""


@dataclass
class Param:
    name: str
    kind: str  # bool, int, memory, string, enum, special
    default: Any
    mutable: bool = True
    aliases: tuple[str, ...] = ()
    enum_values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    # False: accepted and shown for compatibility, but it changes nothing here (see docs/config.md).
    effective: bool = True
    # Called as on_change(server, old_value, new_value) after a run-time change.
    on_change: Callable[[Any, Any, Any], None] | None = None
    attr: str = field(init=False)

    def __post_init__(self) -> None:
        self.attr = self.name.replace("-", "_")


PARAMS: list[Param] = [
    Param("port", "int", 6379, minimum=0, maximum=65535),
    Param("bind", "special", ["127.0.0.1", "-::1"]),
    Param("databases", "int", 16, mutable=False, minimum=1, maximum=2**31 - 1),
    Param("hz", "int", 10, minimum=0, maximum=2**31 - 1),
    Param("requirepass", "string", ""),
    Param("proto-max-bulk-len", "memory", 512 * 1024 * 1024, minimum=1024 * 1024),
    Param("enable-debug-command", "enum", "no", mutable=False, enum_values=("no", "yes", "local")),
    Param("loglevel", "enum", "notice", enum_values=("debug", "verbose", "notice", "warning", "nothing")),
    Param("logfile", "string", "", mutable=False),
    Param("protected-mode", "bool", True),
]

BY_NAME: dict[str, Param] = {}
for _param in PARAMS:
    BY_NAME[_param.name] = _param
    for _alias in _param.aliases:
        BY_NAME[_alias] = _param


class Config:
    """Current values of every parameter, as attributes."""

    def __init__(self) -> None:
        for param in PARAMS:
            value = param.default
            setattr(self, param.attr, list(value) if isinstance(value, list) else value)

    def get(self, name: str) -> Any:
        return getattr(self, BY_NAME[name].attr)

    def set(self, name: str, value: Any) -> None:
        setattr(self, BY_NAME[name].attr, value)
