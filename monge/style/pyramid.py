"""The image as a Laplacian pyramid: STROTSS optimises its bands, coarse detail learning first."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def laplacian_pyramid(img: torch.Tensor, levels: int = 5) -> list[torch.Tensor]:
    """Band-pass levels, finest first; their upsampled sum is the image."""
    bands, current = [], img
    for _ in range(levels - 1):
        small = F.interpolate(current, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
        bands.append(current - F.interpolate(small, size=current.shape[-2:], mode="bilinear", align_corners=False))
        current = small
    return bands + [current]


def collapse_pyramid(bands: Sequence[torch.Tensor]) -> torch.Tensor:
    img = bands[-1]
    for band in reversed(bands[:-1]):
        img = F.interpolate(img, size=band.shape[-2:], mode="bilinear", align_corners=False) + band
    return img
