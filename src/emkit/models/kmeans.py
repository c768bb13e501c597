r"""k-means as hard EM on the engine: Lloyd's algorithm is classification EM of a mixture.

With ``log p(x_i, z_i = k) = -|x_i - mu_k|^2 / 2`` (unit-variance spherical Gaussians with equal
weights, constants dropped), the hard E-step assigns each row to its nearest centre, the M-step
moves each centre to the (weighted) mean of its rows, and the engine's classification objective
``sum_i max_k log p(x_i, z_i = k)`` is exactly ``-inertia / 2``. Lloyd iterations are therefore
the engine's hard EM; ``hard=False`` gives soft k-means (a mixture of unit-variance Gaussians).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from emkit._validation import ARRAY, Constraint, interval, one_of
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import ParameterError
from emkit.models._blocks import block_starts, reduce_blocks, sq_rows, stable_shift
from emkit.stats import Stats

__all__ = ["KMeans", "KMeansParams"]


@dataclass(frozen=True)
class KMeansParams:
    """Parameters of k-means.

    Attributes
    ----------
    cluster_centers : ndarray of shape (n_clusters, n_features)
    """

    cluster_centers: np.ndarray


def _block_rows(n_clusters: int, n_features: int) -> int:
    return int(max(256, min(16384, 2**17 // max(1, n_clusters))))


@dataclass
class _Partial:
    """Partial E-step result of a run of blocks."""

    loglik: float
    nk: np.ndarray
    sx: np.ndarray

    @staticmethod
    def add(a: _Partial, b: _Partial) -> _Partial:
        return _Partial(a.loglik + b.loglik, a.nk + b.nk, a.sx + b.sx)


class KMeans(ClusterMixin, TransformerMixin, MixtureEstimator[KMeansParams]):
    r"""k-means clustering (Lloyd's algorithm) as hard EM on the emkit engine.

    Minimises the inertia ``sum_i w_i min_k |x_i - mu_k|^2``. From the same initial centres it
    gives the same centres, labels and inertia as ``sklearn.cluster.KMeans(algorithm='lloyd')``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K (also available as ``n_components``).
    init : {'k-means++', 'random'} or array-like of shape (n_clusters, n_features), \
default='k-means++'
        'k-means++' seeds with :func:`sklearn.cluster.kmeans_plusplus`; 'random' picks K distinct
        rows (with probability proportional to the sample weight); an array gives the centres.
    n_init : int, default=1
        Number of seedings; the run with the lowest inertia is kept.
    max_iter : int, default=300
        Maximum number of Lloyd iterations.
    tol : float, default=1e-12
        Stop when half the inertia per unit of sample weight changes by less than ``tol``. At a
        fixed point of Lloyd's algorithm (no row changes cluster) the centres repeat bit for bit
        and the change is exactly 0, so the default stops there for data on ordinary scales;
        with tiny-valued features (squared distances below ~1e-10) lower it or scale the data.
    hard : bool, default=True
        False gives soft k-means (EM for unit-variance spherical Gaussians with equal weights).
    random_state : int, RandomState or None, default=None
    warm_start : bool, default=False
        Start the next ``fit`` from the current centres.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Weighted sum of squared distances of the rows to their closest centre.
    n_iter_ : int

    Notes
    -----
    A cluster that loses all its rows keeps its previous centre (scikit-learn instead moves it to
    a far-away row); the inertia never increases either way.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.models import KMeans
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> km = KMeans(2, random_state=0).fit(X)
    >>> float(km.inertia_)
    1.0
    """

    params_type = KMeansParams

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_clusters": interval(int, 1, None),
        "init": one_of({"k-means++", "random"}) | ARRAY,
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-12,
        hard: bool = True,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    @property
    def n_components(self) -> int:
        """Number of clusters (the name the mixture base class uses)."""
        return self.n_clusters

    @n_components.setter
    def n_components(self, value: int) -> None:
        self.n_clusters = value

    # -- data -----------------------------------------------------------------------------
    def _validate_data(self, X: Any, *, reset: bool, **unexpected: Any) -> tuple[np.ndarray, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        return (np.asarray(X),)

    def _user_centers(self) -> np.ndarray:
        C = np.asarray(self.init, dtype=np.float64)
        shape = (self.n_clusters, self.n_features_in_)
        if C.shape != shape:
            raise ParameterError(f"init centres must have shape {shape}, got {C.shape}")
        if not np.all(np.isfinite(C)):
            raise ParameterError("init centres must be finite")
        return C

    def _initial_params(self) -> KMeansParams | None:
        warm = super()._initial_params()
        if warm is not None or isinstance(self.init, str):
            return warm
        return KMeansParams(self._user_centers())

    # -- engine hooks ---------------------------------------------------------------------
    def init_params(self, batch: Batch, rng: np.random.RandomState) -> KMeansParams:
        X, w = batch.X, batch.weight
        if self.init == "random":
            rows = rng.choice(batch.n_rows, size=self.n_clusters, replace=False, p=w / w.sum())
            return KMeansParams(X[rows].astype(np.float64))
        from sklearn.cluster import kmeans_plusplus

        centers, _ = kmeans_plusplus(X, self.n_clusters, sample_weight=w, random_state=rng)
        return KMeansParams(np.asarray(centers, dtype=np.float64))

    def _frame(self, params: KMeansParams, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """The shift and the matrix ``A`` with ``[x - shift, 1] @ A = |mu_k|^2 - 2 (x . mu_k)``
        (centres relative to the shift): one GEMM gives the distances up to ``|x|^2``."""
        C = params.cluster_centers
        shift = stable_shift(C)
        Cc = C - shift
        A = np.vstack([-2.0 * Cc.T, sq_rows(Cc)[None, :]])
        return shift.astype(dtype), np.ascontiguousarray(A, dtype=dtype)

    def _half_dist(
        self, X: np.ndarray, frame: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Shifted rows (with a column of ones) and ``|x - mu_k|^2 - |x|^2`` for every k."""
        shift, A = frame
        n, d = X.shape
        Xa = np.empty((n, d + 1), dtype=X.dtype)
        np.subtract(X, shift, out=Xa[:, :d])
        Xa[:, d] = 1.0
        return Xa, Xa @ A

    def log_joint(self, batch: Batch, params: KMeansParams) -> np.ndarray:
        Xa, G = self._half_dist(batch.X, self._frame(params, batch.X.dtype))
        G += sq_rows(Xa)[:, None] - 1.0
        np.maximum(G, 0.0, out=G)
        G *= -0.5
        return G

    def e_step(self, batch: Batch, params: KMeansParams, ctx: StepContext) -> Stats:
        X, weight = batch.X, batch.weight
        n, d = X.shape
        K = self.n_clusters
        frame = self._frame(params, X.dtype)
        step = _block_rows(K, d)

        def block(s: int) -> _Partial:
            w = weight[s : s + step]
            Xa, G = self._half_dist(X[s : s + step], frame)
            x2 = sq_rows(Xa) - 1.0  # |x - shift|^2 (the column of ones adds 1)
            if ctx.hard:
                # the arg-max of ctx.posterior; the rows of each cluster (and the column of
                # ones, giving n_k) are then summed by one bincount over (label, feature) cells
                rows = np.arange(len(w))
                labels = np.argmin(G, axis=1)
                best = G[rows, labels]
                best += x2
                loglik = -0.5 * float(np.dot(w, np.maximum(best, 0.0)))
                cells = (labels[:, None] * (d + 1) + np.arange(d + 1)).ravel()
                sums = np.bincount(
                    cells, weights=(Xa * w[:, None]).ravel(), minlength=K * (d + 1)
                ).reshape(K, d + 1)
                sx, nk = sums[:, :d], sums[:, d]
            else:
                G += x2[:, None]
                np.maximum(G, 0.0, out=G)
                G *= -0.5
                resp, log_norm = ctx.posterior(G)
                resp *= w[:, None]
                loglik = float(np.dot(w, log_norm))
                nk = resp.sum(axis=0, dtype=np.float64)
                sx = resp.T @ Xa[:, :d]
            return _Partial(loglik, nk.astype(np.float64), sx.astype(np.float64))

        total = reduce_blocks(block, _Partial.add, block_starts(n, step), n * K)
        # first moments about the shift; the M-step adds it back
        return Stats(
            loglik=total.loglik,
            weight=float(np.sum(weight, dtype=np.float64)),
            nk=total.nk,
            sx=total.sx,
        )

    def accumulate(self, batch: Batch, resp: np.ndarray, params: KMeansParams) -> Stats:
        shift = stable_shift(params.cluster_centers)
        return Stats(nk=resp.sum(axis=0, dtype=np.float64), sx=resp.T @ (batch.X - shift))

    def m_step(self, stats: Stats, params: KMeansParams, ctx: StepContext) -> KMeansParams:
        nk, sx = stats["nk"], stats["sx"]
        shift = stable_shift(params.cluster_centers)
        empty = nk <= 0
        with np.errstate(invalid="ignore", divide="ignore"):
            centers = sx / nk[:, None] + shift
        centers = np.where(empty[:, None], params.cluster_centers, centers)
        return KMeansParams(centers)

    # -- fitted model ---------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, **kw: Any) -> KMeans:
        """Run Lloyd's algorithm (hard EM); see :meth:`emkit.base.EMEstimator.fit`."""
        super().fit(X, y, sample_weight, **kw)
        Xv = np.asarray(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        dist = -2.0 * self.log_joint(Batch((Xv,), np.ones(len(Xv))), self.params_)
        self.labels_ = np.argmin(dist, axis=1)
        w = np.ones(len(Xv)) if sample_weight is None else np.asarray(sample_weight, float)
        self.inertia_ = float(np.dot(w, dist[np.arange(len(Xv)), self.labels_]))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row to each centre: shape (n_samples, n_clusters)."""
        return np.sqrt(-2.0 * self._log_joint_checked(X, {}))

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the distances of the training rows to the centres."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None, **fit_data: Any) -> float:
        """Opposite of the inertia of ``X`` (as scikit-learn's ``KMeans.score``)."""
        dist = -2.0 * self._log_joint_checked(X, fit_data)
        best = dist.min(axis=1)
        return -float(np.dot(np.ones_like(best) if sample_weight is None else sample_weight, best))

    def _fitted_state(self) -> Any:
        return {**super()._fitted_state(), "inertia_": float(self.inertia_)}

    def _n_parameters(self) -> int:
        check_is_fitted(self, "params_")
        return int(self.params_.cluster_centers.size)

    def _component_weights(self, params: KMeansParams) -> np.ndarray:
        return np.full(self.n_clusters, 1.0 / self.n_clusters)

    def _sample(
        self, params: KMeansParams, labels: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, ...]:
        C = params.cluster_centers
        return (C[labels] + rng.standard_normal((labels.shape[0], C.shape[1])),)
