"""Compiled kernels (numba), used where NumPy's separate passes cost several times more.

numba is optional (``pip install 'emkit[fast]'``): without it :data:`HAVE_NUMBA` is False and
callers take their NumPy path, which gives the same results. The kernels compile on first use
and are cached on disk (``cache=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["HAVE_NUMBA", "asymmetric_scores", "hamming_keys", "nearest_accumulate"]

try:  # pragma: no cover - exercised through HAVE_NUMBA in the tests
    from numba import njit, types
    from numba.extending import intrinsic

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


if HAVE_NUMBA:

    def _ctpop_typing(typingctx: Any, x: Any) -> Any:
        """LLVM's ``ctpop`` on a 64-bit word: one POPCNT instruction where the CPU has it."""
        sig = types.uint64(types.uint64)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.ctpop(args[0])

        return sig, codegen

    _popcount64: Any = intrinsic(_ctpop_typing)

    @njit(cache=True, nogil=True, boundscheck=False)
    def _distances(
        codes_by_word: np.ndarray, query: np.ndarray, total: np.ndarray
    ) -> None:  # pragma: no cover - compiled
        # word by word over all stored codes: the inner loop runs along contiguous memory and
        # LLVM vectorises the XOR and the population count
        n_words, n = codes_by_word.shape
        word = np.uint64(query[0])
        for i in range(n):
            total[i] = _popcount64(np.uint64(codes_by_word[0, i]) ^ word)
        for w in range(1, n_words):
            word = np.uint64(query[w])
            for i in range(n):
                total[i] += _popcount64(np.uint64(codes_by_word[w, i]) ^ word)

    @njit(cache=True, nogil=True, boundscheck=False)
    def _hamming_keys(
        codes_by_word: np.ndarray, queries: np.ndarray, ids: np.ndarray, shift: int, out: np.ndarray
    ) -> None:  # pragma: no cover - compiled
        n = codes_by_word.shape[1]
        with_ids = ids.shape[0] == n
        total = np.empty(n, dtype=np.uint64)
        for b in range(queries.shape[0]):
            _distances(codes_by_word, queries[b], total)
            if with_ids:
                for i in range(n):
                    out[b, i] = (total[i] << np.uint64(shift)) | np.uint64(ids[i])
            else:
                for i in range(n):
                    out[b, i] = total[i]

    @njit(cache=True, nogil=True, boundscheck=False)
    def _nearest_accumulate(
        G: np.ndarray,
        c2: np.ndarray,
        X: np.ndarray,
        w: np.ndarray,
        labels: np.ndarray,
        sums: np.ndarray,
        counts: np.ndarray,
    ) -> float:  # pragma: no cover - compiled
        K = G.shape[1]
        inertia = 0.0
        for i in range(G.shape[0]):
            best = G[i, 0] + c2[0]
            label = 0
            for k in range(1, K):
                value = G[i, k] + c2[k]
                if value < best:  # the first of equal minima, as np.argmin
                    best = value
                    label = k
            labels[i] = label
            weight = w[i]
            counts[label] += weight
            norm = 0.0
            for j in range(X.shape[1]):
                x = X[i, j]
                sums[label, j] += weight * x
                norm += x * x
            inertia += weight * max(best + norm, 0.0)
        return inertia

    @njit(cache=True, nogil=True, boundscheck=False)
    def _asymmetric_scores(
        codes: np.ndarray, queries: np.ndarray, planes: np.ndarray, ids: np.ndarray, out: np.ndarray
    ) -> None:  # pragma: no cover - compiled
        n_words = codes.shape[1]
        levels = planes.shape[1]
        for b in range(ids.shape[0]):
            for c in range(ids.shape[1]):
                i = ids[b, c]
                total = np.uint64(0)
                for w in range(n_words):
                    differ = np.uint64(codes[i, w]) ^ np.uint64(queries[b, w])
                    for level in range(levels):
                        bits = _popcount64(differ & np.uint64(planes[b, level, w]))
                        total += bits << np.uint64(level)
                out[b, c] = total


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
        raise RuntimeError("hamming_keys needs numba: pip install 'emkit[fast]'")
    none = np.empty(0, dtype=out.dtype)
    _hamming_keys(
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
        raise RuntimeError("asymmetric_scores needs numba: pip install 'emkit[fast]'")
    out = np.empty(ids.shape, dtype=np.uint32)
    _asymmetric_scores(
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
        raise RuntimeError("nearest_accumulate needs numba: pip install 'emkit[fast]'")
    return float(_nearest_accumulate(G, c2, X, w, labels, sums, counts))
