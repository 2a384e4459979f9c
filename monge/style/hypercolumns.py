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
    """The hypercolumn extractor ``effnet-lite0`` (offline) or ``vgg16`` (needs its local weights)."""
    if name == "effnet-lite0":
        return EffNetHypercolumns()
    if name == "vgg16":
        return VGGHypercolumns(weights)
    raise ConfigError("backbone", f"{name!r} is not one of {', '.join(EXTRACTORS)}")


def sample_hypercolumns(image: torch.Tensor, feats: list[torch.Tensor], xy: torch.Tensor) -> torch.Tensor:
    """Hypercolumns (N, 3 + sum C) at ``xy`` (N, 2) in [-1, 1] (x, y) of one image: RGB plus each layer,
    read by bilinear interpolation."""
    grid = xy.view(1, 1, -1, 2).to(image.dtype)
    cols = [F.grid_sample(f, grid, mode="bilinear", align_corners=False)[0, :, 0].T for f in [image, *feats]]
    return torch.cat(cols, dim=1)


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
