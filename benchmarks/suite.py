"""The translation suite: one recipe on every task with hidden pairs (emoji both ways, DejaVu fonts).

    python benchmarks/suite.py --seeds 0 1 --out results/suite
    python benchmarks/suite.py --tasks sans-serif serif-sans --recipe '{"solver": "enot"}' --out results/suite-enot

The same as ``monge bench suite`` (see :mod:`monge.bench.suite`): per task and seed, the map is
trained with ``monge train``'s defaults plus ``--recipe`` and scored at the checkpoint ``monge
train`` hands out (chosen on the validation split cut from the training images) beside the identity,
the Gaussian colour OT, CycleGAN and the supervised ceiling (both at the map's wall clock). Writes
``suite.json``, ``suite.md`` and ``report.html`` under ``--out``.
"""

import sys

from monge.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", "suite", *sys.argv[1:]]))
