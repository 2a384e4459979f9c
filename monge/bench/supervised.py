"""The ceiling of the translation ladder: the same map network as NOT, trained *with* the hidden pairs.

No unpaired method can be expected to beat a map that sees which target image each source image
should become; how far an unpaired map gets towards it is the measure of its success.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..train.config import TrainConfig
from ..train.factory import build_map


@dataclass
class SupervisedResult:
    """The trained map (eval mode), the steps run and the final training loss."""

    net: nn.Module
    steps: int
    seconds: float
    loss: float

    @torch.no_grad()
    def map(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        return torch.cat([self.net(b) for b in x.split(batch_size)])


def train_supervised(
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    seconds: float,
    loss: str = "l2",
    progress: bool = True,
    max_steps: int | None = None,
) -> SupervisedResult:
    """Fit ``cfg``'s map network to the pairs (x[i] -> y[i]) for ``seconds`` (or until ``max_steps``
    updates, if that comes first), Adam at ``cfg.lr``."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    net = build_map(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    distance = F.mse_loss if loss == "l2" else F.l1_loss
    t0, step, value = time.perf_counter(), 0, float("nan")
    bar = tqdm(desc=f"supervised {loss}", disable=not progress, dynamic_ncols=True)
    net.train()
    while time.perf_counter() - t0 < seconds and (max_steps is None or step < max_steps):
        idx = torch.randint(len(x), (cfg.batch_size,), generator=gen)
        batch_loss = distance(net(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        batch_loss.backward()
        opt.step()
        step, value = step + 1, batch_loss.item()
        bar.update()
        bar.set_postfix(loss=f"{value:.4f}")
    bar.close()
    net.eval()
    return SupervisedResult(net, step, time.perf_counter() - t0, value)
