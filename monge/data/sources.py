"""Image collections as ``Dataset``s: folders, zip archives, HDF5 files and in-memory arrays.

Every source yields RGB float tensors in [-1, 1] of shape (3, size, size). Images are decoded
lazily, one at a time, so a folder of 100k files costs only its list of names at start.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import DataError, import_extra
from .images import IMAGE_SUFFIXES, _open_pil, _read_file, pil_to_tensor, resize_square, to_rgb, to_uint8

H5_SUFFIXES = (".h5", ".hdf5")


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

    def subset(self, names: Sequence[str]) -> ImageSource:
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
    """N x H x W x C images in an HDF5 file (the iGAN / NOT format: uint8; also uint16, or floats in
    [0, 1]); the first top-level dataset unless ``key`` names one. One handle per process."""

    def __init__(self, path: str | Path, size: int, crop: bool = False, key: str | None = None):
        h5py = import_extra("h5py", "hdf5", f"{path}: reading HDF5")

        super().__init__(size, crop)
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                keys = [k for k in f.keys() if isinstance(f[k], h5py.Dataset)]
                if not keys:
                    raise DataError(f"{path}: the HDF5 file holds no datasets at its top level")
                self.key = key or keys[0]
                if self.key not in keys:
                    raise DataError(f"{path}: no HDF5 dataset '{self.key}' (datasets: {', '.join(keys)})")
                shape, self.dtype = f[self.key].shape, f[self.key].dtype
        except OSError as err:
            raise DataError(f"{path}: not a readable HDF5 file ({err})") from None
        if len(shape) != 4 or shape[-1] not in (1, 3, 4):
            raise DataError(f"{path}: key '{self.key}' has shape {shape}, expected N x H x W x C with C in 1, 3, 4")
        if self.dtype.kind not in "uf" or (self.dtype.kind == "u" and self.dtype.itemsize > 2):
            raise DataError(f"{path}: key '{self.key}' holds {self.dtype}; expected uint8, uint16 or floats in [0, 1]")
        self.names = [f"{i:07d}" for i in range(shape[0])]
        self._h5 = None
        self._pid = -1

    def read(self, i: int) -> Image.Image:
        import h5py  # present: __init__ checked

        if self._h5 is None or self._pid != os.getpid():
            self._h5, self._pid = h5py.File(self.path, "r"), os.getpid()
        arr = np.asarray(self._h5[self.key][i])
        if arr.dtype != np.uint8:  # uint16 -> / 257; floats are in [0, 1]
            arr = to_uint8(arr, 255.0 if arr.dtype.kind == "f" else 1 / 257)
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
