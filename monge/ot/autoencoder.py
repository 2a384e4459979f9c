"""NOT auto-encoders: an encoder-decoder trained as the optimal transport map from P to P.

The map must pass every image through a low-dimensional bottleneck, so it cannot be the identity;
NOT's potential f pushes its outputs onto the data distribution while the cost keeps each output
near its input. The plain auto-encoder baseline is the same network trained on the cost alone
(:class:`ReconstructionSolver`), with the same number of network updates.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from ..errors import ConfigError
from .nets import norm_layer
from .solver import NOT


class ConvAutoEncoder(nn.Module):
    """Strided-conv encoder to a ``latent``-d vector and an upsampling decoder; no skip connections."""

    def __init__(
        self,
        size: int = 32,
        channels: int = 3,
        latent: int = 64,
        width: int = 32,
        max_width: int = 256,
        norm: str = "batch",
    ):
        super().__init__()
        n_down = int(math.log2(size // 4))
        if 4 * 2**n_down != size:
            raise ConfigError("size", f"{size}: the auto-encoder needs must be 4 times a power of two")
        widths = [min(width * 2**i, max_width) for i in range(n_down + 1)]
        enc: list[nn.Module] = [nn.Conv2d(channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2)]
        for a, b in zip(widths[:-1], widths[1:]):
            enc += [nn.Conv2d(a, b, 4, stride=2, padding=1), norm_layer(norm, b), nn.LeakyReLU(0.2)]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(widths[-1] * 16, latent))
        self.from_latent = nn.Linear(latent, widths[-1] * 16)
        dec: list[nn.Module] = []
        for a, b in zip(widths[::-1][:-1], widths[::-1][1:]):
            dec += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(a, b, 3, padding=1),
                norm_layer(norm, b),
                nn.ReLU(),
            ]
        self.decoder = nn.Sequential(*dec, nn.Conv2d(widths[0], channels, 3, padding=1))
        self.latent, self.top = latent, widths[-1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.from_latent(z).view(len(z), self.top, 4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ReconstructionSolver(NOT):
    """The plain auto-encoder baseline: ``t_steps`` updates of the map on the cost alone per step, so it
    makes as many network updates as NOT's map; the potential is never used."""

    def t_loss(self, x: torch.Tensor, partners: torch.Tensor | None = None) -> torch.Tensor:
        """The reconstruction cost alone: E cost(x, T(x)); there is no game for partners to anchor."""
        if partners is not None:
            raise ValueError("the plain auto-encoder reconstructs its input: it takes no partners")
        with self._autocast():
            return self.cost(x, self._T_train(x)).float().mean()

    def step(self, sample_x, sample_y, batch_size: int) -> dict[str, float]:
        self.T.train()
        for _ in range(self.t_steps):
            loss = self.t_update(sample_x(batch_size))
        self.steps_done += 1
        return {"t_loss": loss, "f_loss": 0.0}
