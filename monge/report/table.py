"""One table of cells, rendered to markdown or HTML, and the words that compare a map with a baseline."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

LOWER_IS_BETTER = {"mse": True, "psnr": False}  # every other metric (FD, FID, KID, PD) is a distance


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


@dataclass
class Table:
    """A header and rows of cell strings; ``classes[i][j]`` marks a cell ("win", "loss" or "") in HTML."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    classes: list[list[str]] = field(default_factory=list)

    def add(self, cells: list[str], marks: list[str] | None = None) -> None:
        """Append a row, with optional per-cell marks."""
        self.rows.append(cells)
        self.classes.append(marks or [""] * len(cells))

    def markdown(self) -> str:
        """A GitHub-flavoured markdown table."""
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in self.rows])

    def html(self) -> str:
        """An HTML ``<table>``, every cell escaped."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = ""
        for row, marks in zip(self.rows, self.classes):
            cells = "".join(
                f'<td class="{mark}">{html.escape(cell)}</td>' if mark else f"<td>{html.escape(cell)}</td>"
                for cell, mark in zip(row, marks + [""] * (len(row) - len(marks)))
            )
            body += f"<tr>{cells}</tr>"
        return f"<table><tr>{head}</tr>{body}</table>"
