"""ott-jax's ENOT beside monge on the W2 benchmark's published instance, at a given wall clock.

    benchmarks/peers/setup.sh                               # once: the peer's own environment
    python benchmarks/w2_peer.py --dim 16 --seconds 1000    # one thread: OMP/XLA single-threaded

monge samples the published instance (seed 0) and scores every map against the known OT map on the
same 4,096 samples; the peer trains in its own process and environment on fresh samples of the same
pair and returns its map's outputs. The identity and the linear map are scored in the same run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from monge.bench.w2 import linear_map
from monge.bench.w2_problems import mix3tomix10
from monge.engine import cpu_name
from monge.metrics import l2_uvp

PEERS = Path(__file__).parent / "peers"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dim", type=int, default=16)
    p.add_argument("--seconds", type=float, default=1000.0, help="the peer's training wall clock")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--python", default=str(PEERS / ".venv-ott" / "bin" / "python"), help="the peer environment's")
    p.add_argument("--out", help="append the JSON row to this file")
    args = p.parse_args()
    if not Path(args.python).exists():
        sys.exit(f"{args.python}: no peer environment; run benchmarks/peers/setup.sh first")
    torch.manual_seed(0)
    problem = mix3tomix10(args.dim, None, 0)
    x_eval = problem.sample_p(4096)
    truth = problem.true_map(x_eval)
    var_q = float(problem.sample_q(2**14).var(0).sum())
    x_fit, y_fit = problem.sample_p(2**16), problem.sample_q(2**16)
    rows = {
        "identity": l2_uvp(x_eval, truth, var_q),
        "linear": l2_uvp(linear_map(x_fit[: 2**14], y_fit[: 2**14])(x_eval), truth, var_q),
    }
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "problem.npz", source=x_fit.numpy(), target=y_fit.numpy(), x_eval=x_eval.numpy())
        env = {**os.environ, "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
        t0 = time.perf_counter()
        subprocess.run(
            [args.python, str(PEERS / "ott_enot.py"), f"{tmp}/problem.npz", f"{tmp}/mapped.npz",
             "--seconds", str(args.seconds), "--batch", str(args.batch)],
            check=True, env=env,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        got = np.load(Path(tmp) / "mapped.npz")
        rows["ott-jax ENOT"] = l2_uvp(torch.from_numpy(got["mapped"]).float(), truth, var_q)
    result = {
        "dim": args.dim,
        "L2-UVP": rows,
        "peer_steps": int(got["steps"]),
        "peer_seconds": round(float(got["seconds"]), 1),
        "peer_wall_seconds": round(wall, 1),
        "batch": args.batch,
        "cpu": cpu_name(),
    }
    print(json.dumps(result))
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
