"""STROTSS examples and speed on ../shared/data/style: the alpha sweep and a guided (masked) pair.

    python benchmarks/style_examples.py --size 256 --out runs/style-examples

Writes alpha_grid.png (content | style | results for alpha 0.2, 0.5, 1, 2, 4), guided.png
(content | content mask | style | style mask | unguided | guided), the masks drawn here, and a
timing table (markdown) on stdout. The images stay out of the repository.
"""

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from monge.data.images import load_image, pil_to_tensor
from monge.style.hypercolumns import EffNetHypercolumns
from monge.style.strotss import stylize
from monge.viz import save_grid

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "style"
RED, GREEN = (255, 0, 0), (0, 255, 0)


def drawn_mask(size: tuple[int, int], sky: list[tuple[float, float]]) -> torch.Tensor:
    """Two regions: the polygon ``sky`` (fractions of width/height) red, the rest green."""
    w, h = size
    img = Image.new("RGB", size, GREEN)
    ImageDraw.Draw(img).polygon([(x * w, y * h) for x, y in sky], fill=RED)
    return pil_to_tensor(img)


def fit(img: torch.Tensor, side: int) -> torch.Tensor:
    """Resize to a square tile for the grids."""
    return F.interpolate(img[None], size=(side, side), mode="bilinear", align_corners=False, antialias=True)[0]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=256, help="long side of the results (512 = the full schedule)")
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--content", default="c1.png")
    p.add_argument("--style", default="s4.jpg")
    p.add_argument("--out", default="runs/style-examples")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    extractor = EffNetHypercolumns()
    scales = {512: 4, 256: 3, 128: 2}.get(args.size, 4)
    run = dict(size=args.size, steps=args.steps, scales=scales, backbone=extractor, progress=True)
    timings = []

    content, style = load_image(DATA / "content" / args.content), load_image(DATA / "style" / args.style)
    tiles = [fit(content, 192), fit(style, 192)]
    for alpha in (0.2, 0.5, 1.0, 2.0, 4.0):
        t0 = time.perf_counter()
        tiles.append(fit(stylize(content, style, alpha=alpha, **run).image, 192))
        timings.append((f"{args.content} + {args.style}, alpha {alpha}", time.perf_counter() - t0))
    save_grid([torch.stack(tiles)], out / "alpha_grid.png")

    fjord, night = load_image(DATA / "content" / "c7.png"), load_image(DATA / "style" / "s4.jpg")
    fjord_mask = drawn_mask(
        (fjord.shape[2], fjord.shape[1]),
        [(0, 0), (1, 0), (1, 0.39), (0.78, 0.33), (0.6, 0.12), (0.49, 0.29), (0.23, 0.33), (0, 0.2)],
    )
    night_mask = drawn_mask((night.shape[2], night.shape[1]), [(0, 0), (1, 0), (1, 0.66), (0, 0.7)])
    for name, mask in (("fjord_mask.png", fjord_mask), ("night_mask.png", night_mask)):
        Image.fromarray(((mask.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()).save(out / name)
    t0 = time.perf_counter()
    plain = stylize(fjord, night, alpha=1.0, **run).image
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    guided = stylize(fjord, night, alpha=1.0, content_mask=fjord_mask, style_mask=night_mask, **run).image
    t_guided = time.perf_counter() - t0
    timings += [("c7 + s4 unguided", t_plain), ("c7 + s4 guided (2 regions)", t_guided)]
    save_grid(
        [torch.stack([fit(x, 192) for x in (fjord, fjord_mask, night, night_mask, plain, guided)])], out / "guided.png"
    )

    print(f"\n| run ({args.size} px, {scales} scales x {args.steps} steps) | seconds |\n|---|---|")
    for name, seconds in timings:
        print(f"| {name} | {seconds:.1f} |")
    print(f"\nguided / unguided time: {t_guided / t_plain:.2f}x; images in {out}")


if __name__ == "__main__":
    main()
