r"""Gaussian mixtures on the EM engine: full, tied, diagonal and spherical covariances.

Each covariance type is a :class:`_CovarianceKind`: a handful of small functions chosen from the
dict :data:`COVARIANCE_KINDS` (the layout of scikit-learn's ``_gaussian_mixture.py``), not
branches scattered through the estimator. All components are handled in one array operation:

- **E-step, full covariances.** With ``L_k`` the upper-triangular Cholesky factor of the precision
  (``Sigma_k^{-1} = L_k L_k^T``), the whitened residuals ``y_ik = (x_i - mu_k) L_k`` of *all*
  components come from one GEMM ``X_c @ [L_1 ... L_K]`` of shape (n, K d), minus a per-component
  offset. The Mahalanobis term is ``|y_ik|^2`` and ``log det L_k`` the sum of the log-diagonal.
- **M-step statistics, full covariances.** The second moments are accumulated *in the whitened
  frame of the current parameters*, ``W_k = sum_i r_ik y_ik y_ik^T`` (one batched GEMM), together
  with ``s_k = sum_i r_ik y_ik``. Since ``x_i - mu_k = y_ik L_k^{-1}``, the new mean is
  ``mu_k + (s_k / n_k) L_k^{-1}`` and the new covariance ``L_k^{-T} W_k L_k^{-1} / n_k - d d^T``:
  moments about the current means, so nothing cancels catastrophically when the data sit far from
  the origin (float32 with large offsets stays accurate).
- **Other types** use the expansion ``|x - mu|^2_P = x^T P x - 2 x^T P mu + mu^T P mu`` as GEMMs,
  after shifting X by the mean of the current component means so that the expansion does not
  cancel on data with large offsets; variances are clipped at 0 before ``reg_covar`` is added.

Rows are processed in blocks sized to keep the ``(block, K, d)`` temporaries in cache; the
statistics of each block are summed in float64 whatever the dtype of X.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emkit import _kernels
from emkit._sklearn_api import validate_data
from emkit._validation import ARRAY, NONE, Constraint, check_squares_finite, interval, one_of
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import ConvergenceWarning, DataError, ParameterError
from emkit.models._blocks import block_starts, reduce_blocks, sq_rows, stable_shift
from emkit.models._rebase import moved_moments, moved_whitened
from emkit.stats import Stats

__all__ = [
    "COVARIANCE_KINDS",
    "DegenerateComponentWarning",
    "GaussianMixture",
    "GaussianParams",
    "log_density_coefficients",
    "quadratic_features",
]

_LOG_2PI = math.log(2.0 * math.pi)

#: soft E-steps take the compiled passes (monkeypatched off in tests)
_USE_KERNELS = _kernels.HAVE_NUMBA


class DegenerateComponentWarning(UserWarning):
    """A component collapsed (zero variance along some direction) or became empty.

    Its covariance was held at ``reg_covar`` (or repaired to be positive definite); the fit is
    still finite, but the component likely models duplicates, a constant feature or one point.
    """


@dataclass(frozen=True)
class GaussianParams:
    """Parameters of a Gaussian mixture (shapes as in scikit-learn).

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        (K, d, d) full, (d, d) tied, (K, d) diag, (K,) spherical.
    precisions_cholesky : ndarray
        Same shape as ``covariances``: the upper-triangular ``L`` with ``precision = L L^T``
        (full, tied), or ``1 / sqrt(variance)`` (diag, spherical).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


# ------------------------------------------------------------------------------------------
# covariance kinds: small functions, chosen from a dict
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """Per-iteration constants of the E-step (computed once per pass, in X's dtype)."""

    shift: np.ndarray  # (d,) subtracted from X before any expansion
    log_weights: np.ndarray  # (K,)
    log_const: np.ndarray  # (K,) log det L_k - d/2 log(2 pi)
    a: np.ndarray  # kind-specific
    b: np.ndarray  # kind-specific
    c: np.ndarray  # kind-specific


# -- full -----------------------------------------------------------------------------------
def _full_prepare(params: GaussianParams, shift: np.ndarray, dtype: Any) -> tuple[np.ndarray, ...]:
    # One GEMM [X_c, 1] @ A gives [y_ik, 1] for every component k: A's block k is
    # [[L_k, 0], [-(mu_k - shift) L_k, 1]], so the offset, the whitening and a column of ones
    # (which later yields n_k and the first moments inside the second-moment GEMM) come together.
    L = params.precisions_cholesky
    K, d, _ = L.shape
    A = np.zeros((d + 1, K, d + 1))
    A[:d, :, :d] = L.transpose(1, 0, 2)
    A[d, :, :d] = -np.einsum("kd,kde->ke", params.means - shift, L)
    A[d, :, d] = 1.0
    return np.ascontiguousarray(A.reshape(d + 1, K * (d + 1)), dtype=dtype), _EMPTY, _EMPTY


_EMPTY = np.empty(0)


def _full_whitened(Xc: np.ndarray, p: _Prepared, out: np.ndarray | None = None) -> np.ndarray:
    """``Y[i, k] = [(x_i - mu_k) L_k, 1]``, shape (n, K, d + 1): one GEMM (into ``out``, flat,
    when given)."""
    n, d = Xc.shape
    K = p.log_const.shape[0]
    Xa = np.empty((n, d + 1), dtype=Xc.dtype)
    Xa[:, :d] = Xc
    Xa[:, d] = 1.0
    if out is None:
        return (Xa @ p.a).reshape(n, K, d + 1)
    Y = out[: n * K * (d + 1)].reshape(n, K * (d + 1))
    return np.matmul(Xa, p.a, out=Y).reshape(n, K, d + 1)


def _full_log_gauss(Xc: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    Y = _full_whitened(Xc, p)
    maha = np.einsum("nkd,nkd->nk", Y, Y)
    maha -= 1.0  # the column of ones
    return maha, Y


def _full_accumulate(
    Xc: np.ndarray, resp: np.ndarray, Y: np.ndarray, p: _Prepared
) -> dict[str, np.ndarray]:
    # W_aug[k] = sum_i r_ik [y_ik, 1]^T [y_ik, 1]: second moments, first moments and n_k
    RY = resp[:, :, None] * Y
    return {"W": np.matmul(RY.transpose(1, 2, 0), Y.transpose(1, 0, 2))}


_scratch = threading.local()


def _full_soft_block(Xc: np.ndarray, w: np.ndarray, p: _Prepared, const: np.ndarray) -> _Partial:
    """A soft E-step's statistics of a block in three passes (numba): the whitening GEMM, one
    compiled pass (Mahalanobis terms, posterior, rows scaled by ``sqrt(w_i r_ik)``), and the
    moments ``Y_k^T Y_k`` (a GEMM per component) of the scaled rows. ``const`` (float64) is
    ``log w_k + log det L_k - d/2 log(2 pi)``."""
    size = Xc.shape[0] * p.a.shape[1]
    buffer = getattr(_scratch, "buffer", None)
    if buffer is None or buffer.size < size or buffer.dtype != Xc.dtype:
        # one per thread, reused: a fresh (block, K, d + 1) array per block costs page faults
        # that the two threads then take in turn
        buffer = _scratch.buffer = np.empty(size, dtype=Xc.dtype)
    Y = _full_whitened(Xc, p, buffer)
    nk = np.zeros(Y.shape[1])
    loglik = _kernels.gauss_soft_whitened(Y, const, w, nk)
    W = np.matmul(Y.transpose(1, 2, 0), Y.transpose(1, 0, 2))
    return _Partial(loglik, {"W": np.asarray(W, dtype=np.float64), "nk": nk})


def _full_m_step(
    stats: Stats, nk: np.ndarray, params: GaussianParams, shift: np.ndarray, reg: float
) -> tuple[np.ndarray, np.ndarray]:
    L = params.precisions_cholesky
    d = L.shape[-1]
    W = stats["W"][:, :d, :d]
    sy = stats["W"][:, :d, d]
    Linv = np.linalg.inv(L)  # x - mu = y L^{-1}
    delta = np.einsum("kd,kde->ke", sy / nk[:, None], Linv)
    S = np.matmul(np.matmul(Linv.transpose(0, 2, 1), W), Linv)
    cov = S / nk[:, None, None] - delta[:, :, None] * delta[:, None, :]
    cov = 0.5 * (cov + cov.transpose(0, 2, 1))
    cov[:, np.arange(d), np.arange(d)] += reg
    return params.means + delta, cov


def _cholesky_precision_full(cov: np.ndarray) -> np.ndarray:
    C = np.linalg.cholesky(cov)
    return np.linalg.inv(C).transpose(0, 2, 1)


def _log_det_full(L: np.ndarray) -> np.ndarray:
    return np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)


def _n_cov_full(K: int, d: int) -> int:
    return K * d * (d + 1) // 2


# -- tied -----------------------------------------------------------------------------------
def _tied_prepare(params: GaussianParams, shift: np.ndarray, dtype: Any) -> tuple[np.ndarray, ...]:
    L = params.precisions_cholesky
    Mw = (params.means - shift) @ L
    return L.astype(dtype), Mw.astype(dtype), sq_rows(Mw).astype(dtype)


def _tied_log_gauss(Xc: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    Z = Xc @ p.a
    maha = Z @ (-2.0 * p.b.T)
    maha += sq_rows(Z)[:, None]
    maha += p.c
    np.maximum(maha, 0.0, out=maha)
    return maha, Z


def _tied_accumulate(
    Xc: np.ndarray, resp: np.ndarray, aux: np.ndarray, p: _Prepared
) -> dict[str, np.ndarray]:
    # the (d, d) second moment is cheap next to the E-step: take it in float64, where the
    # between-component spread that the M-step subtracts does not swamp float32 round-off
    w = resp.sum(axis=1, dtype=np.float64)
    X64 = Xc.astype(np.float64, copy=False)
    return {"sx": resp.T @ Xc, "sxx": (X64 * w[:, None]).T @ X64}


def _tied_m_step(
    stats: Stats, nk: np.ndarray, params: GaussianParams, shift: np.ndarray, reg: float
) -> tuple[np.ndarray, np.ndarray]:
    sx = stats["sx"]
    means_c = sx / nk[:, None]
    cov = (stats["sxx"] - means_c.T @ sx) / nk.sum()
    cov = 0.5 * (cov + cov.T)
    cov[np.diag_indices_from(cov)] += reg
    return means_c + shift, cov


def _cholesky_precision_tied(cov: np.ndarray) -> np.ndarray:
    return _cholesky_precision_full(cov[None])[0]


def _log_det_tied(L: np.ndarray) -> np.ndarray:
    return np.sum(np.log(np.diag(L)))


def _n_cov_tied(K: int, d: int) -> int:
    return d * (d + 1) // 2


# -- diag and spherical ---------------------------------------------------------------------
def _diag_prepare(params: GaussianParams, shift: np.ndarray, dtype: Any) -> tuple[np.ndarray, ...]:
    P = params.precisions_cholesky**2
    if P.ndim == 1:  # spherical
        P = np.repeat(P[:, None], params.means.shape[1], axis=1)
    Mc = params.means - shift
    return (
        P.T.astype(dtype),
        (-2.0 * Mc * P).T.astype(dtype),
        np.sum(Mc**2 * P, axis=1).astype(dtype),
    )


def _diag_log_gauss(Xc: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    maha = (Xc * Xc) @ p.a
    maha += Xc @ p.b
    maha += p.c
    np.maximum(maha, 0.0, out=maha)
    return maha, maha


def _diag_accumulate(
    Xc: np.ndarray, resp: np.ndarray, aux: np.ndarray, p: _Prepared
) -> dict[str, np.ndarray]:
    return {"sx": resp.T @ Xc, "sxx": resp.T @ (Xc * Xc)}


def _diag_m_step(
    stats: Stats, nk: np.ndarray, params: GaussianParams, shift: np.ndarray, reg: float
) -> tuple[np.ndarray, np.ndarray]:
    means_c = stats["sx"] / nk[:, None]
    var = np.maximum(stats["sxx"] / nk[:, None] - means_c**2, 0.0) + reg
    return means_c + shift, var


def _spherical_m_step(
    stats: Stats, nk: np.ndarray, params: GaussianParams, shift: np.ndarray, reg: float
) -> tuple[np.ndarray, np.ndarray]:
    means, var = _diag_m_step(stats, nk, params, shift, reg)
    return means, var.mean(axis=1)


def _cholesky_precision_diag(cov: np.ndarray) -> np.ndarray:
    return 1.0 / np.sqrt(cov)


def _log_det_diag(prec_chol: np.ndarray) -> np.ndarray:
    return np.sum(np.log(prec_chol), axis=1)


def _log_det_spherical(prec_chol: np.ndarray, d: int) -> np.ndarray:
    return d * np.log(prec_chol)


@dataclass(frozen=True)
class _CovarianceKind:
    """The functions that make up one covariance type."""

    prepare: Callable[[GaussianParams, np.ndarray, Any], tuple[np.ndarray, ...]]
    log_gauss: Callable[[np.ndarray, _Prepared], tuple[np.ndarray, np.ndarray]]
    accumulate: Callable[[np.ndarray, np.ndarray, np.ndarray, _Prepared], dict[str, np.ndarray]]
    m_step: Callable[
        [Stats, np.ndarray, GaussianParams, np.ndarray, float], tuple[np.ndarray, np.ndarray]
    ]
    precision_cholesky: Callable[[np.ndarray], np.ndarray]
    log_det: Callable[[np.ndarray, int], np.ndarray]
    n_cov_parameters: Callable[[int, int], int]
    cov_shape: Callable[[int, int], tuple[int, ...]]
    #: how a precision matrix given by the user becomes ``precisions_cholesky``
    precision_to_cholesky: Callable[[np.ndarray], np.ndarray]
    #: smallest variance of each component, for the degeneracy check
    min_variance: Callable[[np.ndarray], np.ndarray]


COVARIANCE_KINDS: dict[str, _CovarianceKind] = {
    "full": _CovarianceKind(
        prepare=_full_prepare,
        log_gauss=_full_log_gauss,
        accumulate=_full_accumulate,
        m_step=_full_m_step,
        precision_cholesky=_cholesky_precision_full,
        log_det=lambda L, d: _log_det_full(L),
        n_cov_parameters=_n_cov_full,
        cov_shape=lambda K, d: (K, d, d),
        precision_to_cholesky=lambda P: np.linalg.cholesky(P),
        min_variance=lambda cov: np.linalg.eigvalsh(cov).min(axis=1),
    ),
    "tied": _CovarianceKind(
        prepare=_tied_prepare,
        log_gauss=_tied_log_gauss,
        accumulate=_tied_accumulate,
        m_step=_tied_m_step,
        precision_cholesky=_cholesky_precision_tied,
        log_det=lambda L, d: _log_det_tied(L),
        n_cov_parameters=_n_cov_tied,
        cov_shape=lambda K, d: (d, d),
        precision_to_cholesky=lambda P: np.linalg.cholesky(P),
        min_variance=lambda cov: np.atleast_1d(np.linalg.eigvalsh(cov).min()),
    ),
    "diag": _CovarianceKind(
        prepare=_diag_prepare,
        log_gauss=_diag_log_gauss,
        accumulate=_diag_accumulate,
        m_step=_diag_m_step,
        precision_cholesky=_cholesky_precision_diag,
        log_det=lambda P, d: _log_det_diag(P),
        n_cov_parameters=lambda K, d: K * d,
        cov_shape=lambda K, d: (K, d),
        precision_to_cholesky=np.sqrt,
        min_variance=lambda cov: cov.min(axis=1),
    ),
    "spherical": _CovarianceKind(
        prepare=_diag_prepare,
        log_gauss=_diag_log_gauss,
        accumulate=_diag_accumulate,
        m_step=_spherical_m_step,
        precision_cholesky=_cholesky_precision_diag,
        log_det=_log_det_spherical,
        n_cov_parameters=lambda K, d: K,
        cov_shape=lambda K, d: (K,),
        precision_to_cholesky=np.sqrt,
        min_variance=lambda cov: cov,
    ),
}


def _block_rows(n_components: int, n_features: int, covariance_type: str) -> int:
    """Rows per block: about 2 MiB of (rows, K, d+1) temporaries for full covariances, and
    (rows, K) ones of a quarter of that for the other types (measured on a 2-core x86 box)."""
    if covariance_type == "full":
        per_row = n_components * (n_features + 1)
        return int(max(64, min(16384, 2**18 // per_row)))
    return int(max(256, min(16384, 2**15 // max(1, n_components))))


# ------------------------------------------------------------------------------------------
# quadratic features: log-densities and moments of all components as GEMMs (few features)
# ------------------------------------------------------------------------------------------


def quadratic_features(X: np.ndarray, shift: np.ndarray) -> np.ndarray:
    r"""The features ``f(x) = [1, z, z_j z_l (j <= l)]`` with ``z = x - shift``, one column per row.

    With them every Gaussian log-density is linear: ``log w_k + log N(x | mu_k, Sigma_k) =
    theta_k . f(x)`` (:func:`log_density_coefficients`), and the statistics of an M-step are the
    moments ``resp^T f`` (:meth:`GaussianMixture.params_from_moments`). For few features (pixel
    colours) this turns the E-step and the statistics of all components into two small GEMMs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    shift : ndarray of shape (n_features,)
        Subtracted before the products so that they do not cancel on data far from the origin
        (:func:`~emkit.models._blocks.stable_shift` of the component means, say).

    Returns
    -------
    ndarray of shape (1 + d + d (d + 1) / 2, n_samples), float64
        Rows: the constant 1, the ``d`` shifted features, then the products ``z_j z_l`` in the
        order of ``numpy.triu_indices(d)``.
    """
    Z = (np.asarray(X, dtype=np.float64) - shift).T
    d, n = Z.shape
    rows, cols = np.triu_indices(d)
    F = np.empty((1 + d + rows.size, n))
    F[0] = 1.0
    F[1 : 1 + d] = Z
    np.multiply(Z[rows], Z[cols], out=F[1 + d :])
    return F


def _precisions(params: GaussianParams, covariance_type: str) -> np.ndarray:
    """Precision matrices of all components: shape (K, d, d)."""
    K, d = params.means.shape
    L = params.precisions_cholesky
    if covariance_type == "full":
        return np.matmul(L, L.transpose(0, 2, 1))
    if covariance_type == "tied":
        return np.broadcast_to(L @ L.T, (K, d, d))
    diag = L**2 if covariance_type == "diag" else np.repeat((L**2)[:, None], d, axis=1)
    P = np.zeros((K, d, d))
    P[:, np.arange(d), np.arange(d)] = diag
    return P


def log_density_coefficients(
    params: GaussianParams, covariance_type: str, shift: np.ndarray
) -> np.ndarray:
    r"""``theta`` with ``theta @ quadratic_features(X, shift)`` = ``log w_k + log N(x_i | k)``.

    From ``(z - m)^T P (z - m) = z^T P z - 2 m^T P z + m^T P m`` (``m = mu - shift``, ``P``
    the precision).

    Parameters
    ----------
    params : GaussianParams
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    shift : ndarray of shape (n_features,)

    Returns
    -------
    ndarray of shape (n_components, 1 + d + d (d + 1) / 2), float64
    """
    K, d = params.means.shape
    P = _precisions(params, covariance_type)
    m = params.means - shift
    Pm = np.einsum("kde,ke->kd", P, m)
    log_det = COVARIANCE_KINDS[covariance_type].log_det(params.precisions_cholesky, d)
    with np.errstate(divide="ignore"):
        log_w = np.log(params.weights)
    rows, cols = np.triu_indices(d)
    theta = np.empty((K, 1 + d + rows.size))
    theta[:, 0] = log_w + log_det - 0.5 * d * _LOG_2PI - 0.5 * np.einsum("kd,kd->k", Pm, m)
    theta[:, 1 : 1 + d] = Pm
    theta[:, 1 + d :] = np.where(rows == cols, -0.5, -1.0) * P[:, rows, cols]
    return theta


# ------------------------------------------------------------------------------------------
# the estimator
# ------------------------------------------------------------------------------------------


class GaussianMixture(MixtureEstimator[GaussianParams]):
    r"""Gaussian mixture model fitted by EM, a drop-in for ``sklearn.mixture.GaussianMixture``.

    .. math:: p(x) = \sum_{k=1}^K w_k \, \mathcal N(x \mid \mu_k, \Sigma_k)

    From the same starting parameters it follows scikit-learn's iterates (weights, means,
    covariances) to round-off, while adding sample weights, hard (classification) EM, float32
    accumulated in float64, degenerate-data safeguards, and a faster batched E-step.

    Parameters
    ----------
    n_components : int, default=1
        Number of components K.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': one (d, d) covariance per component; 'tied': one (d, d) covariance shared by all;
        'diag': one diagonal covariance (K, d); 'spherical': one variance per component (K,).
    tol : float, default=1e-3
        Stop when the mean log-likelihood per unit of sample weight changes by less than tol.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance: keeps them positive definite.
    max_iter : int, default=100
        Maximum number of EM iterations (M-steps).
    n_init : int, default=1
        Number of initialisations; the best final log-likelihood is kept.
    init : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        scikit-learn's ``init_params`` (renamed: ``init_params`` is the engine's hook). How the
        starting responsibilities are drawn, as in scikit-learn: 'kmeans' assigns
        each row to a k-means cluster (emkit's :class:`~emkit.models.KMeans`), 'k-means++' and
        'random_from_data' give K seed rows one component each, 'random' uniform random
        responsibilities. One M-step turns them into parameters.
    weights_init : array-like of shape (n_components,), optional
    means_init : array-like of shape (n_components, n_features), optional
    precisions_init : array-like, optional
        User-given starting parameters (precision matrices, shaped like ``covariances_``); each
        replaces the corresponding part of the initialisation above.
    missing : {'error', 'em'}, default='error'
        What a NaN in X means. 'error': invalid input (as in scikit-learn). 'em': a value
        missing at random; the fit maximises the likelihood of the observed values by the
        exact EM of Ghahramani & Jordan (1994) (:mod:`emkit.models.gaussian_missing`), and
        ``predict``, ``score_samples`` and :meth:`impute` accept rows with NaN.
    hard : bool, default=False
        Classification EM: each row is assigned wholly to its most probable component.
    random_state : int, RandomState or None, default=None
    warm_start : bool, default=False
        Start the next ``fit`` from the current parameters (``n_init`` is then ignored).
    verbose : int, default=0
        Accepted for scikit-learn compatibility; progress goes through callbacks and logging.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shape depends on ``covariance_type`` (see :class:`GaussianParams`).
    precisions_cholesky_ : ndarray
    precisions_ : ndarray
    n_iter_, converged_, log_likelihood_, lower_bound_, log_likelihood_history_
        See :class:`~emkit.base.EMEstimator`.

    Notes
    -----
    ``monotone`` is False: with ``reg_covar > 0`` the M-step is not the exact maximiser of the
    expected complete-data log-likelihood (``Sigma = S + reg I`` instead of ``S``), so the
    observed-data log-likelihood may dip by amounts of order ``reg_covar * n * tr(Sigma^-1)``.
    The engine then logs such dips instead of raising :class:`~emkit.exceptions.NonMonotoneError`.
    Keeping the true log-likelihood as the objective is what makes the iterates, ``lower_bound_``
    and ``score`` equal to scikit-learn's.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.models import GaussianMixture
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(6, 1, (100, 2))])
    >>> gm = GaussianMixture(2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0]).round(0)
    array([0., 6.])
    """

    # reg_covar makes the M-step a regularised maximiser: see Notes
    monotone: ClassVar[bool] = False
    supports_online: ClassVar[bool] = True

    params_type = GaussianParams

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "covariance_type": one_of(set(COVARIANCE_KINDS)),
        "reg_covar": interval(float, 0.0, None),
        "init": one_of({"kmeans", "k-means++", "random", "random_from_data"}),
        "weights_init": ARRAY | NONE,
        "means_init": ARRAY | NONE,
        "precisions_init": ARRAY | NONE,
        "verbose": interval(int, 0, None),
        "missing": one_of({"error", "em"}),
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        missing: str = "error",
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init = init
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.missing = missing
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # -- data and parameters --------------------------------------------------------------
    def _validate_data(self, X: Any, *, reset: bool, **unexpected: Any) -> tuple[np.ndarray, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        if getattr(self, "missing", "error") == "em":
            from emkit.models import gaussian_missing

            return (gaussian_missing.validate(self, X, reset=reset),)
        try:
            X = validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=1
            )
        except ValueError as error:
            if "NaN" not in str(error):
                raise
            first = str(error).split("\n")[0].rstrip(".")
            raise DataError(
                f"{first}. GaussianMixture(missing='em') treats NaN as values missing at "
                "random (or impute them first)."
            ) from None
        return (check_squares_finite(np.asarray(X)),)

    @property
    def _kind(self) -> _CovarianceKind:
        return COVARIANCE_KINDS[self.covariance_type]

    def _user_weights(self) -> np.ndarray:
        w = np.asarray(self.weights_init, dtype=np.float64)
        K = self.n_components
        if w.shape != (K,):
            raise ParameterError(f"weights_init must have shape ({K},), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ParameterError(
                f"weights_init must be non-negative and sum to 1, got {w.tolist()!r}"
            )
        return w / w.sum()

    def _user_means(self, d: int) -> np.ndarray:
        m = np.asarray(self.means_init, dtype=np.float64)
        if m.shape != (self.n_components, d):
            raise ParameterError(
                f"means_init must have shape ({self.n_components}, {d}), got {m.shape}"
            )
        if not np.all(np.isfinite(m)):
            raise ParameterError("means_init must be finite")
        return m

    def _user_precisions_cholesky(self, d: int) -> np.ndarray:
        kind = self._kind
        P = np.asarray(self.precisions_init, dtype=np.float64)
        shape = kind.cov_shape(self.n_components, d)
        if P.shape != shape:
            raise ParameterError(
                f"precisions_init for covariance_type={self.covariance_type!r} must have shape "
                f"{shape}, got {P.shape}"
            )
        if not np.all(np.isfinite(P)):
            raise ParameterError("precisions_init must be finite")
        if self.covariance_type in ("full", "tied"):
            if not np.allclose(P, np.swapaxes(P, -1, -2)):
                raise ParameterError("precisions_init must hold symmetric matrices")
            try:
                return kind.precision_to_cholesky(P)
            except np.linalg.LinAlgError:
                raise ParameterError(
                    "precisions_init must hold positive-definite matrices"
                ) from None
        if np.any(P <= 0):
            raise ParameterError("precisions_init must be positive")
        return kind.precision_to_cholesky(P)

    def _params_from(
        self, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
    ) -> GaussianParams:
        prec_chol, covariances = self._safe_precision_cholesky(covariances)
        # C order, as after a save/load round trip: the same layout gives the same round-off
        return GaussianParams(
            np.ascontiguousarray(weights),
            np.ascontiguousarray(means),
            np.ascontiguousarray(covariances),
            np.ascontiguousarray(prec_chol),
        )

    def _safe_precision_cholesky(self, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cholesky of the precisions; a covariance that is not positive definite is repaired."""
        kind = self._kind
        if not np.all(np.isfinite(cov)):
            raise FloatingPointError("non-finite covariance")  # pragma: no cover - guarded above
        eps = float(np.finfo(np.float64).eps)
        scale = max(1.0, float(np.abs(cov).max()))
        floor = max(self.reg_covar, eps * scale)
        dense = cov.ndim >= 2 and self.covariance_type in ("full", "tied")
        vals = vecs = None
        if dense and self.missing == "em":
            # the E-step factors every observed sub-block Sigma_OO: by interlacing their
            # eigenvalues lie within Sigma's, and Cholesky is safe below a condition number
            # of 1 / (20 d^1.5 eps) (Demmel 1989), so that is what a covariance must meet
            vals, vecs = np.linalg.eigh(cov)
            need = np.maximum(20.0 * cov.shape[-1] ** 1.5 * eps * vals[..., -1:], eps * scale)
            if np.all(vals >= need):
                return kind.precision_cholesky(cov), cov
            floor = max(floor, float(need.max()))
        else:
            try:
                with np.errstate(divide="raise", invalid="raise"):
                    return kind.precision_cholesky(cov), cov
            except (np.linalg.LinAlgError, FloatingPointError):
                pass
            if dense:
                vals, vecs = np.linalg.eigh(cov)
        original = cov
        while True:  # the rebuilt matrix carries round-off of eps * scale: raise until it holds
            if vals is not None and vecs is not None:
                cov = (vecs * np.maximum(vals, floor)[..., None, :]) @ np.swapaxes(vecs, -1, -2)
                cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
            else:
                cov = np.maximum(original, floor)
            try:
                with np.errstate(divide="raise", invalid="raise"):
                    prec_chol = kind.precision_cholesky(cov)
                break
            except (np.linalg.LinAlgError, FloatingPointError):
                floor *= 16.0
        warnings.warn(
            f"GaussianMixture: a {self.covariance_type} covariance was not positive definite "
            f"(round-off on degenerate data); its eigenvalues were raised to {floor:.3g}. "
            "Increase reg_covar or standardise the data.",
            DegenerateComponentWarning,
            stacklevel=2,
        )
        return prec_chol, cov

    # -- engine hooks ---------------------------------------------------------------------
    def init_params(self, batch: Batch, rng: np.random.RandomState) -> GaussianParams:
        if self.missing == "em":
            from emkit.models import gaussian_missing

            batch = gaussian_missing.init_batch(batch)
        X, w = batch.X, batch.weight
        d = X.shape[1]
        if self.weights_init is None or self.means_init is None or self.precisions_init is None:
            resp = self._initial_resp(X, w, rng)
            params = self._m_step_from_resp(batch, resp.astype(X.dtype, copy=False))
            weights, means = params.weights, params.means
            covariances, prec_chol = params.covariances, params.precisions_cholesky
        if self.weights_init is not None:
            weights = self._user_weights()
        if self.means_init is not None:
            means = self._user_means(d)
        if self.precisions_init is not None:
            prec_chol = self._user_precisions_cholesky(d)
            covariances = _covariances_from_cholesky(self.covariance_type, prec_chol)
        return GaussianParams(weights, means, covariances, prec_chol)

    def _initial_resp(
        self, X: np.ndarray, weight: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        n = X.shape[0]
        K = self.n_components
        if self.init == "kmeans":
            from emkit.models.kmeans import KMeans

            # a start needs no exact Lloyd fixed point: stop when the inertia per row changes
            # by less than 1e-6 of the data's variance (scale-free, like scikit-learn's tol)
            tol = 1e-6 * float(np.mean(np.var(X, axis=0, dtype=np.float64)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                kmeans = KMeans(K, n_init=1, random_state=rng, tol=tol)
                labels = kmeans.fit(X, sample_weight=weight).labels_
            resp = np.zeros((n, K))
            resp[np.arange(n), labels] = 1.0
        elif self.init == "random":
            resp = rng.uniform(size=(n, K))
            resp /= resp.sum(axis=1)[:, None]
        elif self.init == "random_from_data":
            resp = np.zeros((n, K))
            rows = rng.choice(n, size=K, replace=False)
            resp[rows, np.arange(K)] = 1.0
        else:  # k-means++
            from emkit.models._seeding import kmeans_plusplus

            resp = np.zeros((n, K))
            _, rows = kmeans_plusplus(X, K, random_state=rng, sample_weight=weight)
            resp[rows, np.arange(K)] = 1.0
        return resp

    def _m_step_from_resp(self, batch: Batch, resp: np.ndarray) -> GaussianParams:
        """Parameters from given responsibilities (as scikit-learn's ``_initialize``)."""
        X = batch.X
        wresp = resp * batch.weight[:, None]
        nk = wresp.sum(axis=0, dtype=np.float64) + 10 * np.finfo(X.dtype).eps
        means = (wresp.T @ X).astype(np.float64) / nk[:, None]
        d = X.shape[1]
        # a whitened frame centred on these means with identity precision: the statistics
        # below are then plain second moments about the means
        if self.covariance_type in ("full",):
            frame = GaussianParams(
                nk / nk.sum(), means, np.empty(0), np.broadcast_to(np.eye(d), (len(nk), d, d))
            )
        elif self.covariance_type == "tied":
            frame = GaussianParams(nk / nk.sum(), means, np.empty(0), np.eye(d))
        elif self.covariance_type == "diag":
            frame = GaussianParams(nk / nk.sum(), means, np.empty(0), np.ones((len(nk), d)))
        else:
            frame = GaussianParams(nk / nk.sum(), means, np.empty(0), np.ones(len(nk)))
        stats = self._accumulate_all(batch, wresp, frame)
        return self._m_step_stats(stats, frame)

    def params_from_moments(
        self, moments: np.ndarray, shift: np.ndarray, previous: GaussianParams | None = None
    ) -> GaussianParams:
        """The M-step from moments of the :func:`quadratic_features`.

        Parameters
        ----------
        moments : ndarray of shape (n_components, 1 + d + d (d + 1) / 2)
            ``resp^T @ quadratic_features(X, shift).T`` for (weighted) responsibilities
            ``resp`` of shape (n_samples, n_components); column 0 holds ``n_k``.
        shift : ndarray of shape (n_features,)
            The shift the features were computed with.
        previous : GaussianParams, optional
            A component without any weight keeps its mean and covariance from these.

        Returns
        -------
        GaussianParams
            Weights ``n_k / n``; means and covariances (plus ``reg_covar``) of the weighted
            rows, reduced to ``covariance_type``.
        """
        M = np.asarray(moments, dtype=np.float64)
        K = M.shape[0]
        d = shift.shape[0]
        raw_nk = M[:, 0]
        nk = raw_nk + 10 * np.finfo(np.float64).eps
        m = M[:, 1 : 1 + d] / nk[:, None]
        rows, cols = np.triu_indices(d)
        S = np.empty((K, d, d))
        S[:, rows, cols] = M[:, 1 + d :]
        S[:, cols, rows] = M[:, 1 + d :]
        cov = S / nk[:, None, None] - m[:, :, None] * m[:, None, :]
        diag = np.arange(d)
        if self.covariance_type == "full":
            cov = 0.5 * (cov + cov.transpose(0, 2, 1))
            cov[:, diag, diag] += self.reg_covar
        elif self.covariance_type == "tied":
            cov = np.einsum("k,kde->de", nk, cov) / nk.sum()
            cov = 0.5 * (cov + cov.T)
            cov[diag, diag] += self.reg_covar
        else:
            var = np.maximum(cov[:, diag, diag], 0.0) + self.reg_covar
            cov = var if self.covariance_type == "diag" else var.mean(axis=1)
        means = m + shift
        empty = raw_nk <= 0
        if previous is not None and np.any(empty):
            means = np.where(empty[:, None], previous.means, means)
            if self.covariance_type != "tied":
                sel = empty.reshape((-1,) + (1,) * (cov.ndim - 1))
                cov = np.where(sel, previous.covariances, cov)
        return self._params_from(nk / nk.sum(), means, cov)

    def _prepare(self, params: GaussianParams, dtype: Any) -> _Prepared:
        kind = self._kind
        d = params.means.shape[1]
        shift = stable_shift(params.means)
        a, b, c = kind.prepare(params, shift, dtype)
        with np.errstate(divide="ignore"):
            log_w = np.log(params.weights)
        log_const = kind.log_det(params.precisions_cholesky, d) - 0.5 * d * _LOG_2PI
        log_const = np.broadcast_to(log_const, params.weights.shape)
        return _Prepared(
            shift.astype(dtype),
            log_w.astype(dtype),
            np.asarray(log_const, dtype=dtype),
            a,
            b,
            c,
        )

    def _accumulate_all(self, batch: Batch, wresp: np.ndarray, params: GaussianParams) -> Stats:
        """Statistics from given (weighted) responsibilities, over blocks of rows."""
        X = batch.X
        p = self._prepare(params, X.dtype)
        kind = self._kind
        step = _block_rows(self.n_components, X.shape[1], self.covariance_type)
        acc: dict[str, np.ndarray] = {}
        for s in range(0, X.shape[0], step):
            Xc = X[s : s + step] - p.shift
            _, aux = kind.log_gauss(Xc, p)
            part = kind.accumulate(Xc, wresp[s : s + step], aux, p)
            _add_into(acc, part)
        acc["nk"] = wresp.sum(axis=0, dtype=np.float64)
        return Stats(0.0, 0.0, **acc)

    def e_step(self, batch: Batch, params: GaussianParams, ctx: StepContext) -> Stats:
        if self.missing == "em":
            from emkit.models import gaussian_missing

            return gaussian_missing.e_step(self, batch, params, ctx)
        return self._e_step_complete(batch, params, ctx)

    def _e_step_complete(self, batch: Batch, params: GaussianParams, ctx: StepContext) -> Stats:
        X, weight = batch.X, batch.weight
        n, d = X.shape
        K = self.n_components
        p = self._prepare(params, X.dtype)
        kind = self._kind
        step = _block_rows(K, d, self.covariance_type)

        work = n * K * d * (d if self.covariance_type in ("full", "tied") else 1)
        compiled = _USE_KERNELS and not ctx.hard and _kernels.worthwhile(work)
        fused = compiled and self.covariance_type == "full"
        const = np.asarray(p.log_const, dtype=np.float64) + p.log_weights

        def block(s: int) -> _Partial:
            Xc = X[s : s + step] - p.shift
            w = weight[s : s + step]
            if fused:
                return _full_soft_block(Xc, w, p, const)
            maha, aux = kind.log_gauss(Xc, p)
            log_joint = maha
            log_joint *= -0.5
            log_joint += p.log_const + p.log_weights
            if compiled:  # one compiled pass, no subnormal responsibilities
                nk = np.zeros(K)
                loglik = _kernels.soft_posterior(log_joint, w, nk)
                stats = _as_float64(kind.accumulate(Xc, log_joint, aux, p))
                stats["nk"] = nk
                return _Partial(loglik, stats)
            resp, log_norm = _posterior(log_joint, ctx)
            resp *= w[:, None]
            stats = kind.accumulate(Xc, resp, aux, p)
            stats["nk"] = resp.sum(axis=0)
            return _Partial(float(np.dot(w, log_norm)), _as_float64(stats))

        total = reduce_blocks(block, _Partial.add, block_starts(n, step), n * K * (d + 1))
        return Stats(total.loglik, float(np.sum(weight, dtype=np.float64)), **total.stats)

    def accumulate(self, batch: Batch, resp: np.ndarray, params: GaussianParams) -> Stats:
        return self._accumulate_all(batch, resp, params)

    def log_joint(self, batch: Batch, params: GaussianParams) -> np.ndarray:
        if self.missing == "em":
            from emkit.models import gaussian_missing

            return gaussian_missing.log_joint(self, batch.X, params)
        return self._log_joint_complete(batch, params)

    def _log_joint_complete(self, batch: Batch, params: GaussianParams) -> np.ndarray:
        X = batch.X
        p = self._prepare(params, X.dtype)
        kind = self._kind
        step = _block_rows(self.n_components, X.shape[1], self.covariance_type)
        out = np.empty((X.shape[0], self.n_components), dtype=X.dtype)
        for s in range(0, X.shape[0], step):
            maha, _ = kind.log_gauss(X[s : s + step] - p.shift, p)
            out[s : s + step] = -0.5 * maha + p.log_const + p.log_weights
        return out

    def m_step(self, stats: Stats, params: GaussianParams, ctx: StepContext) -> GaussianParams:
        return self._m_step_stats(stats, params)

    def _m_step_stats(self, stats: Stats, params: GaussianParams) -> GaussianParams:
        kind = self._kind
        raw_nk = np.asarray(stats["nk"], dtype=np.float64)
        # scikit-learn's guard against empty components (keeps the arithmetic finite)
        nk = raw_nk + 10 * np.finfo(np.float64).eps
        shift = stable_shift(params.means)
        means, cov = kind.m_step(stats, nk, params, shift, self.reg_covar)
        empty = raw_nk <= 0
        if np.any(empty) and params.covariances.size:
            # a component that lost every row keeps its place and shape (hard EM can empty one)
            means = np.where(empty[:, None], params.means, means)
            if self.covariance_type in ("full", "diag", "spherical"):
                sel = empty.reshape((-1,) + (1,) * (cov.ndim - 1))
                cov = np.where(sel, params.covariances, cov)
        weights = nk / nk.sum()
        return self._params_from(weights, means, cov)

    def rebase_stats(
        self, stats: Stats, params: GaussianParams, new_params: GaussianParams
    ) -> Stats:
        """Moments in the frame of ``new_params`` (online EM; see :mod:`emkit.models._rebase`)."""
        if self.covariance_type == "full":
            W = moved_whitened(
                np.asarray(stats["W"], dtype=np.float64),
                params.means,
                params.precisions_cholesky,
                new_params.means,
                new_params.precisions_cholesky,
            )
            return stats.replace(W=W)
        delta = stable_shift(params.means) - stable_shift(new_params.means)
        return moved_moments(stats, delta, tied=self.covariance_type == "tied")

    # -- fitted model ---------------------------------------------------------------------
    def _set_fitted(self, result: Any) -> None:
        super()._set_fitted(result)
        if self.missing == "em":
            from emkit.models import gaussian_missing

            gaussian_missing.warn_empty_rows(result.final_stats)
        self._warn_degenerate(np.asarray(result.final_stats["nk"]))

    def impute(self, X: Any) -> np.ndarray:
        """Fill the NaN of ``X`` with their conditional means ``E[x_M | x_O]`` under the fitted
        mixture (the posterior-weighted conditional means of the components).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            NaN marks a missing value; observed values are returned unchanged.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        from emkit._sklearn_api import check_is_fitted
        from emkit.models import gaussian_missing

        check_is_fitted(self, "params_")
        X = gaussian_missing.validate(self, X, reset=False)
        return gaussian_missing.conditional_means(X, self.params_, self.covariance_type)

    def sample_imputations(
        self, X: Any, n_imputations: int = 5, random_state: Any = None
    ) -> np.ndarray:
        """Multiple imputation: draws of the missing values from ``p(x_M | x_O)``.

        Each draw picks a component from the row's posterior, then the missing values from
        that component's conditional Gaussian (mean and covariance given the observed values).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            NaN marks a missing value.
        n_imputations : int, default=5
        random_state : int, RandomState or None
            Defaults to the estimator's ``random_state``.

        Returns
        -------
        ndarray of shape (n_imputations, n_samples, n_features)
            Observed values unchanged in every draw.
        """
        from emkit._sklearn_api import check_is_fitted, check_random_state
        from emkit.models import gaussian_missing

        check_is_fitted(self, "params_")
        if not isinstance(n_imputations, int | np.integer) or n_imputations < 1:
            raise ParameterError(f"n_imputations must be a positive integer, got {n_imputations!r}")
        X = gaussian_missing.validate(self, X, reset=False)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        return gaussian_missing.conditional_draws(
            X, self.params_, self.covariance_type, int(n_imputations), rng
        )

    def _warn_degenerate(self, nk: np.ndarray) -> None:
        params: GaussianParams = self.params_
        min_var = self._kind.min_variance(params.covariances)
        scale = max(float(np.max(np.abs(params.covariances))), 1.0)
        collapsed = np.flatnonzero(min_var <= self.reg_covar * (1 + 1e-3) + 1e-12 * scale)
        empty = np.flatnonzero(nk < 1e-8 * max(float(nk.sum()), 1.0))
        if empty.size:
            warnings.warn(
                f"GaussianMixture: component(s) {empty.tolist()} ended with no data (weight ~0). "
                "Reduce n_components, use more restarts (n_init) or another init.",
                DegenerateComponentWarning,
                stacklevel=3,
            )
        elif collapsed.size:
            which = (
                "the shared covariance"
                if self.covariance_type == "tied"
                else f"component(s) {collapsed.tolist()}"
            )
            warnings.warn(
                f"GaussianMixture: {which} collapsed to zero variance along some direction "
                "(duplicate points, a constant feature, or a component on too few points); "
                f"the variance is held at reg_covar={self.reg_covar:g}. Remove duplicates or "
                "constant features, reduce n_components, or increase reg_covar.",
                DegenerateComponentWarning,
                stacklevel=3,
            )

    @property
    def precisions_(self) -> np.ndarray:
        """Precision matrices (inverse covariances), shaped like ``covariances_``."""
        L = self.params_.precisions_cholesky
        if self.covariance_type == "full":
            return np.matmul(L, L.transpose(0, 2, 1))
        if self.covariance_type == "tied":
            return L @ L.T
        return L**2

    def _n_parameters(self) -> int:
        K, d = self.params_.means.shape
        return int(self._kind.n_cov_parameters(K, d) + K * d + K - 1)

    def icl(self, X: Any) -> float:
        """Integrated completed likelihood (Biernacki et al. 2000), as in mclust; lower is better.

        ``ICL = BIC - 2 sum_i log max_k p(z_i = k | x_i)``: BIC plus twice the entropy of the
        hard classification, which penalises overlapping components.
        """
        log_joint = self._log_joint_checked(X, {})
        _, log_norm = StepContext().posterior(log_joint)
        n = log_joint.shape[0]
        ll = float(np.sum(log_norm))
        log_map = np.max(log_joint, axis=1) - log_norm
        return -2.0 * ll + self._n_parameters() * np.log(n) - 2.0 * float(np.sum(log_map))

    def _sample(
        self, params: GaussianParams, labels: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, ...]:
        d = params.means.shape[1]
        z = rng.standard_normal(size=(labels.shape[0], d))
        cov = params.covariances
        if self.covariance_type == "full":
            C = np.linalg.cholesky(cov)
            X = params.means[labels] + np.einsum("nij,nj->ni", C[labels], z)
        elif self.covariance_type == "tied":
            X = params.means[labels] + z @ np.linalg.cholesky(cov).T
        elif self.covariance_type == "diag":
            X = params.means[labels] + z * np.sqrt(cov[labels])
        else:
            X = params.means[labels] + z * np.sqrt(cov[labels])[:, None]
        return (X,)


def _covariances_from_cholesky(covariance_type: str, prec_chol: np.ndarray) -> np.ndarray:
    if covariance_type == "full":
        P = np.matmul(prec_chol, prec_chol.transpose(0, 2, 1))
        return np.linalg.inv(P)
    if covariance_type == "tied":
        return np.linalg.inv(prec_chol @ prec_chol.T)
    return 1.0 / prec_chol**2


@dataclass
class _Partial:
    """Partial E-step result of a run of blocks."""

    loglik: float
    stats: dict[str, np.ndarray]

    @staticmethod
    def add(a: _Partial, b: _Partial) -> _Partial:
        a.loglik += b.loglik
        for key, value in b.stats.items():
            a.stats[key] += value
        return a


def _as_float64(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in stats.items()}


def _posterior(log_joint: np.ndarray, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
    """``ctx.posterior`` with a lean log-sum-exp for soft EM (same values, less overhead)."""
    if ctx.hard:
        return ctx.posterior(log_joint)
    top = log_joint.max(axis=1)
    with np.errstate(invalid="ignore"):  # rows of all -inf are reported by the engine
        resp = log_joint - top[:, None]
        np.exp(resp, out=resp)
        total = resp.sum(axis=1)
        resp /= total[:, None]
        return resp, np.log(total) + top


def _add_into(acc: dict[str, np.ndarray], part: dict[str, np.ndarray]) -> None:
    for key, value in part.items():
        if key in acc:
            acc[key] += value
        else:
            acc[key] = np.asarray(value, dtype=np.float64)
