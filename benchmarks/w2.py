"""The continuous W2 benchmark over several dimensions, on the published instance: one row per D.

    python benchmarks/w2.py --dims 2 4 8 16 --steps 6000 6000 8000 10000
    python benchmarks/w2.py --dims 128 --steps 3000 --hidden 256 --out results/w2_128.json

Runs :func:`monge.bench.w2.run_w2` for each dimension (seed 0: the published instance; the same
samples for every method) and prints a markdown table of L2-UVP (%) for the identity, the best
linear map, POT's discrete OT (EMD on 4,096 samples, out-of-sample barycentric map) and monge's
NOT, beside the paper's MM:R and best published figures, with the wall time and the CPU.
"""

import argparse
import json
import time

from monge.bench.w2 import run_w2
from monge.engine import cpu_name


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dims", type=int, nargs="+", default=[2, 4, 8, 16])
    p.add_argument("--steps", type=int, nargs="+", default=[3000], help="NOT steps: one value, or one per --dims")
    p.add_argument("--hidden", type=int, help="MLP width (default max(128, 4 D))")
    p.add_argument("--pair", default="mix3tomix10")
    p.add_argument("--seed", type=int, default=0, help="0: the published instance")
    p.add_argument("--lr", type=float, default=1e-3, help="NOT's Adam learning rate (cosine-decayed)")
    p.add_argument("--ema", type=float, default=0.0, help="map with a moving average of its weights (e.g. 0.999)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--curve-every", type=int, default=0, help="also score NOT every this many steps")
    p.add_argument("--cold", action="store_true", help="start NOT at the identity, not at the best linear map")
    p.add_argument("--solver", choices=["not", "enot"], default="not")
    p.add_argument("--expectile", type=float, default=0.99, help="ENOT's tau")
    p.add_argument("--expectile-weight", type=float, default=1.0, help="ENOT's regularisation weight")
    p.add_argument("--out", help="append each dimension's JSON result to this file (one line each)")
    args = p.parse_args()
    steps = args.steps * len(args.dims) if len(args.steps) == 1 else args.steps
    if len(steps) != len(args.dims):
        p.error("--steps: give one value or one per --dims")
    rows = []
    for dim, n in zip(args.dims, steps):
        t0 = time.perf_counter()
        r = run_w2(
            dim,
            progress=False,
            pair=args.pair,
            steps=n,
            batch_size=args.batch,
            seed=args.seed,
            hidden=args.hidden,
            lr=args.lr,
            warm=not args.cold,
            ema=args.ema,
            curve_every=args.curve_every,
            solver=args.solver,
            expectile=args.expectile,
            expectile_weight=args.expectile_weight,
        )
        r.update(cpu=cpu_name(), wall_seconds=round(time.perf_counter() - t0, 1))
        rows.append(r)
        line = json.dumps(r)
        print(line, flush=True)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(line + "\n")
    print(f"\nCPU: {rows[0]['cpu']}\n")
    name, row = args.solver.upper(), f"monge-{args.solver}"
    print(
        f"| D | identity | linear | POT EMD | monge {name} | steps | paper MM:R | best published | {name} time (s) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for r in rows:
        m = r["results"]
        emd = f"{m['pot-emd']['L2-UVP']:.2f}" if "pot-emd" in m else "-"
        mark = " (diverged)" if "diverged" in m[row] else ""
        print(
            f"| {r['dim']} | {m['identity']['L2-UVP']:.1f} | {m['linear']['L2-UVP']:.1f} | {emd} | "
            f"{m[row]['L2-UVP']:.2f}{mark} | {m[row]['steps']} | {r['published_MM:R']} | {r['published_best']} | "
            f"{m[row]['seconds']:.0f} |"
        )


if __name__ == "__main__":
    main()
