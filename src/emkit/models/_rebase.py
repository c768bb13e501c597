"""Moments taken about one point (or in one whitened frame) re-expressed about another.

The Gaussian mixture and k-means accumulate their moments about a point (or in a whitened frame)
taken from the current parameters, which keeps them accurate on data far from the origin. Online
EM (:mod:`emkit.online`) carries statistics from one set of parameters to the next, so it needs
them in the frame of the new parameters: an exact change of origin (and of basis), done here.
"""

from __future__ import annotations

import numpy as np

from emkit.stats import Stats

__all__ = ["moved_moments", "moved_whitened"]


def moved_moments(stats: Stats, delta: np.ndarray, *, tied: bool = False) -> Stats:
    """``nk``, ``sx`` and (optionally) ``sxx`` about ``a`` re-expressed about ``b = a - delta``.

    With ``z = x - a`` and ``z' = x - b = z + delta``: ``sx' = sx + nk delta`` and, for the
    per-component elementwise squares (diag, spherical), ``sxx' = sxx + 2 sx delta + nk delta^2``;
    for the pooled (d, d) second moment (tied), ``sxx' = sxx + S delta^T + delta S^T + N delta
    delta^T`` with ``S = sum_k sx_k`` and ``N = sum_k nk``.
    """
    if not np.any(delta):
        return stats
    nk = np.asarray(stats["nk"], dtype=np.float64)
    sx = np.asarray(stats["sx"], dtype=np.float64)
    changes = {"sx": sx + nk[:, None] * delta}
    if "sxx" in stats:
        sxx = np.asarray(stats["sxx"], dtype=np.float64)
        if tied:
            S = sx.sum(axis=0)
            cross = np.outer(S, delta)
            changes["sxx"] = sxx + cross + cross.T + nk.sum() * np.outer(delta, delta)
        else:
            changes["sxx"] = sxx + 2.0 * sx * delta + nk[:, None] * delta**2
    return stats.replace(**changes)


def moved_whitened(
    W: np.ndarray,
    means: np.ndarray,
    prec_chol: np.ndarray,
    new_means: np.ndarray,
    new_prec_chol: np.ndarray,
) -> np.ndarray:
    """Augmented whitened moments ``W_k = sum_i r_ik [y_ik, 1]^T [y_ik, 1]`` with
    ``y_ik = (x_i - mu_k) L_k`` re-expressed for ``(mu'_k, L'_k)``.

    ``[y', 1] = [y, 1] T_k`` with ``T_k = [[L_k^{-1} L'_k, 0], [(mu_k - mu'_k) L'_k, 1]]``, so
    ``W'_k = T_k^T W_k T_k``.
    """
    K, d, _ = prec_chol.shape
    T = np.zeros((K, d + 1, d + 1))
    T[:, :d, :d] = np.linalg.solve(prec_chol, new_prec_chol)
    T[:, d, :d] = np.einsum("kd,kde->ke", means - new_means, new_prec_chol)
    T[:, d, d] = 1.0
    Wn = np.matmul(np.matmul(T.transpose(0, 2, 1), W), T)
    return 0.5 * (Wn + Wn.transpose(0, 2, 1))
