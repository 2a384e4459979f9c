"""Option fields of monge's configuration dataclasses (``TrainConfig``, ``W2Config``, ``StyleOptions``):
each field carries its default, help text, allowed values and flag group, so that one dataclass is
the single source of a command's flags, defaults and checks. Torch-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, field, fields
from typing import Any

from .errors import ConfigError


def option(
    default: Any, help: str, choices: tuple[str, ...] | None = None, group: str = "model", cli: bool = True
) -> Any:
    """A configuration field: its default, help text, allowed values and command-line group.
    ``cli=False`` keeps a field out of the generated flags (set by a command or a config file)."""
    return field(default=default, metadata={"help": help, "choices": choices, "group": group, "cli": cli})


def field_type(f: Field) -> type:
    """A configuration field's value type: ``int | None`` -> int (annotations are strings here,
    under postponed evaluation)."""
    return {"int": int, "float": float, "str": str, "bool": bool}[str(f.type).split("|")[0].strip()]


def check_choices(config: Any) -> None:
    """Refuse, by name, a field of ``config`` whose value is not among its ``choices``."""
    for f in fields(config):
        choices, value = f.metadata["choices"], getattr(config, f.name)
        if choices and value not in choices:
            raise ConfigError(f.name, f"{value!r} is not one of {', '.join(choices)}")


def check_types(config: Any, optional: Callable[[Field], bool]) -> None:
    """Every field of ``config`` holds its declared type (a config file's ``"steps": "abc"`` is named,
    not a traceback), or None where ``optional(field)``; an int where a float is declared becomes a float."""
    for f in fields(config):
        value = getattr(config, f.name)
        if value is None and optional(f):
            continue
        kind = field_type(f)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            setattr(config, f.name, float(value))
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f.name, f"{value!r} is not {'an' if kind is int else 'a'} {kind.__name__}")
