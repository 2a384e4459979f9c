"""A short markdown report of a finished run, for people to read: the map beside the trivial baselines."""

from __future__ import annotations

import json
from pathlib import Path

from .report_html import verdict_words
from .train.loop import TrainSummary


def verdict(summary: TrainSummary, baseline: str = "identity") -> list[str]:
    """Sentences saying on which metrics the map's last evaluation loses to (or beats) ``baseline``."""
    words, lost = verdict_words(summary.final, summary.baselines.get(baseline), baseline)
    if not words:
        return []
    return [f"**{words}**" if lost else words]


def write_report(run: Path, summary: TrainSummary) -> Path:
    """Write ``run/report.md``: configuration, held-out metrics of the map beside the trivial
    baselines measured in the same run, a verdict in words, the sample grid and the curve."""
    cfg = json.loads((run / "config.json").read_text())
    metric = summary.metric
    keys = list(summary.final)
    rows = [("T (last step)", summary.final)]
    rows += [(f"{name} (baseline)", values) for name, values in summary.baselines.items()]
    lines = [
        f"# monge run: {cfg['source']} -> {cfg['target']}",
        "",
        f"NOT with the **{cfg['cost']}** cost, preset `{cfg['preset']}`, {cfg['size']} px, "
        f"{summary.steps} steps of {cfg['t_steps']} map updates + 1 potential update, batch {cfg['batch_size']}, "
        f"seed {cfg['seed']}; {summary.seconds} s. Potential: {cfg.get('f_net', 'resnet')}, input augmentation: "
        f"{cfg.get('augment', 'none')}, weight average of the map: {cfg.get('ema') or 'off'}; learning rates "
        f"{cfg['lr']:g} (potential) and {cfg.get('map_lr') or cfg['lr']:g} (map), "
        f"{cfg.get('lr_schedule', 'constant')}; "
        f"discrete OT pairs ({cfg.get('ot_pairing', 'pixels')}): warm start {cfg.get('ot_warm_start') or 'off'}, "
        f"anchor {cfg.get('ot_anchor') or 'off'}.",
        "",
        "All metrics are on the held-out test split, lower is better except PSNR. "
        f"{metric} compares the mapped test images with the target test split"
        + (" (EfficientNet-Lite0 features: not comparable with FID)." if metric != "FID" else ".")
        + " MSE, PSNR and PD compare each mapped image with the same item drawn in the target style.",
        "",
        "| map | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
        *[
            f"| {name} | " + " | ".join(f"{values.get(k, float('nan')):.4g}" for k in keys) + " |"
            for name, values in rows
        ],
        "",
        *verdict(summary),
        "",
        f"Best {metric}: {summary.best:.4g} at step {summary.best_step} (checkpoints/best.pt, chosen on the test "
        "split: use the last step for an unbiased figure).",
        "",
        "Rows: source | T(source) | the same item in the target style (hidden pairs, when known).",
        "",
        "![samples](samples/latest.png)",
        "",
        f"![{metric} over training](curve.png)"
        if (run / "curve.png").exists()
        else "(No curve: matplotlib, the "
        "`viz` extra, is not installed; `eval.csv` and `report.html` hold the numbers.)",
        "",
    ]
    path = run / "report.md"
    path.write_text("\n".join(lines))
    return path
