"""A training run's reports: ``report.html`` (rewritten at every evaluation) and ``report.md`` (at the end).

Both hold what a person needs to judge the run without other files: the configuration's differences
from its preset's defaults, the held-out metrics beside the trivial baselines measured in the same
run, a verdict in words, the sample grid and the metric curve (inlined in the page, an SVG drawn here,
so no plotting library is needed).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Protocol

from ..runs import CSVLog
from .page import inline_png, write_page
from .table import Table, better, verdict_words


class RunSummary(Protocol):
    """What :func:`write_report` reads of a finished run (``monge.train.summary.TrainSummary``)."""

    metric: str | None
    steps: int
    best_step: int
    best: float
    final: dict[str, float]
    seconds: float
    baselines: dict[str, dict[str, float]]
    chosen_on: str  # the split best.pt was chosen on: validation or test
    stopped_early: bool  # the validation score stopped improving before the configured steps


def svg_curve(steps: list[float], values: list[float], label: str, width: int = 480, height: int = 200) -> str:
    """An inline SVG line of ``values`` over ``steps``, with its range written at the axes."""
    if len(values) < 2:
        return "<p><em>The curve needs two evaluations.</em></p>"
    lo, hi, s0, s1 = min(values), max(values), min(steps), max(steps)
    pad = 40

    def xy(s: float, v: float) -> str:
        x = pad + (width - 2 * pad) * (s - s0) / max(s1 - s0, 1e-12)
        y = height - pad - (height - 2 * pad) * (v - lo) / max(hi - lo, 1e-12)
        return f"{x:.1f},{y:.1f}"

    points = " ".join(xy(s, v) for s, v in zip(steps, values))
    text = 'font-size="11" fill="#444"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(label)} over steps">'
        f'<polyline fill="none" stroke="#1565c0" stroke-width="2" points="{points}"/>'
        f'<text x="2" y="{pad}" {text}>{hi:.4g}</text><text x="2" y="{height - pad}" {text}>{lo:.4g}</text>'
        f'<text x="{pad}" y="{height - 8}" {text}>step {s0:g}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end" {text}>step {s1:g}</text>'
        f'<text x="{width / 2}" y="14" text-anchor="middle" {text}>{html.escape(label)} (held out)</text></svg>'
    )


def metrics_table(history: list[dict], baselines: dict[str, dict[str, float]]) -> tuple[Table, list[str]]:
    """Every evaluation's metrics, then the baselines' rows, cells marked better or worse than the identity."""
    keys = [k for k in (history[-1] if history else {}) if k not in ("step", "train_seconds")]
    identity = baselines.get("identity")
    table = Table(["map", *keys])

    def marks(name: str, values: dict[str, float]) -> list[str]:
        if identity is None or name == "identity":
            return []
        scored = [k in values and k in identity for k in keys]  # validation columns have no baseline
        return [""] + [
            ("win" if better(k, float(values[k]), identity[k]) else "loss") if ok else "" for k, ok in zip(keys, scored)
        ]

    for r in history:
        table.add([f"T at step {int(r['step'])}"] + [f"{float(r[k]):.4g}" for k in keys], marks("T", r))
    for name, values in baselines.items():
        cells = [f"{values[k]:.4g}" if k in values else "-" for k in keys]
        table.add([f"{name} (baseline)", *cells], marks(name, values))
    return table, keys


def config_changes(cfg: dict, defaults: dict) -> list[list[str]]:
    """[key, value, default] for every key of ``cfg`` (but ``out``) that differs from ``defaults``."""
    return [
        [k, json.dumps(v), json.dumps(defaults.get(k))] for k, v in cfg.items() if k != "out" and defaults.get(k) != v
    ]


def describe(cfg: dict) -> str:
    """The run's recipe in one line of words."""
    return (
        f"{cfg.get('solver', 'not').upper()} with the {cfg['cost']} cost, preset {cfg['preset']}, {cfg['size']} px, "
        f"batch {cfg['batch_size']}, seed {cfg['seed']}; potential {cfg.get('f_net', 'resnet')}, augmentation "
        f"{cfg.get('augment', 'none')}, map weight average {cfg.get('ema') or 'off'}; learning rates "
        f"{cfg['lr']:g} (potential) and {cfg.get('map_lr') or cfg['lr']:g} (map), "
        f"{cfg.get('lr_schedule', 'constant')}; "
        f"discrete OT pairs ({cfg.get('ot_pairing', 'pixels')}): warm start {cfg.get('ot_warm_start') or 'off'}, "
        f"anchor {cfg.get('ot_anchor') or 'off'}, fitted in {cfg.get('ot_pair_loss', 'l2')}."
    )


def stopped_early_words(cfg: dict) -> str:
    """Why a run ended before its configured steps (``--patience``)."""
    return f"stopped early: the validation score had not improved for {cfg['patience']} evaluations"


def write_run_html(
    run: Path,
    history: list[dict],
    baselines: dict[str, dict[str, float]],
    seconds: float,
    defaults: dict,
    stopped: bool = False,
) -> Path:
    """Write ``run/report.html`` from the run's config, its evaluations so far, the baselines and the
    preset's ``defaults`` (to show what the run changed); ``stopped``: this evaluation ended the run early."""
    cfg = json.loads((run / "config.json").read_text())
    table, keys = metrics_table(history, baselines)
    last = {k: float(history[-1][k]) for k in keys} if history else {}
    words, lost = verdict_words(last, baselines.get("identity"))
    step = int(history[-1]["step"]) if history else 0
    when = f"{seconds:.0f} s of wall time" + ("" if step >= cfg["steps"] or stopped else " so far")
    when += f"; {stopped_early_words(cfg)}" if stopped else ""
    changes = config_changes(cfg, defaults)
    metric = next((k for k in keys if k.startswith(("FD", "FID"))), keys[0] if keys else "")
    parts = [
        f"<h1>monge run: {html.escape(cfg['source'])} &rarr; {html.escape(cfg['target'])}</h1>",
        f"<p>{html.escape(describe(cfg))} {step} of {cfg['steps']} steps, {when}. Every figure is on the held-out "
        "test split but the val_ columns (the validation split, cut from the training images, that chooses "
        "best.pt); lower is better except PSNR. Green: better than the identity (the images left as they "
        "are), red: worse.</p>",
        f'<p class="{"loss" if lost else "win"}">{html.escape(words)}</p>' if words else "",
        "<h2>Held-out metrics</h2>",
        table.html() if history else "<p><em>No evaluation yet.</em></p>",
        "<h2>Configuration (differences from the preset's defaults)</h2>",
        Table(["key", "value", "default"], changes, []).html() if changes else "<p>The defaults.</p>",
        "<h2>Samples</h2><p>Rows: source | T(source) | the same item in the target style (when known).</p>",
        inline_png(run / "samples" / "latest.png", "sample grid"),
        "<h2>Curve</h2>",
        svg_curve([float(r["step"]) for r in history], [float(r[metric]) for r in history], metric) if history else "",
    ]
    return write_page(run / "report.html", f"monge run {run.name}", "".join(parts))


def write_report(run: Path, summary: RunSummary) -> Path:
    """Write ``run/report.md``: the recipe, held-out metrics of the map's evaluations beside the trivial
    baselines measured in the same run, a verdict in words, the sample grid and the curve."""
    cfg = json.loads((run / "config.json").read_text())
    table, _ = metrics_table(CSVLog(run / "eval.csv").read(), summary.baselines)
    words, lost = verdict_words(summary.final, summary.baselines.get("identity"))
    metric = summary.metric or ""
    stopped = f" ({summary.steps} of {cfg['steps']}: {stopped_early_words(cfg)})" if summary.stopped_early else ""
    lines = [
        f"# monge run: {cfg['source']} -> {cfg['target']}",
        "",
        f"{describe(cfg)} {summary.steps} steps in {summary.seconds} s{stopped}.",
        "",
        "All metrics are on the held-out test split, but the val_ columns (the validation split, cut from the "
        "training images, that chooses best.pt); lower is better except PSNR. "
        f"{metric} compares the mapped test images with the target test split"
        + (" (EfficientNet-Lite0 features: not comparable with FID)." if metric != "FID" else ".")
        + " MSE, PSNR and PD compare each mapped image with the same item drawn in the target style.",
        "",
        table.markdown(),
        "",
        f"**{words}**" if lost else words,
        "",
        f"Best {metric}: {summary.best:.4g} at step {summary.best_step} (checkpoints/best.pt, which apply and "
        + (
            "export use, chosen on the validation split cut from the training images: the test split only scores it)."
            if summary.chosen_on == "validation"
            else "export use, chosen on the test split: use the last step for an unbiased figure)."
        ),
        "",
        "Rows: source | T(source) | the same item in the target style (hidden pairs, when known).",
        "",
        "![samples](samples/latest.png)",
        "",
        f"![{metric} over training](curve.png)"
        if (run / "curve.png").exists()
        else "(The curve is drawn in `report.html`; `eval.csv` holds the numbers.)",
        "",
    ]
    path = run / "report.md"
    path.write_text("\n".join(lines))
    return path
