"""The ``monge`` command line (``monge --help``; also ``python -m monge``): see :mod:`monge.cli.main`."""

import os

# Before torch loads its OpenMP runtime: threads that run out of work sleep instead of spinning.
# Spinning threads of two jobs on a small machine steal each other's cores: on a 2-core EPYC two
# jobs ran 3.5x slower each than one alone with OpenMP's default, 1.9x with PASSIVE (which costs a
# job alone about 20 %; benchmarks/contention.py). A user's own setting wins: OMP_WAIT_POLICY=ACTIVE
# when the machine is yours alone.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
