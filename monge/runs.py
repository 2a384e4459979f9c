"""A run folder on disk: atomic writes, checkpoints, CSV logs.

Every file a run needs to continue is written atomically (a temporary file in the same folder,
then a rename), so a crash or a full disk mid-write leaves the previous version intact.
"""

from __future__ import annotations

import csv
import fcntl
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import ConfigError, DataError, MongeError

TMP_SUFFIX = ".monge-tmp"


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it sets it: done once, at import, not beside worker threads
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_read_umask()  # what open() would give a new file; mkstemp gives 0600


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)``, flush it to disk, and move the result onto ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp's 0600 would hide reports and configs from the user's group
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# what atomic_write names a temporary file: a dot, the target's name, mkstemp's 8 characters, the suffix
MONGE_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}" + re.escape(TMP_SUFFIX) + "$")
RUN_SUBFOLDERS = ("", "checkpoints", "samples")  # the folders of a run that monge writes into


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the temporary files a killed writer of monge's left in the run ``folder`` (call with
    the run's lock held): only in the folders a run writes, only names that :func:`atomic_write`
    gives. A user's own files, wherever they are and whatever they are called, stay."""
    stale = [
        path
        for sub in RUN_SUBFOLDERS
        if (folder / sub).is_dir()
        for path in (folder / sub).iterdir()
        if path.is_file() and MONGE_TEMPORARY.match(path.name)
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def prepare_folder(path: str | Path, param: str) -> Path:
    """Create the output folder ``path`` and check that it can be written, before any work is done."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".monge-probe")
        probe.close()
    except OSError as err:
        raise ConfigError(param, f"{path}: cannot write there ({err.strerror or err})") from None
    return path


class RunLock:
    """An exclusive lock on a run folder, held while a process writes to it; the operating system
    drops it when the process dies, so a killed run never leaves the folder locked."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / ".lock"
        self.fh: IO[str] | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise MongeError(f"{self.path.parent}: in use by {holder}; wait for it or choose another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"monge process {os.getpid()}")
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def cache_root() -> Path:
    """Where monge keeps what it can recompute (rendered glyphs, image statistics):
    ``$MONGE_CACHE``, default ``~/.cache/monge``."""
    return Path(os.environ.get("MONGE_CACHE", Path.home() / ".cache" / "monge"))


def remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` if nothing is in it (a refused run's ``--out``), else leave it as it is."""
    try:
        folder.rmdir()
    except OSError:  # not empty, or already gone
        pass


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically."""

    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    atomic_write(path, write)


def save_state(path: str | Path, state: object) -> None:
    """``torch.save`` a checkpoint (or any tensor) atomically."""
    import torch  # here, not at the top: `monge --help` must not pay for importing torch

    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint's dict (weights only, on the CPU); a missing or torn file raises DataError naming it."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such checkpoint") from None
    except Exception as err:  # a torn or foreign file
        raise DataError(f"{path}: not a readable monge checkpoint ({err})") from None
    if not isinstance(state, dict) or not isinstance(state.get("config"), dict) or "solver" not in state:
        raise DataError(f"{path}: not a monge checkpoint (expected a dict with its config and solver state)")
    return state


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
        """The complete rows; a row torn by a kill mid-write (missing or unparsable fields) is dropped."""
        if not self.path.exists():
            return []
        rows = []
        with self.path.open(newline="") as fh:
            for r in csv.DictReader(fh):
                try:
                    rows.append({k: float(v) for k, v in r.items()})
                except (TypeError, ValueError):
                    continue
        return rows

    def truncate_after(self, step: int) -> None:
        """Drop rows past ``step`` (written after the checkpoint a resumed run starts from)."""
        rows = [r for r in self.read() if r["step"] <= step]
        self.path.unlink(missing_ok=True)
        for r in rows:
            self.write({k: (int(v) if k == "step" else v) for k, v in r.items()})
