"""Does stacking NOT maps help? Emoji twitter -> google at 32 px (cpu preset), levels 0-2, 3 seeds.

    python benchmarks/stacking.py --steps 80 --seeds 0 1 2 --out runs/stacking

Each level gets the same step budget and is scored on the mapped *test* split only. Prints, per
level, the mean +- std over seeds of the level's minimum FD-EffNetLite0 and of PD-EffNetLite0 at
that level's best evaluation, and whether each level beats the one before.
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
    p.add_argument("--out", default="runs/stacking")
    args = p.parse_args()
    per_seed = []
    t0 = time.perf_counter()
    for seed in args.seeds:
        cfg = TrainConfig(
            source="emoji:twitter",
            target="emoji:google",
            out=f"{args.out}/seed{seed}",
            seed=seed,
            steps=args.steps,
            eval_every=max(1, args.steps // 4),
            eval_images=379,
        )
        result = train_stack(cfg, args.levels, warm_start=args.warm_start, progress=False)
        per_seed.append(result["levels"])
        print(json.dumps(result), flush=True)
    metric = per_seed[0][0]["metric"]
    print(f"\n{len(args.seeds)} seeds, {args.steps} steps per level, {time.perf_counter() - t0:.0f} s\n")
    print(
        f"| level | min {metric} (mean +- std over seeds) | PD-EffNetLite0 at best | MSE at best |\n|---|---|---|---|"
    )
    means = []
    for k in range(args.levels):
        fd = np.array([s[k]["min"] for s in per_seed])
        pd = np.array([s[k]["PD-EffNetLite0"] for s in per_seed])
        mse = np.array([s[k]["mse"] for s in per_seed])
        means.append(fd.mean())
        print(
            f"| {k} | {fd.mean():.1f} +- {fd.std():.1f} | {pd.mean():.3f} +- {pd.std():.3f} | "
            f"{mse.mean():.4f} +- {mse.std():.4f} |"
        )
    for k in range(1, args.levels):
        wins = sum(s[k]["min"] < s[k - 1]["min"] for s in per_seed)
        print(
            f"level {k} beats level {k - 1} on min {metric} in {wins}/{len(per_seed)} seeds "
            f"(mean {means[k]:.1f} vs {means[k - 1]:.1f})"
        )


if __name__ == "__main__":
    main()
