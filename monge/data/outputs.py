"""Output file names for images written from user-supplied names (zip members, stored latents).

A name from an archive or a latents file is untrusted: ``../x.png`` or ``/etc/x.png`` must not
write outside the output folder, and two inputs called ``x.png`` and ``x.jpg`` must not both
land on ``x.png``. :class:`OutputNames` turns each name into a unique path under one folder.
"""

from __future__ import annotations

import itertools
from pathlib import Path, PurePosixPath


def safe_relative(name: str) -> PurePosixPath:
    """``name`` as a relative path with no ``..``, root or drive: ``../../a/b.png`` -> ``a/b.png``."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    kept = [p for p in parts if p not in ("", ".", "..", "/") and not p.endswith(":")]
    return PurePosixPath(*kept) if kept else PurePosixPath("image")


class OutputNames:
    """Unique ``.png`` paths under ``root`` for a stream of input names; counts the renamed ones."""

    def __init__(self, root: Path):
        self.root = root
        self.taken: set[str] = set()
        self.renamed = 0

    def path(self, name: str, tag: str = "") -> Path:
        """The output path for input ``name`` (``tag`` is appended to the stem, e.g. ``_0`` per draw)."""
        rel = safe_relative(name)
        stem, kind = str(rel.with_suffix("")), rel.suffix.lstrip(".")
        first = f"{stem}{tag}.png"
        alternatives = [f"{stem}_{kind}{tag}.png"] if kind and kind != "png" else []
        numbered = (f"{stem}_{k}{tag}.png" for k in itertools.count(2))  # lazy: O(1) per name, not O(names)
        chosen = next(c for c in itertools.chain([first], alternatives, numbered) if c not in self.taken)
        self.renamed += chosen != first
        self.taken.add(chosen)
        path = self.root / chosen
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
