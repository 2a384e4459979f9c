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
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..engine import resolve_device
from ..errors import ConfigError, DataError
from ..runs import atomic_write, atomic_write_text, prepare_folder
from .config import TrainConfig
from .factory import build_map, checkpoint_path, load_solver
from .model_card import model_card

WEIGHTS, CONFIG = "model.safetensors", "config.json"
CARD = "README.md"  # the model card: the Hub's page of the map
SAMPLES = "samples.png"  # the run's last sample grid: source | T(source) | hidden target
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

    def as_batch(self, x: object) -> torch.Tensor:
        """Images in any common form as a float batch (N, 3, H, W) in [-1, 1]: a float tensor in
        [-1, 1] ((3, H, W) or batched), a uint8 tensor or array (channels first or last), a PIL
        image, or an image file's path (the last two resized to the map's size)."""
        from PIL import Image

        from ..data.images import load_image, pil_to_tensor, resize_square, to_rgb

        if isinstance(x, str | Path):
            return load_image(x, self.size).unsqueeze(0)
        if isinstance(x, Image.Image):
            return pil_to_tensor(resize_square(to_rgb(x), self.size)).unsqueeze(0)
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x))
        if not isinstance(x, torch.Tensor):
            raise DataError(f"a {type(x).__name__} is not an image: give a tensor, an array, a PIL image or a path")
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if x.dim() != 4:
            raise DataError(f"images of shape {tuple(x.shape)}: expected (3, H, W) or (N, 3, H, W)")
        if x.shape[1] != 3 and x.shape[-1] == 3:  # channels last, as arrays and PIL hold them
            x = x.permute(0, 3, 1, 2)
        if x.shape[1] != 3:
            raise DataError(f"images of shape {tuple(x.shape)}: expected 3 colour channels")
        if x.dtype == torch.uint8:
            return x.float().div(127.5).sub(1.0)
        x = x.float()
        low, high = float(x.min()), float(x.max())
        if not (-1.001 <= low and high <= 1.001):  # also refuses NaN
            raise DataError(
                f"image values from {low:.3g} to {high:.3g}: a float image must lie in [-1, 1] "
                "(give uint8 for 0-255, or rescale: x * 2 - 1 for [0, 1])"
            )
        return x.clamp(-1, 1)

    @torch.no_grad()
    def sample(self, x: object, n: int = 1, batch_size: int = 64) -> torch.Tensor:
        """``n`` outputs per input, (N, n, 3, H, W) in [-1, 1]; a deterministic map repeats its one
        output. ``x``: any form :meth:`as_batch` takes."""
        from ..errors import DivergenceError
        from ..ot.nets import apply_map

        batch = self.as_batch(x)
        device = next(self.net.parameters()).device
        parts = []
        for b in batch.split(max(1, batch_size // n)):
            out = apply_map(self.net, b.to(device), n, self.z_channels, self.z_std)
            parts.append((out if self.z_channels else out.unsqueeze(1).expand(-1, n, *b.shape[1:])).cpu())
        result = torch.cat(parts)
        if not torch.isfinite(result).all():
            raise DivergenceError("the map's outputs are not finite: its weights are damaged or diverged")
        return result.clamp(-1, 1)

    def map(self, x: object, batch_size: int = 64) -> torch.Tensor:
        """T(x), one output per input (one noise draw for a stochastic map), in [-1, 1]."""
        return self.sample(x, 1, batch_size)[:, 0]

    __call__ = map

    def translate_image(self, image, keep_size: bool = False):
        """A PIL image (or an image file's path) through the map, as a PIL image: at the map's size, or
        at the input's with ``keep_size``."""
        from PIL import Image

        from ..data.images import tensor_to_uint8

        out = Image.fromarray(tensor_to_uint8(self.map(image)[0]))
        if not keep_size:
            return out
        size = image.size if isinstance(image, Image.Image) else Image.open(image).size
        return out.resize(size, Image.Resampling.LANCZOS)

    def __repr__(self) -> str:
        kind = f"stochastic, {self.z_channels} noise channel(s)" if self.z_channels else "deterministic"
        route = f"{self.config.source or '?'} -> {self.config.target or '?'}"
        return f"TranslationMap({route}, {self.size} px, {self.config.solver}, {kind}, {self.origin or 'loaded'})"


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
        "checkpoint": checkpoint_path(run, which).name,  # a name, not a path: the folder travels
        "step": solver.steps_done,
        "weight_average": solver.map_net is not solver.T,
        "z_channels": solver.noise_channels,
        "z_std": solver.z_std,
        "config": {**cfg.to_dict(), "out": ""},
    }
    _check_export_folder(out, meta)
    atomic_write(out / WEIGHTS, lambda tmp: save_file(state, tmp, metadata={"format": "pt", "monge": FORMAT}))
    atomic_write_text(out / CONFIG, json.dumps(meta, indent=2))
    grid = Path(run) / "samples" / "latest.png"
    if grid.exists():  # the run's last sample grid, shown by the card
        shutil.copyfile(grid, out / SAMPLES)
    atomic_write_text(out / CARD, model_card(Path(run), meta, (out / SAMPLES).exists()))
    return out


def _check_export_folder(out: Path, meta: dict) -> None:
    """Refuse to write an export into a run folder, or over an export of another map."""
    if (out / "checkpoints").is_dir():
        raise DataError(f"{out}: a run folder; export into a folder of its own (--out)")
    if not (out / CONFIG).exists():
        return
    try:
        earlier = json.loads((out / CONFIG).read_text())
    except (OSError, ValueError):
        earlier = None
    if not isinstance(earlier, dict) or earlier.get("format") != FORMAT:
        raise DataError(f"{out}: its {CONFIG} is not a monge export; export into a folder of its own (--out)")
    if (earlier.get("config"), earlier.get("step")) != (meta["config"], meta["step"]):
        raise DataError(f"{out}: holds the export of another map; export into a folder of its own (--out)")


def _check_meta(path: Path, meta: object) -> None:
    """Refuse an export's ``config.json`` that is not what :func:`export_map` writes, naming the field."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise DataError(f"{path}: format {found!r}, expected {FORMAT}")
    if not isinstance(meta.get("config"), dict):
        raise DataError(f"{path}: 'config' must be the run's configuration, a JSON object")
    z_channels, z_std = meta.get("z_channels"), meta.get("z_std")
    if type(z_channels) is not int or z_channels not in (0, 1):
        raise DataError(f"{path}: 'z_channels' is {z_channels!r}; expected 0 (deterministic) or 1 (stochastic)")
    if type(z_std) not in (int, float) or not 0 < z_std < math.inf:
        raise DataError(f"{path}: 'z_std' is {z_std!r}; expected a positive number")


def _check_finite(file: Path, state: dict[str, torch.Tensor]) -> None:
    """Refuse weights that hold NaN or infinity (a damaged file or a diverged run), naming a tensor."""
    bad = next((k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
    if bad is not None:
        raise DataError(f"{file}: {bad} holds NaN or infinite weights (a damaged file or a diverged run)")


def load_map(path: str | Path, device: str | None = None, which: str = "best") -> TranslationMap:
    """A map from an exported folder (``config.json`` + ``model.safetensors``) or from a run folder
    (its ``best``/``last`` checkpoint)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    device = resolve_device(device or "auto")  # the caller's device: refused as such, not as the file's
    if not (path / WEIGHTS).exists():
        if not (path / "checkpoints").exists():
            raise DataError(f"{path}: neither an exported map ({WEIGHTS}) nor a run folder (checkpoints/)")
        solver, cfg = load_solver(path, which, device)
        _check_finite(checkpoint_path(path, which), solver.map_net.state_dict())
        origin = checkpoint_path(path, which).stem
        return TranslationMap(solver.map_net.eval(), cfg, solver.noise_channels, solver.z_std, origin)
    try:
        meta = json.loads((path / CONFIG).read_text())
        state = load_file(path / WEIGHTS)
    except (OSError, ValueError, SafetensorError) as err:
        raise DataError(f"{path}: not a readable exported map ({err})") from None
    _check_meta(path / CONFIG, meta)
    _check_finite(path / WEIGHTS, state)
    try:
        cfg = TrainConfig.from_saved({**meta["config"], "device": device or "auto"})
        net = build_map(cfg, meta["z_channels"])
    except ConfigError as err:
        raise DataError(f"{path / CONFIG}: {err}") from None
    if cfg.channels_last:  # the layout it was trained in: the same convolution kernels, the same outputs
        net = net.to(memory_format=torch.channels_last)
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        first = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err))
        raise DataError(f"{path / WEIGHTS}: weights do not fit the map its config describes ({first})") from None
    return TranslationMap(net.to(cfg.device).eval(), cfg, meta["z_channels"], meta["z_std"], "exported")
