"""What happens around the training steps of a run, as :class:`~monge.ot.solver.Callback`s of ``NOT.fit``:
the loss log, and the evaluation that scores the map, draws the grid and writes the checkpoints."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from ..errors import import_extra
from ..ot.trainer import Solver
from ..report.run import write_run_html
from ..runs import CSVLog
from ..viz import plot_curves, save_grid
from .config import TrainConfig
from .evaluate import Evaluator
from .factory import save_checkpoint


class _CSVOnly:
    """The writer of ``--logger csv``, and of tensorboard where it is not installed: it drops everything,
    since losses.csv and eval.csv hold the same numbers."""

    def add_scalar(self, *args, **kwargs) -> None: ...

    def add_image(self, *args, **kwargs) -> None: ...

    def close(self) -> None: ...


class _WandbWriter:
    """TensorBoard's writer interface (add_scalar, add_image, close) over a Weights & Biases run."""

    def __init__(self, wandb, folder: Path, config: dict):
        self.wandb = wandb
        self.run = wandb.init(project="monge", dir=str(folder), config=config, resume="allow", id=_run_id(folder))

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.run.log({tag: value}, step=step)

    def add_image(self, tag: str, image: torch.Tensor, step: int) -> None:
        self.run.log({tag: self.wandb.Image(image.permute(1, 2, 0).numpy())}, step=step)

    def close(self) -> None:
        self.run.finish()


def _run_id(folder: Path) -> str:
    """A stable W&B run id per run folder, so a resumed run logs into the same W&B run."""
    import hashlib

    return hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]


def scalar_writer(folder: Path, purge_step: int, logger: str = "auto", config: dict | None = None):
    """The writer of ``logger``: TensorBoard's ``SummaryWriter`` on ``folder`` (the ``viz`` extra; asked
    for and missing, one line on stderr and CSV only), a W&B run (needs ``wandb``), CSV only, or
    ``auto``: TensorBoard where it is installed, else CSV only, silently."""
    if logger == "wandb":
        wandb = import_extra("wandb", "wandb", "--logger wandb")
        return _WandbWriter(wandb, folder.parent, config or {})
    if logger == "csv":
        return _CSVOnly()
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        if logger == "auto":
            return _CSVOnly()
        print("monge: no TensorBoard logs (pip install 'monge[viz]'); the CSV logs hold them", file=sys.stderr)
        return _CSVOnly()
    return SummaryWriter(str(folder), purge_step=purge_step or None)


class LossLog:
    """Losses every ``every`` steps (and at the last) to a CSV file and TensorBoard, with the elapsed time."""

    def __init__(self, log: CSVLog, writer, every: int, total: int):
        self.log, self.writer, self.every, self.total = log, writer, every, total
        self.t0 = time.perf_counter()

    def on_step(self, solver: Solver, step: int, losses: dict[str, float]) -> None:
        if step % self.every == 0 or step == self.total:
            self.log.write({"step": step, **losses, "seconds": round(time.perf_counter() - self.t0, 2)})
            for k, v in losses.items():
                self.writer.add_scalar(f"loss/{k}", v, step)


def stalled(cfg: TrainConfig, step: int, best_step: int) -> bool:
    """Whether the validation score has not improved for ``cfg.patience`` evaluations (early stopping)."""
    return cfg.patience > 0 and step - best_step >= cfg.patience * cfg.eval_every


class Evaluation:
    """Every ``cfg.eval_every`` steps (and at the last): score the map on the held-out split, log and
    plot, write the sample grid and the ``last`` (and, when it improved, the ``best``) checkpoints.
    With a ``validation`` evaluator the best is chosen on its split, the test split only scores, and
    training stops once the best is ``cfg.patience`` evaluations old."""

    def __init__(
        self,
        evaluator: Evaluator,
        cfg: TrainConfig,
        state: dict,
        writer,
        log: CSVLog,
        data_rng: torch.Generator,
        samplers: tuple,
        baselines: dict[str, dict[str, float]] | None = None,
        validation: Evaluator | None = None,
    ):
        self.evaluator, self.cfg, self.state, self.writer, self.log = evaluator, cfg, state, writer, log
        self.validation = validation
        self.data_rng, self.samplers = data_rng, samplers
        self.last: dict[str, float] = {}
        self.baselines = baselines or {}  # the trivial maps' scores, shown beside the map's in report.html
        self.started = time.perf_counter()  # before the pairing and the warm start, which count as training
        # the preset's defaults, beside which report.html shows what this run changed
        self.defaults = TrainConfig.from_dict(
            {"source": cfg.source, "target": cfg.target, "preset": cfg.preset}
        ).to_dict()
        self.evaluating = 0.0  # seconds spent here, left out of the training seconds (choosing on validation counts)

    def on_step(self, solver: Solver, step: int, losses: dict[str, float]) -> dict[str, str] | None:
        if step % self.cfg.eval_every and step != self.cfg.steps:
            return None
        t0 = time.perf_counter()
        trained = round(t0 - self.started - self.evaluating, 2)  # of this process: a resume starts again at 0
        self.state["streams"] = [getattr(s, "drawn", 0) for s in self.samplers]
        cfg, metric, run = self.cfg, self.evaluator.metric, Path(self.cfg.out)
        result, rows = self.evaluator(solver, cfg.seed)
        choosing = time.perf_counter()
        if self.validation is not None:
            result.update({f"val_{k}": v for k, v in self.validation(solver, cfg.seed)[0].items()})
        choosing = time.perf_counter() - choosing
        chosen_by = f"val_{metric}" if self.validation is not None else metric
        self.log.write({"step": step, **result, "train_seconds": trained})
        for k, v in result.items():
            self.writer.add_scalar(f"eval/{k}", v, step)
        (run / "samples").mkdir(exist_ok=True)
        grid = save_grid(rows, run / "samples" / f"step_{step:06d}.png", scale=2)
        save_grid(rows, run / "samples" / "latest.png", scale=2)
        self.writer.add_image("samples", grid.add(1).div(2), step)
        history = self.log.read()
        splits = {"test split": metric, "validation split": f"val_{metric}"}
        steps = [r["step"] for r in history]
        plot_curves(
            {name: (steps, [r[key] for r in history]) for name, key in splits.items() if key in result},
            run / "curve.png",
            metric,
            f"{cfg.source} -> {cfg.target}",
        )
        if result[chosen_by] < self.state["best_metric"]:
            self.state.update(best_metric=result[chosen_by], best_step=step)
            save_checkpoint(run / "checkpoints" / "best.pt", solver, cfg, self.data_rng, self.state)
        solver.should_stop = self.validation is not None and stalled(cfg, step, self.state["best_step"])
        save_checkpoint(run / "checkpoints" / "last.pt", solver, cfg, self.data_rng, self.state)
        self.last = result
        seconds = time.perf_counter() - self.started
        write_run_html(run, history, self.baselines, seconds, self.defaults, solver.should_stop)
        self.evaluating += time.perf_counter() - t0 - choosing
        return {metric: f"{result[metric]:.1f}"}
