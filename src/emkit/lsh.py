"""Locality-sensitive hashing by sign random projections (the course's recap).

``nbits`` random hyperplanes through the data's centre map each vector ``x`` to a bit string
``b_j(x) = [w_j · (x - mu) > 0]``. Two vectors at angle ``theta`` (around ``mu``) disagree on
each bit with probability ``theta / pi`` (Charikar 2002), so the Hamming distance between codes
estimates the angle, and similar vectors tend to share a bucket (the same code).

:class:`LSHIndex` searches in two ways:

* **Hamming ranking** (``n_probes=0``, the default, what FAISS's ``IndexLSH`` does): every
  stored code is compared with the query's code by XOR and popcount on packed 64-bit words.
* **Bucket probing** (``n_probes=P``): each of ``n_tables`` hash tables maps a code to its
  bucket; a query looks in its own bucket and in the ``P - 1`` neighbouring buckets most likely
  to hold its neighbours, those obtained by flipping the bits whose projections are closest to
  zero (query-directed multi-probe, Lv et al., VLDB 2007). Only the vectors in probed buckets
  are looked at: the search is sub-linear.

Candidates are then ordered by code distance: Hamming distance, refined (``asymmetric=True``)
by the *asymmetric* distance ``sum_j |w_j · (q - mu)| [b_j(x) != b_j(q)]``, which weighs each
disagreeing bit by how far the query lies from that hyperplane (Dong et al. 2008; Gordo et al.
2014) and breaks the many ties of short codes (the weights rounded to 8-bit integers, so the sum
is popcounts of the XOR masked by the weights' bit planes). Optionally the ``rerank`` best
candidates are re-ranked by exact distance (``metric`` "l2" or "cosine"). The distances returned
are always the exact metric distances of the neighbours returned.

Ties are broken by the smaller id: the Hamming ranking returns the ``m`` smallest keys
``(distance << s) | id`` (selected with ``np.partition``), and later orderings are stable.

Hyperplanes are drawn in orthonormal blocks of up to ``n_features`` rows (a random rotation, as
FAISS does), which makes the bits less redundant than independent Gaussian directions.

Example
-------
>>> import numpy as np
>>> from emkit.lsh import LSHIndex
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((1000, 16))
>>> index = LSHIndex(nbits=64, rerank=50, random_state=0).fit(X)
>>> dist, ind = index.query(X[:3], k=5)
>>> ind[:, 0].tolist()
[0, 1, 2]
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from emkit import _kernels
from emkit._sklearn_api import BaseEstimator, check_random_state
from emkit._validation import BOOL, NONE, RANDOM_STATE, Constraint, interval, one_of
from emkit._validation import validate_params as _validate_params
from emkit._version import __version__
from emkit.exceptions import DataError, ParameterError

__all__ = [
    "LSHIndex",
    "brute_force_knn",
    "hamming_distances",
    "pack_bits",
    "popcount",
    "recall_at_k",
]

FORMAT = "emkit-lsh/1"

#: Popcount of every byte value: the fallback where NumPy has no ``bitwise_count`` (< 2.0).
_POPCOUNT_TABLE = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_HAS_BITWISE_COUNT = hasattr(np, "bitwise_count")
#: the Hamming scan runs as one compiled loop (numba) when numba is installed
_USE_KERNELS = _kernels.HAVE_NUMBA

#: Elements (query rows x stored words) of the largest temporary of one query block.
_BLOCK_ELEMENTS = 1 << 23
#: Bytes of the temporaries of one block of queries in the search (each block costs some
#: fifty NumPy calls: fewer, larger blocks where the data are small).
_BLOCK_BYTES = 1 << 23
#: Elements (uint64) of the XOR buffer of the Hamming scan: a cache-sized 2 MiB.
_CACHE_ELEMENTS = 1 << 17
#: Largest number of low-margin bits among which probes are chosen (2**10 flip patterns).
_MAX_FLIP_BITS = 10
#: Hamming short list of the asymmetric distance: max(2 m, m + (factor - 1) k) candidates.
_ASYM_FACTOR = 4
#: ... and those tied with its last one, up to this many times as many. 1: none beyond the
#: short list (ties by smaller id); 2 raised recall@10 on digits by at most 0.004 (32 bits)
#: for 15-20 % more query time.
_ASYM_TIES = 1
#: Largest index whose NumPy scan selects over every code with ``np.partition``; above, a
#: sampled threshold first keeps a few candidates per query. (The compiled counting selection
#: serves every size.)
_SMALL_SCAN = 1 << 15
#: Bits of the integer weights of the asymmetric distance (256 levels).
_ASYM_LEVELS = 8
#: ... and where the exact re-ranking of ``rerank`` candidates follows (same recall on digits).
_ASYM_LEVELS_RERANK = 6


# --------------------------------------------------------------------------------------------
# packed codes and Hamming distances


def popcount(words: np.ndarray, *, use_table: bool | None = None) -> np.ndarray:
    """Number of set bits of each element of an unsigned 64-bit integer array.

    Parameters
    ----------
    words : ndarray of uint64, any shape
    use_table : bool, optional
        Force (True) or forbid (False) the byte lookup table; by default ``np.bitwise_count``
        is used where NumPy has it (>= 2.0) and the table otherwise.

    Returns
    -------
    ndarray of uint8, same shape as ``words``
    """
    words = np.asarray(words, dtype=np.uint64)
    table = (not _HAS_BITWISE_COUNT) if use_table is None else use_table
    if not table:
        return np.bitwise_count(words)
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(*words.shape, 8)
    return _POPCOUNT_TABLE[as_bytes].sum(axis=-1, dtype=np.uint8)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack boolean codes into little-endian 64-bit words: bit ``j`` -> word ``j // 64``.

    Parameters
    ----------
    bits : array-like of bool, shape (..., nbits)

    Returns
    -------
    ndarray of uint64, shape (..., ceil(nbits / 64)); padding bits are zero.
    """
    bits = np.asarray(bits, dtype=bool)
    nbits = bits.shape[-1]
    n_words = max(1, -(-nbits // 64))
    pad = n_words * 64 - nbits
    if pad:
        bits = np.concatenate([bits, np.zeros((*bits.shape[:-1], pad), dtype=bool)], axis=-1)
    packed = np.packbits(bits, axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def _unpack_bits(words: np.ndarray, nbits: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: shape (..., n_words) -> bool (..., nbits)."""
    as_bytes = np.ascontiguousarray(words.astype("<u8", copy=False)).view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1, count=nbits, bitorder="little").astype(bool)


def _key_layout(n: int, max_distance: int) -> tuple[int, type[np.unsignedinteger[Any]]]:
    """Bits of the id field and dtype of the selection keys ``(distance << shift) | id``."""
    shift = max(1, (n - 1).bit_length())
    bits = shift + max(1, max_distance.bit_length())
    return shift, (np.uint32 if bits <= 32 else np.uint64)


def _hamming_rows(
    codes_by_word: np.ndarray,
    query_codes: np.ndarray,
    dtype: Any = None,
    ids: np.ndarray | None = None,
    shift: int = 0,
    out: np.ndarray | None = None,
    compiled: bool | None = None,
) -> np.ndarray:
    """Hamming distance of each query code to every stored code, or selection keys.

    Parameters
    ----------
    codes_by_word : ndarray of uint64 (or uint32 for codes of up to 32 bits), shape (n_words, n)
        The stored codes, one contiguous row per word.
    query_codes : ndarray of uint64, shape (B, n_words)
    dtype : unsigned integer dtype, optional
        Of the result; by default uint8 (up to 255 bits) or uint16.
    ids, shift : optional
        With ``ids`` (shape (n,), of ``dtype``), return the keys ``(distance << shift) | ids``:
        ordering them orders by distance, then id, and one unsigned integer per pair is what
        ``np.partition`` selects fastest.
    out : ndarray of shape (B, n), optional
        Where to write the result.
    compiled : bool, optional
        Take the compiled kernel; by default when the call has the work to pay for it.

    Returns
    -------
    ndarray of shape (B, n)
    """
    n_words, n = codes_by_word.shape
    B = query_codes.shape[0]
    if compiled is None:
        compiled = _USE_KERNELS and _kernels.worthwhile(B * n * n_words)
    if dtype is None:
        dtype = np.uint8 if n_words * 64 <= 255 else np.uint16
    if out is None:
        out = np.empty((B, n), dtype=dtype)
    if compiled:  # one compiled loop instead of passes over temporaries: 2-3x faster
        return _kernels.hamming_keys(codes_by_word, query_codes, out, ids, shift)
    query_codes = query_codes.astype(codes_by_word.dtype, copy=False)
    # tiles of (query rows x stored codes) small enough that the XOR and count buffers stay in
    # cache between the passes over them (several times faster than passes over whole rows)
    rows = min(B, max(1, _CACHE_ELEMENTS // n) if n <= _CACHE_ELEMENTS else 64)
    cols = max(1, min(n, _CACHE_ELEMENTS // rows))
    xor = np.empty((rows, cols), dtype=codes_by_word.dtype)
    # counts of up to 3 words (192 bits) add up in uint8, without a widening cast per word
    count = np.empty((2, rows, cols), dtype=np.uint8)
    for r0 in range(0, B, rows):
        r1 = min(B, r0 + rows)
        for c0 in range(0, n, cols):
            c1 = min(n, c0 + cols)
            buffer = xor[: r1 - r0, : c1 - c0]
            tile = out[r0:r1, c0:c1]
            group, part = count[0, : r1 - r0, : c1 - c0], count[1, : r1 - r0, : c1 - c0]
            for w in range(n_words):
                np.bitwise_xor(query_codes[r0:r1, w, None], codes_by_word[w, c0:c1], out=buffer)
                if n_words == 1:
                    _popcount_into(buffer, tile)
                    continue
                if w % 3 == 0:
                    _popcount_into(buffer, group)
                else:
                    _popcount_into(buffer, part)
                    np.add(group, part, out=group)
                if w % 3 == 2 or w == n_words - 1:
                    if w < 3:
                        np.copyto(tile, group)
                    else:
                        np.add(tile, group, out=tile)
            if ids is not None:
                np.left_shift(tile, shift, out=tile)
                np.bitwise_or(tile, ids[c0:c1], out=tile)
    return out


def _popcount_into(words: np.ndarray, out: np.ndarray) -> None:
    if _HAS_BITWISE_COUNT:
        np.bitwise_count(words, out=out)
    else:
        out[...] = popcount(words)


def hamming_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two sets of packed codes.

    Parameters
    ----------
    a : ndarray of uint64, shape (n_a, n_words)
    b : ndarray of uint64, shape (n_b, n_words)

    Returns
    -------
    ndarray of int64, shape (n_a, n_b)
    """
    a = np.atleast_2d(np.asarray(a, dtype=np.uint64))
    b = np.atleast_2d(np.asarray(b, dtype=np.uint64))
    if a.shape[1] != b.shape[1]:
        raise DataError(f"codes have {a.shape[1]} and {b.shape[1]} words: they must match")
    return _hamming_rows(np.ascontiguousarray(b.T), a).astype(np.int64)


# --------------------------------------------------------------------------------------------
# exact search and evaluation


def _row_distances(X: np.ndarray, Q: np.ndarray, ids: np.ndarray, metric: str) -> np.ndarray:
    """Exact distance between ``Q[i]`` and ``X[ids[i, j]]``, shape (n_queries, n_candidates)."""
    xs = X.take(ids.ravel(), axis=0).reshape(*ids.shape, X.shape[1])
    if metric == "l2":
        xs -= Q[:, None, :]
        return np.sqrt(np.einsum("ijk,ijk->ij", xs, xs))
    dots = np.einsum("ijk,ik->ij", xs, Q)
    norms = np.sqrt(np.einsum("ijk,ijk->ij", xs, xs) * np.einsum("ik,ik->i", Q, Q)[:, None])
    # a zero vector has no direction: cosine similarity 0 with everything (as scikit-learn)
    cos = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return 1.0 - np.clip(cos, -1.0, 1.0)


def _group_layout(n: int, c: int) -> tuple[int, int]:
    """Groups ``(g, width)`` of the selection of the ``c`` smallest of ``n`` keys per row.

    Selecting among the minima of ``width`` groups of ``g`` keys, then among the ``c`` chosen
    groups' ``c * g`` keys, costs about ``n / g + c * g`` steps after one pass of elementwise
    minima: ``g = sqrt(n / c)``. ``g = 1`` (no groups) where that saves too little.
    """
    g = int(np.sqrt(n / max(c, 1)))
    if g < 8:  # the steps around the groups cost more than they save
        return 1, n
    return g, -(-n // g)


def _smallest_keys(key: np.ndarray, c: int, g: int = 1, id_mask: int = 0) -> np.ndarray:
    """The ``c`` smallest entries of each row of ``key`` (distinct unsigned keys), ascending.

    ``key`` is scratch: its rows are reordered in place (a copy would cost more than the
    selection).

    Parameters
    ----------
    key : ndarray of shape (B, g * width)
        Distinct keys; with ``g > 1`` the columns form ``width`` groups ``{j, j + width, ...}``
        (pad with the dtype's largest value), each holding at least one real key.
    c : int
        At most the number of real keys.
    g : int
        Keys per group, from :func:`_group_layout`.
    id_mask : int
        With ``g > 1``: the bits of a key that hold its column (the stored code's id).

    Notes
    -----
    The ``c`` groups of smallest minima hold the ``c`` smallest keys: their minima are ``c``
    keys at or under the largest of them, and every key of another group is above it. Their
    minima come from one SIMD pass of ``np.minimum`` over the ``g`` rows of groups; the rest
    selects among ``width`` minima and ``c * g`` keys with ``np.partition`` (NumPy's SIMD
    quickselect: several times faster than ``np.argpartition``, which is why keys carry the
    column they came from).
    """
    B, total = key.shape
    if g > 1:
        width = total // g
        grouped = key.reshape(B, g, width)
        lowest = grouped.min(axis=1)
        lowest.partition(c - 1, axis=1)  # in place: np.partition would copy
        # a key's column, hence its group, is its id: (column = id) mod width
        chosen = (lowest[:, :c] & key.dtype.type(id_mask)) % key.dtype.type(width)
        key = np.take_along_axis(grouped, chosen[:, None, :], axis=2).reshape(B, g * c)
    if key.shape[1] > c:
        key.partition(c - 1, axis=1)
    top = key[:, :c]
    top.sort(axis=1)
    return top


def _dense(
    rows: np.ndarray, cols: np.ndarray, rank: np.ndarray, n_rows: int, min_width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, rank within row) -> ids of shape (n_rows, width >= min_width) and a mask
    of the entries that hold a pair."""
    width = max(min_width, int(rank.max()) + 1 if rank.size else 0)
    ids = np.zeros((n_rows, width), dtype=np.intp)
    valid = np.zeros((n_rows, width), dtype=bool)
    ids[rows, rank] = cols
    valid[rows, rank] = True
    return ids, valid


def _order_rows(values: np.ndarray, c: int) -> np.ndarray:
    """Positions of the ``c`` smallest of each row of non-negative ``values``, ascending, ties
    by position: the first ``c`` columns of a stable ``argsort``.

    Unsigned integers and float32 (whose bit patterns order as their non-negative values do,
    ``inf`` included) become keys ``(value << 32) | position`` for ``np.partition`` and
    ``np.sort``, several times faster than ``argsort`` on short rows.
    """
    C = values.shape[1]
    c = min(c, C)
    if values.dtype == np.float32:
        bits = values.view(np.uint32)
    elif values.dtype.kind == "u" and values.dtype.itemsize <= 4:
        bits = values
    else:
        return np.argsort(values, axis=1, kind="stable")[:, :c]
    key = bits.astype(np.uint64) << np.uint64(32)
    key |= np.arange(C, dtype=np.uint64)
    top = np.partition(key, c - 1, axis=1)[:, :c] if c < C else key
    top.sort(axis=1)
    return (top & np.uint64(0xFFFFFFFF)).astype(np.intp)


def _take_rows(a: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``np.take_along_axis(a, positions, axis=1)`` for 2-D arrays, by flat indices."""
    flat = positions + np.arange(a.shape[0])[:, None] * a.shape[1]
    return np.ravel(a).take(flat)


def _select_pairs(
    rows: np.ndarray, cols: np.ndarray, key: np.ndarray, n_rows: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` pairs of smallest ``key`` in each row; ties keep the input order.

    Returns
    -------
    kept : ndarray of int
        Positions in the input arrays of the kept pairs, ordered by row, then rank.
    rank : ndarray of int
        Rank of each kept pair within its row (0 = smallest key).
    """
    if rows.size and np.any(rows[1:] < rows[:-1]):
        by_row = np.argsort(rows, kind="stable")
        kept, rank = _select_pairs(rows[by_row], cols[by_row], key[by_row], n_rows, m)
        return by_row[kept], rank
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    width = int(counts.max()) if rows.size else 0
    if n_rows * width > 4 * rows.size + 4096:  # too ragged for a padded matrix
        order = np.lexsort((np.arange(rows.size), key, rows))
        rank = np.arange(order.size) - starts[rows[order]]
        keep = rank < m
        return order[keep], rank[keep]
    # rows of a padded (n_rows, width) matrix, sorted at once; padding (inf) sorts last
    pos = np.arange(rows.size) - starts[rows]
    padded = np.full((n_rows, width), np.inf)
    padded[rows, pos] = key
    order = np.argsort(padded, axis=1, kind="stable")[:, :m]
    rank = np.broadcast_to(np.arange(order.shape[1]), order.shape)
    valid = rank < counts[:, None]
    return (starts[:, None] + order)[valid], rank[valid]


def _nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask through the 1-D fast path (many times faster when sparse)."""
    rows, cols = np.divmod(np.flatnonzero(mask), mask.shape[1])
    return rows, cols


def _with_ties(
    rows: np.ndarray, key: np.ndarray, rank: np.ndarray, m: int, n_rows: int
) -> np.ndarray:
    """Mask of the pairs ranked below ``m`` or tied with the pair ranked ``m - 1`` of their row.

    ``rows``, ``key``, ``rank`` describe pairs sorted by row, then key (as
    :func:`_select_pairs` returns them).
    """
    boundary = np.full(n_rows, np.inf)
    last = rank == m - 1
    boundary[rows[last]] = key[last]
    return (rank < m) | (key <= boundary[rows])


def brute_force_knn(X: Any, Q: Any, k: int, metric: str = "l2") -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by exhaustive search (the baseline LSH is measured against).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Q : array-like of shape (n_queries, n_features)
    k : int
    metric : {"l2", "cosine"}

    Returns
    -------
    distances : ndarray of shape (n_queries, k)
    indices : ndarray of int64, shape (n_queries, k); ties broken by the smaller index.
    """
    X = np.asarray(X)
    Q = np.asarray(Q, dtype=X.dtype)
    n = X.shape[0]
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1)
        Xn = X / np.where(norms > 0, norms, 1)[:, None]
    sq = np.einsum("ij,ij->i", X, X)
    block = max(1, min(Q.shape[0], 4 * _BLOCK_ELEMENTS // max(n, 1)))
    out_i = np.empty((Q.shape[0], k), dtype=np.int64)
    out_d = np.empty((Q.shape[0], k), dtype=np.float64)
    for start in range(0, Q.shape[0], block):
        q = Q[start : start + block]
        # |x|^2 - 2 q.x orders the stored vectors as |q - x|^2 does
        score = sq[None, :] - 2.0 * (q @ X.T) if metric == "l2" else -(q @ Xn.T)
        m = min(k + 8, n)  # a margin for round-off near the k-th distance, re-checked exactly
        if m < n:
            part = np.sort(np.argpartition(score, m - 1, axis=1)[:, :m], axis=1)
        else:
            part = np.broadcast_to(np.arange(n), (len(q), n))
        dist = _row_distances(X, q, part, metric)
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]  # ties: the smaller index
        out_i[start : start + len(q)] = np.take_along_axis(part, order, axis=1)
        out_d[start : start + len(q)] = np.take_along_axis(dist, order, axis=1)
    return out_d, out_i


def recall_at_k(found: Any, truth: Any) -> float:
    """Mean fraction of the true neighbours found: ``|found_i ∩ truth_i| / k`` averaged over i.

    Parameters
    ----------
    found : array-like of int, shape (n_queries, k_found); -1 marks a missing neighbour
    truth : array-like of int, shape (n_queries, k)
    """
    found = np.asarray(found)
    truth = np.asarray(truth)
    if found.shape[0] != truth.shape[0]:
        raise DataError(f"{found.shape[0]} result rows for {truth.shape[0]} queries")
    hits = (found[:, :, None] == truth[:, None, :]) & (found[:, :, None] >= 0)
    return float(hits.any(axis=1).sum(axis=1).mean() / truth.shape[1])


# --------------------------------------------------------------------------------------------
# the index


class LSHIndex(BaseEstimator):
    """Nearest-neighbour index by sign random projections.

    Parameters
    ----------
    nbits : int, default=64
        Bits per hash table (hyperplanes per table).
    n_tables : int, default=1
        Independent hash tables. Hamming ranking uses the ``nbits * n_tables`` bits together;
        bucket probing looks up each table and merges the candidates.
    metric : {"l2", "cosine"}, default="l2"
        Exact distance used to re-rank and reported for the neighbours returned.
    center : bool or None, default=None
        Hash ``x - mean`` instead of ``x`` (hyperplanes through the data's centre: sign
        projections of uncentred data waste bits that every vector shares). None: True for
        "l2", False for "cosine" (whose angles are measured at the origin). The mean is taken
        from the vectors given to :meth:`fit` and kept when vectors are added.
    n_probes : int, default=0
        0: rank all stored codes by Hamming distance. ``P > 0`` (at most 65,536): probe ``P``
        buckets per table (the query's own and the ``P - 1`` best neighbours by flipping
        low-margin bits); needs ``nbits <= 64``.
    rerank : int, default=0
        Re-rank the ``rerank`` best candidates by exact distance (0: order by code distance
        only). ``rerank >= n_samples`` with ``n_probes=0`` is exact search.
    asymmetric : bool, default=True
        Order Hamming candidates by the asymmetric distance (query projections against stored
        bits, weights rounded to 8-bit integers) on a short list of the ``max(2 m, m + 3 k)``
        Hamming-nearest candidates, with ``m = max(k, rerank)`` (and those tied with the last
        of them, up to twice as many).
    random_state : int, RandomState or None, default=None
        Seed of the hyperplanes.

    Attributes
    ----------
    planes_ : ndarray of shape (nbits * n_tables, n_features)
    mean_ : ndarray of shape (n_features,)
        Zeros when ``center`` is off.
    codes_ : ndarray of uint64, shape (n_samples, n_tables * ceil(nbits / 64))
        Packed codes; table ``t`` occupies words ``t * W .. (t + 1) * W - 1``.
    vectors_ : ndarray of shape (n_samples, n_features)
        The stored vectors (for re-ranking and exact distances).
    n_features_in_ : int
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "nbits": interval(int, 1, 4096),
        "n_tables": interval(int, 1, 256),
        "metric": one_of({"l2", "cosine"}),
        "center": BOOL | NONE,
        "n_probes": interval(int, 0, 1 << 16),
        "rerank": interval(int, 0, None),
        "asymmetric": BOOL,
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        nbits: int = 64,
        n_tables: int = 1,
        *,
        metric: str = "l2",
        center: bool | None = None,
        n_probes: int = 0,
        rerank: int = 0,
        asymmetric: bool = True,
        random_state: Any = None,
    ) -> None:
        self.nbits = nbits
        self.n_tables = n_tables
        self.metric = metric
        self.center = center
        self.n_probes = n_probes
        self.rerank = rerank
        self.asymmetric = asymmetric
        self.random_state = random_state

    # ---------------------------------------------------------------- validation helpers

    def _check_params(self) -> None:
        _validate_params(self, self._parameter_constraints)

    @property
    def _words_per_table(self) -> int:
        return -(-self.nbits // 64)

    @property
    def n_samples_(self) -> int:
        """Number of stored vectors (0 for an empty index)."""
        vectors = getattr(self, "vectors_", None)
        return 0 if vectors is None else int(vectors.shape[0])

    def _check_vectors(
        self, X: Any, what: str, *, allow_1d: bool = False, fresh: bool = False
    ) -> np.ndarray:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{what} must be a numeric array: {exc}") from exc
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise DataError(f"{what} must be numeric, got dtype {arr.dtype}")
        if allow_1d and arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise DataError(
                f"{what} must be a 2-D array of shape (n, n_features), got shape {arr.shape}"
            )
        if arr.shape[0] == 0:
            raise DataError(f"{what} is empty: got shape {arr.shape}")
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise DataError(f"{what} must be real, got dtype {arr.dtype}")
        dtype = None if fresh else getattr(self, "vectors_", None)
        if dtype is not None:
            dtype = dtype.dtype
        elif arr.dtype == np.float32:
            dtype = np.float32
        else:
            dtype = np.float64
        arr = np.ascontiguousarray(arr, dtype=dtype)
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise DataError(
                f"{what} contains NaN or infinity (first at row {bad[0]}, column {bad[1]})"
            )
        n_features = None if fresh else getattr(self, "n_features_in_", None)
        if n_features is not None and arr.shape[1] != n_features:
            raise DataError(
                f"{what} has {arr.shape[1]} features but the index was built with {n_features}"
            )
        return arr

    # ---------------------------------------------------------------- building

    def _draw_planes(self, n_features: int) -> np.ndarray:
        rng = check_random_state(self.random_state)
        total = self.nbits * self.n_tables
        blocks = []
        for start in range(0, total, n_features):
            gauss = rng.standard_normal((n_features, n_features))
            q, r = np.linalg.qr(gauss)
            q *= np.where(np.diag(r) < 0, -1.0, 1.0)  # Haar-distributed rotation
            blocks.append(q.T[: min(n_features, total - start)])
        return np.vstack(blocks)

    def _project(self, X: np.ndarray) -> np.ndarray:
        """Projections ``(X - mean) @ planes.T`` of shape (n, nbits * n_tables)."""
        return (X - self.mean_) @ self.planes_.T

    def _encode(self, Z: np.ndarray) -> np.ndarray:
        """Packed codes (n, n_tables * W) from projections (n, nbits * n_tables)."""
        bits = (Z > 0).reshape(Z.shape[0], self.n_tables, self.nbits)
        return pack_bits(bits).reshape(Z.shape[0], -1)

    def fit(self, X: Any, y: Any = None) -> LSHIndex:
        """Draw the hyperplanes, set the centre from ``X`` and index ``X`` (replacing any data).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        X = self._check_vectors(X, "X", fresh=True)
        self.n_features_in_ = X.shape[1]
        self.planes_ = self._draw_planes(X.shape[1]).astype(X.dtype)
        center = self.metric == "l2" if self.center is None else self.center
        self.mean_ = X.mean(axis=0) if center else np.zeros(X.shape[1], dtype=X.dtype)
        self.vectors_ = X
        self.codes_ = self._encode(self._project(X))
        self._build_buckets()
        return self

    def add(self, X: Any) -> LSHIndex:
        """Add vectors to the index (their ids continue from ``n_samples_``).

        On an empty index this is :meth:`fit`. The hyperplanes and centre are kept.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)

        Returns
        -------
        self
        """
        if self.n_samples_ == 0:
            return self.fit(X)
        X = self._check_vectors(X, "X")
        self.vectors_ = np.concatenate([self.vectors_, X])
        self.codes_ = np.concatenate([self.codes_, self._encode(self._project(X))])
        self._build_buckets()
        return self

    def _build_buckets(self) -> None:
        """Derived search structures, rebuilt whenever the codes change.

        The codes word by word (contiguous rows for the Hamming scan) and, per table, the
        stored ids sorted by bucket key (nbits <= 64: one word per table).
        """
        # codes of up to 32 bits scan as uint32: half the bytes through XOR and popcount
        narrow = self.nbits * self.n_tables <= 32
        self._codes_by_word = np.ascontiguousarray(
            self.codes_.T, dtype=np.uint32 if narrow else np.uint64
        )
        shift, dtype = _key_layout(self.n_samples_, self.nbits * self.n_tables)
        self._key_shift = shift
        self._key_ids = np.arange(self.n_samples_, dtype=dtype)
        if self.nbits > 64:
            self._bucket_keys: np.ndarray | None = None
            self._bucket_ids: np.ndarray | None = None
            return
        keys = self.codes_.T  # (n_tables, n)
        order = np.argsort(keys, axis=1, kind="stable")
        self._bucket_ids = order
        self._bucket_keys = np.take_along_axis(keys, order, axis=1)

    # ---------------------------------------------------------------- searching

    def query(
        self,
        Q: Any,
        k: int = 10,
        *,
        n_probes: int | None = None,
        rerank: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` approximate nearest stored vectors of each query.

        Parameters
        ----------
        Q : array-like of shape (n_queries, n_features) or (n_features,)
        k : int, default=10
        n_probes : int, optional
            Overrides the index's ``n_probes`` for this call (0: Hamming ranking).
        rerank : int, optional
            Overrides the index's ``rerank`` for this call.

        Returns
        -------
        distances : ndarray of float64, shape (n_queries, k) or (k,) for one query
            Exact metric distances, ascending; ``inf`` where fewer than ``k`` candidates were
            found (bucket probing only).
        indices : ndarray of int64, same shape
            Ids of the neighbours (row numbers in the order the vectors were added); -1 where
            none was found.
        """
        self._check_params()
        if self.n_samples_ == 0:
            raise DataError("the index is empty: call fit(X) or add(X) before query")
        single = np.ndim(Q) == 1
        Q = self._check_vectors(Q, "queries", allow_1d=True)
        probes = self.n_probes if n_probes is None else n_probes
        rr = self.rerank if rerank is None else rerank
        if not (isinstance(k, int | np.integer) and not isinstance(k, bool) and k >= 1):
            raise ParameterError(f"k must be a positive int, got {k!r}")
        if k > self.n_samples_:
            raise DataError(f"k={k} exceeds the {self.n_samples_} vectors in the index")
        if not interval(int, 0, 1 << 16).accepts(probes):
            raise ParameterError(f"n_probes must be an int in [0, 65536], got {probes!r}")
        if not interval(int, 0, None).accepts(rr):
            raise ParameterError(f"rerank must be a non-negative int, got {rr!r}")
        if probes and self.nbits > 64:
            raise ParameterError(
                f"bucket probing needs nbits <= 64 per table, got nbits={self.nbits}: "
                "use more tables of fewer bits, or n_probes=0 (Hamming ranking)"
            )
        dist, ind = self._search(Q, int(k), probes, int(rr))
        return (dist[0], ind[0]) if single else (dist, ind)

    def kneighbors(self, X: Any, n_neighbors: int = 10, return_distance: bool = True) -> Any:
        """scikit-learn-style alias of :meth:`query`."""
        dist, ind = self.query(X, n_neighbors)
        return (dist, ind) if return_distance else ind

    def _search(
        self, Q: np.ndarray, k: int, n_probes: int, rerank: int
    ) -> tuple[np.ndarray, np.ndarray]:
        n, n_words = self.codes_.shape
        # compiled kernels where the scan pays for numba's start-up (emkit._kernels)
        compiled = _USE_KERNELS and _kernels.worthwhile(Q.shape[0] * n * n_words)
        m = max(k, min(rerank, n))  # candidates passed on from code ranking
        short = min(n, max(2 * m, m + (_ASYM_FACTOR - 1) * k)) if self.asymmetric else m
        # the asymmetric distance sees every candidate tied with the short list's last one
        cap = min(n, _ASYM_TIES * short) if self.asymmetric else m
        # queries in blocks whose temporaries stay cache-sized: fresh large temporaries cost
        # more in page faults than the arithmetic on them
        if n_probes:
            found_bytes = 32 * n_probes * self.n_tables * max(64, n >> self.nbits)
        else:  # keys of every pair, or none with the compiled counting selection
            found_bytes = 0 if compiled else 4 * n
        per_query = found_bytes + cap * (24 * n_words + 16) + m * self.vectors_[0].nbytes * 2
        block = max(1, min(Q.shape[0], _BLOCK_BYTES // per_query))
        if n > _SMALL_SCAN and not n_probes and not compiled:  # bytes per distance
            block = max(1, min(Q.shape[0], _BLOCK_ELEMENTS // (n * n_words)))
        out_d = np.empty((Q.shape[0], k))
        out_i = np.empty((Q.shape[0], k), dtype=np.int64)
        buffer = None
        for start in range(0, Q.shape[0], block):
            q = Q[start : start + block]
            z = self._project(q)
            qcodes = self._encode(z)
            if not n_probes:
                if buffer is None:
                    g, width = _group_layout(n, cap)
                    buffer = np.empty((len(q), g * width), dtype=self._key_ids.dtype)
                ids, valid = self._scan_candidates(qcodes, short, cap, buffer, compiled)
            else:
                ids, valid = self._probe_candidates(z, qcodes, n_probes, short, cap)
            if short > m and ids.shape[1] > m:
                # coarser weights where exact distances re-rank what they choose
                levels = _ASYM_LEVELS if m == k else _ASYM_LEVELS_RERANK
                score = self._asymmetric(z, qcodes, ids, levels, compiled)
                if valid is not None:
                    score[~valid] = np.iinfo(np.uint32).max
                # equal scores keep the Hamming order (distance, then id)
                order = _order_rows(score, m)
                ids = _take_rows(ids, order)
                valid = None if valid is None else _take_rows(valid, order)
            # exact distances: re-rank the m candidates (rerank > 0), or just report the k
            # code-nearest (m == k) in ascending exact distance, ties in candidate order
            dist = _row_distances(self.vectors_, q, ids, self.metric)
            if valid is not None:
                dist[~valid] = np.inf
            order = _order_rows(dist, k)
            out_d[start : start + len(q)] = _take_rows(dist, order)
            found = _take_rows(ids, order)
            if valid is not None:
                found[~_take_rows(valid, order)] = -1
            out_i[start : start + len(q)] = found
        return out_d, out_i

    def _scan_candidates(
        self,
        qcodes: np.ndarray,
        m: int,
        cap: int,
        buffer: np.ndarray | None = None,
        compiled: bool | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The ``m`` Hamming-nearest stored codes of each query (exact, ties by smaller id),
        and those tied with the m-th, up to ``cap`` per query.

        ``buffer`` (of shape (>= B, g * width), see :func:`_group_layout`) holds the keys; one
        buffer for every block of queries spares the page faults of a fresh one.

        Returns
        -------
        ids : ndarray of intp, shape (B, C)
            Per row in ascending (Hamming distance, id); all ids when ``m >= n``.
        valid : ndarray of bool, shape (B, C), or None when every entry is valid
        """
        B, n = qcodes.shape[0], self.n_samples_
        if m >= n:
            return np.broadcast_to(np.arange(n), (B, n)), None
        if compiled is None:
            compiled = _USE_KERNELS and _kernels.worthwhile(n * qcodes.size)
        if n > _SMALL_SCAN and not compiled:
            return self._scan_long(qcodes, m, cap)
        if compiled:
            # counting selection over the integer distances: the same (distance, id) order as
            # the keys below, without writing and partitioning a key per pair
            ids, ham = _kernels.hamming_smallest(
                self._codes_by_word, qcodes, self.nbits * self.n_tables, cap
            )
            if cap == m:
                return ids, None
            valid = ham <= ham[:, m - 1, None]
            width = int(valid.sum(axis=1).max())
            ids, valid = ids[:, :width], valid[:, :width]
            return ids, (None if valid.all() else valid)
        shift, dtype = self._key_shift, self._key_ids.dtype.type
        # one unsigned key per pair, (distance << shift) | id: the cap smallest keys are the cap
        # Hamming-nearest codes, ties by smaller id, whatever the selection algorithm
        g, width = _group_layout(n, cap)
        if buffer is None or buffer.shape[0] < B or buffer.shape[1] != g * width:
            buffer = np.empty((B, g * width), dtype=dtype)
        key = buffer[:B]
        key[:, n:] = ~dtype(0)  # padding of the last groups: the largest key
        _hamming_rows(
            self._codes_by_word, qcodes, dtype, self._key_ids, shift, key[:, :n], compiled=False
        )
        id_mask = (1 << shift) - 1
        top = _smallest_keys(key, cap, g, id_mask) if cap < n else np.sort(key[:, :n], axis=1)
        ids = (top & dtype(id_mask)).astype(np.intp)
        if cap == m:
            return ids, None
        ham = top >> dtype(shift)
        valid = ham <= ham[:, m - 1, None]
        width = int(valid.sum(axis=1).max())
        ids, valid = ids[:, :width], valid[:, :width]
        return ids, (None if valid.all() else valid)

    def _scan_long(
        self, qcodes: np.ndarray, m: int, cap: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`_scan_candidates` for long indexes: distances in uint8/uint16, every pair at
        or under a per-row threshold, then an exact selection among those.

        The threshold is guessed from a strided sample of the row (a selection over the full
        row costs far more than the XOR and popcount); rows where the guess keeps fewer than
        m pairs fall back to the exact m-th smallest distance.
        """
        B, n = qcodes.shape[0], self.n_samples_
        ham = _hamming_rows(self._codes_by_word, qcodes, compiled=False)
        stride = max(1, n // (64 * m))
        if stride > 1:
            sample = ham[:, ::stride]
            j = min(sample.shape[1] - 1, 2 * (m * sample.shape[1]) // n + 2)
            level = np.partition(sample, j, axis=1)[:, j]
            rows, cols = _nonzero_2d(ham <= level[:, None])
            short = np.bincount(rows, minlength=B) < m
        else:
            rows = cols = np.empty(0, dtype=np.intp)
            short = np.ones(B, dtype=bool)
        if short.any():
            redo = np.flatnonzero(short)
            level = np.partition(ham[redo], m - 1, axis=1)[:, m - 1]
            redo_rows, redo_cols = _nonzero_2d(ham[redo] <= level[:, None])
            keep = ~short[rows]
            rows = np.concatenate([rows[keep], redo[redo_rows]])
            cols = np.concatenate([cols[keep], redo_cols])
            by_row = np.argsort(rows, kind="stable")  # ids stay ascending within a row
            rows, cols = rows[by_row], cols[by_row]
        key = ham[rows, cols]
        kept, rank = _select_pairs(rows, cols, key, B, cap)
        keep = _with_ties(rows[kept], key[kept], rank, m, B)
        ids, valid = _dense(rows[kept][keep], cols[kept][keep], rank[keep], B, m)
        return ids, (None if valid.all() else valid)

    def _probe_candidates(
        self, z: np.ndarray, qcodes: np.ndarray, n_probes: int, m: int, cap: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The ``m`` Hamming-nearest of the vectors in the probed buckets (and ties with the
        m-th, up to ``cap``), as :meth:`_scan_candidates` returns them; padded rows where fewer
        were found."""
        B = z.shape[0]
        rows, cols = self._probed_pairs(z, qcodes, n_probes)
        ham = popcount(self.codes_[cols] ^ qcodes[rows]).sum(axis=1, dtype=np.int64)
        kept, rank = _select_pairs(rows, cols, ham, B, cap)
        keep = _with_ties(rows[kept], ham[kept], rank, m, B)
        return _dense(rows[kept][keep], cols[kept][keep], rank[keep], B, m)

    def _asymmetric(
        self,
        z: np.ndarray,
        qcodes: np.ndarray,
        ids: np.ndarray,
        levels: int = _ASYM_LEVELS,
        compiled: bool | None = None,
    ) -> np.ndarray:
        """Asymmetric distance of each query to its candidates, in units of its weight step.

        ``sum_j |z_j| [b_j(x) != b_j(q)]`` with the weights ``|z_j|`` rounded to
        ``levels``-bit integers (relative to the query's largest ``|z_j|``): the sum is
        then ``sum_l 2**l popcount((b(x) XOR b(q)) AND plane_l)`` over the weights' bit planes,
        word operations on the packed codes instead of unpacking ``nbits`` floats per pair.

        Parameters
        ----------
        z : ndarray of shape (B, nbits * n_tables)
            The queries' projections.
        qcodes : ndarray of uint64, shape (B, n_words)
        ids : ndarray of int, shape (B, C)
        levels : int
            Bits of the integer weights.

        Returns
        -------
        ndarray of uint32, shape (B, C)
        """
        B, n_words = qcodes.shape
        if compiled is None:
            compiled = _USE_KERNELS and _kernels.worthwhile(ids.size * n_words)
        if compiled:  # the weights' bit planes in one compiled pass
            planes = _kernels.weight_planes(z, self.n_tables, self.nbits, levels)
            return _kernels.asymmetric_scores(self.codes_, qcodes, planes, ids)
        absz = np.abs(z)
        top = absz.max(axis=1, keepdims=True)
        weights = np.rint(absz * ((1 << levels) - 1) / np.where(top > 0, top, 1))
        weights = weights.astype(np.uint8)  # (B, nbits * n_tables)
        planes = (weights[:, None, :] >> np.arange(levels, dtype=np.uint8)[:, None]) & 1
        planes = pack_bits(planes.reshape(B, levels, self.n_tables, self.nbits))
        # word-major (n_words, B, C): sums over words add whole contiguous slices; blocks of
        # queries small enough for the cache
        planes = planes.reshape(B, levels, n_words).transpose(1, 2, 0)[:, :, :, None]
        C = ids.shape[1]
        rows = max(1, min(B, _CACHE_ELEMENTS // max(n_words * C, 1)))
        differ = np.empty((n_words, rows, C), dtype=np.uint64)
        masked = np.empty_like(differ)
        count = np.empty(differ.shape, dtype=np.uint8)
        score = np.zeros(ids.shape, dtype=np.uint32)  # below 2**20 bits times 2**8
        per_pair = np.empty((rows, C), dtype=np.uint32)
        for r0 in range(0, B, rows):
            r1 = min(B, r0 + rows)
            d, mk, ct = differ[:, : r1 - r0], masked[:, : r1 - r0], count[:, : r1 - r0]
            pp, sc = per_pair[: r1 - r0], score[r0:r1]
            d[...] = self._codes_by_word[:, ids[r0:r1]]
            d ^= qcodes[r0:r1].T[:, :, None]
            for level in range(levels):
                np.bitwise_and(d, planes[level, :, r0:r1], out=mk)
                _popcount_into(mk, ct)
                np.add.reduce(ct, axis=0, dtype=np.uint32, out=pp)
                pp <<= np.uint32(level)
                sc += pp
        return score

    def _probed_pairs(
        self, z: np.ndarray, qcodes: np.ndarray, n_probes: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (query, id) pairs found in the probed buckets of every table."""
        assert self._bucket_keys is not None and self._bucket_ids is not None
        B = z.shape[0]
        nbits = self.nbits
        n_flip = min(nbits, max(min(n_probes - 1, _MAX_FLIP_BITS), int(np.ceil(np.log2(n_probes)))))
        n_probes = min(n_probes, 1 << n_flip)
        subsets = ((np.arange(1 << n_flip)[:, None] >> np.arange(n_flip)) & 1).astype(np.uint64)
        all_rows, all_cols = [], []
        for t in range(self.n_tables):  # a handful of tables; each step is batched over queries
            margins = np.abs(z[:, t * nbits : (t + 1) * nbits])
            low = np.argsort(margins, axis=1, kind="stable")[:, :n_flip]  # (B, n_flip)
            cost = np.take_along_axis(margins, low, axis=1) ** 2 @ subsets.T.astype(z.dtype)
            if n_probes < cost.shape[1]:
                best = np.argpartition(cost, n_probes - 1, axis=1)[:, :n_probes]
            else:
                best = np.broadcast_to(np.arange(cost.shape[1]), (B, cost.shape[1]))
            flip_bits = np.left_shift(np.uint64(1), low.astype(np.uint64))  # (B, n_flip)
            masks = (subsets[best] * flip_bits[:, None, :]).sum(axis=2, dtype=np.uint64)
            probe_keys = qcodes[:, t * self._words_per_table, None] ^ masks  # (B, P)
            keys, ids = self._bucket_keys[t], self._bucket_ids[t]
            lo = np.searchsorted(keys, probe_keys.ravel(), side="left")
            hi = np.searchsorted(keys, probe_keys.ravel(), side="right")
            counts = hi - lo
            total = int(counts.sum())
            offsets = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            all_cols.append(ids[np.arange(total) + offsets])
            all_rows.append(np.repeat(np.repeat(np.arange(B), probe_keys.shape[1]), counts))
        rows = np.concatenate(all_rows)
        cols = np.concatenate(all_cols)
        n = self.n_samples_
        pair = np.sort(rows.astype(np.int64) * n + cols)  # sorted by query, then id
        first = np.ones(pair.size, dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        pair = pair[first]  # drop repeats
        return np.divmod(pair, n)

    # ---------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Save as ``<path>.json`` (settings) and ``<path>.npz`` (arrays); no pickle.

        Returns
        -------
        (json_path, npz_path)
        """
        from emkit.io import atomic_write

        if self.n_samples_ == 0:
            raise DataError("cannot save an empty index: call fit(X) first")
        json_path, npz_path = _paths(path)
        buffer = io.BytesIO()
        np.savez(
            buffer, planes=self.planes_, mean=self.mean_, codes=self.codes_, vectors=self.vectors_
        )
        params = self.get_params(deep=False)
        rs = params["random_state"]
        params["random_state"] = rs if rs is None or isinstance(rs, int | np.integer) else None
        if isinstance(params["random_state"], np.integer):
            params["random_state"] = int(params["random_state"])
        meta = {
            "format": FORMAT,
            "emkit_version": __version__,
            "params": params,
            "n_samples": self.n_samples_,
            "n_features": self.n_features_in_,
            "dtype": str(self.vectors_.dtype),
            "npz": npz_path.name,
        }
        atomic_write(npz_path, buffer.getvalue())
        atomic_write(json_path, (json.dumps(meta, indent=2) + "\n").encode())
        return json_path, npz_path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSHIndex:
        """Load an index written by :meth:`save`, reading arrays with ``allow_pickle=False``.

        Raises
        ------
        DataError
            Missing or unreadable files, another format, or arrays that do not fit together.
        """
        json_path, npz_path = _paths(path)
        try:
            meta = json.loads(json_path.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read index file {str(json_path)!r}: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DataError(f"{str(json_path)!r} is not an emkit LSH index ({FORMAT})")
        try:
            index = cls(**meta["params"])
            index._check_params()
            with np.load(json_path.parent / meta["npz"], allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in ("planes", "mean", "codes", "vectors")}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"cannot read index {str(npz_path)!r}: {exc}") from exc
        n, d = arrays["vectors"].shape
        expected = {
            "planes": (index.nbits * index.n_tables, d),
            "mean": (d,),
            "codes": (n, index.n_tables * index._words_per_table),
        }
        for name, shape in expected.items():
            if arrays[name].shape != shape:
                raise DataError(
                    f"{str(npz_path)!r}: array {name!r} has shape {arrays[name].shape}, "
                    f"expected {shape}"
                )
        if arrays["codes"].dtype != np.uint64:
            raise DataError(f"{str(npz_path)!r}: codes must be uint64")
        index.n_features_in_ = d
        index.planes_ = arrays["planes"]
        index.mean_ = arrays["mean"]
        index.vectors_ = arrays["vectors"]
        index.codes_ = arrays["codes"]
        index._build_buckets()
        return index


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    return base.with_name(base.name + ".json"), base.with_name(base.name + ".npz")
