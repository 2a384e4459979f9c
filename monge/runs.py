"""A run folder on disk: atomic writes, checkpoints, CSV logs.

Every file a run needs to continue is written atomically (a temporary file in the same folder,
then a rename), so a crash or a full disk mid-write leaves the previous version intact.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from .errors import DataError


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically."""

    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    atomic_write(path, write)


def save_state(path: str | Path, state: object) -> None:
    """``torch.save`` a checkpoint (or any tensor) atomically."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint's dict (weights only, on the CPU); a missing or torn file raises DataError naming it."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such checkpoint") from None
    except Exception as err:  # a torn or foreign file
        raise DataError(f"{path}: not a readable monge checkpoint ({err})") from None


class CSVLog:
    """An append-only CSV of dict rows (the header from the first row), truncatable for resume."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, row: dict) -> None:
        new = not self.path.exists()
        with self.path.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.path.open() as fh:
            return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]

    def truncate_after(self, step: int) -> None:
        """Drop rows past ``step`` (written after the checkpoint a resumed run starts from)."""
        rows = [r for r in self.read() if r["step"] <= step]
        self.path.unlink(missing_ok=True)
        for r in rows:
            self.write({k: (int(v) if k == "step" else v) for k, v in r.items()})
