"""Does stacking NOT maps help? Emoji twitter -> google at 32 px (cpu preset), levels 0-2, 3 seeds.

    python benchmarks/stacking.py --steps 80 --seeds 0 1 2 --out runs/stacking
    python benchmarks/stacking.py --steps 300 --levels 2 --checkpoint last \
        --recipe '{"f_net": "effnet", "augment": "translation,cutout", "ema": 0.999}'

Each level gets the same step budget and is scored on the mapped *test* split only. Prints, per
level, the mean +- std over seeds of the level's minimum FD-EffNetLite0 over its evaluations (the
published protocol) and of its FD at the last step, with PD-EffNetLite0 and MSE at the best
evaluation, and whether each level beats the one before on both. ``--checkpoint last`` composes
the levels at their last checkpoints, so that nothing is chosen on the test split.
"""

import argparse
import json
import time

import numpy as np

from monge.train.config import TrainConfig
from monge.train.stack import train_stack


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--levels", type=int, default=3)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--warm-start", action="store_true")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best")
    p.add_argument("--recipe", default="{}", help="JSON of TrainConfig keys (on top of the cpu preset)")
    p.add_argument("--out", default="runs/stacking")
    args = p.parse_args()
    per_seed = []
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
                **json.loads(args.recipe),
            )
        )
        result = train_stack(cfg, args.levels, args.warm_start, progress=False, checkpoint=args.checkpoint)
        per_seed.append(result["levels"])
        print(json.dumps(result), flush=True)
    metric = per_seed[0][0]["metric"]
    print(f"\n{len(args.seeds)} seeds, {args.steps} steps per level, {time.perf_counter() - t0:.0f} s\n")
    print(
        f"| level | min {metric} (mean +- std over seeds) | {metric} at the last step | PD-EffNetLite0 at best "
        "| MSE at best |\n|---|---|---|---|---|"
    )
    for k in range(args.levels):
        cols = [np.array([s[k][key] for s in per_seed]) for key in ("min", "last", "PD-EffNetLite0", "mse")]
        print(f"| {k} | " + " | ".join(f"{c.mean():.4g} +- {c.std():.2g}" for c in cols) + " |")
    for k in range(1, args.levels):
        for key in ("min", "last"):
            wins = sum(s[k][key] < s[k - 1][key] for s in per_seed)
            before, now = (np.mean([s[j][key] for s in per_seed]) for j in (k - 1, k))
            print(
                f"level {k} beats level {k - 1} on {key} {metric} in {wins}/{len(per_seed)} seeds "
                f"({now:.1f} vs {before:.1f})"
            )


if __name__ == "__main__":
    main()
