"""The selections behind LSHIndex's Hamming scan: exact k smallest, ties broken by smaller id."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import emkit.lsh as lsh
from emkit.lsh import LSHIndex, hamming_distances, pack_bits


def _index_with_codes(bits: np.ndarray, n_tables: int = 1) -> LSHIndex:
    """An index whose stored codes are ``bits`` (n, n_tables * nbits)."""
    n, total = bits.shape
    nbits = total // n_tables
    rng = np.random.default_rng(0)
    index = LSHIndex(nbits, n_tables, random_state=0).fit(rng.standard_normal((n, 3)))
    packed = pack_bits(bits.reshape(n, n_tables, nbits)).reshape(n, -1)
    index.codes_ = packed
    index._build_buckets()
    return index


def _reference(ham: np.ndarray, m: int, cap: int) -> list[list[int]]:
    """Stable argsort by Hamming distance: the first m ids and those tied with the m-th, up to
    cap, per row."""
    out = []
    for row in ham:
        order = np.argsort(row, kind="stable")
        boundary = row[order[m - 1]]
        out.append([int(i) for r, i in enumerate(order[:cap]) if r < m or row[i] <= boundary])
    return out


codes_and_queries = st.tuples(st.integers(1, 3), st.sampled_from([5, 16, 33, 64, 70])).flatmap(
    lambda tb: st.tuples(
        st.just(tb[0]),
        hnp.arrays(bool, st.tuples(st.integers(2, 90), st.just(tb[0] * tb[1]))),
        hnp.arrays(bool, st.tuples(st.integers(1, 6), st.just(tb[0] * tb[1]))),
        st.integers(1, 12),
    )
)


@settings(max_examples=60, deadline=None)
@given(codes_and_queries, st.booleans(), st.booleans())
def test_scan_returns_exactly_the_smallest_hamming_ties_by_smaller_id(
    case: tuple[int, np.ndarray, np.ndarray, int], ties: bool, long_path: bool
) -> None:
    n_tables, bits, qbits, m = case
    n = bits.shape[0]
    m = min(m, n)
    cap = min(n, 2 * m) if ties else m
    index = _index_with_codes(bits, n_tables)
    qcodes = pack_bits(qbits.reshape(len(qbits), n_tables, -1)).reshape(len(qbits), -1)
    ham = (qbits[:, None, :] != bits[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(hamming_distances(qcodes, index.codes_), ham)
    if long_path:  # the sampled-threshold scan of indexes above _SMALL_SCAN codes
        old, lsh._SMALL_SCAN = lsh._SMALL_SCAN, 0
        try:
            ids, valid = index._scan_candidates(qcodes, m, cap)
        finally:
            lsh._SMALL_SCAN = old
    else:
        ids, valid = index._scan_candidates(qcodes, m, cap)
    got = [
        [int(i) for i, ok in zip(row, vrow, strict=True) if ok]
        for row, vrow in zip(ids, np.ones(ids.shape, bool) if valid is None else valid, strict=True)
    ]
    if m >= n:  # everything, in id order
        assert got == [list(range(n))] * len(qbits)
    else:
        assert got == _reference(ham, m, cap)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 400),
    st.integers(1, 60),
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.uint32, np.uint64]),
)
def test_smallest_keys_are_the_sorted_prefix(
    B: int, n: int, c: int, seed: int, dtype: type
) -> None:
    rng = np.random.default_rng(seed)
    c = min(c, n)
    shift = max(1, (n - 1).bit_length())
    ham = rng.integers(0, 5, (B, n)).astype(dtype)  # many ties in distance
    key = (ham << dtype(shift)) | np.arange(n, dtype=dtype)
    expected = np.sort(key, axis=1)[:, :c]
    for g in {1, *range(2, max(2, n // c) + 1, 3)}:
        width = -(-n // g)
        if g > 1 and width < c:
            continue
        padded = np.full((B, g * width), ~dtype(0), dtype=dtype)
        padded[:, :n] = key
        got = lsh._smallest_keys(padded, c, g, (1 << shift) - 1)
        np.testing.assert_array_equal(got, expected, err_msg=f"g={g}")


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.uint32, np.uint8]),
        st.tuples(st.integers(1, 6), st.integers(1, 50)),
        elements=st.integers(0, 6),  # small values: many ties
    ),
    st.integers(1, 60),
    st.booleans(),
)
def test_order_rows_is_a_stable_argsort_prefix(values: np.ndarray, c: int, with_inf: bool) -> None:
    if with_inf and values.dtype.kind == "f":
        values[:, ::3] = np.inf
    expected = np.argsort(values, axis=1, kind="stable")[:, : min(c, values.shape[1])]
    np.testing.assert_array_equal(lsh._order_rows(values, c), expected)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(16, 1), (64, 1), (100, 1), (20, 3)]))
def test_asymmetric_score_is_the_weighted_count_of_disagreeing_bits(
    seed: int, shape: tuple[int, int]
) -> None:
    nbits, n_tables = shape
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 8))
    index = LSHIndex(nbits, n_tables, random_state=seed).fit(X)
    q = rng.standard_normal((5, 8))
    z = index._project(q)
    qcodes = index._encode(z)
    ids = rng.integers(0, 60, (5, 7))
    for levels in (lsh._ASYM_LEVELS, lsh._ASYM_LEVELS_RERANK):
        absz = np.abs(z)
        weights = np.rint(absz * (2**levels - 1) / absz.max(axis=1, keepdims=True))
        stored = index._project(X)[ids] > 0  # (5, 7, bits)
        naive = ((stored != (z > 0)[:, None, :]) * weights[:, None, :]).sum(axis=2)
        np.testing.assert_array_equal(index._asymmetric(z, qcodes, ids, levels), naive)


@pytest.mark.parametrize("nbits", [8, 64, 130])
def test_plain_query_returns_the_k_hamming_nearest_ties_by_smaller_id(nbits: int) -> None:
    rng = np.random.default_rng(nbits)
    X = rng.standard_normal((500, 10))
    Q = rng.standard_normal((40, 10))
    index = LSHIndex(nbits, asymmetric=False, random_state=1).fit(X)
    _, ind = index.query(Q, k=7)
    ham = hamming_distances(index._encode(index._project(Q)), index.codes_)
    expected = np.argsort(ham, axis=1, kind="stable")[:, :7]
    np.testing.assert_array_equal(np.sort(ind, axis=1), np.sort(expected, axis=1))
