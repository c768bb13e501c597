"""Forward-backward and Viterbi over many sequences at once: numba kernels or NumPy.

The emission log-likelihoods of all steps come in one ``(n, K)`` matrix (computed by the
emission model as batched matrix products over every row). Forward-backward is the scaled
algorithm (Rabiner 1989): each row of emission likelihoods is divided by its maximum (one
``exp`` per cell, no logarithm), the forward variables are normalised at every step and the
log-likelihood is the sum of the logs of the normalisers, so nothing underflows however long
the sequence. Where the states the chain can reach explain a step astronomically worse than
the best state (a normaliser below ``SMALL``) that row is divided by its best reachable state
instead, so no step underflows either; a sequence whose backward variables would still overflow
(a state the past all but rules out and the future needs) is redone in log space. Viterbi runs
in log space. Both take the compiled path (parallel over sequences) when numba is installed and
the work is worth its import; the NumPy path gives the same results (tested) and is a loop over
time steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emkit import _kernels

__all__ = ["Posteriors", "forward_backward", "viterbi"]

#: steps x states^2 below which the NumPy path runs (numba's import costs ~0.5 s per process)
MIN_COMPILED_WORK = 2**18
#: a forward normaliser below this (the states the chain can be in explain the step e^460
#: times worse than the best state) is recomputed with the row scaled by its best *reachable*
#: state, so that it cannot underflow to 0 (nor its reciprocal overflow)
SMALL = 1e-200
#: cap on ``log_b - shift`` after such a rescaling: only states the chain cannot reach (predicted
#: mass below e^-700) are capped, and their terms are multiplied by that mass
EXP_CAP = 700.0
#: a backward variable above this sends its sequence to the log-space pass
BIG = 1e280
_LIMITS = (SMALL, EXP_CAP, BIG)


def compiled(n_steps: int, n_states: int) -> bool:
    """Whether work of ``n_steps`` x ``n_states``^2 takes the compiled kernels."""
    return _kernels.HAVE_NUMBA and n_steps * n_states * n_states >= MIN_COMPILED_WORK


@dataclass(frozen=True)
class Posteriors:
    """What forward-backward gives for a set of sequences.

    Attributes
    ----------
    gamma : ndarray of shape (n, K)
        Posterior state marginals ``p(z_t = k | x)``.
    xi : ndarray of shape (n_sequences, K, K)
        Expected transition counts of each sequence.
    loglik : ndarray of shape (n_sequences,)
        ``log p(x)`` of each sequence.
    """

    gamma: np.ndarray
    xi: np.ndarray
    loglik: np.ndarray


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


def forward_backward(
    log_b: np.ndarray,
    offsets: np.ndarray,
    startprob: np.ndarray,
    transmat: np.ndarray,
    *,
    overwrite: bool = False,
) -> Posteriors:
    """Scaled forward-backward of the sequences ``offsets[s]:offsets[s + 1]``.

    Parameters
    ----------
    log_b : ndarray of shape (n, K)
        Emission log-likelihoods ``log p(x_t | z_t = k)``.
    offsets : ndarray of int64, shape (n_sequences + 1,)
        Row offsets of the sequences (``0, ..., n``); no sequence is empty.
    startprob : ndarray of shape (K,)
    transmat : ndarray of shape (K, K)
    overwrite : bool, default=False
        Whether ``log_b`` (float64, C order) may be overwritten (saves a copy).

    Returns
    -------
    Posteriors
    """
    n, K = log_b.shape
    # becomes exp(log_b - row max)
    B = np.require(log_b, np.float64, "C") if overwrite else np.array(log_b, np.float64, order="C")
    startprob = np.ascontiguousarray(startprob, dtype=np.float64)
    transmat = np.ascontiguousarray(transmat, dtype=np.float64)
    n_seq = offsets.shape[0] - 1
    gamma = np.empty((n, K))
    xi = np.zeros((n_seq, K, K))
    log_scale = np.empty(n_seq)
    shifts = np.empty(n_seq)
    flags = np.zeros(n_seq, dtype=np.uint8)
    if compiled(n, K):
        from emkit.hmm import _numba_hmm

        _numba_hmm.forward_backward(
            B, offsets, startprob, transmat, gamma, xi, log_scale, shifts, flags, *_LIMITS
        )
    else:
        for s in range(n_seq):
            a, b = int(offsets[s]), int(offsets[s + 1])
            log_scale[s], shifts[s], flags[s] = _fb_numpy(
                B, a, b, startprob, transmat, gamma, xi[s]
            )
    for i in np.flatnonzero(flags):  # rare: redo these sequences in log space
        a, b = int(offsets[i]), int(offsets[i + 1])
        xi[i] = 0.0
        log_scale[i] = _fb_log(B[a:b], startprob, transmat, gamma[a:b], xi[i]) + shifts[i]
    return Posteriors(gamma, xi, log_scale)


def _fb_numpy(
    B: np.ndarray,
    a: int,
    b: int,
    startprob: np.ndarray,
    transmat: np.ndarray,
    gamma: np.ndarray,
    xi: np.ndarray,
) -> tuple[float, float, bool]:
    """One sequence, as the compiled kernel (vectorised over states only); returns
    ``log p(x)``, the sum of the row shifts and whether a backward variable exceeded ``BIG``.
    ``B``'s rows hold log-likelihoods on entry and their scaled exponentials on return."""
    scale = np.empty(b - a)
    alpha = gamma
    log_shift = 0.0
    pred = startprob
    for t in range(a, b):
        if t > a:
            pred = alpha[t - 1] @ transmat
        row = B[t]
        top = float(np.max(row))
        top = top if np.isfinite(top) else 0.0
        e = np.exp(row - top)
        v = pred * e
        c = float(v.sum())
        if c < SMALL:  # the states the chain can be in explain the step far worse than the best
            with np.errstate(divide="ignore"):
                reach = float(np.max(_log(pred) + row))
            if np.isfinite(reach):  # scale by the best reachable state instead
                top = reach
                e = np.exp(np.minimum(row - top, EXP_CAP))
                v = pred * e
                c = float(v.sum())
        B[t] = e
        log_shift += top
        scale[t - a] = c
        alpha[t] = v / c if c > 0 else 0.0
    with np.errstate(divide="ignore"):
        log_scale = float(np.sum(np.log(scale))) + log_shift
    beta = np.ones(startprob.shape[0])
    for t in range(b - 2, a - 1, -1):
        c = scale[t + 1 - a]
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            tmp = B[t + 1] * beta * (1.0 / c if c > 0 else 0.0)
            P = transmat * tmp[None, :]
            xi += alpha[t][:, None] * P
            beta = P.sum(axis=1)
        if not np.all(beta <= BIG):  # False for NaN too
            return log_scale, log_shift, True
        alpha[t] *= beta
    return log_scale, log_shift, False


def _fb_log(
    B: np.ndarray, startprob: np.ndarray, transmat: np.ndarray, gamma: np.ndarray, xi: np.ndarray
) -> float:
    """Forward-backward of one sequence in log space, from its scaled emission likelihoods
    ``B`` (each row up to a factor): writes ``gamma`` and adds the expected transitions to
    ``xi``; returns ``log p(x)`` less the rows' log factors. The fallback for the few sequences
    where the scaled backward pass would overflow (a state the past rules out, the future
    needs)."""
    from scipy.special import logsumexp

    log_b, log_pi, log_a = _log(B), _log(startprob), _log(transmat)
    T = B.shape[0]
    fwd = np.empty_like(log_b)
    fwd[0] = log_pi + log_b[0]
    for t in range(1, T):
        fwd[t] = logsumexp(fwd[t - 1][:, None] + log_a, axis=0) + log_b[t]
    loglik = float(logsumexp(fwd[-1]))
    if not np.isfinite(loglik):
        gamma[:] = 0.0
        return loglik
    back = np.zeros(B.shape[1])
    gamma[-1] = np.exp(fwd[-1] - loglik)
    for t in range(T - 2, -1, -1):
        ahead = log_a + (log_b[t + 1] + back)[None, :]
        xi += np.exp(fwd[t][:, None] + ahead - loglik)
        back = logsumexp(ahead, axis=1)
        gamma[t] = np.exp(fwd[t] + back - loglik)
    return loglik


def viterbi(
    log_b: np.ndarray, offsets: np.ndarray, startprob: np.ndarray, transmat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The most probable state path of each sequence (ties broken towards the lowest state).

    Returns
    -------
    path : ndarray of int64, shape (n,)
    score : ndarray of shape (n_sequences,)
        ``max_z log p(x, z)`` of each sequence.
    """
    n, K = log_b.shape
    log_b = np.ascontiguousarray(log_b, dtype=np.float64)
    log_pi = _log(np.asarray(startprob, dtype=np.float64))
    log_a = np.ascontiguousarray(_log(np.asarray(transmat, dtype=np.float64)))
    n_seq = offsets.shape[0] - 1
    path = np.empty(n, dtype=np.int64)
    score = np.empty(n_seq)
    if compiled(n, K):
        from emkit.hmm import _numba_hmm

        _numba_hmm.viterbi(log_b, offsets, log_pi, log_a, path, score)
        return path, score
    for s in range(n_seq):
        a, b = int(offsets[s]), int(offsets[s + 1])
        back = np.empty((b - a, K), dtype=np.int64)
        delta = log_pi + log_b[a]
        for t in range(a + 1, b):
            cand = delta[:, None] + log_a
            back[t - a] = np.argmax(cand, axis=0)
            delta = cand[back[t - a], np.arange(K)] + log_b[t]
        arg = int(np.argmax(delta))
        score[s] = delta[arg]
        path[b - 1] = arg
        for t in range(b - 1, a, -1):
            arg = int(back[t - a, arg])
            path[t - 1] = arg
    return path, score
