"""``monge style``: STROTSS style transfer of one content image to one style image."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..style.options import INPUTS, OPTION_NAMES, StyleOptions, read_style_file, write_style_file
from .common import add_dataclass_options, add_json, report


def _style_inputs(args: argparse.Namespace) -> tuple[StyleOptions, dict[str, Path]]:
    """Options and input paths: flags given on the command line, else the ``--config`` style file, else the defaults."""
    from_file, inputs = read_style_file(args.config) if args.config else ({}, {})
    options = StyleOptions(
        **{**from_file, **{k: getattr(args, k) for k in OPTION_NAMES if getattr(args, k) is not None}}
    )
    inputs.update({k: Path(getattr(args, k)) for k in INPUTS if getattr(args, k)})
    for key in ("content", "style"):
        if key not in inputs:
            raise ConfigError(key, f"no {key} image: give it on the command line or in --config")
    return options, inputs


def cmd_style(args: argparse.Namespace) -> None:
    from ..data.images import IMAGE_SUFFIXES, load_image, save_png
    from ..runs import prepare_folder
    from ..style.strotss import stylize

    out = Path(args.out)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise ConfigError("out", f"{out}: not an image file name (use one of {', '.join(IMAGE_SUFFIXES)})")
    options, inputs = _style_inputs(args)
    prepare_folder(out.parent, "out")  # before the computation, not after it
    images: dict[str, Any] = {key: load_image(path) for key, path in inputs.items()}
    t0 = time.perf_counter()
    result = stylize(**images, **options.kwargs(), device=args.device)
    seconds = time.perf_counter() - t0
    save_png(result.image, out)
    if args.save_scales:
        for i, img in enumerate(result.scales):
            save_png(img, out.with_name(f"{out.stem}_scale{i + 1}{out.suffix}"))
    record = out.with_suffix(".json")  # the style file of this run, with its loss history: --config runs it again
    relative = {key: os.path.relpath(path.resolve(), out.parent.resolve()) for key, path in inputs.items()}
    write_style_file(record, options, relative, seconds=round(seconds, 1), history=result.history)
    last = result.history[-1]
    summary = {
        "out": str(out),
        "record": str(record),
        "size": list(result.image.shape[1:]),
        "seconds": round(seconds, 1),
        **{k: last[k] for k in ("loss", "remd", "moment", "palette", "content")},
    }
    report(args, summary, list(summary.items()))


def register(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("style", help="STROTSS style transfer of one content image to one style image")
    st.add_argument("content", nargs="?", help="content image (or the --config file's)")
    st.add_argument("style", nargs="?", help="style image (or the --config file's)")
    st.add_argument(
        "--out", required=True, help="output PNG (its style file, with the loss history, goes beside it as .json)"
    )
    st.add_argument(
        "--config", help="a style file (JSON, as the web app writes): inputs and options; flags override it"
    )
    st.add_argument("--content-mask", help="colour mask of the content's regions")
    st.add_argument("--style-mask", help="colour mask of the style's regions (same colours)")
    st.add_argument("--device", default="auto", help="auto (CUDA when present, else cpu), cpu, cuda, mps")
    add_dataclass_options(st, StyleOptions)
    st.add_argument("--save-scales", action="store_true", help="also write each scale's result")
    add_json(st)
    st.set_defaults(func=cmd_style)
