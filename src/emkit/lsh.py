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
2014) and breaks the many ties of short codes. Optionally the ``rerank`` best candidates are
re-ranked by exact distance (``metric`` "l2" or "cosine"). The distances returned are always the
exact metric distances of the neighbours returned.

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
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

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

#: Elements (query rows x stored words) of the largest temporary of one query block.
_BLOCK_ELEMENTS = 1 << 23
#: Elements (uint64) of the XOR buffer of the Hamming scan: a cache-sized 2 MiB.
_CACHE_ELEMENTS = 1 << 18
#: Largest number of low-margin bits among which probes are chosen (2**10 flip patterns).
_MAX_FLIP_BITS = 10
#: Hamming short list of the asymmetric distance: max(2 m, m + (factor - 1) k) candidates.
_ASYM_FACTOR = 4
#: Largest index scanned with a full stable (radix) sort of each query's Hamming distances.
_SMALL_SCAN = 1 << 15


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


def _hamming_rows(codes_by_word: np.ndarray, query_codes: np.ndarray) -> np.ndarray:
    """Hamming distance of each query code to every stored code.

    Parameters
    ----------
    codes_by_word : ndarray of uint64, shape (n_words, n)
        The stored codes, one contiguous row per word.
    query_codes : ndarray of uint64, shape (B, n_words)

    Returns
    -------
    ndarray of shape (B, n), uint8 (up to 255 bits) or uint16
    """
    n_words, n = codes_by_word.shape
    B = query_codes.shape[0]
    dtype = np.uint8 if n_words * 64 <= 255 else np.uint16
    ham = np.empty((B, n), dtype=dtype)
    # stored codes in chunks small enough that the XOR buffer is still in cache when popcount
    # reads it (three times faster than one pass over a buffer of every pair at 10**6 codes)
    chunk = max(1, min(n, _CACHE_ELEMENTS // max(B, 1)))
    xor = np.empty((B, chunk), dtype=np.uint64)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        buffer = xor[:, : stop - start]
        for w in range(n_words):
            np.bitwise_xor(query_codes[:, w, None], codes_by_word[w, None, start:stop], out=buffer)
            if w == 0 and _HAS_BITWISE_COUNT:
                np.bitwise_count(buffer, out=ham[:, start:stop])
            elif w == 0:
                ham[:, start:stop] = popcount(buffer)
            else:
                ham[:, start:stop] += popcount(buffer)
    return ham


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


def _pair_distances(
    X: np.ndarray, Q: np.ndarray, rows: np.ndarray, cols: np.ndarray, metric: str
) -> np.ndarray:
    """Exact distance between ``Q[rows[i]]`` and ``X[cols[i]]`` for each pair ``i``."""
    if metric == "l2":
        diff = X[cols] - Q[rows]
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))
    xs, qs = X[cols], Q[rows]
    dots = np.einsum("ij,ij->i", xs, qs)
    norms = np.sqrt(np.einsum("ij,ij->i", xs, xs) * np.einsum("ij,ij->i", qs, qs))
    # a zero vector has no direction: cosine similarity 0 with everything (as scikit-learn)
    cos = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return 1.0 - np.clip(cos, -1.0, 1.0)


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
        part = (
            np.argpartition(score, m - 1, axis=1)[:, :m]
            if m < n
            else np.tile(np.arange(n), (len(q), 1))
        )
        rows = np.repeat(np.arange(len(q)), part.shape[1])
        cols = part.ravel()
        dist = _pair_distances(X, q, rows, cols, metric)
        kept, rank = _select_pairs(rows, cols, dist, len(q), k)
        out_i[start + rows[kept], rank] = cols[kept]
        out_d[start + rows[kept], rank] = dist[kept]
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
        bits) on a short list of the ``max(2 m, m + 3 k)`` Hamming-nearest candidates, with
        ``m = max(k, rerank)`` (and those tied with the last of them, up to twice as many).
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
        self._codes_by_word = np.ascontiguousarray(self.codes_.T)
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
        m = max(k, min(rerank, n))  # candidates passed on from code ranking
        short = min(n, max(2 * m, m + (_ASYM_FACTOR - 1) * k)) if self.asymmetric else m
        # the asymmetric distance sees every candidate tied with the short list's last one
        cap = min(n, 2 * short) if self.asymmetric else m
        per_query = (
            n * n_words if not n_probes else n_probes * self.n_tables * max(64, n >> self.nbits)
        )
        block = max(1, min(Q.shape[0], _BLOCK_ELEMENTS // max(per_query, 1)))
        out_d = np.full((Q.shape[0], k), np.inf)
        out_i = np.full((Q.shape[0], k), -1, dtype=np.int64)
        for start in range(0, Q.shape[0], block):
            q = Q[start : start + block]
            z = self._project(q)
            qcodes = self._encode(z)
            if not n_probes:
                rows, cols = self._scan_candidates(qcodes, short, cap)
            else:
                rows, cols = self._probe_candidates(z, qcodes, n_probes)
                ham = popcount(self.codes_[cols] ^ qcodes[rows]).sum(axis=1, dtype=np.int64)
                kept, rank = _select_pairs(rows, cols, ham, len(q), cap)
                keep = _with_ties(rows[kept], ham[kept], rank, short, len(q))
                rows, cols = rows[kept][keep], cols[kept][keep]
            if short > m:
                score = self._asymmetric(z, qcodes, rows, cols)
                kept, _ = _select_pairs(rows, cols, score, len(q), m)
                rows, cols = rows[kept], cols[kept]
            # exact distances: re-rank the m candidates (rerank > 0), or just report the k
            # code-nearest (m == k) in ascending exact distance
            dist = _pair_distances(self.vectors_, q, rows, cols, self.metric)
            kept, rank = _select_pairs(rows, cols, dist, len(q), k)
            out_i[start + rows[kept], rank] = cols[kept]
            out_d[start + rows[kept], rank] = dist[kept]
        return out_d, out_i

    def _scan_candidates(
        self, qcodes: np.ndarray, m: int, cap: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``m`` Hamming-nearest stored codes of each query (exact, ties by smaller id),
        and those tied with the m-th, up to ``cap`` per query."""
        ham = _hamming_rows(self._codes_by_word, qcodes)  # (B, n)
        B, n = ham.shape
        if m >= n:
            return np.repeat(np.arange(B), n), np.tile(np.arange(n), B)
        if n <= _SMALL_SCAN:
            # a stable sort of small integers is a radix sort: linear, ties by smaller id
            top = np.argsort(ham, axis=1, kind="stable")[:, :cap]
            key = np.take_along_axis(ham, top, axis=1)
            keep = (key <= key[:, m - 1, None]).ravel()
            return np.repeat(np.arange(B), top.shape[1])[keep], top.ravel()[keep]
        # Every pair at or under a per-row threshold, then an exact selection among those.
        # The threshold is guessed from a strided sample of the row (a selection over the full
        # row costs far more than the XOR and popcount); rows where the guess keeps fewer than
        # m pairs fall back to the exact m-th smallest distance.
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
        return rows[kept][keep], cols[kept][keep]

    def _probe_candidates(
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
        pair = pair[np.concatenate([[True], pair[1:] != pair[:-1]])]  # drop repeats
        return np.divmod(pair, n)

    def _asymmetric(
        self, z: np.ndarray, qcodes: np.ndarray, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        """Sum over disagreeing bits of the query's |projection|, for each (query, id) pair."""
        W = self._words_per_table
        nbits = self.nbits
        score = np.zeros(rows.size, dtype=np.float64)
        absz = np.abs(z)
        for t in range(self.n_tables):  # a few tables; each step is batched over all pairs
            words = slice(t * W, (t + 1) * W)
            differ = _unpack_bits(self.codes_[cols, words] ^ qcodes[rows, words], nbits)
            weights = absz[:, t * nbits : (t + 1) * nbits][rows]
            score += np.einsum("ij,ij->i", differ, weights, dtype=np.float64)
        return score

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
