"""The translation quality ladder: every method scored the same way on the same held-out pairs.

Floors (identity, palette transfer, Gaussian colour OT), a peer (CycleGAN), NOT, and a ceiling
(the same network trained with the hidden pairs). For each method's mapped test images:

- FD-EffNetLite0 against the target test images, and FD minus the identity's FD over paired
  bootstrap resamples (mean, std: a gap beyond 3 std is more than sampling noise);
- KID in the same features;
- MSE, PSNR and PD-EffNetLite0 to the hidden targets;
- a classifier two-sample test's held-out accuracy (a CNN trained from scratch: no pretrained
  backbone), 50 % meaning indistinguishable from real target images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..backbones.effnet import EffNetLite0
from ..backbones.perceptual import PerceptualDistance
from ..metrics import FeatureStats, fd_terms_from_stats, kid, paired_bootstrap_fd, paired_metrics
from .c2st import two_sample_accuracy
from .pairs import HeldOut

MapFn = Callable[[torch.Tensor], torch.Tensor]


def score_methods(
    pairs: HeldOut,
    methods: dict[str, MapFn],
    extras: dict[str, dict] | None = None,
    size: int = 32,
    resamples: int = 20,
    c2st_train: int = 1000,
    c2st_steps: int = 600,
    c2st_seeds: int = 3,
    seed: int = 0,
) -> dict[str, dict]:
    """Score each map (a function of a batch of images) on ``pairs``; ``methods`` must hold ``identity``.

    ``extras`` adds fields per method (wall time, steps). Maps are clamped to [-1, 1], as the PNGs
    that ``monge translate`` writes are. The two-sample accuracy is the mean (and SD) over
    ``c2st_seeds`` classifiers, each initialised and fed by its own seed: one classifier's accuracy
    moves by a few points from seed to seed."""
    effnet = EffNetLite0()
    perceptual = PerceptualDistance(effnet)
    target_features = effnet.encode(pairs.y).double().numpy()
    target_stats = FeatureStats.from_features(target_features, effnet.backbone_id, size)
    real_train = pairs.y_train[:c2st_train]
    mapped, features = {}, {}
    for name, fn in methods.items():
        with torch.no_grad():
            mapped[name] = fn(pairs.x).clamp(-1, 1)
        features[name] = effnet.encode(mapped[name]).double().numpy()
    deltas = paired_bootstrap_fd(features, target_features, "identity", effnet.backbone_id, size, resamples)
    rows = {}
    for name, fn in methods.items():
        terms = fd_terms_from_stats(FeatureStats.from_features(features[name], effnet.backbone_id, size), target_stats)
        kid_mean, _ = kid(features[name], target_features, subsets=50, subset_size=min(200, len(target_features)))
        with torch.no_grad():
            mapped_train = fn(pairs.x_train[:c2st_train]).clamp(-1, 1)
        accuracies = [
            two_sample_accuracy(mapped_train, real_train, mapped[name], pairs.y, c2st_steps, seed=seed + k)
            for k in range(c2st_seeds)
        ]
        rows[name] = {
            "FD-EffNetLite0": terms["distance"],
            "FD - identity (mean)": deltas[name][0],
            "FD - identity (std)": deltas[name][1],
            "KID": kid_mean,
            **paired_metrics(mapped[name], pairs.y, perceptual),
            "C2ST accuracy": float(np.mean(accuracies)),
            "C2ST accuracy (std)": float(np.std(accuracies)),
            **(extras or {}).get(name, {}),
        }
    return rows


def ladder_table(rows: dict[str, dict]) -> str:
    """A markdown table of :func:`score_methods`' rows, with a verdict against the identity."""
    lines = [
        "| method | FD-EffNetLite0 | FD - identity (bootstrap) | KID | MSE | PSNR | PD | C2ST acc. | steps | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['FD-EffNetLite0']:.1f} | "
            f"{r['FD - identity (mean)']:+.1f} +- {r['FD - identity (std)']:.1f} | {r['KID']:.4f} | "
            f"{r['mse']:.4f} | {r['psnr']:.2f} | {r['PD-EffNetLite0']:.3f} | "
            f"{100 * r['C2ST accuracy']:.1f} +- {100 * r.get('C2ST accuracy (std)', 0.0):.1f} % | "
            f"{r.get('steps', '-')} | {r.get('seconds', 0):.0f} |"
        )
    identity = rows["identity"]
    for name, r in rows.items():
        if name == "identity":
            continue
        worse = [
            what
            for what, bad in (
                ("FD", r["FD-EffNetLite0"] >= identity["FD-EffNetLite0"]),
                ("MSE", r["mse"] >= identity["mse"]),
                ("C2ST", r["C2ST accuracy"] >= identity["C2ST accuracy"]),
            )
            if bad
        ]
        if worse:
            lines.append(f"\n*{name} loses to the identity on {', '.join(worse)}.*")
    return "\n".join(lines)


def mse_progress(rows: dict[str, dict], method: str, ceiling: str) -> float:
    """How far ``method``'s MSE to the hidden targets went from the identity's towards the ceiling's (0-1)."""
    start, end = rows["identity"]["mse"], rows[ceiling]["mse"]
    return float((start - rows[method]["mse"]) / (start - end)) if start != end else float(np.nan)
