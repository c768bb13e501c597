"""Guarantees every registered model must keep (see cases.py for the registry)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from emkit import ConvergenceWarning, InMemoryExecutor, load
from tests.conformance.cases import CASES, Case, FitData

pytestmark = [
    pytest.mark.filterwarnings(f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"),
    # hard EM, or a sequence of a few steps, can leave a hidden state empty: warned, not wrong
    pytest.mark.filterwarnings("ignore::emkit.hmm._base.UnvisitedStateWarning"),
]

IDS = [c.name for c in CASES]
MANY = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
FEW = settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
SOME = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _params(est: Any) -> dict[str, np.ndarray]:
    return {
        f.name: np.asarray(getattr(est.params_, f.name)) for f in dataclasses.fields(est.params_)
    }


def _assert_params_close(a: Any, b: Any, rtol: float, atol: float = 0.0) -> None:
    pa, pb = _params(a), _params(b)
    assert pa.keys() == pb.keys()
    for key in pa:
        # entries that are round-off next to the array's largest ones compare at its scale
        scale = float(np.max(np.abs(pb[key]), initial=0.0))
        tol = max(atol, rtol * scale)
        np.testing.assert_allclose(pa[key], pb[key], rtol=rtol, atol=tol, err_msg=key)


def _warm(case: Case, params: Any, **kw: Any) -> Any:
    est = case.make(warm_start=True, **kw)
    est.params_ = params
    return est


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), hard=st.booleans())
@MANY
def test_objective_never_decreases(case: Case, data: st.DataObject, seed: int, hard: bool) -> None:
    d: FitData = data.draw(case.data)
    est = case.make(random_state=seed, hard=hard, max_iter=25, tol=0.0).fit(d.X, **d.fit_kw)
    history = est.log_likelihood_history_
    assert np.all(np.isfinite(history))
    slack = 1e-9 * (np.abs(history[:-1]) + d.X.shape[0])
    assert np.all(np.diff(history) >= -slack), history
    assert len(history) == est.n_iter_ + 1


@pytest.mark.parametrize("case", [c for c in CASES if c.mixture], ids=lambda c: c.name)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
@SOME
def test_posteriors_are_distributions(case: Case, data: st.DataObject, seed: int) -> None:
    d: FitData = data.draw(case.data)
    est = case.make(random_state=seed, max_iter=10).fit(d.X, **d.fit_kw)
    proba = est.predict_proba(d.X, **d.fit_kw)
    assert proba.shape[0] == d.X.shape[0]
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(est.predict(d.X, **d.fit_kw), proba.argmax(axis=1))
    # score_samples is the log of the normaliser of the posteriors
    assert np.all(np.isfinite(est.score_samples(d.X, **d.fit_kw)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), hard=st.booleans())
@SOME
def test_integer_weights_equal_repetition(
    case: Case, data: st.DataObject, seed: int, hard: bool
) -> None:
    d: FitData = data.draw(case.data)
    n = d.n_units  # rows, or whole sequences
    rng = np.random.default_rng(seed)
    weight = rng.integers(1, 4, size=n).astype(float)
    start = case.make(random_state=seed, max_iter=0).fit(d.X, **d.fit_kw).params_
    weighted = _warm(case, start, max_iter=8, tol=0.0, hard=hard)
    weighted.fit(d.X, sample_weight=d.row_weights(weight), **d.fit_kw)
    copies = np.repeat(np.arange(n), weight.astype(int))
    r = d.repeat(copies)
    if case.row_params:  # one parameter row per training row: the repeated fit has copies
        start = dataclasses.replace(
            start, **{k: getattr(start, k)[copies] for k in case.row_params}
        )
    repeated = _warm(case, start, max_iter=8, tol=0.0, hard=hard)
    repeated.fit(r.X, **r.fit_kw)
    if case.row_params:
        for key in case.row_params:
            np.testing.assert_allclose(
                getattr(repeated.params_, key),
                getattr(weighted.params_, key)[copies],
                rtol=1e-8,
                atol=1e-12,
                err_msg=key,
            )
        keep = {
            k: getattr(repeated.params_, k)[np.unique(copies, return_index=True)[1]]
            for k in case.row_params
        }
        repeated.params_ = dataclasses.replace(repeated.params_, **keep)
    _assert_params_close(weighted, repeated, rtol=1e-8, atol=1e-12)
    # with tol=0 either fit may stop one step earlier on an exactly zero change
    common = min(len(weighted.log_likelihood_history_), len(repeated.log_likelihood_history_))
    np.testing.assert_allclose(
        weighted.log_likelihood_history_[:common],
        repeated.log_likelihood_history_[:common],
        rtol=1e-9,
        atol=1e-12 * d.row_weights(weight).sum(),
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
@SOME
def test_same_random_state_same_result(case: Case, data: st.DataObject, seed: int) -> None:
    d: FitData = data.draw(case.data)
    a = case.make(random_state=seed, n_init=2, max_iter=15).fit(d.X, **d.fit_kw)
    b = clone(a).fit(d.X, **d.fit_kw)
    _assert_params_close(a, b, rtol=0.0)
    np.testing.assert_array_equal(a.log_likelihood_history_, b.log_likelihood_history_)


@pytest.mark.parametrize("case", [c for c in CASES if c.hard_fixed_point], ids=lambda c: c.name)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
@SOME
def test_hard_em_stops_at_a_fixed_point(case: Case, data: st.DataObject, seed: int) -> None:
    d: FitData = data.draw(case.data)
    est = case.make(random_state=seed, hard=True, max_iter=500, tol=1e-12).fit(d.X, **d.fit_kw)
    assert est.converged_
    again = _warm(case, est.params_, hard=True, max_iter=1, tol=0.0).fit(d.X, **d.fit_kw)
    _assert_params_close(est, again, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 7))
@SOME
def test_chunked_equals_in_memory(case: Case, data: st.DataObject, seed: int, chunk: int) -> None:
    d: FitData = data.draw(case.data)
    # few iterations: near convergence a zero change (which stops a tol=0 fit) depends on
    # the summation order
    whole = case.make(random_state=seed, max_iter=4, tol=0.0).fit(d.X, **d.fit_kw)
    chunked = case.make(random_state=seed, max_iter=4, tol=0.0)
    chunked.fit(d.X, executor=InMemoryExecutor(chunk_rows=chunk), **d.fit_kw)
    _assert_params_close(whole, chunked, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
@FEW
def test_callbacks_see_every_iteration(case: Case, data: st.DataObject) -> None:
    d: FitData = data.draw(case.data)
    seen: list[tuple[int, float]] = []
    est = case.make(random_state=0, max_iter=5, tol=0.0)
    est.fit(
        d.X, callbacks=[lambda info: seen.append((info.iteration, info.log_likelihood))], **d.fit_kw
    )
    assert [it for it, _ in seen] == list(range(est.n_iter_ + 1))
    np.testing.assert_allclose([ll for _, ll in seen], est.log_likelihood_history_)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
@FEW
def test_save_load_round_trip(case: Case, data: st.DataObject, tmp_path_factory: Any) -> None:
    d: FitData = data.draw(case.data)
    tmp_path = tmp_path_factory.mktemp("model")
    est = case.make(random_state=0, max_iter=20).fit(d.X, **d.fit_kw)
    est.save(tmp_path / "model")
    back = load(tmp_path / "model.json")
    assert type(back) is type(est)
    assert back.get_params() == est.get_params() or repr(back) == repr(est)
    _assert_params_close(est, back, rtol=0.0)
    np.testing.assert_array_equal(back.log_likelihood_history_, est.log_likelihood_history_)
    assert back.n_iter_ == est.n_iter_ and back.converged_ == est.converged_
    if case.mixture:
        np.testing.assert_array_equal(
            back.score_samples(d.X, **d.fit_kw), est.score_samples(d.X, **d.fit_kw)
        )
