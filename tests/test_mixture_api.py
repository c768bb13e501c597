"""What MixtureEstimator derives from a model's two hooks: sampling, scores, BIC/AIC."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from emkit import BernoulliMixture, BinomialMixture


def _coins(n: int, seed: int) -> np.ndarray:
    model = BinomialMixture(2, n_trials=20, theta_init=[[0.2], [0.8]], weights_init=[0.3, 0.7])
    model.set_params(max_iter=0).fit(np.array([[1.0], [2.0]]))
    return model.sample(n, random_state=seed)[0]


def test_sampling_is_reproducible_and_recovers_the_parameters() -> None:
    X = _coins(4000, seed=0)
    np.testing.assert_array_equal(X, _coins(4000, seed=0))
    fit = BinomialMixture(2, n_trials=20, n_init=3, random_state=0).fit(X)
    order = np.argsort(fit.theta_[:, 0])
    np.testing.assert_allclose(fit.theta_[order, 0], [0.2, 0.8], atol=0.02)
    np.testing.assert_allclose(fit.weights_[order], [0.3, 0.7], atol=0.03)


def test_score_samples_is_the_exact_mixture_density() -> None:
    X = np.array([[0.0], [3.0], [10.0]])
    model = BinomialMixture(2, n_trials=10, theta_init=[[0.3], [0.9]], weights_init=[0.4, 0.6])
    model.set_params(max_iter=0).fit(X)
    expected = np.log(0.4 * binom.pmf(X[:, 0], 10, 0.3) + 0.6 * binom.pmf(X[:, 0], 10, 0.9))
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12)
    assert model.score(X) == pytest.approx(expected.mean())


def test_per_row_trials_match_constant_trials() -> None:
    X = _coins(200, seed=1)
    a = BinomialMixture(2, n_trials=20, random_state=0, init="random_from_data").fit(X)
    b = BinomialMixture(2, random_state=0, init="random_from_data")
    b.fit(X, trials=np.full(len(X), 20))
    np.testing.assert_allclose(a.theta_, b.theta_, rtol=1e-12)
    np.testing.assert_allclose(b.predict_proba(X, trials=np.full(len(X), 20)), a.predict_proba(X))


def test_bic_prefers_the_true_number_of_components() -> None:
    X = _coins(1000, seed=2)
    bics = {
        k: BinomialMixture(k, n_trials=20, n_init=3, random_state=0).fit(X).bic(X)
        for k in (1, 2, 3)
    }
    assert min(bics, key=bics.__getitem__) == 2
    model = BinomialMixture(2, n_trials=20, random_state=0).fit(X)
    assert model.aic(X) == pytest.approx(-2 * model.score_samples(X).sum() + 2 * 3)


def test_fit_predict_equals_fit_then_predict() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((60, 4)) < np.repeat([[0.9, 0.9, 0.1, 0.1], [0.1, 0.2, 0.8, 0.9]], 30, 0)
    X = X.astype(float)
    labels = BernoulliMixture(2, random_state=3).fit_predict(X)
    model = BernoulliMixture(2, random_state=3).fit(X)
    np.testing.assert_array_equal(labels, model.predict(X))
    # the two planted groups are recovered (up to label switching)
    agreement = np.mean(labels == np.repeat([0, 1], 30))
    assert max(agreement, 1 - agreement) >= 0.95


def test_warm_start_continues_from_the_fitted_parameters() -> None:
    X = _coins(300, seed=4)
    cold = BinomialMixture(2, n_trials=20, random_state=0, max_iter=200, tol=1e-10).fit(X)
    warm = BinomialMixture(2, n_trials=20, warm_start=True, max_iter=200, tol=1e-10)
    warm.params_ = cold.params_
    warm.fit(X)
    assert warm.n_iter_ <= 2
    np.testing.assert_allclose(warm.theta_, cold.theta_, rtol=1e-6)


def test_float32_data_is_fitted_in_float32() -> None:
    X = _coins(500, seed=5)
    m64 = BinomialMixture(2, n_trials=20, random_state=0, init="random_from_data").fit(X)
    m32 = BinomialMixture(2, n_trials=20, random_state=0, init="random_from_data")
    m32.fit(X.astype(np.float32))
    assert m32.theta_.dtype == np.float32
    assert m32.predict_proba(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(m32.theta_, m64.theta_, rtol=1e-4)
