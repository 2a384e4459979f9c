"""The built-in emoji dataset: 3,786 emoji drawn by Google (Noto) and by Twitter (Twemoji).

The same file name names the same emoji in both styles, so a twitter -> google map can be
scored against hidden ground-truth pairs. 32 x 32 copies ship inside the package (see
``monge/assets/EMOJI_LICENSE.md`` for the licences); larger sizes are read from a local copy
of the full-size folders (``monge data emoji --source``).
"""

from __future__ import annotations

import io
import json
import lzma
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import DataError
from .images import resize_square, to_rgb
from .sources import ArraySource

ASSETS = Path(__file__).parents[1] / "assets"
STYLES = ("google", "twitter")
EMOJI_STORED_SIZE = 32


@dataclass
class EmojiSet:
    """Images as float (N, 3, size, size) in [-1, 1], with file names and categories."""

    images: torch.Tensor
    names: list[str]
    categories: list[str]


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise DataError(f"emoji style '{style}': expected one of {', '.join(STYLES)}")


def _index() -> dict:
    return json.loads((ASSETS / "emoji_index.json").read_text())


def _stored_uint8(style: str) -> np.ndarray:
    _check_style(style)
    raw = lzma.decompress((ASSETS / f"emoji_{style}_{EMOJI_STORED_SIZE}.u8.xz").read_bytes())
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, EMOJI_STORED_SIZE, EMOJI_STORED_SIZE, 3)


def emoji_source(style: str, size: int = 32) -> ArraySource:
    """The built-in emoji of one style as an :class:`~monge.data.ImageSource` (sizes up to 32)."""
    if size > EMOJI_STORED_SIZE:
        raise DataError(
            f"emoji:{style}: the built-in copy is {EMOJI_STORED_SIZE} px; for {size} px write a folder with "
            f"'monge data emoji --style {style} --size {size} --source PATH --out DIR' and pass that folder"
        )
    return ArraySource(_stored_uint8(style), _index()["names"], size)


def load_emoji(style: str = "twitter", size: int = 32, category: str | None = None) -> EmojiSet:
    """Load the built-in emoji like scikit-learn's loaders: ``load_emoji("google", 32).images``."""
    index = _index()
    images = torch.from_numpy(_stored_uint8(style).copy()).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    if size != EMOJI_STORED_SIZE:
        if size > EMOJI_STORED_SIZE:
            emoji_source(style, size)  # raises the explanatory error
        images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    names, cats = index["names"], index["categories"]
    if category is not None:
        keep = [i for i, c in enumerate(cats) if c == category]
        if not keep:
            raise DataError(f"emoji category '{category}': unknown (known: {', '.join(sorted(set(cats)))})")
        images, names, cats = images[keep], [names[i] for i in keep], [cats[i] for i in keep]
    return EmojiSet(images.clamp(-1, 1), list(names), list(cats))


def read_emoji_folder(folder: Path, names: Sequence[str], size: int) -> np.ndarray:
    """Read named emoji PNGs from a folder as uint8 N x size x size x 3 (composited on white)."""
    out = np.empty((len(names), size, size, 3), dtype=np.uint8)
    for i, name in enumerate(names):
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path}: missing from the emoji folder")
        out[i] = np.asarray(resize_square(to_rgb(Image.open(path)), size))
    return out


def write_emoji_folder(style: str, size: int, out: str | Path, source: str | Path | None = None) -> int:
    """Write the emoji of one style as PNG files into ``out``; returns the number written.

    ``source`` is a local copy: the shared folder (with ``google/`` and ``twitter/``), one style's
    folder, or the tarball of ``npm pack emoji-datasource-<style>@16.0.0``. Without it, only
    the built-in 32 px copy (and smaller) can be written.
    """
    _check_style(style)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if source is None:
        src = emoji_source(style, size)
        for i, name in enumerate(src.names):
            resize_square(src.read(i), size).save(out / name)
        return len(src)
    source = Path(source)
    if source.is_file() and source.name.endswith((".tgz", ".tar.gz")):
        prefix = f"package/img/{style}/64/"
        with tarfile.open(source) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.name.endswith(".png")]
            if not members:
                raise DataError(f"{source}: no {prefix}*.png inside (is it emoji-datasource-{style}?)")
            for m in members:
                img = to_rgb(Image.open(io.BytesIO(tar.extractfile(m).read())))
                resize_square(img, size).save(out / Path(m.name).name)
        return len(members)
    folder = source / style if (source / style).is_dir() else source
    names = sorted(p.name for p in folder.glob("*.png"))
    if not names:
        raise DataError(f"{folder}: no PNG files")
    images = read_emoji_folder(folder, names, size)
    for name, img in zip(names, images):
        Image.fromarray(img).save(out / name)
    return len(names)
