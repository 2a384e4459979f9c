"""Simple image-translation baselines that NOT must beat."""

from __future__ import annotations

import numpy as np
import torch


def palette_transfer(
    images: torch.Tensor, target_pixels: torch.Tensor, n_pixels: int = 1024, seed: int = 0
) -> torch.Tensor:
    """Per-image colour transfer: exact OT (POT's EMD) from each image's pixel colours to a sample of
    the target domain's pixel colours, applied by its out-of-sample barycentric map."""
    import ot

    rng = np.random.default_rng(seed)
    palette = target_pixels.reshape(-1, 3).double().numpy()
    palette = palette[rng.choice(len(palette), min(n_pixels, len(palette)), replace=False)]
    out = torch.empty_like(images)
    for i, img in enumerate(images):
        pixels = img.permute(1, 2, 0).reshape(-1, 3).double().numpy()
        fit = pixels[rng.choice(len(pixels), min(n_pixels, len(pixels)), replace=False)]
        transport = ot.da.EMDTransport()
        transport.fit(Xs=fit, Xt=palette)
        mapped = transport.transform(Xs=pixels)
        out[i] = torch.from_numpy(mapped).float().reshape(img.shape[1], img.shape[2], 3).permute(2, 0, 1)
    return out.clamp(-1, 1)
