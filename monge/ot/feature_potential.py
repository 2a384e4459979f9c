"""A potential on frozen pretrained features: f(y) = head(EfficientNet-Lite0 stages(y)).

A ResNet potential trained from scratch on a few thousand images can tell domains apart by
details that do not generalise (and the map learns to paint them). Reading ImageNet features of
the first three stages (strides 2-8) instead, and learning only a small convolutional head on
them, gives f a prior of what images look like. The backbone stays frozen (its weights are not
trained), but gradients flow through it to the map. Caution: a Frechet distance in the same
backbone's features is then no independent judge; use a backbone-free measure (a classifier
two-sample test) to decide whether it helps.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..backbones.effnet import EffNetLite0


class EffNetPotential(nn.Module):
    """Frozen EfficientNet-Lite0 stages 1-3 at ``input_size`` px, then a learnt conv head to one scalar."""

    def __init__(self, width: int = 64, input_size: int = 64, backbone: EffNetLite0 | None = None):
        super().__init__()
        self.backbone = backbone or EffNetLite0()
        self.backbone.requires_grad_(False)
        self.input_size = input_size
        channels = 40  # stage 3 (stride 8) of lite0
        self.head = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(4 * width, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        features = self.backbone.stages(x, upto=3)[-1]
        return self.head(features).squeeze(1)


class SumPotential(nn.Module):
    """f(y) = sum of potentials: e.g. frozen features (shape, texture) plus a pixel ResNet (colour,
    which the stride-8 features hardly see)."""

    def __init__(self, *potentials: nn.Module):
        super().__init__()
        self.potentials = nn.ModuleList(potentials)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([f(x) for f in self.potentials]).sum(0)
