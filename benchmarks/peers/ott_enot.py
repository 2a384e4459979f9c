"""ott-jax's ENOT (``ExpectileNeuralDual``) on samples given as an .npz, for a wall-clock budget.

Runs in the peers' own environment (``setup.sh``), never in monge's:

    .venv-ott/bin/python ott_enot.py problem.npz mapped.npz --seconds 600 --batch 1024

``problem.npz`` holds ``source`` and ``target`` sample pools (N x D) and ``x_eval``; ``mapped.npz``
gets ``mapped`` (the map on ``x_eval``), ``steps`` and ``seconds`` (training only). As ott-jax
0.6.0's own ``train_fn`` does, the two potentials (3 x 256 ELU MLPs here) are updated in turn,
forward on even steps and backward on odd ones, with ott-jax's default Adam.
"""

import argparse
import time

import jax
import numpy as np
from ott.neural.methods.expectile_neural_dual import ExpectileNeuralDual
from ott.neural.networks import potentials


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("problem")
    p.add_argument("out")
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    data = np.load(args.problem)
    source, target, x_eval = data["source"], data["target"], data["x_eval"]
    dim = source.shape[1]
    h = args.hidden
    solver = ExpectileNeuralDual(
        dim,
        neural_f=potentials.MLP(dim_hidden=[h, h, h, 1], act_fn=jax.nn.elu),
        neural_g=potentials.MLP(dim_hidden=[h, h, h, 1], act_fn=jax.nn.elu),
        rng=jax.random.PRNGKey(args.seed),
    )
    rng = np.random.default_rng(args.seed)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        x = source[rng.integers(len(source), size=args.batch)]
        y = target[rng.integers(len(target), size=args.batch)]
        if steps % 2 == 0:  # forward: f maps source to target
            solver.state_f, solver.state_g, *_ = solver.train_step(
                solver.state_f, solver.state_g, {"source": x, "target": y}
            )
        else:  # backward: g maps target to source
            solver.state_g, solver.state_f, *_ = solver.train_step(
                solver.state_g, solver.state_f, {"source": y, "target": x}
            )
        steps += 1
    jax.block_until_ready(solver.state_f.params)
    seconds = time.perf_counter() - start
    mapped = np.asarray(solver.to_dual_potentials().transport(x_eval))
    np.savez(args.out, mapped=mapped, steps=steps, seconds=seconds)
    print(f"ott-jax ENOT: {steps} steps in {seconds:.0f} s")


if __name__ == "__main__":
    main()
