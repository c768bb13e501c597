"""numba kernels of :mod:`emkit.hmm._lattice` (imported, and compiled, on first use).

Both run in parallel over sequences (``prange``); each sequence writes only its own rows and
its own slot of the per-sequence outputs, so the result does not depend on the thread count.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

# reassociation lets the short sums over states vectorise; no flag assumes finite values
# (log-likelihoods of -inf mark impossible steps)
_OPTIONS: dict[str, Any] = {
    "cache": True,
    "nogil": True,
    "parallel": True,
    "fastmath": {"reassoc", "contract", "nsz", "arcp"},
}


@njit(**_OPTIONS)
def forward_backward(
    B: np.ndarray,
    offsets: np.ndarray,
    startprob: np.ndarray,
    transmat: np.ndarray,
    gamma: np.ndarray,
    xi: np.ndarray,
    log_scale: np.ndarray,
    shifts: np.ndarray,
    flags: np.ndarray,
    small: float,
    exp_cap: float,
    big: float,
) -> None:  # pragma: no cover - compiled
    """Scaled forward-backward (Rabiner 1989) of every sequence.

    ``B`` holds the emission log-likelihoods on entry; each row becomes ``exp(row - shift)``
    (the likelihoods up to a factor per row, whose log is added back), ``shift`` the row's
    maximum, or its best state the chain can reach when the normaliser would fall below
    ``small`` (then ``row - shift`` is capped at ``exp_cap``). Writes the posteriors into
    ``gamma`` (n, K), the expected transition counts of sequence ``s`` into ``xi[s]`` and
    ``log p(x_s)`` into ``log_scale[s]``; zero-probability sequences get ``-inf``. The sum
    of the row shifts goes to ``shifts[s]``; ``flags[s]`` is set when a backward variable
    exceeds ``big`` (its posteriors are then left to the log-space pass of the caller).
    """
    K = startprob.shape[0]
    for s in prange(offsets.shape[0] - 1):
        a, b = offsets[s], offsets[s + 1]
        shift_sum = 0.0
        scale = np.empty(b - a)
        alpha = gamma  # the forward variables, overwritten by the posteriors on the way back
        prev = np.empty(K)
        row = np.empty(K)
        for t in range(a, b):
            # prev[j] = sum_i alpha[i] A[i, j]: rows of A added in, K independent sums
            if t == a:
                for j in range(K):
                    prev[j] = startprob[j]
            else:
                for j in range(K):
                    prev[j] = 0.0
                for i in range(K):
                    ai = alpha[t - 1, i]
                    for j in range(K):
                        prev[j] += ai * transmat[i, j]
            top = -math.inf
            for k in range(K):
                top = max(top, B[t, k])
            if not math.isfinite(top):
                top = 0.0
            total = 0.0
            for j in range(K):
                e = math.exp(B[t, j] - top)
                row[j] = e
                v = prev[j] * e
                alpha[t, j] = v
                total += v
            if total < small:  # rescale by the best reachable state (see _lattice.SMALL)
                reach = -math.inf
                for j in range(K):
                    if prev[j] > 0.0:
                        reach = max(reach, math.log(prev[j]) + B[t, j])
                if math.isfinite(reach):
                    top = reach
                    total = 0.0
                    for j in range(K):
                        e = math.exp(min(B[t, j] - top, exp_cap))
                        row[j] = e
                        v = prev[j] * e
                        alpha[t, j] = v
                        total += v
            for j in range(K):
                B[t, j] = row[j]
            shift_sum += top
            scale[t - a] = total
            inv = 1.0 / total if total > 0.0 else 0.0
            for j in range(K):
                alpha[t, j] *= inv
        logc = 0.0
        for t in range(b - a):
            logc += math.log(scale[t]) if scale[t] > 0.0 else -math.inf
        log_scale[s] = logc + shift_sum
        shifts[s] = shift_sum
        beta = np.ones(K)
        tmp = np.empty(K)
        x = xi[s]
        for t in range(b - 2, a - 1, -1):
            c = scale[t + 1 - a]
            inv = 1.0 / c if c > 0.0 else 0.0
            for j in range(K):
                tmp[j] = B[t + 1, j] * beta[j] * inv
            ok = True
            for i in range(K):
                ai = alpha[t, i]
                acc = 0.0
                for j in range(K):
                    p = transmat[i, j] * tmp[j]
                    acc += p
                    x[i, j] += ai * p
                beta[i] = acc
                ok = ok and acc <= big  # False for NaN too
            if not ok:  # a state the past rules out that the future needs
                flags[s] = 1
                break
            for i in range(K):
                alpha[t, i] *= beta[i]
        # alpha[b - 1] already holds the last posterior (beta = 1 there)


@njit(**_OPTIONS)
def viterbi(
    log_b: np.ndarray,
    offsets: np.ndarray,
    log_startprob: np.ndarray,
    log_transmat: np.ndarray,
    path: np.ndarray,
    score: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """The most probable state path of every sequence (log space; ties to the lowest state)."""
    K = log_startprob.shape[0]
    for s in prange(offsets.shape[0] - 1):
        a, b = offsets[s], offsets[s + 1]
        back = np.empty((b - a, K), dtype=np.int32)
        delta = np.empty(K)
        nxt = np.empty(K)
        for k in range(K):
            delta[k] = log_startprob[k] + log_b[a, k]
        for t in range(a + 1, b):
            for j in range(K):
                best = -math.inf
                arg = 0
                for i in range(K):
                    v = delta[i] + log_transmat[i, j]
                    if v > best:
                        best = v
                        arg = i
                nxt[j] = best + log_b[t, j]
                back[t - a, j] = arg
            for j in range(K):
                delta[j] = nxt[j]
        best = -math.inf
        arg = 0
        for k in range(K):
            if delta[k] > best:
                best = delta[k]
                arg = k
        score[s] = best
        path[b - 1] = arg
        for t in range(b - 1, a, -1):
            arg = back[t - a, arg]
            path[t - 1] = arg


@njit(**_OPTIONS)
def centred_squares(X: np.ndarray, shift: np.ndarray, F: np.ndarray) -> None:  # pragma: no cover
    """``F[:, :d] = X - shift`` and ``F[:, d:] = (X - shift)^2``, row by row in parallel (NumPy
    loops over the 20-odd features of each row, and its per-row overhead dominates)."""
    d = X.shape[1]
    for t in prange(X.shape[0]):
        for j in range(d):
            v = X[t, j] - shift[j]
            F[t, j] = v
            F[t, d + j] = v * v
