"""A perceptual distance between paired images in EfficientNet-Lite0 features: a metric and a transport cost."""

from __future__ import annotations

import functools
import operator

import torch

from .effnet import EffNetLite0


class PerceptualDistance(torch.nn.Module):
    """Unweighted LPIPS-like distance ``PD-EffNetLite0``: mean over stages of the squared difference of
    channel-normalised EfficientNet-Lite0 activations (strides 2-16), averaged over positions.

    Unlike LPIPS it has no learned per-channel weights, so its numbers are not LPIPS numbers.
    Differentiable (usable as a transport cost); images are upsampled to at least ``min_size``.
    """

    name = "PD-EffNetLite0"

    def __init__(self, backbone: EffNetLite0 | None = None, stages: int = 4, min_size: int = 64):
        super().__init__()
        self.backbone = backbone or EffNetLite0()
        self.n_stages, self.min_size = stages, min_size

    def _feats(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.shape[-1] < self.min_size:
            x = torch.nn.functional.interpolate(
                x, size=(self.min_size, self.min_size), mode="bilinear", align_corners=False
            )
        return [f / (f.norm(dim=1, keepdim=True) + 1e-10) for f in self.backbone.stages(x, self.n_stages)]

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-image distance (N,)."""
        terms = [(fx - fy).pow(2).sum(1).mean(dim=(1, 2)) for fx, fy in zip(self._feats(x), self._feats(y))]
        return functools.reduce(operator.add, terms) / self.n_stages
