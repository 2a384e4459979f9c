"""Time to quality: held-out FD-EffNetLite0 and MSE against training seconds, for recipes run side by side.

    git worktree add ../monge-cc59a2b cc59a2b
    python benchmarks/time_to_quality.py --recipes demo --baseline ../monge-cc59a2b --seeds 0 1 --out results/ttq

Each recipe is ``monge demo``'s configuration (twitter -> google, the default split) with some
options changed (``RECIPES``, or ``--recipe NAME JSON``); ``--baseline CHECKOUT`` adds the demo of
another commit, run from that checkout's code. The runs go ``--parallel`` at a time (default: one
per core), one process and one thread each, so that they share the machine alike, and each is
timed the same way whatever its commit (``timed_train.py``). Each evaluates ``--evaluations``
times; a point's seconds are the training seconds of its run (the pairing and the warm start
included, the evaluations left out). Reports, per recipe and seed: the seconds until FD <= 265 and
MSE <= 0.21 both hold and keep holding, the final scores, the end-to-end seconds, the peak memory
and the CPU, as ``ttq.json`` and ``ttq.md``, with the curves in ``ttq_fd.png`` and ``ttq_mse.png``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from functools import partial
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


def demo_settings(checkout: Path, steps: int, seed: int) -> dict:
    """``demo_config(steps, seed)`` of the monge in ``checkout``, as a dict."""
    code = "import json, sys; from monge.train.config import demo_config; "
    code += f"print(json.dumps(demo_config(steps={steps}, seed={seed}).to_dict()))"
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=checkout, check=True, capture_output=True)
    return json.loads(done.stdout)


def launch(name: str, checkout: Path, changes: dict, seed: int, evaluations: int, out: Path) -> subprocess.Popen:
    """``monge demo``'s configuration of ``checkout`` with ``changes``, as a one-thread ``monge train``."""
    steps = changes.get("steps", 300)
    cfg = {**demo_settings(checkout, steps, seed), **changes, "eval_every": max(1, steps // evaluations)}
    cfg.update(out=str(out / name / f"seed{seed}"), logger="csv", device="cpu")
    config = out / name / f"seed{seed}.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(cfg))
    timer = Path(__file__).with_name("timed_train.py")
    command = [sys.executable, str(timer), str(out / name / f"seed{seed}.times.json"), "--"]
    command += ["--threads", "1", "train", "--config", str(config), "--out", cfg["out"], "--json"]
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve()), "OMP_NUM_THREADS": "1"}
    log = open(out / name / f"seed{seed}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def run_all(jobs: dict, parallel: int) -> list:
    """Run ``jobs`` (key -> a function that starts a process) ``parallel`` at a time; the failed keys."""
    waiting, running, failed = list(jobs), {}, []
    while waiting or running:
        while waiting and len(running) < parallel:
            key = waiting.pop(0)
            running[key] = jobs[key]()
        time.sleep(2)
        for key, process in list(running.items()):
            if process.poll() is not None:
                failed += [key] if process.returncode else []
                del running[key]
    return failed


def commit_of(checkout: Path) -> str:
    """The short commit of a git checkout."""
    return subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def identity_scores(out: Path, rows: list[dict]) -> dict:
    """The identity map's held-out scores, as the first finished run measured them (none if none did)."""
    done = [r for r in rows if not r.get("failed")]
    if not done:
        return {}
    summary = json.loads((out / done[0]["recipe"] / f"seed{done[0]['seed']}" / "summary.json").read_text())
    return summary["baselines"]["identity"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="*", default=["demo"], help=f"of {', '.join(RECIPES)}")
    p.add_argument("--recipe", nargs=2, action="append", default=[], metavar=("NAME", "JSON"), help="another recipe")
    p.add_argument("--baseline", type=Path, help="a checkout of another commit: its demo runs beside")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--evaluations", type=int, default=10, help="evaluations along each run")
    p.add_argument("--parallel", type=int, default=os.cpu_count() or 1, help="runs at once, one thread each")
    p.add_argument("--fd", type=float, default=265.0)
    p.add_argument("--mse", type=float, default=0.21)
    p.add_argument("--out", default="results/ttq")
    p.add_argument("--collect", action="store_true", help="only report the runs already in --out")
    args = p.parse_args()
    here = Path(__file__).resolve().parents[1]
    recipes = {name: (here, RECIPES[name]) for name in args.recipes}
    recipes |= {n: (here, json.loads(j)) for n, j in args.recipe}
    if args.baseline:
        recipes[f"demo-{commit_of(args.baseline)}"] = (args.baseline, {})
    out = Path(args.out)
    t0 = time.perf_counter()
    starters = {
        (name, seed): partial(launch, name, checkout, changes, seed, args.evaluations, out)
        for seed in args.seeds
        for name, (checkout, changes) in recipes.items()
    }
    failed = [] if args.collect else run_all(starters, args.parallel)
    rows, curves_fd, curves_mse = [], {}, {}
    for name, seed in starters:
        if (name, seed) in failed or not (out / name / f"seed{seed}.times.json").exists():
            rows.append({"recipe": name, "seed": seed, "failed": True})
            continue
        history = CSVLog(out / name / f"seed{seed}" / "eval.csv").read()
        times = json.loads((out / name / f"seed{seed}.times.json").read_text())
        for row, timed in zip(history, times["evaluations"], strict=True):
            row["train_seconds"] = timed["train_seconds"]
        xs = [float(r["train_seconds"]) for r in history]
        curves_fd[f"{name} seed {seed}"] = (xs, [r[FD] for r in history])
        curves_mse[f"{name} seed {seed}"] = (xs, [r[MSE] for r in history])
        rows.append(
            {
                "recipe": name,
                "seed": seed,
                "changes": recipes[name][1],
                "commit": times["commit"],
                "seconds to quality": seconds_to_quality(history, args.fd, args.mse),
                "final FD": history[-1][FD],
                "final MSE": history[-1][MSE],
                "train seconds": xs[-1],
                "wall seconds": times["wall_seconds"],
                "peak MB": times["peak_mb"],
                "curve": [(x, r[FD], r[MSE]) for x, r in zip(xs, history)],
            }
        )
    identity = identity_scores(out, rows)
    result = {"cpu": cpu_name(), "threads per run": 1, "runs at once": args.parallel, "identity": identity}
    result.update(rows=rows, wall_seconds=round(time.perf_counter() - t0, 1))
    (out / "ttq.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"FD <= {args.fd} and MSE <= {args.mse}, held out; {result['cpu']}, one thread per run, "
        f"{args.parallel} runs at once.",
        "",
        "| recipe | commit | seed | seconds to quality | final FD | final MSE | train seconds | wall seconds | peak MB"
        " |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if identity:
        lines.append(f"| identity (baseline) | | | - | {identity[FD]:.1f} | {identity[MSE]:.4f} | 0 | | |")
    for r in rows:
        if r.get("failed"):
            lines.append(f"| {r['recipe']} | | {r['seed']} | failed (see its log) | | | | | |")
            continue
        reached = "not reached" if r["seconds to quality"] is None else f"{r['seconds to quality']:.0f}"
        lines.append(
            f"| {r['recipe']} | {r['commit']} | {r['seed']} | {reached} | {r['final FD']:.1f} | {r['final MSE']:.4f} | "
            f"{r['train seconds']:.0f} | {r['wall seconds']:.0f} | {r['peak MB']} |"
        )
    (out / "ttq.md").write_text("\n".join(lines) + "\n")
    for curves, metric, name, key, target in (
        (curves_fd, FD, "ttq_fd.png", FD, args.fd),
        (curves_mse, "MSE", "ttq_mse.png", MSE, args.mse),
    ):
        levels = {"identity (baseline)": identity[key]} if identity else {}
        plot_curves(
            curves, out / name, metric, "twitter -> google, held out", "training seconds", levels | {"target": target}
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
