"""Pictures a person looks at: image grids and metric-vs-step plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from PIL import Image

from .data.images import tensor_to_uint8


def image_grid(rows: Sequence[torch.Tensor], pad: int = 2) -> torch.Tensor:
    """Rows of equal-length image batches (N, 3, H, W) in [-1, 1] as one image (3, H', W') with white gaps."""
    n, (_, h, w) = len(rows[0]), rows[0].shape[1:]
    grid = torch.ones(3, len(rows) * (h + pad) + pad, n * (w + pad) + pad)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            top, left = pad + r * (h + pad), pad + c * (w + pad)
            grid[:, top : top + h, left : left + w] = img.detach().float().cpu().clamp(-1, 1)
    return grid


def save_grid(rows: Sequence[torch.Tensor], path: str | Path, scale: int = 1) -> torch.Tensor:
    """Write :func:`image_grid` as PNG (nearest-neighbour upscaled by ``scale``); returns the grid."""
    grid = image_grid(rows)
    img = Image.fromarray(tensor_to_uint8(grid))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    img.save(path)
    return grid


def plot_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    ylabel: str,
    title: str = "",
    xlabel: str = "step",
    levels: Mapping[str, float] | None = None,
) -> None:
    """One line per named (x, values) curve, x the steps unless ``xlabel`` says otherwise; the minimum
    of each is marked. ``levels`` adds named horizontal lines (a baseline's score, a target). Without matplotlib
    (the ``viz`` extra) nothing is drawn: the numbers stay in the run's CSV logs and report.html."""
    try:
        from matplotlib.figure import Figure  # no pyplot: the user's (or notebook's) backend is left alone
    except ImportError:
        return

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    for name, (steps, values) in curves.items():
        if not len(steps):
            continue
        (line,) = ax.plot(steps, values, marker="o", ms=3, label=name)
        best = min(range(len(values)), key=lambda i: values[i])
        ax.scatter([steps[best]], [values[best]], color=line.get_color(), s=60, zorder=3, facecolors="none")
    for (name, value), style in zip((levels or {}).items(), ("--", ":", "-.") * 4):
        ax.axhline(value, color="grey", linestyle=style, linewidth=1, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
