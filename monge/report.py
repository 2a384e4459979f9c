"""A short markdown report of a finished run, for people to read."""

from __future__ import annotations

import json
from pathlib import Path

from .train.loop import TrainSummary


def write_report(run: Path, summary: TrainSummary) -> Path:
    """Write ``run/report.md``: configuration, best and final held-out metrics, grid and curve."""
    cfg = json.loads((run / "config.json").read_text())
    metric = summary.metric
    lines = [
        f"# monge run: {cfg['source']} -> {cfg['target']}",
        "",
        f"NOT with the **{cfg['cost']}** cost, preset `{cfg['preset']}`, {cfg['size']} px, "
        f"{summary.steps} steps of {cfg['t_steps']} map updates + 1 potential update, batch {cfg['batch_size']}, "
        f"seed {cfg['seed']}; {summary.seconds} s.",
        "",
        "All metrics are on the held-out test split. "
        f"{metric} compares T(source test) with the target test split"
        + (" (EfficientNet-Lite0 features: not comparable with FID)." if metric != "FID" else "."),
        "",
        "| | " + " | ".join(summary.final) + " |",
        "|---|" + "---|" * len(summary.final),
        "| final | " + " | ".join(f"{v:.4g}" for v in summary.final.values()) + " |",
        "",
        f"Best {metric}: **{summary.best:.4g}** at step {summary.best_step} "
        "(checkpoints/best.pt, used by `monge translate` by default).",
        "",
        "Rows: source | T(source) | the same emoji in the target style (hidden pairs, when known).",
        "",
        "![samples](samples/latest.png)",
        "",
        f"![{metric} over training](curve.png)",
        "",
    ]
    path = run / "report.md"
    path.write_text("\n".join(lines))
    return path
