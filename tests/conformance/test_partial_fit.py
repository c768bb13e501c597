"""Online (stepwise) EM guarantees for every registered model that supports it (cases.py)."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emkit import ConvergenceWarning
from emkit.exceptions import ParameterError
from emkit.models.gaussian import DegenerateComponentWarning
from emkit.online import StepSize
from tests.conformance.cases import CASES, Case, FitData

pytestmark = [
    pytest.mark.filterwarnings(f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"),
    # a state a tiny sequence never visits: warned, the parameters stay finite
    pytest.mark.filterwarnings("ignore::emkit.hmm._base.UnvisitedStateWarning"),
]

ONLINE = [c for c in CASES if c.make().supports_online]
OFFLINE = [c for c in CASES if not c.make().supports_online]
SOME = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _finite_params(est: Any) -> None:
    for f in dataclasses.fields(est.params_):
        value = np.asarray(getattr(est.params_, f.name), dtype=np.float64)
        assert np.all(np.isfinite(value)), (f.name, value)


def _batches(d: FitData, cuts: list[int]) -> list[FitData]:
    """Consecutive batches of units (rows, or whole sequences) cut at ``cuts``."""
    n = d.n_units
    bounds = [0, *sorted({c for c in cuts if 0 < c < n}), n]
    return [d.repeat(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]


def test_the_registry_has_online_models() -> None:
    names = {c.name for c in ONLINE}
    assert {"binomial", "bernoulli", "multinomial", "gmm_full", "gmm_diag", "kmeans"} <= names
    assert {"hmm_gaussian_full", "hmm_categorical", "hmm_poisson"} <= names


@pytest.mark.parametrize("case", ONLINE, ids=lambda c: c.name)
@given(
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    hard=st.booleans(),
    kappa=st.floats(0.51, 1.0),
    t0=st.floats(0.0, 20.0),
)
@SOME
def test_partial_fit_never_gives_nan(
    case: Case, data: st.DataObject, seed: int, hard: bool, kappa: float, t0: float
) -> None:
    """From scratch, batch after batch (the first at least half the rows, so that it can seed
    every component), parameters and the running log-likelihood stay finite."""
    d: FitData = data.draw(case.data)
    n = d.n_units
    first = max((n + 1) // 2, min(n, 3))  # at least n_components rows (3 for the largest K)
    cuts = data.draw(st.lists(st.integers(first, n), max_size=3))
    est = case.make(random_state=seed, hard=hard)
    step = StepSize(kappa, t0)
    with warnings.catch_warnings():
        # a batch of a few identical points may collapse a covariance: warned, still finite
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        for i, b in enumerate(_batches(d, [first, *cuts])):
            est.partial_fit(b.X, step_size=step, **b.fit_kw)
            _finite_params(est)
            assert np.isfinite(est.lower_bound_)
            assert est.n_iter_ == i + 1
        # and a second epoch over the same rows
        est.partial_fit(d.X, **d.fit_kw)
        _finite_params(est)


@pytest.mark.parametrize("case", ONLINE, ids=lambda c: c.name)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), hard=st.booleans())
@SOME
def test_partial_fit_weights_equal_repetition(
    case: Case, data: st.DataObject, seed: int, hard: bool
) -> None:
    """Within one batch an integer weight w is the same as w copies of the row: after a fit,
    two partial_fit steps (the second averaging with rho < 1) agree to round-off."""
    d: FitData = data.draw(case.data)
    n = d.n_units  # rows, or whole sequences
    rng = np.random.default_rng(seed)
    fitted = case.make(random_state=seed, hard=hard, max_iter=3, tol=0.0).fit(d.X, **d.fit_kw)
    weighted, repeated = copy.deepcopy(fitted), copy.deepcopy(fitted)
    for _ in range(2):
        units = np.sort(rng.choice(n, size=max(1, n // 2), replace=False))
        weight = rng.integers(1, 4, size=units.size).astype(float)
        b = d.repeat(units)
        weighted.partial_fit(b.X, sample_weight=b.row_weights(weight), **b.fit_kw)
        copies = np.repeat(np.arange(units.size), weight.astype(int))
        r = b.repeat(copies)
        repeated.partial_fit(r.X, **r.fit_kw)
    for key in case.row_params:  # the last batch's own rows (PLSA's folded-in documents)
        np.testing.assert_allclose(
            getattr(repeated.params_, key),
            getattr(weighted.params_, key)[copies],
            rtol=1e-8,
            atol=1e-12,
            err_msg=key,
        )
    for f in dataclasses.fields(weighted.params_):
        if f.name in case.row_params:
            continue
        a = np.asarray(getattr(weighted.params_, f.name))
        b_ = np.asarray(getattr(repeated.params_, f.name))
        scale = float(np.max(np.abs(b_), initial=0.0))
        np.testing.assert_allclose(a, b_, rtol=1e-8, atol=1e-12 + 1e-8 * scale, err_msg=f.name)
    np.testing.assert_allclose(weighted.lower_bound_, repeated.lower_bound_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", OFFLINE, ids=lambda c: c.name)
@given(data=st.data())
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_models_without_online_em_refuse_clearly(case: Case, data: st.DataObject) -> None:
    d: FitData = data.draw(case.data)
    with pytest.raises(ParameterError, match="does not support online EM"):
        case.make().partial_fit(d.X, **d.fit_kw)
