"""Shareable maps: a trained run's map as ``config.json`` + ``model.safetensors``, and one call to load it.

    monge export runs/demo --out maps/twitter2google
    m = monge.load_map("maps/twitter2google")      # or a run folder
    y = m(x)                                       # (N, 3, H, W) in [-1, 1]
    ys = m.sample(x, 4)                            # (N, 4, 3, H, W): draws of a weak (stochastic) map

The export holds only the map network (its weight average when the run kept one): no potential,
no optimiser state, no pickle. safetensors loads without running code, so a map from a stranger
is as safe to open as an image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import DataError
from ..runs import atomic_write, atomic_write_text, prepare_folder
from .config import TrainConfig
from .factory import build_map, checkpoint_path, load_solver

WEIGHTS, CONFIG = "model.safetensors", "config.json"
FORMAT = "monge-map/1"


@dataclass
class TranslationMap:
    """A trained map, ready to apply: ``map(x)``, ``sample(x, n)``, or call it."""

    net: torch.nn.Module  # the map network, in eval mode
    config: TrainConfig  # the training configuration (size, cost, ...)
    z_channels: int = 0  # noise channels of a stochastic (weak-cost) map; 0: deterministic
    z_std: float = 0.1
    origin: str = ""  # what was loaded: "exported", or a run's checkpoint ("best", or "last" without a best)

    @property
    def size(self) -> int:
        """The image side the map was trained at."""
        return self.config.size

    @torch.no_grad()
    def sample(self, x: torch.Tensor, n: int = 1, batch_size: int = 64) -> torch.Tensor:
        """``n`` outputs per input, (N, n, 3, H, W); a deterministic map repeats its one output."""
        from ..ot.solver import apply_map

        device = next(self.net.parameters()).device
        parts = []
        for b in x.split(max(1, batch_size // n)):
            out = apply_map(self.net, b.to(device), n, self.z_channels, self.z_std)
            parts.append((out if self.z_channels else out.unsqueeze(1).expand(-1, n, *b.shape[1:])).cpu())
        return torch.cat(parts)

    def map(self, x: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        """T(x), one output per input (one noise draw for a stochastic map)."""
        return self.sample(x, 1, batch_size)[:, 0]

    __call__ = map


def export_map(run: str | Path, out: str | Path, which: str = "best") -> Path:
    """Write ``run``'s map (at its ``best`` or ``last`` checkpoint) to ``out`` as config + safetensors."""
    from safetensors.torch import save_file

    from .. import __version__

    solver, cfg = load_solver(run, which)
    state = {k: v.detach().cpu().contiguous() for k, v in solver.map_net.state_dict().items()}
    out = prepare_folder(out, "out")
    meta = {
        "format": FORMAT,
        "monge_version": __version__,
        "checkpoint": str(checkpoint_path(run, which)),
        "step": solver.steps_done,
        "weight_average": solver.map_net is not solver.T,
        "z_channels": solver.noise_channels,
        "z_std": solver.z_std,
        "config": {**cfg.to_dict(), "out": ""},
    }
    atomic_write(out / WEIGHTS, lambda tmp: save_file(state, tmp, metadata={"format": "pt", "monge": FORMAT}))
    atomic_write_text(out / CONFIG, json.dumps(meta, indent=2))
    return out


def load_map(path: str | Path, device: str | None = None, which: str = "best") -> TranslationMap:
    """A map from an exported folder (``config.json`` + ``model.safetensors``) or from a run folder
    (its ``best``/``last`` checkpoint)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / WEIGHTS).exists():
        if not (path / "checkpoints").exists():
            raise DataError(f"{path}: neither an exported map ({WEIGHTS}) nor a run folder (checkpoints/)")
        solver, cfg = load_solver(path, which, device)
        origin = checkpoint_path(path, which).stem
        return TranslationMap(solver.map_net.eval(), cfg, solver.noise_channels, solver.z_std, origin)
    try:
        meta = json.loads((path / CONFIG).read_text())
        state = load_file(path / WEIGHTS)
    except (OSError, ValueError, SafetensorError) as err:
        raise DataError(f"{path}: not a readable exported map ({err})") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"{path / CONFIG}: format {meta.get('format')!r}, expected {FORMAT}")
    cfg = TrainConfig.from_dict({**meta["config"], "device": device or "auto"})
    net = build_map(cfg, meta["z_channels"])
    if cfg.channels_last:  # the layout it was trained in: the same convolution kernels, the same outputs
        net = net.to(memory_format=torch.channels_last)
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        raise DataError(f"{path / WEIGHTS}: weights do not fit the map its config describes ({err})") from None
    return TranslationMap(net.to(cfg.device).eval(), cfg, meta["z_channels"], meta["z_std"], "exported")
