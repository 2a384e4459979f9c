"""The translation suite's report: one tasks x methods table (markdown, and HTML with every grid)
over the ``TASK/seedS/result.json`` files that :mod:`monge.bench.suite` writes."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path

from .page import inline_png, write_page
from .table import Table, better

COLUMNS = ("FD-EffNetLite0", "KID", "mse", "psnr", "PD-EffNetLite0", "C2ST accuracy")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def verdicts(results: list[dict]) -> list[str]:
    """One sentence per task and seed: the targets the map misses, or that it meets them all."""
    lines = []
    for r in results:
        missed = [name for name, ok in r["targets"].items() if not ok]
        words = "meets every target" if not missed else f"misses: {', '.join(missed)}"
        lines.append(f"{r['task']}, seed {r['seed']}: the map {words}.")
    return lines


def suite_table(results: list[dict]) -> str:
    """One markdown table, a row per task and method (mean over seeds), and the targets met per task."""
    by_task: dict[str, list[dict]] = {}
    for r in results:
        by_task.setdefault(r["task"], []).append(r)
    table = Table(
        ["task", "method", "seeds", "FD-EffNetLite0", "FD - identity (SD)", "KID", "MSE", "PSNR", "C2ST acc.", "s"]
    )
    for task, runs in by_task.items():
        for method in runs[0]["rows"]:
            got = [r["rows"][method] for r in runs if method in r["rows"]]
            delta = ", ".join(f"{g['FD - identity (mean)']:+.1f} ({g['FD - identity (std)']:.1f})" for g in got)
            table.add(
                [
                    task,
                    method,
                    str(len(got)),
                    f"{_mean([g['FD-EffNetLite0'] for g in got]):.1f}",
                    delta,
                    f"{_mean([g['KID'] for g in got]):.4f}",
                    f"{_mean([g['mse'] for g in got]):.4f}",
                    f"{_mean([g['psnr'] for g in got]):.2f}",
                    f"{100 * _mean([g['C2ST accuracy'] for g in got]):.1f} %",
                    f"{_mean([g.get('seconds', 0.0) for g in got]):.0f}",
                ]
            )
    return "\n".join([table.markdown(), "", *(f"- {v}" for v in verdicts(results))])


def collect_results(out: str | Path, order: Sequence[str] = ()) -> list[dict]:
    """Every task and seed scored so far under ``out`` (``TASK/seedS/result.json``), tasks in ``order``."""
    found = [json.loads(path.read_text()) for path in Path(out).glob("*/seed*/result.json")]
    rank = {task: k for k, task in enumerate(order)}
    return sorted(found, key=lambda r: (rank.get(r["task"], len(rank)), r["task"], r["seed"]))


def write_suite_html(out: Path, results: list[dict], summary_markdown: str) -> Path:
    """Write ``out/report.html`` for a translation suite: per task and seed, the methods' scores
    (losses to the identity marked), which targets the map meets, and the grid (source, each
    method, hidden target)."""
    parts = [f"<h1>monge translation suite</h1><p>{len(results)} runs. CPU: {html.escape(results[0]['cpu'])}.</p>"]
    for r, verdict in zip(results, verdicts(results)):
        identity = r["rows"]["identity"]
        table = Table(["method", *COLUMNS, "s"])
        for name, row in r["rows"].items():
            worse = [name != "identity" and not better(c, row[c], identity[c]) for c in COLUMNS]
            table.add(
                [name, *(f"{row[c]:.4g}" for c in COLUMNS), f"{row.get('seconds', 0):.0f}"],
                ["", *("loss" if w else "" for w in worse), ""],
            )
        parts += [
            f"<h2>{html.escape(r['task'])}, seed {r['seed']}</h2>",
            f"<p>{html.escape(r['source'])} &rarr; {html.escape(r['target'])}, {r['test_pairs']} held-out pairs, "
            f"{r['steps']} steps ({html.escape(r['solver'])}). {html.escape(verdict)}</p>",
            table.html(),
            f"<p>Grid rows: {html.escape(' | '.join(r['grid rows']))}.</p>",
            inline_png(out / r["task"] / f"seed{r['seed']}" / "grid.png", f"{r['task']} grid"),
        ]
    parts.append(f"<h2>Summary</h2><pre>{html.escape(summary_markdown)}</pre>")
    return write_page(out / "report.html", "monge translation suite", "".join(parts))


def write_suite_report(out: str | Path, order: Sequence[str] = ()) -> str:
    """``suite.md`` and ``report.html`` in ``out`` over every result there; returns the table."""
    results = collect_results(out, order)
    table = suite_table(results)
    (Path(out) / "suite.md").write_text(table + "\n")
    write_suite_html(Path(out), results, table)
    return table
