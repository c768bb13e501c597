"""The engine's own guarantees, with small models built for the purpose."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emkit import (
    Batch,
    BinomialMixture,
    ConvergenceWarning,
    EMModel,
    InMemoryExecutor,
    NonFiniteError,
    NonMonotoneError,
    Stats,
    StepContext,
    fit_em,
    run_em,
)


@dataclass(frozen=True)
class MeanParams:
    mu: float


class BrokenModel(EMModel[MeanParams]):
    """A one-parameter Gaussian mean whose M-step deliberately moves away from the optimum."""

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> MeanParams:
        return MeanParams(0.0)

    def e_step(self, batch: Batch, params: MeanParams, ctx: StepContext) -> Stats:
        x = batch.X
        return Stats(
            loglik=float(-0.5 * np.sum(batch.weight * (x - params.mu) ** 2)),
            weight=float(batch.weight.sum()),
            sx=np.sum(batch.weight * x),
        )

    def m_step(self, stats: Stats, params: MeanParams, ctx: StepContext) -> MeanParams:
        return MeanParams(params.mu + 10.0 if ctx.iteration == 3 else stats["sx"] / stats.weight)


class TwoPassModel(EMModel[MeanParams]):
    """Mean, then a second pass that needs the new mean: checks the multi-pass protocol."""

    n_passes = 2

    def __init__(self) -> None:
        self.passes: list[tuple[int, float]] = []

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> MeanParams:
        return MeanParams(0.0)

    def e_step(self, batch: Batch, params: MeanParams, ctx: StepContext) -> Stats:
        self.passes.append((ctx.pass_index, params.mu))
        x, w = batch.X, batch.weight
        if ctx.pass_index == 0:
            ll = float(-0.5 * np.sum(w * (x - params.mu) ** 2))
            return Stats(loglik=ll, weight=float(w.sum()), sx=np.sum(w * x))
        return Stats(centred=np.sum(w * (x - params.mu)))

    def m_step(self, stats: Stats, params: MeanParams, ctx: StepContext) -> MeanParams:
        if ctx.pass_index == 0:
            return MeanParams(stats["sx"] / stats.weight)
        assert abs(stats["centred"]) < 1e-9  # pass 1 saw the parameters pass 0 produced
        return params


def _batch(x: np.ndarray) -> Batch:
    return Batch((x,), np.ones_like(x))


def test_a_decreasing_log_likelihood_names_model_and_iteration() -> None:
    with pytest.raises(NonMonotoneError, match=r"BrokenModel.*iteration 4"):
        fit_em(BrokenModel(), _batch(np.arange(5.0)), max_iter=10, tol=0.0)


def test_non_monotone_models_may_opt_out_and_are_logged(caplog: Any) -> None:
    class Regularised(BrokenModel):
        monotone = False

    with caplog.at_level(logging.DEBUG, logger="emkit"), pytest.warns(ConvergenceWarning):
        fit_em(Regularised(), _batch(np.arange(5.0)), max_iter=6, tol=0.0)
    assert "decreased" in caplog.text


def test_multi_pass_iterations_run_every_pass_with_fresh_parameters() -> None:
    model = TwoPassModel()
    result = fit_em(model, _batch(np.array([1.0, 2.0, 6.0])), max_iter=3, tol=1e-12)
    assert result.converged and result.params.mu == pytest.approx(3.0)
    # E-step (pass 0), then per iteration: pass 1 and the E-step at the new parameters
    assert [p for p, _ in model.passes] == [0] + [1, 0] * result.n_iter


def test_convergence_warning_names_the_knobs() -> None:
    heads = np.array([[5], [9], [8], [4], [7]])
    with pytest.warns(ConvergenceWarning, match=r"max_iter=2.*tol"):
        BinomialMixture(2, n_trials=10, max_iter=2, tol=0.0, random_state=0).fit(heads)


def test_impossible_observation_is_an_error_not_nan() -> None:
    x = np.array([[0.0], [10.0]])
    model = BinomialMixture(2, n_trials=10, theta_init=[[0.0], [0.0]], fixed_weights=[1.0, 0.0])
    # theta = 0 is clipped inside logarithms, so the fit stays finite ...
    model.set_params(max_iter=3, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        model.fit(x)
    assert np.all(np.isfinite(model.log_likelihood_history_))

    class Impossible(BrokenModel):
        def e_step(self, batch: Batch, params: MeanParams, ctx: StepContext) -> Stats:
            return Stats(loglik=-np.inf, weight=1.0, sx=np.zeros(()))

    # ... and a model that produces -inf gets a clear error
    with pytest.raises(NonFiniteError, match=r"Impossible.*iteration 0"):
        fit_em(Impossible(), _batch(np.arange(3.0)))


def test_restarts_keep_the_best_run() -> None:
    rng = np.random.default_rng(0)
    X = np.r_[rng.binomial(20, 0.1, 30), rng.binomial(20, 0.85, 30)][:, None]
    runs = []
    best = BinomialMixture(2, n_trials=20, n_init=6, random_state=1, init="random_from_data")
    best.fit(X, callbacks=[lambda info: runs.append((info.restart, info.log_likelihood))])
    finals = {r: ll for r, ll in runs}  # last value seen per restart
    assert set(finals) == set(range(6))
    assert best.log_likelihood_ == pytest.approx(max(finals.values()))


@given(
    chunks=st.lists(st.integers(1, 5), min_size=1, max_size=6),
    seed=st.integers(0, 1000),
)
@settings(max_examples=50, deadline=None)
def test_stats_add_like_numbers(chunks: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    parts = [Stats(loglik=-float(n), weight=float(n), s=rng.normal(size=3)) for n in chunks]
    total = sum(parts)
    assert isinstance(total, Stats)
    assert total.weight == pytest.approx(sum(chunks))
    np.testing.assert_allclose(total["s"], np.sum([p["s"] for p in parts], axis=0))
    with pytest.raises(ValueError, match="same statistics"):
        _ = parts[0] + Stats(other=np.zeros(3))


def test_run_em_reports_history_from_the_start() -> None:
    x = np.array([1.0, 2.0, 3.0])
    result = run_em(
        BrokenModel(), _batch(x), MeanParams(0.0), executor=InMemoryExecutor(2), max_iter=2
    )
    assert result.n_iter == 2 and result.converged
    assert result.log_likelihood_history[0] == pytest.approx(-0.5 * np.sum(x**2))
    assert result.log_likelihood == pytest.approx(-0.5 * np.sum((x - 2.0) ** 2))


def test_executor_rejects_bad_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk_rows"):
        InMemoryExecutor(0)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), min_size=2, max_size=6
    ),
    ulps=st.integers(1, 8),
)
def test_hard_posterior_breaks_round_off_ties_towards_the_lowest_index(
    values: list[float], ulps: int
) -> None:
    # a weight of 2 and a repeated row give sums equal in exact arithmetic but not always in
    # floating point; hard EM must not pick a different component because of the last bits
    row = np.array(values)
    peak = float(row.max())
    gap = 1e-6 * max(1.0, abs(peak))
    row = np.minimum(row, peak - gap)  # every other value clearly below the peak
    row[0] = peak
    nudged = row.copy()
    for _ in range(ulps):  # the last value a few units in the last place above the peak
        nudged[-1] = np.nextafter(max(nudged[-1], peak), np.inf)
    resp, log_norm = StepContext(hard=True).posterior(nudged[None, :])
    assert resp[0, 0] == 1.0 and resp.sum() == 1.0
    assert log_norm[0] == peak
    # values that differ by more than round-off are not ties
    apart = row.copy()
    apart[-1] = peak + gap
    resp, _ = StepContext(hard=True).posterior(apart[None, :])
    assert resp[0, -1] == 1.0 and resp.sum() == 1.0
