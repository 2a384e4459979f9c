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
from .losses import StyleTarget
from .masks import match_regions
from .objective import StyleObjective
from .options import StyleOptions
from .pyramid import collapse_pyramid, laplacian_pyramid

DEFAULTS = StyleOptions()


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


def _scale_sizes(content: torch.Tensor, style: torch.Tensor, size: int, scales: int) -> list[int]:
    """The long side at each scale, doubling up to ``size``; refuses images or scales too small for the pyramid."""
    if min(content.shape[-2:]) < 16 or min(style.shape[-2:]) < 16:
        raise DataError("content and style images must be at least 16 px on each side")
    sizes = [size // 2 ** (scales - 1 - i) for i in range(scales)]
    shortest = min(content.shape[-2:]) * sizes[0] // max(content.shape[-2:])
    if shortest < 16:  # the 5-band Laplacian pyramid needs 16 px on each side
        raise ConfigError(
            "scales", f"the first scale would be {shortest} px on the content's short side (16 needed): use fewer"
        )
    return sizes


def _regions(
    content: torch.Tensor, style: torch.Tensor, content_mask: torch.Tensor | None, style_mask: torch.Tensor | None
) -> tuple[torch.Tensor | None, torch.Tensor | None, int]:
    """The matched region labels of both images (:func:`match_regions`) and their count; one region without masks."""
    if (content_mask is None) != (style_mask is None):
        raise ConfigError("content_mask", "give both content_mask and style_mask, or neither")
    if content_mask is None or style_mask is None:
        return None, None, 1
    for name, mask, img in (("content", content_mask, content), ("style", style_mask, style)):
        if mask.shape[-2:] != img.shape[-2:]:
            raise DataError(
                f"{name} mask is {tuple(mask.shape[-2:])}, {name} image {tuple(img.shape[-2:])}: sizes must match"
            )
    return match_regions(content_mask, style_mask)


@dataclass
class _Scale:
    """One scale's fixed inputs: the resized content, its features and labels, and the style's samples per region."""

    content: torch.Tensor  # (3, h, w)
    features: list[torch.Tensor]
    labels: torch.Tensor | None
    style: list[StyleTarget]
    style_mean: torch.Tensor  # (3, 1, 1): the style image's mean colour


def _prepare_scale(
    content: torch.Tensor,
    style: torch.Tensor,
    long_side: int,
    labels: tuple[torch.Tensor | None, torch.Tensor | None, int],
    extractor: nn.Module,
    gen: torch.Generator,
    n_style: int,
    device: str,
) -> _Scale:
    """Resize both images to ``long_side``, read their features, and sample the style's hypercolumns per region."""
    c_img, s_img = _resize_long(content, long_side).to(device), _resize_long(style, long_side).to(device)
    c_labels, s_labels, n_regions = labels
    s_hw = tuple(s_img.shape[-2:])
    c_lab, s_lab = label_map(c_labels, tuple(c_img.shape[-2:])), label_map(s_labels, s_hw)
    if s_lab is not None:
        missing = [k for k in range(n_regions) if not (s_lab == k).any() or not (c_lab == k).any()]
        if missing:
            raise DataError(f"mask region {missing[0]} vanishes at {long_side} px: use larger regions")
    with torch.no_grad():
        s_feats, c_feats = extractor(s_img[None]), extractor(c_img[None])
        per_region = max(1, n_style // n_regions)
        style_cols = []
        for k in range(n_regions):
            xy = sample_xy(per_region, s_lab, k if s_lab is not None else None, gen, s_hw, distinct=True)
            style_cols.append(StyleTarget(sample_hypercolumns(s_img[None], s_feats, xy.to(device))))
    return _Scale(c_img, c_feats, c_lab, style_cols, s_img.mean(dim=(1, 2), keepdim=True))


class _Progress:
    """One bar over all scales (a step's work grows with its pixels, so the ETA spans the run), and
    the caller's ``on_progress(fraction)``."""

    def __init__(self, steps: int, sizes: list[int], show: bool, on_progress: Callable[[float], None] | None):
        self.work = [(s / sizes[0]) ** 2 for s in sizes]
        self.total, self.done, self.on_progress = steps * sum(self.work), 0.0, on_progress
        self.bar = tqdm(
            total=self.total,
            disable=not show,
            leave=False,
            dynamic_ncols=True,
            bar_format="{desc}{percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
        )

    def step(self, scale: int, step: int, record: dict[str, float]) -> None:
        self.bar.update(self.work[scale])
        self.done += self.work[scale]
        if self.on_progress is not None:
            self.on_progress(self.done / self.total)
        if step % 10 == 0:
            self.bar.set_postfix(loss=f"{record['loss']:.3f}", remd=f"{record['remd']:.3f}")


def _optimise_scale(
    scale: _Scale,
    start: torch.Tensor,
    objective: StyleObjective,
    extractor: nn.Module,
    autocast,
    gen: torch.Generator,
    schedule: dict,
    index: int,
    progress: _Progress,
) -> tuple[torch.Tensor, list[dict[str, float]]]:
    """RMSprop on the Laplacian pyramid of ``start`` for ``schedule["steps"]`` steps; the content samples
    are drawn afresh every ``resample_every`` steps. Returns the result (clamped) and each step's losses."""
    bands = [nn.Parameter(b.detach()) for b in laplacian_pyramid(start[None], 5)]
    opt = torch.optim.RMSprop(bands, lr=schedule["lr"])
    n_regions, hw = len(scale.style), tuple(scale.content.shape[-2:])
    resample_every, device, history = schedule["resample_every"], scale.content.device, []
    xy_regions: list[SamplePoints] = []
    for step in range(schedule["steps"]):
        if step % resample_every == 0:
            share = max(1, schedule["n_samples"] // n_regions)
            xy_regions = [
                SamplePoints(
                    sample_xy(share, scale.labels, k if scale.labels is not None else None, gen, hw).to(device)
                )
                for k in range(n_regions)
            ]
            with torch.no_grad():
                objective.set_content(
                    torch.cat([sample_hypercolumns(scale.content[None], scale.features, xy) for xy in xy_regions])
                )
        adapt_threads()  # follows the machine's load where the monge command installed a governor
        img = collapse_pyramid(bands)
        with autocast:
            feats = extractor(img)
            out_cols = [sample_hypercolumns(img, feats, xy) for xy in xy_regions]
            if (step % resample_every) % schedule["search_every"] == 0:
                objective.match(out_cols, scale.style)
            loss, terms = objective(out_cols, scale.style)
        if not torch.isfinite(loss):
            where = f"scale {index + 1}, step {step + 1}"
            raise DivergenceError(f"the style loss is {loss.item()} at {where}: lower lr (now {schedule['lr']})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        record = {
            "scale": index,
            "loss": loss.item(),
            **{k: terms[k].item() for k in ("remd", "moment", "palette", "content")},
        }
        history.append(record)
        progress.step(index, step, record)
    with torch.no_grad():
        return collapse_pyramid(bands)[0].clamp(-1, 1), history


def stylize(
    content: torch.Tensor,
    style: torch.Tensor,
    alpha: float = DEFAULTS.alpha,
    size: int = DEFAULTS.size,
    steps: int = DEFAULTS.steps,
    lr: float = DEFAULTS.lr,
    scales: int = DEFAULTS.scales,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    backbone: str | nn.Module = DEFAULTS.backbone,
    n_samples: int = 1024,
    n_style: int = 5000,
    resample_every: int = 10,
    search_every: int = DEFAULTS.search_every,
    seed: int = DEFAULTS.seed,
    device: str = "auto",
    precision: str = DEFAULTS.precision,
    progress: bool = True,
    on_scale: Callable[[int, torch.Tensor], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> StyleResult:
    """Restyle ``content`` with ``style`` (both (3, H, W) in [-1, 1]); ``alpha`` weighs content. The
    defaults are :class:`~monge.style.options.StyleOptions`'.

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
    sizes = _scale_sizes(content, style, size, scales)
    labels = _regions(content, style, content_mask, style_mask)
    device = resolve_device(device)
    extractor = (make_extractor(backbone) if isinstance(backbone, str) else backbone).to(device).eval()
    autocast = _autocast(torch.device(device), precision)
    gen = torch.Generator().manual_seed(seed)
    objective, bar = StyleObjective(alpha), _Progress(steps, sizes, progress, on_progress)
    result: torch.Tensor | None = None
    outputs, history = [], []
    for si, long_side in enumerate(sizes):
        scale = _prepare_scale(content, style, long_side, labels, extractor, gen, n_style, device)
        if result is None:  # the style's mean colour + the content's finest detail band
            start = scale.style_mean + laplacian_pyramid(scale.content[None], 2)[0][0]
        else:
            start = F.interpolate(result[None], size=scale.content.shape[-2:], mode="bilinear", align_corners=False)[0]
        bar.bar.set_description(f"STROTSS scale {si + 1}/{len(sizes)} ({long_side} px)")
        schedule = {
            "steps": steps,
            "lr": lr if si < len(sizes) - 1 else lr / 2,
            "n_samples": n_samples,
            "resample_every": resample_every,
            "search_every": search_every,
        }
        result, losses = _optimise_scale(scale, start, objective, extractor, autocast, gen, schedule, si, bar)
        history += losses
        outputs.append(result.cpu())
        if on_scale is not None:
            on_scale(si, result.cpu())
        objective.next_scale()
    bar.bar.close()
    assert result is not None
    return StyleResult(result.cpu(), outputs, history)


def _autocast(device: torch.device, precision: str):
    """The autocast context of ``precision`` (32, bf16-mixed or auto) on ``device``."""
    if precision not in ("auto", "32", "bf16-mixed"):
        raise ConfigError("precision", f"{precision!r} is not one of auto, 32, bf16-mixed")
    precision = resolve_precision(precision, device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16-mixed")
