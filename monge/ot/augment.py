"""Differentiable augmentations of the potential's inputs (DiffAugment, Zhao et al. 2020; ADA, Karras et al. 2020).

A potential trained on a few thousand images learns to tell them apart by details that do not
generalise, and the map then learns to paint those details (stripes, washes). Showing f randomly
shifted and cut-out copies of both T(x) and y, drawn from the same distribution, takes those cues
away while keeping what the two domains differ in. The augmentations are differentiable, so the
map's gradient passes through them. Colour augmentations are deliberately absent: colour is what
a style map must change.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ConfigError

AUGMENTATIONS = ("translation", "cutout")


def translate(x: torch.Tensor, fraction: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``fraction`` of its side in each direction, repeating the border."""
    n, _, h, w = x.shape
    pad = max(1, int(round(min(h, w) * fraction)))
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate").permute(0, 2, 3, 1)  # N, H+2p, W+2p, C
    dy = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
    rows = torch.arange(h, device=x.device)[None] + dy  # N, H
    cols = torch.arange(w, device=x.device)[None] + dx  # N, W
    batch = torch.arange(n, device=x.device)[:, None, None]
    return (
        padded[batch, rows[:, :, None], cols[:, None, :]]
        .permute(0, 3, 1, 2)
        .contiguous(
            memory_format=torch.channels_last
            if x.is_contiguous(memory_format=torch.channels_last)
            else torch.contiguous_format
        )
    )


def cutout(x: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    """Set one random square of side ``fraction`` x the image side to zero in each image."""
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * fraction)), max(1, int(w * fraction))
    top = torch.randint(0, h - ch + 1, (n, 1, 1), device=x.device)
    left = torch.randint(0, w - cw + 1, (n, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    keep = ~((ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw))
    return x * keep[:, None].to(x.dtype)


class Augment:
    """A random augmentation policy, ``Augment("translation,cutout")``: applies each named one in turn."""

    def __init__(self, policy: str):
        self.names = tuple(name for name in policy.split(",") if name and name != "none")
        unknown = set(self.names) - set(AUGMENTATIONS)
        if unknown:
            raise ConfigError(
                "augment",
                f"{policy!r}: unknown {', '.join(sorted(unknown))} "
                f"(expected a comma-separated subset of {', '.join(AUGMENTATIONS)})",
            )

    def __bool__(self) -> bool:
        return bool(self.names)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.names:
            x = translate(x) if name == "translation" else cutout(x)
        return x

    def __repr__(self) -> str:
        return f"Augment({','.join(self.names) or 'none'!r})"
