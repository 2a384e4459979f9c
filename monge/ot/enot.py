"""Expectile-regularised Neural Optimal Transport (ENOT; Buzun, Bobrovskiy, Dylov, NeurIPS 2024).

ENOT keeps NOT's problem (a map T, a potential f, a cost c) and changes the update rule: one
joint step of both nets per batch instead of ``t_steps`` map updates per potential update. On a
source batch x and a target batch y, with T(x) held fixed for the potential:

- the map minimises, f frozen:      E c(x, T(x)) - E f(T(x))                     (NOT's T-loss)
- the potential minimises           -E f(y) - E g(x),   g(x) = c(x, T(x)) - f(T(x))
  plus the expectile regularisation  w * E[ L_tau(f(y) + sg(g(x) - c(x, y)))
                                            + L_tau(g(x) + sg(f(y) - c(x, y))) ]

over the batch's (x_i, y_i), an arbitrary pairing. monge's costs average over coordinates where
the paper's sum them; ``w`` is the paper's weight, applied in its units (times the coordinates).
``L_tau(u) = |tau - 1[u < 0]| u^2`` weighs a
violation of f(y) + g(x) <= c(x, y) by tau and slack by 1 - tau: f and g are regressed towards
each other's c-transforms (an expectile close to the minimum for tau near 1), which binds the
potential the max-min game leaves free and lets a single map update per step suffice.
"""

from __future__ import annotations

import torch

from ..data.sampling import Sampler
from .defaults import EXPECTILE, EXPECTILE_WEIGHT
from .optim import frozen
from .trainer import Solver


def expectile_loss(diff: torch.Tensor, tau: float = EXPECTILE) -> torch.Tensor:
    """The asymmetric squared loss of expectile regression, elementwise: ``tau u^2`` where ``u >= 0``,
    ``(1 - tau) u^2`` where ``u < 0``."""
    weight = torch.where(diff >= 0, torch.full_like(diff, tau), torch.full_like(diff, 1 - tau))
    return weight * diff.pow(2)


class ENOT(Solver):
    """NOT's problem under ENOT's update rule: one joint map and potential update per step.

    >>> solver = ENOT(T=MLP(2, 2), f=MLP(2, 1), cost=QuadraticCost())
    >>> solver.fit(source_tensor, target_tensor, steps=3000, batch_size=256)

    Takes every argument of :class:`~monge.ot.trainer.Solver`, plus ``expectile`` (tau) and
    ``expectile_weight``. Any cost works: the regularisation's
    c(x, y) is the cost of one output, so a weak cost reduces to the strong one there.
    """

    def __init__(self, *args, expectile: float = EXPECTILE, expectile_weight: float = EXPECTILE_WEIGHT, **kwargs):
        super().__init__(*args, **kwargs)
        self.expectile, self.expectile_weight = expectile, expectile_weight

    def losses(
        self, x: torch.Tensor, y: torch.Tensor, partners: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The map's loss (f frozen) and the potential's loss (T(x) fixed) of one joint step."""
        with self._autocast():
            out = self.mapped_outputs(x, partners)
            flat = out.flatten(0, 1) if self.stochastic else out
            with frozen(self.f):  # the plain f: under DDP only the potential's own update reduces
                t_loss = self.cost(x, out).float().mean() - self.f(self.augment(flat)).float().mean()
            fixed, fixed_flat = out.detach(), flat.detach()
            scores = self._f_train(self.augment(torch.cat([fixed_flat.to(y.dtype), y]))).float().flatten()
            f_mapped = scores[: len(fixed_flat)].view(len(x), -1).mean(1)  # mean over a weak map's draws
            f_y = scores[len(fixed_flat) :]
            g = self.cost(x, fixed).float() - f_mapped  # the c-transform of f, estimated at x by T(x)
            single = y.unsqueeze(1) if self.stochastic else y
            c_xy = self.cost(x, single).float()
        tau = self.expectile
        regulariser = expectile_loss(f_y + (g - c_xy).detach(), tau).mean()
        regulariser = regulariser + expectile_loss(g + (f_y - c_xy).detach(), tau).mean()
        # monge's costs are means over coordinates; the paper's weight is for sums: rescale by their count
        weight = self.expectile_weight * x[0].numel()
        f_loss = -(f_y.mean() + g.mean()) + weight * regulariser
        return t_loss, f_loss

    def joint_update(self, x: torch.Tensor, y: torch.Tensor, partners: torch.Tensor | None = None) -> dict[str, float]:
        """One ENOT step on a source and a target batch: both losses from the same weights, then
        both optimisers step. Returns both losses."""
        x, y = x.to(self.device), y.to(self.device)
        partners = None if partners is None else partners.to(self.device)
        t_loss, f_loss = self.losses(x, y, partners)
        values = {"t_loss": self._checked(t_loss, "T-loss"), "f_loss": self._checked(f_loss, "f-loss")}
        for opt in (self.opt_T, self.opt_f):
            opt.zero_grad(set_to_none=True)
        self._backward(f_loss)  # reaches only f: the potential's loss sees T(x) detached
        self._backward(t_loss)
        self.opt_T.step()
        self.opt_f.step()
        self._average_map()
        return values

    def step(self, sample_x: Sampler, sample_y: Sampler, batch_size: int) -> dict[str, float]:
        """One joint update of T and f (see the module docstring)."""
        self.T.train()
        self.f.train()
        self.before_update()
        if self.anchor is None:
            x, partners = sample_x(batch_size), None
        else:
            x, partners = self.pair_batch(*self.anchor, batch_size, self.anchor_generator)
        losses = self.joint_update(x, sample_y(batch_size), partners)
        self.steps_done += 1
        return losses
