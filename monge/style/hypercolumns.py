"""Hypercolumns: several backbone layers plus RGB, read at sampled locations of an image (STROTSS's features)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError

EXTRACTORS = ("effnet-lite0", "vgg16")


class EffNetHypercolumns(nn.Module):
    """EfficientNet-Lite0 activations standing in for VGG's relu1..relu5: the non-negative ReLU6 outputs
    of the stem (stride 2) and of the depthwise stage of blocks 0, 2, 4 and 5 (strides 2, 4, 8, 16;
    32, 32, 144, 240 and 240 channels: hypercolumns of 691 values with RGB). Deeper blocks are never
    run; the first block at stride 16 rather than the last (672 channels) makes every step about
    1.3x cheaper at 256 px."""

    TAPS = (0, 2, 4, 5)

    def __init__(self, backbone=None):
        super().__init__()
        from ..backbones.effnet import EffNetLite0

        self.backbone = backbone or EffNetLite0()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.backbone.hypercolumn_layers(x, self.TAPS)


class VGGHypercolumns(nn.Module):
    """VGG16 relu1_1, 1_2, 2_1, 2_2, 3_1, 3_2, 3_3, 4_3, 5_3 (the published STROTSS layers)."""

    LAYERS = ("relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3", "relu4_3", "relu5_3")

    def __init__(self, weights=None):
        super().__init__()
        from ..backbones.vgg import VGG16

        self.vgg = VGG16(weights)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.vgg.activations(x, self.LAYERS)


def make_extractor(name: str, weights=None) -> nn.Module:
    """The hypercolumn extractor ``effnet-lite0`` (offline) or ``vgg16`` (needs its local weights),
    its weights channels-last: its activations then are too (each pixel's channels contiguous),
    which is what :func:`sample_bilinear` reads fastest and what oneDNN's convolutions run fastest."""
    extractor: nn.Module
    if name == "effnet-lite0":
        extractor = EffNetHypercolumns()
    elif name == "vgg16":
        extractor = VGGHypercolumns(weights)
    else:
        raise ConfigError("backbone", f"{name!r} is not one of {', '.join(EXTRACTORS)}")
    return extractor.to(memory_format=torch.channels_last)


def bilinear_corners(xy: torch.Tensor, size: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """The four pixels (flat indices, (N, 4)) and weights ((N, 4)) that bilinear interpolation reads
    at ``xy`` (N, 2) in [-1, 1] (x, y) of an (H, W) map: ``grid_sample``'s rule with
    ``align_corners=False`` and zero padding (an outside pixel gets weight 0)."""
    h, w = size
    x, y = (xy[:, 0].float() + 1) * w / 2 - 0.5, (xy[:, 1].float() + 1) * h / 2 - 0.5
    x0, y0 = x.floor(), y.floor()
    fx, fy = x - x0, y - y0
    index, weight = [], []
    for dy in (0, 1):
        for dx in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            index.append((yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long())
            weight.append((fx if dx else 1 - fx) * (fy if dy else 1 - fy) * inside)
    return torch.stack(index, 1), torch.stack(weight, 1)


class _GatherBilinear(torch.autograd.Function):
    """Bilinear reads of one map (1, C, H, W) at fixed pixels and weights, as float32 rows (N, C).

    ``grid_sample`` walks its map channel by channel; this gathers whole pixels (C values each, one
    contiguous row of a channels-last map) and scatters the gradient back the same way, in the map's
    own dtype, channels-last whatever the map's layout. A channels-last backbone's forward and
    backward then stay channels-last, where ``grid_sample``'s channels-first gradient made every
    layer after it copy between layouts (STROTSS at 512 px in bf16: backbone and sampling 2.4x
    faster than ``grid_sample`` on a channels-first backbone; benchmarks/README.md)."""

    @staticmethod
    def forward(ctx, feat: torch.Tensor, index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        _, c, h, w = feat.shape
        rows = feat[0].permute(1, 2, 0).reshape(h * w, c)  # a view of a channels-last map
        picked = rows.index_select(0, index.flatten()).view(len(index), 4, c).float()
        ctx.save_for_backward(index, weight)
        ctx.map_shape, ctx.map_dtype = (h, w, c), feat.dtype
        return torch.bmm(weight.unsqueeze(1), picked).squeeze(1)  # the four weighted pixels summed

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        index, weight = ctx.saved_tensors
        h, w, c = ctx.map_shape
        spread = (weight.unsqueeze(2) * grad.unsqueeze(1)).reshape(-1, c).to(ctx.map_dtype)
        rows = torch.zeros(h * w, c, dtype=ctx.map_dtype, device=grad.device).index_add_(0, index.flatten(), spread)
        return rows.view(1, h, w, c).permute(0, 3, 1, 2), None, None


class SamplePoints:
    """Locations ``xy`` (N, 2) in [-1, 1] (x, y) with, per map size, the pixels and weights that
    bilinear reads there (:func:`bilinear_corners`), found once while the points stay: STROTSS
    keeps its points for 10 steps and reads six maps at them per step."""

    def __init__(self, xy: torch.Tensor):
        self.xy = xy
        self._corners: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]] = {}

    def corners(self, size: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        if size not in self._corners:
            self._corners[size] = bilinear_corners(self.xy, size)
        return self._corners[size]


def _as_points(points: torch.Tensor | SamplePoints, device: torch.device) -> SamplePoints:
    return points if isinstance(points, SamplePoints) else SamplePoints(points.to(device))


def sample_bilinear(feat: torch.Tensor, points: torch.Tensor | SamplePoints) -> torch.Tensor:
    """Float32 values (N, C) of one map (1, C, H, W) at ``points`` (N, 2) in [-1, 1] (x, y), read by
    bilinear interpolation: ``grid_sample`` (align_corners=False, zero padding) to float rounding."""
    index, weight = _as_points(points, feat.device).corners(tuple(feat.shape[-2:]))
    with torch.autocast(feat.device.type, enabled=False):  # the weighted sum stays float32
        return _GatherBilinear.apply(feat, index, weight)


def sample_hypercolumns(
    image: torch.Tensor, feats: list[torch.Tensor], points: torch.Tensor | SamplePoints
) -> torch.Tensor:
    """Hypercolumns (N, 3 + sum C), float32, at ``points`` (N, 2) in [-1, 1] (x, y) of one image:
    RGB plus each layer, read by bilinear interpolation."""
    points = _as_points(points, image.device)  # once: the maps of one size share their corners
    return torch.cat([sample_bilinear(f, points) for f in [image, *feats]], dim=1)


def label_map(labels: torch.Tensor | None, size: tuple[int, ...]) -> torch.Tensor | None:
    if labels is None:
        return None
    return F.interpolate(labels[None, None].float(), size=size, mode="nearest")[0, 0].long()


def sample_xy(
    n: int,
    labels: torch.Tensor | None,
    region: int | None,
    gen: torch.Generator,
    size: tuple[int, ...],
    distinct: bool = False,
) -> torch.Tensor:
    """n random locations (x, y) in [-1, 1] at pixel centres, inside ``region`` when labels are given;
    with ``distinct``, different pixels, at most as many as there are (the style side's "up to n")."""
    h, w = size
    inside = torch.arange(h * w) if labels is None else torch.nonzero(labels.flatten() == region).squeeze(1)
    if distinct:
        idx = inside[torch.randperm(len(inside), generator=gen)[:n]]
    else:
        idx = inside[torch.randint(len(inside), (n,), generator=gen)]
    ys, xs = idx // w, idx % w
    return torch.stack([(xs.float() + 0.5) / w * 2 - 1, (ys.float() + 0.5) / h * 2 - 1], dim=1)
