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
from scipy import sparse

from emkit import _kernels
from emkit._sklearn_api import ClusterMixin, TransformerMixin, check_is_fitted, validate_data
from emkit._validation import ARRAY, Constraint, check_squares_finite, interval, one_of
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import ParameterError
from emkit.models._blocks import block_starts, reduce_blocks, sq_rows, stable_shift
from emkit.models._rebase import moved_moments
from emkit.models._seeding import kmeans_plusplus
from emkit.sources import as_source, is_dask_collection
from emkit.stats import Stats

#: Lloyd's step as GEMM plus one compiled pass (numba) when numba is installed
_USE_KERNELS = _kernels.HAVE_NUMBA

#: rows per block of the labels pass after a fit on rows outside memory
_LABEL_BLOCK_ROWS = 65536


try:  # SciPy's sparse kernels (stable since SciPy 1.8); the public API is the fallback
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:  # pragma: no cover
    _csc_matvecs = None

__all__ = ["KMeans", "KMeansParams"]


@dataclass(frozen=True)
class KMeansParams:
    """Parameters of k-means.

    Attributes
    ----------
    cluster_centers : ndarray of shape (n_clusters, n_features)
    """

    cluster_centers: np.ndarray


def _shift(centers: np.ndarray) -> np.ndarray:
    """The point the rows are measured from: :func:`stable_shift` of the centres, or the origin
    when that lies within the centres' spread (shifting would then gain at most a factor of a
    few in cancellation, and cost a pass over the rows)."""
    shift = stable_shift(centers)
    spread = float(np.max(np.ptp(centers, axis=0)))
    if float(np.max(np.abs(shift))) <= spread:
        return np.zeros_like(shift)
    return shift


def _chunk_rows(n_clusters: int, itemsize: int) -> int:
    """Rows whose ``(rows, K)`` distance block takes about 512 KiB (a core's L2 cache)."""
    return int(max(128, min(8192, 2**19 // (itemsize * max(1, n_clusters)))))


#: chunks per block: a block (a unit of work of one thread) holds its rows' labels and shifted
#: copy, so that its sums are one scatter and not one per chunk
_CHUNKS_PER_BLOCK = 16


@dataclass(frozen=True)
class _Frame:
    """The centres in the form the E-step's GEMM uses.

    ``|x - mu_k|^2 = |x - shift|^2 + (x - shift) @ A[:, k] + c2[k]`` with
    ``A = -2 (mu - shift)^T`` and ``c2 = |mu - shift|^2``. ``shift`` is None when the centres sit
    near the origin (their mean is within their spread): shifting would then gain at most a
    factor of a few in cancellation and cost a pass over the rows.
    """

    shift: np.ndarray | None
    A: np.ndarray
    c2: np.ndarray
    #: ``A`` transposed, C-contiguous: the compiled pass's GEMM gives ``(K, rows)`` blocks
    AT: np.ndarray

    @staticmethod
    def of(params: KMeansParams, dtype: Any) -> _Frame:
        C = params.cluster_centers
        shift = _shift(C)
        kept = shift.astype(dtype) if np.any(shift) else None
        Cc = C - shift
        AT = np.ascontiguousarray(-2.0 * Cc, dtype=dtype)
        return _Frame(kept, np.ascontiguousarray(AT.T), np.asarray(sq_rows(Cc), dtype=dtype), AT)

    def rows(self, X: np.ndarray) -> np.ndarray:
        """``X - shift`` (``X`` itself, without a copy, when there is no shift)."""
        if self.shift is None:
            return X
        if X.flags.c_contiguous:  # one flat subtraction: numpy's broadcasting loop is per row
            tiled = np.tile(self.shift, X.shape[0])
            return np.subtract(X.ravel(), tiled).reshape(X.shape)
        return X - self.shift

    def nearest(self, Xs: np.ndarray, labels: np.ndarray, best: np.ndarray | None) -> None:
        """Label of the nearest centre of each row of ``Xs`` (already shifted), chunk by chunk,
        and with ``best`` the nearest squared distance less ``|x - shift|^2``."""
        if _USE_KERNELS and _kernels.worthwhile(Xs.size * self.AT.shape[0]):
            _kernels.lloyd_pass(np.ascontiguousarray(Xs), self.AT, self.c2, labels, nearest=best)
            return
        n = Xs.shape[0]
        K = self.A.shape[1]
        step = _chunk_rows(K, Xs.dtype.itemsize)
        G = np.empty((min(step, n), K), dtype=Xs.dtype)
        flat = G.ravel()
        tiled = np.tile(self.c2, G.shape[0])
        for t in range(0, n, step):
            m = min(step, n - t)
            g = np.matmul(Xs[t : t + m], self.A, out=G[:m])
            np.add(flat[: m * K], tiled[: m * K], out=flat[: m * K])  # flat: one SIMD loop
            lab = np.argmin(g, axis=1, out=labels[t : t + m])
            if best is not None:
                best[t : t + m] = np.take_along_axis(g, lab[:, None], axis=1)[:, 0]


def _cluster_sums(labels: np.ndarray, w: np.ndarray, Xs: np.ndarray, K: int) -> np.ndarray:
    """``S[k] = sum_{i: labels_i = k} w_i Xs_i``: the weighted one-hot matrix (K, n) times
    ``Xs``, one sparse product (a scatter-add in compiled code: no sort, no (n, K) array)."""
    n, d = Xs.shape
    indptr = np.arange(n + 1, dtype=labels.dtype)
    if _csc_matvecs is not None and Xs.flags.c_contiguous and w.dtype == Xs.dtype:
        # SciPy's kernel behind ``csc_array @ dense``, called without the array constructor's
        # O(n) format checks (they cost twice the product itself on cache-sized blocks)
        S = np.zeros((K, d), dtype=Xs.dtype)
        _csc_matvecs(K, n, d, indptr, labels, w, Xs.ravel(), S.ravel())
    else:
        S = sparse.csc_array((w, labels, indptr), shape=(K, n)) @ Xs
    return np.asarray(S, dtype=np.float64)


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
        'k-means++' seeds with greedy k-means++ (the draws of
        :func:`sklearn.cluster.kmeans_plusplus`); 'random' picks K distinct rows (with
        probability proportional to the sample weight); an array gives the centres.
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
    # stepwise EM with per-centre running counts (mini-batch k-means for rho = 1/t)
    supports_online: ClassVar[bool] = True

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
        return (check_squares_finite(np.asarray(X)),)

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
        centers, _ = kmeans_plusplus(X, self.n_clusters, sample_weight=w, random_state=rng)
        return KMeansParams(np.asarray(centers, dtype=np.float64))

    def _dist(self, X: np.ndarray, params: KMeansParams) -> np.ndarray:
        """Squared distance of every row to every centre: shape (n, K)."""
        frame = _Frame.of(params, X.dtype)
        Xs = frame.rows(X)
        G = Xs @ frame.A
        G += frame.c2
        G += sq_rows(Xs)[:, None]
        np.maximum(G, 0.0, out=G)
        return G

    def log_joint(self, batch: Batch, params: KMeansParams) -> np.ndarray:
        G = self._dist(batch.X, params)
        G *= -0.5
        return G

    def e_step(self, batch: Batch, params: KMeansParams, ctx: StepContext) -> Stats:
        X, weight = batch.X, batch.weight
        n = X.shape[0]
        K = self.n_clusters
        frame = _Frame.of(params, X.dtype)
        step = _chunk_rows(K, X.dtype.itemsize) * (_CHUNKS_PER_BLOCK if ctx.hard else 1)
        block = self._hard_block if ctx.hard else self._soft_block
        total = reduce_blocks(
            lambda s: block(X[s : s + step], weight[s : s + step], frame, ctx),
            _Partial.add,
            block_starts(n, step),
            n * K,
        )
        # first moments about the shift; the M-step adds it back
        return Stats(
            loglik=total.loglik,
            weight=float(np.sum(weight, dtype=np.float64)),
            nk=total.nk,
            sx=total.sx,
        )

    def _hard_block(
        self, X: np.ndarray, w: np.ndarray, frame: _Frame, ctx: StepContext
    ) -> _Partial:
        """Lloyd's step on a block: nearest centres (the arg-max of ``ctx.posterior``, found
        chunk by chunk in cache) and every cluster's sum of rows: in one compiled pass per chunk
        after its GEMM (numba), or NumPy passes and one sparse product."""
        K = self.n_clusters
        Xs = frame.rows(X)
        # GEMM per chunk, then one compiled pass: arg-min, sums and inertia
        if _USE_KERNELS and _kernels.worthwhile(Xs.size * K):
            sums = np.zeros((K, Xs.shape[1]))
            counts = np.zeros(K)
            weight = w.astype(np.float64, copy=False)
            labels = np.empty(X.shape[0], dtype=np.intp)
            inertia = _kernels.lloyd_pass(
                np.ascontiguousarray(Xs),
                frame.AT,
                frame.c2,
                labels,
                w=weight,
                sums=sums,
                counts=counts,
            )
            return _Partial(-0.5 * inertia, counts, sums)
        labels = np.empty(X.shape[0], dtype=np.intp)
        best = np.empty(X.shape[0], dtype=X.dtype)
        frame.nearest(Xs, labels, best)
        sx = _cluster_sums(labels, w, Xs, K)
        nk = np.bincount(labels, weights=w, minlength=K)
        # each row's distance to its centre computed directly: |x|^2 + G + c2 (and even more
        # sum_k (A_k . S_k + c2_k n_k)) cancels when the clusters are far apart, by more than
        # the engine's monotonicity check allows
        best = sq_rows(Xs - (-0.5 * frame.AT.astype(Xs.dtype, copy=False))[labels])
        inertia = float(
            np.dot(w.astype(np.float64, copy=False), best.astype(np.float64, copy=False))
        )
        return _Partial(-0.5 * inertia, nk, sx)

    def _soft_block(
        self, X: np.ndarray, w: np.ndarray, frame: _Frame, ctx: StepContext
    ) -> _Partial:
        Xs = frame.rows(X)
        G = Xs @ frame.A
        G += frame.c2
        G += sq_rows(Xs)[:, None]
        np.maximum(G, 0.0, out=G)
        G *= -0.5
        resp, log_norm = ctx.posterior(G)
        resp *= w[:, None]
        loglik = float(np.dot(w, log_norm))
        nk = resp.sum(axis=0, dtype=np.float64)
        return _Partial(loglik, nk, np.asarray(resp.T @ Xs, dtype=np.float64))

    def _nearest(
        self, X: np.ndarray, params: KMeansParams, *, distances: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Labels of the nearest centres (and the squared distances to them), in row blocks."""
        n = X.shape[0]
        frame = _Frame.of(params, X.dtype)
        step = _chunk_rows(self.n_clusters, X.dtype.itemsize) * _CHUNKS_PER_BLOCK
        labels = np.empty(n, dtype=np.intp)
        dist = np.empty(n, dtype=X.dtype) if distances else None

        def block(s: int) -> None:
            Xs = frame.rows(X[s : s + step])
            best = None if dist is None else dist[s : s + step]
            frame.nearest(Xs, labels[s : s + step], best)
            if best is not None:
                best += sq_rows(Xs)
                np.maximum(best, 0.0, out=best)

        reduce_blocks(block, lambda a, b: None, block_starts(n, step), n * self.n_clusters)
        return labels, dist

    def accumulate(self, batch: Batch, resp: np.ndarray, params: KMeansParams) -> Stats:
        rows = _Frame.of(params, batch.X.dtype).rows(batch.X)
        return Stats(nk=resp.sum(axis=0, dtype=np.float64), sx=resp.T @ rows)

    def m_step(self, stats: Stats, params: KMeansParams, ctx: StepContext) -> KMeansParams:
        nk, sx = stats["nk"], stats["sx"]
        shift = _shift(params.cluster_centers)
        empty = nk <= 0
        with np.errstate(invalid="ignore", divide="ignore"):
            centers = sx / nk[:, None] + shift
        centers = np.where(empty[:, None], params.cluster_centers, centers)
        return KMeansParams(centers)

    def rebase_stats(self, stats: Stats, params: KMeansParams, new_params: KMeansParams) -> Stats:
        """First moments about the new centres' shift (see :mod:`emkit.online`)."""
        delta = _shift(params.cluster_centers) - _shift(new_params.cluster_centers)
        return moved_moments(stats, delta)

    # -- fitted model ---------------------------------------------------------------------
    def _set_result(self, result: Any) -> None:
        super()._set_result(result)
        # fit() recomputes it exactly; after partial_fit it is the running estimate
        self.inertia_ = -2.0 * float(self.log_likelihood_)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, **kw: Any) -> KMeans:
        """Run Lloyd's algorithm (hard EM); see :meth:`emkit.base.EMEstimator.fit`."""
        super().fit(X, y, sample_weight, **kw)
        # the engine's last E-step ran at the final centres: in hard EM its objective is
        # -inertia / 2, and only the labels need one more (GEMM and arg-min) pass, taken block
        # by block when the rows live outside memory (a file, a row source, a dask array)
        source = as_source(X)
        rows = source if source is not None else X
        if source is None and not is_dask_collection(X):
            blocks: Any = [(0, X)]
        else:
            step = _LABEL_BLOCK_ROWS
            n = int(rows.shape[0])
            blocks = ((s, np.asarray(rows[s : s + step])) for s in range(0, n, step))
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        labels, inertia = [], 0.0
        for start, block in blocks:
            Xv = np.asarray(validate_data(self, block, reset=False, dtype=[np.float64, np.float32]))
            lab, dist = self._nearest(Xv, self.params_, distances=not self.hard)
            labels.append(lab)
            if dist is not None:
                part = dist if w is None else dist * w[start : start + len(dist)]
                inertia += float(np.sum(part, dtype=np.float64))
        self.labels_ = labels[0] if len(labels) == 1 else np.concatenate(labels)
        self.inertia_ = -2.0 * float(self.log_likelihood_) if self.hard else inertia
        return self

    def fit_predict(self, X: Any, y: Any = None, **fit_kw: Any) -> np.ndarray:
        """Fit, then return ``labels_`` (the same as ``fit(X).predict(X)``)."""
        return np.asarray(self.fit(X, y, **fit_kw).labels_)

    def predict(self, X: Any, **fit_data: Any) -> np.ndarray:
        """Index of the nearest centre of each row: shape (n_samples,)."""
        batch = self._batch(X, fit_data)
        return self._nearest(batch.X, self.params_, distances=False)[0]

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row to each centre: shape (n_samples, n_clusters)."""
        return np.sqrt(-2.0 * self._log_joint_checked(X, {}))

    def fit_transform(
        self, X: Any, y: Any = None, sample_weight: Any = None, **fit_params: Any
    ) -> np.ndarray:
        """Fit, then return the distances of the training rows to the centres."""
        return self.fit(X, sample_weight=sample_weight, **fit_params).transform(X)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None, **fit_data: Any) -> float:
        """Opposite of the inertia of ``X`` (as scikit-learn's ``KMeans.score``)."""
        batch = self._batch(X, fit_data)
        dist = self._nearest(batch.X, self.params_)[1]
        assert dist is not None
        w = np.ones(len(dist)) if sample_weight is None else np.asarray(sample_weight, float)
        return -float(np.dot(w, dist))

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
