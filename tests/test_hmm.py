"""Hidden Markov models: known answers, inference, long sequences, priors, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emkit import ConvergenceWarning, DataError, ParameterError, load
from emkit.datasets import dishonest_casino, earthquakes
from emkit.hmm import CategoricalHMM, GaussianHMM, PoissonHMM, UnvisitedStateWarning, _lattice

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)

QUAKE_START = {
    "startprob_init": [0.5, 0.5],
    "transmat_init": [[0.9, 0.1], [0.1, 0.9]],
    "lambdas_init": [[10.0], [30.0]],
}


def _quakes(**kw: object) -> PoissonHMM:
    _, counts = earthquakes()
    return PoissonHMM(2, **{**QUAKE_START, "max_iter": 1000, "tol": 1e-12, **kw}).fit(counts)  # type: ignore[arg-type]


def test_earthquakes_reach_the_published_likelihood() -> None:
    """Zucchini, MacDonald & Langrock: 2 states, delta estimated, -log L = 341.8787."""
    model = _quakes()
    assert model.converged_
    assert -model.log_likelihood_ == pytest.approx(341.8787, abs=5e-5)
    _, counts = earthquakes()
    assert model.aic(counts) == pytest.approx(693.7574, abs=5e-4)
    np.testing.assert_allclose(np.sort(model.lambdas_[:, 0]), [15.42, 26.02], atol=0.01)
    # EM's M-step puts the whole initial distribution on the state of the first year
    assert model.startprob_.max() == pytest.approx(1.0)


def test_earthquakes_bic_prefers_two_states_to_one() -> None:
    _, counts = earthquakes()
    one = PoissonHMM(1, max_iter=50, random_state=0).fit(counts)
    assert _quakes().bic(counts) < one.bic(counts)


def test_dataset_has_its_source() -> None:
    years, counts = earthquakes()
    assert years[0] == 1900 and years[-1] == 2006 and counts.shape == (107, 1)
    assert counts[:3, 0].tolist() == [13.0, 14.0, 8.0]


def test_casino_viterbi_path_recovers_the_dice() -> None:
    data = dishonest_casino(5000, random_state=0)
    model = CategoricalHMM(
        2,
        startprob_init=[0.5, 0.5],
        transmat_init=[[0.9, 0.1], [0.1, 0.9]],
        emissionprob_init=[[1 / 6] * 6, [0.15] * 5 + [0.25]],
        max_iter=500,
        tol=1e-9,
    ).fit(data.X)
    truth = CategoricalHMM(
        2,
        startprob_init=data.startprob,
        transmat_init=data.transmat,
        emissionprob_init=data.emissionprob,
        max_iter=0,
    ).fit(data.X)
    learned = np.mean(model.predict(data.X) == data.states)
    oracle = np.mean(truth.predict(data.X) == data.states)
    fair_share = np.mean(data.states == 0)
    assert learned > fair_share + 0.08  # far better than calling every roll fair
    assert learned > oracle - 0.02  # as good as decoding with the true parameters
    assert model.emissionprob_[1, 5] == pytest.approx(0.5, abs=0.05)


def test_a_million_steps_do_not_underflow() -> None:
    rng = np.random.default_rng(0)
    n = 10**6
    X = rng.normal(size=(n, 1))
    X[n // 2 :] += 3.0
    model = GaussianHMM(
        2,
        startprob_init=[0.5, 0.5],
        transmat_init=[[0.99, 0.01], [0.01, 0.99]],
        means_init=[[0.0], [3.0]],
        covars_init=[[1.0], [1.0]],
        max_iter=1,
    ).fit(X)
    log_prob, post = model.score_samples(X)
    # about the entropy of a unit Gaussian per step, nowhere near -inf or 0
    assert np.isfinite(log_prob) and -1.5 < log_prob / n < -1.3
    assert np.all(np.isfinite(post))
    np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-9)
    assert np.mean(model.predict(X) == (np.arange(n) >= n // 2)) > 0.999


def _gaussian_data(seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    lengths = [40, 25, 60]
    z = np.concatenate([np.repeat(rng.integers(0, 2, size=n // 5 + 1), 5)[:n] for n in lengths])
    return rng.normal(size=(len(z), 2)) + 4.0 * z[:, None], lengths


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_numpy_path_equals_compiled(monkeypatch: pytest.MonkeyPatch, covariance_type: str) -> None:
    pytest.importorskip("numba")
    X, lengths = _gaussian_data()
    kw = {"random_state": 0, "max_iter": 5, "tol": 0.0}
    monkeypatch.setattr(_lattice, "MIN_COMPILED_WORK", 0)
    compiled = GaussianHMM(2, covariance_type, **kw).fit(X, lengths=lengths)  # type: ignore[arg-type]
    path_c = compiled.predict(X, lengths)
    monkeypatch.setattr(_lattice, "MIN_COMPILED_WORK", 2**62)
    plain = GaussianHMM(2, covariance_type, **kw).fit(X, lengths=lengths)  # type: ignore[arg-type]
    np.testing.assert_allclose(plain.log_likelihood_history_, compiled.log_likelihood_history_)
    np.testing.assert_allclose(plain.means_, compiled.means_, rtol=1e-10)
    np.testing.assert_array_equal(plain.predict(X, lengths), path_c)


def test_list_of_sequences_equals_lengths() -> None:
    X, lengths = _gaussian_data()
    parts = np.split(X, np.cumsum(lengths)[:-1])
    a = GaussianHMM(2, random_state=0, max_iter=10).fit(X, lengths=lengths)
    b = GaussianHMM(2, random_state=0, max_iter=10).fit(parts)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.predict(X, lengths), b.predict(parts))


def test_per_sequence_weights_equal_repetition() -> None:
    X, lengths = _gaussian_data()
    parts = np.split(X, np.cumsum(lengths)[:-1])
    kw = {"random_state": 0, "max_iter": 6, "tol": 0.0}
    start = GaussianHMM(2, max_iter=0, random_state=0).fit(X, lengths=lengths).params_
    weighted = GaussianHMM(2, warm_start=True, **kw)  # type: ignore[arg-type]
    weighted.params_ = start
    weighted.fit(X, lengths=lengths, sample_weight=[2, 1, 3])
    repeated = GaussianHMM(2, warm_start=True, **kw)  # type: ignore[arg-type]
    repeated.params_ = start
    repeated.fit([parts[0], parts[0], parts[1], parts[2], parts[2], parts[2]])
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-10)
    np.testing.assert_allclose(weighted.transmat_, repeated.transmat_, rtol=1e-10)
    np.testing.assert_allclose(weighted.log_likelihood_, repeated.log_likelihood_, rtol=1e-12)


def test_viterbi_training_is_monotone_and_decodes() -> None:
    X, lengths = _gaussian_data(1)
    model = GaussianHMM(2, hard=True, random_state=0, max_iter=50).fit(X, lengths=lengths)
    assert np.all(np.diff(model.log_likelihood_history_) >= -1e-9)
    # hard EM's objective is the Viterbi path's log p(x, z), i.e. decode's score
    log_prob, _ = model.decode(X, lengths)
    assert model.log_likelihood_ == pytest.approx(log_prob, rel=1e-6)


def test_decode_map_is_the_posterior_argmax() -> None:
    X, lengths = _gaussian_data()
    model = GaussianHMM(2, random_state=0, algorithm="map").fit(X, lengths=lengths)
    np.testing.assert_array_equal(
        model.predict(X, lengths), model.predict_proba(X, lengths).argmax(1)
    )
    log_prob, _ = model.decode(X, lengths, algorithm="map")
    assert log_prob == pytest.approx(model.score(X, lengths))
    viterbi_logp, _ = model.decode(X, lengths, algorithm="viterbi")
    assert viterbi_logp <= log_prob


def test_transition_prior_pulls_rows_towards_uniform() -> None:
    X, lengths = _gaussian_data()
    free = GaussianHMM(2, random_state=0).fit(X, lengths=lengths)
    strong = GaussianHMM(2, random_state=0, transmat_prior=500.0).fit(X, lengths=lengths)
    assert np.abs(strong.transmat_ - 0.5).max() < np.abs(free.transmat_ - 0.5).max()
    assert np.all(np.diff(strong.log_likelihood_history_) >= -1e-9)  # MAP objective monotone


def test_params_letters_freeze_parameters() -> None:
    X, lengths = _gaussian_data()
    T = [[0.7, 0.3], [0.4, 0.6]]
    model = GaussianHMM(2, params="smc", transmat_init=T, random_state=0).fit(X, lengths=lengths)
    np.testing.assert_array_equal(model.transmat_, T)
    assert model._n_parameters() == 1 + 2 * 2 + 2 * 2


def test_sample_shapes_and_states() -> None:
    model = _quakes()
    X, states = model.sample(500, random_state=1)
    assert X.shape == (500, 1) and states.shape == (500,)
    lo = np.argmin(model.lambdas_[:, 0])
    assert X[states == lo].mean() < X[states != lo].mean()
    g = GaussianHMM(2, "full", random_state=0).fit(*_gaussian_data()[:1])
    Xg, _ = g.sample(50, random_state=0)
    assert Xg.shape == (50, 2)


def test_save_load(tmp_path: object) -> None:
    model = _quakes()
    model.save(tmp_path / "quakes")  # type: ignore[operator]
    back = load(tmp_path / "quakes.json")  # type: ignore[operator]
    _, counts = earthquakes()
    np.testing.assert_array_equal(back.predict(counts), model.predict(counts))
    assert back.score(counts) == model.score(counts)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [([40, 0, 85], "sequence 1 is empty"), ([40, 25], "lengths sum to 65 but X has 125 rows")],
)
def test_bad_lengths_are_clear_errors(lengths: list[int], message: str) -> None:
    X, _ = _gaussian_data()
    with pytest.raises(DataError, match=message):
        GaussianHMM(2).fit(X, lengths=lengths)


def test_nan_is_a_clear_error() -> None:
    X, lengths = _gaussian_data()
    X[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        GaussianHMM(2).fit(X, lengths=lengths)


def test_weights_must_be_constant_within_a_sequence() -> None:
    X, lengths = _gaussian_data()
    w = np.ones(len(X))
    w[1] = 2.0
    with pytest.raises(DataError, match="constant within each sequence"):
        GaussianHMM(2).fit(X, lengths=lengths, sample_weight=w)


def test_unknown_letters_and_missing_starts() -> None:
    X, lengths = _gaussian_data()
    with pytest.raises(ParameterError, match="unknown letters"):
        GaussianHMM(2, params="stx").fit(X, lengths=lengths)
    with pytest.raises(ParameterError, match="means_init is needed"):
        GaussianHMM(2, init_params="stc").fit(X, lengths=lengths)


def test_a_state_never_visited_is_warned() -> None:
    X = np.random.default_rng(0).normal(size=(200, 1))
    model = GaussianHMM(
        2,
        startprob_init=[1.0, 0.0],
        transmat_init=[[1.0, 0.0], [0.5, 0.5]],
        means_init=[[0.0], [50.0]],
        covars_init=[[1.0], [1.0]],
        max_iter=3,
    )
    with pytest.warns(UnvisitedStateWarning, match=r"state\(s\) \[1\] are never visited"):
        model.fit(X)


def test_symbols_out_of_range() -> None:
    model = CategoricalHMM(2, random_state=0).fit(np.array([[0], [1], [2], [1]]))
    assert model.emissionprob_.shape == (2, 3)
    with pytest.raises(DataError, match="out of range"):
        model.predict(np.array([[3]]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="non-negative integers"):
            CategoricalHMM(2).fit(np.array([[0.5], [1.0]]))


@pytest.mark.parametrize("compiled", [False, True])
def test_a_step_the_reachable_states_explain_badly_does_not_underflow(
    monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """The chain is stuck in state 0; steps near state 1's mean are e^1000 times likelier under
    state 1. Scaling each row by its best state would underflow the forward normaliser to 0
    (a -inf log-likelihood); scaling such rows by the best reachable state keeps it exact."""
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(_lattice, "MIN_COMPILED_WORK", 0 if compiled else 2**62)
    X = np.array([[0.0], [60.0], [0.5], [61.0], [-0.2]])
    model = GaussianHMM(
        2,
        startprob_init=[1.0, 0.0],
        transmat_init=[[1.0, 0.0], [0.0, 1.0]],
        means_init=[[0.0], [100.0]],
        covars_init=[[1.0], [1.0]],
        reg_covar=0.0,
        params="",
        max_iter=0,
    )
    with pytest.warns(UnvisitedStateWarning):
        model.fit(X)
    exact = float(np.sum(-0.5 * X[:, 0] ** 2 - 0.5 * np.log(2 * np.pi)))
    assert model.score(X) == pytest.approx(exact, rel=1e-12)
    np.testing.assert_allclose(model.predict_proba(X), [[1.0, 0.0]] * 5)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("rare", [1e-150, 1e-290, 1e-300])
def test_a_state_the_past_rules_out_and_the_future_needs(
    monkeypatch: pytest.MonkeyPatch, compiled: bool, rare: float
) -> None:
    """State 1 starts with probability ``rare`` and the chain never moves; the first steps fit
    both states alike, the last is e^-1984 as likely under state 0. The scaled backward variable
    of state 1 is then ``1 / rare`` (past 1e280 the sequence is redone in log space): the
    posteriors and the log-likelihood equal brute-force enumeration of every path."""
    import itertools

    from scipy.special import logsumexp

    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(_lattice, "MIN_COMPILED_WORK", 0 if compiled else 2**62)
    X = np.array([[31.5], [31.5], [31.5], [63.0]])
    start = np.array([1.0, rare]) / (1.0 + rare)
    means, trans = np.array([[0.0], [63.0]]), np.eye(2)
    model = GaussianHMM(
        2,
        startprob_init=start,
        transmat_init=trans,
        means_init=means,
        covars_init=[[1.0], [1.0]],
        reg_covar=0.0,
        params="",
        max_iter=0,
    )
    with pytest.warns(UnvisitedStateWarning):  # state 0: the future rules it out
        model.fit(X)
    log_b = -0.5 * (X - means.T) ** 2 - 0.5 * np.log(2 * np.pi)
    with np.errstate(divide="ignore"):
        paths = list(itertools.product(range(2), repeat=len(X)))
        joint = np.array(
            [
                np.log(start[z[0]])
                + sum(np.log(trans[z[t - 1], z[t]]) for t in range(1, len(z)))
                + sum(log_b[t, z[t]] for t in range(len(z)))
                for z in paths
            ]
        )
    total = logsumexp(joint)
    post = np.zeros((len(X), 2))
    for z, value in zip(paths, joint, strict=True):
        post[np.arange(len(X)), z] += np.exp(value - total)
    assert np.isfinite(total)
    assert model.score(X) == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(model.predict_proba(X), post, atol=1e-12)
    np.testing.assert_allclose(post[:, 1], 1.0)  # the future wins
