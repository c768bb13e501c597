"""Stepwise (online) EM for hidden Markov models: batches of whole sequences.

The engine's stepwise EM (:mod:`emkit.online`) runs the HMMs unchanged: a batch is a set of
whole sequences (``lengths``), its statistics (expected start and transition counts, emission
moments) are sums over sequences, and GaussianHMM re-expresses its shifted or whitened moments
for the new parameters (``rebase_stats``).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from emkit import ConvergenceWarning, InMemoryExecutor
from emkit.data import Batch
from emkit.engine import StepContext, run_em
from emkit.exceptions import NonFiniteError
from emkit.hmm import CategoricalHMM, GaussianHMM, PoissonHMM
from emkit.online import StepSize, run_online
from emkit.stats import Stats
from tests.test_online import _assert_params_close, _assert_stats_close, _Frozen

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)

TRANS = np.array([[0.9, 0.1], [0.2, 0.8]])


def _chain(n: int, rng: np.random.Generator) -> np.ndarray:
    z = np.empty(n, dtype=np.int64)
    z[0] = rng.integers(2)
    u = rng.uniform(size=n)
    for t in range(1, n):
        z[t] = int(u[t] > TRANS[z[t - 1], 0])
    return z


def _sequences(
    emission: str, n_seq: int, seed: int = 0, equal: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``n_seq`` sequences of 30 to 70 steps (50 if ``equal``) from a 2-state chain; Gaussian
    observations far from the origin."""
    rng = np.random.default_rng(seed)
    lengths = np.full(n_seq, 50) if equal else rng.integers(30, 71, size=n_seq)
    z = _chain(int(lengths.sum()), rng)
    if emission == "gaussian":
        X = 1e3 + rng.normal(size=(len(z), 2)) * [1.0, 0.5] + 4.0 * z[:, None]
    elif emission == "categorical":
        probs = np.array([[0.6, 0.2, 0.1, 0.1], [0.1, 0.1, 0.2, 0.6]])
        X = (rng.uniform(size=len(z))[:, None] > np.cumsum(probs[z], axis=1)).sum(axis=1)
        X = X[:, None].astype(float)
    else:
        X = rng.poisson(np.array([2.0, 9.0])[z][:, None] * np.ones((1, 2))).astype(float)
    return X, lengths


MODELS: list[tuple[str, Any, str]] = [
    *[
        (f"gaussian_{ct}", lambda ct=ct: GaussianHMM(2, ct, random_state=0), "gaussian")
        for ct in ("full", "diag", "tied", "spherical")
    ],
    ("categorical", lambda: CategoricalHMM(2, n_features=4, random_state=0), "categorical"),
    ("poisson", lambda: PoissonHMM(2, random_state=0), "poisson"),
]
IDS = [m[0] for m in MODELS]


def _start(est: Any, X: np.ndarray, lengths: np.ndarray) -> tuple[Batch, Any]:
    """The validated sequences (with their groups) and the parameters fit() starts from."""
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    batch = InMemoryExecutor().prepare(est, X, None, {}, groups=starts).data
    params = est._engine_model().init_params(batch, np.random.RandomState(0))
    return batch, params


@pytest.mark.parametrize(("name", "make", "emission"), MODELS, ids=IDS)
def test_rho_one_over_t_one_pass_is_batch_em_first_iteration(
    name: str, make: Any, emission: str
) -> None:
    """rho_t = 1/t over one pass at fixed parameters: the running statistics (the plain mean
    of the batches', so batches of equal weight), scaled to the weight seen, are the batch
    E-step's over all sequences; their M-step is batch EM's first."""
    X, lengths = _sequences(emission, 12, equal=True)
    est = make()
    batch, params0 = _start(est, X, lengths)
    frozen = _Frozen(est)
    run_online(
        frozen,
        batch,
        params0,
        executor=InMemoryExecutor(chunk_rows=100),  # two whole sequences per batch
        step_size=StepSize(kappa=1.0, t0=0.0),
        shuffle=False,
    )
    assert len(frozen.seen) == 6
    whole = est.e_step(batch, params0, StepContext())
    _assert_stats_close(frozen.seen[-1], whole, rtol=1e-10)
    first = run_em(est._engine_model(), batch, params0, max_iter=1, tol=0.0)
    online = est.m_step(frozen.seen[-1], params0, StepContext())
    _assert_params_close(online, first.params, rtol=1e-9)


@pytest.mark.parametrize(("name", "make", "emission"), MODELS, ids=IDS)
def test_one_batch_partial_fit_is_one_em_iteration(name: str, make: Any, emission: str) -> None:
    X, lengths = _sequences(emission, 6)
    online = make().partial_fit(X, lengths)
    batch = make().set_params(max_iter=1, tol=0.0).fit(X, lengths)
    _assert_params_close(online.params_, batch.params_, rtol=1e-10)
    assert online.n_iter_ == 1 and not online.converged_


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied", "spherical"])
def test_gaussian_moments_are_moved_exactly_to_new_parameters(covariance_type: str) -> None:
    """The emission moments taken in the frame of one set of parameters, re-expressed for
    another, equal the moments taken there (same posteriors)."""
    rng = np.random.default_rng(1)
    X, lengths = _sequences("gaussian", 4)
    est = GaussianHMM(2, covariance_type, random_state=0)
    batch, a = _start(est, X, lengths)
    b = est.set_params(max_iter=3, tol=0.0).fit(X, lengths).params_
    gamma = rng.dirichlet([1.0, 1.0], size=X.shape[0])
    at_a = Stats(post=gamma.sum(axis=0), **est._emission_stats(batch, gamma, a))
    at_b = Stats(post=gamma.sum(axis=0), **est._emission_stats(batch, gamma, b))
    _assert_stats_close(est.rebase_stats(at_a, a, b), at_b, rtol=1e-9)


def test_partial_fit_stream_of_sequences_recovers_the_chain() -> None:
    """Small batches of sequences from a known HMM, far from the origin: stepwise EM finds the
    transitions (to 0.03: about 100 transitions per state in the last ~30 batches dominate)
    and the means (to 0.05)."""
    est = GaussianHMM(2, "full", random_state=0)
    for seed in range(150):
        X, lengths = _sequences("gaussian", 4, seed=seed)
        est.partial_fit(X, lengths)
    order = np.argsort(est.means_[:, 0])
    np.testing.assert_allclose(est.transmat_[np.ix_(order, order)], TRANS, atol=0.03)
    np.testing.assert_allclose(est.means_[order], 1e3 + np.array([[0, 0], [4, 4]]), atol=0.05)
    np.testing.assert_allclose(est.covars_[order][:, [0, 1], [0, 1]], [[1, 0.25]] * 2, atol=0.05)
    assert est.n_iter_ == 150


def test_partial_fit_after_fit_continues_from_it() -> None:
    X, lengths = _sequences("poisson", 20)
    est = PoissonHMM(2, random_state=0).fit(X, lengths)
    fitted = copy.deepcopy(est.params_)
    assert est.online_state_.weight_seen == X.shape[0]
    X2, lengths2 = _sequences("poisson", 2, seed=5)
    est.partial_fit(X2, lengths2)  # one small batch next to a fit on ten times more
    assert np.max(np.abs(est.lambdas_ - fitted.lambdas) / fitted.lambdas) < 0.1
    assert est.online_state_.n_updates == 1


def test_fit_online_never_cuts_a_sequence() -> None:
    """Batches of ``batch_rows=1`` still hold whole sequences: one update per sequence, the
    same parameters as a partial_fit loop over the sequences in the same order."""
    X, lengths = _sequences("categorical", 8)
    params0 = _start(CategoricalHMM(2, n_features=4), X, lengths)[1]

    def make() -> CategoricalHMM:
        return CategoricalHMM(
            2,
            n_features=4,
            emissionprob_prior=1.1,
            startprob_init=params0.startprob,
            transmat_init=params0.transmat,
            emissionprob_init=params0.emissionprob,
        )

    step = StepSize(0.7, 1.0)
    est = make().fit_online(X, lengths, batch_rows=1, step_size=step, shuffle=False)
    assert est.n_iter_ == len(lengths)
    assert est.log_likelihood_history_.shape == (len(lengths),)
    loop = make()
    starts = np.concatenate([[0], np.cumsum(lengths)])
    for a, b in itertools.pairwise(starts):
        loop.partial_fit(X[a:b], step_size=step)
    _assert_params_close(est.params_, loop.params_, rtol=1e-10)


def test_weighted_sequences_equal_repeated_ones() -> None:
    X, lengths = _sequences("gaussian", 5)
    start = GaussianHMM(2, "diag", random_state=0, max_iter=2, tol=0.0).fit(X, lengths)
    weighted, repeated = copy.deepcopy(start), copy.deepcopy(start)
    weights = np.array([1.0, 3.0, 2.0, 1.0, 2.0])
    weighted.partial_fit(X, lengths, sample_weight=weights)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    copies = np.repeat(np.arange(5), weights.astype(int))
    Xr = np.concatenate([X[starts[i] : starts[i + 1]] for i in copies])
    repeated.partial_fit(Xr, lengths[copies])
    _assert_params_close(weighted.params_, repeated.params_, rtol=1e-10)


def test_an_unseen_symbol_without_a_prior_is_a_clear_error() -> None:
    """Maximum likelihood gives a symbol absent from the first batch probability 0: a later
    batch holding it is impossible under the model. A clear error (never NaN), and a
    pseudo-count (``emissionprob_prior > 1``) avoids it."""
    X = np.array([[0.0], [1.0], [0.0], [1.0], [1.0], [0.0]])
    est = CategoricalHMM(2, n_features=3, random_state=0).partial_fit(X)
    with pytest.raises(NonFiniteError, match="log-likelihood is -inf"):
        est.partial_fit(np.array([[2.0], [0.0]]))
    smooth = CategoricalHMM(2, n_features=3, random_state=0, emissionprob_prior=1.5)
    smooth.partial_fit(X).partial_fit(np.array([[2.0], [0.0]]))
    assert np.all(smooth.emissionprob_ > 0)


def test_positional_lengths_as_in_hmmlearn() -> None:
    """``fit(X, lengths)``, hmmlearn's call, must not take ``lengths`` for scikit-learn's ``y``."""
    X, lengths = _sequences("poisson", 4)
    kw = {"random_state": 0, "max_iter": 5, "tol": 0.0}
    positional = PoissonHMM(2, **kw).fit(X, lengths)  # type: ignore[arg-type]
    keyword = PoissonHMM(2, **kw).fit(X, lengths=lengths)  # type: ignore[arg-type]
    one = PoissonHMM(2, **kw).fit(X)  # type: ignore[arg-type]
    assert positional.log_likelihood_ == keyword.log_likelihood_
    assert positional.log_likelihood_ != one.log_likelihood_
    for f in dataclasses.fields(positional.params_):
        np.testing.assert_array_equal(
            getattr(positional.params_, f.name), getattr(keyword.params_, f.name)
        )
