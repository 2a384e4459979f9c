"""The ``monge`` command line (``monge --help``; also ``python -m monge``): see :mod:`monge.cli.main`."""

import os

# Before torch loads its OpenMP runtime: threads that run out of work sleep instead of spinning.
# Spinning threads of two jobs on a small machine steal each other's cores (16x slower steps,
# measured in benchmarks/contention.py); a sleeping thread gives its core back. A user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
