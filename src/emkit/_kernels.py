"""Compiled kernels (numba), used where NumPy's separate passes cost several times more.

numba is a dependency of emkit, imported only when a kernel first runs (``import emkit`` stays
free of it); where it cannot be installed :data:`HAVE_NUMBA` is False and callers take their
NumPy path, which gives the same results (tested). The kernels compile on first use and are
cached on disk (``cache=True``).
"""

from __future__ import annotations

import importlib.util

import numpy as np

__all__ = [
    "HAVE_NUMBA",
    "asymmetric_scores",
    "hamming_keys",
    "hamming_smallest",
    "nearest_accumulate",
    "weight_planes",
]

#: whether numba is installed (checked without importing it)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def hamming_keys(
    codes_by_word: np.ndarray,
    queries: np.ndarray,
    out: np.ndarray,
    ids: np.ndarray | None = None,
    shift: int = 0,
) -> np.ndarray:
    """Hamming distances of each query code to every stored code, or selection keys.

    Parameters
    ----------
    codes_by_word : ndarray of uint64 or uint32, shape (n_words, n), C-contiguous
        The stored codes, one row per word.
    queries : ndarray of uint64, shape (B, n_words)
    out : ndarray of an unsigned integer dtype, shape (B, n)
        Receives ``distance`` or, with ``ids``, ``(distance << shift) | ids``.
    ids : ndarray of shape (n,), optional
    shift : int

    Returns
    -------
    out
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("hamming_keys needs numba: pip install numba")
    from emkit import _numba_kernels as nk

    none = np.empty(0, dtype=out.dtype)
    nk._hamming_keys(
        np.ascontiguousarray(codes_by_word),
        np.ascontiguousarray(queries, dtype=np.uint64),
        none if ids is None else ids,
        int(shift),
        out,
    )
    return out


def asymmetric_scores(
    codes: np.ndarray, queries: np.ndarray, planes: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """``sum_l 2**l popcount((codes[ids] XOR queries) AND planes[:, l])`` per (query, candidate).

    Parameters
    ----------
    codes : ndarray of uint64, shape (n, n_words)
    queries : ndarray of uint64, shape (B, n_words)
    planes : ndarray of uint64, shape (B, levels, n_words)
        Bit planes of each query's integer weights.
    ids : ndarray of int, shape (B, C)
        Candidates of each query.

    Returns
    -------
    ndarray of uint32, shape (B, C)
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("asymmetric_scores needs numba: pip install numba")
    from emkit import _numba_kernels as nk

    out = np.empty(ids.shape, dtype=np.uint32)
    nk._asymmetric_scores(
        np.ascontiguousarray(codes, dtype=np.uint64),
        np.ascontiguousarray(queries, dtype=np.uint64),
        np.ascontiguousarray(planes, dtype=np.uint64),
        np.ascontiguousarray(ids, dtype=np.intp),
        out,
    )
    return out


def nearest_accumulate(
    G: np.ndarray,
    c2: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    labels: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
) -> float:
    """Lloyd's step on rows whose cross terms are known: in one pass, each row's nearest centre,
    its weighted sum into that centre's sums and count, and the weighted inertia.

    Parameters
    ----------
    G : ndarray of shape (m, K)
        ``X @ A`` with ``A = -2 C^T`` (the centres' cross terms, from a GEMM).
    c2 : ndarray of shape (K,)
        ``|C_k|^2``, so that ``|x - C_k|^2 = |x|^2 + G[i, k] + c2[k]``.
    X : ndarray of shape (m, d)
    w : ndarray of float64, shape (m,)
    labels : ndarray of intp, shape (m,)
        Receives the nearest centre of each row (the first of equal distances).
    sums : ndarray of float64, shape (K, d)
        Incremented by ``w_i X_i`` at each row's label.
    counts : ndarray of float64, shape (K,)
        Incremented by ``w_i`` at each row's label.

    Returns
    -------
    float
        ``sum_i w_i min_k |x_i - C_k|^2`` (each distance clipped at 0).
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("nearest_accumulate needs numba: pip install numba")
    from emkit import _numba_kernels as nk

    return float(nk._nearest_accumulate(G, c2, X, w, labels, sums, counts))


def hamming_smallest(
    codes_by_word: np.ndarray, queries: np.ndarray, max_distance: int, c: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``c`` Hamming-nearest stored codes of each query, ascending by (distance, id).

    A counting selection: one histogram of the integer distances per query finds the ``c``-th
    smallest, and one pass in id order places the pairs at or under it.

    Parameters
    ----------
    codes_by_word : ndarray of uint64 or uint32, shape (n_words, n)
    queries : ndarray of uint64, shape (B, n_words)
    max_distance : int
        The largest possible distance (the bits per code).
    c : int
        At most ``n``.

    Returns
    -------
    ids : ndarray of intp, shape (B, c)
    distances : ndarray of int64, shape (B, c)
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("hamming_smallest needs numba: pip install numba")
    from emkit import _numba_kernels as nk

    B = queries.shape[0]
    ids = np.empty((B, c), dtype=np.intp)
    dist = np.empty((B, c), dtype=np.int64)
    nk._hamming_smallest(
        np.ascontiguousarray(codes_by_word),
        np.ascontiguousarray(queries, dtype=np.uint64),
        int(max_distance),
        ids,
        dist,
    )
    return ids, dist


def weight_planes(z: np.ndarray, n_tables: int, nbits: int, levels: int) -> np.ndarray:
    """Bit planes of each query's integer weights ``rint(|z| (2**levels - 1) / max|z|)``.

    Parameters
    ----------
    z : ndarray of float32 or float64, shape (B, n_tables * nbits)
        The queries' projections (the arithmetic runs in their dtype, as NumPy's).
    n_tables, nbits : int
    levels : int
        Bits of the weights (at most 8).

    Returns
    -------
    ndarray of uint64, shape (B, levels, n_tables * ceil(nbits / 64))
        Bit ``j`` of table ``t`` of plane ``l`` is bit ``l`` of weight ``t * nbits + j``, packed
        as :func:`emkit.lsh.pack_bits` packs codes.
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("weight_planes needs numba: pip install numba")
    from emkit import _numba_kernels as nk

    z = np.ascontiguousarray(z)
    out = np.empty((z.shape[0], levels, n_tables * -(-nbits // 64)), dtype=np.uint64)
    nk._weight_planes(z, int(n_tables), int(nbits), np.array([(1 << levels) - 1], z.dtype), out)
    return out
