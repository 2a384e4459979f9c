"""The closed-form OT map between two Gaussians (Bures-Wasserstein), with scipy's matrix square root.

For N(m_s, S_s) -> N(m_t, S_t) the quadratic-cost OT map is x -> m_t + A (x - m_s) with the symmetric
A = S_s^-1/2 (S_s^1/2 S_t S_s^1/2)^1/2 S_s^-1/2. It is the colour-transfer baseline of every run and
the best linear map of the W2 benchmark.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg


def gaussian_ot_map(
    mean_s: np.ndarray, cov_s: np.ndarray, mean_t: np.ndarray, cov_t: np.ndarray, eps: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """``A, b`` such that the OT map of row vectors is ``x @ A + b`` (``A`` symmetric)."""
    cov_s = np.atleast_2d(cov_s) + eps * np.eye(len(np.atleast_2d(cov_s)))
    root = np.real(scipy.linalg.sqrtm(cov_s))
    inv_root = np.linalg.inv(root)
    middle = np.real(scipy.linalg.sqrtm(root @ np.atleast_2d(cov_t) @ root))
    A = inv_root @ middle @ inv_root
    A = (A + A.T) / 2
    return A, np.asarray(mean_t) - np.asarray(mean_s) @ A


def fit_gaussian_ot(xs: np.ndarray, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gaussian_ot_map` between the Gaussian fits of two samples (rows are points)."""
    return gaussian_ot_map(xs.mean(0), np.cov(xs.T), xt.mean(0), np.cov(xt.T))
