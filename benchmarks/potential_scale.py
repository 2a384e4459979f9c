"""How much of the map's objective is the potential: |grad f| against |grad cost| at T(x).

    python benchmarks/potential_scale.py --runs runs/demo runs/other --images 64

The map minimises E cost(x, T(x)) - E f(T(x)). At the optimum the two gradients at T(x) are equal;
a potential that has outgrown the cost makes the map ignore its input. For each run, at its last
checkpoint and at the same configuration's untrained start, this prints both terms and the norms
of their gradients with respect to T(x), on the first ``--images`` images of the run's source
domain (the map averaged if the run keeps a moving average; f on augmented inputs, as in training).
"""

import argparse
import json

import torch

from monge.data.domains import open_domain
from monge.ot.solver import NOT
from monge.train.factory import build_solver, load_solver


def terms(solver: NOT, T: torch.nn.Module, x: torch.Tensor) -> dict[str, float]:
    """The cost and potential terms of the map's objective at T(x), and their gradients' norms."""
    tx = T(x).detach().requires_grad_(True)
    cost, potential = solver.cost(x, tx).mean(), solver.f(solver.augment(tx)).mean()
    (grad_cost,) = torch.autograd.grad(cost, tx)
    (grad_f,) = torch.autograd.grad(potential, tx)
    return {
        "cost": cost.item(),
        "f": potential.item(),
        "grad_cost": grad_cost.norm().item(),
        "grad_f": grad_f.norm().item(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--images", type=int, default=64)
    args = p.parse_args()
    print("| run | when | cost | f | \\|grad cost\\| | \\|grad f\\| | ratio |")
    print("|---|---|---|---|---|---|---|")
    for run in args.runs:
        torch.manual_seed(0)
        solver, cfg = load_solver(run, "last", device="cpu")
        x = open_domain(cfg.source, cfg.size).source.tensor(limit=args.images)
        start = build_solver(cfg)
        rows = {"last": terms(solver, solver.map_net.eval(), x), "start": terms(start, start.T.eval(), x)}
        for when, t in rows.items():
            ratio = t["grad_f"] / t["grad_cost"] if t["grad_cost"] else float("inf")
            numbers = f"{t['cost']:.4f} | {t['f']:.3g} | {t['grad_cost']:.3g} | {t['grad_f']:.3g} | {ratio:.3g}"
            print(f"| {run} | {when} | {numbers} |")
        print(json.dumps({"run": run, **rows}))


if __name__ == "__main__":
    main()
