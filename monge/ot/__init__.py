"""Optimal transport: transport costs (costs), networks for maps and potentials (nets), the NOT
max-min solver (solver), augmentations of the potential's inputs (augment) and NOT auto-encoders
(autoencoder). Nothing here knows about files or runs."""
