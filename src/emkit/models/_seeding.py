"""k-means++ seeding (Arthur & Vassilvitskii 2007) in its greedy form.

The same draws as :func:`sklearn.cluster.kmeans_plusplus` for the same ``RandomState``, so a
seed gives the same centres (``tests/test_kmeans.py`` checks it), without importing
scikit-learn (about a second) on the way to a k-means or Gaussian-mixture fit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kmeans_plusplus"]


def _sq_dist(C: np.ndarray, X: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Squared distances of every row of ``X`` to each row of ``C``: shape (len(C), n)."""
    # the same operations in the same order as scikit-learn's, so that ties and near-ties
    # between candidates resolve the same way
    d = -2.0 * (C @ X.T)
    d += np.einsum("ij,ij->i", C, C)[:, None]
    d += x2[None, :]
    np.maximum(d, 0.0, out=d)
    return d


def kmeans_plusplus(
    X: np.ndarray,
    n_clusters: int,
    *,
    random_state: np.random.RandomState,
    sample_weight: np.ndarray | None = None,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``n_clusters`` rows of ``X`` as starting centres by greedy k-means++.

    The first centre is a row drawn with probability proportional to its weight; each next one
    is the best (lowest weighted potential) of ``n_local_trials`` rows drawn with probability
    proportional to weight times squared distance to the nearest centre so far.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_clusters : int
    random_state : numpy.random.RandomState
    sample_weight : ndarray of shape (n_samples,), optional
    n_local_trials : int, optional
        Candidates per centre; default ``2 + int(log(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        Rows of ``X`` chosen as centres.
    """
    n = X.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    trials = 2 + int(np.log(n_clusters)) if n_local_trials is None else n_local_trials
    Xd = np.asarray(X, dtype=np.float64)
    x2 = np.einsum("ij,ij->i", Xd, Xd)
    indices = np.full(n_clusters, -1, dtype=np.intp)
    indices[0] = random_state.choice(n, p=w / w.sum())
    closest = _sq_dist(Xd[indices[:1]], Xd, x2)[0]
    potential = (closest[None, :] @ w)[0]
    for c in range(1, n_clusters):
        draws = random_state.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(w * closest), draws)
        np.clip(candidates, None, n - 1, out=candidates)
        dist = _sq_dist(Xd[candidates], Xd, x2)
        np.minimum(closest, dist, out=dist)
        pots = (dist @ w.reshape(-1, 1))[:, 0]  # a matrix product, as scikit-learn's
        best = int(np.argmin(pots))
        potential, closest = pots[best], dist[best]
        indices[c] = candidates[best]
    return X[indices].copy(), indices
