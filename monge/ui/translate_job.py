"""The translation tab's work, without the page: open a run or a stack, map uploads, zip the results.

Each input becomes one row, source | outputs: several draws of a weak (stochastic) map, or every
level of a stack (T0(x), T1(T0(x)), ...).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import DataError

Stages = Callable[[torch.Tensor], list[torch.Tensor]]  # a batch -> its outputs, each (N, 3, H, W)


@dataclass
class OpenedMap:
    """A map ready for the page: its outputs per batch, their column titles and the image size."""

    stages: Stages
    titles: list[str]
    size: int
    description: str


MAX_UPLOADED_IMAGES = 1000  # per request: a page shows them all, and one job runs at a time


def served_folder(folder: str | Path, root: str | Path) -> Path:
    """``folder`` (relative ones under ``root``), refused unless it lies inside ``root``: a page served
    to others never opens the server's other folders."""
    root = Path(root).resolve()
    given = Path(str(folder).strip())
    path = (given if given.is_absolute() else root / given).resolve()
    if path != root and root not in path.parents:
        raise DataError(f"{given}: outside the folder this app serves ({root}); start monge ui --runs-root there")
    if not path.is_dir():
        raise DataError(f"{given}: no such folder under {root}")
    return path


def open_map(folder: str | Path, level: int | None = None, draws: int = 3, root: str | Path = ".") -> OpenedMap:
    """A NOT run, an exported map or a stack (up to ``level``, default its best) inside ``root``, as an
    :class:`OpenedMap`."""
    folder = served_folder(folder, root)
    if (folder / "stack.json").exists():
        from ..train.stack import load_stack

        composed, cfg, top = load_stack(folder, "best" if level is None else level)

        def levels(x: torch.Tensor) -> list[torch.Tensor]:
            outs = []
            for solver in composed.solvers:
                x = solver.map(x)
                outs.append(x)
            return outs

        titles = [f"level {k}" for k in range(top + 1)]
        return OpenedMap(levels, titles, cfg.size, f"stack {folder.name}: levels 0-{top}, {cfg.size} px")
    if not ((folder / "checkpoints").exists() or (folder / "model.safetensors").exists()):
        raise DataError(f"{folder}: not a run (no checkpoints/), a stack (no stack.json) or an exported map")
    from ..train.export import load_map

    tmap = load_map(folder)
    k = draws if tmap.z_channels else 1

    def sample(x: torch.Tensor) -> list[torch.Tensor]:
        return list(tmap.sample(x, k).unbind(1))

    titles = [f"T(x) draw {i + 1}" for i in range(k)] if k > 1 else ["T(x)"]
    kind = "stochastic (weak cost)" if tmap.z_channels else "deterministic"
    return OpenedMap(sample, titles, tmap.size, f"{folder.name}: {kind} map, {tmap.size} px, {tmap.origin} weights")


def read_uploads(paths: Sequence[str | Path], size: int) -> tuple[list[str], torch.Tensor]:
    """Names and a batch (N, 3, size, size) of uploaded images and zips of images; one line per bad file."""
    from ..data.domains import open_domain

    names, images = [], []
    for item in paths:
        path = Path(item)
        try:
            source = open_domain(str(path), size).source
            batch = [source[i] for i in range(len(source))]
        except DataError as err:  # named by the file's own name: the upload's temporary folder means nothing
            raise DataError(str(err).replace(str(path), path.name)) from None
        except Exception as err:  # noqa: BLE001 - any decoder failure is the file's fault, said in one line
            raise DataError(f"{path.name}: not an image or a zip of images ({err})") from None
        if not batch:
            raise DataError(f"{path.name}: holds no images")
        names += [f"{path.stem}/{n}" if len(source) > 1 else path.stem for n in source.names]
        images += batch
        if len(images) > MAX_UPLOADED_IMAGES:
            raise DataError(f"{path.name}: more than {MAX_UPLOADED_IMAGES} images in one request; send fewer at a time")
    if not images:
        raise DataError("no images uploaded")
    return names, torch.stack(images)


def translate(opened: OpenedMap, names: list[str], x: torch.Tensor, out: Path) -> tuple[list[torch.Tensor], Path]:
    """Map ``x``; the rows (source | outputs per input) and a zip of every output PNG (plus ``index.json``)."""
    from ..data.images import save_png
    from ..data.outputs import OutputNames
    from ..viz import image_grid

    outputs = opened.stages(x)
    rows = [image_grid([torch.stack([x[i]] + [o[i] for o in outputs])]) for i in range(len(x))]
    out.mkdir(parents=True, exist_ok=True)
    files = out / "images"
    files.mkdir(exist_ok=True)
    names_out = OutputNames(files)
    written = []
    for i, name in enumerate(names):
        for title, o in zip(opened.titles, outputs):
            path = names_out.path(name, "_" + title.replace(" ", "_").replace("(", "").replace(")", ""))
            save_png(o[i], path)
            written.append(path)
    archive = out / "translated.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in written:
            zf.write(path, path.relative_to(files).as_posix())
        zf.writestr("index.json", json.dumps({"map": opened.description, "columns": opened.titles}, indent=2))
    return rows, archive
