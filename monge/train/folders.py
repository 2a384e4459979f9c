"""A run folder's safety: which files in it are monge's, and what a fresh run may remove there.

A fresh run never replaces a user's own files: a folder holding names monge did not write is refused
unless the user passes ``--overwrite``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError
from ..runs import TMP_SUFFIX

RUN_FILES = {  # what a run writes in its folder
    *("config.json", "split_source.json", "split_target.json", "losses.csv", "eval.csv", "summary.json"),
    *("report.html", "report.md", "curve.png", "checkpoints", "samples", "tb", "wandb", ".lock"),
}
STACK_FILES = {"mapped_source"}  # what a stack writes into a level's folder before it trains
STALE = ("split_source.json", "split_target.json", "losses.csv", "eval.csv", "summary.json")


def foreign_files(run: Path) -> list[str]:
    """The names in ``run`` that a monge run did not write. A run's own names count as monge's only
    when the folder's ``config.json`` is a run configuration (a ``losses.csv`` of the user's is not),
    or, for the split lists a stack writes first, when they read as split lists."""
    if not run.is_dir():
        return []
    names = {p.name for p in run.iterdir()}
    ours = {n for n in names if n in RUN_FILES or n.startswith("target_test_stats_") or n.endswith(TMP_SUFFIX)}
    if _reads_as(run / "config.json", {"source", "target", "preset"}):
        return sorted(names - ours)
    splits = {n for n in ("split_source.json", "split_target.json") if _reads_as(run / n, {"train", "test"})}
    return sorted(names - splits - STACK_FILES - {".lock"})


def _reads_as(path: Path, keys: set[str]) -> bool:
    """Whether ``path`` is a JSON object holding ``keys``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and keys <= set(data)


def fresh_folder(run: Path, overwrite: bool) -> None:
    """Refuse a folder holding files monge did not write (unless ``overwrite``), then remove what a
    failed earlier attempt left in ``run`` (no checkpoint): its split lists, logs and summary would
    otherwise be taken for this run's."""
    foreign = foreign_files(run)
    if foreign and not overwrite:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise DataError(
            f"{run}: holds files monge did not write ({shown}); choose an empty or new folder, or pass "
            "--overwrite to train there anyway (a run's own file names in it are then replaced)"
        )
    for name in STALE:
        (run / name).unlink(missing_ok=True)
