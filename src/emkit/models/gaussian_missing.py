r"""Gaussian mixtures with values missing at random: the exact EM of Ghahramani & Jordan (1994).

A row ``x`` with observed coordinates ``O`` and missing ones ``M`` (NaN) contributes its
*observed-data* likelihood ``sum_k w_k N(x_O | mu_kO, Sigma_kOO)``: the E-step uses the marginal
Gaussian of each component on the observed coordinates. The expected complete-data sufficient
statistics given ``x_O`` and ``z = k`` replace ``x`` by its conditional mean and add the
conditional covariance (Little & Rubin, *Statistical Analysis with Missing Data*, ch. 11):

.. math::

    \hat x_{ik} = \mu_k + \Sigma_k Q_{pk} (x_i - \mu_k)_O, \qquad
    E[x x^T \mid x_O, k] = \hat x_{ik} \hat x_{ik}^T + C_{pk}, \qquad
    C_{pk} = \Sigma_k - \Sigma_k Q_{pk} \Sigma_k

with ``Q_pk`` the inverse of ``Sigma_kOO`` embedded in a ``d x d`` zero matrix (so ``x_hat``
equals ``x`` on ``O`` and ``C`` is zero outside the ``M x M`` block). ``Q`` and ``C`` depend on the
row only through its **missingness pattern** ``p``: they are computed once per (pattern,
component) with one batched Cholesky of the embedded matrices ``Sigma_kOO (+) I_M`` (whose log
determinant is ``log det Sigma_kOO``), and every row of a pattern reuses them. Rows are sorted by
pattern and processed in groups of patterns, so memory stays bounded and there is no Python loop
per row (nor per component).

The statistics come out in exactly the format of the complete-data E-step of each covariance
type (:mod:`emkit.models.gaussian`), so the M-steps are shared and chunks with and without
missing values add up:

- **full**: the whitened moments ``W_k = L_k^T A_k L_k`` with ``A_k = sum_i r_ik E[(x - mu_k)
  (x - mu_k)^T]`` about the current means (and the first moments and ``n_k`` beside them);
- **tied**: ``sum_ik r_ik E[x]`` per component and ``sum_ik r_ik E[x x^T]`` shared;
- **diag / spherical**: with a diagonal ``Sigma_k`` the coordinates are independent given the
  component, so ``x_hat = mu_k`` and ``C = diag(sigma_k^2)`` on ``M`` (closed form, no pattern
  matrices); the expected complete-data log-likelihood is maximised by the variance of the
  expected squares, per coordinate (diag) or averaged over coordinates (spherical), which is
  the complete-data M-step applied to the expected statistics.

A row with every value missing has likelihood 1 under any parameters: it carries no
information and is left out of the statistics (its weight is reported as ``empty_rows`` and
the estimator warns).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from emkit._sklearn_api import validate_data
from emkit._validation import check_squares_finite
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import DataError
from emkit.models._blocks import stable_shift
from emkit.stats import Stats

__all__ = [
    "EMPTY_KEY",
    "AllMissingRowsWarning",
    "conditional_draws",
    "conditional_means",
    "e_step",
    "init_batch",
    "log_joint",
    "validate",
]

_LOG_2PI = math.log(2.0 * math.pi)

#: statistic holding the total weight of rows with every value missing
EMPTY_KEY = "empty_rows"

# float64 elements of the (rows or patterns, K, d, d) temporaries per group
_GROUP_ELEMENTS = 2**20


class AllMissingRowsWarning(UserWarning):
    """Some rows have every value missing: they carry no information and were left out."""


def validate(model: Any, X: Any, *, reset: bool) -> np.ndarray:
    """``X`` as a float array in which NaN marks a missing value (infinity is still an error).

    ``reset=False`` checks the number of features against the fit's.
    """
    try:
        X = np.asarray(
            validate_data(
                model,
                X,
                reset=reset,
                dtype=[np.float64, np.float32],
                ensure_min_samples=1,
                ensure_all_finite="allow-nan",
            )
        )
    except ValueError as error:
        if isinstance(error, DataError):
            raise
        raise DataError(str(error).split("\n")[0]) from None
    if X.dtype.kind == "f" and X.size:
        # the overflow check on the observed values (fmax / fmin skip NaN without a warning)
        probe = np.stack([np.fmax.reduce(X, axis=0), np.fmin.reduce(X, axis=0)])
        check_squares_finite(np.where(np.isnan(probe), 0.0, probe).astype(X.dtype))
    return X


def init_batch(batch: Batch) -> Batch:
    """The rows an initialisation sees: rows with an observed value, NaN replaced by the
    (weighted) mean of the observed values of their column.

    k-means (or the other starts) then runs as on complete data; EM proper corrects the
    covariances that mean imputation shrinks.
    """
    X, weight = batch.X, batch.weight
    if not has_missing(X):
        return batch
    obs = ~np.isnan(X)
    keep = np.flatnonzero(obs.any(axis=1))
    if keep.size == 0:
        raise DataError("every row of X has all values missing (NaN): nothing to fit")
    X, weight, obs = X[keep], weight[keep], obs[keep]
    mass = weight.astype(np.float64) @ obs
    unseen = np.flatnonzero(mass <= 0)
    if unseen.size:
        raise DataError(
            f"column(s) {unseen.tolist()} of X have no observed value (all NaN or zero weight) "
            "in the rows used for initialisation: drop them, nothing can be learnt about them"
        )
    means = (weight.astype(np.float64) @ np.where(obs, X, 0.0)) / mass
    filled = np.where(obs, X, means.astype(X.dtype)).astype(X.dtype, copy=False)
    return Batch((filled, *(a[keep] for a in batch.arrays[1:])), weight)


def warn_empty_rows(stats: Any) -> None:
    """Warn when the fit's rows included some with every value missing."""
    empty = float(np.asarray(stats[EMPTY_KEY])) if EMPTY_KEY in stats else 0.0
    if empty > 0:
        warnings.warn(
            f"GaussianMixture: rows of total weight {empty:g} have every value missing (NaN): "
            "they carry no information about the parameters and were left out of the fit "
            "(impute() fills them with the mixture's mean).",
            AllMissingRowsWarning,
            stacklevel=4,
        )


def has_missing(X: np.ndarray) -> bool:
    """Whether ``X`` holds any NaN (cheap: a sum is NaN only if some element is)."""
    if X.dtype.kind != "f" or X.size == 0:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isnan(np.sum(X)):
            return False
    return bool(np.isnan(X).any())


def _sigma(params: Any, covariance_type: str) -> np.ndarray:
    """Covariances as (K, d, d) (full) or (1, d, d) (tied)."""
    cov = np.asarray(params.covariances, dtype=np.float64)
    return cov if covariance_type == "full" else cov[None]


def _variances(params: Any, covariance_type: str) -> np.ndarray:
    """Per-coordinate variances (K, d) of diag / spherical components."""
    cov = np.asarray(params.covariances, dtype=np.float64)
    if covariance_type == "spherical":
        return np.repeat(cov[:, None], params.means.shape[1], axis=1)
    return cov


@dataclass
class _Group:
    """Rows of a few missingness patterns, with what every consumer needs.

    Attributes
    ----------
    rows : ndarray of int
        Positions of the rows in the input.
    log_gauss : ndarray (b, K)
        ``log N(x_O | mu_kO, Sigma_kOO)`` (no mixing weight).
    x_hat : ndarray (b, K, d)
        Conditional means minus the shift (observed coordinates exactly ``x - shift``).
    pattern : ndarray of int (b,)
        Index of each row's pattern within ``cond_cov``.
    cond_cov : ndarray (P, K or 1, d, d), or (b, K, d) for diagonal kinds
        Full / tied: ``Q``, the inverse of ``Sigma_OO`` embedded in zeros, per pattern (the
        conditional covariance is ``Sigma - Sigma Q Sigma``, see :func:`_dense_cond`);
        diag / spherical: the conditional variances of each row (zero where observed).
    """

    rows: np.ndarray
    log_gauss: np.ndarray
    x_hat: np.ndarray
    pattern: np.ndarray
    cond_cov: np.ndarray


def _dense_groups(
    Xc: np.ndarray, obs: np.ndarray, muc: np.ndarray, sigma: np.ndarray
) -> Iterator[_Group]:
    """Full / tied covariances: rows sorted by pattern, a batched Cholesky per group of patterns."""
    d = Xc.shape[1]
    Kq = sigma.shape[0]
    patterns, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(patterns)))])
    per_pattern = max(1, _GROUP_ELEMENTS // (Kq * d * d))
    eye = np.eye(d)
    for p0 in range(0, len(patterns), per_pattern):
        p1 = min(p0 + per_pattern, len(patterns))
        u = patterns[p0:p1].astype(np.float64)  # (P, d) 1 where observed
        both = u[:, None, :, None] * u[:, None, None, :]  # (P, 1, d, d)
        embedded = sigma[None] * both + (1.0 - u)[:, None, :, None] * eye  # Sigma_OO (+) I_M
        chol = np.linalg.cholesky(embedded)
        log_det = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        inv_chol = np.linalg.inv(chol)
        Q = np.matmul(inv_chol.transpose(0, 1, 3, 2), inv_chol) * both  # (P, Kq, d, d)
        n_obs = u.sum(axis=1)
        rows_all = order[bounds[p0] : bounds[p1]]
        step = max(1, _GROUP_ELEMENTS // (max(Kq, muc.shape[0]) * d * d))
        for s in range(0, rows_all.size, step):
            rows = rows_all[s : s + step]
            local = inverse[rows] - p0
            o = obs[rows]
            res = (Xc[rows][:, None, :] - muc[None]) * o[:, None, :]  # (b, K, d), 0 on M
            v = np.matmul(Q[local], res[..., None])[..., 0]  # Sigma_OO^-1 (x - mu)_O
            maha = np.einsum("bkd,bkd->bk", res, v)
            np.maximum(maha, 0.0, out=maha)
            delta = np.einsum("bkd,kde->bke", v, np.broadcast_to(sigma, (muc.shape[0], d, d)))
            x_hat = np.where(o[:, None, :], Xc[rows][:, None, :], muc[None] + delta)
            log_gauss = -0.5 * (maha + log_det[local] + (n_obs[local] * _LOG_2PI)[:, None])
            yield _Group(rows, log_gauss, x_hat, local, Q)


def _diag_group(Xc: np.ndarray, obs: np.ndarray, muc: np.ndarray, var: np.ndarray) -> _Group:
    """Diag / spherical covariances: everything in closed form, as GEMMs over all rows."""
    seen = obs.astype(np.float64)
    Xo = np.where(obs, Xc, 0.0)
    prec = 1.0 / var
    maha = (Xo * Xo) @ prec.T - 2.0 * Xo @ (muc * prec).T + seen @ (muc * muc * prec).T
    np.maximum(maha, 0.0, out=maha)
    log_gauss = -0.5 * (maha + seen @ np.log(var).T + (seen.sum(axis=1) * _LOG_2PI)[:, None])
    x_hat = np.where(obs[:, None, :], Xc[:, None, :], muc[None])
    cond = (1.0 - seen)[:, None, :] * var[None]
    return _Group(np.arange(Xc.shape[0]), log_gauss, x_hat, np.arange(Xc.shape[0]), cond)


def _groups(
    X: np.ndarray, params: Any, covariance_type: str, shift: np.ndarray
) -> Iterator[_Group]:
    """The rows of ``X`` (each with at least one observed value) in groups, with their
    marginal log-densities, conditional means and covariances."""
    obs = ~np.isnan(X)
    Xc = np.where(obs, X.astype(np.float64, copy=False) - shift, 0.0)
    muc = np.asarray(params.means, dtype=np.float64) - shift
    if covariance_type in ("full", "tied"):
        yield from _dense_groups(Xc, obs, muc, _sigma(params, covariance_type))
    else:
        yield _diag_group(Xc, obs, muc, _variances(params, covariance_type))


def _log_weights(params: Any) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(params.weights, dtype=np.float64))


def _split(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows without NaN, rows with some observed values and some NaN, rows all NaN."""
    nan = np.isnan(X)
    n_missing = nan.sum(axis=1)
    complete = np.flatnonzero(n_missing == 0)
    partial = np.flatnonzero((n_missing > 0) & (n_missing < X.shape[1]))
    empty = np.flatnonzero(n_missing == X.shape[1])
    return complete, partial, empty


def _partial_stats(
    X: np.ndarray,
    weight: np.ndarray,
    params: Any,
    covariance_type: str,
    ctx: StepContext,
) -> tuple[float, dict[str, np.ndarray]]:
    """Log-likelihood and expected statistics (in the complete-data E-step's format) of rows
    that have at least one observed value."""
    K, d = params.means.shape
    shift = stable_shift(params.means)
    muc = np.asarray(params.means, dtype=np.float64) - shift
    log_w = _log_weights(params)
    loglik = 0.0
    nk = np.zeros(K)
    sx = np.zeros((K, d))  # sum r (x_hat - shift)         (tied / diag)
    s_about = np.zeros((K, d))  # sum r (x_hat - mu_k)     (full)
    second = np.zeros((K, d, d))  # sum r E[..]E[..]^T (full: about mu_k; tied: about shift)
    sxx_diag = np.zeros((K, d))
    q_sum = np.zeros((K if covariance_type == "full" else 1, d, d))
    cond_sum = q_sum
    dense = covariance_type in ("full", "tied")
    for g in _groups(X, params, covariance_type, shift):
        resp, log_norm = ctx.posterior(g.log_gauss + log_w)
        w = weight[g.rows].astype(np.float64)
        loglik += float(np.dot(w, log_norm))
        wr = resp * w[:, None]
        nk += wr.sum(axis=0)
        if covariance_type == "full":
            e = g.x_hat - muc[None]
            s_about += np.einsum("bk,bkd->kd", wr, e)
            second += np.matmul((wr[:, :, None] * e).transpose(1, 2, 0), e.transpose(1, 0, 2))
        elif covariance_type == "tied":
            sx += np.einsum("bk,bkd->kd", wr, g.x_hat)
            flat = g.x_hat.reshape(-1, d)
            second[0] += (wr.reshape(-1, 1) * flat).T @ flat
        else:
            sx += np.einsum("bk,bkd->kd", wr, g.x_hat)
            sxx_diag += np.einsum("bk,bkd->kd", wr, g.x_hat * g.x_hat + g.cond_cov)
        if dense:  # sum_p mass_pk Q_pk; the conditional covariances follow in one product
            mass = np.zeros((g.cond_cov.shape[0], K))
            np.add.at(mass, g.pattern, wr)
            if covariance_type == "tied":
                q_sum[0] += np.einsum("p,pde->de", mass.sum(axis=1), g.cond_cov[:, 0])
            else:
                q_sum += np.einsum("pk,pkde->kde", mass, g.cond_cov)
    if dense:
        # sum_i r_ik C_ik = sum_p mass_pk (Sigma_k - Sigma_k Q_pk Sigma_k)
        sigma = _sigma(params, covariance_type)
        mass_k = nk if covariance_type == "full" else np.array([nk.sum()])
        cond_sum = mass_k[:, None, None] * sigma - np.matmul(np.matmul(sigma, q_sum), sigma)
        cond_sum = 0.5 * (cond_sum + cond_sum.transpose(0, 2, 1))
    if covariance_type == "full":
        L = np.asarray(params.precisions_cholesky, dtype=np.float64)
        A = second + cond_sum
        W = np.zeros((K, d + 1, d + 1))
        W[:, :d, :d] = np.matmul(np.matmul(L.transpose(0, 2, 1), A), L)
        W[:, :d, d] = np.einsum("kde,kd->ke", L, s_about)
        W[:, d, :d] = W[:, :d, d]
        W[:, d, d] = nk
        return loglik, {"W": W, "nk": nk}
    if covariance_type == "tied":
        return loglik, {"sx": sx, "sxx": second[0] + cond_sum[0], "nk": nk}
    return loglik, {"sx": sx, "sxx": sxx_diag, "nk": nk}


def e_step(model: Any, batch: Batch, params: Any, ctx: StepContext) -> Stats:
    """The E-step of :class:`~emkit.models.GaussianMixture` with ``missing='em'``.

    Rows without NaN go through the complete-data E-step unchanged (so data without missing
    values give exactly today's fit); rows with some missing values add their expected
    statistics; rows with none observed are counted in ``empty_rows`` only.
    """
    X, weight = batch.X, batch.weight
    total = float(np.sum(weight, dtype=np.float64))
    if not has_missing(X):
        stats = model._e_step_complete(batch, params, ctx)
        return stats.replace(**{EMPTY_KEY: np.zeros(())})
    complete, partial, empty = _split(X)
    loglik, acc = _partial_stats(X[partial], weight[partial], params, model.covariance_type, ctx)
    if complete.size:
        part = model._e_step_complete(batch.take(complete), params, ctx)
        loglik += part.loglik
        acc = {k: acc[k] + np.asarray(part[k], dtype=np.float64) for k in acc}
    acc[EMPTY_KEY] = np.asarray(float(np.sum(weight[empty], dtype=np.float64)))
    return Stats(loglik, total, **acc)


def log_joint(model: Any, X: np.ndarray, params: Any) -> np.ndarray:
    """``log w_k + log N(x_O | mu_kO, Sigma_kOO)`` for every row: shape (n, K). A row with
    nothing observed gets ``log w_k``."""
    complete, partial, empty = _split(X)
    K = params.means.shape[0]
    out = np.empty((X.shape[0], K), dtype=X.dtype)
    log_w = _log_weights(params)
    if complete.size:
        out[complete] = model._log_joint_complete(
            Batch((X[complete],), np.ones(complete.size)), params
        )
    if partial.size:
        shift = stable_shift(params.means)
        for g in _groups(X[partial], params, model.covariance_type, shift):
            out[partial[g.rows]] = g.log_gauss + log_w
    out[empty] = log_w
    return out


def _posterior_groups(
    X: np.ndarray, params: Any, covariance_type: str
) -> Iterator[tuple[np.ndarray, np.ndarray, _Group]]:
    """(rows of X, posterior, group) for the rows with some missing value."""
    partial_or_empty = np.flatnonzero(np.isnan(X).any(axis=1))
    shift = stable_shift(params.means)
    log_w = _log_weights(params)
    for g in _groups(X[partial_or_empty], params, covariance_type, shift):
        resp, _ = StepContext().posterior(g.log_gauss + log_w)
        g.x_hat += shift
        yield partial_or_empty[g.rows], resp, g


def conditional_means(X: np.ndarray, params: Any, covariance_type: str) -> np.ndarray:
    """``E[x_M | x_O]`` under the mixture filled into a copy of ``X`` (observed values kept):
    the posterior-weighted conditional means of the components."""
    out = np.array(X, dtype=np.float64)
    for rows, resp, g in _posterior_groups(X, params, covariance_type):
        out[rows] = np.einsum("bk,bkd->bd", resp, g.x_hat)
    out[~np.isnan(X)] = X[~np.isnan(X)]
    return out.astype(X.dtype, copy=False)


def conditional_draws(
    X: np.ndarray,
    params: Any,
    covariance_type: str,
    n_draws: int,
    rng: np.random.RandomState,
) -> np.ndarray:
    """``n_draws`` draws of ``x_M`` from ``p(x_M | x_O)`` (a component from the posterior, then
    its conditional Gaussian), filled into copies of ``X``: shape (n_draws, n, d)."""
    out = np.repeat(np.array(X, dtype=np.float64)[None], n_draws, axis=0)
    dense = covariance_type in ("full", "tied")
    for rows, resp, g in _posterior_groups(X, params, covariance_type):
        b, K, d = g.x_hat.shape
        cum = np.cumsum(resp, axis=1)
        u = rng.uniform(size=(n_draws, b, 1))
        z = np.minimum((u > cum[None]).sum(axis=2), K - 1)  # (n_draws, b)
        mean = g.x_hat[np.arange(b)[None], z]  # (n_draws, b, d)
        noise = rng.standard_normal(size=(n_draws, b, d))
        missing = np.isnan(X[rows]).astype(np.float64)
        if dense:
            # the Cholesky factor of C (+) I_O keeps C's block structure: noise stays on M
            cov = _dense_cond(g, params, covariance_type, missing)
            chol = np.linalg.cholesky(cov)  # (P, Kq, d, d)
            kq = np.minimum(z, chol.shape[1] - 1)
            factor = chol[g.pattern[None], kq]  # (n_draws, b, d, d)
            draw = mean + np.matmul(factor, noise[..., None])[..., 0] * missing[None]
        else:
            sd = np.sqrt(g.cond_cov[np.arange(b)[None], z])
            draw = mean + sd * noise
        out[:, rows] = np.where(missing[None] > 0, draw, out[:, rows])
    return out.astype(X.dtype, copy=False)


def _dense_cond(g: _Group, params: Any, covariance_type: str, missing: np.ndarray) -> np.ndarray:
    """``C (+) I_O`` of each pattern of a group: the conditional covariance of the missing
    coordinates, the identity on the observed ones (so that its Cholesky factor exists)."""
    P, _, d, _ = g.cond_cov.shape
    per_pattern = np.zeros((P, d))
    per_pattern[g.pattern] = missing
    sigma = _sigma(params, covariance_type)[None]
    cond = sigma - np.matmul(np.matmul(sigma, g.cond_cov), sigma)
    cond *= per_pattern[:, None, :, None] * per_pattern[:, None, None, :]
    cond = 0.5 * (cond + cond.transpose(0, 1, 3, 2))
    return cond + (1.0 - per_pattern)[:, None, :, None] * np.eye(d)
