"""Default values of the solvers' options, torch-free so that the configuration (and ``monge --help``)
can read them without importing torch."""

EXPECTILE = 0.99  # ENOT's tau: the paper's value for the W2 benchmark and for images
EXPECTILE_WEIGHT = 1.0  # ENOT's regularisation weight: ott-jax's default, inside the paper's range [0.3, 1]
