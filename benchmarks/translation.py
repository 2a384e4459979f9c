"""The translation quality ladder on the emoji's hidden pairs: floors, an unpaired GAN peer, NOT, a ceiling.

    python benchmarks/translation.py --direction twitter-google --seeds 0 1 --steps 300 \
        --recipe '{"augment": "translation,cutout", "ema": 0.999}' --out results/ladder

For each direction and seed: NOT is trained once per ``--costs`` (cpu preset plus ``--recipe``,
one evaluation at the end, scored at its *last* step: nothing is chosen on the test split);
CycleGAN and the supervised ceiling (NOT's map network, trained with the hidden pairs) are then
trained for the first NOT run's wall-clock time; the identity, per-image palette transfer and a
Gaussian colour OT map need no training; NOT's map fitted to the exact discrete OT pairs of the
unpaired training images, without the game, is the OT floor.
Everything is scored by :func:`monge.bench.ladder.score_methods` on the run's held-out test pairs.
Writes ``ladder.json`` and ``ladder.md`` per direction and seed under ``--out``.
"""

import argparse
import json
import time
from pathlib import Path

import torch

from monge.bench.cyclegan import train_cyclegan
from monge.bench.ladder import ladder_table, mse_progress, score_methods
from monge.bench.pairs import held_out_pairs
from monge.bench.suite import train_map
from monge.bench.supervised import train_supervised
from monge.engine import cpu_name
from monge.ot.baselines import gaussian_colour_map, palette_transfer
from monge.ot.discrete import discrete_ot_pairs, fit_to_pairs, pairing_encoder
from monge.train.config import COSTS, TrainConfig
from monge.train.factory import build_solver

DIRECTIONS = {"twitter-google": ("emoji:twitter", "emoji:google"), "google-twitter": ("emoji:google", "emoji:twitter")}


def train_not(direction: str, seed: int, steps: int, recipe: dict, folder: Path, progress: bool):
    """One NOT run of the ladder (resumed or reused when its folder has one), its solver, config and
    wall time: the suite's :func:`~monge.bench.suite.train_map` on the direction's two domains."""
    return train_map(*DIRECTIONS[direction], folder, steps, seed, recipe, progress)


def ot_pairs_regression(pairs, cfg: TrainConfig, steps: int, seed: int, progress: bool):
    """NOT's map network fitted to the exact discrete OT pairs of the unpaired training images and
    nothing else (``--ot-warm-start`` without the game; Seguy et al. 2018), with its wall time."""
    torch.manual_seed(seed)
    solver = build_solver(TrainConfig.from_dict({**cfg.to_dict(), "ema": 0.0, "device": "cpu"}))
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    xs, ys = discrete_ot_pairs(pairs.x_train, pairs.y_train, generator=gen, encode=pairing_encoder(cfg.ot_pairing))
    fit_to_pairs(solver, xs, ys, steps, cfg.batch_size, generator=gen, progress=progress, loss=cfg.ot_pair_loss)
    solver.T.eval()
    return solver.map, {"steps": steps, "seconds": round(time.perf_counter() - t0, 1)}


def one(
    direction: str,
    seed: int,
    steps: int,
    recipe: dict,
    out: Path,
    progress: bool,
    peers: bool = True,
    costs: tuple[str, ...] = (),
) -> dict:
    """The ladder of one direction and seed; NOT once per cost in ``costs`` (default: the recipe's)."""
    source, target = DIRECTIONS[direction]
    folder = out / direction / f"seed{seed}"
    runs = {}  # the first cost's run is in not/ (as before costs were compared); the others in not-<cost>/
    for i, cost in enumerate(costs or (recipe.get("cost", "strong"),)):
        runs[f"NOT ({cost}, last step)"] = train_not(
            direction, seed, steps, {**recipe, "cost": cost}, folder / ("not" if i == 0 else f"not-{cost}"), progress
        )
    _, cfg, extra = next(iter(runs.values()))
    budget = extra["seconds"]  # the peers get the first cost's wall time
    pairs = held_out_pairs(cfg.out, source, target, cfg.size, train_limit=4000)
    colour = gaussian_colour_map(pairs.x_train[:1000], pairs.y_train[:1000])
    palette_pixels = pairs.y_train[:2000]
    methods = {
        "identity": lambda x: x,
        "palette transfer (per image, POT EMD)": lambda x: palette_transfer(x, palette_pixels),
        "Gaussian colour OT (global)": colour,
    }
    extras = {}
    regression = "discrete OT pairs, regressed (no game)"
    methods[regression], extras[regression] = ot_pairs_regression(pairs, cfg, cfg.ot_warm_start or 500, seed, progress)
    for name, (solver, _, extra) in runs.items():
        methods[name] = solver.map
        extras[name] = extra
    ceiling_name = "supervised ceiling (hidden pairs, L2)"
    if peers:  # the trained peer and ceiling, each for NOT's wall time (a lever probe may skip them)
        cyclegan = train_cyclegan(pairs.x_train, pairs.y_train, budget, seed=seed, progress=progress)
        ceiling = train_supervised(pairs.x_train_pairs, pairs.y_train_pairs, cfg, budget, progress=progress)
        methods["CycleGAN (equal wall clock)"] = cyclegan.map
        methods[ceiling_name] = ceiling.map
        extras["CycleGAN (equal wall clock)"] = {"steps": cyclegan.steps, "seconds": cyclegan.seconds}
        extras[ceiling_name] = {"steps": ceiling.steps, "seconds": ceiling.seconds}
    torch.manual_seed(seed)
    rows = score_methods(pairs, methods, extras, size=cfg.size, seed=seed)
    result = {
        "direction": direction,
        "seed": seed,
        "recipe": recipe,
        "steps": steps,
        "test_pairs": len(pairs.names),
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "rows": rows,
        "NOT MSE progress to ceiling": {name: mse_progress(rows, name, ceiling_name) for name in runs}
        if peers
        else None,
    }
    (folder / "ladder.json").write_text(json.dumps(result, indent=2))
    table = ladder_table(rows)
    header = f"{direction}, seed {seed}, {len(pairs.names)} held-out pairs, {result['cpu']} x{result['threads']}"
    (folder / "ladder.md").write_text(f"{header}\n\n{table}\n")
    print(f"\n## {direction}, seed {seed}\n\n{table}\n", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--direction", nargs="+", choices=list(DIRECTIONS), default=["twitter-google"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--steps", type=int, default=300, help="NOT steps; the other trained methods get NOT's wall time")
    p.add_argument("--recipe", default="{}", help="JSON of TrainConfig keys for NOT (on top of the cpu preset)")
    p.add_argument("--out", default="results/ladder")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-peers", action="store_true", help="skip CycleGAN and the ceiling (a quick lever probe)")
    p.add_argument(
        "--costs",
        nargs="+",
        choices=COSTS,
        help="one NOT row per transport cost, each trained with the recipe; the peers get the first one's wall "
        "time (default: the recipe's cost, else strong)",
    )
    args = p.parse_args()
    recipe = json.loads(args.recipe)
    for direction in args.direction:
        for seed in args.seeds:
            one(
                direction,
                seed,
                args.steps,
                recipe,
                Path(args.out),
                not args.no_progress,
                not args.no_peers,
                tuple(args.costs or ()),
            )


if __name__ == "__main__":
    main()
