"""Training runs on image collections: the configuration (config), building and loading solvers
(factory), held-out evaluation (evaluate), callbacks around the steps (callbacks), the loop (loop)
and stacks of maps (stack)."""
