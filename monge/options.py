"""Option fields of monge's configuration dataclasses (``TrainConfig``, ``W2Config``, ``StyleOptions``):
each field carries its default, help text, allowed values and flag group, so that one dataclass is
the single source of a command's flags, defaults and checks. Torch-free."""

from __future__ import annotations

from dataclasses import Field, field
from typing import Any


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
