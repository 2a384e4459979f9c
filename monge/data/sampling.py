"""Batch samplers ``n -> batch``: what the solvers draw training batches from.

A sampler is any callable that returns ``n`` samples. :func:`as_sampler` makes one from a tensor,
a Dataset or a callable; :class:`StreamSampler` decodes a large Dataset ahead of use in
DataLoader workers; :func:`image_sampler` picks between the two by the split's size in memory.
Under data parallelism every sampler draws the global batch's indices and keeps its rank's slice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from tqdm.auto import tqdm

from ..errors import DataError

Sampler = Callable[[int], torch.Tensor]


def _rank_indices(size: int, n: int, generator: torch.Generator | None, rank: int, world: int) -> torch.Tensor:
    """This rank's slice ``[rank::world]`` of a global batch of ``n`` indices into ``size`` items."""
    return torch.randint(size, (n,), generator=generator)[rank::world]


def as_sampler(data, generator: torch.Generator | None = None, rank: int = 0, world: int = 1) -> Sampler:
    """A batch sampler ``n -> (n, ...)`` from a tensor, a Dataset, or a callable (returned as is).

    With ``world`` > 1 it draws the global batch's indices (the same on every rank, given the same
    generator state) and returns this rank's slice ``[rank::world]``: only that slice is decoded.
    """

    def indices(n: int) -> torch.Tensor:
        return _rank_indices(len(data), n, generator, rank, world)

    if isinstance(data, torch.Tensor):
        return lambda n: data[indices(n)]
    if isinstance(data, torch.utils.data.Dataset):
        return lambda n: torch.stack([data[int(i)] for i in indices(n)])
    if callable(data):
        return data
    raise TypeError(f"cannot sample from {type(data).__name__}: pass a tensor, a Dataset or a callable n -> batch")


class StreamSampler:
    """Batches of a large Dataset decoded ahead of use by DataLoader workers.

    Batch k's global indices come from a generator seeded with (``seed``, k), so what the workers
    prefetch never disturbs the stream, and a resumed run continues exactly at ``start`` (the
    count of batches consumed, :attr:`drawn`, saved in the checkpoint). Ranks slice the global
    batch as :func:`as_sampler` does. Workers persist; each opens its own file handles.
    """

    def __init__(
        self,
        data: torch.utils.data.Dataset,
        seed: int,
        rank: int = 0,
        world: int = 1,
        workers: int = 2,
        pin_memory: bool = False,
        start: int = 0,
    ):
        self.data, self.seed, self.rank, self.world = data, seed, rank, world
        self.workers, self.pin_memory, self.drawn = workers, pin_memory, start
        self._batches: Iterator | None = None
        self._size: int | None = None

    def _index_batches(self, n: int, first: int):
        k = first
        while True:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + k)
            yield _rank_indices(len(self.data), n, g, self.rank, self.world).tolist()  # type: ignore[arg-type]
            k += 1

    def __call__(self, n: int) -> torch.Tensor:
        if self._batches is None or n != self._size:
            loader = torch.utils.data.DataLoader(
                self.data,
                batch_sampler=self._index_batches(n, self.drawn),
                num_workers=self.workers,
                pin_memory=self.pin_memory,
                persistent_workers=self.workers > 0,
                # the workers' base seed from a generator of the loader's own: the global stream, which
                # the augmentations draw from, stays the same whether the loader starts now or on a resume
                generator=torch.Generator().manual_seed(self.seed * 1_000_003 + self.drawn),
            )
            self._batches, self._size = iter(loader), n
        self.drawn += 1
        try:
            return next(self._batches)
        except DataError as err:  # raised in a worker: keep the original one-line message, not its traceback
            lines = [line for line in str(err).splitlines() if line.strip()]
            raise DataError(lines[-1].split("DataError: ", 1)[-1] if lines else str(err)) from None

    def close(self) -> None:
        """Stop the workers (they also stop when the sampler is garbage-collected)."""
        self._batches = None


def image_sampler(
    source,
    data_rng: torch.Generator,
    cache_bytes: int,
    stream_seed: int,
    rank: int = 0,
    world: int = 1,
    workers: int = 2,
    start: int = 0,
    pin_memory: bool = False,
    progress: bool = False,
    desc: str = "images",
):
    """The training sampler of an image split: from memory when the split fits ``cache_bytes`` as
    float32 (indices from ``data_rng``), else a :class:`StreamSampler` seeded with ``stream_seed``
    that continues after ``start`` batches."""
    if len(source) == 0 or len(source) * source[0].numel() * 4 <= cache_bytes:
        data = torch.stack(
            [
                source[i]
                for i in tqdm(
                    range(len(source)), desc=f"load {desc}", leave=False, disable=not progress or len(source) < 2000
                )
            ]
        )
        return as_sampler(data, data_rng, rank, world)
    return StreamSampler(source, stream_seed, rank, world, workers, pin_memory, start)
