"""Stacking Solver maps: level 0 maps X to Y; level k+1 maps X_{k+1} = T_k(...T_0(X)) to the same Y.

Both splits of the source are pushed through the frozen earlier levels (each at its best
checkpoint) in float, either once to float32 shards on disk (``mapped="disk"``) or batch by batch
on the fly (``mapped="fly"``); every level is evaluated on the mapped *test* split only. A stack
folder holds ``stack.json``, one ordinary run folder per level (``level_0``, ``level_1``, ...),
and, when done, the report of :mod:`monge.report.stack`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ..data.sources import ImageSource
from ..errors import ConfigError, DataError
from ..ot.trainer import Solver
from ..report.stack import level_dir, level_table, stack_baselines, write_stack_report
from ..runs import atomic_write_text, load_checkpoint, save_state
from ..viz import save_grid
from .config import TrainConfig
from .factory import checkpoint_path, load_solver
from .loop import open_splits, train


class ComposedMap:
    """x -> T_k(...T_0(x)) through frozen solvers (eval mode, one noise draw for weak maps)."""

    def __init__(self, solvers: list[Solver]):
        self.solvers = solvers

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for solver in self.solvers:
            x = solver.map(x)
        return x


class MappedSource(ImageSource):
    """A source seen through a map, image by image (the on-the-fly mode)."""

    def __init__(self, base: ImageSource, mapping: ComposedMap):
        super().__init__(base.size, base.crop)
        self.base, self.mapping, self.names = base, mapping, list(base.names)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.mapping(self.base[i][None])[0]


class ShardSource(ImageSource):
    """Float32 images materialised on disk in shards, with their file list (``index.json``)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        try:
            index = json.loads((self.folder / "index.json").read_text())
        except (OSError, ValueError) as err:
            raise DataError(f"{self.folder}: not a folder of mapped shards ({err})") from None
        super().__init__(index["size"])
        self.names, self.shard_size = index["names"], index["shard_size"]
        self._cached: tuple[int, torch.Tensor] | None = None

    def __getitem__(self, i: int) -> torch.Tensor:
        shard = i // self.shard_size
        if self._cached is None or self._cached[0] != shard:
            path = self.folder / f"shard_{shard:05d}.pt"
            self._cached = (shard, torch.load(path, map_location="cpu", weights_only=True))
        return self._cached[1][i % self.shard_size]

    @classmethod
    def write(
        cls,
        source: ImageSource,
        mapping: ComposedMap,
        folder: str | Path,
        shard_size: int = 1024,
        batch_size: int = 256,
        maps_id: str = "",
    ) -> ShardSource:
        """Map every image of ``source`` and write the float results; the index, written last, records
        ``maps_id`` (which checkpoints mapped them: :func:`_maps_id`)."""
        from tqdm.auto import tqdm

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=len(source), desc=f"map {folder.name}", unit="img", dynamic_ncols=True, leave=False)
        for shard, start in enumerate(range(0, len(source), shard_size)):
            idx = range(start, min(start + shard_size, len(source)))
            images = torch.stack([source[i] for i in idx])
            mapped = torch.cat([mapping(b) for b in images.split(batch_size)])
            save_state(folder / f"shard_{shard:05d}.pt", mapped.float().contiguous())
            bar.update(len(idx))
        bar.close()
        atomic_write_text(
            folder / "index.json",
            json.dumps({"names": list(source.names), "shard_size": shard_size, "size": source.size, "maps": maps_id}),
        )
        return cls(folder)


def _maps_id(out: Path, k: int, which: str) -> str:
    """A fingerprint of the ``which`` checkpoints of levels 0..k-1, which map level k's source."""
    digest = hashlib.sha256()
    for j in range(k):
        with checkpoint_path(level_dir(out, j), which).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _shards_current(folder: Path, maps_id: str) -> bool:
    try:
        return json.loads((folder / "index.json").read_text()).get("maps") == maps_id
    except (OSError, ValueError):
        return False


def _level_done(run: Path, steps: int) -> bool:
    summary = run / "summary.json"
    if not summary.exists():
        return False
    done = json.loads(summary.read_text())
    return done["steps"] >= steps or done.get("stopped_early", False)


def load_stack(
    out: str | Path, level: int | str = "best", device: str | None = None
) -> tuple[ComposedMap, TrainConfig, int]:
    """The composed map T_level o ... o T_0 of a stack folder (``best``: the level with the best metric)."""
    out = Path(out)
    meta = json.loads((out / "stack.json").read_text())
    if level == "best":
        if meta.get("best_level") is None:
            raise DataError(f"{out}: the stack is not finished, so it has no best level yet; choose one (level=K)")
        level = meta["best_level"]
    level = int(level)
    if not 0 <= level < meta["levels"] or not (level_dir(out, level) / "checkpoints").exists():
        raise DataError(f"{out}: no trained level {level}")
    which = meta.get("checkpoint", "best")  # stacks from before 0.4 composed best checkpoints
    loaded = [load_solver(level_dir(out, k), which, device) for k in range(level + 1)]
    return ComposedMap([solver for solver, _ in loaded]), loaded[0][1], level


def _stack_meta(path: Path, cfg: TrainConfig, levels: int, warm_start: bool, mapped: str, checkpoint: str) -> dict:
    """The stack's ``stack.json`` record; an existing one must have been started with the same options."""
    if path.exists():
        meta = json.loads(path.read_text())
        started = (meta["levels"], meta["warm_start"], meta["mapped"], meta.get("checkpoint", "best"))
        if started != (levels, warm_start, mapped, checkpoint):
            raise DataError(
                f"{path}: this stack was started with levels={meta['levels']}, warm_start="
                f"{meta['warm_start']}, mapped={meta['mapped']}, checkpoint={started[3]}; "
                "resume it with the same options"
            )
    return {
        "levels": levels,
        "warm_start": warm_start,
        "mapped": mapped,
        "checkpoint": checkpoint,
        "config": cfg.to_dict(),
        "best_level": None,
    }


def _level_data(out: Path, k: int, splits: tuple, mapping: ComposedMap, mapped: str, checkpoint: str, fabric) -> tuple:
    """Level ``k``'s (source train, source test, target train, target test): the source splits mapped
    through the levels below, written as shards on disk (``mapped="disk"``) or mapped as read ("fly")."""
    src_train, src_test, tgt_train, tgt_test = splits
    if mapped == "fly":
        return MappedSource(src_train, mapping), MappedSource(src_test, mapping), tgt_train, tgt_test
    shards = level_dir(out, k) / "mapped_source"
    if fabric.is_global_zero:  # only rank 0 writes shards: only it reads the earlier checkpoints' fingerprint
        maps_id = _maps_id(out, k, checkpoint)
        for part, source in (("train", src_train), ("test", src_test)):
            if not _shards_current(shards / part, maps_id):  # missing, or an earlier level changed
                ShardSource.write(source, mapping, shards / part, maps_id=maps_id)
    fabric.barrier()
    return ShardSource(shards / "train"), ShardSource(shards / "test"), tgt_train, tgt_test


def train_stack(
    cfg: TrainConfig,
    levels: int = 3,
    warm_start: bool = False,
    mapped: str = "disk",
    progress: bool = True,
    checkpoint: str = "best",
) -> dict:
    """Train (or resume) a stack of ``levels`` Solver maps into ``cfg.out``; returns the per-level table.

    ``checkpoint``: each level maps the next level's source (and is composed) at its ``best``
    checkpoint (lowest held-out metric: the published protocol, which chooses on the test split) or
    at its ``last`` one (nothing chosen on the test split).

    With several devices every rank trains each level; rank 0 alone writes (shards, reports)."""
    from ..engine import make_fabric

    if mapped not in ("disk", "fly"):
        raise ConfigError("mapped", f"{mapped!r} is not one of disk, fly")
    if checkpoint not in ("best", "last"):
        raise ConfigError("checkpoint", f"{checkpoint!r} is not one of best, last")
    fabric = make_fabric(cfg.device, cfg.devices, cfg.num_nodes, cfg.precision)
    rank0 = fabric.is_global_zero
    out = Path(cfg.out)
    meta_path = out / "stack.json"
    meta = _stack_meta(meta_path, cfg, levels, warm_start, mapped, checkpoint)
    if rank0:
        level_dir(out, 0).mkdir(parents=True, exist_ok=True)
        atomic_write_text(meta_path, json.dumps(meta, indent=2))
    fabric.barrier()

    level_cfgs = [TrainConfig.from_dict({**cfg.to_dict(), "out": str(level_dir(out, k))}) for k in range(levels)]
    splits = open_splits(level_cfgs[0], level_dir(out, 0), save=rank0)
    solvers: list[Solver] = []
    for k, level_cfg in enumerate(level_cfgs):
        run = level_dir(out, k)
        data = splits if k == 0 else _level_data(out, k, splits, ComposedMap(solvers), mapped, checkpoint, fabric)
        if not _level_done(run, cfg.steps):
            resume = (run / "checkpoints" / "last.pt").exists()
            init = None
            if warm_start and k > 0 and not resume:
                prev = load_checkpoint(checkpoint_path(level_dir(out, k - 1), checkpoint))["solver"]
                init = {"T": prev["T"], "f": prev["f"]}
            train(level_cfg, resume=resume, progress=progress, data=data, init=init, fabric=fabric)
        solvers.append(load_solver(run, checkpoint, str(fabric.device))[0])

    table, baselines = level_table(out, levels), stack_baselines(out)
    meta["best_level"] = min(table, key=lambda r: r["min"])["level"]
    if rank0:
        atomic_write_text(meta_path, json.dumps(meta, indent=2))
        _write_composed_grid(out / "stack_grid.png", solvers, splits[1], splits[3], cfg.grid_images)
        write_stack_report(out, table, baselines, f"{cfg.source} -> {cfg.target}")
    fabric.barrier()
    return {
        "stack": str(out),
        "levels": table,
        "baselines": baselines,
        "best_level": meta["best_level"],
        "warm_start": warm_start,
        "mapped": mapped,
        "rank": fabric.global_rank,
    }


def _write_composed_grid(path: Path, solvers: list[Solver], src_test, tgt_test, images: int) -> None:
    """Rows: the first test images, then each level's output of the row above, then their targets (when known)."""
    n = min(images, len(src_test))
    rows = [torch.stack([src_test[i] for i in range(n)])]
    for solver in solvers:
        rows.append(solver.map(rows[-1]))
    names = [src_test.names[i] for i in range(n)]
    if set(names) <= set(tgt_test.names):
        rows.append(tgt_test.subset(names).tensor())
    save_grid(rows, path, scale=2)
