"""Building a NOT solver from a :class:`TrainConfig`, and saving and loading it with its run."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ConfigError, DivergenceError
from ..ot.augment import Augment
from ..ot.autoencoder import ConvAutoEncoder, ReconstructionSolver
from ..ot.costs import make_cost
from ..ot.feature_potential import EffNetPotential
from ..ot.nets import ResNetPotential, UNet, spectral_normalise
from ..ot.solver import NOT
from ..runs import load_checkpoint, save_state
from .config import TrainConfig


def build_map(cfg: TrainConfig, z_channels: int = 0) -> torch.nn.Module:
    """The map network of a configuration: a UNet (noise channels as extra inputs) or an auto-encoder."""
    if cfg.map_net == "unet":
        return UNet(3 + z_channels, 3, cfg.unet_base, residual=cfg.residual, norm=cfg.norm)
    if cfg.map_net == "autoencoder" and not z_channels:
        return ConvAutoEncoder(cfg.size, 3, cfg.latent, width=2 * cfg.unet_base, norm=cfg.norm)
    raise ConfigError(
        "map_net", f"{cfg.map_net} with the {cfg.cost} cost: expected unet, or autoencoder with a deterministic cost"
    )


def build_solver(cfg: TrainConfig, fabric=None) -> NOT:
    """The NOT solver (UNet map, ResNet potential, cost, optimisers) of a configuration; ``fabric``
    (see :mod:`monge.engine`) places it for data parallelism and mixed precision."""
    cost = make_cost(cfg.cost, **({"gamma": cfg.gamma} if cfg.cost == "weak" else {}))
    z_channels = 1 if cost.stochastic else 0
    T = build_map(cfg, z_channels)
    f: torch.nn.Module = ResNetPotential(cfg.size, 3, cfg.f_width, cfg.f_max_width)
    if cfg.f_net == "effnet":
        f = EffNetPotential(width=4 * cfg.f_width, input_size=max(64, cfg.size))
    if cfg.f_norm == "spectral":
        f = spectral_normalise(f)
    if cfg.sync_batchnorm:
        T = torch.nn.SyncBatchNorm.convert_sync_batchnorm(T)
    if cfg.channels_last:
        T, f = T.to(memory_format=torch.channels_last), f.to(memory_format=torch.channels_last)
    if cfg.compile:
        T.compile()
        f.compile()
    solver_cls = NOT
    if cfg.objective == "reconstruction":
        solver_cls = ReconstructionSolver
    return solver_cls(
        T,
        f,
        cost,
        t_steps=cfg.t_steps,
        lr=cfg.lr,
        z_count=cfg.z_count,
        z_channels=z_channels,
        z_std=cfg.z_std,
        ema=cfg.ema,
        augment=Augment(cfg.augment) or None,
        device=None if fabric is not None else cfg.device,
        fabric=fabric,
    )


def save_checkpoint(path: Path, solver: NOT, cfg: TrainConfig, data_rng: torch.Generator, extra: dict) -> None:
    """Write atomically (temp file + rename), refusing non-finite weights."""
    if not solver.parameters_finite():
        raise DivergenceError(f"{path}: refusing to write non-finite weights")
    state = {
        "solver": solver.state_dict(),
        "config": cfg.to_dict(),
        "torch_rng": torch.get_rng_state(),
        "data_rng": data_rng.get_state(),
        **extra,
    }
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    save_state(path, state)


def load_solver(run: str | Path, which: str = "best", device: str | None = None) -> tuple[NOT, TrainConfig]:
    """The solver of a run folder at its ``best`` or ``last`` checkpoint, in eval mode."""
    run = Path(run)
    path = run / "checkpoints" / f"{which}.pt"
    if which == "best" and not path.exists():
        path = run / "checkpoints" / "last.pt"
    state = load_checkpoint(path)
    single = {"devices": 1, "num_nodes": 1, "sync_batchnorm": False, "compile": False}  # inference: one device
    cfg = TrainConfig.from_dict({**state["config"], **single, **({"device": device} if device else {})})
    solver = build_solver(cfg)
    solver.load_state_dict(state["solver"])
    solver.map_net.eval()
    return solver, cfg
