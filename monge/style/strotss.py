"""STROTSS style transfer (Kolkin, Salavon, Shakhnarovich, CVPR 2019) by relaxed optimal transport.

An output image is optimised so that its deep-feature *distribution* matches the style image's
(relaxed earth mover's distance, moments, palette) while its *self-similarity* matches the
content image's. Features are hypercolumns: several backbone layers plus RGB, read by bilinear
interpolation at random locations. The image is a Laplacian pyramid optimised coarse to fine.
Region masks restrict each output region's style statistics to the matching style region.

Every loss is an ``nn.Module`` taking hypercolumn samples, so they compose and test separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..engine import resolve_device, resolve_precision
from ..errors import ConfigError, DataError, DivergenceError
from ..threads import adapt_threads
from .hypercolumns import SamplePoints, label_map, make_extractor, sample_hypercolumns, sample_xy
from .losses import MomentLoss, PaletteLoss, RelaxedEMD, SelfSimilarityLoss, StyleTarget
from .masks import match_regions
from .pyramid import collapse_pyramid, laplacian_pyramid


@dataclass
class StyleResult:
    image: torch.Tensor  # (3, H, W) in [-1, 1]
    scales: list[torch.Tensor]  # the result after each scale
    history: list[dict[str, float]]  # losses at every step


def _resize_long(img: torch.Tensor, long_side: int) -> torch.Tensor:
    h, w = img.shape[-2:]
    scale = long_side / max(h, w)
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    return F.interpolate(img[None], size=size, mode="bilinear", align_corners=False, antialias=scale < 1)[0]


def _check_options(alpha: float, size: int, steps: int, lr: float, scales: int, search_every: int) -> None:
    """Refuse settings that cannot give an image, by parameter name."""
    if not alpha >= 0 or alpha == float("inf"):
        raise ConfigError("alpha", f"{alpha} is not a finite weight >= 0")
    if not 0 < lr < 1:
        raise ConfigError("lr", f"{lr} is not in (0, 1)")
    for key, value in (("steps", steps), ("scales", scales), ("search_every", search_every)):
        if value < 1:
            raise ConfigError(key, f"{value} is not positive")
    if scales >= 1 and size // 2 ** (scales - 1) < 16:
        raise ConfigError(
            "size",
            f"{size} px over {scales} scales starts at {size // 2 ** (scales - 1)} px; the first scale "
            "needs at least 16 (raise size or lower scales)",
        )


def stylize(
    content: torch.Tensor,
    style: torch.Tensor,
    alpha: float = 1.0,
    size: int = 512,
    steps: int = 250,
    lr: float = 2e-3,
    scales: int = 4,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    backbone: str | nn.Module = "effnet-lite0",
    n_samples: int = 1024,
    n_style: int = 5000,
    resample_every: int = 10,
    search_every: int = 5,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    progress: bool = True,
    on_scale: Callable[[int, torch.Tensor], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> StyleResult:
    """Restyle ``content`` with ``style`` (both (3, H, W) in [-1, 1]); ``alpha`` weighs content.

    The long side grows over ``scales`` scales, doubling up to ``size`` (64, 128, 256, 512 by
    default), ``steps`` RMSprop steps each (lr halved at the last scale). With masks, region k of
    the output takes its style statistics from region k of the style image.

    ``precision``: ``bf16-mixed`` runs the backbone and the loss matrix products in bfloat16
    (autocast; the image, its pyramid and the optimiser stay float32), ``32`` runs all in float32,
    ``auto`` picks bf16-mixed where the device has fast bfloat16 (CUDA with bf16, a CPU with AMX or
    AVX512-BF16) and 32 elsewhere.

    ``progress`` shows one bar with an ETA over all scales; ``on_scale(k, image)`` is called with
    each scale's result as it finishes (to show it, e.g. in a UI); ``on_progress(fraction)`` after
    every step with the share of the whole run's work done (an exception raised there stops the run:
    how a UI cancels it).

    ``search_every``: the nearest-neighbour pairs of relaxed EMD and the palette loss (a search over
    n_samples x n_style pairs, most of a step's loss time) are found afresh every this many steps and
    at each resampling, and reused in between (each step still scores its pairs exactly).
    """
    _check_options(alpha, size, steps, lr, scales, search_every)
    if min(content.shape[-2:]) < 16 or min(style.shape[-2:]) < 16:
        raise DataError("content and style images must be at least 16 px on each side")
    sizes = [size // 2 ** (scales - 1 - i) for i in range(scales)]
    shortest = min(content.shape[-2:]) * sizes[0] // max(content.shape[-2:])
    if shortest < 16:  # the 5-band Laplacian pyramid needs 16 px on each side
        raise ConfigError(
            "scales", f"the first scale would be {shortest} px on the content's short side (16 needed): use fewer"
        )
    if (content_mask is None) != (style_mask is None):
        raise ConfigError("content_mask", "give both content_mask and style_mask, or neither")
    if content_mask is not None and style_mask is not None:
        if content_mask.shape[-2:] != content.shape[-2:]:
            raise DataError(
                f"content mask is {tuple(content_mask.shape[-2:])}, content image "
                f"{tuple(content.shape[-2:])}: sizes must match"
            )
        if style_mask.shape[-2:] != style.shape[-2:]:
            raise DataError(
                f"style mask is {tuple(style_mask.shape[-2:])}, style image {tuple(style.shape[-2:])}: sizes must match"
            )
        c_labels, s_labels, n_regions = match_regions(content_mask, style_mask)
    else:
        c_labels, s_labels, n_regions = None, None, 1
    device = resolve_device(device)
    extractor = (make_extractor(backbone) if isinstance(backbone, str) else backbone).to(device).eval()
    autocast = _autocast(torch.device(device), precision)
    gen = torch.Generator().manual_seed(seed)
    remd, moment, palette, selfsim = RelaxedEMD(), MomentLoss(), PaletteLoss(), SelfSimilarityLoss()
    content_weight = 16.0 * alpha
    result, outputs, history = None, [], []
    # one bar for the whole run; a step's work grows with the pixels, so the ETA spans all scales
    work = [(s / sizes[0]) ** 2 for s in sizes]
    total_work, work_done = steps * sum(work), 0.0
    bar = tqdm(
        total=total_work,
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
        bar_format="{desc}{percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
    )
    for si, long_side in enumerate(sizes):
        c_img = _resize_long(content, long_side).to(device)
        s_img = _resize_long(style, long_side).to(device)
        hw, s_hw = tuple(c_img.shape[-2:]), tuple(s_img.shape[-2:])
        c_lab, s_lab = label_map(c_labels, hw), label_map(s_labels, s_hw)
        if s_lab is not None:
            missing = [k for k in range(n_regions) if not (s_lab == k).any() or not (c_lab == k).any()]
            if missing:
                raise DataError(f"mask region {missing[0]} vanishes at {long_side} px: use larger regions")
        with torch.no_grad():
            s_feats, c_feats = extractor(s_img[None]), extractor(c_img[None])
            per_region = max(1, n_style // n_regions)
            style_cols = [
                StyleTarget(
                    sample_hypercolumns(
                        s_img[None],
                        s_feats,
                        sample_xy(per_region, s_lab, k if s_lab is not None else None, gen, s_hw, distinct=True).to(
                            device
                        ),
                    )
                )
                for k in range(n_regions)
            ]
        if result is None:  # style mean colour + the content's finest detail band
            mean_colour = s_img.mean(dim=(1, 2), keepdim=True)
            start = mean_colour + laplacian_pyramid(c_img[None], 2)[0][0]
        else:
            start = F.interpolate(result[None], size=hw, mode="bilinear", align_corners=False)[0]
        bands = [nn.Parameter(b.detach()) for b in laplacian_pyramid(start[None], 5)]
        opt = torch.optim.RMSprop(bands, lr=lr if si < len(sizes) - 1 else lr / 2)
        bar.set_description(f"STROTSS scale {si + 1}/{len(sizes)} ({long_side} px)")
        xy_regions, remd_pairs, palette_pairs = None, [], []
        for step in range(steps):
            if step % resample_every == 0:
                share = max(1, n_samples // n_regions)
                xy_regions = [
                    SamplePoints(sample_xy(share, c_lab, k if c_lab is not None else None, gen, hw).to(device))
                    for k in range(n_regions)
                ]
                with torch.no_grad():
                    c_matrix = selfsim.matrix(
                        torch.cat([sample_hypercolumns(c_img[None], c_feats, xy) for xy in xy_regions])
                    )
            adapt_threads()  # follows the machine's load where the monge command installed a governor
            img = collapse_pyramid(bands)
            with autocast:
                feats = extractor(img)
                out_cols = [sample_hypercolumns(img, feats, xy) for xy in xy_regions]
                if (step % resample_every) % search_every == 0:
                    remd_pairs = [remd.match(o, s) for o, s in zip(out_cols, style_cols)]
                    palette_pairs = [palette.match(o, s) for o, s in zip(out_cols, style_cols)]
                l_remd = sum(remd(o, s, p) for o, s, p in zip(out_cols, style_cols, remd_pairs)) / n_regions
                l_palette = sum(palette(o, s, p) for o, s, p in zip(out_cols, style_cols, palette_pairs)) / n_regions
                l_moment = sum(moment(o, s) for o, s in zip(out_cols, style_cols)) / n_regions
                l_content = selfsim.against(torch.cat(out_cols), c_matrix)
            loss = (content_weight * l_content + l_remd + l_moment + l_palette / max(content_weight, 1.0)) / (
                content_weight + 2.0
            )
            if not torch.isfinite(loss):
                raise DivergenceError(
                    f"the style loss is {loss.item()} at scale {si + 1}, step {step + 1}: lower lr (now {lr})"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            record = {
                "scale": si,
                "loss": loss.item(),
                "remd": l_remd.item(),
                "moment": l_moment.item(),
                "palette": l_palette.item(),
                "content": l_content.item(),
            }
            history.append(record)
            bar.update(work[si])
            work_done += work[si]
            if on_progress is not None:
                on_progress(work_done / total_work)
            if step % 10 == 0:
                bar.set_postfix(loss=f"{record['loss']:.3f}", remd=f"{record['remd']:.3f}")
        with torch.no_grad():
            result = collapse_pyramid(bands)[0].clamp(-1, 1)
        outputs.append(result.cpu())
        if on_scale is not None:
            on_scale(si, result.cpu())
        content_weight /= 2.0
    bar.close()
    return StyleResult(result.cpu(), outputs, history)


def _autocast(device: torch.device, precision: str):
    """The autocast context of ``precision`` (32, bf16-mixed or auto) on ``device``."""
    if precision not in ("auto", "32", "bf16-mixed"):
        raise ConfigError("precision", f"{precision!r} is not one of auto, 32, bf16-mixed")
    precision = resolve_precision(precision, device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16-mixed")


def style_distance(
    image: torch.Tensor, style: torch.Tensor, extractor: nn.Module, n: int = 1024, seed: int = 0
) -> float:
    """Relaxed EMD between hypercolumn samples of two images (lower: closer in style)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        cols = [
            sample_hypercolumns(im[None], extractor(im[None]), sample_xy(n, None, None, gen, tuple(im.shape[-2:])))
            for im in (image, style)
        ]
        return float(RelaxedEMD()(*cols))


def content_distance(
    image: torch.Tensor, content: torch.Tensor, extractor: nn.Module, n: int = 1024, seed: int = 0
) -> float:
    """Self-similarity loss between two images at the same sampled locations (lower: closer in content)."""
    gen = torch.Generator().manual_seed(seed)
    if image.shape[-2:] != content.shape[-2:]:
        image = F.interpolate(image[None], size=content.shape[-2:], mode="bilinear", align_corners=False)[0]
    xy = SamplePoints(sample_xy(n, None, None, gen, tuple(content.shape[-2:])))
    with torch.no_grad():
        a, b = (sample_hypercolumns(im[None], extractor(im[None]), xy) for im in (image, content))
        return float(SelfSimilarityLoss()(a, b))
