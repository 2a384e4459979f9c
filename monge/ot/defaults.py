"""The solvers' option names and default values, torch-free so that the configuration (and ``monge
--help``) read them without importing torch. The modules that implement them import them from here."""

COST_NAMES = ("strong", "weak", "l1", "perceptual")  # monge.ot.costs.COSTS, in this order
PAIRINGS = ("pixels", "pixels+effnet")  # the discrete OT pairs' costs (monge.ot.discrete)
PAIR_LOSSES = ("l1", "l2")  # the error a map's fit to those pairs minimises (monge.ot.discrete, monge.ot.optim)
SOLVERS = ("not", "enot")  # the update rules: monge.ot.solver.NOT, monge.ot.enot.ENOT

EXPECTILE = 0.99  # ENOT's tau: the paper's value for the W2 benchmark and for images
EXPECTILE_WEIGHT = 1.0  # ENOT's regularisation weight: ott-jax's default, inside the paper's range [0.3, 1]
T_STEPS = 10  # NOT's map updates per potential update: the paper's, on images and on the W2 benchmark
