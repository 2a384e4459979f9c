"""Simple image-translation baselines that NOT must beat."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import import_extra
from .gaussian import gaussian_ot_map


def palette_transfer(
    images: torch.Tensor, target_pixels: torch.Tensor, n_pixels: int = 1024, seed: int = 0
) -> torch.Tensor:
    """Per-image colour transfer: exact OT (POT's EMD) from each image's pixel colours to a sample of
    the target domain's pixel colours, applied by its out-of-sample barycentric map."""
    ot = import_extra("ot", "bench", "palette transfer (exact discrete OT)")

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


def gaussian_colour_map(source: torch.Tensor, target: torch.Tensor, pixels: int = 200_000, seed: int = 0):
    """The closed-form OT map between Gaussian fits of two image sets' pixel colours, as a function of a
    batch of images: one global colour transfer for the whole domain.

    Grey images have a singular colour covariance (r = g = b); a ridge of 0.1 % of the mean colour
    variance keeps the map from amplifying rounding noise off the grey axis."""
    rng = np.random.default_rng(seed)
    fit = [im.permute(0, 2, 3, 1).reshape(-1, 3).double().numpy() for im in (source, target)]
    xs, xt = (f[rng.choice(len(f), min(pixels, len(f)), replace=False)] for f in fit)
    cov_s, cov_t = np.cov(xs.T), np.cov(xt.T)
    ridge = (1e-3 * (np.trace(cov_s) + np.trace(cov_t)) / 6 + 1e-12) * np.eye(3)
    A, b = gaussian_ot_map(xs.mean(0), cov_s + ridge, xt.mean(0), cov_t + ridge)
    A_t, b_t = torch.from_numpy(A).float(), torch.from_numpy(b).float()
    return lambda x: (x.permute(0, 2, 3, 1) @ A_t + b_t).permute(0, 3, 1, 2).clamp(-1, 1)
