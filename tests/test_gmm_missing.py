"""GaussianMixture(missing='em'): exact EM with values missing at random.

The batched E-step (rows grouped by missingness pattern) is checked against a row-by-row
reference written from the textbook formulas (Little & Rubin 2002, sec. 11.2; Ghahramani &
Jordan 1994), for all four covariance types; then the properties a user relies on.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from emkit import DataError
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.models import DegenerateComponentWarning, GaussianMixture
from emkit.models.gaussian_missing import AllMissingRowsWarning

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


@pytest.mark.filterwarnings("ignore::emkit.exceptions.ConvergenceWarning")
def test_a_row_with_nothing_observed_carries_no_information() -> None:
    X = _mcar(_mixture_data(150, 3, 6), 0.2, 7)
    X[[0, 5]] = np.nan  # rows with nothing observed
    kept = X[~np.isnan(X).all(axis=1)]
    with pytest.warns(AllMissingRowsWarning, match="carry no information"):
        a = GaussianMixture(3, missing="em", random_state=0).fit(X)
    # the same start without the empty rows gives the same fit (their likelihood is 1)
    start = a.params_
    c = GaussianMixture(3, missing="em", warm_start=True, max_iter=5, tol=0.0)
    c.params_ = start
    with pytest.warns(AllMissingRowsWarning):
        c.fit(X)
    d = GaussianMixture(3, missing="em", warm_start=True, max_iter=5, tol=0.0)
    d.params_ = start
    d.fit(kept)
    np.testing.assert_allclose(c.means_, d.means_, rtol=1e-12)
    np.testing.assert_allclose(c.covariances_, d.covariances_, rtol=1e-12)
    assert c.log_likelihood_ == pytest.approx(d.log_likelihood_, rel=1e-12)
    # predict / impute still answer for it: the prior and the mixture's mean
    np.testing.assert_allclose(a.predict_proba(X[:1] * np.nan), a.weights_[None])
    np.testing.assert_allclose(a.impute(X[:1] * np.nan)[0], a.weights_ @ a.means_)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.4])
def test_mcar_recovers_the_full_data_fit(covariance_type: str, rate: float) -> None:
    # 3000 rows, 4 features, three separated components. The tolerance is sampling error:
    # the missing-data MLE uses (1 - rate) of the values, so its error around the truth grows
    # like 1 / sqrt(n (1 - rate)); the means' standard error is about sigma / sqrt(n_k) ~ 0.05
    # here and the gap to the full-data fit should stay within a few of those (0.15), and the
    # covariances within 15 % of their scale. Diag and spherical models are misspecified for
    # these correlated components: their missing-data MLE then targets a slightly different
    # best approximation than the full-data one, so they get twice the tolerance.
    X = _mixture_data(3000, 4, 11)
    Xm = _mcar(X, rate, 12)
    Xm = Xm[~np.isnan(Xm).all(axis=1)]
    kw: dict[str, Any] = dict(covariance_type=covariance_type, random_state=0, tol=1e-6)
    full = GaussianMixture(3, **kw).fit(X)
    part = GaussianMixture(3, missing="em", max_iter=500, **kw).fit(Xm)
    order = [int(np.argmin(np.abs(part.means_ - m).sum(axis=1))) for m in full.means_]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(part.weights_[order], full.weights_, atol=0.03)
    loose = 1.0 if covariance_type in ("full", "tied") else 2.0
    np.testing.assert_allclose(part.means_[order], full.means_, atol=0.15 * loose)
    cov = part.covariances_ if covariance_type == "tied" else part.covariances_[order]
    scale = float(np.max(np.abs(full.covariances_)))
    np.testing.assert_allclose(cov, full.covariances_, atol=0.15 * loose * scale)


@st.composite
def _missing_data(d: st.DrawFn) -> np.ndarray:
    n = d(st.integers(12, 40))
    p = d(st.integers(2, 4))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    X = _mixture_data(n, max(p, 3), int(rng.integers(1 << 30)))[:, :p]
    drop = rng.random(X.shape) < d(st.floats(0.0, 0.5))
    drop[np.arange(n), rng.integers(0, p, size=n)] = False
    drop[:4] = False
    X[drop] = np.nan
    return X


@given(X=_missing_data(), ct=st.sampled_from(TYPES), seed=st.integers(0, 2**16), hard=st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_exact_em_never_lowers_the_observed_likelihood(
    X: np.ndarray, ct: str, seed: int, hard: bool
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm = GaussianMixture(
            2,
            covariance_type=ct,
            missing="em",
            reg_covar=0.0,
            hard=hard,
            random_state=seed,
            max_iter=30,
            tol=0.0,
        ).fit(X)
    # a covariance repaired (eigenvalues floored on a collapsing component) is no exact
    # M-step any more: such degenerate draws are not what this property is about
    assume(not any(issubclass(w.category, DegenerateComponentWarning) for w in caught))
    h = gm.log_likelihood_history_
    assert np.all(np.isfinite(h))
    assert np.all(np.diff(h) >= -1e-9 * (np.abs(h[:-1]) + X.shape[0])), h
    if not hard:  # the objective is the observed-data log-likelihood that score_samples gives
        assert gm.score_samples(X).sum() == pytest.approx(gm.score_samples(X).sum(), rel=1e-12)


@given(X=_missing_data(), ct=st.sampled_from(TYPES), seed=st.integers(0, 2**16))
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_imputations_keep_observed_values_and_draws_centre_on_the_mean(
    X: np.ndarray, ct: str, seed: int
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(2, covariance_type=ct, missing="em", random_state=seed).fit(X)
    seen = ~np.isnan(X)
    filled = gm.impute(X)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[seen], X[seen])
    draws = gm.sample_imputations(X, 400, random_state=seed)
    assert draws.shape == (400, *X.shape)
    np.testing.assert_array_equal(draws[:, seen], np.broadcast_to(X[seen], (400, seen.sum())))
    # with one component the conditional is Gaussian: the draws' mean is the conditional
    # mean within 5 standard errors of 400 draws (with several, a far component of posterior
    # 1e-3 is a rare event that the sample's spread does not show)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = GaussianMixture(1, covariance_type=ct, missing="em", random_state=seed).fit(X)
    draws = one.sample_imputations(X, 400, random_state=seed)
    sd = draws.std(axis=0)
    assert np.all(np.abs(draws.mean(axis=0) - one.impute(X)) <= 5 * sd / np.sqrt(400) + 1e-9)


def test_conditional_mean_of_one_gaussian_is_the_regression() -> None:
    # one component: E[x_M | x_O] = mu_M + S_MO S_OO^-1 (x_O - mu_O), with the fitted mu, S
    X = _mcar(_mixture_data(400, 3, 9)[:, :3], 0.2, 10)
    gm = GaussianMixture(1, missing="em", random_state=0).fit(X)
    mu, S = gm.means_[0], gm.covariances_[0]
    filled = gm.impute(X)
    for i in np.flatnonzero(np.isnan(X).any(axis=1) & ~np.isnan(X).all(axis=1))[:20]:
        o, m = ~np.isnan(X[i]), np.isnan(X[i])
        want = mu[m] + S[np.ix_(m, o)] @ np.linalg.solve(S[np.ix_(o, o)], X[i, o] - mu[o])
        np.testing.assert_allclose(filled[i, m], want, rtol=1e-10)


def test_imputer_in_a_pipeline() -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    from emkit.models import GaussianMixtureImputer

    X = _mixture_data(300, 4, 13)
    Xm = _mcar(X, 0.2, 14)
    Xm = Xm[~np.isnan(Xm).all(axis=1)]
    y = Xm[:, 0].copy()
    y[np.isnan(y)] = 0.0
    pipe = make_pipeline(GaussianMixtureImputer(random_state=0), LinearRegression())
    pipe.fit(Xm, y)
    assert np.isfinite(pipe.predict(Xm)).all()
    imp = pipe[0]
    assert (imp.n_components_, imp.covariance_type_) == min(imp.bic_, key=imp.bic_.get)
    out = imp.transform(Xm)
    np.testing.assert_array_equal(out[~np.isnan(Xm)], Xm[~np.isnan(Xm)])
    many = GaussianMixtureImputer(3, covariance_type="full", sample_posterior=True, random_state=1)
    a = many.fit_transform(Xm)
    b = many.set_params(random_state=2).fit(Xm).transform(Xm)
    assert not np.array_equal(a, b) and not np.isnan(a).any()
