"""Benchmarks with a known answer (w2: the continuous W2 benchmark) and the trivial baselines that
every method is shown beside (baselines)."""
