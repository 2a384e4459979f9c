"""Does stacking NOT maps help? Emoji twitter -> google at 32 px (cpu preset), levels 0-2, 3 seeds.

    python benchmarks/stacking.py --steps 80 --seeds 0 1 2 --out runs/stacking
    python benchmarks/stacking.py --steps 300 --levels 2 --checkpoint last --recipe demo
    python benchmarks/stacking.py --summarise runs/stack_seed0.json runs/stack_seed1.json ...

Each level gets the same step budget and is scored on the mapped *test* split only. Prints, per
level, the mean +- std over seeds of the level's minimum FD-EffNetLite0 over its evaluations (the
published protocol) and of its FD at the last step, with PD-EffNetLite0 and MSE at the best
evaluation, under the identity's and the colour transfer's rows (level 0's run measures them on the
same images), and whether each level beats the one before. ``--checkpoint last`` composes the
levels at their last checkpoints, so that nothing is chosen on the test split. ``--recipe demo``
trains each level with ``monge demo``'s configuration. Every seed's result is printed as one JSON
line; ``--summarise`` rebuilds the table from such lines (seeds run as separate processes).
"""

import argparse
import json
import time

import numpy as np

from monge.train.config import TrainConfig, demo_config
from monge.train.stack import train_stack

COLUMNS = ("min", "last", "PD-EffNetLite0", "mse", "seconds")


def recipe(text: str, steps: int) -> dict:
    """TrainConfig keys on top of the cpu preset: a JSON object, or ``demo`` for the demo's recipe."""
    if text != "demo":
        return json.loads(text)
    demo = demo_config(steps=steps).to_dict()
    default = TrainConfig(source=demo["source"], target=demo["target"]).to_dict()
    run_keys = ("out", "steps", "eval_every", "eval_images", "seed")  # this benchmark sets its own
    return {key: value for key, value in demo.items() if value != default[key] and key not in run_keys}


def summarise(results: list[dict]) -> str:
    """The per-level table over seeds, the baselines' rows, and each level against the one before."""
    per_seed = [r["levels"] for r in results]
    levels = min(len(s) for s in per_seed)
    metric = per_seed[0][0]["metric"]
    lines = [
        f"| level | min {metric} (mean +- std over seeds) | {metric} at the last step | PD-EffNetLite0 at best "
        "| MSE at best | s |",
        "|---|---|---|---|---|---|",
    ]
    baselines = [r.get("baselines", {}) for r in results]
    for name in baselines[0]:
        cols = [np.array([b[name][key] for b in baselines]) for key in (metric, "PD-EffNetLite0", "mse")]
        fd, pd, mse = (f"{c.mean():.4g} +- {c.std():.2g}" for c in cols)
        lines.append(f"| {name} | {fd} | {fd} | {pd} | {mse} | 0 |")
    for k in range(levels):
        cols = [np.array([s[k].get(key, np.nan) for s in per_seed]) for key in COLUMNS]
        lines.append(f"| {k} | " + " | ".join(f"{c.mean():.4g} +- {c.std():.2g}" for c in cols) + " |")
    lines.append("")
    for k in range(1, levels):
        for key in ("min", "last"):
            wins = sum(s[k][key] < s[k - 1][key] for s in per_seed)
            before, now = (np.mean([s[j][key] for s in per_seed]) for j in (k - 1, k))
            lines.append(
                f"level {k} beats level {k - 1} on {key} {metric} in {wins}/{len(per_seed)} seeds "
                f"({now:.1f} vs {before:.1f})"
            )
    if baselines[0].get("identity"):
        identity = np.mean([b["identity"][metric] for b in baselines])
        for k in range(levels):
            last = np.mean([s[k]["last"] for s in per_seed])
            if last >= identity:
                lines.append(f"level {k} loses to the identity at its last step ({last:.1f} vs {identity:.1f})")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--levels", type=int, default=3)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--warm-start", action="store_true")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best")
    p.add_argument("--recipe", default="{}", help="JSON of TrainConfig keys (on top of the cpu preset), or 'demo'")
    p.add_argument("--out", default="runs/stacking")
    p.add_argument("--summarise", nargs="+", metavar="JSON", help="files of result lines to tabulate; trains nothing")
    args = p.parse_args()
    if args.summarise:
        results = [  # a log of stdout and stderr together may hold progress bars before a result line
            json.loads(line[line.index('{"stack"') :])
            for path in args.summarise
            for line in open(path).read().splitlines()
            if '{"stack"' in line
        ]
        print(f"{len(results)} seeds\n\n{summarise(results)}")
        return
    results = []
    t0 = time.perf_counter()
    for seed in args.seeds:
        cfg = TrainConfig.from_dict(
            dict(
                source="emoji:twitter",
                target="emoji:google",
                out=f"{args.out}/seed{seed}",
                seed=seed,
                steps=args.steps,
                eval_every=max(1, args.steps // 4),
                eval_images=379,
                **recipe(args.recipe, args.steps),
            )
        )
        result = train_stack(cfg, args.levels, args.warm_start, progress=False, checkpoint=args.checkpoint)
        results.append(result)
        print(json.dumps(result), flush=True)
    print(f"\n{len(args.seeds)} seeds, {args.steps} steps per level, {time.perf_counter() - t0:.0f} s\n")
    print(summarise(results))


if __name__ == "__main__":
    main()
