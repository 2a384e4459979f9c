"""STROTSS's objective, its terms weighed as the paper does: style (relaxed EMD, moments, palette) per
mask region against the style image's samples, and content (self-similarity) against the content image's;
and the two distances that score a result by the same terms."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .hypercolumns import SamplePoints, sample_hypercolumns, sample_xy
from .losses import MomentLoss, PaletteLoss, RelaxedEMD, SelfSimilarityLoss, StyleTarget


class StyleObjective:
    """The loss of one step from the output's hypercolumn samples of each region.

    The content weight starts at ``16 alpha`` and halves at every finer scale (:meth:`next_scale`);
    the palette term is divided by it (at least 1), and the sum by ``content weight + 2``. The
    nearest-neighbour pairs of relaxed EMD and the palette are found by :meth:`match` and reused
    until it is called again (each step still scores its pairs exactly).
    """

    def __init__(self, alpha: float):
        self.remd, self.moment, self.palette = RelaxedEMD(), MomentLoss(), PaletteLoss()
        self.selfsim = SelfSimilarityLoss()
        self.content_weight = 16.0 * alpha
        self.content_matrix: torch.Tensor | None = None
        self.remd_pairs: list = []
        self.palette_pairs: list = []

    def next_scale(self) -> None:
        """Halve the content weight: finer scales lean towards style."""
        self.content_weight /= 2.0

    def set_content(self, content_cols: torch.Tensor) -> None:
        """The content image's self-similarity at the current sample locations (all regions)."""
        with torch.no_grad():
            self.content_matrix = self.selfsim.matrix(content_cols)

    def match(self, out_cols: list[torch.Tensor], style: list[StyleTarget]) -> None:
        """Find afresh the relaxed-EMD and palette pairs of each region."""
        self.remd_pairs = [self.remd.match(o, s) for o, s in zip(out_cols, style)]
        self.palette_pairs = [self.palette.match(o, s) for o, s in zip(out_cols, style)]

    def __call__(self, out_cols: list[torch.Tensor], style: list[StyleTarget]) -> tuple[torch.Tensor, dict]:
        """The weighted loss and its terms (tensors) for the output samples of each region."""
        assert self.content_matrix is not None, "set_content first"
        n = len(style)
        terms = {
            "remd": sum(self.remd(o, s, p) for o, s, p in zip(out_cols, style, self.remd_pairs)) / n,
            "palette": sum(self.palette(o, s, p) for o, s, p in zip(out_cols, style, self.palette_pairs)) / n,
            "moment": sum(self.moment(o, s) for o, s in zip(out_cols, style)) / n,
            "content": self.selfsim.against(torch.cat(out_cols), self.content_matrix),
        }
        w = self.content_weight
        loss = (w * terms["content"] + terms["remd"] + terms["moment"] + terms["palette"] / max(w, 1.0)) / (w + 2.0)
        return loss, terms


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
