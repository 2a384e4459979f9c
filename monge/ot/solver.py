"""Neural Optimal Transport (Korotin, Selikhanovych, Burnaev, ICLR 2023): the max-min update rule.

The OT dual  sup_f inf_T  E_x[c(x, T(x)) - f(T(x))] + E_y[f(y)]  is solved by alternating
``t_steps`` updates of the map T with one update of the potential f:

- T-loss = E_x[c(x, T(x))] - E_x[f(T(x))]            (f frozen)
- f-loss = E_x[f(T(x'))] - E_y[f(y)]                  (T frozen, fresh x')

For a stochastic (weak) cost, T takes noise z as extra input channels and the cost sees Z draws
T(x, z_1..Z) per x. Nets, cost and solver are independent pieces: any ``nn.Module`` pair works.
What every solver shares (optimisers, moving average, ``fit``, state) is :class:`~monge.ot.trainer.Solver`.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..data.sampling import Sampler
from .costs import Cost
from .defaults import T_STEPS
from .optim import frozen
from .trainer import Solver


class NOT(Solver):
    """Neural Optimal Transport solver: ``t_steps`` map updates per potential update.

    >>> solver = NOT(T=MLP(2, 2), f=MLP(2, 1), cost=QuadraticCost(), t_steps=10)
    >>> solver.fit(source_tensor, target_tensor, steps=1000, batch_size=64)
    >>> y = solver.map(x)

    Takes every argument of :class:`~monge.ot.trainer.Solver` (learning rates, weight average,
    augmentation, schedules, device, Fabric) besides ``t_steps`` and ``f_penalty`` (see :meth:`f_loss`).
    """

    def __init__(
        self,
        T: nn.Module,
        f: nn.Module,
        cost: Cost | None = None,
        t_steps: int = T_STEPS,
        f_penalty: float = 0.0,
        **kwargs,
    ):
        super().__init__(T, f, cost, **kwargs)
        self.t_steps, self.f_penalty = t_steps, f_penalty

    def t_loss(self, x: torch.Tensor, partners: torch.Tensor | None = None) -> torch.Tensor:
        """The map's objective on a source batch, to minimise: E cost(x, T(x)) - E f(T(x)).

        A stochastic map draws ``z_count`` outputs T(x, z) per input, which the weak cost compares
        with x as a set. This is the inner problem of the max-min dual; override it to change what
        the map optimises (the plain auto-encoder baseline does). With ``partners`` the gradient
        reaching the map is pulled towards them (:meth:`anchor_to`); the loss value is unchanged."""
        with self._autocast():
            out = self.mapped_outputs(x, partners)
            flat = out.flatten(0, 1) if self.stochastic else out
            return self.cost(x, out).float().mean() - self.f(self.augment(flat)).float().mean()

    def f_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The potential's objective, to minimise: E f(T(x)) - E f(y), with T(x) held fixed.

        With ``f_penalty`` (gamma), plus the R1 penalty gamma / 2 E |grad f(y)|^2 on the target images
        (Mescheder et al. 2018): the unpenalised potential can outgrow the cost by orders of magnitude,
        and the map then ignores the cost. At the optimum, grad f(T(x)) equals the cost's gradient."""
        with self._autocast():
            with torch.no_grad():
                tx = self._apply(x, 1)
                tx = tx.flatten(0, 1) if self.stochastic else tx
            if self.f_penalty > 0:  # a fresh leaf: the caller's batch keeps its flags
                y = y.detach().requires_grad_(True)
            scores = self._f_train(
                self.augment(torch.cat([tx.to(y.dtype), y]))
            ).float()  # one forward: one DDP reduction
        loss = scores[: len(tx)].mean() - scores[len(tx) :].mean()
        if self.f_penalty > 0:
            (grad,) = torch.autograd.grad(scores[len(tx) :].sum(), y, create_graph=True)
            loss = loss + self.f_penalty / 2 * grad.float().pow(2).flatten(1).sum(1).mean()
        return loss

    def t_update(self, x: torch.Tensor, partners: torch.Tensor | None = None) -> float:
        """One update of the map on a source batch (pulled towards ``partners``, if given), the
        potential frozen; returns the T-loss."""
        partners = None if partners is None else partners.to(self.device)
        with frozen(self.f):  # no gradients for f's weights: only through f, to T
            loss = self._update(self.t_loss(x.to(self.device), partners), self.opt_T, "T-loss")
        self._average_map()
        return loss

    def f_update(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """One update of the potential on a source and a target batch, the map frozen; returns the f-loss."""
        with frozen(self.T):
            return self._update(self.f_loss(x.to(self.device), y.to(self.device)), self.opt_f, "f-loss")

    def step(self, sample_x: Sampler, sample_y: Sampler, batch_size: int) -> dict[str, float]:
        """One outer iteration: ``t_steps`` T-updates, then one f-update. Returns the last losses."""
        self.T.train()
        self.f.train()
        for _ in range(self.t_steps):
            self.before_update()
            if self.anchor is None:
                t_loss = self.t_update(sample_x(batch_size))
            else:
                t_loss = self.t_update(*self.pair_batch(*self.anchor, batch_size, self.anchor_generator))
        f_loss = self.f_update(sample_x(batch_size), sample_y(batch_size))
        self.steps_done += 1
        return {"t_loss": t_loss, "f_loss": f_loss}
