"""Streamed fits: row sources, chunk-by-chunk validation, bounded memory, initialisation."""

from __future__ import annotations

import pickle
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emkit import (
    ArraySource,
    BernoulliMixture,
    BinomialMixture,
    ConvergenceWarning,
    DataError,
    InMemoryExecutor,
    NpySource,
    ParameterError,
    ParquetSource,
    Stats,
    StepContext,
    StreamExecutor,
)
from emkit.engine import _EStep
from emkit.examples.genetic_linkage import GeneticLinkage
from emkit.executors import resolve_executor
from emkit.executors._rows import sample_index
from emkit.sources import as_source

pa = pytest.importorskip("pyarrow", reason="Parquet sources need pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)


def _binary(n: int, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.9] * d, [0.1] * d, [0.9, 0.1] * (d // 2)])
    z = rng.integers(0, 3, size=n)
    return (rng.random((n, d)) < centres[z]).astype(np.float64)


def _same(a: Any, b: Any, rtol: float = 1e-9) -> None:
    np.testing.assert_allclose(b.theta_, a.theta_, rtol=rtol)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=rtol)
    np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=rtol)


def _write_parquet(path: Path, X: np.ndarray, row_group_size: int, **extra: np.ndarray) -> None:
    columns = {f"x{j}": X[:, j] for j in range(X.shape[1])} | extra
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)


# -- sources ------------------------------------------------------------------------------
def test_npy_source_reads_rows_like_the_array(tmp_path: Path) -> None:
    X = np.arange(60, dtype=np.float32).reshape(20, 3)
    np.save(tmp_path / "x.npy", X)
    src = NpySource(tmp_path / "x.npy")
    assert src.shape == (20, 3) and src.dtype == np.float32 and len(src) == 20
    np.testing.assert_array_equal(src.read(3, 11), X[3:11])
    np.testing.assert_array_equal(src[5:9, 1:], X[5:9, 1:])
    np.testing.assert_array_equal(src.read(19, 19), X[19:19])
    index = np.array([0, 4, 5, 19])
    np.testing.assert_array_equal(src.take(index), X[index])
    np.save(tmp_path / "f.npy", np.asfortranarray(X))
    fortran = NpySource(tmp_path / "f.npy")
    np.testing.assert_array_equal(fortran.read(2, 7), X[2:7])
    np.testing.assert_array_equal(fortran.take(index), X[index])
    back = pickle.loads(pickle.dumps(src))
    np.testing.assert_array_equal(back.read(0, 20), X)
    np.testing.assert_array_equal(np.asarray(src), X)  # np.asarray reads every row
    assert np.asarray(src, dtype=np.float64).dtype == np.float64


def test_npy_source_rejects_bad_files(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="Python objects"):
        NpySource(tmp_path / "obj.npy")
    np.save(tmp_path / "t.npy", np.zeros((100, 4)))
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[:-100])
    with pytest.raises(DataError, match="truncated"):
        NpySource(tmp_path / "t.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="cannot read"):
        NpySource(tmp_path / "junk.npy")
    with pytest.raises(DataError, match="no such file"):
        as_source(tmp_path / "missing.npy")
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(
        DataError, match=r"supported files are \.npy, \.npz \(a sparse matrix\) and \.parquet"
    ):
        as_source(tmp_path / "x.csv")


def test_parquet_source_row_groups_files_and_columns(tmp_path: Path) -> None:
    X = np.arange(90, dtype=np.float64).reshape(30, 3)
    n = np.arange(30, dtype=np.int64)
    _write_parquet(tmp_path / "a.parquet", X, row_group_size=7, n=n)
    src = ParquetSource(tmp_path / "a.parquet", ["x0", "x1", "x2"])
    assert src.shape == (30, 3) and src.dtype == np.float64
    for start, stop in [(0, 30), (3, 5), (6, 15), (13, 14), (29, 30), (8, 8)]:
        np.testing.assert_array_equal(src.read(start, stop), X[start:stop])
    np.testing.assert_array_equal(src.take(np.array([1, 7, 20])), X[[1, 7, 20]])
    column = ParquetSource(tmp_path / "a.parquet", "n")  # one name: a 1-D source
    assert column.shape == (30,) and column.dtype == np.float64  # integers read as float64
    np.testing.assert_array_equal(column.read(10, 20), n[10:20])
    # a directory is the concatenation of its files, sorted by name
    (tmp_path / "dir").mkdir()
    _write_parquet(tmp_path / "dir" / "part-0.parquet", X[:12], row_group_size=5)
    _write_parquet(tmp_path / "dir" / "part-1.parquet", X[12:], row_group_size=4)
    both = as_source(tmp_path / "dir")
    assert isinstance(both, ParquetSource) and both.shape == (30, 3)
    np.testing.assert_array_equal(both.read(0, 30), X)
    np.testing.assert_array_equal(both.read(10, 15), X[10:15])
    back = pickle.loads(pickle.dumps(both))
    assert back._cache is None
    np.testing.assert_array_equal(back.read(11, 29), X[11:29])


def test_parquet_source_rejects_bad_columns(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1.0, 2.0], "s": ["x", "y"]}), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"unknown column 'b'.*available columns"):
        ParquetSource(tmp_path / "t.parquet", ["a", "b"])
    with pytest.raises(DataError, match=r"column 's'.*numeric columns only"):
        ParquetSource(tmp_path / "t.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no \*\.parquet files"):
        ParquetSource(tmp_path / "empty")
    pq.write_table(pa.table({"a": [1.0]}), tmp_path / "empty" / "0.parquet")
    pq.write_table(pa.table({"b": [1.0]}), tmp_path / "empty" / "1.parquet")
    with pytest.raises(DataError, match="schema different"):
        ParquetSource(tmp_path / "empty")


# -- fits ---------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk_rows", [250, 1000, 10_000])
def test_streamed_npy_and_parquet_fits_equal_in_memory(tmp_path: Path, chunk_rows: int) -> None:
    X = _binary(3000)
    np.save(tmp_path / "x.npy", X)
    _write_parquet(tmp_path / "x.parquet", X, row_group_size=512)
    kw: dict[str, Any] = {"random_state": 3, "max_iter": 6, "tol": 0.0}
    ref = BernoulliMixture(3, **kw).fit(X)
    executor = StreamExecutor(chunk_rows=chunk_rows)
    _same(ref, BernoulliMixture(3, **kw).fit(tmp_path / "x.npy", executor=executor))
    _same(ref, BernoulliMixture(3, **kw).fit(str(tmp_path / "x.parquet"), executor=executor))
    _same(ref, BernoulliMixture(3, **kw).fit(X, executor=executor))  # arrays stream too


def test_path_input_streams_by_default(tmp_path: Path) -> None:
    X = _binary(500)
    np.save(tmp_path / "x.npy", X)
    assert isinstance(resolve_executor(None, tmp_path / "x.npy"), StreamExecutor)
    assert isinstance(resolve_executor(None, X), InMemoryExecutor)
    assert isinstance(resolve_executor("stream"), StreamExecutor)
    kw: dict[str, Any] = {"random_state": 0, "max_iter": 5, "tol": 0.0}
    streamed = BernoulliMixture(2, **kw).fit(tmp_path / "x.npy")
    assert streamed.n_features_in_ == 6
    _same(BernoulliMixture(2, **kw).fit(X), streamed)
    # an explicit in-memory executor reads the whole file
    _same(streamed, BernoulliMixture(2, **kw).fit(tmp_path / "x.npy", executor="memory"))
    with pytest.raises(ParameterError, match="executor must be an Executor or one of"):
        BernoulliMixture(2).fit(X, executor="spark")
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer"):
        StreamExecutor(chunk_rows=0)


def test_per_row_data_and_weights_stream_from_sources(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 2000
    trials = rng.integers(1, 30, size=n).astype(np.float64)
    z = rng.integers(0, 2, size=n)
    X = rng.binomial(trials.astype(int)[:, None], np.where(z[:, None] == 0, 0.2, 0.7), (n, 2))
    X = X.astype(np.float64)
    weight = rng.uniform(0, 2, size=n)
    _write_parquet(tmp_path / "b.parquet", X, row_group_size=300, trials=trials, w=weight)
    np.save(tmp_path / "w.npy", weight)
    kw: dict[str, Any] = {"random_state": 0, "max_iter": 8, "tol": 0.0}
    ref = BinomialMixture(2, **kw).fit(X, trials=trials, sample_weight=weight)
    path = tmp_path / "b.parquet"
    streamed = BinomialMixture(2, **kw).fit(
        ParquetSource(path, ["x0", "x1"]),
        trials=ParquetSource(path, "trials"),
        sample_weight=tmp_path / "w.npy",
        executor=StreamExecutor(chunk_rows=256),
    )
    _same(ref, streamed)
    # a scalar per-row argument is passed to every chunk unchanged
    ref10 = BinomialMixture(2, **kw).fit(np.minimum(X, 10), trials=10)
    s10 = BinomialMixture(2, **kw).fit(
        np.minimum(X, 10), trials=10, executor=StreamExecutor(chunk_rows=99)
    )
    _same(ref10, s10)


def test_genetic_linkage_streams_with_weights(tmp_path: Path) -> None:
    cells = np.arange(4, dtype=np.float64).reshape(-1, 1)
    counts = [125, 18, 20, 34]
    ref = GeneticLinkage(tol=1e-12).fit(cells, sample_weight=counts)
    streamed = GeneticLinkage(tol=1e-12).fit(
        cells, sample_weight=counts, executor=StreamExecutor(chunk_rows=1)
    )
    assert round(float(streamed.theta_), 6) == 0.626821  # DLR (1977)
    np.testing.assert_allclose(streamed.theta_, ref.theta_, rtol=1e-12)
    assert streamed.n_iter_ == ref.n_iter_


# -- bad data: the in-memory errors, found chunk by chunk --------------------------------------
def test_bad_chunks_give_the_in_memory_errors_with_their_rows(tmp_path: Path) -> None:
    X = _binary(1000)
    X[777, 2] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        BernoulliMixture(2).fit(X)
    with pytest.raises(DataError, match=r"(?s)Input X contains NaN.*\(in rows 700:800\)"):
        BernoulliMixture(2, max_iter=3).fit(tmp_path / "nan.npy", executor=StreamExecutor(100))
    X[777, 2] = 0.5
    np.save(tmp_path / "half.npy", X)
    with pytest.raises(DataError, match=r"needs binary data \(0/1\), got X\[77, 2\] = 0.5"):
        BernoulliMixture(2).fit(tmp_path / "half.npy", executor=StreamExecutor(100))
    with pytest.raises(DataError, match=r"got X\[777, 2\] = 0.5"):
        BernoulliMixture(2).fit(X)
    # a wrong number of features in a later file of a Parquet directory is caught by the schema;
    # in one source, every chunk has the first chunk's width by construction
    ok = _binary(1000)
    with pytest.raises(DataError, match="sample_weight has 999 rows but X has 1000"):
        BernoulliMixture(2).fit(ok, sample_weight=np.ones(999), executor="stream")
    with pytest.raises(DataError, match="sample_weight is zero for every sample"):
        BernoulliMixture(2).fit(ok, sample_weight=np.zeros(1000), executor="stream")
    bad_w = np.ones(1000)
    bad_w[555] = -1.0
    with pytest.raises(ValueError, match="Negative values in sample_weight"):
        BernoulliMixture(2).fit(ok, sample_weight=bad_w, executor=StreamExecutor(100))
    with pytest.raises(DataError, match="n_components=5 must be <= n_samples=4"):
        BernoulliMixture(5).fit(ok[:4], executor="stream")
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    with pytest.raises(ValueError, match="0 sample"):
        BernoulliMixture(2).fit(tmp_path / "empty.npy")


def test_parquet_nulls_are_reported_as_nan(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"a": pa.array([1, 0, None, 1], type=pa.int64()), "b": [0.0, 1.0, 1.0, 0.0]}),
        tmp_path / "n.parquet",
    )
    src = ParquetSource(tmp_path / "n.parquet")
    assert np.isnan(src.read(0, 4)[2, 0])
    with pytest.raises(DataError, match=r"(?s)contains NaN.*rows 0:4"):
        BernoulliMixture(2).fit(src)


# -- initialisation on data larger than init_rows ------------------------------------------
def test_initialisation_uses_a_bounded_sample(tmp_path: Path) -> None:
    X = _binary(5000, seed=4)
    np.save(tmp_path / "x.npy", X)
    executor = StreamExecutor(chunk_rows=500, init_rows=300)
    seen: list[int] = []

    class Spy(BernoulliMixture):
        def init_params(self, batch: Any, rng: np.random.RandomState) -> Any:
            seen.append(batch.n_rows)
            return super().init_params(batch, rng)

    a = Spy(3, random_state=7, n_init=2, tol=1e-10, max_iter=300).fit(
        tmp_path / "x.npy", executor=executor
    )
    assert seen == [300, 300]
    b = BernoulliMixture(3, random_state=7, n_init=2, tol=1e-10, max_iter=300).fit(
        tmp_path / "x.npy", executor=executor
    )
    np.testing.assert_array_equal(a.theta_, b.theta_)  # same random_state, same sample
    ref = BernoulliMixture(3, random_state=7, n_init=2, tol=1e-10, max_iter=300).fit(X)
    order_a, order_r = np.argsort(a.weights_), np.argsort(ref.weights_)
    np.testing.assert_allclose(a.theta_[order_a], ref.theta_[order_r], atol=1e-4)
    np.testing.assert_allclose(a.log_likelihood_, ref.log_likelihood_, rtol=1e-8)


def test_sample_index_is_uniform_distinct_and_sorted() -> None:
    rng = np.random.RandomState(0)
    index = sample_index(10**12, 1000, rng)  # no O(n) memory
    assert index.size == 1000 and np.all(np.diff(index) > 0)
    counts = np.bincount(sample_index(10, 10, rng))
    assert np.all(counts == 1)
    draws = np.concatenate([sample_index(50, 5, rng) for _ in range(2000)])
    hits = np.bincount(draws, minlength=50)
    assert hits.min() > 120 and hits.max() < 290  # expectation 200


# -- memory ------------------------------------------------------------------------------
def _peak_bytes(fit: Any) -> int:
    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streamed_memory_is_bounded_independently_of_n(tmp_path: Path) -> None:
    chunk = 2048
    peaks = {}
    for n in (30_000, 120_000):
        path = tmp_path / f"x{n}.npy"
        np.save(path, _binary(n, d=8))  # 120_000 rows: 7.7 MB, 59 chunks of 128 KiB
        executor = StreamExecutor(chunk_rows=chunk, init_rows=5000)
        model = BernoulliMixture(3, random_state=0, max_iter=2, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            peaks[n] = _peak_bytes(lambda p=path, e=executor, m=model: m.fit(p, executor=e))
    file_bytes = 120_000 * 8 * 8
    assert peaks[120_000] < file_bytes / 5, peaks  # about 8 chunks of temporaries
    assert peaks[120_000] < 1.25 * peaks[30_000] + 256 * 1024, peaks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = _peak_bytes(
            lambda: BernoulliMixture(3, random_state=0, max_iter=2, tol=0.0).fit(
                tmp_path / "x120000.npy", executor="memory"
            )
        )
    assert in_memory > file_bytes  # the reference holds the whole file (and more)


# -- what travels to Dask workers pickles ---------------------------------------------------
def test_stats_and_e_steps_pickle() -> None:
    stats = Stats(loglik=-1.5, weight=2.0, nk=np.array([1.0, 1.0]))
    back = pickle.loads(pickle.dumps(stats))
    assert back.loglik == -1.5 and back.weight == 2.0
    np.testing.assert_array_equal(back["nk"], stats["nk"])
    X = _binary(200)
    model = BernoulliMixture(2, random_state=0, max_iter=3).fit(X)
    step = _EStep(model, model.params_, StepContext())
    batch = InMemoryExecutor().prepare(model, X, None, {}).data
    again = pickle.loads(pickle.dumps(step))
    assert again(batch)["sx"].tolist() == step(batch)["sx"].tolist()


def test_array_source_wraps_sliceable_arrays() -> None:
    X = _binary(100)
    src = ArraySource(np.lib.stride_tricks.as_strided(X))
    np.testing.assert_array_equal(src[10:20], X[10:20])
    with pytest.raises(TypeError, match="only row slices"):
        src[[1, 2]]
    with pytest.raises(DataError, match="scalar"):
        ArraySource(3.0)
    kw: dict[str, Any] = {"random_state": 0, "max_iter": 4, "tol": 0.0}
    _same(BernoulliMixture(2, **kw).fit(X), BernoulliMixture(2, **kw).fit(src))


# -- the Gaussian-mixture family (branch gmm): runs once GaussianMixture and KMeans are merged
@pytest.mark.parametrize("name", ["GaussianMixture", "KMeans"])
def test_gaussian_family_streams_to_the_in_memory_answer(tmp_path: Path, name: str) -> None:
    import emkit.models

    if not hasattr(emkit.models, name):
        pytest.skip(f"emkit.models.{name} is not in this build (it comes from the gmm branch)")
    cls = getattr(emkit.models, name)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6000, 3)) + rng.integers(0, 3, size=(6000, 1)) * 4.0
    np.save(tmp_path / "x.npy", X)
    kinds = ["full", "tied", "diag", "spherical"] if name == "GaussianMixture" else [None]
    for kind in kinds:
        extra = {} if kind is None else {"covariance_type": kind}
        a = cls(3, random_state=0, max_iter=5, tol=0.0, **extra).fit(X)
        b = cls(3, random_state=0, max_iter=5, tol=0.0, **extra)
        # KMeans.fit computes labels_ and inertia_ from X in memory after the fit: an array
        data = tmp_path / "x.npy" if name == "GaussianMixture" else X
        b.fit(data, executor=StreamExecutor(chunk_rows=701))
        for field in a.params_.__dataclass_fields__:
            np.testing.assert_allclose(
                getattr(b.params_, field), getattr(a.params_, field), rtol=1e-9, atol=1e-12
            )
        np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=1e-9)
