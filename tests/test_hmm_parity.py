"""Parity with hmmlearn: from the same start, the same parameters, log-likelihood and path.

hmmlearn is installed by the test set-up (the ``dev`` extra); without it these tests skip.
emkit's ``reg_covar=0`` is hmmlearn's ``covars_prior=0``; hmmlearn runs exactly ``n_iter``
iterations with ``tol=-inf`` and emkit with ``tol=0``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from emkit.hmm import CategoricalHMM, GaussianHMM, PoissonHMM

hmm = pytest.importorskip("hmmlearn.hmm", reason="hmmlearn is not installed (pip install hmmlearn)")

K = 3
LENGTHS = [60, 90, 35, 15]
N = sum(LENGTHS)
START = np.array([0.5, 0.3, 0.2])
TRANS = np.array([[0.8, 0.1, 0.1], [0.15, 0.7, 0.15], [0.05, 0.15, 0.8]])
ITERATIONS = [1, 10, 50]
RTOL = 1e-6


def _states(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = np.empty(N, dtype=int)
    z[0] = 0
    for t in range(1, N):
        z[t] = rng.choice(K, p=TRANS[z[t - 1]])
    return z


def _hmmlearn(make: Any, n_iter: int, X: np.ndarray, **init: Any) -> Any:
    # hmmlearn's convergence monitor takes n_iter and tol from the constructor
    model = make(n_iter=n_iter, tol=-np.inf, init_params="")
    model.startprob_, model.transmat_ = START, TRANS
    for name, value in init.items():
        setattr(model, name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, LENGTHS)


def _emkit(model: Any, X: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, lengths=LENGTHS)


def _check_common(ours: Any, theirs: Any, X: np.ndarray) -> None:
    np.testing.assert_allclose(ours.startprob_, theirs.startprob_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.transmat_, theirs.transmat_, rtol=RTOL, atol=1e-12)
    reference = theirs.score(X, LENGTHS)
    np.testing.assert_allclose(ours.log_likelihood_, reference, rtol=RTOL)
    np.testing.assert_allclose(ours.score(X, LENGTHS), reference, rtol=RTOL)
    np.testing.assert_array_equal(ours.predict(X, LENGTHS), theirs.predict(X, LENGTHS))
    np.testing.assert_allclose(
        ours.predict_proba(X, LENGTHS), theirs.predict_proba(X, LENGTHS), rtol=RTOL, atol=1e-10
    )


COVARS = {
    "diag": lambda d: np.ones((K, d)) * 1.5,
    "full": lambda d: np.tile(np.eye(d) * 1.5 + 0.3, (K, 1, 1)),
    "tied": lambda d: np.eye(d) * 1.5 + 0.3,
    "spherical": lambda d: np.full(K, 1.5),
}


@pytest.mark.parametrize("n_iter", ITERATIONS)
@pytest.mark.parametrize("covariance_type", list(COVARS))
def test_gaussian_matches_hmmlearn(covariance_type: str, n_iter: int) -> None:
    rng = np.random.default_rng(0)
    d = 2
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [8.0, 0.0]])
    X = centres[_states(0)] + rng.normal(size=(N, d))
    means = centres + 0.3
    covars = COVARS[covariance_type](d)
    theirs = _hmmlearn(
        lambda **kw: hmm.GaussianHMM(K, covariance_type=covariance_type, covars_prior=0.0, **kw),
        n_iter,
        X,
        means_=means,
        covars_=covars,
    )
    ours = _emkit(
        GaussianHMM(
            K,
            covariance_type,
            reg_covar=0.0,
            startprob_init=START,
            transmat_init=TRANS,
            means_init=means,
            covars_init=covars,
            max_iter=n_iter,
            tol=0.0,
        ),
        X,
    )
    assert ours.n_iter_ == n_iter
    _check_common(ours, theirs, X)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=RTOL)
    # hmmlearn keeps covariances in the covariance_type's layout in _covars_ (spherical: tiled)
    expected = theirs._covars_[:, 0] if covariance_type == "spherical" else theirs._covars_
    np.testing.assert_allclose(ours.covars_, expected, rtol=RTOL)


@pytest.mark.parametrize("n_iter", ITERATIONS)
def test_categorical_matches_hmmlearn(n_iter: int) -> None:
    rng = np.random.default_rng(1)
    truth = np.array([[0.6, 0.2, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.2, 0.6]])
    z = _states(1)
    X = np.array([[rng.choice(4, p=truth[k])] for k in z])
    start_e = np.array([[0.4, 0.2, 0.2, 0.2], [0.2, 0.4, 0.2, 0.2], [0.2, 0.2, 0.2, 0.4]])
    theirs = _hmmlearn(lambda **kw: hmm.CategoricalHMM(K, **kw), n_iter, X, emissionprob_=start_e)
    ours = _emkit(
        CategoricalHMM(
            K,
            startprob_init=START,
            transmat_init=TRANS,
            emissionprob_init=start_e,
            max_iter=n_iter,
            tol=0.0,
        ),
        X,
    )
    _check_common(ours, theirs, X)
    np.testing.assert_allclose(ours.emissionprob_, theirs.emissionprob_, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("n_iter", ITERATIONS)
def test_poisson_matches_hmmlearn(n_iter: int) -> None:
    rng = np.random.default_rng(2)
    rates = np.array([[1.0, 4.0], [6.0, 2.0], [12.0, 9.0]])
    X = rng.poisson(rates[_states(2)]).astype(float)
    start_l = rates * 0.7 + 1.0
    theirs = _hmmlearn(lambda **kw: hmm.PoissonHMM(K, **kw), n_iter, X, lambdas_=start_l)
    ours = _emkit(
        PoissonHMM(
            K,
            startprob_init=START,
            transmat_init=TRANS,
            lambdas_init=start_l,
            max_iter=n_iter,
            tol=0.0,
        ),
        X,
    )
    _check_common(ours, theirs, X)
    np.testing.assert_allclose(ours.lambdas_, theirs.lambdas_, rtol=RTOL)


@pytest.mark.parametrize("n_iter", ITERATIONS)
def test_dirichlet_priors_match_hmmlearn(n_iter: int) -> None:
    """MAP-EM with Dirichlet priors on the start and transition rows: hmmlearn's rule
    ``max(alpha - 1 + counts, 0)``, normalised (concentrations above and below 1)."""
    rng = np.random.default_rng(3)
    rates = np.array([[1.0, 4.0], [6.0, 2.0], [12.0, 9.0]])
    X = rng.poisson(rates[_states(3)]).astype(float)
    start_prior = np.array([3.0, 1.0, 0.8])
    trans_prior = np.array([[20.0, 1.0, 1.5], [2.0, 5.0, 1.0], [0.9, 1.0, 8.0]])
    lambdas = rates * 1.2
    theirs = _hmmlearn(
        lambda **kw: hmm.PoissonHMM(
            K, startprob_prior=start_prior, transmat_prior=trans_prior, **kw
        ),
        n_iter,
        X,
        lambdas_=lambdas,
    )
    ours = _emkit(
        PoissonHMM(
            K,
            startprob_prior=start_prior,
            transmat_prior=trans_prior,
            startprob_init=START,
            transmat_init=TRANS,
            lambdas_init=lambdas,
            max_iter=n_iter,
            tol=0.0,
        ),
        X,
    )
    np.testing.assert_allclose(ours.startprob_, theirs.startprob_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.transmat_, theirs.transmat_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.lambdas_, theirs.lambdas_, rtol=RTOL)
    np.testing.assert_allclose(ours.score(X, LENGTHS), theirs.score(X, LENGTHS), rtol=RTOL)
    # the prior moved the answer: the maximum-likelihood fit differs
    free = _emkit(
        PoissonHMM(
            K,
            startprob_init=START,
            transmat_init=TRANS,
            lambdas_init=lambdas,
            max_iter=n_iter,
            tol=0.0,
        ),
        X,
    )
    assert np.abs(free.transmat_ - ours.transmat_).max() > 1e-3
