"""Seconds per Frechet distance on EfficientNet-Lite0-sized features (1,280-d): monge's eigenvalue
route against the trace of scipy's ``sqrtm`` that FID code commonly uses, on covariances of N
random feature vectors (N below the dimension gives the singular covariances of a small test set).

    python benchmarks/frechet_speed.py --sizes 8 315 3000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.linalg

from monge.engine import cpu_name
from monge.metrics import frechet_distance


def by_sqrtm(mu1, s1, mu2, s2) -> float:
    """The common FID formula: ||mu1 - mu2||^2 + tr(S1 + S2 - 2 sqrtm(S1 S2))."""
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 315, 3000], help="feature vectors per set")
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(args.dim, args.dim)) / np.sqrt(args.dim)
    print("| vectors per set | sqrtm s | eigenvalues s | speed-up | relative difference |")
    print("|---|---|---|---|---|")
    rows = []
    for n in args.sizes:
        sets = [rng.normal(size=(n, args.dim)) @ mixing + shift for shift in (0.0, 0.1)]
        stats = [(x.mean(0), np.cov(x, rowvar=False)) for x in sets]
        args_ = (*stats[0], *stats[1])
        timed = {}
        for name, fn in (("sqrtm", by_sqrtm), ("eigenvalues", frechet_distance)):
            t0 = time.perf_counter()
            for _ in range(args.repeats):
                value = fn(*args_)
            timed[name] = ((time.perf_counter() - t0) / args.repeats, value)
        (s_old, v_old), (s_new, v_new) = timed["sqrtm"], timed["eigenvalues"]
        row = dict(n=n, sqrtm_s=s_old, eig_s=s_new, speedup=s_old / s_new, rel_diff=abs(v_new - v_old) / v_old)
        rows.append(row)
        print(f"| {n} | {s_old:.2f} | {s_new:.2f} | {s_old / s_new:.1f}x | {row['rel_diff']:.1e} |")
    print(json.dumps({"cpu": cpu_name(), "dim": args.dim, "rows": rows}))


if __name__ == "__main__":
    main()
