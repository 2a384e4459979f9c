"""The options of one style transfer, in one place: their defaults, and the JSON file that records a run.

A *style file* is JSON with the input images (``content``, ``style`` and optionally ``content_mask``
and ``style_mask``, paths relative to the file) and any :class:`StyleOptions` field. The web app
writes one beside every result; ``monge style --config FILE`` runs it again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..options import option

INPUTS = ("content", "style", "content_mask", "style_mask")
RECORD = ("seconds", "history")  # what a run adds to its style file; ignored when the file is read back


@dataclass(frozen=True)
class StyleOptions:
    """The parameters of :func:`monge.style.strotss.stylize` a user chooses; ``monge style``'s flags
    and the web app's controls are generated from these fields."""

    alpha: float = option(1.0, "content weight: higher keeps more of the content")
    size: int = option(512, "long side of the result (px)")
    steps: int = option(250, "steps per scale")
    scales: int = option(4, "scales, each doubling the long side up to --size")
    lr: float = option(2e-3, "RMSprop's learning rate on the image's Laplacian pyramid (halved at the last scale)")
    backbone: str = option(
        "effnet-lite0",
        "feature network; vgg16 needs vgg16-397923af.pth in the hub cache or $MONGE_VGG16_WEIGHTS",
        ("effnet-lite0", "vgg16"),
    )
    seed: int = option(0, "seed of the sampled feature locations")
    precision: str = option(
        "auto", "auto: bfloat16 autocast where the device has fast bf16 (AMX CPUs, CUDA)", ("auto", "32", "bf16-mixed")
    )
    search_every: int = option(
        5,
        "find relaxed EMD's nearest pairs every this many steps, reusing them in between (1: every step, as published)",
    )

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> StyleOptions:
        """The defaults with a named preset's values (:data:`STYLE_PRESETS`), then ``overrides``."""
        if name not in STYLE_PRESETS:
            raise ConfigError("preset", f"{name!r} is not one of {', '.join(STYLE_PRESETS)}")
        return cls(**{**STYLE_PRESETS[name], **overrides})

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``stylize``."""
        return asdict(self)


# named departures from the defaults: "interactive" is the web app's (a result in about a quarter of the time)
STYLE_PRESETS: dict[str, dict[str, Any]] = {"default": {}, "interactive": {"size": 256, "scales": 3}}

OPTION_NAMES = tuple(f.name for f in fields(StyleOptions))


def write_style_file(path: str | Path, options: StyleOptions, inputs: dict[str, str], **record: Any) -> None:
    """Record a run: ``inputs`` maps each of :data:`INPUTS` used to a path relative to ``path``'s folder;
    ``record`` adds :data:`RECORD` entries (the wall time, the loss history)."""
    from ..runs import atomic_write_text

    unknown = set(inputs) - set(INPUTS)
    if unknown:
        raise ValueError(f"unknown inputs {sorted(unknown)}")
    if set(record) - set(RECORD):
        raise ValueError(f"unknown record entries {sorted(set(record) - set(RECORD))}")
    atomic_write_text(path, json.dumps({**inputs, **options.kwargs(), **record}, indent=2))


def read_style_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The option values and the input paths (resolved against the file's folder) of a style file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable JSON style file ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: a style file is a JSON object")
    unknown = sorted(set(data) - set(INPUTS) - set(OPTION_NAMES) - set(RECORD))
    if unknown:
        known = ", ".join(INPUTS + OPTION_NAMES + RECORD)
        raise DataError(f"{path}: unknown key {unknown[0]!r} (known: {known})")
    inputs = {k: path.parent / str(data[k]) for k in INPUTS if data.get(k)}
    return {k: data[k] for k in OPTION_NAMES if k in data}, inputs
