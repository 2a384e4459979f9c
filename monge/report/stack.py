"""A stack's report: per level the held-out metric over its evaluations, beside the trivial maps of
level 0's run (the identity, a global colour transfer), in ``stack_table.md`` / ``.json``,
``stack_curves.png`` and ``report.html`` (the composed grid, ``stack_grid.png``, is the stack's own)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from ..runs import CSVLog
from ..viz import plot_curves
from .page import inline_png, write_page
from .table import Table

SUMMARY_KEYS = ("level", "metric", "min", "mean", "std", "best_step")  # every other key of a row follows them


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


def stack_table(table: list[dict], baselines: dict[str, dict[str, float]]) -> Table:
    """The trivial maps' rows (the same metric on the same images, measured in this run), then one
    row per level: min / mean / std over its evaluations, its best step and the best row's other metrics."""
    metric = table[0]["metric"]
    extra = [key for key in table[0] if key not in SUMMARY_KEYS]
    cells = Table(["level", f"min {metric}", "mean", "std", "best step", *extra])
    for name, scores in baselines.items():
        cells.add(
            [name, f"{scores[metric]:.2f}", "-", "-", "-"] + [f"{scores[k]:.4g}" if k in scores else "-" for k in extra]
        )
    for r in table:
        cells.add(
            [str(r["level"]), f"{r['min']:.2f}", f"{r['mean']:.2f}", f"{r['std']:.2f}", str(r["best_step"])]
            + [f"{r[k]:.4g}" for k in extra]
        )
    return cells


def write_stack_report(out: Path, table: list[dict], baselines: dict[str, dict[str, float]], title: str) -> None:
    """Write the stack's table (markdown, JSON), curves and HTML page into ``out``; ``baselines`` are
    :func:`stack_baselines`'."""
    metric = table[0]["metric"]
    cells = stack_table(table, baselines)
    verdicts = losses_to_identity(table, baselines)
    (out / "stack_table.md").write_text("\n".join([cells.markdown(), ""] + [f"*{v}*" for v in verdicts]) + "\n")
    (out / "stack_table.json").write_text(json.dumps({"levels": table, "baselines": baselines}, indent=2))
    curves = {}
    for k in range(len(table)):
        history = CSVLog(level_dir(out, k) / "eval.csv").read()
        curves[f"level {k}"] = ([r["step"] for r in history], [r[metric] for r in history])
    plot_curves(curves, out / "stack_curves.png", metric, "held-out metric per stacking level")
    pages = [level_dir(out, r["level"]) / "report.html" for r in table]
    links = " ".join(
        f'<a href="{html.escape(page.relative_to(out).as_posix())}">level {r["level"]}</a>'
        for r, page in zip(table, pages)
        if page.exists()
    )
    parts = [
        f"<h1>monge stack: {html.escape(title)}</h1>",
        f"<p>Level k maps the output of levels 0..k-1. {html.escape(metric)} on the held-out test split "
        "over each level's evaluations (lower is better). Each level's own page, with its baselines: "
        f"{links or 'not written'}.</p>",
        cells.html(),
        "".join(f"<p><strong>{html.escape(v)}</strong></p>" for v in verdicts),
        "<h2>Composed maps</h2><p>Rows: source, then each level's output, then the target (when known).</p>",
        inline_png(out / "stack_grid.png", "stack grid"),
        "<h2>Curves</h2>",
        inline_png(out / "stack_curves.png", "curves per level", "needs matplotlib (the viz extra)"),
    ]
    write_page(out / "report.html", "monge stack", "".join(parts))
