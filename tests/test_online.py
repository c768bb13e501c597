"""Stepwise (online) EM: emkit.online, partial_fit and fit_online."""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings
from typing import Any

import numpy as np
import pytest

from emkit import BernoulliMixture, BinomialMixture, ConvergenceWarning, InMemoryExecutor
from emkit.crowd import DawidSkene
from emkit.data import Batch
from emkit.engine import EMModel, StepContext, run_em
from emkit.exceptions import DataError, NonFiniteError, ParameterError
from emkit.models import GaussianMixture, KMeans, MultinomialMixture
from emkit.online import StepSize, online_update, run_online, running_stats
from emkit.sources import RowSource
from emkit.stats import Stats

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)


def _blobs(n: int, seed: int = 0, offset: float = 0.0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    centres = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0]])
    z = rng.randint(3, size=n)
    return offset + centres[z] + rng.normal(size=(n, 2)) * np.array([1.0, 0.7])


def _counts(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    topics = rng.dirichlet(np.full(6, 0.4), size=2)
    return np.stack([rng.multinomial(12, topics[i % 2]) for i in range(n)]).astype(float)


def _binomial(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    p = np.where(rng.uniform(size=(n, 1)) < 0.4, 0.8, 0.3)
    return rng.binomial(10, np.repeat(p, 3, axis=1)).astype(float)


#: (name, estimator factory, data, fit_data)
MODELS: list[tuple[str, Any, np.ndarray, dict[str, Any]]] = [
    *[
        (
            f"gmm_{ct}",
            lambda ct=ct: GaussianMixture(3, covariance_type=ct, random_state=0),
            _blobs(600, offset=1e3),
            {},
        )
        for ct in ("full", "tied", "diag", "spherical")
    ],
    ("kmeans", lambda: KMeans(3, random_state=0), _blobs(600, offset=1e3), {}),
    ("kmeans_soft", lambda: KMeans(3, hard=False, random_state=0), _blobs(600), {}),
    ("binomial", lambda: BinomialMixture(2, n_trials=10, random_state=0), _binomial(600), {}),
    (
        "bernoulli",
        lambda: BernoulliMixture(2, random_state=0),
        (_binomial(600) > 4).astype(float),
        {},
    ),
    (
        "multinomial",
        lambda: MultinomialMixture(2, init="random", n_init=1, random_state=0),
        _counts(600),
        {},
    ),
]
IDS = [m[0] for m in MODELS]


class _Frozen(EMModel[Any]):
    """A model's E-step with an M-step that keeps the parameters: records what it is given."""

    supports_online = True

    def __init__(self, model: Any) -> None:
        self.model = model
        self.seen: list[Stats] = []

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> Any:
        raise AssertionError("not called")

    def e_step(self, batch: Batch, params: Any, ctx: StepContext) -> Stats:
        return self.model.e_step(batch, params, ctx)

    def online_e_step(self, batch: Batch, params: Any, ctx: StepContext) -> tuple[Stats, Any]:
        return self.model.online_e_step(batch, params, ctx)

    def m_step(self, stats: Stats, params: Any, ctx: StepContext) -> Any:
        self.seen.append(stats)
        return params


def _start(est: Any, X: np.ndarray) -> Any:
    """The parameters fit() would start from, and the validated batch."""
    prepared = InMemoryExecutor().prepare(est, X, None, {})
    params = est._initial_params()
    if params is None:
        params = est.init_params(prepared.data, np.random.RandomState(0))
    return prepared.data, params


def _assert_stats_close(a: Stats, b: Stats, rtol: float = 1e-12) -> None:
    assert a.keys() == b.keys()
    for key in a:
        scale = float(np.max(np.abs(b[key])))
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=rtol * scale, err_msg=key)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=rtol)
    np.testing.assert_allclose(a.weight, b.weight, rtol=rtol)


def _assert_params_close(a: Any, b: Any, rtol: float, atol: float = 0.0) -> None:
    for f in dataclasses.fields(a):
        x, y = np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))
        scale = float(np.max(np.abs(y), initial=0.0))
        np.testing.assert_allclose(x, y, rtol=rtol, atol=max(atol, rtol * scale), err_msg=f.name)


# -- exactness ----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "make", "X", "extra"), MODELS, ids=IDS)
def test_rho_one_over_t_one_pass_is_batch_em_first_iteration(
    name: str, make: Any, X: np.ndarray, extra: dict[str, Any]
) -> None:
    """With rho_t = 1/t the running statistics of one pass at fixed parameters, scaled to the
    weight seen, are the batch E-step's statistics; their M-step is batch EM's first M-step."""
    est = make()
    batch, params0 = _start(est, X)
    frozen = _Frozen(est)
    run_online(
        frozen,
        batch,
        params0,
        executor=InMemoryExecutor(chunk_rows=50),  # 12 equal batches
        step_size=StepSize(kappa=1.0, t0=0.0),
        shuffle=False,
        hard=est.hard,
    )
    assert len(frozen.seen) == 12
    whole = est.e_step(batch, params0, StepContext(hard=est.hard))
    _assert_stats_close(frozen.seen[-1], whole)
    # and the parameters: batch EM's first iteration
    first = run_em(est, batch, params0, max_iter=1, tol=0.0, hard=est.hard)
    online = est.m_step(frozen.seen[-1], params0, StepContext(hard=est.hard))
    _assert_params_close(online, first.params, rtol=1e-10)


@pytest.mark.parametrize(("name", "make", "X", "extra"), MODELS, ids=IDS)
def test_one_batch_partial_fit_is_one_em_iteration(
    name: str, make: Any, X: np.ndarray, extra: dict[str, Any]
) -> None:
    """The first partial_fit on all rows starts where fit starts and takes its first M-step."""
    online = make().partial_fit(X)
    batch = make().set_params(max_iter=1, tol=0.0).fit(X)
    _assert_params_close(online.params_, batch.params_, rtol=1e-10)
    assert online.n_iter_ == 1 and not online.converged_
    # the running log-likelihood is the rows' at the starting parameters (a model's prior,
    # which batch EM's objective adds, is not a sum over rows and not in it)
    est = make()
    rows, params0 = _start(est, X)
    start = est.e_step(rows, params0, StepContext(hard=est.hard)).loglik
    np.testing.assert_allclose(online.log_likelihood_, start, rtol=1e-12)


def test_running_stats_is_the_stepwise_average() -> None:
    a = Stats(loglik=-4.0, weight=2.0, nk=np.array([2.0, 0.0]))
    b = Stats(loglik=-1.0, weight=4.0, nk=np.array([1.0, 3.0]))
    first = running_stats(None, a, 0.3)
    assert first.weight == 1.0 and first.loglik == -2.0
    np.testing.assert_allclose(first["nk"], [1.0, 0.0])
    second = running_stats(first, b, 0.25)
    np.testing.assert_allclose(second["nk"], [0.75 * 1.0 + 0.25 * 0.25, 0.25 * 0.75])
    assert second.weight == pytest.approx(1.0)
    np.testing.assert_allclose((2 * a)["nk"], [4.0, 0.0])
    assert (2 * a).weight == 4.0 and (a * 0.5).loglik == -2.0


def test_step_size_schedule() -> None:
    assert StepSize(1.0, 0.0)(4) == 0.25
    assert StepSize(0.6, 2.0)(3) == pytest.approx(5**-0.6)
    for bad in ({"kappa": 0.5}, {"kappa": 1.2}, {"t0": -1.0}, {"t0": float("inf")}):
        with pytest.raises(ParameterError):
            StepSize(**bad)


def test_empty_batch_changes_nothing() -> None:
    est = GaussianMixture(2, random_state=0).partial_fit(_blobs(100))
    state = est.online_state_
    assert online_update(est, state, Stats(), step_size=StepSize()) is state
    # a later batch whose rows all weigh 0 carries no information: no update, no NaN
    est.partial_fit(_blobs(10, seed=1), sample_weight=np.zeros(10))
    assert est.online_state_ is state or est.online_state_.n_updates == state.n_updates
    _assert_params_close(est.params_, state.params, rtol=0.0)
    # the first batch must carry some weight: there is nothing to start from otherwise
    with pytest.raises(DataError, match="zero for every sample"):
        GaussianMixture(2).partial_fit(_blobs(10), sample_weight=np.zeros(10))


# -- behaviour of partial_fit ------------------------------------------------------------
def test_partial_fit_after_fit_continues_and_fit_resets() -> None:
    X = _blobs(3000, seed=1)
    est = GaussianMixture(3, random_state=0).fit(X)
    fitted = est.params_
    assert est.online_state_.n_updates == 0 and est.online_state_.weight_seen == 3000
    # a batch from the same distribution, counted as 1 of 31 batches: a small move
    est.partial_fit(_blobs(100, seed=2))
    assert np.max(np.abs(est.means_ - fitted.means)) < 0.2
    assert est.online_state_.n_updates == 1 and est.online_state_.weight_seen == 3100
    assert est.n_iter_ == 1
    # fit starts again from init_params: the same answer as a fresh estimator
    est.fit(X)
    _assert_params_close(est.params_, GaussianMixture(3, random_state=0).fit(X).params_, 0.0)
    assert est.online_state_.n_updates == 0


def test_partial_fit_stream_recovers_the_mixture() -> None:
    """Small batches from a known mixture, full covariances far from the origin."""
    est = GaussianMixture(3, random_state=0)
    for seed in range(300):
        est.partial_fit(_blobs(500, seed=seed, offset=1e4))
    order = np.argsort(est.means_[:, 0])
    truth = 1e4 + np.array([[0.0, 0.0], [2.0, 7.0], [6.0, 1.0]])
    np.testing.assert_allclose(est.means_[order], truth, atol=0.05)
    np.testing.assert_allclose(est.weights_[order], 1 / 3, atol=0.02)
    np.testing.assert_allclose(est.covariances_[:, 0, 0], 1.0, atol=0.06)
    np.testing.assert_allclose(est.covariances_[:, 1, 1], 0.49, atol=0.04)
    assert np.isfinite(est.lower_bound_)


def test_partial_fit_kmeans_rho_one_over_t_is_minibatch_kmeans() -> None:
    """Hard stepwise EM with rho = 1/t: every centre is the mean of all rows ever assigned to
    it (Sculley's mini-batch k-means with per-centre counts)."""
    X = _blobs(1200, seed=3)
    est = KMeans(3, random_state=0)
    step = StepSize(1.0, 0.0)
    sums = np.zeros((3, 2))
    counts = np.zeros(3)
    for i in range(0, 1200, 100):
        block = X[i : i + 100]
        if i:
            labels = est.predict(block)
            np.add.at(sums, labels, block)
            counts += np.bincount(labels, minlength=3)
        est.partial_fit(block, step_size=step)
        if i == 0:  # the first batch's assignments at the k-means++ seeds made these centres
            seeds = est.online_state_
            sums = seeds.stats["sx"] * 100.0
            counts = seeds.stats["nk"] * 100.0
    np.testing.assert_allclose(est.cluster_centers_, sums / counts[:, None], rtol=1e-10)
    assert est.inertia_ > 0


def test_partial_fit_checks_every_batch() -> None:
    est = GaussianMixture(2, random_state=0).partial_fit(_blobs(50))
    with pytest.raises(DataError, match="features"):
        est.partial_fit(np.ones((10, 3)))
    with pytest.raises(DataError):
        est.partial_fit(np.full((10, 2), np.nan))
    with pytest.raises(DataError, match="n_components"):
        GaussianMixture(5).partial_fit(_blobs(3))
    with pytest.raises(ParameterError, match="StepSize"):
        est.partial_fit(_blobs(10), step_size=0.1)


def test_models_without_online_em_say_so() -> None:
    labels = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=float)
    with pytest.raises(ParameterError, match=r"does not support online EM.*2 passes"):
        DawidSkene().partial_fit(labels)
    with pytest.raises(ParameterError, match="does not support online EM"):
        DawidSkene().fit_online(labels)


def test_zero_probability_row_is_an_error_not_nan() -> None:
    est = MultinomialMixture(2, alpha=0.0, init="random", n_init=1, random_state=0)
    est.partial_fit(np.array([[0.0, 3.0, 1.0], [0.0, 1.0, 4.0], [0.0, 2.0, 2.0]]))
    assert est.topic_word_[:, 0].max() == 0.0  # word 0 never seen: impossible without prior
    with pytest.raises(NonFiniteError, match="log-likelihood is -inf"):
        est.partial_fit(np.array([[1.0, 1.0, 1.0]]))


def test_multinomial_prior_is_weighed_against_the_rows_seen() -> None:
    """The Dirichlet pseudo-counts meet statistics scaled to the weight seen: two batches with
    rho = 1/t at fixed parameters give batch EM's smoothed M-step on both."""
    X = _counts(400, seed=4)
    est = MultinomialMixture(2, init="random", alpha=5.0, random_state=0)
    batch, params0 = _start(est, X)
    frozen = _Frozen(est)
    run_online(
        frozen,
        batch,
        params0,
        executor=InMemoryExecutor(200),
        step_size=StepSize(1.0, 0.0),
        shuffle=False,
    )
    online = est.m_step(frozen.seen[-1], params0, StepContext())
    first = run_em(est, batch, params0, max_iter=1, tol=0.0)
    _assert_params_close(online, first.params, rtol=1e-10)


# -- fit_online over a generated stream ---------------------------------------------------
class _MixtureStream(RowSource):
    """Rows of a known Gaussian mixture, generated block by block on demand (never all in
    memory): block ``b`` is drawn from ``RandomState(seed + b)``."""

    BLOCK = 65536

    def __init__(self, n_rows: int, means: np.ndarray, sds: np.ndarray, weights: np.ndarray):
        self.shape = (n_rows, means.shape[1])
        self.dtype = np.dtype(np.float64)
        self.means, self.sds, self.weights = means, sds, weights

    def _block(self, b: int) -> np.ndarray:
        rng = np.random.RandomState(1000 + b)
        n = min(self.BLOCK, self.n_rows - b * self.BLOCK)
        z = rng.choice(len(self.weights), size=n, p=self.weights)
        return self.means[z] + rng.standard_normal((n, self.shape[1])) * self.sds[z][:, None]

    def read(self, start: int, stop: int) -> np.ndarray:
        if stop <= start:
            return np.empty((0, self.shape[1]))
        first, last = start // self.BLOCK, (stop - 1) // self.BLOCK
        rows = np.concatenate([self._block(b) for b in range(first, last + 1)])
        return rows[start - first * self.BLOCK : stop - first * self.BLOCK]


MEANS = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 2.0], [0.0, 5.0, -2.0], [4.0, 4.0, 4.0]])
SDS = np.array([1.0, 0.7, 1.3, 0.5])
WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1])


def _matched(est: Any, attr: str) -> np.ndarray:
    value = getattr(est, attr)
    order = [int(np.argmin(np.sum((est.means_ - m) ** 2, axis=1))) for m in MEANS]
    assert sorted(order) == [0, 1, 2, 3]
    return np.asarray(value)[order]


def test_online_on_ten_million_rows_matches_batch_on_a_million() -> None:
    """One streamed pass of stepwise EM over 10^7 rows (153 batches of 65536) lands within
    0.01 (means, in units of the smallest sd 0.5) and 0.003 (weights) of batch EM on a 10^6-row
    sample: both are within a few 1e-3 of the truth (the batch fit's standard error on the
    weakest component is ~2e-3; the online fit's last steps average ~20 batches, 1.3e6 rows).
    Both keep the best of 4 k-means starts (online: on its 10^5-row initialisation sample), as
    one start may put two components on one cluster, a local optimum for either. ~10 s."""
    source = _MixtureStream(10_000_000, MEANS, SDS, WEIGHTS)
    online = GaussianMixture(4, covariance_type="spherical", n_init=4, random_state=0)
    online.fit_online(source, batch_rows=65536)
    sample = source.read(0, 1_000_000)
    batch = GaussianMixture(4, covariance_type="spherical", n_init=4, random_state=0).fit(sample)
    np.testing.assert_allclose(_matched(online, "means_"), _matched(batch, "means_"), atol=0.01)
    np.testing.assert_allclose(_matched(online, "weights_"), _matched(batch, "weights_"), atol=3e-3)
    np.testing.assert_allclose(
        _matched(online, "covariances_"), _matched(batch, "covariances_"), rtol=0.01
    )
    np.testing.assert_allclose(_matched(online, "means_"), MEANS, atol=0.01)
    assert online.n_iter_ == 153
    # the running estimate of the log-likelihood per row is the batch fit's to 1e-3
    assert abs(online.lower_bound_ - batch.lower_bound_) < 1e-3 * abs(batch.lower_bound_) + 1e-3


def test_fit_online_streams_a_file_for_several_epochs(tmp_path: Any) -> None:
    X = _blobs(20_000, seed=5)
    path = tmp_path / "rows.npy"
    np.save(path, X)
    online = KMeans(3, random_state=0).fit_online(str(path), batch_rows=1000, n_epochs=3)
    assert online.n_iter_ == 60
    assert len(online.log_likelihood_history_) == 60
    batch = KMeans(3, random_state=0).fit(X)
    order = np.argsort(online.cluster_centers_[:, 0])
    ref = np.argsort(batch.cluster_centers_[:, 0])
    np.testing.assert_allclose(
        online.cluster_centers_[order], batch.cluster_centers_[ref], atol=0.05
    )
    # in memory, with the same batches in the same order: the same result
    mem = KMeans(3, random_state=0).fit_online(X, batch_rows=1000, n_epochs=3)
    _assert_params_close(mem.params_, online.params_, rtol=1e-12)
    # and a later partial_fit continues from there
    before = mem.online_state_.n_updates
    mem.partial_fit(X[:500])
    assert mem.online_state_.n_updates == before + 1


def test_fit_online_with_sample_weights_equals_repetition() -> None:
    rng = np.random.RandomState(6)
    X = _blobs(400, seed=6)
    w = rng.randint(1, 4, size=400).astype(float)
    est = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    a, b = copy.deepcopy(est), copy.deepcopy(est)
    a.partial_fit(X, sample_weight=w)
    b.partial_fit(np.repeat(X, w.astype(int), axis=0))
    _assert_params_close(a.params_, b.params_, rtol=1e-9)


def test_run_online_needs_positive_epochs() -> None:
    est = KMeans(2, random_state=0)
    with pytest.raises(ParameterError, match="n_epochs"):
        est.fit_online(_blobs(100), batch_rows=10, n_epochs=0)


def test_partial_fit_warns_nothing_on_good_data() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GaussianMixture(3, random_state=0)
        for seed in range(5):
            est.partial_fit(_blobs(200, seed=seed))


# -- CLI -----------------------------------------------------------------------------------
def test_cli_gmm_online_streams_a_parquet_file(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from tests._cli import run_cli

    X = _blobs(30_000, seed=7)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1]}), path, row_group_size=4096)
    out_json = tmp_path / "model.json"
    args = ["gmm", str(path), "-k", "3", "--seed", "0", "--online", "--batch-rows", "4096"]
    code, out, _ = run_cli([*args, "--epochs", "2", "-o", str(out_json)], capsys)
    assert code == 0, out
    assert "online EM: 16 batches of 4096 rows, 2 epoch(s)" in out
    summary = json.loads(out_json.read_text())
    assert summary["online"]["n_batches"] == 16
    means = np.array(summary["means"])
    truth = np.array([[0.0, 0.0], [2.0, 7.0], [6.0, 1.0]])
    np.testing.assert_allclose(means[np.argsort(means[:, 0])], truth, atol=0.05)
    # bad step size and conflicting options: one line, exit code 2, no output written
    bad = tmp_path / "bad.json"
    code, _, err = run_cli([*args, "--kappa", "0.4", "-o", str(bad)], capsys)
    assert code == 2 and "kappa" in err and not bad.exists()
    code, _, err = run_cli([*args, "--select", "1-3"], capsys)
    assert code == 2 and "--online" in err
    code, _, err = run_cli([*args, "--executor", "dask"], capsys)
    assert code == 2 and "--online" in err
