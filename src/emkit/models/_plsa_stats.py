"""PLSA's E-step on the nonzeros of a sparse count matrix (see :mod:`emkit.models.plsa`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from emkit.models._blocks import _n_threads, block_starts, reduce_blocks
from emkit.models.multinomial import as_count_matrix

__all__ = ["plsa_kl_divergence_offset", "plsa_statistics"]

#: nonzeros per block of the sampled product: (block, K) buffers that stay in cache
_SDDMM_BLOCK = 8192


def _sampled_dot(
    theta: np.ndarray, beta_t: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """``theta[rows[i]] . beta_t[cols[i]]`` for every nonzero i (a sampled dense product).

    Gathered in blocks of ``_SDDMM_BLOCK`` nonzeros into reused buffers: the (block, K)
    temporaries stay in cache instead of allocating two (nnz, K) arrays per iteration. The
    row sums are a matrix-vector product with a vector of ones (BLAS), about twice as fast as
    ``einsum('ik,ik->i')`` or ``sum(axis=1)`` over a short last axis.
    """
    nnz, K = rows.shape[0], theta.shape[1]
    out = np.empty(nnz, dtype=theta.dtype)
    if nnz == 0:
        return out
    size = min(nnz, _SDDMM_BLOCK)
    g = np.empty((size, K), dtype=theta.dtype)
    h = np.empty((size, K), dtype=theta.dtype)
    ones = np.ones(K, dtype=theta.dtype)
    for start in range(0, nnz, size):
        stop = min(start + size, nnz)
        m = stop - start
        np.take(beta_t, cols[start:stop], axis=0, out=g[:m])
        np.take(theta, rows[start:stop], axis=0, out=h[:m])
        np.multiply(g[:m], h[:m], out=g[:m])
        np.matmul(g[:m], ones, out=out[start:stop])
    return out


def plsa_statistics(
    X: sp.csr_matrix,
    theta: np.ndarray,
    beta: np.ndarray,
    weight: np.ndarray,
    *,
    hard: bool,
    need_topic_word: bool = True,
    need_doc_topic: bool = True,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """One E-step of PLSA on the rows of ``X`` (whose topic weights are ``theta``).

    Parameters
    ----------
    X : csr_matrix of shape (n, V)
    theta : ndarray of shape (n, K)
    beta : ndarray of shape (K, V)
    weight : ndarray of shape (n,)
    hard : bool
        Replace each occurrence's posterior by its arg-max topic.
    need_topic_word : bool, default=True
        Also return the topic-word numerators (not needed when ``beta`` is fixed).
    need_doc_topic : bool, default=True
        Also return the document-topic numerators.

    Returns
    -------
    loglik : float
        ``sum_d w_d sum_v x_dv log(theta_d . beta_v)`` (soft) or
        ``sum_d w_d sum_v x_dv max_k log(theta_dk beta_kv)`` (hard).
    doc_topic_counts : ndarray of shape (n, K) or None
        Expected counts of each topic in each document (unweighted).
    topic_word_counts : ndarray of shape (K, V) or None
        Weighted expected counts of each word in each topic.
    """
    n = X.shape[0]
    dtype = theta.dtype
    beta_t = np.ascontiguousarray(beta.T, dtype=dtype)  # (V, K): rows gathered per nonzero
    if n == 0:
        empty = np.zeros((0, theta.shape[1]), dtype)
        return (
            0.0,
            empty if need_doc_topic else None,
            np.zeros_like(beta) if need_topic_word else None,
        )
    if hard:
        rows = np.repeat(np.arange(n, dtype=np.intp), np.diff(X.indptr))
        wx = X.data * weight[rows]
        return _hard_statistics(X, theta, beta_t, rows, wx, need_topic_word, need_doc_topic)

    def block(start: int) -> tuple[float, list[np.ndarray], np.ndarray | None]:
        stop = min(start + step, n)
        loglik, dt, tw = _soft_block(
            X, theta, beta_t, weight, start, stop, need_doc_topic, need_topic_word
        )
        return loglik, [] if dt is None else [dt], tw

    def add(
        a: tuple[float, list[np.ndarray], np.ndarray | None],
        b: tuple[float, list[np.ndarray], np.ndarray | None],
    ) -> tuple[float, list[np.ndarray], np.ndarray | None]:
        tw = None if a[2] is None or b[2] is None else np.add(a[2], b[2], out=a[2])
        return a[0] + b[0], a[1] + b[1], tw

    # One contiguous run of documents per core (a fixed cut for a given core count, whether or
    # not the pass is large enough to run threaded): NumPy's gathers, BLAS and scipy.sparse's
    # products release the GIL.
    step = max(1, -(-n // _n_threads()))
    loglik, dts, tw = reduce_blocks(block, add, block_starts(n, step), X.nnz * theta.shape[1])
    dt = np.concatenate(dts) if need_doc_topic else None
    if tw is not None:
        tw = beta * tw.T
    return loglik, dt, tw


def _soft_block(
    X: sp.csr_matrix,
    theta: np.ndarray,
    beta_t: np.ndarray,
    weight: np.ndarray,
    start: int,
    stop: int,
    need_doc_topic: bool,
    need_topic_word: bool,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Soft E-step statistics of documents ``start:stop``: (loglik, doc-topic, word-topic).

    The word-topic numerators come transposed, (V, K), and without the factor ``beta``
    (applied by the caller, once for all blocks).
    """
    lo, hi = int(X.indptr[start]), int(X.indptr[stop])
    indptr = X.indptr[start : stop + 1] - lo
    cols, vals = X.indices[lo:hi], X.data[lo:hi]
    n = stop - start
    theta_b = theta[start:stop]
    rows = np.repeat(np.arange(n, dtype=np.intp), np.diff(indptr))
    denom = _sampled_dot(theta_b, beta_t, rows, cols)
    with np.errstate(divide="ignore"):
        loglik = float(np.dot(vals * weight[start:stop][rows], np.log(denom)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = vals / denom
    R = sp.csr_matrix((ratio, cols, indptr), shape=(n, X.shape[1]))
    dt = theta_b * np.asarray(R @ beta_t) if need_doc_topic else None
    tw = None
    if need_topic_word:
        tw = np.asarray(R.T @ (theta_b * weight[start:stop, None]))
    return loglik, dt, tw


def _hard_statistics(
    X: sp.csr_matrix,
    theta: np.ndarray,
    beta_t: np.ndarray,
    rows: np.ndarray,
    wx: np.ndarray,
    need_topic_word: bool,
    need_doc_topic: bool,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Hard E-step: every occurrence in its arg-max topic (counts by one bincount each)."""
    n, V = X.shape
    K = theta.shape[1]
    with np.errstate(divide="ignore"):
        log_theta = np.log(theta)
        log_beta_t = np.log(beta_t)
    best = np.empty(rows.shape[0], dtype=np.intp)
    loglik = 0.0
    for start in range(0, rows.shape[0], _SDDMM_BLOCK):
        stop = min(start + _SDDMM_BLOCK, rows.shape[0])
        scores = log_theta[rows[start:stop]] + log_beta_t[X.indices[start:stop]]
        best[start:stop] = np.argmax(scores, axis=1)
        picked = scores[np.arange(stop - start), best[start:stop]]
        loglik += float(np.dot(wx[start:stop], picked))
    dt = tw = None
    if need_doc_topic:
        dt = np.bincount(rows * K + best, weights=X.data, minlength=n * K).reshape(n, K)
        dt = dt.astype(theta.dtype, copy=False)
    if need_topic_word:
        tw = np.bincount(best * V + X.indices, weights=wx, minlength=K * V).reshape(K, V)
        tw = tw.astype(theta.dtype, copy=False)
    return loglik, dt, tw


def plsa_kl_divergence_offset(X: Any) -> float:
    """The constant ``C`` with ``D_KL(X || diag(n) theta beta) = C - log L(theta, beta)``.

    ``C = sum_dv x_dv log x_dv - sum_d n_d log n_d`` (with ``0 log 0 = 0``), where ``n_d`` is
    the length of document d. Use it to compare PLSA's log-likelihood with the objective of
    scikit-learn's ``NMF(beta_loss='kullback-leibler')``.
    """
    X = as_count_matrix(X)
    data = X.data[X.data > 0]
    lengths = np.asarray(X.sum(axis=1)).ravel()
    lengths = lengths[lengths > 0]
    return float(np.sum(data * np.log(data)) - np.sum(lengths * np.log(lengths)))
