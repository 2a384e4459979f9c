"""What the NOT solver's optimisers see: which weights train, a freeze for the other player, the
learning-rate schedule, the anchored gradient, and the guard that stops a diverged run."""

from __future__ import annotations

import contextlib
import math
import statistics
from collections import deque
from collections.abc import Callable
from functools import partial

import torch
import torch.nn as nn

EXPLOSION_FACTOR = 1e6  # a loss this many times its running median magnitude has diverged
WEIGHT_BOUND = 1e4  # healthy weights stay within O(10); a checkpoint never holds weights beyond this


def weights_sane(nets: tuple[nn.Module, ...], normalised: tuple[nn.Module, ...], bound: float = WEIGHT_BOUND) -> bool:
    """False once any weight of ``nets``, or any floating buffer of ``normalised`` (BatchNorm's running
    variance), is NaN, infinite or beyond ``bound`` (a diverged run)."""
    tensors: list[torch.Tensor] = [p for m in nets for p in m.parameters()]
    tensors += [b for m in normalised for b in m.buffers() if b.is_floating_point()]
    return all(bool(torch.isfinite(t).all()) and float(t.detach().abs().max()) <= bound for t in tensors if t.numel())


@contextlib.contextmanager
def frozen(module: nn.Module):
    """No gradients for ``module``'s weights inside the block (gradients still flow through it);
    each weight's own flag is restored after, so a frozen backbone inside a net stays frozen."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def trainable(module: nn.Module) -> list[nn.Parameter]:
    """The weights an optimiser should update: those that require gradients."""
    return [p for p in module.parameters() if p.requires_grad]


def cosine_decay(step: int, steps: int) -> float:
    """The learning-rate factor at ``step`` of ``steps``: from 1 down to 0 along half a cosine."""
    return 0.5 * (1 + math.cos(math.pi * min(step, steps) / max(1, steps)))


def cosine_schedule(steps: int) -> Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]:
    """A ``scheduler`` factory for the solver: the learning rate decays to zero over ``steps`` outer
    iterations, in closed form (a resumed run that asks for more steps stretches the decay over its
    new length; a checkpoint keeps the step count, not the horizon)."""
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, partial(cosine_decay, steps=steps))


def anchored_gradient(
    grad: torch.Tensor, out: torch.Tensor, partners: torch.Tensor, weight: float, loss: str = "l2"
) -> torch.Tensor:
    """The map's output gradient with a pull towards ``partners`` added, ``weight`` times the game's
    gradient norm over the batch: the potential's gradient can be 10^5 times the cost's, so a fixed
    weight would be either drowned or dominant, while a relative one keeps its share as f grows.
    ``loss`` is the error the pull descends: l2 (half the squared error: a pull in proportion to the
    distance) or l1 (the absolute error: the same pull on every pixel off its partner, however slightly)."""
    pull = out.float() - partners.float()  # the gradient of half the squared error
    if loss == "l1":
        pull = pull.sign()
    scale = weight * grad.float().norm() / pull.norm().clamp_min(1e-12)
    return (grad.float() + scale * pull).to(grad.dtype)


class ExplosionGuard:
    """Flags a loss a million times its running median magnitude (after 20 updates), per named
    loss: a blow-up that stays finite (as at a learning rate of 1) is divergence too."""

    def __init__(self, window: int = 200, warmup: int = 20):
        self.window, self.warmup = window, warmup
        self.recent: dict[str, deque[float]] = {}

    def exploded(self, value: float, what: str) -> bool:
        """Whether ``value`` of the loss ``what`` has exploded; records it either way."""
        recent = self.recent.setdefault(what, deque(maxlen=self.window))
        exploded = len(recent) >= self.warmup and abs(value) > EXPLOSION_FACTOR * max(statistics.median(recent), 1e-6)
        recent.append(abs(value))
        return exploded
