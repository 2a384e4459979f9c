"""Domains and splits: a spec string names an image collection, and a seeded split holds out its test images.

Every source yields RGB float tensors in [-1, 1] of shape (3, size, size). Images are decoded
lazily, one at a time, so a folder of 100k files costs only its list of names at start.
A *domain spec* is a string naming a collection:

- ``emoji:twitter`` / ``emoji:google``: the built-in emoji (see :mod:`monge.data.emoji`);
- ``fonts:DejaVuSans``, ``fonts:DejaVuSerif``, ...: font glyphs, paired by character (see :mod:`monge.data.fonts`);
- ``path/to/folder``: every image below it (png, jpg, jpeg, webp, bmp), recursively;
- ``path/to/root:A`` / ``path/to/root:B``: a CycleGAN root with ``trainA``/``testA`` folders;
- ``file.h5`` / ``file.hdf5``: uint8 N x H x W x C under the first key (or ``h5_key``);
- ``file.zip``: the images inside the archive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .images import IMAGE_SUFFIXES
from .sources import H5_SUFFIXES, FolderSource, H5Source, ImageSource, ZipSource


@dataclass
class Domain:
    """One side of a translation problem: a source of images and, optionally, its own test split."""

    spec: str
    source: ImageSource
    test: ImageSource | None = None  # a predefined test split (CycleGAN testA/testB)


def open_domain(spec: str, size: int, crop: bool = False, h5_key: str | None = None, skip_bad: bool = False) -> Domain:
    """Open a domain spec (see the module docstring) at ``size`` x ``size``."""
    if spec.startswith("emoji:"):
        from .emoji import emoji_source

        return Domain(spec, emoji_source(spec.split(":", 1)[1], size))
    if spec.startswith("fonts:"):
        from .fonts import font_source

        return Domain(spec, font_source(spec.split(":", 1)[1], size))
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
    def load(cls, path: str | Path) -> Split:
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


def follow_split(names: Sequence[str], other: Split, test_fraction: float = 0.1, seed: int = 0) -> Split:
    """A seeded split of ``names`` in which the names ``other`` also holds keep their side there:
    two domains that share only some file names (two fonts) still hold out the same pairs. Names
    of this domain alone are split by :func:`random_split`; two equal name sets split as one."""
    held_out, seen = set(other.test), set(other.train) | set(other.test)
    own = random_split([n for n in names if n not in seen], test_fraction, seed)
    test = sorted([n for n in names if n in held_out] + own.test)
    chosen = set(test)
    return Split(sorted(n for n in names if n not in chosen), test)


def split_domain(
    domain: Domain, test_fraction: float = 0.1, seed: int = 0, follow: Split | None = None
) -> tuple[ImageSource, ImageSource, Split]:
    """Train and test sources of a domain: its own test folder if it has one, else a seeded random
    split (the shared names following ``follow``'s sides, see :func:`follow_split`)."""
    if domain.test is not None:
        split = Split(list(domain.source.names), list(domain.test.names))
        return domain.source, domain.test, split
    names = domain.source.names
    split = (
        random_split(names, test_fraction, seed) if follow is None else follow_split(names, follow, test_fraction, seed)
    )
    return domain.source.subset(split.train), domain.source.subset(split.test), split


MIN_VALIDATION = 20  # fewer validation images on a side than this choose nothing: the test split does


def hold_out_validation(
    splits: tuple, fraction: float, seed: int = 0
) -> tuple[tuple, tuple[ImageSource, ImageSource] | None]:
    """(source train, source test, target train, target test) with a seeded share of both training
    splits held out to choose a checkpoint on, and those (source, target) validation images; names both
    domains hold are held out on both sides, as in the test split. The cut depends only on the sets
    of names, so a resume cuts the same. Unchanged splits and None when ``fraction`` is 0 or a side
    would hold fewer than :data:`MIN_VALIDATION` images."""
    if not fraction:
        return splits, None
    source_train, source_test, target_train, target_test = splits
    source = random_split(source_train.names, fraction, seed + 1)
    target = follow_split(target_train.names, source, fraction, seed + 1)
    if min(len(source.test), len(target.test)) < MIN_VALIDATION:
        return splits, None
    trains = source_train.subset(source.train), target_train.subset(target.train)
    return (trains[0], source_test, trains[1], target_test), (
        source_train.subset(source.test),
        target_train.subset(target.test),
    )
