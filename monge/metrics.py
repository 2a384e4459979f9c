"""Measurements: Frechet distance (FID / FD-EffNetLite0), KID, paired distances, L2-UVP.

A Frechet distance is named after the backbone whose features it uses: ``FID`` only with the
standard Inception weights, ``FD-EffNetLite0`` with the offline EfficientNet-Lite0.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .backbones.perceptual import PerceptualDistance
from .backbones.registry import FeatureExtractor
from .errors import DataError

EXTERNAL_INCEPTION = "external-inception"  # mu/sigma from pytorch-fid or clean-fid


@dataclass
class FeatureStats:
    """Gaussian statistics (and the raw features, for KID) of one image set in one backbone."""

    mu: np.ndarray
    sigma: np.ndarray
    features: np.ndarray
    backbone_id: str
    size: int
    images_key: str = ""  # a hash of which images these are (see images_key); "" when unknown

    @property
    def count(self) -> int:
        return len(self.features)

    @classmethod
    def from_features(cls, features: torch.Tensor | np.ndarray, backbone_id: str, size: int) -> FeatureStats:
        f = np.asarray(features, dtype=np.float64)
        if len(f) < 2:
            raise DataError(f"feature statistics need at least 2 images, got {len(f)}")
        return cls(f.mean(0), np.cov(f, rowvar=False), f.astype(np.float32), backbone_id, size)

    def save(self, path: str | Path) -> None:
        """Write an npz (mu, sigma, features, backbone id, image count, size) atomically."""
        from .runs import atomic_write

        def write(tmp: str) -> None:
            with open(tmp, "wb") as fh:  # a file object: np.savez would append ".npz" to a bare name
                np.savez(
                    fh,
                    mu=self.mu,
                    sigma=self.sigma,
                    features=self.features,
                    backbone_id=self.backbone_id,
                    count=self.count,
                    size=self.size,
                    images_key=self.images_key,
                )

        atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path) -> FeatureStats:
        """A statistics file written by :meth:`save`; or a pytorch-fid / clean-fid file holding only
        ``mu`` and ``sigma`` (Inception pool features: ``backbone_id`` ``external-inception``, no
        features, so FD only; its image count and size are unknown, given as 2 and 0)."""
        try:
            with np.load(path) as d:
                if "features" not in d and {"mu", "sigma"} <= set(d.keys()):
                    mu, sigma = np.asarray(d["mu"], np.float64), np.asarray(d["sigma"], np.float64)
                    stats = cls(mu, sigma, np.zeros((2, 0), np.float32), EXTERNAL_INCEPTION, 0)
                else:
                    key = str(d["images_key"]) if "images_key" in d else ""
                    stats = cls(d["mu"], d["sigma"], d["features"], str(d["backbone_id"]), int(d["size"]), key)
        except (OSError, KeyError, ValueError) as err:
            raise DataError(f"{path}: not a statistics file of monge, pytorch-fid or clean-fid ({err})") from None
        stats.check(path)
        return stats

    def check(self, path: str | Path) -> None:
        """Refuse statistics that no image set gives: mis-shaped, non-finite, or external ones that are
        not Inception's 2,048 pool features."""
        mu, sigma = np.asarray(self.mu), np.asarray(self.sigma)
        d = mu.shape[0] if mu.ndim == 1 else -1
        if d < 1 or sigma.shape != (d, d):
            raise DataError(f"{path}: mu has shape {mu.shape} and sigma {sigma.shape}; expected (d,) and (d, d)")
        if self.features.size and (self.features.ndim != 2 or self.features.shape[1] != d):
            raise DataError(f"{path}: features have shape {self.features.shape}; expected (n, {d})")
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise DataError(f"{path}: mu or sigma holds NaN or infinite values")
        if self.backbone_id == EXTERNAL_INCEPTION and d != 2048:
            raise DataError(f"{path}: pytorch-fid / clean-fid statistics are 2048-d Inception features; this is {d}-d")


def frechet_terms(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> dict[str, float]:
    """The Frechet ``distance`` with its two parts: ``mean`` = ||mu1 - mu2||^2 and ``covariance`` =
    tr(S1 + S2 - 2 (S1 S2)^(1/2)), and the traces ``trace1`` and ``trace2``: they tell a map that
    moves the features' centre from one that adds or removes spread, or spreads them in directions
    the target does not.

    tr((S1 S2)^(1/2)) is the sum of the square roots of S1 S2's eigenvalues (real and non-negative
    for two covariances, up to rounding, which the real part of the complex root drops): the same
    value as the trace of scipy's ``sqrtm``, 3-4x faster on 1,280-d features, and defined for the
    singular covariances that few images give."""
    diff = mu1 - mu2
    roots = np.sqrt(np.linalg.eigvals(sigma1 @ sigma2).astype(complex)).real
    trace1, trace2 = float(np.trace(sigma1)), float(np.trace(sigma2))
    mean, covariance = float(diff @ diff), trace1 + trace2 - 2 * float(roots.sum())
    return {
        "distance": max(mean + covariance, 0.0),
        "mean": mean,
        "covariance": covariance,
        "trace1": trace1,
        "trace2": trace2,
    }


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))."""
    return frechet_terms(mu1, sigma1, mu2, sigma2)["distance"]


def fd_terms_from_stats(a: FeatureStats, b: FeatureStats) -> dict[str, float]:
    """:func:`frechet_terms` of two statistics from the same backbone."""
    if a.backbone_id != b.backbone_id:
        raise DataError(f"statistics from different backbones: {a.backbone_id} vs {b.backbone_id}")
    return frechet_terms(a.mu, a.sigma, b.mu, b.sigma)


def fd_from_stats(a: FeatureStats, b: FeatureStats) -> float:
    """The Frechet distance between two feature statistics of the same backbone."""
    return fd_terms_from_stats(a, b)["distance"]


def kid(
    features_a: np.ndarray, features_b: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel, mean and std over subsets.

    A subset as large as the smaller set would draw the same images every time (a std of zero that
    says nothing): the subsets then shrink to half of it, with a warning."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    n = min(len(a), len(b))
    if n < 2:
        raise DataError("KID needs at least 2 images on each side")
    m = min(n, subset_size)
    if m == n and subsets > 1:
        m = max(2, n // 2)
        warnings.warn(
            f"KID: a subset size of {subset_size} is not below the {n} images of the smaller set; using subsets of {m}",
            stacklevel=2,
        )
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for s in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        values[s] = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
    return float(values.mean()), float(values.std())


def paired_bootstrap_fd(
    features: dict[str, np.ndarray],
    target: np.ndarray,
    baseline: str,
    backbone_id: str,
    size: int,
    resamples: int = 20,
    seed: int = 1,
) -> dict[str, tuple[float, float]]:
    """FD minus the ``baseline``'s FD over paired bootstrap resamples: (mean, std) per method.

    ``features`` holds each method's features of the same N mapped test images (row i comes from
    source image i), ``target`` the features of N target images. Every resample draws one set of
    indices and uses it for every method and for the target, so the differences carry only the
    methods' own variation; a difference more than 3 standard deviations from zero is more than
    sampling noise."""
    rng = np.random.default_rng(seed)
    draws = [rng.choice(len(target), len(target)) for _ in range(resamples)]
    target_draws = [FeatureStats.from_features(target[i], backbone_id, size) for i in draws]
    values = {
        name: np.array(
            [fd_from_stats(FeatureStats.from_features(f[i], backbone_id, size), t) for i, t in zip(draws, target_draws)]
        )
        for name, f in features.items()
    }
    return {
        name: (float((v - values[baseline]).mean()), float((v - values[baseline]).std())) for name, v in values.items()
    }


def images_key(images) -> str:
    """A SHA-256 naming which images a set holds: for an image source its file names and the pixels of
    its first, middle and last images (cheap, and two styles of the same names differ); else all pixels."""
    digest = hashlib.sha256()
    names = getattr(images, "names", None)
    if names is not None:
        digest.update("\n".join(map(str, names)).encode())
        for i in sorted({0, len(names) // 2, len(names) - 1} if len(names) else set()):
            digest.update(torch.as_tensor(images[i]).numpy().tobytes())
    else:
        digest.update(torch.as_tensor(images).detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def image_stats(
    images,
    extractor: FeatureExtractor,
    size: int,
    batch_size: int = 64,
    progress: bool = False,
    cache: str | Path | None = None,
    workers: int = 0,
    cache_dir: str | Path | None = None,
) -> FeatureStats:
    """Statistics of an image tensor or Dataset, read from / written to ``cache`` when given: a cached
    file is used only for the same backbone, size and images (their :func:`images_key`), else recomputed.
    ``cache_dir`` instead keeps one file per backbone, size and images in that folder."""
    key = images_key(images) if cache is not None or cache_dir is not None else ""
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{extractor.backbone_id}-{size}-{key[:20]}.npz"
        cache.parent.mkdir(parents=True, exist_ok=True)
    if cache is not None and Path(cache).is_file():
        stats = FeatureStats.load(cache)
        if (stats.backbone_id, stats.size, stats.images_key) == (extractor.backbone_id, size, key):
            return stats
    features = extractor.encode(images, batch_size, progress, workers)
    stats = FeatureStats.from_features(features, extractor.backbone_id, size)
    stats.images_key = key
    if cache is not None:
        stats.save(cache)
    return stats


@torch.no_grad()
def paired_metrics(
    pred: torch.Tensor, true: torch.Tensor, perceptual: PerceptualDistance | None = None, batch_size: int = 64
) -> dict[str, float]:
    """Pixel MSE, PSNR (images in [-1, 1], peak-to-peak 2) and PD-EffNetLite0 between paired images."""
    if pred.shape != true.shape:
        raise DataError(f"paired images differ in shape: {tuple(pred.shape)} vs {tuple(true.shape)}")
    mse_per = (pred - true).pow(2).flatten(1).mean(1)
    out = {"mse": float(mse_per.mean()), "psnr": float((10 * torch.log10(4.0 / mse_per.clamp_min(1e-12))).mean())}
    if perceptual is not None:
        device = next(perceptual.parameters()).device
        d = torch.cat(
            [
                perceptual(p.to(device), t.to(device)).cpu()
                for p, t in zip(pred.split(batch_size), true.split(batch_size))
            ]
        )
        out[perceptual.name] = float(d.mean())
    return out


def l2_uvp(mapped: torch.Tensor, true_mapped: torch.Tensor, target_variance: float | None = None) -> float:
    """L2-UVP in %: 100 * E||T(x) - T*(x)||^2 / Var(Q), with Var(Q) the summed per-coordinate variance."""
    var = float(true_mapped.var(0).sum()) if target_variance is None else target_variance
    return float(100 * (mapped - true_mapped).pow(2).sum(1).mean() / var)
