"""Does training an auto-encoder as the NOT map from P to P beat a plain auto-encoder?

    python benchmarks/autoencoders.py --steps 300 --seeds 0 1 2 --out runs/ae-bench

Google emoji at 32 px (the built-in set), latent 64, cpu-preset widths. For every cost (l2, l1,
perceptual) and seed, trains the plain auto-encoder (the cost alone) and the NOT auto-encoder (the
same network, the same number of map updates, plus the potential) and scores the *last* checkpoint
on the held-out test split: PD-EffNetLite0 and MSE of reconstructions to their inputs, FD-EffNetLite0
of the reconstructions against the test images, and, for NOT-AE, the potential's mean score on real
test images and on their reconstructions (a trained potential should rank real images higher).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from monge.backbones.effnet import EffNetLite0
from monge.bench.pairs import held_out_pairs
from monge.metrics import PerceptualDistance, fd_from_stats, image_stats, paired_metrics
from monge.train.config import TrainConfig
from monge.train.factory import load_solver
from monge.train.loop import train
from monge.viz import save_grid

COSTS = {"l2": "strong", "l1": "l1", "perceptual": "perceptual"}


def score(run: Path, effnet: EffNetLite0, pd: PerceptualDistance, device: str) -> tuple[dict[str, float], torch.Tensor]:
    """Held-out metrics of a run's last checkpoint, and its test inputs and reconstructions."""
    solver, cfg = load_solver(run, "last", device)
    x = held_out_pairs(run, cfg.source, cfg.source, cfg.size, train_limit=0).x
    recon = solver.map(x).clamp(-1, 1)  # images, as written to PNG
    out = {
        "FD-EffNetLite0": fd_from_stats(image_stats(recon, effnet, cfg.size), image_stats(x, effnet, cfg.size)),
        **paired_metrics(recon, x, pd),
    }
    if cfg.objective == "not":
        with torch.no_grad():
            f = solver.f.eval()
            out["f_real"] = float(torch.cat([f(b.to(device)).cpu() for b in x.split(256)]).mean())
            out["f_recon"] = float(torch.cat([f(b.to(device)).cpu() for b in recon.split(256)]).mean())
        out["f_gap"] = out["f_real"] - out["f_recon"]
    return out, torch.stack([x, recon])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--costs", nargs="+", default=list(COSTS), choices=list(COSTS))
    p.add_argument("--methods", nargs="+", default=["AE", "NOT-AE"], choices=["AE", "NOT-AE"])
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="runs/ae-bench")
    args = p.parse_args()
    effnet = EffNetLite0().to(args.device)
    pd = PerceptualDistance(effnet).to(args.device)
    results: dict[tuple[str, str], list[dict]] = {}
    grid_rows: dict[str, list[torch.Tensor]] = {}
    t0 = time.perf_counter()
    for cost in args.costs:
        for method in args.methods:
            for seed in args.seeds:
                run = Path(args.out) / f"{cost}-{method}-seed{seed}"
                if not (run / "summary.json").exists():
                    cfg = TrainConfig(
                        source="emoji:google",
                        target="emoji:google",
                        out=str(run),
                        cost=COSTS[cost],
                        steps=args.steps,
                        map_net="autoencoder",
                        latent=args.latent,
                        seed=seed,
                        objective="not" if method == "NOT-AE" else "reconstruction",
                        eval_every=max(1, args.steps // 3),
                        eval_images=379,
                        device=args.device,
                    )
                    train(cfg, resume=(run / "checkpoints" / "last.pt").exists(), progress=False)
                r, images = score(run, effnet, pd, args.device)
                results.setdefault((cost, method), []).append(r)
                if seed == args.seeds[0] and len(args.methods) == 2:
                    grid_rows.setdefault(cost, [images[0, :12]]).append(images[1, :12])
                print(json.dumps({"cost": cost, "method": method, "seed": seed, **r}), flush=True)
    lines = [
        f"{len(args.seeds)} seeds, {args.steps} steps each, latent {args.latent}, "
        f"{time.perf_counter() - t0:.0f} s on {args.device}",
        "",
        "| cost | method | PD-EffNetLite0 | FD-EffNetLite0 | MSE | f(real) - f(recon) |",
        "|---|---|---|---|---|---|",
    ]
    for (cost, method), rs in results.items():
        cell = lambda k, f, rs=rs: f"{np.mean([r[k] for r in rs]):{f}} +- {np.std([r[k] for r in rs]):{f}}"
        gap = cell("f_gap", ".3f") if method == "NOT-AE" else "-"
        lines.append(
            f"| {cost} | {method} | {cell('PD-EffNetLite0', '.3f')} | {cell('FD-EffNetLite0', '.1f')} | "
            f"{cell('mse', '.4f')} | {gap} |"
        )
    print("\n" + "\n".join(lines))
    (Path(args.out) / "table.md").write_text("\n".join(lines) + "\n")
    for cost, rows in grid_rows.items():  # input | AE | NOT-AE, first seed
        save_grid(rows, Path(args.out) / f"grid_{cost}.png", scale=2)
    (Path(args.out) / "table.json").write_text(json.dumps({f"{c}/{m}": rs for (c, m), rs in results.items()}, indent=2))


if __name__ == "__main__":
    main()
