"""Random-projection LSH: packed codes, recall properties, exact limits, persistence, bad input."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone

from emkit import DataError, ParameterError
from emkit.lsh import (
    LSHIndex,
    brute_force_knn,
    hamming_distances,
    pack_bits,
    popcount,
    recall_at_k,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lsh" / "digits.csv.gz"


def clustered(n: int = 600, d: int = 16, centres: int = 20, seed: int = 0) -> np.ndarray:
    """Gaussian clusters: data with real nearest-neighbour structure."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 3, (centres, d))
    return mu[rng.integers(0, centres, n)] + rng.normal(0, 1, (n, d))


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA} (a fresh clone has no ../shared/data)")
    return np.loadtxt(DATA, delimiter=",")[:, :64]


# ------------------------------------------------------------------ packed codes, popcount


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.uint64, hnp.array_shapes(max_dims=3, max_side=6)))
def test_popcount_agrees_with_naive(words: np.ndarray) -> None:
    naive = np.vectorize(lambda w: bin(int(w)).count("1"), otypes=[np.int64])(words)
    np.testing.assert_array_equal(popcount(words, use_table=True), naive.reshape(words.shape))
    if hasattr(np, "bitwise_count"):
        np.testing.assert_array_equal(popcount(words, use_table=False), naive)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 200).flatmap(
        lambda nbits: st.tuples(
            hnp.arrays(bool, st.tuples(st.integers(1, 8), st.just(nbits))),
            hnp.arrays(bool, st.tuples(st.integers(1, 8), st.just(nbits))),
        )
    )
)
def test_hamming_of_packed_codes_agrees_with_naive(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    naive = (a[:, None, :] != b[None, :, :]).sum(axis=2)
    packed_a, packed_b = pack_bits(a), pack_bits(b)
    assert packed_a.dtype == np.uint64
    assert packed_a.shape == (a.shape[0], -(-a.shape[1] // 64))
    np.testing.assert_array_equal(hamming_distances(packed_a, packed_b), naive)


def test_bit_j_is_bit_j_of_word_j_div_64() -> None:
    bits = np.zeros((1, 130), dtype=bool)
    bits[0, [0, 63, 64, 129]] = True
    words = pack_bits(bits)
    assert words[0, 0] == np.uint64(1) | (np.uint64(1) << np.uint64(63))
    assert words[0, 1] == np.uint64(1)
    assert words[0, 2] == np.uint64(2)


# ------------------------------------------------------------------ exact limits


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_reranking_every_candidate_is_exact_search(metric: str) -> None:
    X = clustered(400, 12, seed=1)
    Q = clustered(50, 12, seed=2)
    index = LSHIndex(32, metric=metric, rerank=len(X), random_state=0).fit(X)
    dist, ind = index.query(Q, k=7)
    exact_d, exact_i = brute_force_knn(X, Q, 7, metric=metric)
    np.testing.assert_array_equal(ind, exact_i)
    np.testing.assert_allclose(dist, exact_d, rtol=1e-10, atol=1e-12)


def test_probing_every_bucket_with_reranking_is_exact_search() -> None:
    X = clustered(300, 8, seed=3)
    index = LSHIndex(5, 2, n_probes=32, rerank=300, random_state=0).fit(X)
    _, ind = index.query(X[:40], k=5)
    np.testing.assert_array_equal(ind, brute_force_knn(X, X[:40], 5)[1])


def test_brute_force_matches_sklearn() -> None:
    from sklearn.neighbors import NearestNeighbors

    X = clustered(300, 10, seed=4)
    for metric, sk in (("l2", "euclidean"), ("cosine", "cosine")):
        ref_d, ref_i = NearestNeighbors(n_neighbors=6, metric=sk).fit(X).kneighbors(X[:30])
        d, i = brute_force_knn(X, X[:30], 6, metric=metric)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_allclose(d, ref_d, atol=1e-7)


@pytest.mark.parametrize("n_probes", [0, 1, 3])
@pytest.mark.parametrize("rerank", [0, 20])
def test_identical_vectors_are_found(n_probes: int, rerank: int) -> None:
    X = clustered(500, 16, seed=5)
    index = LSHIndex(16, 2, n_probes=n_probes, rerank=rerank, random_state=1).fit(X)
    dist, ind = index.query(X, k=5)
    assert np.all(np.any(ind == np.arange(len(X))[:, None], axis=1))
    if rerank:
        np.testing.assert_array_equal(ind[:, 0], np.arange(len(X)))
        np.testing.assert_allclose(dist[:, 0], 0.0, atol=1e-12)


def test_distances_are_exact_and_ascending() -> None:
    X = clustered(500, 16, seed=6)
    Q = clustered(40, 16, seed=7)
    for probes in (0, 4):
        dist, ind = LSHIndex(12, 3, n_probes=probes, random_state=0).fit(X).query(Q, k=8)
        ok = ind >= 0
        true = np.linalg.norm(X[np.where(ok, ind, 0)] - Q[:, None, :], axis=2)
        np.testing.assert_allclose(dist[ok], true[ok], rtol=1e-12)
        assert np.all(np.diff(np.where(ok, dist, np.finfo(float).max), axis=1) >= 0)
        assert np.all(np.isinf(dist[~ok]))


# ------------------------------------------------------------------ recall properties


def _recall(index: LSHIndex, X: np.ndarray, Q: np.ndarray, truth: np.ndarray) -> float:
    return recall_at_k(index.fit(X).query(Q, k=10)[1], truth)


def test_more_bits_do_not_lower_recall_on_average() -> None:
    X, Q = clustered(1500, 24, seed=8), clustered(100, 24, seed=9)
    truth = brute_force_knn(X, Q, 10)[1]
    for asym in (False, True):
        curve = [
            np.mean([_recall(LSHIndex(b, asymmetric=asym, random_state=s), X, Q, truth)
                     for s in range(4)])
            for b in (8, 32, 128, 512)
        ]  # fmt: skip
        assert all(a <= b + 0.01 for a, b in itertools.pairwise(curve)), curve
        assert curve[-1] > curve[0] + 0.2, curve


def test_more_tables_do_not_lower_recall_on_average() -> None:
    X, Q = clustered(1500, 24, seed=10), clustered(100, 24, seed=11)
    truth = brute_force_knn(X, Q, 10)[1]
    curve = [
        np.mean([_recall(LSHIndex(10, t, n_probes=2, rerank=50, random_state=s), X, Q, truth)
                 for s in range(3)])
        for t in (1, 2, 4, 8)
    ]  # fmt: skip
    assert all(a <= b + 0.01 for a, b in itertools.pairwise(curve)), curve
    assert curve[-1] > curve[0] + 0.1, curve


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_more_probes_never_lose_a_neighbour_with_full_reranking(seed: int) -> None:
    # probe sets are nested, so with every candidate re-ranked, recall is monotone per query
    X, Q = clustered(400, 10, seed=seed % 1000), clustered(30, 10, seed=seed % 1000 + 1)
    truth = brute_force_knn(X, Q, 5)[1]
    index = LSHIndex(10, 2, rerank=len(X), random_state=seed).fit(X)
    found = [
        (index.query(Q, k=5, n_probes=p)[1][:, :, None] == truth[:, None, :]).any(axis=1).sum(1)
        for p in (1, 2, 4, 8, 11, 30, 100)
    ]
    for a, b in itertools.pairwise(found):
        assert np.all(a <= b)


def test_recall_on_digits_matches_or_beats_faiss_indexlsh(digits: np.ndarray) -> None:
    # FAISS IndexLSH on mean-centred digits: recall@10 0.57 at 64 bits, 0.99 re-ranking the
    # top 100 (../shared/data/README.md; faiss-cpu 1.15.1 gives 0.587 and 0.988 in our runs)
    truth = brute_force_knn(digits, digits, 10)[1]
    plain = np.mean(
        [_recall(LSHIndex(64, asymmetric=False, random_state=s), digits, digits, truth)
         for s in range(3)]
    )  # fmt: skip
    asym = _recall(LSHIndex(64, random_state=0), digits, digits, truth)
    reranked = _recall(LSHIndex(64, rerank=100, random_state=0), digits, digits, truth)
    assert plain >= 0.57
    assert asym >= 0.64
    assert reranked >= 0.99


# ------------------------------------------------------------------ API behaviour


def test_same_seed_same_index_and_results() -> None:
    X = clustered(300, 10, seed=12)
    a = LSHIndex(24, 2, n_probes=3, random_state=42).fit(X)
    b = LSHIndex(24, 2, n_probes=3, random_state=42).fit(X)
    np.testing.assert_array_equal(a.planes_, b.planes_)
    np.testing.assert_array_equal(a.codes_, b.codes_)
    for x, y in zip(a.query(X[:20], 6), b.query(X[:20], 6), strict=True):
        np.testing.assert_array_equal(x, y)
    c = LSHIndex(24, 2, random_state=43).fit(X)
    assert not np.array_equal(a.codes_, c.codes_)


def test_planes_are_orthonormal_blocks() -> None:
    index = LSHIndex(40, random_state=0).fit(clustered(50, 16))
    P = index.planes_
    np.testing.assert_allclose(P[:16] @ P[:16].T, np.eye(16), atol=1e-12)
    np.testing.assert_allclose(P[32:] @ P[32:].T, np.eye(8), atol=1e-12)


def test_add_is_fit_on_everything_when_not_centred() -> None:
    X = clustered(400, 10, seed=13)
    whole = LSHIndex(16, 2, center=False, n_probes=2, random_state=0).fit(X)
    parts = LSHIndex(16, 2, center=False, n_probes=2, random_state=0).fit(X[:150]).add(X[150:])
    np.testing.assert_array_equal(whole.codes_, parts.codes_)
    np.testing.assert_array_equal(whole.query(X[:30], 5)[1], parts.query(X[:30], 5)[1])
    empty = LSHIndex(16, random_state=0).add(X)
    np.testing.assert_array_equal(empty.codes_, LSHIndex(16, random_state=0).fit(X).codes_)


def test_centre_kept_on_add_and_defaults_by_metric() -> None:
    X = clustered(200, 6, seed=14) + 10
    index = LSHIndex(8, random_state=0).fit(X[:100])
    mean = index.mean_.copy()
    index.add(X[100:])
    np.testing.assert_array_equal(index.mean_, mean)
    np.testing.assert_allclose(mean, X[:100].mean(axis=0))
    assert np.all(LSHIndex(8, metric="cosine", random_state=0).fit(X).mean_ == 0)


def test_cosine_is_scale_invariant() -> None:
    X = clustered(300, 10, seed=15)
    scales = np.random.default_rng(0).uniform(0.1, 10, (len(X), 1))
    a = LSHIndex(32, metric="cosine", random_state=0).fit(X).query(X[:25], 5)[1]
    b = LSHIndex(32, metric="cosine", random_state=0).fit(X * scales).query(X[:25], 5)[1]
    np.testing.assert_array_equal(a, b)


def test_single_query_float32_and_sklearn_api() -> None:
    X = clustered(200, 8, seed=16).astype(np.float32)
    index = LSHIndex(16, rerank=30, random_state=0).fit(X)
    assert index.vectors_.dtype == np.float32 and index.planes_.dtype == np.float32
    d, i = index.query(X[3], k=4)
    assert d.shape == i.shape == (4,)
    assert i[0] == 3
    np.testing.assert_array_equal(index.kneighbors(X[:5], 4, return_distance=False),
                                  index.query(X[:5], 4)[1])  # fmt: skip
    assert clone(index).get_params() == index.get_params()
    assert index.n_samples_ == 200 and LSHIndex().n_samples_ == 0


# ------------------------------------------------------------------ persistence


@pytest.mark.parametrize("probes", [0, 3])
def test_save_load_round_trip(tmp_path: Path, probes: int) -> None:
    X = clustered(300, 12, seed=17)
    index = LSHIndex(20, 3, n_probes=probes, rerank=10, random_state=5).fit(X)
    json_path, npz_path = index.save(tmp_path / "idx")
    assert json_path.name == "idx.json" and npz_path.name == "idx.npz"
    meta = json.loads(json_path.read_text())
    assert meta["format"] == "emkit-lsh/1" and meta["params"]["nbits"] == 20
    loaded = LSHIndex.load(tmp_path / "idx")
    assert loaded.get_params() == index.get_params()
    for name in ("planes_", "mean_", "codes_", "vectors_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(index, name))
    for a, b in zip(loaded.query(X[:40], 7), index.query(X[:40], 7), strict=True):
        np.testing.assert_array_equal(a, b)
    loaded.add(X[:5])  # a loaded index keeps working
    assert loaded.n_samples_ == 305


def test_load_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read index file"):
        LSHIndex.load(tmp_path / "missing")
    (tmp_path / "x.json").write_text('{"format": "something-else"}')
    with pytest.raises(DataError, match="not an emkit LSH index"):
        LSHIndex.load(tmp_path / "x")
    index = LSHIndex(8, random_state=0).fit(clustered(50, 4))
    index.save(tmp_path / "y")
    np.savez(tmp_path / "y.npz", planes=np.array([object()], dtype=object))
    with pytest.raises(DataError, match="cannot read index"):
        LSHIndex.load(tmp_path / "y")  # object arrays need pickle: refused
    index.save(tmp_path / "z")
    with np.load(tmp_path / "z.npz") as npz:
        arrays = dict(npz)
    arrays["codes"] = arrays["codes"][:, :0]
    np.savez(tmp_path / "z.npz", **arrays)
    with pytest.raises(DataError, match="'codes' has shape"):
        LSHIndex.load(tmp_path / "z")
    with pytest.raises(DataError, match="empty index"):
        LSHIndex().save(tmp_path / "e")


# ------------------------------------------------------------------ bad input


def test_bad_input_raises_clear_value_errors() -> None:
    X = clustered(50, 6, seed=18)
    index = LSHIndex(8, random_state=0).fit(X)
    with pytest.raises(DataError, match="empty: call fit"):
        LSHIndex().query(X, 3)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(DataError, match=r"NaN or infinity \(first at row 3, column 2\)"):
        LSHIndex().fit(bad)
    with pytest.raises(DataError, match="NaN"):
        index.query(bad, 3)
    with pytest.raises(DataError, match="has 5 features but the index was built with 6"):
        index.query(X[:, :5], 3)
    with pytest.raises(DataError, match="has 5 features"):
        index.add(X[:, :5])
    with pytest.raises(DataError, match="k=51 exceeds the 50 vectors"):
        index.query(X, 51)
    with pytest.raises(ParameterError, match="k must be a positive int"):
        index.query(X, 0)
    with pytest.raises(DataError, match="2-D array"):
        index.fit(X[None])
    with pytest.raises(DataError, match="is empty"):
        LSHIndex().fit(np.empty((0, 3)))
    with pytest.raises(DataError, match="numeric"):
        LSHIndex().fit([["a", "b"]])
    with pytest.raises(ParameterError, match="'nbits' parameter of LSHIndex"):
        LSHIndex(nbits=0).fit(X)
    with pytest.raises(ParameterError, match="'metric' parameter"):
        LSHIndex(metric="hamming").fit(X)
    with pytest.raises(ParameterError, match="bucket probing needs nbits <= 64"):
        LSHIndex(65, random_state=0).fit(X).query(X, 3, n_probes=2)
    with pytest.raises(ParameterError, match=r"n_probes must be an int in \[0, 65536\]"):
        index.query(X, 3, n_probes=70000)
    with pytest.raises(ParameterError, match="rerank"):
        index.query(X, 3, rerank=-1)
    for exc in (DataError, ParameterError):
        assert issubclass(exc, ValueError)


def test_recall_at_k_counts_found_true_neighbours() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, -1], [-1, -1, -1, -1]])
    assert recall_at_k(found, truth) == pytest.approx((2 / 4 + 0) / 2)
    with pytest.raises(DataError, match="result rows"):
        recall_at_k(found[:1], truth)


def test_bucket_probing_pads_missing_neighbours() -> None:
    X = clustered(200, 8, seed=19)
    index = LSHIndex(20, n_probes=1, random_state=0).fit(X)  # 2**20 buckets: mostly alone
    dist, ind = index.query(X[:30] + 0.5, k=5)
    assert np.any(ind == -1)
    assert np.all(np.isinf(dist[ind == -1])) and np.all(np.isfinite(dist[ind >= 0]))
    # found neighbours come first in each row
    assert np.all(np.diff((ind < 0).astype(int), axis=1) >= 0)


def test_lookup_table_fallback_gives_the_same_search(monkeypatch: pytest.MonkeyPatch) -> None:
    import emkit.lsh as lsh

    X = clustered(300, 10, seed=20)
    index = LSHIndex(100, random_state=0).fit(X)  # two words per code
    expected = index.query(X[:30], 5)
    monkeypatch.setattr(lsh, "_HAS_BITWISE_COUNT", False)
    for a, b in zip(index.query(X[:30], 5), expected, strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    nbits=st.sampled_from([8, 32, 64, 100, 300]),
    mode=st.sampled_from([{}, {"asymmetric": False}, {"rerank": 30}]),
)
def test_compiled_kernels_give_the_numpy_search(seed: int, nbits: int, mode: dict) -> None:
    """numba's scan and asymmetric scores return exactly what the NumPy
    passes return: same neighbours, same order, same distances."""
    pytest.importorskip("numba")
    import emkit.lsh as lsh

    X = clustered(250, 12, seed=seed % 1000)
    Q = X[:17] + 0.01
    index = LSHIndex(nbits, random_state=seed, **mode).fit(X)
    compiled = index.query(Q, 6)
    saved = lsh._USE_KERNELS
    try:
        lsh._USE_KERNELS = False
        numpy_only = index.query(Q, 6)
        codes = index.codes_[:40]
        assert lsh._USE_KERNELS is False
        plain = hamming_distances(codes, codes[:7])
    finally:
        lsh._USE_KERNELS = saved
    for a, b in zip(compiled, numpy_only, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(hamming_distances(codes, codes[:7]), plain)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 300),
    n_words=st.integers(1, 3),
    bits=st.sampled_from([3, 8, 64]),
    data=st.data(),
)
def test_counting_selection_equals_sorting_by_distance_then_id(
    seed: int, n: int, n_words: int, bits: int, data: st.DataObject
) -> None:
    """The compiled counting selection (histogram of the integer distances, then one pass in id
    order) returns the first ``c`` pairs of a stable sort by Hamming distance: ties by smaller
    id, distances included; few set bits make many ties."""
    pytest.importorskip("numba")
    from emkit import _kernels

    c = data.draw(st.integers(1, n))
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 1 << bits, size=(n, n_words), dtype=np.uint64)
    queries = rng.integers(0, 1 << bits, size=(7, n_words), dtype=np.uint64)
    ids, dist = _kernels.hamming_smallest(np.ascontiguousarray(codes.T), queries, 64 * n_words, c)
    full = hamming_distances(queries, codes)  # (7, n)
    order = np.argsort(full, axis=1, kind="stable")[:, :c]
    np.testing.assert_array_equal(ids, order)
    np.testing.assert_array_equal(dist, np.take_along_axis(full, order, axis=1))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    nbits=st.sampled_from([1, 8, 63, 64, 100, 130]),
    n_tables=st.integers(1, 3),
    levels=st.sampled_from([6, 8]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_compiled_weight_planes_equal_numpy(
    seed: int, nbits: int, n_tables: int, levels: int, dtype: type
) -> None:
    """The compiled bit planes of the asymmetric weights equal NumPy's passes, bit for bit, in
    float32 and float64 (the rounding runs in the projections' dtype); a zero row included."""
    pytest.importorskip("numba")
    from emkit import _kernels
    from emkit.lsh import pack_bits

    rng = np.random.default_rng(seed)
    z = rng.standard_normal((5, n_tables * nbits)).astype(dtype)
    z[0] = 0
    absz = np.abs(z)
    top = absz.max(axis=1, keepdims=True)
    weights = np.rint(absz * ((1 << levels) - 1) / np.where(top > 0, top, 1)).astype(np.uint8)
    planes = (weights[:, None, :] >> np.arange(levels, dtype=np.uint8)[:, None]) & 1
    expected = pack_bits(planes.reshape(5, levels, n_tables, nbits)).reshape(5, levels, -1)
    np.testing.assert_array_equal(_kernels.weight_planes(z, n_tables, nbits, levels), expected)


@pytest.mark.parametrize("mode", [{}, {"asymmetric": False}, {"rerank": 30}])
def test_compiled_counting_selection_gives_the_long_numpy_scan(
    monkeypatch: pytest.MonkeyPatch, mode: dict
) -> None:
    """Above ``_SMALL_SCAN`` codes NumPy keeps the pairs under a sampled threshold first; the
    compiled counting selection serves every size: same neighbours, order and distances."""
    pytest.importorskip("numba")
    import emkit.lsh as lsh

    monkeypatch.setattr(lsh, "_SMALL_SCAN", 64)
    X = clustered(600, 10, seed=3)
    Q = X[:40] + 0.01
    for nbits in (8, 24, 100):
        index = LSHIndex(nbits, random_state=1, **mode).fit(X)
        compiled = index.query(Q, 7)
        monkeypatch.setattr(lsh, "_USE_KERNELS", False)
        numpy_only = index.query(Q, 7)
        monkeypatch.setattr(lsh, "_USE_KERNELS", True)
        for a, b in zip(compiled, numpy_only, strict=True):
            np.testing.assert_array_equal(a, b)
