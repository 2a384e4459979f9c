"""Emoji twitter -> google at 32 px: NOT against the identity and per-image palette transfer.

    python benchmarks/emoji_not.py --run runs/demo          # score an existing run (its best map)
    python benchmarks/emoji_not.py --run runs/demo --checkpoint last
    python benchmarks/emoji_not.py --steps 300 --out runs/emoji-bench   # train first (cpu preset)

Every method is scored on the same held-out test split (the run's split files): FD-EffNetLite0
of the mapped test images against the google test images, and the paired distances (MSE, PSNR,
PD-EffNetLite0) to the hidden ground truth (the same emoji drawn by Google).
"""

import argparse
import json
import time
from pathlib import Path

import torch

from monge.backbones.effnet import EffNetLite0
from monge.bench.pairs import held_out_pairs
from monge.metrics import PerceptualDistance, fd_terms_from_stats, image_stats, paired_metrics
from monge.ot.baselines import palette_transfer
from monge.train.config import TrainConfig
from monge.train.factory import load_solver
from monge.train.loop import train


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="an existing run folder to score")
    p.add_argument("--out", default="runs/emoji-bench")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", choices=["best", "last"], default="best", help="which of the run's maps to score")
    args = p.parse_args()
    run = Path(args.run or args.out)
    if not args.run:
        t0 = time.perf_counter()
        train(
            TrainConfig(
                source="emoji:twitter",
                target="emoji:google",
                out=str(run),
                steps=args.steps,
                eval_every=max(1, args.steps // 6),
                eval_images=1000,
                seed=args.seed,
            )
        )
        print(f"trained in {time.perf_counter() - t0:.0f} s")
    solver, cfg = load_solver(run, args.checkpoint)
    pairs = held_out_pairs(run, cfg.source, cfg.target, cfg.size, train_limit=2000)
    names, x, y, y_train_pixels = pairs.names, pairs.x, pairs.y, pairs.y_train

    effnet = EffNetLite0()
    pd = PerceptualDistance(effnet)
    target_stats = image_stats(y, effnet, cfg.size)
    torch.manual_seed(0)
    methods = {
        "identity": lambda: x,
        "palette transfer (POT EMD)": lambda: palette_transfer(x, y_train_pixels),
        f"monge NOT ({cfg.cost}, {args.checkpoint} step)": lambda: solver.map(x).clamp(-1, 1),
    }
    rows = {}
    for name, fn in methods.items():
        t0 = time.perf_counter()
        mapped = fn()
        seconds = time.perf_counter() - t0
        terms = fd_terms_from_stats(image_stats(mapped, effnet, cfg.size), target_stats)
        rows[name] = {
            "FD-EffNetLite0": terms["distance"],
            **paired_metrics(mapped, y, pd),
            "seconds": round(seconds, 1),
            "FD mean term": terms["mean"],
            "FD covariance term": terms["covariance"],
            "feature trace": terms["trace1"],
        }
    print(f"\n{len(names)} held-out test pairs, {cfg.size} px, run {run}\n")
    print(
        "| method | FD-EffNetLite0 | PD-EffNetLite0 | MSE | PSNR | map time (s) | FD = mean + covariance term "
        f"| feature trace (target {terms['trace2']:.0f}) |\n|---|---|---|---|---|---|---|---|"
    )
    for name, r in rows.items():
        print(
            f"| {name} | {r['FD-EffNetLite0']:.1f} | {r['PD-EffNetLite0']:.3f} | {r['mse']:.4f} | "
            f"{r['psnr']:.2f} | {r['seconds']} | {r['FD mean term']:.1f} + {r['FD covariance term']:.1f} | "
            f"{r['feature trace']:.0f} |"
        )
    (run / "benchmark.json").write_text(json.dumps(rows, indent=2))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
