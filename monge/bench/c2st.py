"""A classifier two-sample test: how well a small CNN, trained from scratch, tells mapped images from
real target images. Held-out accuracy 50 % means indistinguishable; it depends on no pretrained
backbone, so it can judge a map trained with one (an FD in that backbone's features cannot)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _classifier() -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]

    return nn.Sequential(*block(3, 16), *block(16, 32), *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(64, 1))  # fmt: skip


def two_sample_accuracy(
    mapped_train: torch.Tensor,
    real_train: torch.Tensor,
    mapped_test: torch.Tensor,
    real_test: torch.Tensor,
    steps: int = 600,
    batch_size: int = 64,
    seed: int = 0,
) -> float:
    """Held-out accuracy of a CNN trained to tell ``mapped_train`` (label 0) from ``real_train`` (1),
    on a balanced test set (equal numbers of ``mapped_test`` and ``real_test``). Training draws
    balanced batches with random flips, so it does not learn class sizes or orientation."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = _classifier()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    half = batch_size // 2
    net.train()
    for _ in range(steps):
        fake = mapped_train[torch.randint(len(mapped_train), (half,), generator=gen)]
        real = real_train[torch.randint(len(real_train), (half,), generator=gen)]
        x = torch.cat([fake, real])
        flip = torch.rand(len(x), generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        labels = torch.cat([torch.zeros(half), torch.ones(half)])
        loss = F.binary_cross_entropy_with_logits(net(x).squeeze(1), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    n = min(len(mapped_test), len(real_test))
    net.eval()
    with torch.no_grad():
        fake_right = (torch.cat([net(b) for b in mapped_test[:n].split(256)]).squeeze(1) < 0).float().sum()
        real_right = (torch.cat([net(b) for b in real_test[:n].split(256)]).squeeze(1) > 0).float().sum()
    return float((fake_right + real_right) / (2 * n))
