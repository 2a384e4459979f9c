"""Optimal transport: transport costs (costs), networks for maps and potentials (nets), what every
solver shares (trainer), the update rules of NOT (solver) and ENOT (enot), augmentations of the
potential's inputs (augment) and NOT auto-encoders (autoencoder). Nothing here knows about files or
runs."""
