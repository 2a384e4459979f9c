"""Held-out pairs of a run: the test images of both domains that share file names (the same emoji
drawn in both styles), and the training splits, as the run's split files define them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..data.domains import Split, open_domain
from ..errors import DataError


@dataclass
class HeldOut:
    """Test pairs (``x[i]`` and ``y[i]`` are the same item in both domains) and training images."""

    names: list[str]
    x: torch.Tensor  # source test images
    y: torch.Tensor  # their hidden target versions
    x_train: torch.Tensor  # source training images (the first ``train_limit``)
    y_train: torch.Tensor  # target training images
    x_train_pairs: torch.Tensor  # training images present in both domains, paired (a supervised ceiling)
    y_train_pairs: torch.Tensor


def held_out_pairs(run: str | Path, source: str, target: str, size: int, train_limit: int | None = None) -> HeldOut:
    """The pairs of ``run``'s held-out split (its ``split_source.json`` and ``split_target.json``)."""
    run = Path(run)
    src_split, tgt_split = Split.load(run / "split_source.json"), Split.load(run / "split_target.json")
    src, tgt = open_domain(source, size).source, open_domain(target, size).source
    names = sorted(set(src_split.test) & set(tgt_split.test))
    if not names:
        raise DataError(f"{run}: the two test splits share no file names, so there are no pairs")
    train_pairs = sorted(set(src_split.train) & set(tgt_split.train))[:train_limit]
    return HeldOut(
        names,
        src.subset(names).tensor(),
        tgt.subset(names).tensor(),
        src.subset(src_split.train).tensor(limit=train_limit),
        tgt.subset(tgt_split.train).tensor(limit=train_limit),
        src.subset(train_pairs).tensor(),
        tgt.subset(train_pairs).tensor(),
    )
