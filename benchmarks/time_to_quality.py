"""Time to quality: held-out FD-EffNetLite0 and MSE against training seconds, for recipes run side by side.

    python benchmarks/time_to_quality.py --recipes demo enot --seeds 0 --out results/ttq

Each recipe is ``monge demo``'s configuration (twitter -> google, the default split) with some
options changed (``RECIPES``, or ``--recipe NAME JSON``); all of them run at once, one process
and one thread each, so they share the machine alike (run as many as there are cores). Each
evaluates every ``--eval-every`` steps; a point's seconds are the training seconds of its run
(the pairing and the warm start included, the evaluations left out). Reports, per recipe and seed:
the seconds until FD <= 265 and MSE <= 0.21 both hold and keep holding, the final scores, the
peak memory and the CPU, as ``ttq.json`` and ``ttq.md``, with the curves in ``ttq_fd.png`` and ``ttq_mse.png``.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from monge.engine import cpu_name
from monge.runs import CSVLog
from monge.viz import plot_curves

FD, MSE = "FD-EffNetLite0", "mse"
# changes from the demo's configuration (``monge demo`` is ``demo``)
RECIPES = {
    "demo": {},
    "enot": {"solver": "enot", "steps": 1500, "ot_warm_start": 500},
}


def seconds_to_quality(history: list[dict], fd_max: float, mse_max: float) -> float | None:
    """The training seconds of the first evaluation from which on FD <= fd_max and MSE <= mse_max
    both hold at every later evaluation; None when the last one misses."""
    reached = None
    for row in history:
        good = row[FD] <= fd_max and row[MSE] <= mse_max
        reached = (reached if reached is not None else float(row["train_seconds"])) if good else None
    return reached


def launch(name: str, changes: dict, seed: int, eval_every: int, out: Path) -> subprocess.Popen:
    """``monge demo``'s configuration with ``changes``, as a one-thread ``monge train`` process."""
    from monge.train.config import demo_config

    steps = changes.get("steps", 300)
    cfg = {**demo_config(steps=steps, seed=seed).to_dict(), **changes, "eval_every": eval_every}
    cfg.update(out=str(out / name / f"seed{seed}"), logger="csv", device="cpu")
    config = out / name / f"seed{seed}.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(cfg))
    command = [sys.executable, "-m", "monge", "--threads", "1", "train", "--config", str(config)]
    command += ["--out", cfg["out"], "--json"]
    log = open(out / name / f"seed{seed}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", default=["demo", "enot"], help=f"of {', '.join(RECIPES)}")
    p.add_argument("--recipe", nargs=2, action="append", default=[], metavar=("NAME", "JSON"), help="another recipe")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--evaluations", type=int, default=10, help="evaluations along each run")
    p.add_argument("--fd", type=float, default=265.0)
    p.add_argument("--mse", type=float, default=0.21)
    p.add_argument("--out", default="results/ttq")
    args = p.parse_args()
    recipes = {name: RECIPES[name] for name in args.recipes} | {n: json.loads(j) for n, j in args.recipe}
    out = Path(args.out)
    t0 = time.perf_counter()
    jobs = {
        (name, seed): launch(name, changes, seed, max(1, changes.get("steps", 300) // args.evaluations), out)
        for name, changes in recipes.items()
        for seed in args.seeds
    }
    failed = [key for key, job in jobs.items() if job.wait() != 0]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child's peak
    rows, curves_fd, curves_mse = [], {}, {}
    for (name, seed), _ in jobs.items():
        if (name, seed) in failed:
            rows.append({"recipe": name, "seed": seed, "failed": True})
            continue
        history = CSVLog(out / name / f"seed{seed}" / "eval.csv").read()
        xs = [float(r["train_seconds"]) for r in history]
        curves_fd[f"{name} seed {seed}"] = (xs, [r[FD] for r in history])
        curves_mse[f"{name} seed {seed}"] = (xs, [r[MSE] for r in history])
        rows.append(
            {
                "recipe": name,
                "seed": seed,
                "changes": recipes[name],
                "seconds to quality": seconds_to_quality(history, args.fd, args.mse),
                "final FD": history[-1][FD],
                "final MSE": history[-1][MSE],
                "train seconds": xs[-1],
                "curve": [(x, r[FD], r[MSE]) for x, r in zip(xs, history)],
            }
        )
    result = {"cpu": cpu_name(), "threads per run": 1, "peak MB (largest run)": round(peak_mb), "rows": rows}
    result["wall seconds"] = round(time.perf_counter() - t0, 1)
    (out / "ttq.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"FD <= {args.fd} and MSE <= {args.mse}, held out; {result['cpu']}, one thread per run, "
        f"{len(jobs)} runs at once; peak {result['peak MB (largest run)']} MB.",
        "",
        "| recipe | seed | seconds to quality | final FD | final MSE | train seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("failed"):
            lines.append(f"| {r['recipe']} | {r['seed']} | failed (see its log) | | | |")
            continue
        reached = "not reached" if r["seconds to quality"] is None else f"{r['seconds to quality']:.0f}"
        lines.append(
            f"| {r['recipe']} | {r['seed']} | {reached} | {r['final FD']:.1f} | {r['final MSE']:.4f} | "
            f"{r['train seconds']:.0f} |"
        )
    (out / "ttq.md").write_text("\n".join(lines) + "\n")
    for curves, metric, name in ((curves_fd, FD, "ttq_fd.png"), (curves_mse, "MSE", "ttq_mse.png")):
        plot_curves(curves, out / name, metric, "twitter -> google, held out", xlabel="training seconds")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
