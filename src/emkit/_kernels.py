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
    "MIN_COMPILED_WORK",
    "asymmetric_scores",
    "gauss_soft_whitened",
    "hamming_keys",
    "hamming_smallest",
    "lloyd_pass",
    "soft_posterior",
    "weight_planes",
    "worthwhile",
]

#: whether numba is installed (checked without importing it)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

#: Calls with less work than this (elementary steps: rows x components x features ...) take the
#: NumPy path. Importing numba and loading its cached kernels costs 0.3-0.8 s per process, and
#: compiling them on a fresh machine 1-2 s: more than NumPy needs for small inputs, which is
#: what a command line run on a small file mostly sees. At 2**24 steps a NumPy pass takes about
#: 10-30 ms, so a fit of a few dozen passes already pays for the compiled kernels.
MIN_COMPILED_WORK = 2**24


def worthwhile(work: int) -> bool:
    """Whether a call with ``work`` elementary steps should take the compiled path."""
    return HAVE_NUMBA and work >= MIN_COMPILED_WORK


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


def lloyd_pass(
    X: np.ndarray,
    AT: np.ndarray,
    c2: np.ndarray,
    labels: np.ndarray,
    *,
    w: np.ndarray | None = None,
    sums: np.ndarray | None = None,
    counts: np.ndarray | None = None,
    nearest: np.ndarray | None = None,
) -> float:
    """Each row's nearest centre, and either Lloyd's sums or the distances, in one compiled pass.

    Rows go in chunks that keep their ``(K, chunk)`` block of cross terms in cache: one GEMM
    (BLAS) per chunk, then an arg-min vectorised across rows, then the chunk's sums or
    distances. With ``sums`` (Lloyd's step) the weighted sums, counts and inertia are
    accumulated; without, ``nearest`` receives ``min_k (G[k, i] + c2[k])``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, C-contiguous
    AT : ndarray of shape (K, d), X's dtype, C-contiguous
        ``-2 C`` (the centres' cross terms: ``G = AT @ X.T``).
    c2 : ndarray of shape (K,), X's dtype
        ``|C_k|^2``, so that ``|x - C_k|^2 = |x|^2 + G[k, i] + c2[k]``.
    labels : ndarray of intp, shape (n,)
        Receives the nearest centre of each row (the first of equal distances, as np.argmin).
    w : ndarray of float64, shape (n,), optional
        Row weights (with ``sums``).
    sums, counts : ndarray of float64, shapes (K, d) and (K,), optional
        Incremented by ``w_i X_i`` and ``w_i`` at each row's label.
    nearest : ndarray of shape (n,), X's dtype, optional
        Receives ``min_k (G[k, i] + c2[k])`` (without ``sums``).

    Returns
    -------
    float
        With ``sums``: ``sum_i w_i |x_i - C_{label_i}|^2`` (each distance computed directly,
        free of the cross terms' cancellation); else 0.
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("lloyd_pass needs numba: pip install numba")
    from emkit import _numba_kernels as nk

    K = AT.shape[0]
    # chunks of about 128 KiB of cross terms (L2), not so thin that the GEMM starves
    step = int(max(64, min(512, 2**17 // (X.dtype.itemsize * max(K, 1)))))
    lab = np.empty(step, dtype=np.int32 if X.dtype.itemsize == 4 else np.int64)
    if sums is None:
        no_sums = np.zeros((0, X.shape[1]))
        out = nearest if nearest is not None else np.empty(X.shape[0], dtype=X.dtype)
        nk._lloyd_pass(X, AT, c2, np.zeros(0), lab, labels, out, no_sums, np.zeros(0))
        return 0.0
    if w is None or counts is None:
        raise TypeError("lloyd_pass with sums needs w and counts")
    none = np.empty(0, dtype=X.dtype)
    return float(nk._lloyd_pass(X, AT, c2, w, lab, labels, none, sums, counts))


def soft_posterior(log_joint: np.ndarray, w: np.ndarray, nk: np.ndarray) -> float:
    """Soft posterior in place: ``log_joint`` becomes the weighted responsibilities.

    Parameters
    ----------
    log_joint : ndarray of shape (n, K), float32 or float64, C-contiguous
        ``log p(x_i, k)``; on return ``w_i p(k | x_i)`` (0 where under ``1e-304`` of the row's
        largest term: subnormal values would slow every later product).
    w : ndarray of shape (n,)
        Row weights.
    nk : ndarray of float64, shape (K,)
        Incremented by the column sums of the result.

    Returns
    -------
    float
        ``sum_i w_i log sum_k p(x_i, k)``.
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("soft_posterior needs numba: pip install numba")
    from emkit import _numba_kernels as nk_

    weight = np.ascontiguousarray(w, dtype=np.float64)
    return float(nk_._soft_posterior(log_joint, weight, nk))


def gauss_soft_whitened(Y: np.ndarray, const: np.ndarray, w: np.ndarray, nk: np.ndarray) -> float:
    """Soft E-step of full-covariance Gaussians on whitened rows, in one pass (in place).

    Parameters
    ----------
    Y : ndarray of shape (n, K, d + 1), float32 or float64, C-contiguous
        ``Y[i, k] = [(x_i - mu_k) L_k, 1]`` (``L_k`` the precision's Cholesky factor). On return
        each ``Y[i, k]`` is scaled by ``sqrt(w_i r_ik)``, its last entry being that root, so that
        ``Y[:, k].T @ Y[:, k]`` holds component k's weighted second moments, first moments and
        ``n_k``.
    const : ndarray of float64, shape (K,)
        ``log w_k + log det L_k - d/2 log(2 pi)``.
    w : ndarray of shape (n,)
        Row weights.
    nk : ndarray of float64, shape (K,)
        Incremented by ``sum_i w_i r_ik``.

    Returns
    -------
    float
        ``sum_i w_i log sum_k exp(log p(x_i, k))``. Responsibilities below ``1e-304`` of the
        largest are 0 (subnormal ones would slow every later product many times).
    """
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("gauss_soft_whitened needs numba: pip install numba")
    from emkit import _numba_kernels as nk_

    weight = np.ascontiguousarray(w, dtype=np.float64)
    return float(nk_._gauss_soft_whitened(Y, np.ascontiguousarray(const), weight, nk))


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
