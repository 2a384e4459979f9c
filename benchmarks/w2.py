"""The continuous W2 benchmark over several dimensions: one markdown row per dimension.

    python benchmarks/w2.py --dims 2 4 8 16 --steps 3000

Runs `monge bench w2` for each dimension (same seed, same samples for every method) and prints a
markdown table of L2-UVP (%) for the identity, the best linear map, POT's discrete OT (EMD on
4,096 samples, out-of-sample barycentric map) and monge's NOT, with the paper's MM:R figure.
"""
import argparse
import json

from monge.w2bench import run_w2


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dims", type=int, nargs="+", default=[2, 4, 8, 16])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--pair", default="mix3tomix10")
    args = p.parse_args()
    rows = []
    for dim in args.dims:
        r = run_w2(dim, args.pair, args.steps, progress=False)
        rows.append(r)
        print(json.dumps(r), flush=True)
    print("\n| D | identity | linear | POT EMD | monge NOT | paper MM:R | NOT time (s) |\n|---|---|---|---|---|---|---|")
    for r in rows:
        m = r["results"]
        print(f"| {r['dim']} | {m['identity']['L2-UVP']:.1f} | {m['linear']['L2-UVP']:.1f} | "
              f"{m['pot-emd']['L2-UVP']:.2f} | {m['monge-not']['L2-UVP']:.2f} | {r['published_MM:R']} | "
              f"{m['monge-not']['seconds']:.0f} |")


if __name__ == "__main__":
    main()
