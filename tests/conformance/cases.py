"""The models every conformance test runs over. A new model registers by appending a Case.

A case says how to build the estimator and how hypothesis draws valid data for it; the tests in
``test_conformance.py`` then check the engine's guarantees for every case automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from emkit import BernoulliMixture, BinomialMixture, EMEstimator
from emkit.examples.genetic_linkage import GeneticLinkage
from emkit.models import GaussianMixture, KMeans

__all__ = ["CASES", "Case", "FitData"]


@dataclass(frozen=True)
class FitData:
    """Data for one fit: X, per-row extras passed to fit/predict (e.g. trials)."""

    X: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def rows(self, index: np.ndarray) -> FitData:
        return FitData(self.X[index], {k: v[index] for k, v in self.extra.items()})


@dataclass(frozen=True)
class Case:
    """A registered model.

    Attributes
    ----------
    name : str
    make : callable
        ``make(**overrides) -> estimator``; overrides include random_state, hard, max_iter, tol.
    data : hypothesis strategy of FitData
        Valid data, with at least as many rows as the estimator's components.
    mixture : bool
        Whether the estimator is a MixtureEstimator (predict_proba etc. are tested).
    """

    name: str
    make: Callable[..., EMEstimator[Any]]
    data: st.SearchStrategy[FitData]
    mixture: bool = True


def _binary(n_min: int = 2) -> st.SearchStrategy[FitData]:
    @st.composite
    def draw(d: st.DrawFn) -> FitData:
        n = d(st.integers(n_min, 40))
        p = d(st.integers(1, 5))
        seed = d(st.integers(0, 2**31))
        rng = np.random.default_rng(seed)
        return FitData(rng.integers(0, 2, size=(n, p)).astype(np.float64))

    return draw()


@st.composite
def _binomial_data(d: st.DrawFn) -> FitData:
    n = d(st.integers(2, 40))
    p = d(st.integers(1, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    trials = rng.integers(1, 30, size=(n, 1)).astype(np.float64)
    X = rng.binomial(trials.astype(int), rng.uniform(0.05, 0.95, size=(n, p))).astype(float)
    return FitData(X, {"trials": trials[:, 0]})


@st.composite
def _linkage_data(d: st.DrawFn) -> FitData:
    n = d(st.integers(3, 60))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    cells = rng.choice(4, size=n, p=[0.55, 0.1, 0.1, 0.25])
    cells[:2] = [1, 3]  # theta must stay inside (0, 1)
    return FitData(cells.reshape(-1, 1).astype(float))


CASES: list[Case] = [
    Case(
        "binomial",
        lambda **kw: BinomialMixture(2, **{"init": "random_from_data", **kw}),
        _binomial_data(),
    ),
    Case("bernoulli", lambda **kw: BernoulliMixture(2, **kw), _binary()),
    Case("genetic_linkage", lambda **kw: GeneticLinkage(**kw), _linkage_data()),
]


@st.composite
def _blobs(d: st.DrawFn) -> FitData:
    """Two well-separated clusters of at least 6 distinct points each, 1 to 3 features."""
    n_a = d(st.integers(6, 20))
    n_b = d(st.integers(6, 20))
    p = d(st.integers(1, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    scale = d(st.sampled_from([1e-2, 1.0, 1e3]))
    offset = d(st.sampled_from([0.0, 1e4]))
    a = rng.normal(0.0, 1.0, size=(n_a, p))
    b = rng.normal(20.0, 1.0, size=(n_b, p))
    return FitData(offset + scale * np.vstack([a, b]))


def _gmm(covariance_type: str) -> Callable[..., EMEstimator[Any]]:
    def make(**kw: Any) -> EMEstimator[Any]:
        return GaussianMixture(2, covariance_type=covariance_type, **kw)

    return make


CASES += [
    Case("gmm_full", _gmm("full"), _blobs()),
    Case("gmm_diag", _gmm("diag"), _blobs()),
    Case("kmeans", lambda **kw: KMeans(2, **kw), _blobs()),
]


@st.composite
def _figure_ground(d: st.DrawFn) -> FitData:
    """Pixel colours of a background and a foreground cluster (10 to 24 each, 1 to 3 channels),
    with a prior that clamps some pixels to their own class and leans the others towards it."""
    n_a = d(st.integers(10, 24))
    n_b = d(st.integers(10, 24))
    p = d(st.integers(1, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    X = np.vstack([rng.normal(0.0, 1.0, size=(n_a, p)), rng.normal(20.0, 1.0, size=(n_b, p))])
    prior = np.concatenate(
        [rng.choice([-np.inf, -4.0], size=n_a), rng.choice([np.inf, 4.0], size=n_b)]
    )
    prior[:5] = -np.inf  # enough clamped pixels that neither class starts from a handful
    prior[n_a : n_a + 5] = np.inf
    return FitData(X, {"prior": prior})


def _figure_ground_mixture(**kw: Any) -> EMEstimator[Any]:
    from emkit.image import FigureGroundMixture

    return FigureGroundMixture(1, reg_covar=1e-6, **kw)


CASES += [Case("figure_ground", _figure_ground_mixture, _figure_ground())]
