"""Building a solver (NOT or ENOT) from a :class:`TrainConfig`, and saving and loading it with its run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from ..engine import resolve_device
from ..errors import ConfigError, DataError, DivergenceError
from ..ot.augment import Augment
from ..ot.autoencoder import ConvAutoEncoder, ReconstructionSolver
from ..ot.costs import make_cost
from ..ot.enot import ENOT
from ..ot.feature_potential import EffNetPotential, SumPotential
from ..ot.nets import ResNetPotential, UNet, spectral_normalise
from ..ot.optim import cosine_schedule
from ..ot.solver import NOT
from ..ot.trainer import Solver
from ..runs import load_checkpoint, save_state
from ..threads import adapt_threads
from .config import TrainConfig


def _fits_in_memory(make: Callable[[], torch.nn.Module], option: str, value: object) -> torch.nn.Module:
    """``make()``, after checking on the meta device (no memory used) that the net, its gradients and
    Adam's two moments fit in this machine's memory; else a ConfigError naming ``option``."""
    with torch.device("meta"):
        count = sum(p.numel() for p in make().parameters())
    need, have = 16 * count, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > have:
        raise ConfigError(
            option, f"{value} gives a net of {count / 1e9:.1f} G weights ({need / 2**30:.0f} GiB to train), "
            f"more than this machine's {have / 2**30:.0f} GiB of memory",
        )  # fmt: skip
    return make()


def build_map(cfg: TrainConfig, z_channels: int = 0) -> torch.nn.Module:
    """The map network of a configuration: a UNet (noise channels as extra inputs) or an auto-encoder."""
    if cfg.map_net == "unet":
        return _fits_in_memory(
            lambda: UNet(3 + z_channels, 3, cfg.unet_base, residual=cfg.residual, norm=cfg.norm),
            "unet_base",
            cfg.unet_base,
        )
    if cfg.map_net == "autoencoder" and not z_channels:
        return _fits_in_memory(
            lambda: ConvAutoEncoder(cfg.size, 3, cfg.latent, width=2 * cfg.unet_base, norm=cfg.norm),
            "unet_base",
            cfg.unet_base,
        )
    raise ConfigError(
        "map_net", f"{cfg.map_net} with the {cfg.cost} cost: expected unet, or autoencoder with a deterministic cost"
    )


def build_solver(cfg: TrainConfig, fabric=None) -> Solver:
    """The solver (UNet map, potential, cost, optimisers, update rule) of a configuration; ``fabric``
    (see :mod:`monge.engine`) places it for data parallelism and mixed precision."""
    cost = make_cost(cfg.cost, **({"gamma": cfg.gamma} if cfg.cost == "weak" else {}))
    z_channels = 1 if cost.stochastic else 0
    T = build_map(cfg, z_channels)
    f: torch.nn.Module = _fits_in_memory(
        lambda: ResNetPotential(cfg.size, 3, cfg.f_width, cfg.f_max_width),
        "f_width",
        f"{cfg.f_width} (with f_max_width {cfg.f_max_width})",
    )
    if cfg.f_net.startswith("effnet"):
        features = EffNetPotential(width=4 * cfg.f_width, input_size=max(64, cfg.size))
        f = SumPotential(features, f) if cfg.f_net == "effnet+resnet" else features
    if cfg.f_norm == "spectral":
        f = spectral_normalise(f)
    if cfg.sync_batchnorm:
        T = torch.nn.SyncBatchNorm.convert_sync_batchnorm(T)
    if cfg.channels_last:
        T, f = T.to(memory_format=torch.channels_last), f.to(memory_format=torch.channels_last)
    if cfg.compile:
        T.compile()
        f.compile()
    scheduler = cosine_schedule(cfg.steps) if cfg.lr_schedule == "cosine" else None
    solver_cls: type[Solver] = NOT
    rule: dict = {"t_steps": cfg.t_steps, "f_penalty": cfg.f_penalty}  # the update rule's own options
    if cfg.objective == "reconstruction":
        solver_cls = ReconstructionSolver
    elif cfg.solver == "enot":
        solver_cls, rule = ENOT, {"expectile": cfg.expectile, "expectile_weight": cfg.expectile_weight}
    return solver_cls(
        T,
        f,
        cost,
        lr=cfg.lr,
        map_lr=cfg.map_lr,
        z_count=cfg.z_count,
        z_channels=z_channels,
        z_std=cfg.z_std,
        ema=cfg.ema,
        augment=Augment(cfg.augment) or None,
        scheduler=scheduler,
        device=None if fabric is not None else cfg.device,
        fabric=fabric,
        before_update=adapt_threads,
        **rule,
    )


def save_checkpoint(path: Path, solver: Solver, cfg: TrainConfig, data_rng: torch.Generator, extra: dict) -> None:
    """Write atomically (temp file + rename), refusing non-finite or exploded weights (the previous
    checkpoint stays the last good one)."""
    if not solver.parameters_sane():
        raise DivergenceError(
            f"{path}: not written at step {solver.steps_done}: the weights or the map's BatchNorm statistics are "
            "non-finite or exploded; training diverged (try a lower --lr)"
        )
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


def load_solver(run: str | Path, which: str = "best", device: str | None = None) -> tuple[Solver, TrainConfig]:
    """The solver of a run folder at its ``best`` or ``last`` checkpoint, in eval mode."""
    device = resolve_device(device or "auto")  # the caller's device: refused as such, not as the file's
    path = checkpoint_path(run, which)
    state = load_checkpoint(path)
    single = {"devices": 1, "num_nodes": 1, "sync_batchnorm": False, "compile": False}  # inference: one device
    # the device given, else the best one here (a run trained on a GPU maps on a laptop's CPU)
    try:
        cfg = TrainConfig.from_saved({**state["config"], **single, "device": device or "auto"})
        solver = build_solver(cfg)
    except ConfigError as err:
        raise DataError(f"{path}: {err}") from None
    load_weights(solver, state, path)
    solver.map_net.eval()
    return solver, cfg


def checkpoint_path(run: str | Path, which: str = "best") -> Path:
    """The checkpoint :func:`load_solver` reads: ``which``, or ``last.pt`` when a run has no ``best.pt`` yet."""
    path = Path(run) / "checkpoints" / f"{which}.pt"
    return path if path.exists() or which != "best" else path.with_name("last.pt")


def load_weights(solver: Solver, state: dict, path: Path) -> None:
    """Load a checkpoint's solver state, naming the file when its networks differ from the configuration's."""
    try:
        solver.load_state_dict(state["solver"])
    except (RuntimeError, KeyError) as err:
        detail = str(err).strip().splitlines()
        raise DataError(
            f"{path}: its weights do not fit the architecture its config describes ({detail[-1] if detail else err})"
        ) from None
