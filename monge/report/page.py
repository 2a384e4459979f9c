"""Self-contained HTML pages: one shared style, images inlined, written atomically; and the
``index.html`` of a folder of translated images."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ..runs import atomic_write_text

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.loss{color:#b00020;font-weight:600}
.win{color:#1b5e20;font-weight:600}img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}
code{background:#f3f3f3;padding:0 .25em}
"""


def inline_png(path: Path, alt: str, missing: str = "not written yet") -> str:
    """An ``<img>`` holding the PNG at ``path`` (base64), or a line saying it is ``missing``."""
    if not path.exists():
        return f"<p><em>{html.escape(alt)}: {html.escape(missing)}.</em></p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def write_page(path: Path, title: str, body: str) -> Path:
    """Write one self-contained HTML page (the shared style inlined) atomically."""
    atomic_write_text(
        path,
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>",
    )
    return path


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
    return write_page(
        path,
        "monge translate",
        f"<h1>monge translate</h1><p>{html.escape(title)}: {len(rows)} images.</p><table><tr>{head}</tr>{body}</table>",
    )
