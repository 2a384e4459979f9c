#!/usr/bin/env bash
# The peers' own virtual environments: never monge dependencies, never imported by monge.
#   benchmarks/peers/setup.sh            # creates benchmarks/peers/.venv-ott with ott-jax (JAX on the CPU)
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv-ott
.venv-ott/bin/pip install -q "ott-jax[neural]==0.6.0" numpy
.venv-ott/bin/python -c "import ott, jax; print('ott-jax', ott.__version__, 'jax', jax.__version__)"
