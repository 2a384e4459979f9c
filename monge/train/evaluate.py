"""Held-out evaluation of a map during training: FD (or FID), paired metrics, sample-grid rows."""

from __future__ import annotations

from pathlib import Path

import torch

from ..backbones.effnet import EffNetLite0
from ..backbones.perceptual import PerceptualDistance
from ..backbones.registry import FeatureExtractor, load_backbone
from ..errors import DivergenceError, WeightsNotFound
from ..metrics import fd_from_stats, image_stats, paired_metrics
from ..ot.trainer import Solver
from .config import TrainConfig

EXPLODED_OUTPUT = 10.0  # a map whose outputs average this far outside [-1, 1] has diverged


def _metric_backbone(cfg: TrainConfig) -> FeatureExtractor:
    """The configured metric backbone on the run's device (``auto``: Inception where its weights are found)."""
    if cfg.backbone == "auto":
        try:
            extractor = load_backbone("inception", cfg.inception_weights)
        except WeightsNotFound:
            extractor = load_backbone("effnet-lite0")
    else:
        extractor = load_backbone(cfg.backbone, cfg.inception_weights)
    return extractor.to(cfg.device)


class Evaluator:
    """Held-out evaluation: FD (or FID) of T(source test) against the target test split, and paired
    metrics (MSE, PSNR, PD-EffNetLite0) when test images of both domains share file names. ``split``
    names the held-out split (``test``, or ``val``: the one a checkpoint is chosen on); ``extractor``
    shares another evaluator's backbone, so both splits are measured by one network, loaded once."""

    def __init__(
        self,
        cfg: TrainConfig,
        source_test,
        target_test,
        run: Path,
        split: str = "test",
        extractor: FeatureExtractor | None = None,
    ):
        self.extractor = extractor if extractor is not None else _metric_backbone(cfg)
        self.metric, self.split = self.extractor.name, split
        n = min(cfg.eval_images, len(source_test))
        self.source = torch.stack([source_test[i] for i in range(n)])
        self.size = cfg.size
        self.target_stats = image_stats(
            target_test, self.extractor, cfg.size, cache=run / f"target_{split}_stats_{self.extractor.backbone_id}.npz"
        )
        common = set(source_test.names[:n]) & set(target_test.names)
        keep = [i for i, name in enumerate(source_test.names[:n]) if name in common]
        self.paired = None
        if keep:
            self.paired_idx = torch.tensor(keep)
            self.paired = target_test.subset([source_test.names[i] for i in keep]).tensor()
            self.perceptual = PerceptualDistance(
                self.extractor if isinstance(self.extractor, EffNetLite0) else None
            ).to(cfg.device)
        # the grid shows hidden targets under paired sources when there are enough of them, else none
        paired_grid = len(keep) >= cfg.grid_images
        self.grid_idx = torch.tensor(keep[: cfg.grid_images] if paired_grid else range(min(n, cfg.grid_images)))
        self.grid_source = self.source[self.grid_idx]
        self.grid_target = self.paired[: cfg.grid_images] if paired_grid and self.paired is not None else None

    def score(self, mapped: torch.Tensor) -> dict[str, float]:
        """The metrics of mapped held-out source images (row i maps source test image i)."""
        stats = image_stats(mapped, self.extractor, self.size)
        result = {self.metric: fd_from_stats(stats, self.target_stats)}
        if self.paired is not None:
            result.update(paired_metrics(mapped[self.paired_idx], self.paired, self.perceptual))
        return result

    def baselines(self, source_train: torch.Tensor, target_train: torch.Tensor) -> dict[str, dict[str, float]]:
        """The trivial maps a translation must beat, scored like the map: the identity, and one global
        colour transfer (the OT map between Gaussian fits of the training splits' pixel colours)."""
        from ..ot.baselines import gaussian_colour_map

        colour = gaussian_colour_map(source_train, target_train)
        return {"identity": self.score(self.source), "Gaussian colour OT": self.score(colour(self.source))}

    def __call__(self, solver: Solver, seed: int) -> tuple[dict[str, float], list[torch.Tensor]]:
        """Metrics and the rows of a sample grid; uses its own RNG so training is not perturbed."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            raw = solver.map(self.source)
            size = float(raw.abs().mean()) if bool(torch.isfinite(raw).all()) else float("inf")
            if size > EXPLODED_OUTPUT:
                raise DivergenceError(
                    f"the map's held-out outputs exploded at step {solver.steps_done} (mean |T(x)| {size:.3g}, "
                    "where images lie in [-1, 1]): training diverged (try a lower --lr)"
                )
            mapped = raw.clamp(-1, 1)  # the images translate writes: PNGs clip
            result = self.score(mapped)
            rows = [self.grid_source]
            if solver.stochastic:
                rows += list(solver.sample(self.grid_source, 3).transpose(0, 1))
            else:
                rows.append(mapped[self.grid_idx])
            if self.grid_target is not None:
                rows.append(self.grid_target)
        return result, rows
