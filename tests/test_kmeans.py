"""KMeans as hard EM: parity with scikit-learn's Lloyd, weights, objective = -inertia/2."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus

from emkit import ConvergenceWarning, ParameterError, StreamExecutor, load
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.models import KMeans
from emkit.models import _blocks as blocks_module
from emkit.models import kmeans as kmeans_module
from emkit.models.kmeans import KMeansParams
from emkit.sources import ArraySource


def blobs(n: int = 600, d: int = 4, k: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return np.vstack([rng.randn(n // k, d) + 6 * rng.randn(d) for _ in range(k)])


@pytest.mark.parametrize("n_iter", [1, 3, 300])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_same_as_sklearn_lloyd(n_iter: int, weighted: bool, offset: float) -> None:
    X = blobs() + offset
    w = np.random.RandomState(1).randint(1, 4, size=len(X)).astype(float) if weighted else None
    centers, _ = kmeans_plusplus(X, 5, random_state=0)
    theirs = SkKMeans(5, init=centers, n_init=1, max_iter=n_iter, tol=0, algorithm="lloyd")
    theirs.fit(X, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = KMeans(5, init=centers, max_iter=n_iter).fit(X, sample_weight=w)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-10)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.transform(X[:20]), theirs.transform(X[:20]), rtol=1e-6)
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-6)


def test_objective_is_minus_half_inertia_and_stops_at_a_fixed_point() -> None:
    X = blobs(seed=2)
    km = KMeans(5, random_state=0, n_init=3).fit(X)
    assert km.converged_
    np.testing.assert_allclose(km.log_likelihood_, -km.inertia_ / 2, rtol=1e-9)
    history = km.log_likelihood_history_
    assert np.all(np.diff(history) >= -1e-12 * np.abs(history[:-1]))
    for k in range(5):
        np.testing.assert_allclose(km.cluster_centers_[k], X[km.labels_ == k].mean(axis=0))


def test_sample_weight_equals_repetition() -> None:
    X = blobs(n=200)
    w = np.random.RandomState(0).randint(1, 4, size=len(X))
    centers = X[[0, 50, 100, 150, 199]]
    a = KMeans(5, init=centers).fit(X, sample_weight=w)
    b = KMeans(5, init=centers).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    np.testing.assert_allclose(a.inertia_, b.inertia_, rtol=1e-9)


def test_n_init_keeps_lowest_inertia() -> None:
    X = blobs(seed=4)
    runs = [KMeans(5, init="random", random_state=s).fit(X).inertia_ for s in range(4)]
    best = KMeans(5, init="random", n_init=6, random_state=0).fit(X).inertia_
    assert best <= max(runs) + 1e-9


def test_empty_cluster_keeps_its_centre() -> None:
    X = blobs(n=100, k=2)
    centers = np.vstack([X[:2], [[1e6] * 4]])
    km = KMeans(3, init=centers).fit(X)
    np.testing.assert_allclose(km.cluster_centers_[2], 1e6)
    assert np.all(np.isfinite(km.cluster_centers_))


def test_soft_kmeans_runs_on_the_same_engine() -> None:
    X = blobs()
    km = KMeans(5, hard=False, random_state=0, tol=1e-8).fit(X)
    assert np.all(np.diff(km.log_likelihood_history_) >= -1e-9)
    np.testing.assert_allclose(km.predict_proba(X).sum(axis=1), 1.0)


def test_float32() -> None:
    X = blobs() + 1e3
    centers = X[[0, 120, 240, 360, 480]]
    a = KMeans(5, init=centers).fit(X)
    b = KMeans(5, init=centers).fit(X.astype(np.float32))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-6)


def test_save_load(tmp_path: Any) -> None:
    X = blobs()
    km = KMeans(5, random_state=0).fit(X)
    km.save(tmp_path / "km")
    back = load(tmp_path / "km.json")
    np.testing.assert_array_equal(back.predict(X), km.predict(X))
    assert back.inertia_ == km.inertia_


def test_bad_init() -> None:
    with pytest.raises(ParameterError, match="init centres must have shape"):
        KMeans(3, init=np.zeros((2, 4))).fit(blobs())
    with pytest.raises(ParameterError, match="must be an int in the range"):
        KMeans(0).fit(blobs())


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_blocked_e_step_agrees_with_the_dense_computation(
    offset: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # several row blocks on two threads, several chunks per block (and, with the offset, the
    # shifted frame), Fortran-ordered rows (the public sparse product instead of SciPy's
    # kernel), unit, integer and uniform weights
    monkeypatch.setattr(kmeans_module, "_CHUNKS_PER_BLOCK", 2)
    monkeypatch.setattr(blocks_module, "_PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(blocks_module, "_n_threads", lambda: 2)
    rng = np.random.RandomState(3)
    X = np.vstack([rng.randn(9000, 3) + 8 * rng.randn(3) for _ in range(7)]) + offset
    w = rng.randint(1, 4, size=len(X)).astype(float)
    centers = X[rng.choice(len(X), 7, replace=False)]
    dense = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    labels = dense.argmin(axis=1)
    ctx = StepContext(hard=True)
    for Xv, wv in [(X, np.ones(len(X))), (np.asfortranarray(X), w), (X, 2.0 * np.ones(len(X)))]:
        km = KMeans(7, init=centers, max_iter=1)
        stats = km.e_step(Batch((Xv,), wv), KMeansParams(centers), ctx)
        inertia = float(np.dot(wv, dense[np.arange(len(X)), labels]))
        np.testing.assert_allclose(-2.0 * stats.loglik, inertia, rtol=1e-9)
        nk = np.bincount(labels, weights=wv, minlength=7)
        np.testing.assert_allclose(stats["nk"], nk, rtol=1e-12)
        new = km.m_step(stats, KMeansParams(centers), ctx).cluster_centers
        means = np.vstack(
            [np.average(X[labels == k], axis=0, weights=wv[labels == k]) for k in range(7)]
        )
        np.testing.assert_allclose(new, means, rtol=1e-10)


def test_float32_matches_sklearn_and_keeps_the_objective() -> None:
    X = (blobs(n=3000) + 50.0).astype(np.float32)
    centers, _ = kmeans_plusplus(X, 5, random_state=0)
    theirs = SkKMeans(5, init=centers, n_init=1, max_iter=300, tol=0, algorithm="lloyd").fit(X)
    ours = KMeans(5, init=centers, max_iter=300).fit(X)
    assert ours.converged_
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-5)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-5)
    np.testing.assert_allclose(ours.log_likelihood_, -ours.inertia_ / 2, rtol=1e-12)
    np.testing.assert_array_equal(ours.fit_predict(X), ours.predict(X))


class _RecordingSource(ArraySource):
    """An in-memory row source that records the largest read."""

    largest = 0

    def read(self, start: int, stop: int) -> np.ndarray:
        type(self).largest = max(type(self).largest, stop - start)
        return super().read(start, stop)


@pytest.mark.parametrize("hard", [True, False])
def test_streamed_fit_labels_rows_block_by_block(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, hard: bool
) -> None:
    monkeypatch.setattr(kmeans_module, "_LABEL_BLOCK_ROWS", 700)
    X = np.random.default_rng(4).normal(size=(3000, 3))
    w = np.random.default_rng(5).uniform(0.5, 2.0, size=3000)
    kw = {"random_state": 0, "hard": hard, "max_iter": 20, "tol": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = KMeans(3, **kw).fit(X, sample_weight=w)
        np.save(tmp_path / "x.npy", X)
        from_file = KMeans(3, **kw).fit(str(tmp_path / "x.npy"), sample_weight=w)
        _RecordingSource.largest = 0
        streamed = KMeans(3, **kw).fit(
            _RecordingSource(X), sample_weight=w, executor=StreamExecutor(chunk_rows=500)
        )
    for est in (from_file, streamed):
        np.testing.assert_array_equal(est.labels_, ref.labels_)
        np.testing.assert_allclose(est.inertia_, ref.inertia_, rtol=1e-9)
    assert 0 < _RecordingSource.largest <= 700  # never the whole source at once


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    dtype=st.sampled_from([np.float64, np.float32]),
    weighted=st.booleans(),
)
def test_compiled_lloyd_step_gives_the_numpy_step(seed: int, dtype: Any, weighted: bool) -> None:
    """numba's fused arg-min and sums give NumPy's labels, centres and
    inertia."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(seed)
    X = (rng.normal(0, 5, (7, 3))[rng.integers(0, 7, 400)] + rng.normal(size=(400, 3))).astype(
        dtype
    )
    w = rng.uniform(0.5, 2.0, 400) if weighted else None
    kw = {"random_state": seed, "max_iter": 15, "tol": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        compiled = KMeans(5, **kw).fit(X, sample_weight=w)
        saved = kmeans_module._USE_KERNELS
        try:
            kmeans_module._USE_KERNELS = False
            numpy_only = KMeans(5, **kw).fit(X, sample_weight=w)
        finally:
            kmeans_module._USE_KERNELS = saved
    if dtype == np.float64:
        np.testing.assert_array_equal(compiled.labels_, numpy_only.labels_)
    else:  # the compiled sums add in float64, NumPy's in float32: a near tie may flip
        assert np.mean(compiled.labels_ == numpy_only.labels_) >= 0.99
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(compiled.cluster_centers_, numpy_only.cluster_centers_, rtol=rtol)
    np.testing.assert_allclose(compiled.inertia_, numpy_only.inertia_, rtol=rtol)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 1300),
    k=st.integers(1, 70),
    dtype=st.sampled_from([np.float64, np.float32]),
    duplicate=st.booleans(),
)
def test_compiled_lloyd_pass_gives_argmin_sums_and_distances(
    seed: int, n: int, k: int, dtype: Any, duplicate: bool
) -> None:
    """The compiled pass (GEMM per chunk, arg-min across rows four centres at a time) gives
    np.argmin's labels, first index on ties, over chunk edges and any K, with the sums, counts
    and inertia of those labels."""
    pytest.importorskip("numba")
    from emkit import _kernels

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(dtype)
    C = rng.normal(size=(k, 3))
    if duplicate and k > 1:
        C[-1] = C[0]  # equal distances: the first centre wins
    AT = np.ascontiguousarray(-2.0 * C, dtype=dtype)
    c2 = np.sum(C * C, axis=1).astype(dtype)
    G = (AT.astype(np.float64) @ X.T.astype(np.float64)).T + c2  # reference cross terms
    expected = np.argmin(G, axis=1)
    labels = np.empty(n, dtype=np.intp)
    nearest = np.empty(n, dtype=dtype)
    _kernels.lloyd_pass(X, AT, c2, labels, nearest=nearest)
    gap = np.sort(G, axis=1)[:, 1] - G.min(axis=1) if k > 1 else np.ones(n)
    clear = gap > (1e-9 if dtype == np.float64 else 1e-3)  # rounding decides near ties
    if duplicate and k > 1:
        assert not np.any(labels == k - 1)
    np.testing.assert_array_equal(labels[clear], expected[clear])
    np.testing.assert_allclose(nearest, G[np.arange(n), labels], rtol=1e-4, atol=1e-4)

    w = rng.uniform(0.5, 2.0, n)
    sums, counts = np.zeros((k, 3)), np.zeros(k)
    inertia = _kernels.lloyd_pass(X, AT, c2, labels, w=w, sums=sums, counts=counts)
    onehot = np.eye(k)[labels] * w[:, None]
    np.testing.assert_allclose(counts, onehot.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sums, onehot.T @ X.astype(np.float64), rtol=1e-5, atol=1e-9)
    d2 = np.sum((X.astype(np.float64) - C[labels]) ** 2, axis=1)
    np.testing.assert_allclose(inertia, np.dot(w, d2), rtol=1e-4)


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("chunk", [None, 4])
def test_far_apart_clusters_far_from_the_origin_fit_without_false_alarms(
    kernels: bool, chunk: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clusters 2e4 apart at 1e4-3e4 (a found case): ``|x|^2 + G + c2`` loses ~eps * 1e8
    per row, which exceeded the engine's round-off allowance for the inertia (~1e6) and raised
    NonMonotoneError; distances taken directly keep the inertia exact and the fit monotone."""
    if kernels:
        pytest.importorskip("numba")
    monkeypatch.setattr(kmeans_module, "_USE_KERNELS", kernels)
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(9.6e3, 300, 60), rng.normal(2.95e4, 400, 60)])[:, None]
    for seed in range(20):
        km = KMeans(2, random_state=seed, tol=0.0, max_iter=8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if chunk is None:
                km.fit(X)
            else:
                km.fit(ArraySource(X), executor=StreamExecutor(chunk_rows=chunk))
        h = np.asarray(km.log_likelihood_history_)
        assert np.all(np.diff(h) >= -1e-13 * np.abs(h[:-1])), h  # the fit ran: no error
        direct = float(np.sum((X - km.cluster_centers_[km.labels_]) ** 2))
        np.testing.assert_allclose(km.inertia_, direct, rtol=1e-12)
