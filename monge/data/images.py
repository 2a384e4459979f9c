"""Reading and writing single images: any PIL-readable file to an RGB tensor in [-1, 1] and back.

Transparent images are composited on white; 16-bit and palette images are converted first.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def to_uint8(arr: np.ndarray, scale: float) -> np.ndarray:
    """``arr * scale`` rounded and clipped to uint8 (16-bit pixels: scale 1/257; floats in [0, 1]: 255)."""
    return (arr.astype(np.float64) * scale).clip(0, 255).round().astype(np.uint8)


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB image: transparency composited on white, grayscale and palettes expanded, 16-bit and
    32-bit grayscale (``I;16``, ``I``) scaled to 8 bits (Pillow's own conversion clips them to white)."""
    if img.mode.startswith("I;16") or img.mode == "I":
        img = Image.fromarray(to_uint8(np.asarray(img), 1 / 257))
    if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
        canvas = Image.new("RGBA", img.size, (255, 255, 255, 255))
        canvas.alpha_composite(img)
        img = canvas
    return img.convert("RGB")


def resize_square(img: Image.Image, size: int, crop: bool = False) -> Image.Image:
    """Resize to ``size`` x ``size`` with antialiasing; ``crop`` takes the centre square first."""
    if crop and img.width != img.height:
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side))
    if img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.LANCZOS)
    return img


def pil_to_tensor(img: Image.Image | np.ndarray) -> torch.Tensor:
    """PIL RGB image (or an H x W x 3 uint8 array) to a float tensor (3, H, W) in [-1, 1]."""
    arr = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(127.5).sub(1.0)


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """Float tensor (3, H, W) or (N, 3, H, W) in [-1, 1] to uint8 H x W x 3 (or N x H x W x 3)."""
    x = x.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return x.movedim(-3, -1).numpy()


def save_png(x: torch.Tensor, path: str | Path) -> None:
    """Write one image tensor (3, H, W) in [-1, 1] as PNG."""
    Image.fromarray(tensor_to_uint8(x)).save(path)


def load_image(path: str | Path, size: int | None = None, crop: bool = False) -> torch.Tensor:
    """Read one image file as (3, H, W) in [-1, 1], resized to a square when ``size`` is given."""
    img = _read_file(Path(path))
    if size is not None:
        img = resize_square(img, size, crop)
    return pil_to_tensor(img)


def _read_file(path: Path) -> Image.Image:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    return _open_pil(data, str(path))


MAX_PIXELS = int(os.environ.get("MONGE_MAX_PIXELS", 50_000_000))  # an image beyond this is refused unread


def _open_pil(data: bytes, name: str) -> Image.Image:
    """Decode one image, upright (its EXIF orientation applied: a phone photo is not sideways), in RGB;
    refuses one of more than ``MAX_PIXELS`` pixels (``$MONGE_MAX_PIXELS``) before decoding it."""
    try:
        with warnings.catch_warnings():  # the limit below is monge's own, and its error names the file
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise DataError(
                f"{name}: {width} x {height} pixels, more than the limit of {MAX_PIXELS:,} "
                "(raise it with MONGE_MAX_PIXELS)"
            )
        img.load()
        upright = ImageOps.exif_transpose(img)
    except DataError:
        raise
    except Image.DecompressionBombError as err:
        raise DataError(f"{name}: refused, larger than Pillow's decompression-bomb limit ({err})") from None
    except UnidentifiedImageError:
        raise DataError(f"{name}: not an image (no format Pillow reads)") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f"{name}: unreadable or truncated image ({err})") from None
    return to_rgb(upright)
