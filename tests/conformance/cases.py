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
    independent_rows : bool
        Whether the model's statistics are sums over rows that may be cut anywhere (no hidden
        variable shared by rows): such models must give the in-memory answer on the streamed
        and Dask executors (``test_executors.py``). Opt-in.
    """

    name: str
    make: Callable[..., EMEstimator[Any]]
    data: st.SearchStrategy[FitData]
    mixture: bool = True
    independent_rows: bool = False


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
        independent_rows=True,
    ),
    Case("bernoulli", lambda **kw: BernoulliMixture(2, **kw), _binary(), independent_rows=True),
    Case(
        "genetic_linkage",
        lambda **kw: GeneticLinkage(**kw),
        _linkage_data(),
        independent_rows=True,
    ),
]
