"""The cpu preset's T-step and f-step with this checkout's defaults against another checkout's, side by side.

    git worktree add /tmp/ee87729 ee87729
    python benchmarks/step_compare.py --compare /tmp/ee87729 --repeats 3

Each measurement is a fresh process (``PYTHONPATH`` set to the checkout) that builds the cpu
preset's solver with that checkout's *default* options (what ``monge train --preset cpu`` would
run) at ``--size`` and ``--batch``, and takes the median of ``--steps`` updates after warm-up. The
two checkouts alternate ``--repeats`` times, so that both meet the same machine; the table gives
the median of the repeats and the ratio.
"""

import argparse
import json
import statistics
from pathlib import Path

import torch
from style_speed import in_checkout  # the sibling script (python puts its folder first on the path)

from monge.engine import cpu_name

ROOT = Path(__file__).resolve().parents[1]

STEP = """
import json, statistics, sys, time, torch
try:
    from monge.train.config import TrainConfig
    from monge.train.factory import build_solver
except ImportError:  # checkouts before the layout by concern
    from monge.train import TrainConfig, build_solver
from monge.engine import make_fabric
args = json.loads(sys.argv[1])
cfg = TrainConfig(source="-", target="-", preset="cpu", size=args["size"], batch_size=args["batch"], device="cpu")
fabric = make_fabric("cpu", precision=cfg.precision)
torch.manual_seed(0)
solver = build_solver(cfg, fabric)
x = torch.rand(args["batch"], 3, args["size"], args["size"]) * 2 - 1
y = torch.rand(args["batch"], 3, args["size"], args["size"]) * 2 - 1
def median(fn):
    fn()
    times = []
    for _ in range(args["steps"]):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
t, f = median(lambda: solver.t_update(x)), median(lambda: solver.f_update(x, y))
import monge
print(json.dumps({"T_step_s": t, "f_step_s": f, "precision": cfg.precision, "code": monge.__file__}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", type=Path, required=True, help="another checkout (e.g. a worktree of ee87729)")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=10, help="updates timed per process (the median is kept)")
    p.add_argument("--repeats", type=int, default=3, help="processes per checkout, alternating")
    args = p.parse_args()
    job = {"size": args.size, "batch": args.batch, "steps": args.steps}
    checkouts = {"this": ROOT, "compare": args.compare.resolve()}
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.repeats):
        for name, checkout in checkouts.items():
            runs[name].append(in_checkout(checkout, STEP, job))
    medians = {
        name: {key: statistics.median(r[key] for r in rows) for key in ("T_step_s", "f_step_s")}
        for name, rows in runs.items()
    }
    report = {
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        **job,
        "compare": str(args.compare),
        "precision": {name: rows[0]["precision"] for name, rows in runs.items()},
        "runs": runs,
        "median": medians,
        "T_step_speedup": round(medians["compare"]["T_step_s"] / medians["this"]["T_step_s"], 2),
        "f_step_speedup": round(medians["compare"]["f_step_s"] / medians["this"]["f_step_s"], 2),
    }
    print("| checkout | precision | T-step (s) | f-step (s) |\n|---|---|---|---|")
    for name, checkout in checkouts.items():
        m = medians[name]
        print(f"| {checkout} | {report['precision'][name]} | {m['T_step_s']:.3f} | {m['f_step_s']:.3f} |")
    print(f"T-step {report['T_step_speedup']}x, f-step {report['f_step_speedup']}x faster than {args.compare}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
