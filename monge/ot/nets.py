"""Networks: the NOT transport map (UNet), the potential (WGAN-QC ResNet), and MLPs for vectors.

The sizes follow the official NOT code: ``UNet(base=48)`` has about 9.7M parameters and
``ResNetPotential(size=64)`` about 22.9M at 64 x 64.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError

NORMS = ("batch", "group")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """BatchNorm (the official choice) or GroupNorm (per image: the output does not depend on how a
    batch is split across devices, so data-parallel runs match single-device ones without SyncBatchNorm)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(math.gcd(8, channels), channels)
    raise ConfigError("norm", f"{kind!r} is not one of {', '.join(NORMS)}")


class DoubleConv(nn.Sequential):
    """(3x3 conv -> normalisation -> ReLU) twice."""

    def __init__(self, cin: int, cout: int, mid: int | None = None, norm: str = "batch"):
        mid = mid or cout
        super().__init__(
            nn.Conv2d(cin, mid, 3, padding=1),
            norm_layer(norm, mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, cout, 3, padding=1),
            norm_layer(norm, cout),
            nn.ReLU(inplace=True),
        )


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int, norm: str):
        super().__init__()
        self.conv = DoubleConv(cin, cout, cin // 2, norm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=True)
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    """UNet with 4 max-pool downsamplings, bilinear upsampling and skip concatenation, no output tanh.

    ``in_channels`` includes any noise channels (the weak cost's z enters as one extra channel).
    Spatial sizes must be divisible by 16. ``residual=True`` (not in the official code) outputs
    x + UNet(x) with a zero-initialised last layer, so training starts from the identity map.
    ``norm`` is ``batch`` (official) or ``group`` (see :func:`norm_layer`).
    """

    def __init__(
        self, in_channels: int = 3, out_channels: int = 3, base: int = 48, residual: bool = False, norm: str = "batch"
    ):
        super().__init__()
        self.residual = residual
        b = base
        self.inc = DoubleConv(in_channels, b, norm=norm)
        self.downs = nn.ModuleList(
            [
                DoubleConv(b, 2 * b, norm=norm),
                DoubleConv(2 * b, 4 * b, norm=norm),
                DoubleConv(4 * b, 8 * b, norm=norm),
                DoubleConv(8 * b, 8 * b, norm=norm),
            ]
        )
        self.ups = nn.ModuleList(
            [_Up(16 * b, 4 * b, norm), _Up(8 * b, 2 * b, norm), _Up(4 * b, b, norm), _Up(2 * b, b, norm)]
        )
        self.outc = nn.Conv2d(b, out_channels, 1)
        if residual:
            nn.init.zeros_(self.outc.weight)
            nn.init.zeros_(self.outc.bias)  # type: ignore[arg-type]  # Conv2d(bias=True) has one

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(F.max_pool2d(skips[-1], 2)))
        h = skips.pop()
        for up in self.ups:
            h = up(h, skips.pop())
        out = self.outc(h)
        return x[:, : out.shape[1]] + out if self.residual else out


class _ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, res_ratio: float = 0.1):
        super().__init__()
        hidden = min(cin, cout)
        self.conv_0 = nn.Conv2d(cin, hidden, 3, padding=1)
        self.conv_1 = nn.Conv2d(hidden, cout, 3, padding=1)
        self.conv_s = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else None
        self.res_ratio = res_ratio

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.conv_s is None else self.conv_s(x)
        dx = self.conv_1(F.leaky_relu(self.conv_0(x), 0.2))
        return F.leaky_relu(shortcut + self.res_ratio * dx, 0.2)


class ResNetPotential(nn.Module):
    """WGAN-QC ResNet critic: no normalisation, residual scale 0.1, widths nf -> 2nf -> ... <= nf_max,
    downsampled to 4 x 4, then a linear head to one scalar per image."""

    def __init__(self, size: int = 64, in_channels: int = 3, nf: int = 64, nf_max: int = 512, res_ratio: float = 0.1):
        super().__init__()
        n_layers = int(math.log2(size / 4))
        if 4 * 2**n_layers != size:
            raise ConfigError("size", f"{size}: the ResNet potential needs 4 times a power of two")
        c1 = min(2 * nf, nf_max)
        blocks: list[nn.Module] = [_ResBlock(nf, nf, res_ratio), _ResBlock(nf, c1, res_ratio)]
        for i in range(1, n_layers + 1):
            c0, c1 = min(nf * 2**i, nf_max), min(nf * 2 ** (i + 1), nf_max)
            blocks += [nn.AvgPool2d(3, stride=2, padding=1), _ResBlock(c0, c0, res_ratio), _ResBlock(c0, c1, res_ratio)]
        self.conv_img = nn.Conv2d(in_channels, nf, 3, padding=1)
        self.resnet = nn.Sequential(*blocks)
        self.fc = nn.Linear(c1 * 16, 1)  # the last block's channels on a 4 x 4 grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.resnet(F.leaky_relu(self.conv_img(x), 0.2))
        return self.fc(h.flatten(1)).squeeze(1)


class MLP(nn.Module):
    """A ReLU MLP for vector data: ``MLP(d_in, d_out, hidden=(128, 128, 128))``."""

    def __init__(self, d_in: int, d_out: int, hidden: tuple[int, ...] = (128, 128, 128), activation: type = nn.ReLU):
        super().__init__()
        dims = (d_in, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), activation()]
        layers.append(nn.Linear(dims[-1], d_out))
        self.net = nn.Sequential(*layers)
        self.d_out = d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out.squeeze(1) if self.d_out == 1 else out


class ResidualMLP(MLP):
    """An MLP map that learns a displacement: ``T(x) = x + MLP(x)`` (the noise inputs are dropped from the skip).

    With ``affine=True`` the displacement also has a linear path, ``T(x) = x + W x + b + MLP(x)``
    (W starts at zero): maps that are mostly linear, such as OT maps between near-Gaussian
    mixtures, need not be built from the MLP's nonlinearities.
    """

    def __init__(
        self,
        d_in: int,
        d_out: int,
        hidden: tuple[int, ...] = (128, 128, 128),
        activation: type = nn.ReLU,
        affine: bool = False,
    ):
        super().__init__(d_in, d_out, hidden, activation)
        self.linear = nn.Linear(d_in, d_out) if affine else None
        if self.linear is not None:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x[:, : self.d_out] + self.net(x)
        return out if self.linear is None else out + self.linear(x)


class QuadraticMLP(MLP):
    """A scalar potential with a bounded quadratic skip: ``f(y) = MLP(y) + c (|y|^2 - |y L|^2) + v.y``.

    The quadratic-cost OT potential is a quadratic plus a correction; the skip carries the quadratic
    part, as the W2 benchmark's own input-convex networks do. Its matrix ``c (I - L L^T)`` can never
    exceed ``c I``: under the cost ``c |x - y|^2`` the map's inner problem ``min_y cost - f`` keeps
    the curvature ``c L L^T >= 0``, where a free matrix could make it concave and let the map run
    off to infinity in high dimension. ``L`` starts at the identity and ``v`` at zero, so ``f``
    starts as the MLP alone.
    """

    def __init__(
        self, d_in: int, hidden: tuple[int, ...] = (128, 128, 128), activation: type = nn.ReLU, curvature: float = 1.0
    ):
        super().__init__(d_in, 1, hidden, activation)
        self.curvature = curvature
        self.root = nn.Parameter(torch.eye(d_in))
        self.slope = nn.Parameter(torch.zeros(d_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        quadratic = self.curvature * ((x * x).sum(1) - (x @ self.root).pow(2).sum(1))
        return super().forward(x) + quadratic + x @ self.slope


def spectral_normalise(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every trained convolution and linear layer: a
    1-Lipschitz-per-layer potential, which cannot sharpen on the details of a few images. Frozen
    layers (a pretrained backbone's) keep their weights: normalising them would change the features."""
    for name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            if child.weight.requires_grad:
                setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            spectral_normalise(child)
    return module


def count_parameters(module: nn.Module) -> int:
    """The number of weights in ``module``."""
    return sum(p.numel() for p in module.parameters())


def apply_map(net: nn.Module, x: torch.Tensor, draws: int, z_channels: int = 0, z_std: float = 0.1) -> torch.Tensor:
    """A map network on ``x``: ``net(x)``, or with ``z_channels`` noise channels ``draws`` outputs
    ``net(x, z)`` per input, (N, draws, ...), z ~ N(0, z_std^2) per pixel."""
    if not z_channels:
        return net(x)
    xr = x.repeat_interleave(draws, dim=0)
    z = torch.randn((len(xr), z_channels, *x.shape[2:]), device=x.device) * z_std
    return net(torch.cat([xr, z], dim=1)).view(len(x), draws, *x.shape[1:])
