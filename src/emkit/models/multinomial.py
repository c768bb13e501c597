"""Mixture of unigrams (one latent topic per document) on sparse document-term counts.

Nigam, McCallum, Thrun & Mitchell (2000), "Text classification from labeled and unlabeled
documents using EM", Machine Learning 39:103-134. Each document ``i`` has one hidden topic
``z_i``; its words are drawn independently from that topic's word distribution::

    p(x_i, z_i = k) = w_k * prod_v beta_kv ** x_iv

(the likelihood of the word *sequence*: the multinomial coefficient, which does not depend on
the parameters, is left out, as in Nigam et al.). With ``x`` a scipy.sparse CSR matrix the
E-step is ``X @ log(beta).T`` and the M-step ``resp.T @ X``: O(nnz * K) per iteration, the
matrix is never densified.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from emkit._sklearn_api import validate_data
from emkit._validation import ARRAY, NONE, Constraint, interval, one_of
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import ConvergenceWarning, DataError, ParameterError
from emkit.stats import Stats

__all__ = [
    "MultinomialMixture",
    "MultinomialParams",
    "kmeans_tfidf_labels",
    "labelled_loo_accuracy",
]


@dataclass(frozen=True)
class MultinomialParams:
    """Parameters of a mixture of unigrams.

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
        Topic proportions ``P(z = k)``.
    topic_word : ndarray of shape (n_components, n_features)
        Word distribution of each topic (rows sum to 1).
    """

    weights: np.ndarray
    topic_word: np.ndarray


def as_count_matrix(X: Any, name: str = "X") -> sp.csr_matrix:
    """``X`` as a CSR matrix of non-negative finite counts (float64 or float32)."""
    if not sp.issparse(X):
        X = sp.csr_matrix(np.asarray(X))
    X = sp.csr_matrix(X)
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    X.sum_duplicates()
    if X.nnz and (not np.all(np.isfinite(X.data)) or X.data.min() < 0):
        raise DataError(f"Negative values in data: {name} must hold non-negative finite counts")
    return X


def kmeans_tfidf_labels(
    X: sp.csr_matrix, n_clusters: int, weight: np.ndarray, rng: np.random.RandomState
) -> np.ndarray:
    """Cluster documents by k-means on L2-normalised tf-idf vectors (spherical k-means).

    Parameters
    ----------
    X : sparse matrix of shape (n_documents, n_words)
        Counts.
    n_clusters : int
    weight : ndarray of shape (n_documents,)
        Sample weights (passed to k-means).
    rng : RandomState
        Seeds k-means++.

    Returns
    -------
    labels : ndarray of shape (n_documents,) of int
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.feature_extraction.text import TfidfTransformer

    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(X)
    with warnings.catch_warnings():
        # few distinct documents: k-means leaves clusters empty, EM's smoothing copes with that
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        km = KMeans(n_clusters, n_init=1, random_state=rng.randint(2**31 - 1))
        return np.asarray(km.fit_predict(tfidf.astype(np.float64), sample_weight=weight))


def _match_clusters(clusters: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rename clusters after the labelled documents (-1 = unlabelled) they hold.

    The renaming maximises the number of labelled documents whose cluster gets their label
    (the Hungarian algorithm on the cluster x label contingency table).
    """
    from scipy.optimize import linear_sum_assignment

    k = int(max(clusters.max(initial=0), labels.max(initial=0))) + 1
    known = labels >= 0
    table = np.zeros((k, k))
    np.add.at(table, (clusters[known], labels[known]), 1.0)
    rows, cols = linear_sum_assignment(table, maximize=True)
    name = np.empty(k, dtype=np.intp)
    name[rows] = cols
    return name[clusters]


class MultinomialMixture(MixtureEstimator[MultinomialParams]):
    r"""Mixture of unigrams (multinomial mixture) for document clustering, fitted by EM.

    .. math:: p(x_i) = \sum_k w_k \prod_v \beta_{kv}^{x_{iv}}

    With ``alpha > 0`` the M-step is the MAP estimate under a symmetric Dirichlet prior
    (additive "Laplace" smoothing, Nigam et al. 2000)
    :math:`\beta_{kv} = (\alpha + \sum_i r_{ik} x_{iv}) / (V\alpha + \sum_{i,v} r_{ik} x_{iv})`,
    and the objective EM increases is the log-likelihood plus
    :math:`\alpha \sum_{k,v} \log \beta_{kv}`.

    Semi-supervised EM (Nigam et al.): ``fit(X, labels=y)`` with ``y[i] = -1`` for unlabelled
    documents and the topic index for labelled ones; labelled documents are clamped to their
    topic (their posterior is the indicator of the label and their term of the objective is
    ``log p(x_i, z_i = y_i)``). Each restart starts from k-means on tf-idf with the clusters
    named after the labelled documents they hold, and those documents moved to their topic
    (``init='naive-bayes'``: Nigam et al.'s start, naive Bayes on the labelled documents alone;
    it is one fixed start, so restarts repeat it).

    Parameters
    ----------
    n_components : int, default=2
        Number of topics K.
    alpha : float, default=1.0
        Additive smoothing of the word distributions (pseudo-count per word and topic).
    init : {'kmeans', 'random', 'naive-bayes'}, default='kmeans'
        'kmeans' starts from the clusters of k-means on tf-idf (sublinear tf, L2-normalised
        rows, a fresh k-means++ seed per restart); 'random' from random responsibilities;
        'naive-bayes' (semi-supervised) from the labelled documents alone. Labelled documents
        always start in their topic. The start is followed by one smoothed M-step.
    topic_word_init : array-like of shape (n_components, n_features), optional
        Start from these word distributions (every restart); ``weights_init`` likewise.
    weights_init : array-like of shape (n_components,), optional
    tol : float, default=1e-6
    max_iter : int, default=200
    n_init : int, default=10
        Restarts; the one with the highest objective is kept.
    hard : bool, default=False
        Hard (classification) EM: each document wholly in its most probable topic.
    random_state, warm_start
        As for every emkit estimator.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    topic_word_ : ndarray of shape (n_components, n_features)
    params_, n_iter_, converged_, log_likelihood_, lower_bound_, log_likelihood_history_
        See :class:`~emkit.base.EMEstimator` (the objective includes the smoothing prior).

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.models import MultinomialMixture
    >>> X = np.array([[5, 1, 0, 0], [4, 2, 0, 1], [0, 0, 6, 3], [0, 1, 5, 4]])
    >>> labels = MultinomialMixture(2, random_state=0).fit_predict(X).tolist()
    >>> labels in ([0, 0, 1, 1], [1, 1, 0, 0])
    True
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "alpha": interval(float, 0.0, None),
        "init": one_of({"kmeans", "random", "naive-bayes"}),
        "topic_word_init": ARRAY | NONE,
        "weights_init": ARRAY | NONE,
    }

    params_type = MultinomialParams
    supports_online: ClassVar[bool] = True

    def __init__(
        self,
        n_components: int = 2,
        *,
        alpha: float = 1.0,
        init: str = "kmeans",
        topic_word_init: Any = None,
        weights_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 200,
        n_init: int = 10,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.n_components = n_components
        self.alpha = alpha
        self.init = init
        self.topic_word_init = topic_word_init
        self.weights_init = weights_init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    # -- data -----------------------------------------------------------------------------
    def _validate_data(
        self, X: Any, *, reset: bool, labels: Any = None, **unexpected: Any
    ) -> tuple[Any, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = validate_data(self, X, reset=reset, accept_sparse="csr", dtype=[np.float64, np.float32])
        X = as_count_matrix(X)
        n = X.shape[0]
        if labels is None:
            y = np.full(n, -1, dtype=np.intp)
        else:
            # (fit's executors validate every chunk, the first with reset=True, the others not)
            y = np.asarray(labels)
            if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
                raise DataError(
                    f"labels must be {n} integers (-1 for unlabelled documents), "
                    f"got shape {y.shape} and dtype {y.dtype}"
                )
            if np.any((y < -1) | (y >= self.n_components)):
                raise DataError(
                    f"labels must lie in -1 .. {self.n_components - 1} (n_components - 1), "
                    f"got {int(y.min())} .. {int(y.max())}"
                )
            y = y.astype(np.intp)
        return X, y

    def _batch(self, X: Any, fit_data: Mapping[str, Any]) -> Batch:
        if fit_data.get("labels") is not None:
            raise TypeError("labels are only used by fit")
        return super()._batch(X, fit_data)

    # -- engine hooks ---------------------------------------------------------------------
    def _initial_params(self) -> MultinomialParams | None:
        warm = super()._initial_params()
        if warm is not None or self.topic_word_init is None:
            return warm
        shape = (self.n_components, self.n_features_in_)
        beta = np.asarray(self.topic_word_init, dtype=np.float64)
        if beta.shape != shape or np.any(beta < 0) or not np.allclose(beta.sum(axis=1), 1.0):
            raise ParameterError(
                f"topic_word_init must have shape {shape} with rows that are distributions"
            )
        if self.weights_init is None:
            weights = np.full(self.n_components, 1.0 / self.n_components)
        else:
            weights = np.asarray(self.weights_init, dtype=np.float64)
            if weights.shape != (self.n_components,) or not np.isclose(weights.sum(), 1.0):
                raise ParameterError(
                    f"weights_init must be {self.n_components} probabilities summing to 1"
                )
        return MultinomialParams(weights=weights, topic_word=beta)

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> MultinomialParams:
        X, y = batch.arrays
        n, K = batch.n_rows, self.n_components
        labelled = y >= 0
        resp = np.zeros((n, K), dtype=X.dtype)
        if self.init == "kmeans":
            z = kmeans_tfidf_labels(X, K, batch.weight, rng)
            if np.any(labelled):  # the clusters, named after the labelled documents they hold
                z = _match_clusters(z, y)
            resp[np.arange(n), z] = 1.0
        elif self.init == "random":
            resp = rng.dirichlet(np.ones(K), size=n).astype(X.dtype)
        # 'naive-bayes': the labelled documents alone
        if np.any(labelled):  # labelled documents start (and stay) in their topic
            rows = np.flatnonzero(labelled)
            resp[rows] = 0.0
            resp[rows, y[rows]] = 1.0
        missing = np.flatnonzero(resp.sum(axis=0) == 0)
        if missing.size and (np.any(labelled) or self.init == "naive-bayes"):
            # topics without a document start at random unlabelled documents
            pool = np.flatnonzero(~labelled)
            pool = pool if pool.size else np.arange(n)
            picked = rng.choice(pool, size=missing.size, replace=pool.size < missing.size)
            resp[picked] = 0.0
            resp[picked, missing] = 1.0
        stats = self.accumulate(batch, resp * batch.weight[:, None], None)
        # at least a little smoothing at the start, so that no word is impossible in a topic
        smooth = max(self.alpha, 1e-2)
        params = self._m_step(stats, None, smooth)
        # a topic left empty by the start keeps a chance to win documents
        nk = stats["nk"]
        weights = (nk + 1.0) / (nk.sum() + K)
        return MultinomialParams(weights=weights, topic_word=params.topic_word)

    def log_joint(self, batch: Batch, params: MultinomialParams) -> np.ndarray:
        X = batch.X
        dtype = X.dtype
        with np.errstate(divide="ignore"):
            log_beta = np.log(params.topic_word.astype(dtype, copy=False))
            log_w = np.log(params.weights.astype(dtype, copy=False))
        return np.asarray(X @ log_beta.T) + log_w

    def e_step(self, batch: Batch, params: MultinomialParams, ctx: StepContext) -> Stats:
        y = batch.arrays[1]
        log_joint = self.log_joint(batch, params)
        resp, log_norm = ctx.posterior(log_joint)
        labelled = np.flatnonzero(y >= 0)
        if labelled.size:
            resp[labelled] = 0.0
            resp[labelled, y[labelled]] = 1.0
            log_norm[labelled] = log_joint[labelled, y[labelled]]
        weight = batch.weight
        stats = self.accumulate(batch, resp * weight[:, None], params)
        return stats.replace(
            loglik=float(np.dot(weight, log_norm)), weight=float(np.sum(weight, dtype=np.float64))
        )

    def accumulate(self, batch: Batch, resp: np.ndarray, params: MultinomialParams | None) -> Stats:
        X = batch.X
        return Stats(nk=resp.sum(axis=0), counts=np.asarray(X.T @ resp).T)

    def _m_step(
        self, stats: Stats, params: MultinomialParams | None, alpha: float
    ) -> MultinomialParams:
        nk, counts = stats["nk"], stats["counts"]
        weights = nk / nk.sum()
        smoothed = counts + alpha
        total = smoothed.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = smoothed / total
        empty = total[:, 0] <= 0
        if np.any(empty):  # a topic with no words keeps its previous distribution
            n_words = counts.shape[1]
            previous = np.full_like(beta, 1.0 / n_words) if params is None else params.topic_word
            beta[empty] = previous[empty]
        return MultinomialParams(weights=weights, topic_word=beta)

    def m_step(
        self, stats: Stats, params: MultinomialParams | None, ctx: StepContext
    ) -> MultinomialParams:
        return self._m_step(stats, params, self.alpha)

    def objective(self, stats: Stats, params: MultinomialParams, ctx: StepContext) -> float:
        if self.alpha == 0:
            return stats.loglik
        return stats.loglik + self.alpha * float(np.sum(np.log(params.topic_word)))

    def _n_parameters(self) -> int:
        K, V = self.topic_word_.shape
        return int(K * (V - 1) + K - 1)

    def _sample(
        self, params: MultinomialParams, labels: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, ...]:
        raise NotImplementedError(
            "MultinomialMixture does not model document lengths; draw documents with "
            "numpy's multinomial(length, topic_word_[k]) for a chosen length"
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags


def labelled_loo_accuracy(estimator: MultinomialMixture, X: Any, labels: Any) -> float:
    """Leave-one-out accuracy of semi-supervised EM on its own labelled documents.

    Each labelled document in turn is treated as unlabelled, the model is refitted and its
    prediction compared with the hidden label. Only the given labels are used, so this can
    choose settings (smoothing, vocabulary, restarts) without touching held-out truth.

    Parameters
    ----------
    estimator : MultinomialMixture
        Cloned for every fit.
    X : array-like or sparse matrix of shape (n_documents, n_words)
    labels : array-like of int, shape (n_documents,)
        Topic of each labelled document, -1 for unlabelled ones.

    Returns
    -------
    float
        Fraction of labelled documents predicted correctly when left out.
    """
    y = np.asarray(labels)
    known = np.flatnonzero(y >= 0)
    if known.size == 0:
        raise DataError("labelled_loo_accuracy needs at least one labelled document (labels >= 0)")
    from sklearn.base import clone

    X = sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X)
    hits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in known:
            held = y.copy()
            held[i] = -1
            model = clone(estimator).fit(X, labels=held)
            hits += int(model.predict(X[i : i + 1])[0] == y[i])
    return hits / known.size
