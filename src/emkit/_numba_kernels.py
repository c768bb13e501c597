"""The numba kernels behind :mod:`emkit._kernels` (imported, and compiled, on first use)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic


def _ctpop_typing(typingctx: Any, x: Any) -> Any:
    """LLVM's ``ctpop`` on a 64-bit word: one POPCNT instruction where the CPU has it."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


_popcount64: Any = intrinsic(_ctpop_typing)


def _bits_to_float64_typing(typingctx: Any, x: Any) -> Any:
    """The float64 whose bits are the int64 ``x`` (a free bit cast, as C's memcpy)."""
    sig = types.float64(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


_bits_to_float64: Any = intrinsic(_bits_to_float64_typing)


def _float64_to_bits_typing(typingctx: Any, x: Any) -> Any:
    """The int64 whose bits are the float64 ``x``."""
    sig = types.int64(types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


_float64_to_bits: Any = intrinsic(_float64_to_bits_typing)

#: 1.5 * 2**52: adding it rounds to an integer held in the low bits of the mantissa
_ROUND = 6755399441055744.0

#: fast-math flags that keep infinities and NaN meaningful (no ``nnan`` / ``ninf``) and the
#: order of additions (no ``reassoc``: Cody-Waite's two-part reduction must not be merged).
#: With ``error_model="numpy"`` a row whose terms are all -inf gives a NaN objective, which the
#: engine reports, instead of a ZeroDivisionError from inside the kernel.
_FINITE_SAFE = {"nsz", "arcp", "contract"}

#: below this, exp(x) < 1e-304 is returned as 0: a responsibility that small never matters,
#: and subnormal ones make every later multiplication, in BLAS too, many times slower
_EXP_FLOOR = -700.0


@njit(inline="always", fastmath=_FINITE_SAFE)
def _exp_nonpositive(x: float) -> float:  # pragma: no cover - compiled
    # exp(x) for x <= 0 in arithmetic LLVM can vectorise (libm's exp is a call per value and
    # slow on underflow): x = k ln 2 + r with |r| <= ln(2) / 2 (ln 2 in two parts, Cody-Waite),
    # exp(r) by its Taylor polynomial to degree 13 (truncation < 2e-16), 2^k from exponent bits.
    # k is rounded by adding 1.5 * 2**52, which leaves it in the low bits of the sum: no
    # float-to-integer conversion, which AVX2 lacks for 64-bit lanes.
    # Measured against np.exp on [-700, 0]: relative error <= 2.3e-16.
    xc = max(x, _EXP_FLOOR)
    rounded = xc * 1.4426950408889634 + _ROUND
    k = rounded - _ROUND
    r = xc - k * 6.93147180369123816490e-01 - k * 1.90821492927058770002e-10
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    k_bits = _float64_to_bits(rounded) - _float64_to_bits(_ROUND)
    scaled = p * _bits_to_float64((k_bits + 1023) << 52)
    return scaled if x >= _EXP_FLOOR else 0.0


@njit(cache=True, nogil=True, boundscheck=False, fastmath=_FINITE_SAFE)
def _exp_nonpositive_array(x: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    for i in range(x.size):
        out[i] = _exp_nonpositive(x[i])


@njit(cache=True, nogil=True, boundscheck=False, fastmath=_FINITE_SAFE, error_model="numpy")
def _soft_posterior(L: np.ndarray, w: np.ndarray, nk: np.ndarray) -> float:  # pragma: no cover
    # in place: log joints -> weighted responsibilities w_i r_ik; returns sum_i w_i log p(x_i)
    n, K = L.shape
    loglik = 0.0
    for i in range(n):
        top = np.float64(L[i, 0])
        for k in range(1, K):
            top = max(top, np.float64(L[i, k]))
        total = 0.0
        for k in range(K):
            p = _exp_nonpositive(np.float64(L[i, k]) - top)
            L[i, k] = p
            total += p
        loglik += w[i] * (math.log(total) + top)
        scale = w[i] / total
        for k in range(K):
            r = L[i, k] * scale
            L[i, k] = r
            nk[k] += r
    return loglik


@njit(cache=True, nogil=True, boundscheck=False, fastmath=_FINITE_SAFE, error_model="numpy")
def _gauss_soft_whitened(
    Y: np.ndarray, const: np.ndarray, w: np.ndarray, nk: np.ndarray
) -> float:  # pragma: no cover - compiled
    # Y[i, k] = [y_ik, 1] with y_ik = (x_i - mu_k) L_k: the Mahalanobis terms, the soft
    # posterior, and Y scaled in place by sqrt(w_i r_ik) (its column of ones becoming
    # sqrt(w_i r_ik)), so that Y_k^T Y_k holds the weighted second moments, first moments and n_k
    n, K, e = Y.shape
    d = e - 1
    lj = np.empty(K)
    loglik = 0.0
    for i in range(n):
        for k in range(K):
            # four running sums: independent chains instead of one of d dependent additions
            s0 = s1 = s2 = s3 = 0.0
            for j in range(0, d - 3, 4):
                y0 = np.float64(Y[i, k, j])
                y1 = np.float64(Y[i, k, j + 1])
                y2 = np.float64(Y[i, k, j + 2])
                y3 = np.float64(Y[i, k, j + 3])
                s0 += y0 * y0
                s1 += y1 * y1
                s2 += y2 * y2
                s3 += y3 * y3
            for j in range(d - d % 4, d):
                y0 = np.float64(Y[i, k, j])
                s0 += y0 * y0
            lj[k] = const[k] - 0.5 * ((s0 + s1) + (s2 + s3))
        top = lj[0]
        for k in range(1, K):
            top = max(top, lj[k])
        total = 0.0
        for k in range(K):
            p = _exp_nonpositive(lj[k] - top)
            lj[k] = p
            total += p
        loglik += w[i] * (math.log(total) + top)
        scale = w[i] / total
        for k in range(K):
            r = lj[k] * scale
            nk[k] += r
            lj[k] = math.sqrt(r)
        for k in range(K):
            root = lj[k]
            for j in range(d):
                Y[i, k, j] *= root
            Y[i, k, d] = root
    return loglik


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
def _argmin_columns(
    G: np.ndarray, c2: np.ndarray, labels: np.ndarray, best: np.ndarray
) -> None:  # pragma: no cover - compiled
    # column by column, so that the rows are SIMD lanes: a running minimum and its index per
    # row, four centres per sweep (one load and store of the running state per four). The state
    # is written back whole: a store only where it changed becomes a masked store, which is
    # slow on x86 (LLVM does that to ``best[i] = v if v < b else b``). Strict ``<`` keeps the
    # first of equal minima, as np.argmin.
    K, m = G.shape
    c = c2[0]
    for i in range(m):
        best[i] = G[0, i] + c
        labels[i] = 0
    k = 1
    while k + 3 < K:
        c0 = c2[k]
        c1 = c2[k + 1]
        c2_ = c2[k + 2]
        c3 = c2[k + 3]
        for i in range(m):
            b = best[i]
            lab = labels[i]
            v = G[k, i] + c0
            lab = k if v < b else lab
            b = min(v, b)
            v = G[k + 1, i] + c1
            lab = k + 1 if v < b else lab
            b = min(v, b)
            v = G[k + 2, i] + c2_
            lab = k + 2 if v < b else lab
            b = min(v, b)
            v = G[k + 3, i] + c3
            lab = k + 3 if v < b else lab
            b = min(v, b)
            best[i] = b
            labels[i] = lab
        k += 4
    while k < K:
        c = c2[k]
        for i in range(m):
            b = best[i]
            lab = labels[i]
            v = G[k, i] + c
            labels[i] = k if v < b else lab
            best[i] = min(v, b)
        k += 1


@njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
def _lloyd_pass(
    X: np.ndarray,
    AT: np.ndarray,
    c2: np.ndarray,
    w: np.ndarray,
    lab: np.ndarray,
    labels: np.ndarray,
    nearest: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
) -> float:  # pragma: no cover - compiled
    # per chunk of ``lab.size`` rows: the cross terms as one GEMM (BLAS), transposed so that
    # the arg-min runs along contiguous rows of it, then the chunk's labels and either its sums
    # or its distances. Everything stays in cache; no Python between chunks. ``lab`` (scratch)
    # has X's item size, so that labels and distances fill the same SIMD lanes.
    n, d = X.shape
    K = AT.shape[0]
    step = lab.shape[0]
    accumulate = sums.shape[0] > 0
    buffer = np.empty(K * step, dtype=X.dtype)
    best = np.empty(step, dtype=X.dtype)
    inertia = 0.0
    for t in range(0, n, step):
        m = min(step, n - t)
        G = buffer[: K * m].reshape((K, m))
        np.dot(AT, X[t : t + m].T, G)
        _argmin_columns(G, c2, lab[:m], best[:m])
        if accumulate:
            for i in range(m):
                label = lab[i]
                labels[t + i] = label
                weight = w[t + i]
                counts[label] += weight
                # the distance itself, not |x|^2 + G + c2: that sum cancels when the clusters
                # are far apart, by more than the engine's monotonicity check allows
                dist = 0.0
                for j in range(d):
                    x = X[t + i, j]
                    sums[label, j] += weight * x
                    diff = x + 0.5 * AT[label, j]  # AT = -2 C exactly
                    dist += diff * diff
                inertia += weight * dist
        else:
            for i in range(m):
                labels[t + i] = lab[i]
                nearest[t + i] = best[i]
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
