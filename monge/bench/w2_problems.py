"""The continuous Wasserstein-2 benchmark's problems (Korotin et al., NeurIPS 2021): pairs of
distributions whose W2-optimal map is known.

A convex potential psi's gradient is the W2-optimal map from P to grad psi # P. The benchmark
ships two input-convex networks per dimension D (``mix3tomix10_{D}_v{1,2}.pt``); their sum,
standardised, gives T*. P is a mixture of 3 Gaussians. A closed-form Gaussian-to-Gaussian pair
(``gaussian``) serves as a sanity check. The solvers and the scoring are in :mod:`monge.bench.w2`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import DataError

PACKAGED_DATA = Path(__file__).parents[1] / "assets" / "w2bench"
DIMS = (2, 4, 8, 16, 32, 64, 128)
# the paper's L2-UVP (%): MM:R (diverged at D = 128) and the best of all its solvers
PUBLISHED_MMR = {2: 0.1, 4: 0.3, 8: 0.7, 16: 1.9, 32: 2.8, 64: 4.5}
PUBLISHED_BEST = {2: 0.1, 4: 0.3, 8: 0.7, 16: 1.4, 32: 2.8, 64: 3.2, 128: 2.0}


class BenchmarkICNN(nn.Module):
    """The benchmark's dense input-convex network, rebuilt from its state dict (see the data README)."""

    final: torch.Tensor

    def __init__(self, state: dict[str, torch.Tensor]):
        super().__init__()
        for k in range(3):  # buffers, so that .to(device) moves them
            self.register_buffer(f"A{k}", state[f"quadratic_layers.{k}.quadratic_decomposed"])  # (D, rank, h_k)
            self.register_buffer(f"W{k}", state[f"quadratic_layers.{k}.weight"])
            self.register_buffer(f"b{k}", state[f"quadratic_layers.{k}.bias"])
        for j in range(2):
            self.register_buffer(f"convex{j}", state[f"convex_layers.{j}.weight"])
        self.register_buffer("final", state["final_layer.weight"])

    def _quadratic(self, k: int, x: torch.Tensor) -> torch.Tensor:
        quad = torch.einsum("nd,drh->nrh", x, getattr(self, f"A{k}")).pow(2).sum(1)
        return quad + F.linear(x, getattr(self, f"W{k}"), getattr(self, f"b{k}"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self._quadratic(0, x)
        for j in range(2):
            z = F.celu(F.linear(z, getattr(self, f"convex{j}")) + self._quadratic(j + 1, x))
        return F.linear(z, self.final).squeeze(1) + 0.5 * 0.01 * x.pow(2).sum(1)


def _gradient(potential: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    out = []
    for xb in x.split(chunk):
        xb = xb.detach().requires_grad_(True)
        out.append(torch.autograd.grad(potential(xb).sum(), xb)[0].detach())
    return torch.cat(out)


@dataclass
class W2Pair:
    """A source sampler and its ground-truth optimal map."""

    dim: int
    sample_p: Callable[[int], torch.Tensor]
    true_map: Callable[[torch.Tensor], torch.Tensor]
    name: str

    def sample_q(self, n: int) -> torch.Tensor:
        return self.true_map(self.sample_p(n))


def gaussian_mixture_sampler(dim: int, seed: int = 0, generator: torch.Generator | None = None):
    """P of the benchmark: 3 equally weighted Gaussians c_k + 0.4 M_k z, rescaled (see the data README).

    The centres and matrices are drawn as the benchmark drew them, with NumPy's legacy generator
    (``RandomState``): ``seed=0`` gives the published instance, whose draw the potentials were fitted
    to; another seed gives another (valid, but different) instance.
    """
    rng = np.random.RandomState(seed)
    centres = np.stack([rng.choice(range(3), 3, replace=False) for _ in range(dim)], axis=1).astype(np.float64) - 1.0
    mats = rng.normal(size=(3, dim, dim))
    mats /= np.linalg.norm(mats, axis=2, keepdims=True)
    scale = np.sqrt((centres**2).sum(1).mean() + dim * 0.4**2) / np.sqrt(dim)
    c = torch.tensor(centres / scale, dtype=torch.float32)
    m = torch.tensor(0.4 * mats / scale, dtype=torch.float32)

    def sample(n: int) -> torch.Tensor:
        k = torch.randint(3, (n,), generator=generator)
        z = torch.randn(n, dim, generator=generator)
        return c[k] + torch.einsum("nij,nj->ni", m[k], z)

    return sample


def _load_potentials(dim: int, data_dir: str | Path | None) -> list[dict[str, torch.Tensor]]:
    """The two potentials' state dicts: from ``data_dir`` (or ``$MONGE_W2_DATA``), a folder of the
    benchmark's own ``mix3tomix10_{D}_v{1,2}.pt`` files, else from the copy shipped with monge."""
    folder = data_dir or os.environ.get("MONGE_W2_DATA")
    if folder is None:
        path = PACKAGED_DATA / f"mix3tomix10_{dim}.safetensors"
        if not path.is_file():
            raise DataError(
                f"{path}: no benchmark potential for dimension {dim} (shipped: {', '.join(map(str, DIMS))})"
            )
        from safetensors.torch import load_file

        flat = load_file(path)
        return [{k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(f"v{v_}.")} for v_ in (1, 2)]
    states = []
    for v in (1, 2):
        path = Path(folder) / f"mix3tomix10_{dim}_v{v}.pt"
        if not path.is_file():
            raise DataError(
                f"{path}: benchmark potential not found; put the benchmark's mix3tomix10_{dim}_v1.pt "
                "and _v2.pt there, or leave data_dir and MONGE_W2_DATA unset to use the shipped copy"
            )
        states.append(torch.load(path, map_location="cpu", weights_only=True))
    return states


def mix3tomix10(dim: int, data_dir: str | Path | None = None, seed: int = 0) -> W2Pair:
    """The benchmark pair at dimension ``dim``; ``seed=0`` is the published instance."""
    nets = [BenchmarkICNN(state) for state in _load_potentials(dim, data_dir)]
    sample_p = gaussian_mixture_sampler(dim, seed)
    potential = lambda x: nets[0](x) + nets[1](x)  # noqa: E731
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        g = _gradient(potential, sample_p(2**14))
    mean, std = g.mean(0), g.var(0).mean().sqrt()
    instance = "published" if seed == 0 else f"seed-{seed}"
    return W2Pair(dim, sample_p, lambda x: (_gradient(potential, x) - mean) / std, f"mix3tomix10-{dim} ({instance})")


def gaussian_pair(dim: int, seed: int = 0) -> W2Pair:
    """N(0, S1) -> N(m, S2) with its closed-form map x -> m + A x, A = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2."""
    rng = np.random.default_rng(seed)

    def spd():
        a = rng.normal(size=(dim, dim))
        return a @ a.T / dim + 0.1 * np.eye(dim)

    s1, s2, mean = spd(), spd(), rng.normal(size=dim)
    r1 = scipy.linalg.sqrtm(s1).real
    r1_inv = np.linalg.inv(r1)
    A = r1_inv @ scipy.linalg.sqrtm(r1 @ s2 @ r1).real @ r1_inv
    L1 = torch.tensor(np.linalg.cholesky(s1), dtype=torch.float32)
    A_t, m_t = torch.tensor(A, dtype=torch.float32), torch.tensor(mean, dtype=torch.float32)
    return W2Pair(dim, lambda n: torch.randn(n, dim) @ L1.T, lambda x: x @ A_t.T + m_t, f"gaussian-{dim}")
