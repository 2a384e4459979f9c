"""``report.html``: one self-contained page per training run, rewritten at every evaluation.

It holds what a person needs to judge the run without other files: the configuration's differences
from its preset's defaults, the held-out metrics of every evaluation beside the trivial baselines
measured in the same run, a verdict in words, the sample grid and the metric curve, both inlined
(base64), so the file can be mailed or attached as it is. It needs nothing beyond the standard library.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path

from .runs import atomic_write_text

# the per-level summary columns of a stack table; every other key of a row is shown after them
STACK_SUMMARY_KEYS = ("level", "metric", "min", "mean", "std", "best_step")

LOWER_IS_BETTER = {"mse": True, "psnr": False}  # every other metric (FD, FID, KID, PD) is a distance

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.loss{color:#b00020;font-weight:600}
.win{color:#1b5e20;font-weight:600}img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}
code{background:#f3f3f3;padding:0 .25em}
"""


def better(metric: str, a: float, b: float) -> bool:
    """Whether value ``a`` of ``metric`` is better than ``b``."""
    return a < b if LOWER_IS_BETTER.get(metric, True) else a > b


def verdict_words(
    final: dict[str, float], reference: dict[str, float] | None, baseline: str = "identity"
) -> tuple[str, bool]:
    """One sentence saying on which metrics the map loses to (or beats) ``baseline``, and whether it lost
    on any; ("", False) without both."""
    if not final or not reference:
        return "", False
    lost = [k for k, v in final.items() if k in reference and not better(k, v, reference[k])]
    won = [k for k, v in final.items() if k in reference and better(k, v, reference[k])]
    if not lost:
        return f"The map beats the {baseline} on every metric ({', '.join(won)}).", False
    return f"The map does not beat the {baseline} on {', '.join(lost)}" + (
        f"; it beats it on {', '.join(won)}." if won else "."
    ), True


def _inline_png(path: Path, alt: str) -> str:
    if not path.exists():
        return f"<p><em>{html.escape(alt)}: not written yet.</em></p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _write_page(path: Path, title: str, body: str) -> Path:
    """Write one self-contained HTML page (the shared style inlined) atomically."""
    atomic_write_text(
        path,
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>",
    )
    return path


def _config_changes(cfg: dict) -> list[tuple[str, str, str]]:
    """(key, value, preset default) for every key that differs from the preset's defaults."""
    from .train.config import TrainConfig

    base = TrainConfig.from_dict({k: cfg[k] for k in ("source", "target", "out", "preset") if k in cfg}).to_dict()
    return [(k, json.dumps(v), json.dumps(base.get(k))) for k, v in cfg.items() if k != "out" and base.get(k) != v]


def _table(header: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = ""
    for i, row in enumerate(rows):
        cells = ""
        for j, cell in enumerate(row):
            cls = classes[i][j] if classes else ""
            cells += f'<td class="{cls}">{html.escape(cell)}</td>' if cls else f"<td>{html.escape(cell)}</td>"
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def write_run_html(run: Path, history: list[dict], baselines: dict[str, dict[str, float]], seconds: float) -> Path:
    """Write ``run/report.html`` from the run's config, its evaluations so far and the baselines."""
    cfg = json.loads((run / "config.json").read_text())
    keys = [k for k in (history[-1] if history else {}) if k not in ("step", "train_seconds")]
    last = {k: float(history[-1][k]) for k in keys} if history else {}
    identity = baselines.get("identity")

    def mark(name: str, values: dict[str, float]) -> list[str]:
        if identity is None or name == "identity":
            return [""] * (len(keys) + 1)
        return [""] + ["win" if better(k, values[k], identity[k]) else "loss" for k in keys if k in values]

    rows = [[f"T at step {int(r['step'])}"] + [f"{float(r[k]):.4g}" for k in keys] for r in history]
    classes = [mark("T", {k: float(r[k]) for k in keys}) for r in history]
    for name, values in baselines.items():
        rows.append([f"{name} (baseline)"] + [f"{values.get(k, float('nan')):.4g}" for k in keys])
        classes.append(mark(name, values))
    changes = _config_changes(cfg)
    words, lost = verdict_words(last, identity)
    parts = [
        f"<h1>monge run: {html.escape(cfg['source'])} &rarr; {html.escape(cfg['target'])}</h1>",
        f"<p>NOT, <b>{html.escape(cfg['cost'])}</b> cost, preset <code>{html.escape(cfg['preset'])}</code>, "
        f"{cfg['size']} px; {int(history[-1]['step']) if history else 0} of {cfg['steps']} steps, "
        f"{seconds:.0f} s of wall time so far. Every figure is on the held-out test split; "
        "lower is better except PSNR. Green: better than the identity (the images left as they are), red: worse.</p>",
        f'<p class="{"loss" if lost else "win"}">{html.escape(words)}</p>' if words else "",
        "<h2>Held-out metrics</h2>",
        _table(["map", *keys], rows, classes) if history else "<p><em>No evaluation yet.</em></p>",
        "<h2>Configuration (differences from the preset's defaults)</h2>",
        _table(["key", "value", "default"], [list(c) for c in changes]) if changes else "<p>The defaults.</p>",
        "<h2>Samples</h2><p>Rows: source | T(source) | the same item in the target style (when known).</p>",
        _inline_png(run / "samples" / "latest.png", "sample grid"),
        "<h2>Curve</h2>",
        _inline_png(run / "curve.png", "metric curve"),
    ]
    return _write_page(run / "report.html", f"monge run {run.name}", "".join(parts))


def write_translation_html(path: Path, title: str, rows: list[tuple[str, Path, list[Path]]]) -> Path:
    """An ``index.html`` of input | output(s), one row per image, linking the PNGs beside it (as the
    CycleGAN repository's test pages do: the folder is the page, so thousands of images stay light)."""
    draws = max((len(outs) for _, _, outs in rows), default=1)
    head = "<th>name</th><th>input</th>" + "".join(
        f"<th>output{f' {k + 1}' if draws > 1 else ''}</th>" for k in range(draws)
    )

    def cell(p: Path) -> str:
        return f'<td><img src="{html.escape(p.as_posix())}" width="128"></td>'

    body = "".join(
        f"<tr><td>{html.escape(name)}</td>{cell(inp)}{''.join(cell(o) for o in outs)}</tr>" for name, inp, outs in rows
    )
    return _write_page(
        path,
        "monge translate",
        f"<h1>monge translate</h1><p>{html.escape(title)}: {len(rows)} images.</p><table><tr>{head}</tr>{body}</table>",
    )


def write_stack_html(
    out: Path,
    table: list[dict],
    title: str,
    level_pages: list[Path],
    baselines: dict[str, dict[str, float]] | None = None,
    verdicts: Sequence[str] = (),
) -> Path:
    """``out/report.html`` of a stack: the per-level metric table (min / mean / std over evaluations)
    under the trivial maps' rows (``baselines``) and the ``verdicts`` on them, links to each level's
    own report (``level_pages``, one per row of ``table``), and the composed grid and the curves, inlined."""
    metric = table[0]["metric"]
    extra = [k for k in table[0] if k not in STACK_SUMMARY_KEYS]
    rows = [
        [name, f"{scores[metric]:.2f}", "-", "-", "-"] + [f"{scores[k]:.4g}" if k in scores else "-" for k in extra]
        for name, scores in (baselines or {}).items()
    ] + [
        [str(r["level"]), f"{r['min']:.2f}", f"{r['mean']:.2f}", f"{r['std']:.2f}", str(r["best_step"])]
        + [f"{r[k]:.4g}" for k in extra]
        for r in table
    ]
    links = " ".join(
        f'<a href="{html.escape(page.relative_to(out).as_posix())}">level {r["level"]}</a>'
        for r, page in zip(table, level_pages)
        if page.exists()
    )
    parts = [
        f"<h1>monge stack: {html.escape(title)}</h1>",
        f"<p>Level k maps the output of levels 0..k-1. {html.escape(metric)} on the held-out test split "
        "over each level's evaluations (lower is better). Each level's own page, with its baselines: "
        f"{links or 'not written'}.</p>",
        _table(["level", f"min {metric}", "mean", "std", "best step", *extra], rows),
        "".join(f"<p><strong>{html.escape(v)}</strong></p>" for v in verdicts),
        "<h2>Composed maps</h2><p>Rows: source, then each level's output, then the target (when known).</p>",
        _inline_png(out / "stack_grid.png", "stack grid"),
        "<h2>Curves</h2>",
        _inline_png(out / "stack_curves.png", "curves per level"),
    ]
    return _write_page(out / "report.html", "monge stack", "".join(parts))


def write_suite_html(out: Path, results: list[dict], summary_markdown: str) -> Path:
    """Write ``out/report.html`` for a translation suite: per task and seed, the methods' scores
    (losses to the identity marked), which targets the map meets, and the grid (source, each
    method, hidden target)."""
    columns = ("FD-EffNetLite0", "KID", "mse", "psnr", "PD-EffNetLite0", "C2ST accuracy")
    parts = [f"<h1>monge translation suite</h1><p>{len(results)} runs. CPU: {html.escape(results[0]['cpu'])}.</p>"]
    for r in results:
        identity = r["rows"]["identity"]
        rows, classes = [], []
        for name, row in r["rows"].items():
            rows.append([name, *(f"{row[c]:.4g}" for c in columns), f"{row.get('seconds', 0):.0f}"])
            worse = [name != "identity" and not better(c, row[c], identity[c]) for c in columns]
            classes.append(["", *("loss" if w else "" for w in worse), ""])
        missed = [name for name, ok in r["targets"].items() if not ok]
        verdict = "The map meets every target." if not missed else f"The map misses: {', '.join(missed)}."
        parts += [
            f"<h2>{html.escape(r['task'])}, seed {r['seed']}</h2>",
            f"<p>{html.escape(r['source'])} &rarr; {html.escape(r['target'])}, {r['test_pairs']} held-out pairs, "
            f"{r['steps']} steps ({html.escape(r['solver'])}). {html.escape(verdict)}</p>",
            _table(["method", *columns, "s"], rows, classes),
            f"<p>Grid rows: {html.escape(' | '.join(r['grid rows']))}.</p>",
            _inline_png(out / r["task"] / f"seed{r['seed']}" / "grid.png", f"{r['task']} grid"),
        ]
    parts.append(f"<h2>Summary</h2><pre>{html.escape(summary_markdown)}</pre>")
    return _write_page(out / "report.html", "monge translation suite", "".join(parts))
