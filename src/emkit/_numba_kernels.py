"""The numba kernels behind :mod:`emkit._kernels` (imported, and compiled, on first use)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic


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


@njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
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


@njit(cache=True, nogil=True, boundscheck=False)
def _hamming_smallest(
    codes_by_word: np.ndarray,
    queries: np.ndarray,
    max_distance: int,
    ids: np.ndarray,
    dist: np.ndarray,
) -> None:  # pragma: no cover - compiled
    # counting selection: Hamming distances are integers in [0, max_distance], so a histogram
    # gives the c-th smallest distance, and one pass in id order places every pair at or under
    # it in (distance, id) order - no general selection or sort
    n = codes_by_word.shape[1]
    c = ids.shape[1]
    total = np.empty(n, dtype=np.uint64)
    counts = np.empty(max_distance + 2, dtype=np.int64)
    keep = np.empty(n + 1, dtype=np.int64)
    for b in range(queries.shape[0]):
        _distances(codes_by_word, queries[b], total)
        counts[:] = 0
        for i in range(n):
            counts[total[i]] += 1
        # offsets: where each distance's first pair goes; bins from `last` on are cut
        below = 0
        last = max_distance + 1
        for d in range(max_distance + 1):
            k = counts[d]
            counts[d] = below
            below += k
            if below >= c:
                last = d
                break
        # branch-free compaction of the pairs at or under `last` (ids ascending), then their
        # placement
        found = 0
        limit = np.uint64(last)
        for i in range(n):
            keep[found] = i
            found += np.int64(total[i] <= limit)
        for j in range(found):
            i = keep[j]
            d = total[i]
            slot = counts[d]
            if slot < c:
                ids[b, slot] = i
                dist[b, slot] = d
                counts[d] = slot + 1


@njit(cache=True, nogil=True, boundscheck=False)
def _weight_planes(
    z: np.ndarray, n_tables: int, nbits: int, full: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    # the NumPy passes' arithmetic in z's dtype (``full`` holds 2**levels - 1 in it):
    # w = rint(|z| * full / max|z|), bit l of w into plane l's word; words built in registers
    levels = out.shape[1]
    n_words = out.shape[2] // n_tables
    scale = full[0]
    acc = np.zeros(levels, dtype=np.uint64)
    for b in range(z.shape[0]):
        top = abs(z[b, 0])
        for j in range(1, z.shape[1]):
            a = abs(z[b, j])
            if a > top:
                top = a
        if not top > 0:
            top = scale / scale  # one, in z's dtype
        for t in range(n_tables):
            for word in range(n_words):
                acc[:] = 0
                for j in range(word * 64, min(nbits, word * 64 + 64)):
                    w = np.uint64(np.rint(abs(z[b, t * nbits + j]) * scale / top))
                    bit = np.uint64(j - word * 64)
                    for level in range(levels):
                        acc[level] |= ((w >> np.uint64(level)) & np.uint64(1)) << bit
                for level in range(levels):
                    out[b, level, t * n_words + word] = acc[level]
