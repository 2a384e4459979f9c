"""The continuous Wasserstein-2 benchmark (Korotin et al., NeurIPS 2021): maps with a known truth.

A convex potential psi's gradient is the W2-optimal map from P to grad psi # P. The benchmark
ships two input-convex networks per dimension D (``mix3tomix10_{D}_v{1,2}.pt``); their sum,
standardised, gives T*. P is a mixture of 3 Gaussians. Solvers are scored by L2-UVP (%).
A closed-form Gaussian-to-Gaussian pair (``gaussian``) serves as a sanity check.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError, DataError, import_extra
from ..metrics import l2_uvp
from ..ot.costs import QuadraticCost
from ..ot.defaults import EXPECTILE, EXPECTILE_WEIGHT
from ..ot.enot import ENOT
from ..ot.gaussian import fit_gaussian_ot
from ..ot.nets import MLP, QuadraticMLP, ResidualMLP
from ..ot.optim import cosine_schedule
from ..ot.solver import NOT

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


# ---------------------------------------------------------------- solvers ------------------------


def _gaussian_ot(x_train: torch.Tensor, y_train: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``A, b`` of the closed-form OT map ``x A + b`` between the Gaussian fits of the samples."""
    return fit_gaussian_ot(x_train.double().numpy(), y_train.double().numpy())


def linear_map(x_train: torch.Tensor, y_train: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The best linear map: the closed-form OT map between the Gaussian fits of the two samples."""
    A, b = _gaussian_ot(x_train, y_train)
    A_t, b_t = torch.tensor(A, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
    return lambda x: x @ A_t + b_t


def warm_start(solver: NOT, x_train: torch.Tensor, y_train: torch.Tensor) -> None:
    """Start NOT at the best linear map: T's linear path becomes the Gaussian OT map ``x A + b``, and
    the potential's quadratic skip the one whose inner problem that map solves (``L L^T = A^-1``,
    slope ``2 b A^-1 / D`` for the per-coordinate mean cost). NOT then learns only the nonlinear rest.
    """
    T, f = solver.T, solver.f
    if not isinstance(T, ResidualMLP) or T.linear is None or not isinstance(f, QuadraticMLP):
        raise TypeError("warm_start needs not_solver(skip=True)'s networks")
    A, b = _gaussian_ot(x_train, y_train)
    A_inv = np.linalg.inv((A + A.T) / 2)
    with torch.no_grad():
        T.linear.weight.copy_(torch.tensor((A - np.eye(len(A))).T, dtype=torch.float32))
        T.linear.bias.copy_(torch.tensor(b, dtype=torch.float32))
        f.root.copy_(torch.tensor(np.linalg.cholesky(A_inv), dtype=torch.float32))
        f.slope.copy_(torch.tensor(2 * f.curvature * b @ A_inv, dtype=torch.float32))


def discrete_ot_map(x_train: torch.Tensor, y_train: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """POT's exact discrete OT between the samples, extended out of sample by its barycentric mapping."""
    ot = import_extra("ot", "bench", "the discrete OT baseline (POT)")

    transport = ot.da.EMDTransport(max_iter=10_000_000)  # the default 100,000 stops short at 4,096 points
    transport.fit(Xs=x_train.double().numpy(), Xt=y_train.double().numpy())
    return lambda x: torch.tensor(transport.transform(Xs=x.double().numpy()), dtype=torch.float32)


def not_solver(
    dim: int,
    hidden: int | None = None,
    lr: float = 1e-3,
    t_steps: int = 10,
    skip: bool = True,
    ema: float = 0.0,
    cosine_steps: int | None = None,
    solver: str = "not",
    expectile: float = EXPECTILE,
    expectile_weight: float = EXPECTILE_WEIGHT,
) -> NOT:
    """NOT (or, with ``solver="enot"``, :class:`~monge.ot.enot.ENOT`) with MLPs for vectors: a
    residual map T(x) = x + MLP(x) and an MLP potential, Adam at ``lr`` (with ``cosine_steps``,
    decayed to zero over that many steps).

    ``skip`` adds a linear path to the map and a quadratic one to the potential
    (:class:`~monge.ot.nets.ResidualMLP` with ``affine``, :class:`~monge.ot.nets.QuadraticMLP`).
    """
    h = hidden or max(128, 4 * dim)
    T = ResidualMLP(dim, dim, (h, h, h), activation=nn.SiLU, affine=skip)
    if skip:  # QuadraticCost is the mean over coordinates: curvature 1 / dim
        f: nn.Module = QuadraticMLP(dim, (h, h, h), activation=nn.SiLU, curvature=1.0 / dim)
    else:
        f = MLP(dim, 1, (h, h, h), activation=nn.SiLU)
    schedule = cosine_schedule(cosine_steps) if cosine_steps else None
    if solver == "enot":
        rule: dict = {"expectile": expectile, "expectile_weight": expectile_weight}
        return ENOT(T, f, QuadraticCost(), lr=lr, weight_decay=0.0, ema=ema, scheduler=schedule, **rule)
    if solver != "not":
        raise ConfigError("solver", f"{solver!r} is not one of not, enot")
    return NOT(T, f, QuadraticCost(), t_steps=t_steps, lr=lr, weight_decay=0.0, ema=ema, scheduler=schedule)


@dataclass
class L2UVPCurve:
    """A :meth:`NOT.fit` callback: the map's L2-UVP (%) on ``x`` every ``every`` steps (0: never),
    with the training seconds so far (scoring excluded): ``points`` of (step, L2-UVP),
    ``seconds`` beside them."""

    x: torch.Tensor
    truth: torch.Tensor
    var_q: float
    every: int
    points: list[tuple[int, float]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    _scoring: float = 0.0
    _start: float = field(default_factory=time.perf_counter)

    def on_step(self, solver: NOT, step: int, losses: dict[str, float]) -> dict[str, str] | None:
        if not self.every or step % self.every:
            return None
        t0 = time.perf_counter()
        self.seconds.append(round(t0 - self._start - self._scoring, 1))
        self.points.append((step, round(l2_uvp(solver.map(self.x, batch_size=4096), self.truth, self.var_q), 3)))
        self._scoring += time.perf_counter() - t0
        return {"L2-UVP": f"{self.points[-1][1]:.2f}"}


def run_w2(
    dim: int,
    pair: str = "mix3tomix10",
    steps: int = 5000,
    batch_size: int = 256,
    n_eval: int = 4096,
    n_discrete: int = 4096,
    seed: int = 0,
    data_dir: str | Path | None = None,
    progress: bool = True,
    hidden: int | None = None,
    lr: float = 1e-3,
    t_steps: int = 10,
    skip: bool = True,
    warm: bool = True,
    ema: float = 0.0,
    curve_every: int = 0,
    solver: str = "not",
    expectile: float = EXPECTILE,
    expectile_weight: float = EXPECTILE_WEIGHT,
) -> dict:
    """L2-UVP (%) of the identity, the best linear map, POT's discrete OT and monge's NOT (or ENOT,
    ``solver="enot"``, with its ``expectile`` and ``expectile_weight``) on one pair; the solver's
    row is ``monge-not`` or ``monge-enot``.

    ``seed=0`` scores the published instance of the benchmark; every method sees the same samples.
    ``warm`` starts NOT at the linear map (:func:`warm_start`; needs ``skip``); ``ema`` maps with a
    moving average of the map's weights (this decay per map update; 0: off). ``curve_every`` also scores
    NOT every that many steps (``results["monge-not"]["curve"]``, pairs of step and L2-UVP).
    """
    torch.manual_seed(seed)
    problem = mix3tomix10(dim, data_dir, seed) if pair == "mix3tomix10" else gaussian_pair(dim, seed)
    x_eval = problem.sample_p(n_eval)
    truth = problem.true_map(x_eval)
    var_q = float(problem.sample_q(2**14).var(0).sum())
    results: dict[str, dict] = {}

    def score(name: str, fit: Callable[[], Callable], **extra) -> None:
        t0 = time.perf_counter()
        mapping = fit()
        results[name] = {
            "L2-UVP": l2_uvp(mapping(x_eval), truth, var_q),
            "seconds": round(time.perf_counter() - t0, 2),
            **extra,
        }

    x_fit, y_fit = problem.sample_p(2**14), problem.sample_q(2**14)  # independent samples: unpaired
    score("identity", lambda: lambda x: x)
    score("linear", lambda: linear_map(x_fit, y_fit))
    if importlib.util.find_spec("ot") is not None:  # POT is the [bench] extra: without it, no discrete row
        score("pot-emd", lambda: discrete_ot_map(x_fit[:n_discrete], y_fit[:n_discrete]), samples=n_discrete)

    neural = not_solver(dim, hidden, lr, t_steps, skip, ema, steps, solver, expectile, expectile_weight)
    if warm:
        warm_start(neural, x_fit, y_fit)
    curve = L2UVPCurve(x_eval, truth, var_q, curve_every)

    def fit_neural():
        curve._start = time.perf_counter()
        neural.fit(problem.sample_p, problem.sample_q, steps, batch_size, progress=progress, callbacks=[curve])
        return lambda x: neural.map(x, batch_size=4096)

    solver_options = {"expectile": expectile, "expectile_weight": expectile_weight} if solver == "enot" else {}
    score(
        f"monge-{solver}",
        fit_neural,
        steps=steps,
        batch_size=batch_size,
        hidden=hidden or max(128, 4 * dim),
        t_steps=t_steps,
        skip=skip,
        warm_start=warm,
        ema=ema,
        curve=curve.points,
        curve_seconds=curve.seconds,
        **solver_options,
    )
    published = pair == "mix3tomix10" and seed == 0
    return {
        "pair": problem.name,
        "dim": dim,
        "seed": seed,
        "published_MM:R": PUBLISHED_MMR.get(dim) if published else None,
        "published_best": PUBLISHED_BEST.get(dim) if published else None,
        "results": results,
    }
