"""Region masks for guided style transfer: colour masks to region labels, matched between content and style."""

from __future__ import annotations

import torch

from ..errors import DataError


def _segment_distance(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> float:
    t = ((p - a) @ (b - a) / ((b - a) @ (b - a)).clamp_min(1e-8)).clamp(0, 1)
    return float((p - (a + t * (b - a))).norm())


def mask_regions(mask: torch.Tensor, name: str = "mask") -> tuple[torch.Tensor, torch.Tensor]:
    """Region labels (H, W) of a colour mask (3, H, W) in [-1, 1], robust to JPEG noise.

    Colours are binned coarsely; the most frequent bins (>= 0.5 % of the pixels) become region
    colours unless they lie near an accepted colour or on the blend between two (JPEG's edge
    smearing). Every pixel then takes the nearest region colour. Returns labels and colours (K, 3).
    """
    pixels = ((mask.permute(1, 2, 0).reshape(-1, 3) + 1) * 127.5).round()
    quant = (pixels / 32).round() * 32
    colours, counts = torch.unique(quant, dim=0, return_counts=True)
    accepted: list[torch.Tensor] = []
    for i in counts.argsort(descending=True):
        if counts[i] < 0.005 * len(pixels):
            break
        c = colours[i]
        if any(float((c - a).norm()) < 120 for a in accepted):
            continue
        if any(_segment_distance(c, a, b) < 80 for j, a in enumerate(accepted) for b in accepted[j + 1 :]):
            continue
        accepted.append(c)
    if not accepted:
        raise DataError(f"{name}: no colour covers 0.5 % of the mask")
    dominant = torch.stack(accepted)
    labels = torch.cdist(pixels, dominant).argmin(1)
    return labels.view(mask.shape[1:]), dominant / 127.5 - 1


def _hex(colour: torch.Tensor) -> str:
    """A region colour (3,) in [-1, 1] as ``#rrggbb`` (bin centres may lie past 255: clamped)."""
    r, g, b = ((colour + 1) * 127.5).round().clamp(0, 255).int().tolist()
    return f"#{r:02x}{g:02x}{b:02x}"


def match_regions(content_mask: torch.Tensor, style_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Content and style region labels with shared ids: each content colour must appear in the style mask."""
    c_labels, c_cols = mask_regions(content_mask, name="content mask")
    s_labels, s_cols = mask_regions(style_mask, name="style mask")
    d = torch.cdist(c_cols, s_cols)
    nearest = d.argmin(1)
    far = d.min(1).values > 0.35
    if far.any():
        found = ", ".join(_hex(c) for c in s_cols)
        raise DataError(
            f"content mask colour {_hex(c_cols[far][0])} has no region of that colour in the style mask "
            f"(its colours: {found})"
        )
    remap = torch.full((len(s_cols),), -1, dtype=torch.long)
    remap[nearest] = torch.arange(len(c_cols))
    return c_labels, remap[s_labels], len(c_cols)
