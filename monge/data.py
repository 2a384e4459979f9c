"""Image collections: folders, CycleGAN layouts, HDF5 files, zip archives and the built-in emoji.

Every source yields RGB float tensors in [-1, 1] of shape (3, size, size). Images are decoded
lazily, one at a time, so a folder of 100k files costs only its list of names at start.
A *domain spec* is a string naming a collection:

- ``emoji:twitter`` / ``emoji:google``: the built-in emoji (see :mod:`monge.datasets`);
- ``path/to/folder``: every image below it (png, jpg, jpeg, webp, bmp), recursively;
- ``path/to/root:A`` / ``path/to/root:B``: a CycleGAN root with ``trainA``/``testA`` folders;
- ``file.h5`` / ``file.hdf5``: uint8 N x H x W x C under the first key (or ``h5_key``);
- ``file.zip``: the images inside the archive.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
H5_SUFFIXES = (".h5", ".hdf5")


class DataError(ValueError):
    """Bad input data; the message names the file and the problem."""


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB image: transparency composited on white, grayscale and palettes expanded."""
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


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB image to a float tensor (3, H, W) in [-1, 1]."""
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


def _open_pil(data: bytes, name: str) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DataError(f"{name}: unreadable or truncated image ({err})") from None
    return to_rgb(img)


class ImageSource(torch.utils.data.Dataset):
    """A lazily decoded image collection; ``names[i]`` identifies image ``i`` (used for pairing and splits)."""

    names: list[str]

    def __init__(self, size: int, crop: bool = False):
        self.size, self.crop = size, crop

    def __len__(self) -> int:
        return len(self.names)

    def read(self, i: int) -> Image.Image:
        raise NotImplementedError

    def __getitem__(self, i: int) -> torch.Tensor:
        return pil_to_tensor(resize_square(self.read(i), self.size, self.crop))

    def subset(self, names: Sequence[str]) -> "ImageSource":
        """The same source restricted to ``names`` (in that order)."""
        return NamedSubset(self, names)

    def tensor(self, limit: int | None = None) -> torch.Tensor:
        """All images (or the first ``limit``) stacked in memory: for small sets only."""
        n = len(self) if limit is None else min(limit, len(self))
        return torch.stack([self[i] for i in range(n)]) if n else torch.empty(0, 3, self.size, self.size)


class NamedSubset(ImageSource):
    def __init__(self, parent: ImageSource, names: Sequence[str]):
        super().__init__(parent.size, parent.crop)
        index = {n: i for i, n in enumerate(parent.names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise DataError(f"{missing[0]}: not in the source ({len(missing)} names missing)")
        self.parent, self.names, self._idx = parent, list(names), [index[n] for n in names]

    def read(self, i: int) -> Image.Image:
        return self.parent.read(self._idx[i])

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.parent[self._idx[i]] if self.parent.size == self.size else super().__getitem__(i)


class FolderSource(ImageSource):
    """Every image file below ``root`` (recursive), named by its path relative to ``root``."""

    def __init__(self, root: str | Path, size: int, crop: bool = False, skip_bad: bool = False):
        super().__init__(size, crop)
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"{root}: not a folder")
        files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise DataError(f"{root}: no images (looked for {', '.join(IMAGE_SUFFIXES)})")
        self.skipped = 0
        if skip_bad:
            good = [p for p in files if _verifies(p.read_bytes())]
            self.skipped = len(files) - len(good)
            files = good
            if not files:
                raise DataError(f"{root}: all {self.skipped} images are unreadable")
        self.names = [p.relative_to(self.root).as_posix() for p in files]

    def read(self, i: int) -> Image.Image:
        return _read_file(self.root / self.names[i])


def _verifies(data: bytes) -> bool:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return True
    except Exception:
        return False


class ZipSource(ImageSource):
    """The images inside a zip archive; the archive is opened once per process (DataLoader-safe)."""

    def __init__(self, path: str | Path, size: int, crop: bool = False, skip_bad: bool = False):
        super().__init__(size, crop)
        self.path = Path(path)
        try:
            with zipfile.ZipFile(self.path) as zf:
                names = sorted(n for n in zf.namelist() if n.lower().endswith(IMAGE_SUFFIXES))
                if skip_bad:
                    good = [n for n in names if _verifies(zf.read(n))]
                    self.skipped = len(names) - len(good)
                    names = good
        except (zipfile.BadZipFile, OSError) as err:
            raise DataError(f"{path}: not a readable zip archive ({err})") from None
        if not names:
            raise DataError(f"{path}: no images inside the archive")
        self.names = names
        self._zf: zipfile.ZipFile | None = None
        self._pid = -1

    def read(self, i: int) -> Image.Image:
        if self._zf is None or self._pid != os.getpid():
            self._zf, self._pid = zipfile.ZipFile(self.path), os.getpid()
        return _open_pil(self._zf.read(self.names[i]), f"{self.path}:{self.names[i]}")

    def __getstate__(self):
        return {**self.__dict__, "_zf": None}


class H5Source(ImageSource):
    """uint8 N x H x W x C images in an HDF5 file (the iGAN / NOT format); one handle per process."""

    def __init__(self, path: str | Path, size: int, crop: bool = False, key: str | None = None):
        import h5py

        super().__init__(size, crop)
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                keys = list(f.keys())
                if not keys:
                    raise DataError(f"{path}: the HDF5 file holds no datasets")
                self.key = key or keys[0]
                if self.key not in f:
                    raise DataError(f"{path}: no HDF5 key '{self.key}' (keys: {', '.join(keys)})")
                shape = f[self.key].shape
        except OSError as err:
            raise DataError(f"{path}: not a readable HDF5 file ({err})") from None
        if len(shape) != 4 or shape[-1] not in (1, 3, 4):
            raise DataError(f"{path}: key '{self.key}' has shape {shape}, expected N x H x W x C with C in 1, 3, 4")
        self.names = [f"{i:07d}" for i in range(shape[0])]
        self._h5 = None
        self._pid = -1

    def read(self, i: int) -> Image.Image:
        import h5py

        if self._h5 is None or self._pid != os.getpid():
            self._h5, self._pid = h5py.File(self.path, "r"), os.getpid()
        arr = np.asarray(self._h5[self.key][i])
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[arr.shape[-1]]
        return to_rgb(Image.fromarray(arr.squeeze(-1) if mode == "L" else arr, mode))

    def __getstate__(self):
        return {**self.__dict__, "_h5": None}


class ArraySource(ImageSource):
    """Images already in memory as uint8 N x H x W x 3 (the built-in emoji)."""

    def __init__(self, images: np.ndarray, names: Sequence[str], size: int, crop: bool = False):
        super().__init__(size, crop)
        self.images, self.names = images, list(names)

    def read(self, i: int) -> Image.Image:
        return Image.fromarray(self.images[i])


@dataclass
class Domain:
    """One side of a translation problem: a source of images and, optionally, its own test split."""

    spec: str
    source: ImageSource
    test: ImageSource | None = None  # a predefined test split (CycleGAN testA/testB)


def open_domain(spec: str, size: int, crop: bool = False, h5_key: str | None = None, skip_bad: bool = False) -> Domain:
    """Open a domain spec (see the module docstring) at ``size`` x ``size``."""
    if spec.startswith("emoji:"):
        from .datasets import emoji_source

        return Domain(spec, emoji_source(spec.split(":", 1)[1], size))
    root, _, side = spec.rpartition(":")
    if root and side in ("A", "B") and (Path(root) / f"train{side}").is_dir():
        test_dir = Path(root) / f"test{side}"
        test = FolderSource(test_dir, size, crop, skip_bad) if test_dir.is_dir() else None
        return Domain(spec, FolderSource(Path(root) / f"train{side}", size, crop, skip_bad), test)
    path = Path(spec)
    if not path.exists():
        raise DataError(f"{spec}: no such file or folder")
    if path.is_dir():
        if (path / "trainA").is_dir() and (path / "trainB").is_dir():
            raise DataError(f"{spec}: a CycleGAN root; name the side as {spec}:A or {spec}:B")
        return Domain(spec, FolderSource(path, size, crop, skip_bad))
    suffix = path.suffix.lower()
    if suffix in H5_SUFFIXES:
        return Domain(spec, H5Source(path, size, crop, h5_key))
    if suffix == ".zip":
        return Domain(spec, ZipSource(path, size, crop, skip_bad))
    if suffix in IMAGE_SUFFIXES:
        return Domain(spec, FolderSource(path.parent, size, crop, skip_bad).subset([path.name]))
    raise DataError(f"{spec}: unknown format '{suffix}' (expected a folder, .h5/.hdf5, .zip or an image)")


@dataclass
class Split:
    """Names of the train and test images of one domain."""

    train: list[str]
    test: list[str]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"train": self.train, "test": self.test}))

    @classmethod
    def load(cls, path: str | Path) -> "Split":
        try:
            d = json.loads(Path(path).read_text())
            return cls(list(d["train"]), list(d["test"]))
        except (OSError, ValueError, KeyError) as err:
            raise DataError(f"{path}: not a split file ({err})") from None


def random_split(names: Sequence[str], test_fraction: float = 0.1, seed: int = 0) -> Split:
    """Seeded split that depends only on the set of names, not on their order."""
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"test fraction {test_fraction}: must lie in [0, 1)")
    ordered = sorted(names)
    perm = np.random.default_rng(seed).permutation(len(ordered))
    n_test = int(round(test_fraction * len(ordered)))
    test = sorted(ordered[i] for i in perm[:n_test])
    train = sorted(ordered[i] for i in perm[n_test:])
    return Split(train, test)


def split_domain(domain: Domain, test_fraction: float = 0.1, seed: int = 0) -> tuple[ImageSource, ImageSource, Split]:
    """Train and test sources of a domain: its own test folder if it has one, else a seeded random split."""
    if domain.test is not None:
        split = Split(list(domain.source.names), list(domain.test.names))
        return domain.source, domain.test, split
    split = random_split(domain.source.names, test_fraction, seed)
    return domain.source.subset(split.train), domain.source.subset(split.test), split


def infinite_batches(source: ImageSource, batch_size: int, generator: torch.Generator, num_workers: int = 0):
    """Endless shuffled batches from a source (reshuffled each epoch with ``generator``)."""
    loader = torch.utils.data.DataLoader(
        source,
        batch_size=min(batch_size, len(source)),
        shuffle=True,
        drop_last=True,
        generator=generator,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )
    while True:
        yield from loader
