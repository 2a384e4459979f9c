"""An unpaired GAN peer: CycleGAN (Zhu, Park, Isola, Efros, ICCV 2017), the method a user would
otherwise pick, written here at the sizes a CPU can train.

Two ResNet generators G: X -> Y and F: Y -> X, two PatchGAN discriminators, the least-squares
adversarial loss, the cycle loss (weight ``cycle``) and the identity loss (weight ``identity`` x
``cycle``), Adam (2e-4, betas 0.5 / 0.999) and a pool of 50 earlier fakes for the discriminators,
as in the reference implementation. :func:`train_cyclegan` trains for a wall-clock budget, so that
it can be set beside NOT at equal time.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm


class _ResBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    """c7s1-k, two stride-2 downsamplings, ``blocks`` residual blocks, two upsamplings, c7s1-3, tanh."""

    def __init__(self, width: int = 16, blocks: int = 4):
        super().__init__()
        w = width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, w, 7), nn.InstanceNorm2d(w), nn.ReLU(True)]
        for k in (1, 2):
            layers += [nn.Conv2d(w * k, w * 2 * k, 3, 2, 1), nn.InstanceNorm2d(w * 2 * k), nn.ReLU(True)]
        layers += [_ResBlock(4 * w) for _ in range(blocks)]
        for k in (4, 2):
            layers += [nn.ConvTranspose2d(w * k, w * k // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(w * k // 2),
                       nn.ReLU(True)]  # fmt: skip
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, 3, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: stride-2 4x4 convolutions (no norm on the first), then a 1-channel map of patch scores."""

    def __init__(self, width: int = 16, layers: int = 3):
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(1, layers):
            seq += [nn.Conv2d(c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.LeakyReLU(0.2, True)]
            c *= 2
        seq += [nn.Conv2d(c, 1, 4, 1, 1)]
        self.net = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _Pool:
    """Half the time a fake from the last ``size`` seen instead of the new one (stabilises D)."""

    def __init__(self, size: int = 50, seed: int = 0):
        self.size, self.rng = size, random.Random(seed)
        self.items: list[torch.Tensor] = []

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        out = []
        for img in batch.detach():
            if len(self.items) < self.size:
                self.items.append(img)
                out.append(img)
            elif self.rng.random() < 0.5:
                k = self.rng.randrange(self.size)
                out.append(self.items[k])
                self.items[k] = img
            else:
                out.append(img)
        return torch.stack(out)


@dataclass
class CycleGANResult:
    """The trained X -> Y generator (eval mode), the steps run and the losses at the end."""

    generator: ResNetGenerator
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)

    @torch.no_grad()
    def map(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        return torch.cat([self.generator(b) for b in x.split(batch_size)])


def _lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))


def train_cyclegan(
    x: torch.Tensor,
    y: torch.Tensor,
    seconds: float,
    batch_size: int = 16,
    width: int = 16,
    blocks: int = 4,
    cycle: float = 10.0,
    identity: float = 0.5,
    lr: float = 2e-4,
    seed: int = 0,
    progress: bool = True,
    max_steps: int | None = None,
) -> CycleGANResult:
    """Train CycleGAN on unpaired image tensors ``x`` and ``y`` (N, 3, H, W) in [-1, 1] for ``seconds``
    (or until ``max_steps`` updates, if that comes first)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    G, Fb = ResNetGenerator(width, blocks), ResNetGenerator(width, blocks)
    Dy, Dx = PatchDiscriminator(width), PatchDiscriminator(width)
    opt_g = torch.optim.Adam(itertools.chain(G.parameters(), Fb.parameters()), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(Dy.parameters(), Dx.parameters()), lr=lr, betas=(0.5, 0.999))
    pool_y, pool_x = _Pool(seed=seed), _Pool(seed=seed + 1)
    history: list[dict[str, float]] = []
    t0, step = time.perf_counter(), 0
    bar = tqdm(desc="CycleGAN", disable=not progress, dynamic_ncols=True)
    while time.perf_counter() - t0 < seconds and (max_steps is None or step < max_steps):
        real_x = x[torch.randint(len(x), (batch_size,), generator=gen)]
        real_y = y[torch.randint(len(y), (batch_size,), generator=gen)]
        for p in itertools.chain(Dy.parameters(), Dx.parameters()):
            p.requires_grad_(False)
        fake_y, fake_x = G(real_x), Fb(real_y)
        adversarial = _lsgan(Dy(fake_y), True) + _lsgan(Dx(fake_x), True)
        cycled = F.l1_loss(Fb(fake_y), real_x) + F.l1_loss(G(fake_x), real_y)
        same = F.l1_loss(G(real_y), real_y) + F.l1_loss(Fb(real_x), real_x)
        loss_g = adversarial + cycle * cycled + identity * cycle * same
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in itertools.chain(Dy.parameters(), Dx.parameters()):
            p.requires_grad_(True)
        loss_d = 0.5 * (_lsgan(Dy(real_y), True) + _lsgan(Dy(pool_y(fake_y)), False)) + 0.5 * (
            _lsgan(Dx(real_x), True) + _lsgan(Dx(pool_x(fake_x)), False)
        )
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        step += 1
        history.append({"g": loss_g.item(), "d": loss_d.item(), "cycle": cycled.item()})
        bar.update()
        bar.set_postfix(G=f"{history[-1]['g']:.3f}", D=f"{history[-1]['d']:.3f}")
    bar.close()
    G.eval()
    return CycleGANResult(G, step, time.perf_counter() - t0, history)
