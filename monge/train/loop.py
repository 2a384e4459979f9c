"""Training NOT on image collections: the run folder, resume, and the loop (``NOT.fit`` with callbacks).

A run folder holds everything a run produced and needs to continue:

    config.json            the full configuration
    split_source.json      train/test file lists of each domain (reproducible, resumable)
    split_target.json
    checkpoints/last.pt    T, f, both optimisers, step, RNG states, config (written atomically)
    checkpoints/best.pt    the same at the best evaluation (lowest FD / FID on the validation split)
    losses.csv, eval.csv   losses every ``log_every`` steps, metrics at every evaluation
    tb/                    TensorBoard events
    samples/               grids: source | T(source) (several z for the weak cost) | paired target
    curve.png              the evaluation metric against the step
    summary.json           what :func:`train` returned
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data.domains import Split, hold_out_validation, open_domain, split_domain
from ..data.sampling import image_sampler
from ..errors import ConfigError, DataError, DivergenceError, import_extra
from ..ot.discrete import ERROR_NAMES, MAX_PAIRS, discrete_ot_pairs, fit_to_pairs, pairing_encoder
from ..ot.trainer import Solver
from ..runs import (
    CSVLog,
    RunLock,
    atomic_write_text,
    load_checkpoint,
    prepare_folder,
    remove_if_empty,
    remove_stale_temporaries,
)
from .callbacks import Evaluation, LossLog, scalar_writer, stalled
from .config import TrainConfig
from .evaluate import Evaluator
from .factory import build_solver, load_weights
from .folders import fresh_folder
from .summary import TrainSummary


def _load_split(domain, cfg: TrainConfig, path: Path, follow: Split | None = None):
    train, test, split = split_domain(domain, cfg.test_fraction, cfg.seed, follow)
    if path.exists():  # resume: the saved lists win
        saved = Split.load(path)
        train, test, split = domain.source.subset(saved.train), (domain.test or domain.source).subset(saved.test), saved
    return train, test, split


def open_splits(cfg: TrainConfig, run: Path, save: bool = True) -> tuple:
    """(source train, source test, target train, target test), the file lists saved in ``run``
    once they are known to be usable (``save=False`` on the non-zero ranks of a distributed run:
    the seeded split is the same)."""
    src_path, tgt_path = run / "split_source.json", run / "split_target.json"
    src_train, src_test, src_split = _load_split(open_domain(cfg.source, cfg.size, cfg.crop, cfg.h5_key), cfg, src_path)
    # names both domains hold are held out on both sides or on neither: the test pairs stay whole
    tgt_train, tgt_test, tgt_split = _load_split(
        open_domain(cfg.target, cfg.size, cfg.crop, cfg.h5_key), cfg, tgt_path, src_split
    )
    if len(src_test) == 0 or len(tgt_test) == 0:
        raise DataError(
            f"{cfg.source if len(src_test) == 0 else cfg.target}: the test split is empty "
            "(raise test_fraction or add testA/testB folders)"
        )
    fewest = min(len(src_train), len(tgt_train))
    if cfg.batch_size > fewest:  # a larger batch only repeats images, at the memory cost of new ones
        raise ConfigError("batch_size", f"{cfg.batch_size} is more than the {fewest} training images of a domain")
    for split, path in ((src_split, src_path), (tgt_split, tgt_path)):
        if save and not path.exists():
            split.save(path)
    return src_train, src_test, tgt_train, tgt_test


def _first(source, n: int) -> torch.Tensor:
    """Up to ``n`` images of a split, spread over it (every k-th), as one tensor."""
    step = max(1, len(source) // n)
    return torch.stack([source[i] for i in range(0, len(source), step)][:n])


def train(
    cfg: TrainConfig,
    resume: bool = False,
    progress: bool = True,
    data: tuple | None = None,
    init: dict | None = None,
    fabric=None,
    overwrite: bool = False,
) -> TrainSummary:
    """Train (or resume) a NOT run; returns a summary with the best and final metrics.

    A fresh run refuses a folder that holds files monge did not write, unless ``overwrite``.

    ``data`` overrides the configured domains with prepared (source train, source test, target
    train, target test) image sources (stacking trains on mapped sources); ``init`` holds T and f
    state dicts to start a fresh run from (a warm start). With ``cfg.devices`` > 1 the other ranks
    are launched by Lightning Fabric (see :mod:`monge.engine`; pass ``fabric`` to reuse a launched
    one); only rank 0 evaluates and writes.
    """
    from ..engine import make_fabric

    if cfg.logger == "wandb":  # a missing extra is named before any data loads
        import_extra("wandb", "wandb", "--logger wandb")
    run = Path(cfg.out)
    fabric = fabric or make_fabric(cfg.device, cfg.devices, cfg.num_nodes, cfg.precision)
    if not fabric.is_global_zero:
        return _train(cfg, resume, progress, data, init, fabric, overwrite)
    created = not run.exists()
    prepare_folder(run, "out")
    try:
        with RunLock(run):
            remove_stale_temporaries(run)
            return _train(cfg, resume, progress, data, init, fabric, overwrite)
    except BaseException:
        if created:  # a run refused before it wrote anything leaves no empty folder behind
            remove_if_empty(run)
        raise


@dataclass
class _Resumed:
    """What a resumed run carries over: the best so far, the data streams' positions, the earlier
    summary (kept when a resume adds no step) and the torch RNG state (restored just before the game)."""

    state: dict[str, Any]
    previous: dict[str, Any] = field(default_factory=dict)
    torch_rng: torch.Tensor | None = None


def _resume(solver: Solver, cfg: TrainConfig, run: Path, data_rng: torch.Generator) -> _Resumed:
    """Load ``run``'s last checkpoint into ``solver`` and ``data_rng``."""
    path = run / "checkpoints" / "last.pt"
    ck = load_checkpoint(path)
    load_weights(solver, ck, path)
    if (ck["config"].get("lr"), ck["config"].get("map_lr")) != (cfg.lr, cfg.map_lr):
        solver.set_lr(cfg.lr, cfg.map_lr)  # a changed --lr or --map-lr applies on resume
    data_rng.set_state(ck["data_rng"])
    state = {
        "best_metric": float(ck["best_metric"]),
        "best_step": int(ck["best_step"]),
        "streams": [int(v) for v in ck.get("streams", [0, 0])],
    }
    previous = json.loads((run / "summary.json").read_text()) if (run / "summary.json").exists() else {}
    return _Resumed(state, previous, ck["torch_rng"])


def _samplers(cfg: TrainConfig, splits: tuple, data_rng: torch.Generator, streams: list[int], fabric, progress: bool):
    """The source and target training samplers (in memory or streamed, see :func:`image_sampler`)."""
    return tuple(
        image_sampler(
            split,
            data_rng,
            cfg.cache_mb * 2**20,
            2 * cfg.seed + k,
            fabric.global_rank,
            fabric.world_size,
            cfg.workers,
            streams[k],
            fabric.device.type == "cuda",
            progress,
            "source" if k == 0 else "target",
        )
        for k, split in enumerate((splits[0], splits[2]))
    )


def _pairs_and_warm_start(
    cfg: TrainConfig, solver: Solver, splits: tuple, data_rng: torch.Generator, end: int, progress: bool
):
    """The exact discrete OT pairs of the training images, when the warm start or the anchor needs them
    (and the run still trains, up to step ``end``): fits the map to them (a fresh run) and anchors it to
    them. Returns the seconds spent and the warm start's last error (None without one)."""
    fresh_warm_start = bool(cfg.ot_warm_start) and solver.steps_done == 0
    if not (fresh_warm_start or cfg.ot_anchor) or solver.steps_done >= end:
        return 0.0, None
    t0, last_error = time.perf_counter(), None
    source, target = _first(splits[0], MAX_PAIRS), _first(splits[2], MAX_PAIRS)
    # data_rng is untouched until here in a fresh run, so a resume draws the same pairs from a
    # generator seeded alike without moving the restored data stream
    pair_rng = data_rng if solver.steps_done == 0 else torch.Generator().manual_seed(cfg.seed)
    xs, ys = discrete_ot_pairs(source, target, generator=pair_rng, encode=pairing_encoder(cfg.ot_pairing))
    if fresh_warm_start:
        updates, loss = cfg.ot_warm_start, cfg.ot_pair_loss
        errors = fit_to_pairs(solver, xs, ys, updates, cfg.batch_size, generator=data_rng, progress=progress, loss=loss)
        last_error = errors[-1]
    if cfg.ot_anchor:
        solver.anchor_to(xs, ys, cfg.ot_anchor, generator=data_rng, loss=cfg.ot_pair_loss)
    return time.perf_counter() - t0, last_error


def _train(
    cfg: TrainConfig, resume: bool, progress: bool, data: tuple | None, init: dict | None, fabric, overwrite: bool
):
    run = Path(cfg.out)
    rank0 = fabric.is_global_zero
    last = run / "checkpoints" / "last.pt"
    resuming = resume and last.exists()
    if last.exists() and not resume:
        raise DataError(f"{run}: already holds a run; resume it or choose another output folder")
    if rank0 and not resuming:
        fresh_folder(run, overwrite)
    if fabric.device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    torch.manual_seed(cfg.seed)
    data_rng = torch.Generator().manual_seed(cfg.seed)  # the same on every rank: the global batch
    solver = build_solver(cfg, fabric)
    if init is not None and not resuming:
        solver.T.load_state_dict(init["T"])
        solver.f.load_state_dict(init["f"])
    fresh = _Resumed({"best_metric": float("inf"), "best_step": -1, "streams": [0, 0]})
    resumed = _resume(solver, cfg, run, data_rng) if resuming else fresh
    state = resumed.state
    fabric.barrier()  # every rank has read the checkpoint before rank 0 may overwrite it
    splits = data if data is not None else open_splits(cfg, run, save=rank0)
    splits, validation = hold_out_validation(splits, cfg.val_fraction, cfg.seed)  # what best.pt is chosen on
    if validation and cfg.batch_size > min(len(splits[0]), len(splits[2])):
        raise ConfigError("val_fraction", f"{cfg.val_fraction} leaves fewer training images than batch_size")
    source, target = samplers = _samplers(cfg, splits, data_rng, state["streams"], fabric, progress and rank0)
    callbacks: list = []
    if rank0:
        atomic_write_text(run / "config.json", json.dumps(cfg.to_dict(), indent=2))
        evaluator = Evaluator(cfg, splits[1], splits[3], run)
        losses_log, eval_log = CSVLog(run / "losses.csv"), CSVLog(run / "eval.csv")
        losses_log.truncate_after(solver.steps_done)
        eval_log.truncate_after(solver.steps_done)
        writer = scalar_writer(run / "tb", solver.steps_done, cfg.logger, cfg.to_dict())
        baselines = evaluator.baselines(_first(splits[0], 1000), _first(splits[2], 1000))
        choose = Evaluator(cfg, *validation, run, "val", evaluator.extractor) if validation else None
        evaluation = Evaluation(evaluator, cfg, state, writer, eval_log, data_rng, samplers, baselines, choose)
        callbacks = [LossLog(losses_log, writer, cfg.log_every, cfg.steps), evaluation]
    start = solver.steps_done
    end = start if validation and stalled(cfg, start, state["best_step"]) else cfg.steps  # stopped early: done
    # counted in the run's time: the ladder gives other methods the same wall clock
    warm_seconds, warm_error = _pairs_and_warm_start(cfg, solver, splits, data_rng, end, progress and rank0)
    if rank0 and warm_error is not None:
        writer.add_scalar(f"warm_start/{ERROR_NAMES[cfg.ot_pair_loss]}", warm_error, 0)
    if resumed.torch_rng is not None:  # augmentations and a weak map's noise continue the interrupted stream
        torch.set_rng_state(resumed.torch_rng)
    try:
        fit = solver.fit(source, target, end, cfg.batch_size, progress=progress and rank0, callbacks=callbacks)
    except DivergenceError as err:
        where = f"resume from the last good checkpoint, {last}" if last.exists() else "no checkpoint was written"
        raise DivergenceError(f"{err}; {where}") from None
    finally:
        if rank0:
            writer.close()
    fabric.barrier()
    fitting = fit.seconds - (evaluation.evaluating if rank0 else 0.0)  # the test split's scoring is not training
    summary = TrainSummary(
        run=str(run),
        metric=evaluator.metric if rank0 else None,
        steps=solver.steps_done,
        best_step=state["best_step"],
        best=state["best_metric"],
        final=(evaluation.last or resumed.previous.get("final", {})) if rank0 else {},
        seconds=round(warm_seconds + fitting, 1),
        steps_per_second=round((solver.steps_done - start) / fitting, 4) if fitting > 0 else None,
        world_size=fabric.world_size,
        rank=fabric.global_rank,
        baselines=baselines if rank0 else {},
        chosen_on="validation" if validation else "test",
        stopped_early=solver.steps_done < cfg.steps,
    )
    previous = resumed.previous
    if rank0 and solver.steps_done == start and previous:  # nothing new: the run's summary stands
        summary.seconds, summary.steps_per_second = previous.get("seconds", 0.0), previous.get("steps_per_second")
    if rank0:
        atomic_write_text(run / "summary.json", json.dumps(summary.to_dict(), indent=2))
    return summary
