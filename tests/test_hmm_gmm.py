"""GMMHMM: Gaussian-mixture emissions, against hmmlearn and against GaussianHMM.

hmmlearn 0.3's GMMHMM takes its covariance statistics about the means of the previous
iteration (``centered = X - self.means_`` in its E-step), which is not the exact M-step: after
one iteration its covariances are emkit's plus the mean shift ``(mu_new - mu_old)^2`` (tested
to 1e-10). So the parity is stated three ways: with the covariances held fixed (``params``
without ``c``) both run the same exact EM and agree after 1, 10 and 50 iterations; with them
learned, one iteration differs by exactly that term; and hmmlearn's converged parameters are a
fixed point of emkit's iteration (to 1e-6).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from emkit import ConvergenceWarning, DataError, ParameterError, load
from emkit.hmm import GMMHMM, GaussianHMM

hmm = pytest.importorskip("hmmlearn.hmm", reason="hmmlearn is not installed (pip install hmmlearn)")

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)

K, M, D = 2, 2, 2
LENGTHS = [200, 250, 150]
START = np.array([0.6, 0.4])
TRANS = np.array([[0.9, 0.1], [0.2, 0.8]])
WEIGHTS = np.full((K, M), 0.5)
CENTRES = np.array([[[0.0, 0.0], [3.0, 0.0]], [[0.0, 6.0], [3.0, 6.0]]])
COVARS = {
    "diag": np.ones((K, M, D)),
    "full": np.tile(np.eye(D) + 0.2, (K, M, 1, 1)),
    "spherical": np.ones((K, M)),
    "tied": np.tile(np.eye(D) + 0.2, (K, 1, 1)),
}
RTOL = 1e-6


def _data(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = sum(LENGTHS)
    z = np.zeros(n, dtype=int)
    for t in range(1, n):
        z[t] = z[t - 1] if rng.uniform() < TRANS[z[t - 1], z[t - 1]] else 1 - z[t - 1]
    c = rng.integers(0, M, size=n)
    return CENTRES[z, c] + 0.7 * rng.normal(size=(n, D))


def _hmmlearn(covariance_type: str, n_iter: int, params: str, X: np.ndarray, **start: Any) -> Any:
    # hmmlearn's default spherical prior is not maximum likelihood: -d/2 - 1 is
    kw = {"covars_prior": -D / 2 - 1} if covariance_type == "spherical" else {}
    tol = 1e-11 if n_iter > 100 else -np.inf
    model = hmm.GMMHMM(
        K, M, covariance_type=covariance_type, n_iter=n_iter, tol=tol, init_params="",
        params=params, **kw,
    )  # fmt: skip
    model.startprob_ = start.get("startprob", START)
    model.transmat_ = start.get("transmat", TRANS)
    model.weights_ = start.get("weights", WEIGHTS)
    model.means_ = start.get("means", CENTRES + 0.4)
    model.covars_ = start.get("covars", COVARS[covariance_type])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, LENGTHS)


def _emkit(covariance_type: str, n_iter: int, params: str, X: np.ndarray, **start: Any) -> GMMHMM:
    model = GMMHMM(
        K,
        M,
        covariance_type,
        reg_covar=0.0,
        params=params,
        startprob_init=start.get("startprob", START),
        transmat_init=start.get("transmat", TRANS),
        weights_init=start.get("weights", WEIGHTS),
        means_init=start.get("means", CENTRES + 0.4),
        covars_init=start.get("covars", COVARS[covariance_type]),
        max_iter=n_iter,
        tol=0.0,
    )
    return model.fit(X, LENGTHS)


@pytest.mark.parametrize("n_iter", [1, 10, 50])
@pytest.mark.parametrize("covariance_type", list(COVARS))
def test_matches_hmmlearn_with_the_covariances_fixed(covariance_type: str, n_iter: int) -> None:
    X = _data()
    theirs = _hmmlearn(covariance_type, n_iter, "stmw", X)
    ours = _emkit(covariance_type, n_iter, "stmw", X)
    assert ours.n_iter_ == n_iter
    for name in ("startprob_", "transmat_", "weights_", "means_", "covars_"):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=RTOL, atol=1e-12, err_msg=name
        )
    np.testing.assert_allclose(ours.score(X, LENGTHS), theirs.score(X, LENGTHS), rtol=RTOL)
    np.testing.assert_array_equal(ours.predict(X, LENGTHS), theirs.predict(X, LENGTHS))
    np.testing.assert_allclose(
        ours.predict_proba(X, LENGTHS), theirs.predict_proba(X, LENGTHS), atol=1e-9
    )


@pytest.mark.parametrize("covariance_type", list(COVARS))
def test_one_learned_covariance_step_is_hmmlearns_less_its_mean_shift(
    covariance_type: str,
) -> None:
    """hmmlearn's covariance about the old means is the exact one plus the mean shift."""
    X = _data()
    theirs = _hmmlearn(covariance_type, 1, "stmcw", X)
    ours = _emkit(covariance_type, 1, "stmcw", X)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-10)
    np.testing.assert_allclose(ours.weights_, theirs.weights_, rtol=1e-10)
    delta = ours.means_ - (CENTRES + 0.4)
    shift = {
        "diag": delta**2,
        "full": delta[..., :, None] * delta[..., None, :],
        "spherical": np.mean(delta**2, axis=-1),
        # per state, the components' shifts weighted by their share (the new weights)
        "tied": np.einsum("km,kmd,kme->kde", ours.weights_, delta, delta),
    }[covariance_type]
    np.testing.assert_allclose(theirs.covars_, ours.covars_ + shift, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(shift)) > 1e-3  # the start was off: the difference is real


@pytest.mark.parametrize("covariance_type", list(COVARS))
def test_hmmlearns_converged_parameters_are_a_fixed_point(covariance_type: str) -> None:
    X = _data()
    theirs = _hmmlearn(covariance_type, 3000, "stmcw", X)
    start = {
        k: getattr(theirs, f"{k}_") for k in ("startprob", "transmat", "weights", "means", "covars")
    }
    ours = _emkit(covariance_type, 1, "stmcw", X, **start)
    for name in ("startprob_", "transmat_", "weights_", "means_", "covars_"):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=RTOL, atol=1e-6, err_msg=name
        )


@pytest.mark.parametrize(
    ("covariance_type", "single"),
    [("diag", "diag"), ("full", "full"), ("spherical", "spherical"), ("tied", "full")],
)
def test_one_gaussian_per_state_is_gaussian_hmm(covariance_type: str, single: str) -> None:
    """n_mix=1 is GaussianHMM (a covariance tied within a state of one component is that
    state's own full covariance)."""
    X = _data(1)
    kw = {"random_state": 0, "max_iter": 15, "tol": 0.0}
    mixture = GMMHMM(K, 1, covariance_type, **kw).fit(X, LENGTHS)  # type: ignore[arg-type]
    start = mixture.set_params(max_iter=0).fit(X, LENGTHS).params_
    cov = start.covars[:, 0] if covariance_type != "tied" else start.covars
    single_start = {
        "startprob_init": start.startprob,
        "transmat_init": start.transmat,
        "means_init": start.means[:, 0],
        "covars_init": cov,
    }
    gauss = GaussianHMM(K, single, max_iter=15, tol=0.0, **single_start).fit(X, LENGTHS)
    mixture = GMMHMM(
        K,
        1,
        covariance_type,
        max_iter=15,
        tol=0.0,
        startprob_init=start.startprob,
        transmat_init=start.transmat,
        means_init=start.means,
        covars_init=start.covars,
    ).fit(X, LENGTHS)
    np.testing.assert_allclose(mixture.means_[:, 0], gauss.means_, rtol=1e-10)
    cov = mixture.covars_[:, 0] if covariance_type != "tied" else mixture.covars_
    np.testing.assert_allclose(cov, gauss.covars_, rtol=1e-10)
    np.testing.assert_allclose(mixture.transmat_, gauss.transmat_, rtol=1e-10)
    np.testing.assert_allclose(mixture.log_likelihood_history_, gauss.log_likelihood_history_)


def test_sampled_data_recover_the_model() -> None:
    """20,000 steps sampled from a 2-state, 2-component model: a fit from k-means finds the
    centres to 0.05 and the transitions to 0.02 (standard errors are about 0.01)."""
    truth = _emkit("diag", 0, "stmcw", _data())
    truth.set_params(means_init=CENTRES, covars_init=np.full((K, M, D), 0.25))
    truth.fit(_data(), LENGTHS)
    X, _ = truth.sample(20_000, random_state=3)
    model = GMMHMM(K, M, "diag", n_init=3, random_state=0).fit(X)
    order = np.argsort(model.means_[:, :, 1].mean(axis=1))
    means = model.means_[order]
    means = np.take_along_axis(means, np.argsort(means[:, :, 0], axis=1)[:, :, None], axis=1)
    np.testing.assert_allclose(means, CENTRES, atol=0.05)
    np.testing.assert_allclose(model.transmat_[np.ix_(order, order)], TRANS, atol=0.02)
    np.testing.assert_allclose(model.weights_, 0.5, atol=0.03)
    assert np.all(np.diff(model.log_likelihood_history_) >= -1e-9 * abs(model.log_likelihood_))


def test_save_load_and_model_selection(tmp_path: Any) -> None:
    X = _data()
    model = GMMHMM(K, M, "full", random_state=0, max_iter=20).fit(X, LENGTHS)
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(X, LENGTHS), model.predict(X, LENGTHS))
    assert again.score(X, LENGTHS) == model.score(X, LENGTHS)
    # (K - 1) + K (K - 1) + K (M - 1) + K M d + K M d (d + 1) / 2 free parameters
    assert model._n_parameters() == 1 + 2 + 2 + 8 + 12
    one = GMMHMM(K, 1, "full", random_state=0, max_iter=20).fit(X, LENGTHS)
    assert model.bic(X, LENGTHS) < one.bic(X, LENGTHS)  # the data have two blobs per state


def test_bad_starts_and_data_are_clear_errors() -> None:
    X = _data()
    with pytest.raises(ParameterError, match=r"means_init must be finite with shape \(2, 2, 2\)"):
        GMMHMM(K, M, means_init=np.zeros((K, D))).fit(X)
    with pytest.raises(ParameterError, match=r"covars_init for covariance_type='tied'"):
        GMMHMM(K, M, "tied", covars_init=np.ones((K, M, D, D))).fit(X)
    with pytest.raises(ParameterError, match="rows of weights_init must sum to 1"):
        GMMHMM(K, M, weights_init=np.ones((K, M))).fit(X)
    with pytest.raises(DataError, match="4 Gaussians need at least 4 observations"):
        GMMHMM(K, M).fit(X[:3])
    with pytest.raises(DataError, match="NaN"):
        GMMHMM(K, M).fit(np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X))
    with pytest.raises(ParameterError, match="n_mix"):
        GMMHMM(K, 0).fit(X)
