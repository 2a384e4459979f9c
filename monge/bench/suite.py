"""The translation suite: one recipe scored on every task with hidden pairs, the same way.

Tasks are pairs of built-in domains whose file names pair the same item in both: the emoji in two
directions (a change of colour and bevel) and DejaVu font glyphs (a change of shape). For each task
and seed, NOT (or ENOT) is trained with ``TrainConfig``'s defaults plus a recipe and scored at the
checkpoint ``monge train`` hands out: the one chosen on the validation split cut from the training
images (the last step where a recipe turns validation off; never one chosen on the test split);
CycleGAN and the supervised ceiling (the map network trained on the hidden training pairs) then get
the same wall clock. Everything is scored by :func:`monge.bench.ladder.score_methods` beside the
identity and the Gaussian colour OT.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ..engine import cpu_name
from ..ot.baselines import gaussian_colour_map
from ..report import suite as report
from ..train.config import TrainConfig
from ..train.factory import load_solver
from ..train.loop import train
from ..viz import save_grid
from .cyclegan import train_cyclegan
from .ladder import ladder_table, mse_progress, score_methods
from .pairs import held_out_pairs
from .supervised import train_supervised
from .tasks import TASKS

MAP, CYCLEGAN, CEILING = "map", "CycleGAN (equal wall clock)", "supervised ceiling (hidden pairs, L2)"
# real target images of other items: the scores of a perfect sampler of the target domain that ignores
# its input (on glyphs, FD against the paired test targets is mostly which characters a set holds)
OTHER_TARGETS = "target images of other items (reference)"
GRID_PAIRS = 8


def train_map(source: str, target: str, folder: Path, steps: int, seed: int, recipe: dict, progress: bool):
    """The map of one task and seed (a finished run in ``folder`` is reused, an interrupted one
    resumed) at the checkpoint chosen on validation (else its last), its configuration, its training
    seconds and which checkpoint it is."""
    base = dict(source=source, target=target, out=str(folder), steps=steps, eval_every=max(1, steps // 10))
    cfg = TrainConfig.from_dict({**base, "seed": seed, "logger": "csv", **recipe})
    earlier = folder / "summary.json"
    earlier_seconds = json.loads(earlier.read_text())["seconds"] if earlier.exists() else 0.0
    summary = train(cfg, resume=(folder / "checkpoints" / "last.pt").exists(), progress=progress)
    which = "best" if summary.chosen_on == "validation" else "last"
    solver, cfg = load_solver(cfg.out, which)
    checkpoint = f"step {summary.best_step} of {summary.steps}, chosen on validation" if which == "best" else "last"
    return solver, cfg, {"steps": summary.steps, "seconds": max(summary.seconds, earlier_seconds)}, checkpoint


def _other_targets(y_train: torch.Tensor, seed: int):
    """A "map" answering ``len(x)`` target training images drawn at random (seeded), whatever ``x`` is."""
    shuffled = y_train[torch.randperm(len(y_train), generator=torch.Generator().manual_seed(seed))]
    return lambda x: shuffled[: len(x)]


def targets_met(rows: dict[str, dict], peers: bool) -> dict[str, bool]:
    """The suite's targets for the map against the same run's baselines: FD at least 5 % below the
    identity's and more than 3 bootstrap SD below it, MSE at least 25 % of the way to the ceiling,
    a lower two-sample accuracy than the identity's, and (with peers) better FD and MSE than CycleGAN."""
    m, identity = rows[MAP], rows["identity"]
    met = {
        "FD 5 % below identity": m["FD-EffNetLite0"] <= 0.95 * identity["FD-EffNetLite0"],
        "FD 3 SD below identity": -m["FD - identity (mean)"] > 3 * m["FD - identity (std)"],
        "C2ST below identity": m["C2ST accuracy"] < identity["C2ST accuracy"],
    }
    if peers:
        met["MSE 25 % to ceiling"] = mse_progress(rows, MAP, CEILING) >= 0.25
        met["beats CycleGAN on FD and MSE"] = (
            m["FD-EffNetLite0"] < rows[CYCLEGAN]["FD-EffNetLite0"] and m["mse"] < rows[CYCLEGAN]["mse"]
        )
    return met


def run_task(
    task: str, seed: int, steps: int, out: Path, recipe: dict | None = None, peers: bool = True, progress: bool = True
) -> dict:
    """Train and score one task and seed; writes ``result.json``, ``table.md`` and ``grid.png`` in
    ``out/TASK/seedS`` and returns the result."""
    source, target = TASKS[task]
    folder = out / task / f"seed{seed}"
    solver, cfg, extra, checkpoint = train_map(source, target, folder / "map", steps, seed, recipe or {}, progress)
    pairs = held_out_pairs(cfg.out, source, target, cfg.size, train_limit=4000)
    methods = {
        "identity": lambda x: x,
        "Gaussian colour OT": gaussian_colour_map(pairs.x_train[:1000], pairs.y_train[:1000]),
        MAP: solver.map,
        OTHER_TARGETS: _other_targets(pairs.y_train, seed),
    }
    extras = {MAP: extra}
    if peers:  # the trained peer and the ceiling, each for the map's wall time
        budget = extra["seconds"]
        cyclegan = train_cyclegan(pairs.x_train, pairs.y_train, budget, seed=seed, progress=progress)
        ceiling = train_supervised(pairs.x_train_pairs, pairs.y_train_pairs, cfg, budget, progress=progress)
        methods[CYCLEGAN], methods[CEILING] = cyclegan.map, ceiling.map
        extras[CYCLEGAN] = {"steps": cyclegan.steps, "seconds": cyclegan.seconds}
        extras[CEILING] = {"steps": ceiling.steps, "seconds": ceiling.seconds}
    torch.manual_seed(seed)
    rows = score_methods(pairs, methods, extras, size=cfg.size, seed=seed)
    with torch.no_grad():
        shown = pairs.x[:GRID_PAIRS]
        save_grid(
            [
                shown,
                *(methods[name](shown).clamp(-1, 1) for name in methods if name != "identity"),
                pairs.y[:GRID_PAIRS],
            ],
            folder / "grid.png",
            scale=2,
        )
    result = {
        "task": task,
        "source": source,
        "target": target,
        "seed": seed,
        "steps": steps,
        "recipe": {k: v for k, v in cfg.to_dict().items() if k in (recipe or {})},
        "solver": cfg.solver,
        "checkpoint": checkpoint,
        "test_pairs": len(pairs.names),
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "rows": rows,
        "MSE progress to ceiling": mse_progress(rows, MAP, CEILING) if peers else None,
        "targets": targets_met(rows, peers),
        "grid rows": ["source", *(name for name in methods if name != "identity"), "hidden target"],
    }
    (folder / "result.json").write_text(json.dumps(result, indent=2))
    header = f"{task}, seed {seed}, {len(pairs.names)} held-out pairs, {result['cpu']} x{result['threads']}"
    (folder / "table.md").write_text(f"{header}\n\n{ladder_table(rows)}\n")
    return result


def write_suite_report(out: str | Path) -> str:
    """``suite.md`` and ``report.html`` in ``out`` over every result there, tasks in the suite's order."""
    return report.write_suite_report(out, list(TASKS))


def run_suite(
    tasks: list[str],
    seeds: list[int],
    steps: int,
    out: str | Path,
    recipe: dict | None = None,
    peers: bool = True,
    progress: bool = True,
) -> dict:
    """Every task and seed (see :func:`run_task`); writes ``suite.json`` (this call's results), and
    ``suite.md`` and ``report.html`` over every result in ``out`` (tasks run by separate calls
    into one folder gather into one report). Returns this call's results."""
    out = Path(out)
    t0 = time.perf_counter()
    results = [run_task(t, s, steps, out, recipe, peers, progress) for t in tasks for s in seeds]
    summary = {"results": results, "seconds": round(time.perf_counter() - t0, 1), "cpu": cpu_name()}
    (out / "suite.json").write_text(json.dumps(summary, indent=2))
    write_suite_report(out)
    return summary
