"""Transport costs c(x, T(x)) for Neural Optimal Transport.

A strong cost scores one output per input; a weak cost scores a *set* of stochastic outputs
T(x, z_1..Z) per input, so that the map can spread one input over several outputs. Each cost
returns one value per input (shape (N,)); the solver averages them.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import ConfigError
from .defaults import COST_NAMES


class Cost(nn.Module):
    """c(x, y) per sample. ``stochastic`` costs take y of shape (N, Z, ...) instead of (N, ...)."""

    stochastic = False
    name = "cost"

    def set_progress(self, fraction: float) -> None:
        """Training progress in [0, 1], for costs with a schedule (the weak cost's gamma warm-up)."""


def _per_sample_mean(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).mean(1)


class QuadraticCost(Cost):
    """The strong quadratic cost: mean over pixels (coordinates) of (x - y)^2."""

    name = "strong"

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean((x - y) ** 2)


class L1Cost(Cost):
    """Mean absolute difference: keeps edges, tolerates sparse large changes."""

    name = "l1"

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean((x - y).abs())


class PerceptualCost(Cost):
    """Distance in a frozen backbone's normalised features (PD-EffNetLite0), plus ``pixel_weight`` x MSE."""

    name = "perceptual"

    def __init__(self, distance: nn.Module | None = None, pixel_weight: float = 0.0):
        super().__init__()
        if distance is None:
            from ..backbones.perceptual import PerceptualDistance

            distance = PerceptualDistance()
        self.distance, self.pixel_weight = distance, pixel_weight

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.distance(x, y)
        return out + self.pixel_weight * _per_sample_mean((x - y) ** 2) if self.pixel_weight else out


class WeakQuadraticCost(Cost):
    """The gamma-weak quadratic cost, estimated from Z draws per input:

    mse(x, mean_z y_z) + (1 - gamma - 1/Z) * mean unbiased var_z(y_z),

    i.e. E||x - y||^2 - gamma Var(y) with the 1/Z bias of the empirical mean removed.
    gamma rises linearly from 0 to ``gamma`` over the first ``warmup`` fraction of training.
    """

    stochastic = True
    name = "weak"

    def __init__(self, gamma: float = 0.66, warmup: float = 0.25):
        super().__init__()
        self.gamma_target, self.warmup = gamma, warmup
        self.gamma = gamma if warmup <= 0 else 0.0

    def set_progress(self, fraction: float) -> None:
        self.gamma = self.gamma_target * (1.0 if self.warmup <= 0 else min(1.0, fraction / self.warmup))

    def forward(self, x: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        z = ys.shape[1]
        spread = _per_sample_mean(ys.var(dim=1, unbiased=True)) if z > 1 else torch.zeros(len(x), device=x.device)
        return _per_sample_mean((x - ys.mean(dim=1)) ** 2) + (1 - self.gamma - 1 / z) * spread


COSTS: dict[str, type[Cost]] = {cls.name: cls for cls in (QuadraticCost, WeakQuadraticCost, L1Cost, PerceptualCost)}
if tuple(COSTS) != COST_NAMES:  # the configuration's choices are read from COST_NAMES without torch
    raise ImportError(f"monge.ot.costs: the costs {tuple(COSTS)} differ from monge.ot.defaults.COST_NAMES")


def make_cost(name: str, **kwargs) -> Cost:
    """``strong`` (quadratic; also ``l2``), ``weak`` (gamma-weak quadratic), ``l1`` or ``perceptual``."""
    cls = QuadraticCost if name == "l2" else COSTS.get(name)
    if cls is None:
        raise ConfigError("cost", f"{name!r} is not one of {', '.join(COSTS)}")
    return cls(**kwargs)
