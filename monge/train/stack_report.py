"""A stack's report: per level the held-out metric over its evaluations, beside the trivial maps of
level 0's run (the identity, a global colour transfer), in ``stack_table.md`` / ``.json``,
``stack_curves.png``, ``stack_grid.png`` and ``report.html``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..ot.trainer import Solver
from ..report_html import STACK_SUMMARY_KEYS, write_stack_html
from ..runs import CSVLog
from ..viz import plot_curves, save_grid
from .config import TrainConfig


def level_dir(out: Path, k: int) -> Path:
    """The run folder of level ``k`` of the stack in ``out``."""
    return out / f"level_{k}"


def level_table(out: Path, levels: int) -> list[dict]:
    """Per level: min / mean / std of the held-out metric over its evaluations, its last value, its
    best row, and the level's training seconds."""
    rows = []
    for k in range(levels):
        history = CSVLog(level_dir(out, k) / "eval.csv").read()
        if not history:
            continue
        metric = next(key for key in history[0] if key.startswith(("FD", "FID")))
        values = np.array([r[metric] for r in history])
        best = history[int(values.argmin())]
        summary_path = level_dir(out, k) / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        rows.append(
            {
                "level": k,
                "metric": metric,
                "min": float(values.min()),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "best_step": int(best["step"]),
                "last": float(values[-1]),
                **{key: v for key, v in best.items() if key not in ("step", "train_seconds", metric)},
                "seconds": float(summary.get("seconds", float("nan"))),
            }
        )
    return rows


def stack_baselines(out: Path) -> dict[str, dict[str, float]]:
    """The trivial maps' scores on the stack's held-out source, as level 0's run measured them."""
    summary_path = level_dir(out, 0) / "summary.json"
    return json.loads(summary_path.read_text()).get("baselines", {}) if summary_path.exists() else {}


def losses_to_identity(table: list[dict], baselines: dict[str, dict[str, float]]) -> list[str]:
    """A sentence for every level whose last held-out metric is no better than the identity's."""
    if not table or "identity" not in baselines:
        return []
    metric = table[0]["metric"]
    identity = baselines["identity"][metric]
    return [
        f"Level {r['level']} loses to the identity: {metric} {r['last']:.1f} at its last step "
        f"against {identity:.1f} for the untouched images."
        for r in table
        if r["last"] >= identity
    ]


def write_stack_report(
    out: Path,
    table: list[dict],
    baselines: dict[str, dict[str, float]],
    solvers: list[Solver],
    src_test,
    tgt_test,
    cfg: TrainConfig,
) -> None:
    """Write the stack's tables, curves, composed grid and HTML page into ``out``; ``baselines`` are
    :func:`stack_baselines`'."""
    metric = table[0]["metric"]
    extra = [key for key in table[0] if key not in STACK_SUMMARY_KEYS]
    lines = [
        f"| level | min {metric} | mean | std | best step | " + " | ".join(extra) + " |",
        "|---|---|---|---|---|" + "---|" * len(extra),
    ]
    for name, scores in baselines.items():  # the same metric on the same images, measured in this run
        lines.append(
            f"| {name} | {scores[metric]:.2f} | - | - | - | "
            + " | ".join(f"{scores[key]:.4g}" if key in scores else "-" for key in extra)
            + " |"
        )
    for r in table:
        lines.append(
            f"| {r['level']} | {r['min']:.2f} | {r['mean']:.2f} | {r['std']:.2f} | {r['best_step']} | "
            + " | ".join(f"{r[key]:.4g}" for key in extra)
            + " |"
        )
    verdicts = losses_to_identity(table, baselines)
    (out / "stack_table.md").write_text("\n".join(lines + [""] + [f"*{v}*" for v in verdicts]) + "\n")
    (out / "stack_table.json").write_text(json.dumps({"levels": table, "baselines": baselines}, indent=2))
    curves = {}
    for k in range(len(table)):
        history = CSVLog(level_dir(out, k) / "eval.csv").read()
        curves[f"level {k}"] = ([r["step"] for r in history], [r[metric] for r in history])
    plot_curves(curves, out / "stack_curves.png", metric, "held-out metric per stacking level")
    n = min(cfg.grid_images, len(src_test))
    x = torch.stack([src_test[i] for i in range(n)])
    rows = [x]
    for solver in solvers:
        rows.append(solver.map(rows[-1]))
    names = [src_test.names[i] for i in range(n)]
    if set(names) <= set(tgt_test.names):
        rows.append(tgt_test.subset(names).tensor())
    save_grid(rows, out / "stack_grid.png", scale=2)
    pages = [level_dir(out, r["level"]) / "report.html" for r in table]
    write_stack_html(out, table, f"{cfg.source} -> {cfg.target}", pages, baselines, verdicts)
