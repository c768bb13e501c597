"""GaussianMixture(missing='em'): exact EM with values missing at random.

The batched E-step (rows grouped by missingness pattern) is checked against a row-by-row
reference written from the textbook formulas (Little & Rubin 2002, sec. 11.2; Ghahramani &
Jordan 1994), for all four covariance types; then the properties a user relies on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emkit import DataError
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.models import GaussianMixture

TYPES = ["full", "tied", "diag", "spherical"]


def _mixture_data(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d)) / np.sqrt(d)
    z = rng.integers(0, 3, size=n)
    centres = np.array([np.zeros(d), np.full(d, 4.0), np.r_[4.0, -4.0, np.zeros(d - 2)]])
    return centres[z] + rng.normal(size=(n, d)) @ (np.eye(d) + A)


def _mcar(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = X.copy()
    out[rng.random(X.shape) < rate] = np.nan
    return out


def _dense_cov(gm: GaussianMixture, params: Any) -> np.ndarray:
    K, d = params.means.shape
    c = params.covariances
    if gm.covariance_type == "full":
        return c
    if gm.covariance_type == "tied":
        return np.broadcast_to(c, (K, d, d))
    v = c if gm.covariance_type == "diag" else np.repeat(c[:, None], d, axis=1)
    return np.stack([np.diag(row) for row in v])


def _reference_iteration(
    gm: GaussianMixture, X: np.ndarray, w: np.ndarray, params: Any
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """One EM iteration, row by row: observed-data log-likelihood, new weights, means, covs."""
    K, d = params.means.shape
    S = _dense_cov(gm, params)
    N = np.zeros(K)
    S1 = np.zeros((K, d))
    S2 = np.zeros((K, d, d))
    loglik = 0.0
    for x, wi in zip(X, w, strict=True):
        o = ~np.isnan(x)
        m = ~o
        if not o.any():
            continue
        logp = np.array(
            [
                np.log(params.weights[k])
                + multivariate_normal(params.means[k][o], S[k][np.ix_(o, o)]).logpdf(x[o])
                for k in range(K)
            ]
        )
        top = logp.max()
        loglik += wi * (top + np.log(np.exp(logp - top).sum()))
        r = np.exp(logp - top) / np.exp(logp - top).sum()
        for k in range(K):
            xh = x.copy()
            C = np.zeros((d, d))
            if m.any():
                B = S[k][np.ix_(m, o)] @ np.linalg.inv(S[k][np.ix_(o, o)])
                xh[m] = params.means[k][m] + B @ (x[o] - params.means[k][o])
                C[np.ix_(m, m)] = S[k][np.ix_(m, m)] - B @ S[k][np.ix_(o, m)]
            N[k] += wi * r[k]
            S1[k] += wi * r[k] * xh
            S2[k] += wi * r[k] * (np.outer(xh, xh) + C)
    means = S1 / N[:, None]
    full = S2 / N[:, None, None] - np.einsum("kd,ke->kde", means, means)
    reg = gm.reg_covar
    if gm.covariance_type == "full":
        cov = full + reg * np.eye(d)
    elif gm.covariance_type == "tied":
        cov = np.einsum("k,kde->de", N, full) / N.sum() + reg * np.eye(d)
    elif gm.covariance_type == "diag":
        cov = np.diagonal(full, axis1=1, axis2=2) + reg
    else:
        cov = np.diagonal(full, axis1=1, axis2=2).mean(axis=1) + reg
    return loglik, N / N.sum(), means, cov


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_one_iteration_equals_the_row_by_row_reference(covariance_type: str, rate: float) -> None:
    X = _mcar(_mixture_data(120, 4, 1), rate, 2)
    X[3] = np.nan  # a row with nothing observed
    w = np.random.default_rng(3).uniform(0.2, 2.0, size=X.shape[0])
    gm = GaussianMixture(3, covariance_type=covariance_type, missing="em", random_state=0)
    batch = Batch((X,), w)
    params = gm.init_params(batch, np.random.RandomState(0))
    ctx = StepContext()
    stats = gm.e_step(batch, params, ctx)
    new = gm.m_step(stats, params, ctx)
    loglik, weights, means, cov = _reference_iteration(gm, X, w, params)
    assert stats.loglik == pytest.approx(loglik, rel=1e-10)
    assert float(stats["empty_rows"]) == pytest.approx(w[np.isnan(X).all(axis=1)].sum())
    np.testing.assert_allclose(new.weights, weights, rtol=1e-10)
    np.testing.assert_allclose(new.means, means, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(new.covariances, cov, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_without_nan_the_fit_is_todays_exactly(covariance_type: str) -> None:
    X = _mixture_data(200, 3, 4)
    w = np.random.default_rng(5).uniform(0.5, 2.0, size=X.shape[0])
    for hard in (False, True):
        kw: dict[str, Any] = dict(covariance_type=covariance_type, random_state=1, hard=hard)
        a = GaussianMixture(3, **kw).fit(X, sample_weight=w)
        b = GaussianMixture(3, missing="em", **kw).fit(X, sample_weight=w)
        for name in ("weights_", "means_", "covariances_", "log_likelihood_history_"):
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
        np.testing.assert_array_equal(b.predict_proba(X), a.predict_proba(X))


def test_default_rejects_nan_and_names_the_option() -> None:
    X = _mcar(_mixture_data(50, 3, 0), 0.2, 0)
    with pytest.raises(DataError, match=r"NaN.*missing='em'"):
        GaussianMixture(2).fit(X)
    with pytest.raises(DataError, match=r"infinity"):
        GaussianMixture(2, missing="em").fit(np.where(np.isnan(X), np.inf, X))
