"""The continuous Wasserstein-2 benchmark (Korotin et al., NeurIPS 2021): solvers scored by L2-UVP (%)
against a known optimal map (the problems: :mod:`monge.bench.w2_problems`).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from ..errors import ConfigError, DivergenceError, import_extra
from ..metrics import l2_uvp
from ..ot.costs import QuadraticCost
from ..ot.defaults import EXPECTILE, EXPECTILE_WEIGHT
from ..ot.enot import ENOT
from ..ot.gaussian import fit_gaussian_ot
from ..ot.nets import MLP, QuadraticMLP, ResidualMLP
from ..ot.optim import cosine_schedule
from ..ot.solver import NOT
from ..ot.trainer import Solver
from ..threads import adapt_threads
from .w2_config import W2Config
from .w2_problems import PUBLISHED_BEST, PUBLISHED_MMR, gaussian_pair, mix3tomix10


def _gaussian_ot(x_train: torch.Tensor, y_train: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``A, b`` of the closed-form OT map ``x A + b`` between the Gaussian fits of the samples."""
    return fit_gaussian_ot(x_train.double().numpy(), y_train.double().numpy())


def linear_map(x_train: torch.Tensor, y_train: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The best linear map: the closed-form OT map between the Gaussian fits of the two samples."""
    A, b = _gaussian_ot(x_train, y_train)
    A_t, b_t = torch.tensor(A, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
    return lambda x: x @ A_t + b_t


def start_at_linear_map(solver: Solver, x_train: torch.Tensor, y_train: torch.Tensor) -> None:
    """Start NOT at the best linear map: T's linear path becomes the Gaussian OT map ``x A + b``, and
    the potential's quadratic skip the one whose inner problem that map solves (``L L^T = A^-1``,
    slope ``2 b A^-1 / D`` for the per-coordinate mean cost). NOT then learns only the nonlinear rest.
    """
    T, f = solver.T, solver.f
    if not isinstance(T, ResidualMLP) or T.linear is None or not isinstance(f, QuadraticMLP):
        raise TypeError("start_at_linear_map needs not_solver(skip=True)'s networks")
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
) -> Solver:
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
    common: dict = {"lr": lr, "weight_decay": 0.0, "ema": ema, "scheduler": schedule, "before_update": adapt_threads}
    if solver == "enot":
        return ENOT(T, f, QuadraticCost(), expectile=expectile, expectile_weight=expectile_weight, **common)
    if solver != "not":
        raise ConfigError("solver", f"{solver!r} is not one of not, enot")
    return NOT(T, f, QuadraticCost(), t_steps=t_steps, **common)


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

    def on_step(self, solver: Solver, step: int, losses: dict[str, float]) -> dict[str, str] | None:
        if not self.every or step % self.every:
            return None
        t0 = time.perf_counter()
        self.seconds.append(round(t0 - self._start - self._scoring, 1))
        self.points.append((step, round(l2_uvp(solver.map(self.x, batch_size=4096), self.truth, self.var_q), 3)))
        self._scoring += time.perf_counter() - t0
        return {"L2-UVP": f"{self.points[-1][1]:.2f}"}


def _reference_rows(problem, cfg: W2Config, x_eval, truth, var_q, x_fit, y_fit) -> dict[str, dict]:
    """The rows every neural map is read against: the identity, the best linear map and (with POT,
    the [bench] extra) the discrete OT map."""
    rows: dict[str, dict] = {}
    maps: dict[str, tuple[Callable[[], Callable], dict]] = {
        "identity": (lambda: lambda x: x, {}),
        "linear": (lambda: linear_map(x_fit, y_fit), {}),
    }
    if importlib.util.find_spec("ot") is not None:
        n = cfg.n_discrete
        maps["pot-emd"] = (lambda: discrete_ot_map(x_fit[:n], y_fit[:n]), {"samples": n})
    for name, (fit, extra) in maps.items():
        t0 = time.perf_counter()
        uvp = l2_uvp(fit()(x_eval), truth, var_q)
        rows[name] = {"L2-UVP": uvp, "seconds": round(time.perf_counter() - t0, 2), **extra}
    return rows


def _neural_row(problem, cfg: W2Config, x_eval, truth, var_q, x_fit, y_fit, progress: bool) -> dict:
    """Train the solver on fresh samples (scored as it stands if it diverges, and said) and score its map."""
    neural = not_solver(
        cfg.dim, cfg.hidden, cfg.lr, cfg.t_steps, cfg.skip, cfg.ema, cfg.steps, cfg.solver, cfg.expectile,
        cfg.expectile_weight,
    )  # fmt: skip
    if cfg.warm:
        start_at_linear_map(neural, x_fit, y_fit)
    curve = L2UVPCurve(x_eval, truth, var_q, cfg.curve_every)
    t0 = curve._start = time.perf_counter()
    diverged: dict[str, object] = {}
    try:
        neural.fit(problem.sample_p, problem.sample_q, cfg.steps, cfg.batch_size, progress=progress, callbacks=[curve])
    except DivergenceError as err:  # the exploded update was not applied
        diverged = {"diverged": str(err), "steps_done": neural.steps_done}
    uvp = l2_uvp(neural.map(x_eval, batch_size=4096), truth, var_q)
    options = ("steps", "batch_size", "t_steps", "skip", "ema", "lr")
    return {
        "L2-UVP": uvp,
        "seconds": round(time.perf_counter() - t0, 2),
        **{k: getattr(cfg, k) for k in options},
        "hidden": cfg.hidden or max(128, 4 * cfg.dim),
        "warm_start": cfg.warm,
        "curve": curve.points,
        "curve_seconds": curve.seconds,
        **({"expectile": cfg.expectile, "expectile_weight": cfg.expectile_weight} if cfg.solver == "enot" else {}),
        **diverged,
    }


def run_w2(dim: int, progress: bool = True, **options) -> dict:
    """L2-UVP (%) of the identity, the best linear map, POT's discrete OT and monge's NOT (or ENOT) on
    one pair of dimension ``dim``; ``options`` are :class:`~monge.bench.w2_config.W2Config`'s fields
    (its defaults otherwise). The solver's row is ``monge-not`` or ``monge-enot``.

    ``seed=0`` scores the published instance of the benchmark; every method sees the same samples.
    ``warm`` starts the map at the linear map (:func:`start_at_linear_map`; needs ``skip``).
    ``curve_every`` also scores the map every that many steps (the row's ``curve``: pairs of step and
    L2-UVP, and ``curve_seconds``: the training seconds at each).
    """
    try:
        cfg = W2Config(dim=dim, **options)
    except TypeError as err:  # an unknown option
        raise ConfigError("run_w2", str(err).replace("W2Config.__init__()", "run_w2")) from None
    torch.manual_seed(cfg.seed)
    problem = mix3tomix10(dim, cfg.data_dir, cfg.seed) if cfg.pair == "mix3tomix10" else gaussian_pair(dim, cfg.seed)
    x_eval = problem.sample_p(cfg.n_eval)
    truth = problem.true_map(x_eval)
    var_q = float(problem.sample_q(2**14).var(0).sum())
    x_fit, y_fit = problem.sample_p(2**14), problem.sample_q(2**14)  # independent samples: unpaired
    results = _reference_rows(problem, cfg, x_eval, truth, var_q, x_fit, y_fit)
    results[f"monge-{cfg.solver}"] = _neural_row(problem, cfg, x_eval, truth, var_q, x_fit, y_fit, progress)
    published = cfg.pair == "mix3tomix10" and cfg.seed == 0
    return {
        "pair": problem.name,
        "dim": dim,
        "seed": cfg.seed,
        "published_MM:R": PUBLISHED_MMR.get(dim) if published else None,
        "published_best": PUBLISHED_BEST.get(dim) if published else None,
        "results": results,
    }
