"""Font glyphs as image domains with exact hidden pairs: ``fonts:DejaVuSans``, ``fonts:DejaVuSerif``, ...

Every character a font covers is drawn black on white, one image per code point, named
``u0041.png`` for "A" in every font: two fonts pair on the characters both cover (DejaVu Sans and
DejaVu Serif share about 3,000). All glyphs share one size and one baseline, and each is centred
on its advance width, so a glyph's position and size mean the same in every font: a map from one
font to another changes shapes (serifs, stroke weight, widths) and nothing else. Glyphs that leave
no mark at the requested size (spaces, control and format characters) are dropped.

The fonts are the DejaVu family that matplotlib ships (``pip install "monge[fonts]"``; DejaVu's
licence is a permissive Bitstream Vera derivative, see the README). Renders are cached as uint8
arrays under ``$MONGE_CACHE`` (default ``~/.cache/monge``), one file per font and size.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

from ..errors import DataError, import_extra
from ..runs import cache_root
from .sources import ArraySource

FAMILIES = (
    *("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique"),
    *("DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic"),
    *("DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique"),
)
EM, BASELINE = 0.62, 0.76  # the font size and the baseline's height, as shares of the canvas
OVERSAMPLE = 4  # glyphs are drawn this many times larger, then reduced with an area filter
SKIPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}  # control, format, unassigned, spaces
INK = 24  # a glyph whose darkest pixel at the final size is less than this below white is blank


def font_file(family: str) -> Path:
    """The TrueType file of a DejaVu family, from matplotlib's copy; errors name the family."""
    if family not in FAMILIES:
        raise DataError(f"fonts:{family}: unknown font (known: {', '.join(FAMILIES)})")
    matplotlib = import_extra("matplotlib", "fonts", "the font glyph domains (fonts:FAMILY)")
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / f"{family}.ttf"
    if not path.is_file():
        raise DataError(f"{path}: missing from this matplotlib installation (fonts:{family})")
    return path


def covered_code_points(path: Path) -> list[int]:
    """The code points a font maps to a glyph, without control, format, unassigned and space characters."""
    from matplotlib.ft2font import FT2Font

    points = sorted(FT2Font(str(path)).get_charmap())
    return [p for p in points if unicodedata.category(chr(p)) not in SKIPPED_CATEGORIES]


def glyph_name(code_point: int) -> str:
    """The file name of a character's image, the same in every font: ``u0041.png`` for "A"."""
    return f"u{code_point:04x}.png"


def render_glyphs(family: str, size: int) -> tuple[np.ndarray, list[str]]:
    """Every visible glyph of ``family`` at ``size`` px: uint8 (N, size, size, 3) and the names."""
    from PIL import Image, ImageDraw, ImageFont

    path = font_file(family)
    canvas = size * OVERSAMPLE
    font = ImageFont.truetype(str(path), size=round(EM * canvas))
    images, names = [], []
    for point in covered_code_points(path):
        char = chr(point)
        big = Image.new("L", (canvas, canvas), 255)
        left = (canvas - font.getlength(char)) / 2  # centred on the advance width
        ImageDraw.Draw(big).text((left, BASELINE * canvas), char, font=font, fill=0, anchor="ls")
        small = np.asarray(big.resize((size, size), Image.Resampling.BOX))
        if 255 - int(small.min()) < INK:
            continue
        images.append(small)
        names.append(glyph_name(point))
    if not images:
        raise DataError(f"fonts:{family}: no visible glyph at {size} px")
    grey = np.stack(images)
    return np.repeat(grey[..., None], 3, axis=3), names


def cache_folder() -> Path:
    """Where rendered glyphs are kept: ``$MONGE_CACHE/fonts``, default ``~/.cache/monge/fonts``."""
    return cache_root() / "fonts"


def load_glyphs(family: str, size: int) -> tuple[np.ndarray, list[str]]:
    """:func:`render_glyphs`, read from the cache when this font file at this size was drawn before."""
    if size < 8:
        raise DataError(f"fonts:{family}: size {size} is below 8 px, where glyphs are illegible")
    path = font_file(family)
    cached = cache_folder() / f"{family}-{size}px-{path.stat().st_size}.npz"
    if cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as stored:
                return stored["images"], [str(n) for n in stored["names"]]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is drawn again and replaced
    images, names = render_glyphs(family, size)
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".monge-fonts-", suffix=".npz", dir=cached.parent)
    with os.fdopen(fd, "wb") as fh:
        np.savez_compressed(fh, images=images, names=np.array(names))
    os.replace(tmp, cached)
    return images, names


def font_source(family: str, size: int) -> ArraySource:
    """The glyphs of one font as an :class:`~monge.data.ImageSource`."""
    images, names = load_glyphs(family, size)
    return ArraySource(images, names, size)
