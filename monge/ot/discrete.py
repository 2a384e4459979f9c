"""Exact discrete OT between two image samples, and a Solver map warm-started on its pairs.

Between two samples of equal size with uniform weights an optimal plan is a permutation
(Birkhoff), so the assignment problem (scipy's ``linear_sum_assignment``) solves discrete OT
exactly. Regressing the map onto these pairs, as Seguy et al. (ICLR 2018) extend a discrete plan
out of sample, starts the max-min game near the quadratic cost's OT map instead of at the
identity: the unpaired training sets alone say where each source image should go.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from scipy.optimize import linear_sum_assignment
from tqdm.auto import tqdm

from ..errors import ConfigError
from .defaults import PAIR_LOSSES, PAIRINGS
from .optim import trainable
from .trainer import Solver

MAX_PAIRS = 4096  # the assignment costs O(n^3): about 10 s at this size on one CPU core
ERROR_NAMES = {"l1": "mae", "l2": "mse"}  # what each pair loss's mean error is called in logs
WARM_START_LR = 1e-3  # Adam's; 500 updates fit the cpu preset's map to 3,400 emoji pairs


def pairing_encoder(pairing: str) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The feature encoder a pairing cost adds to the pixel distance: none, or EfficientNet-Lite0's."""
    if pairing not in PAIRINGS:
        raise ConfigError("ot_pairing", f"{pairing!r} is not one of {', '.join(PAIRINGS)}")
    if pairing == "pixels":
        return None
    from ..backbones.effnet import EffNetLite0

    return EffNetLite0().encode


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise squared Euclidean distances, divided by their mean (so that two of them weigh alike)."""
    d = torch.cdist(a.flatten(1).double(), b.flatten(1).double()).pow(2)
    return d / d.mean().clamp_min(1e-12)


def discrete_ot_pairs(
    x: torch.Tensor,
    y: torch.Tensor,
    max_pairs: int = MAX_PAIRS,
    generator: torch.Generator | None = None,
    encode: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x', y'): equal-size random subsets of ``x`` and ``y`` (at most ``max_pairs``), ``y'[i]`` the
    partner of ``x'[i]`` in the exact OT plan for the squared Euclidean distance between them (with
    ``encode``, plus that between their features, each scaled to mean 1)."""
    n = min(len(x), len(y), max_pairs)
    x = x[torch.randperm(len(x), generator=generator)[:n]]
    y = y[torch.randperm(len(y), generator=generator)[:n]]
    cost = _squared_distances(x, y)
    if encode is not None:
        with torch.no_grad():
            cost = cost + _squared_distances(encode(x), encode(y))
    rows, cols = linear_sum_assignment(cost.numpy())
    return x[torch.from_numpy(rows)], y[torch.from_numpy(cols)]


def pair_error(out: torch.Tensor, partners: torch.Tensor, loss: str) -> torch.Tensor:
    """The mean error of a map's outputs against their partners: l2 (squared) fits their mean, l1
    (absolute) their pixelwise median, which ignores a minority of wrong pairs where the mean
    blends them in as ghosts."""
    if loss not in PAIR_LOSSES:
        raise ConfigError("ot_pair_loss", f"{loss!r} is not one of {', '.join(PAIR_LOSSES)}")
    diff = out.float() - partners.float()
    return diff.abs().mean() if loss == "l1" else diff.pow(2).mean()


def _pair_update(solver: Solver, x: torch.Tensor, y: torch.Tensor, opt: torch.optim.Optimizer, loss: str) -> float:
    """One update of the map towards given partners by ``opt`` (one noise draw for a stochastic
    map). Returns the error; the weight average starts after the warm start."""
    solver.T.train()
    with solver._autocast():
        out = solver._apply(x.to(solver.device), 1, solver._T_train)
        out = out[:, 0] if solver.stochastic else out
        error = pair_error(out, y.to(solver.device), loss)
    return solver._update(error, opt, "warm-start loss")


def fit_to_pairs(
    solver: Solver,
    xs: torch.Tensor,
    ys: torch.Tensor,
    steps: int,
    batch_size: int,
    lr: float = WARM_START_LR,
    generator: torch.Generator | None = None,
    progress: bool = True,
    loss: str = "l2",
) -> list[float]:
    """Fit ``solver``'s map to partners ``ys[i]`` of ``xs[i]`` (the pairs of :func:`discrete_ot_pairs`)
    for ``steps`` Adam updates of ``batch_size`` pairs (the global batch: each process of a
    data-parallel run takes its share); returns the error (``loss``, see :func:`pair_error`) of each
    update. A regression of its own: its optimiser is not the game's, whose learning rate and
    schedule stay the run's."""
    opt = torch.optim.Adam(trainable(solver.T), lr=lr)
    if solver.fabric is not None:
        opt = solver.fabric.setup_optimizers(opt)
    losses: list[float] = []
    bar = tqdm(range(steps), desc="warm start (discrete OT pairs)", disable=not progress, dynamic_ncols=True)
    for _ in bar:
        solver.before_update()
        losses.append(_pair_update(solver, *solver.pair_batch(xs, ys, batch_size, generator), opt, loss))
        bar.set_postfix({ERROR_NAMES[loss]: f"{losses[-1]:.4f}"})
    return losses
