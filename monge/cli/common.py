"""What every command shares: the ``--json`` convention, the result table, and the configuration
flags generated from :class:`~monge.train.config.TrainConfig`'s fields."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import MISSING, fields
from pathlib import Path

from ..errors import ConfigError
from ..options import field_type
from ..train.config import PRESETS, RESUME_CHANGEABLE, TrainConfig, read_config_file

GROUP_TITLES = {"model": "model and optimisation", "data": "data and evaluation", "scale": "scale (Lightning Fabric)"}


def flag(param: str) -> str:
    """The command-line flag of a configuration parameter: ``batch_size`` -> ``--batch-size``."""
    return "--" + param.replace("_", "-")


def report(args: argparse.Namespace, result: dict, table: list[tuple[str, object]]) -> None:
    """Print a result as aligned ``key  value`` lines; with ``--json`` the lines go to stderr and
    stdout holds one JSON object alone (``monge ... --json | python -m json.tool`` works)."""
    width = max(len(k) for k, _ in table) if table else 0
    stream = sys.stderr if args.json else sys.stdout
    for key, value in table:
        line = f"{key:<{width}}  {value:.6g}" if isinstance(value, float) else f"{key:<{width}}  {value}"
        print(line, file=stream)
    if args.json:
        print(json.dumps(json_safe(result), allow_nan=False))


def json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float replaced by None: JSON has no NaN, and a parser
    that meets one fails on the whole line."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _whole(text: str, least: int, words: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is {words}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a bad one is a one-line usage error naming the flag)."""
    return _whole(text, 1, "not positive")


MAX_DRAWS = 1000  # draws per input: past this a translate run is more outputs than a user can look at


def draws_per_input(text: str) -> int:
    """An argparse type: a weak map's draws per input, 1 to :data:`MAX_DRAWS`."""
    value = _whole(text, 1, "not positive")
    if value > MAX_DRAWS:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_DRAWS} draws per input")
    return value


def nonnegative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    return _whole(text, 0, "negative")


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")


def _default_text(name: str, default: object) -> str:
    if default is None and name in PRESETS["cpu"]:
        return ", ".join(f"{preset} preset: {values[name]}" for preset, values in PRESETS.items())
    return f"default: {default}"


def add_config_options(
    p: argparse.ArgumentParser, exclude: tuple[str, ...] = (), choices: dict[str, tuple[str, ...]] | None = None
) -> None:
    """One flag per configuration field (``cli`` metadata true, not in ``exclude``), grouped and with
    the effective default in its help. Every flag defaults to None: unset flags leave a config file's values."""
    groups = {key: p.add_argument_group(title) for key, title in GROUP_TITLES.items()}
    for f in fields(TrainConfig):
        meta = f.metadata
        if not meta.get("cli") or f.name in exclude:
            continue
        kind = field_type(f)
        default = f.default if f.default is not MISSING else None
        # said in words already, or nothing to say (no default and no preset's)
        said = "default:" in meta["help"] or (default in ("", None) and f.name not in PRESETS["cpu"])
        text = (meta["help"] if said else f"{meta['help']} ({_default_text(f.name, default)})").replace("%", "%%")
        group = groups[meta["group"]]
        if kind is bool:
            group.add_argument(flag(f.name), action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            allowed = (choices or {}).get(f.name, meta["choices"])
            group.add_argument(flag(f.name), type=kind, choices=allowed, default=None, help=text)


def add_dataclass_options(p: argparse.ArgumentParser, cls: type, exclude: tuple[str, ...] = ()) -> None:
    """One flag per field of the options dataclass ``cls`` (made with ``train.config.option``), its
    default and choices in the help; booleans get ``--x/--no-x``. Flags default to None: unset ones
    leave the dataclass's own default (see :func:`dataclass_from_args`)."""
    for f in fields(cls):
        if not f.metadata.get("cli") or f.name in exclude:
            continue
        kind, default = field_type(f), f.default
        said = "default:" in f.metadata["help"] or default is None
        text = (f.metadata["help"] if said else f"{f.metadata['help']} (default: {default})").replace("%", "%%")
        if kind is bool:
            p.add_argument(flag(f.name), action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            p.add_argument(flag(f.name), type=kind, choices=f.metadata["choices"], default=None, help=text)


def dataclass_from_args(cls: type, args: argparse.Namespace):
    """``cls`` from the flags the user gave (the others keep the dataclass's defaults)."""
    return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None})


def config_from_args(args: argparse.Namespace, resumable: bool = True, defaults: dict | None = None) -> TrainConfig:
    """The configuration of a train/stack/ae command: when resuming, the run's saved one, at the run's
    place now (``--out``), with the flags given that a resume may change (:data:`RESUME_CHANGEABLE`;
    the changes are printed) and any other changed flag refused by name; else ``defaults`` (the
    command's own, over :class:`TrainConfig`'s), a ``--config`` file over them, and flags over both."""
    base = {**(defaults or {}), **(read_config_file(args.config) if args.config else {})}
    # the run folder: the flag, else the config file's, else the command's default
    out = Path(args.out or base.get("out") or args.default_out)
    flags = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    if resumable and args.resume and ((out / "config.json").exists() or (out / "stack.json").exists()):
        saved_path = out / "config.json"
        saved = (
            read_config_file(saved_path)
            if saved_path.exists()
            else json.loads((out / "stack.json").read_text())["config"]
        )
        current = TrainConfig.from_saved(saved).to_dict()
        requested = {k: v for k, v in {**base, **flags}.items() if k != "out"}
        resumed = TrainConfig.from_dict({**current, **requested, "out": str(out)})  # refuses unknown keys by name
        changes = {k: (current[k], v) for k, v in requested.items() if current[k] != v}
        for key, (old, _) in changes.items():
            if key not in RESUME_CHANGEABLE:
                raise ConfigError(key, f"cannot change on --resume (the run was trained with {old!r})")
        for key, (old, new) in changes.items():
            print(f"resume: {flag(key)} {old} -> {new}", file=sys.stderr)
        return resumed
    merged = {**base, **flags, "out": str(out)}
    if resumable and getattr(args, "resume", False) and not (merged.get("source") or merged.get("target")):
        raise ConfigError(
            "resume", f"{out}: holds no run to resume (no config.json); give --out of a run, or --source and --target"
        )
    for key in ("source", "target"):
        if not merged.get(key):
            raise ConfigError(key, "is required (a folder, .h5, .zip, ROOT:A/ROOT:B or emoji:STYLE)")
    return TrainConfig.from_dict(merged)
