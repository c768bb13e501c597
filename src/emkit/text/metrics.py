"""Quality of topic models: top words, held-out perplexity, topic coherence (UMass, NPMI).

Held-out perplexity (document completion)
-----------------------------------------
Each held-out document's word occurrences are split at random into an *observed* part and a
*held-out* part (every occurrence independently held out with probability ``fraction``, i.e.
``held = Binomial(x_dv, fraction)``, seeded by ``random_state``). The model infers the
document's topic weights from the observed part only (``model.transform`` or
``predict_proba``: the posterior of the topic for a mixture of unigrams, folding-in for PLSA,
the variational posterior for LDA), and predicts each held-out occurrence with
``p(v | d) = sum_k theta_dk beta_kv``::

    perplexity = exp( - sum_dv held_dv log p(v | d) / sum_dv held_dv )

(Wallach et al. 2009, "Evaluation methods for topic models", section 4; it neither lets the
model see the words it is scored on, as the folding-in of the whole document would, nor
depends on the model family, so mixtures, PLSA and LDA compare on the same footing.)

Coherence
---------
Both follow the definitions of Röder, Both & Hinneburg (2015) as implemented in gensim's
``CoherenceModel``, with ``eps = 1e-12``; a topic's coherence is the mean over its word pairs
and the model's the mean over topics.

- UMass (Mimno et al. 2011): document co-occurrence counts ``D``; for the top words
  ``w_1..w_N`` of a topic (most probable first) and every pair ``j < i``:
  ``log((D(w_i, w_j) / M + eps) / (D(w_j) / M))`` with ``M`` documents.
- NPMI (Bouma 2009; Aletras & Stevenson 2013): for every pair ``i != j``
  ``log((P(w_i, w_j) + eps) / (P(w_i) P(w_j))) / -log(P(w_i, w_j) + eps)`` where the
  probabilities are fractions of *contexts* containing the words: boolean sliding windows of
  ``window`` tokens over the token sequences (gensim's 'c_npmi' uses window=10; a text
  shorter than the window is one context), or, with
  ``window=None``, whole documents of the count matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from emkit.exceptions import DataError

__all__ = [
    "coherence_npmi",
    "coherence_umass",
    "completion_perplexity",
    "held_out_perplexity",
    "split_documents",
    "top_word_ids",
    "top_words",
]

EPSILON = 1e-12


def top_word_ids(topic_word: np.ndarray, n: int = 10) -> np.ndarray:
    """Indices of the ``n`` most probable words of each topic, most probable first: (K, n)."""
    topic_word = np.asarray(topic_word)
    n = min(n, topic_word.shape[1])
    # stable sort on the negated values: ties keep vocabulary order
    return np.argsort(-topic_word, axis=1, kind="stable")[:, :n]


def top_words(topic_word: np.ndarray, vocabulary: Sequence[str], n: int = 10) -> list[list[str]]:
    """The ``n`` most probable words of each topic (most probable first)."""
    vocab = np.asarray(list(vocabulary), dtype=object)
    if vocab.shape[0] != np.shape(topic_word)[1]:
        raise DataError(
            f"vocabulary has {vocab.shape[0]} words, topic_word has {np.shape(topic_word)[1]}"
        )
    return [list(map(str, vocab[row])) for row in top_word_ids(topic_word, n)]


def split_documents(
    X: Any, fraction: float = 0.5, random_state: int | np.random.RandomState | None = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split each document's word occurrences into observed and held-out parts.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_documents, n_words)
        Integer counts.
    fraction : float, default=0.5
        Probability that an occurrence is held out.
    random_state : int or RandomState, default=0

    Returns
    -------
    observed, held_out : csr_matrix of shape (n_documents, n_words)
        ``observed + held_out == X``.
    """
    from sklearn.utils import check_random_state

    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    if not 0.0 < fraction < 1.0:
        raise DataError(f"fraction must lie in (0, 1), got {fraction!r}")
    counts = X.data
    if np.any(counts != np.round(counts)) or np.any(counts < 0):
        raise DataError("split_documents needs non-negative integer counts")
    rng = check_random_state(random_state)
    held = rng.binomial(counts.astype(np.int64), fraction).astype(np.float64)
    held_X = sp.csr_matrix((held, X.indices.copy(), X.indptr.copy()), shape=X.shape)
    obs_X = sp.csr_matrix((counts - held, X.indices.copy(), X.indptr.copy()), shape=X.shape)
    held_X.eliminate_zeros()
    obs_X.eliminate_zeros()
    return obs_X, held_X


def completion_perplexity(doc_topic: np.ndarray, topic_word: np.ndarray, held_out: Any) -> float:
    """``exp(-sum held log (theta beta) / sum held)`` over the nonzeros of ``held_out``.

    Parameters
    ----------
    doc_topic : ndarray of shape (n_documents, K)
        Topic weights inferred from the observed halves (rows sum to 1).
    topic_word : ndarray of shape (K, n_words)
        Rows sum to 1.
    held_out : sparse matrix of shape (n_documents, n_words)
    """
    H = sp.csr_matrix(held_out, dtype=np.float64)
    theta = np.asarray(doc_topic, dtype=np.float64)
    beta = np.asarray(topic_word, dtype=np.float64)
    theta = theta / theta.sum(axis=1, keepdims=True)
    beta = beta / beta.sum(axis=1, keepdims=True)
    total = H.sum()
    if total <= 0:
        raise DataError("the held-out part has no words")
    rows = np.repeat(np.arange(H.shape[0]), np.diff(H.indptr))
    p = np.einsum("ik,ki->i", theta[rows], beta[:, H.indices])
    with np.errstate(divide="ignore"):
        loglik = float(np.dot(H.data, np.log(p)))
    return float(np.exp(-loglik / total))


def held_out_perplexity(
    model: Any,
    X: Any,
    *,
    fraction: float = 0.5,
    random_state: int | np.random.RandomState | None = 0,
    topic_word: np.ndarray | None = None,
) -> float:
    """Document-completion perplexity of a fitted topic model on documents ``X``.

    Parameters
    ----------
    model : fitted estimator
        :class:`~emkit.models.MultinomialMixture` (document-topic weights from
        ``predict_proba``), :class:`~emkit.models.PLSA`, or any estimator whose ``transform``
        gives document-topic weights (scikit-learn's ``LatentDirichletAllocation``, NMF ...).
    X : sparse matrix of shape (n_documents, n_words)
        Held-out documents (integer counts).
    fraction, random_state
        See :func:`split_documents`.
    topic_word : ndarray of shape (K, n_words), optional
        The topics; default ``model.topic_word_`` or, failing that, the row-normalised
        ``model.components_``.
    """
    observed, held = split_documents(X, fraction, random_state)
    if topic_word is None:
        topic_word = getattr(model, "topic_word_", None)
        if topic_word is None:
            topic_word = np.asarray(model.components_, dtype=np.float64)
    infer = getattr(model, "transform", None) or model.predict_proba
    theta = np.asarray(infer(observed), dtype=np.float64)
    sums = theta.sum(axis=1, keepdims=True)
    K = theta.shape[1]
    theta = np.where(sums > 0, theta / np.where(sums > 0, sums, 1.0), 1.0 / K)
    return completion_perplexity(theta, topic_word, held)


def _check_top_ids(top_ids: Any, n_words: int) -> np.ndarray:
    ids = np.asarray(top_ids)
    if ids.ndim != 2 or ids.shape[1] < 2 or not np.issubdtype(ids.dtype, np.integer):
        raise DataError("top word ids must be integers of shape (n_topics, n_top >= 2)")
    if ids.min() < 0 or ids.max() >= n_words:
        raise DataError(f"top word ids must lie in 0 .. {n_words - 1}")
    return ids


def coherence_umass(top_ids: Any, X: Any, *, per_topic: bool = False) -> float | np.ndarray:
    """UMass coherence of topics given by their top word ids, from document co-occurrence.

    Parameters
    ----------
    top_ids : array-like of int of shape (n_topics, n_top)
        Most probable word first (see :func:`top_word_ids`).
    X : sparse matrix of shape (n_documents, n_words)
        The reference corpus (usually the training corpus).
    per_topic : bool, default=False
        Return each topic's coherence instead of the mean.
    """
    X = sp.csr_matrix(X)
    ids = _check_top_ids(top_ids, X.shape[1])
    n_docs = X.shape[0]
    B = (X[:, ids.ravel()] > 0).astype(np.float64)
    co = np.asarray((B.T @ B).todense())  # (T*N, T*N), diagonal = document frequencies
    n = ids.shape[1]
    scores = np.empty(ids.shape[0])
    i_idx, j_idx = np.tril_indices(n, k=-1)  # pairs (w_i, w_j) with j < i
    for t in range(ids.shape[0]):  # a handful of topics; each is one vectorised step
        block = co[t * n : (t + 1) * n, t * n : (t + 1) * n]
        df = np.diag(block)
        with np.errstate(divide="ignore"):
            values = np.log((block[i_idx, j_idx] / n_docs + EPSILON) / (df[j_idx] / n_docs))
        scores[t] = float(np.mean(values))
    return scores if per_topic else float(np.mean(scores))


def _window_presence(
    token_docs: Sequence[Sequence[Any]], word_index: dict[Any, int], window: int
) -> tuple[sp.csr_matrix, int]:
    """Boolean (n, R) matrix of the windows holding a relevant word, and the window count."""
    R = len(word_index)
    blocks = []
    n_contexts = 0
    for doc in token_docs:  # one vectorised pass per document
        codes = np.fromiter((word_index.get(w, -1) for w in doc), dtype=np.int64, count=len(doc))
        L = codes.shape[0]
        n_contexts += max(L - window + 1, 1)
        if not np.any(codes >= 0):
            continue
        onehot = np.zeros((L + 1, R), dtype=np.int32)
        pos = np.flatnonzero(codes >= 0)
        onehot[pos + 1, codes[pos]] = 1
        cum = np.cumsum(onehot, axis=0)
        if L <= window:
            presence = (cum[-1] - cum[0] > 0)[None, :]
        else:
            starts = np.arange(L - window + 1)
            presence = cum[starts + window] - cum[starts] > 0
        blocks.append(sp.csr_matrix(presence, dtype=np.float64))
    if not blocks:
        raise DataError("no text contains any of the topics' top words")
    return sp.csr_matrix(sp.vstack(blocks)), n_contexts


def coherence_npmi(
    top_ids: Any,
    X: Any = None,
    *,
    tokens: Sequence[Sequence[str]] | None = None,
    vocabulary: Sequence[str] | None = None,
    window: int | None = 10,
    per_topic: bool = False,
) -> float | np.ndarray:
    """NPMI coherence of topics given by their top word ids.

    Parameters
    ----------
    top_ids : array-like of int of shape (n_topics, n_top)
    X : sparse matrix of shape (n_documents, n_words), optional
        Counts, for document co-occurrence (``window=None``).
    tokens : sequence of sequences of str, optional
        Token sequences, for sliding windows (with ``vocabulary`` naming the ids).
    vocabulary : sequence of str, optional
    window : int or None, default=10
        Sliding-window size (needs ``tokens``); None uses whole documents of ``X``.
    per_topic : bool, default=False
    """
    if window is None:
        if X is None:
            raise DataError("document-level NPMI (window=None) needs the count matrix X")
        Xc = sp.csr_matrix(X)
        ids = _check_top_ids(top_ids, Xc.shape[1])
        P = (Xc[:, ids.ravel()] > 0).astype(np.float64)
        n_contexts = Xc.shape[0]
    else:
        if tokens is None or vocabulary is None:
            raise DataError("sliding-window NPMI needs tokens and vocabulary (or window=None)")
        if window < 1:
            raise DataError(f"window must be a positive integer, got {window!r}")
        vocab = list(vocabulary)
        ids = _check_top_ids(top_ids, len(vocab))
        relevant = sorted(set(ids.ravel().tolist()))
        word_index = {vocab[w]: r for r, w in enumerate(relevant)}
        presence, n_contexts = _window_presence(tokens, word_index, window)
        column = {w: r for r, w in enumerate(relevant)}
        P = presence[:, [column[w] for w in ids.ravel()]]
    co = np.asarray((P.T @ P).todense()) / n_contexts
    n = ids.shape[1]
    i_idx, j_idx = np.nonzero(~np.eye(n, dtype=bool))
    scores = np.empty(ids.shape[0])
    for t in range(ids.shape[0]):
        block = co[t * n : (t + 1) * n, t * n : (t + 1) * n]
        p = np.diag(block)
        joint = block[i_idx, j_idx] + EPSILON
        with np.errstate(divide="ignore", invalid="ignore"):
            pmi = np.log(joint / (p[i_idx] * p[j_idx]))
            values = pmi / -np.log(joint)
        scores[t] = float(np.mean(values))
    return scores if per_topic else float(np.mean(scores))
