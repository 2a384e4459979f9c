"""``monge style``: STROTSS style transfer of one content image to one style image."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .common import add_json, report


def cmd_style(args: argparse.Namespace) -> None:
    from ..data.images import IMAGE_SUFFIXES, load_image, save_png
    from ..runs import prepare_folder
    from ..style.strotss import stylize

    out = Path(args.out)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise ConfigError("out", f"{out}: not an image file name (use one of {', '.join(IMAGE_SUFFIXES)})")
    prepare_folder(out.parent, "out")  # before the computation, not after it
    content, style = load_image(args.content), load_image(args.style)
    masks: dict[str, Any] = {}
    for key in ("content_mask", "style_mask"):
        if getattr(args, key):
            masks[key] = load_image(getattr(args, key))
    t0 = time.perf_counter()
    result = stylize(
        content,
        style,
        alpha=args.alpha,
        size=args.size,
        steps=args.steps,
        lr=args.lr,
        scales=args.scales,
        backbone=args.backbone,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
        **masks,
    )
    seconds = time.perf_counter() - t0
    save_png(result.image, out)
    if args.save_scales:
        for i, img in enumerate(result.scales):
            save_png(img, out.with_name(f"{out.stem}_scale{i + 1}{out.suffix}"))
    last = result.history[-1]
    summary = {
        "out": str(out),
        "size": list(result.image.shape[1:]),
        "seconds": round(seconds, 1),
        **{k: last[k] for k in ("loss", "remd", "moment", "palette", "content")},
    }
    report(args, summary, list(summary.items()))


def register(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("style", help="STROTSS style transfer of one content image to one style image")
    st.add_argument("content")
    st.add_argument("style")
    st.add_argument("--out", required=True, help="output PNG")
    st.add_argument("--alpha", type=float, default=1.0, help="content weight (higher keeps more content)")
    st.add_argument("--size", type=int, default=512, help="long side of the result")
    st.add_argument("--steps", type=int, default=250, help="steps per scale")
    st.add_argument("--scales", type=int, default=4, help="scales, each doubling the long side up to --size")
    st.add_argument("--lr", type=float, default=2e-3)
    st.add_argument("--content-mask", help="colour mask of the content's regions")
    st.add_argument("--style-mask", help="colour mask of the style's regions (same colours)")
    st.add_argument(
        "--backbone",
        default="effnet-lite0",
        choices=["effnet-lite0", "vgg16"],
        help="vgg16 needs vgg16-397923af.pth in the hub cache or $MONGE_VGG16_WEIGHTS",
    )
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--device", default="auto", help="auto (CUDA when present, else cpu), cpu, cuda, mps")
    st.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "32", "bf16-mixed"],
        help="auto: bfloat16 autocast where the device has fast bf16 (AMX CPUs, CUDA)",
    )
    st.add_argument("--save-scales", action="store_true", help="also write each scale's result")
    add_json(st)
    st.set_defaults(func=cmd_style)
