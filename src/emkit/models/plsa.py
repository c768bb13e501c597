r"""Probabilistic latent semantic analysis (Hofmann 1999) on sparse document-term counts.

Every word *occurrence* has its own hidden topic; document ``d`` mixes the topics with its own
weights ``theta_d`` (a per-row parameter) and topic ``k`` draws words from ``beta_k``:

.. math:: \log L = \sum_{d, v} w_d\, x_{dv} \log \sum_k \theta_{dk} \beta_{kv}

EM: the posterior of the topic of an occurrence of word ``v`` in document ``d`` is
``q_dvk = theta_dk beta_kv / (theta_d . beta_v)``; the M-step normalises
``sum_v x_dv q_dvk`` over k (new ``theta_d``) and ``sum_d w_d x_dv q_dvk`` over v (new
``beta_k``). Both numerators only need ``r_dv = x_dv / (theta_d . beta_v)`` on the nonzeros of
``X``::

    sum_v x_dv q_dvk = theta_dk * (R @ beta.T)_dk
    sum_d x_dv q_dvk = beta_kv * (R.T @ theta)_vk

so an iteration is one sampled dense-dense product on the nonzeros plus two sparse-dense
products: O(nnz * K) time, and the matrix is never densified.

PLSA is KL-divergence NMF (Gaussier & Goutte 2005; Ding, Li & Peng 2008): with
``W = diag(n_d) theta`` and ``H = beta``, ``D_KL(X || W H) = sum x log x - sum_d n_d log n_d
- log L`` whenever the rows of ``theta`` and ``beta`` sum to one; and the EM update is the
Lee-Seung multiplicative update followed by that normalisation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emkit._sklearn_api import check_is_fitted, check_random_state, validate_data
from emkit._validation import ARRAY, NONE, Constraint, interval, one_of
from emkit.base import EMEstimator
from emkit.data import Batch
from emkit.engine import EMModel, StepContext, fit_em
from emkit.exceptions import DataError, ParameterError
from emkit.models._plsa_stats import plsa_kl_divergence_offset, plsa_statistics
from emkit.models.multinomial import as_count_matrix, kmeans_tfidf_labels
from emkit.sources import RowSource
from emkit.stats import Stats

__all__ = ["PLSA", "PLSAParams", "plsa_kl_divergence_offset"]


@dataclass(frozen=True)
class PLSAParams:
    """Parameters of PLSA.

    Attributes
    ----------
    doc_topic : ndarray of shape (n_documents, n_components)
        ``theta``: topic weights of each training document (rows sum to 1).
    topic_word : ndarray of shape (n_components, n_features)
        ``beta``: word distribution of each topic (rows sum to 1).
    """

    doc_topic: np.ndarray
    topic_word: np.ndarray


def _normalise_rows(counts: np.ndarray, smoothing: float, previous: np.ndarray) -> np.ndarray:
    smoothed = counts + smoothing
    total = smoothed.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = smoothed / total
    empty = total[:, 0] <= 0  # an empty document (or topic) keeps its previous distribution
    if np.any(empty):
        out[empty] = previous[empty]
    return out


class PLSA(EMEstimator[PLSAParams]):
    # pass 1 is the second half of an 'alternating' update (empty for update='em')
    n_passes: ClassVar[int] = 2
    # online EM folds each batch's documents in (their theta, the local parameters) and
    # averages the topic-word statistics (the shared ones): see online_e_step
    supports_online: ClassVar[bool] = True

    r"""Probabilistic latent semantic analysis (aspect model), fitted by EM.

    .. math:: p(v \mid d) = \sum_k \theta_{dk} \beta_{kv}

    The per-document topic weights ``theta`` are parameters (one row per training document);
    :meth:`transform` "folds in" new documents by EM over their ``theta`` with ``beta`` fixed
    (Hofmann 1999). With ``alpha > 0`` (or ``doc_topic_alpha > 0``) the M-step is the MAP
    estimate under symmetric Dirichlet priors (additive smoothing) and the objective is the
    log-likelihood plus ``alpha * sum log beta + doc_topic_alpha * sum log theta``.

    ``sample_weight[d]`` multiplies document d's term of the log-likelihood; it changes
    ``beta`` (an integer weight is the same as repeating the document) but not the document's
    own ``theta``.

    Parameters
    ----------
    n_components : int, default=10
        Number of topics K.
    alpha : float, default=0.01
        Additive smoothing of the topic-word distributions. ``alpha=0`` is maximum likelihood
        (the KL-NMF objective exactly).
    doc_topic_alpha : float, default=0.0
        Additive smoothing of the document-topic weights.
    update : {'em', 'alternating'}, default='em'
        'em' updates theta and beta from one E-step (one sampled product per iteration).
        'alternating' updates theta, then beta from a second E-step at the new theta (an ECM
        iteration, two products; its theta half is exactly the W update of scikit-learn's
        ``NMF(beta_loss='kullback-leibler', solver='mu')``, which alternates likewise).
    init : {'random', 'kmeans'}, default='random'
        Starting ``beta``: 'random' draws each topic from a flat Dirichlet around the corpus
        word frequencies; 'kmeans' takes the smoothed word distributions of k-means clusters
        of tf-idf vectors. ``theta`` starts uniform (1/K) in both cases.
    topic_word_init : array-like of shape (n_components, n_features), optional
        Start from this ``beta`` (rows are normalised).
    doc_topic_init : array-like of shape (n_documents, n_components), optional
        Start from this ``theta`` (rows are normalised); with ``topic_word_init``.
    tol : float, default=1e-6
        Stop when the objective per unit of sample weight changes by less than ``tol``.
    max_iter : int, default=200
    n_init : int, default=1
    hard : bool, default=False
        Hard EM: each word occurrence wholly in its most probable topic.
    fold_in_max_iter : int, default=100
        Maximum EM iterations of :meth:`transform`.
    random_state, warm_start
        As for every emkit estimator.

    Attributes
    ----------
    doc_topic_ : ndarray of shape (n_documents, n_components)
    topic_word_ : ndarray of shape (n_components, n_features)
    params_, n_iter_, converged_, log_likelihood_, lower_bound_, log_likelihood_history_
        See :class:`~emkit.base.EMEstimator`.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.models import PLSA
    >>> X = np.array([[5, 3, 0, 0], [4, 2, 1, 0], [0, 0, 6, 3], [1, 0, 5, 4]])
    >>> m = PLSA(2, random_state=0).fit(X)
    >>> m.doc_topic_.shape, m.topic_word_.shape
    ((4, 2), (2, 4))
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_components": interval(int, 1, None),
        "alpha": interval(float, 0.0, None),
        "doc_topic_alpha": interval(float, 0.0, None),
        "update": one_of({"em", "alternating"}),
        "init": one_of({"random", "kmeans"}),
        "topic_word_init": ARRAY | NONE,
        "doc_topic_init": ARRAY | NONE,
        "fold_in_max_iter": interval(int, 0, None),
    }

    params_type = PLSAParams

    def __init__(
        self,
        n_components: int = 10,
        *,
        alpha: float = 0.01,
        doc_topic_alpha: float = 0.0,
        update: str = "em",
        init: str = "random",
        topic_word_init: Any = None,
        doc_topic_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 200,
        n_init: int = 1,
        hard: bool = False,
        fold_in_max_iter: int = 100,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.n_components = n_components
        self.alpha = alpha
        self.doc_topic_alpha = doc_topic_alpha
        self.update = update
        self.init = init
        self.topic_word_init = topic_word_init
        self.doc_topic_init = doc_topic_init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.fold_in_max_iter = fold_in_max_iter
        self.random_state = random_state
        self.warm_start = warm_start

    # -- data -----------------------------------------------------------------------------
    def _validate_data(
        self, X: Any, *, reset: bool, document: Any = None, **unexpected: Any
    ) -> tuple[Any, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = validate_data(self, X, reset=reset, accept_sparse="csr", dtype=[np.float64, np.float32])
        X = as_count_matrix(X)
        n = X.shape[0]
        # The index of each row's document travels with the rows, so that a chunk read on its
        # own (streamed, or on a Dask worker) finds its documents' theta. fit() passes it.
        if document is None:
            return X, np.arange(n, dtype=np.intp)
        index = np.asarray(document)
        if index.shape != (n,) or not np.issubdtype(index.dtype, np.integer):
            raise DataError(f"document must hold {n} row indices, got shape {index.shape}")
        return X, index.astype(np.intp, copy=False)

    def _check_n_samples(self, n_samples: int) -> None:
        super()._check_n_samples(n_samples)
        if self.n_components > n_samples:
            raise DataError(
                f"n_components={self.n_components} must be <= the number of documents ({n_samples})"
            )
        self._n_documents = n_samples

    def _initial_params(self) -> PLSAParams | None:
        K, V, n = self.n_components, self.n_features_in_, self._n_documents
        warm = super()._initial_params()
        if warm is not None:
            if warm.doc_topic.shape != (n, K):
                raise DataError(
                    f"warm start: the fitted doc_topic_ has shape {warm.doc_topic.shape} but X "
                    f"has {n} documents; PLSA's document weights belong to the training "
                    "documents (use transform() for new documents)"
                )
            return warm
        if self.topic_word_init is None:
            return None
        beta = np.asarray(self.topic_word_init, dtype=np.float64)
        if beta.shape != (K, V) or np.any(beta < 0) or np.any(beta.sum(axis=1) <= 0):
            raise ParameterError(f"topic_word_init must be non-negative of shape {(K, V)}")
        beta = beta / beta.sum(axis=1, keepdims=True)
        if self.doc_topic_init is None:
            return PLSAParams(doc_topic=self._start_theta(n, np.float64), topic_word=beta)
        theta = np.asarray(self.doc_topic_init, dtype=np.float64)
        if theta.shape != (n, K) or np.any(theta < 0) or np.any(theta.sum(axis=1) <= 0):
            raise ParameterError(f"doc_topic_init must be non-negative of shape {(n, K)}")
        theta = theta / theta.sum(axis=1, keepdims=True)
        return PLSAParams(doc_topic=theta, topic_word=beta)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, **kw: Any) -> PLSA:
        """Fit PLSA by EM.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_documents, n_features)
            Word counts (a CSR matrix is used as is, never densified).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_documents,), optional
        **kw
            ``callbacks`` and ``executor`` as in :meth:`EMEstimator.fit`.

        Returns
        -------
        self
        """
        if "document" in kw:
            raise TypeError("document is set by fit: the row index of each training document")
        super().fit(X, y, sample_weight, document=_RowIndex(_n_rows(X)), **kw)
        return self

    # -- engine hooks ---------------------------------------------------------------------
    def _start_theta(self, n: int, dtype: Any) -> np.ndarray:
        return np.full((n, self.n_components), 1.0 / self.n_components, dtype=dtype)

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> PLSAParams:
        X = batch.X
        K = self.n_components
        if self.init == "kmeans":
            labels = kmeans_tfidf_labels(X, K, batch.weight, rng)
            onehot = np.zeros((batch.n_rows, K))
            onehot[np.arange(batch.n_rows), labels] = 1.0
            counts = np.asarray(X.T @ (onehot * batch.weight[:, None])).T + 1.0
        else:
            freq = np.asarray(X.T @ batch.weight).ravel() + 1.0
            counts = freq / freq.sum() * rng.gamma(1.0, 1.0, size=(K, X.shape[1]))
        beta = (counts / counts.sum(axis=1, keepdims=True)).astype(X.dtype)
        # every training document has a theta, also when the start sees a sample of them
        theta = self._start_theta(self._n_documents, X.dtype)
        return PLSAParams(doc_topic=theta, topic_word=beta)

    def e_step(self, batch: Batch, params: PLSAParams, ctx: StepContext) -> Stats:
        X, rows = batch.arrays
        weight = float(np.sum(batch.weight, dtype=np.float64))
        alternating = self.update == "alternating"
        if ctx.pass_index == 1 and not alternating:
            return Stats()
        theta_all = params.doc_topic
        whole = rows.shape[0] == theta_all.shape[0]  # chunks are row ranges: all rows, in order
        loglik, dt, tw = plsa_statistics(
            X,
            theta_all if whole else theta_all[rows],
            params.topic_word,
            batch.weight,
            hard=ctx.hard,
            need_doc_topic=ctx.pass_index == 0,
            need_topic_word=ctx.pass_index == 1 or not alternating,
        )
        arrays: dict[str, np.ndarray] = {}
        if dt is not None:
            if whole:
                arrays["doc_topic"] = dt
            else:
                arrays["doc_topic"] = np.zeros_like(theta_all)
                arrays["doc_topic"][rows] = dt
        if tw is not None:
            arrays["topic_word"] = tw
        return Stats(loglik=loglik, weight=weight, **arrays)

    def online_e_step(
        self, batch: Batch, params: PLSAParams, ctx: StepContext
    ) -> tuple[Stats, PLSAParams]:
        """Stepwise EM on a batch of new documents: their topic weights are folded in (EM over
        theta with beta fixed, as :meth:`transform`), then the batch's topic-word statistics
        are taken at those weights. The M-step keeps the folded-in weights as ``doc_topic``
        (the last batch's documents) and updates ``topic_word`` from the running statistics;
        with ``fold_in_max_iter=0`` the weights stay at the uniform start of :meth:`fit`."""
        X, _ = batch.arrays
        theta = self._fold_in(X, params.topic_word, quiet=True)
        loglik, _, tw = plsa_statistics(
            X, theta, params.topic_word, batch.weight, hard=ctx.hard, need_doc_topic=False
        )
        stats = Stats(
            loglik=loglik, weight=float(np.sum(batch.weight, dtype=np.float64)), topic_word=tw
        )
        return stats, PLSAParams(doc_topic=theta, topic_word=params.topic_word)

    def m_step(self, stats: Stats, params: PLSAParams, ctx: StepContext) -> PLSAParams:
        theta, beta = params.doc_topic, params.topic_word
        if "doc_topic" in stats:
            theta = _normalise_rows(stats["doc_topic"], self.doc_topic_alpha, theta)
        if "topic_word" in stats:
            beta = _normalise_rows(stats["topic_word"], self.alpha, beta)
        return PLSAParams(doc_topic=theta, topic_word=beta)

    def _set_fitted(self, result: Any) -> None:
        super()._set_fitted(result)
        # partial_fit continues from the fit's topic-word statistics only (the documents' own
        # are local to them); an 'alternating' fit ends on its theta half, without them, and
        # partial_fit then starts the running statistics afresh (as after emkit.load)
        state = self.online_state_
        if state is not None and state.stats is not None:
            kept = state.stats
            if "topic_word" in kept:
                kept = Stats(kept.loglik, kept.weight, topic_word=kept["topic_word"])
                self.online_state_ = dataclasses.replace(state, stats=kept)
            else:
                self.online_state_ = dataclasses.replace(state, stats=None, weight_seen=0.0)

    def objective(self, stats: Stats, params: PLSAParams, ctx: StepContext) -> float:
        value = stats.loglik
        if self.alpha > 0:
            value += self.alpha * float(np.sum(np.log(params.topic_word)))
        if self.doc_topic_alpha > 0:
            value += self.doc_topic_alpha * float(np.sum(np.log(params.doc_topic)))
        return value

    # -- inference on new documents ---------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Topic weights of new documents by folding-in: EM over theta with beta fixed.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_documents, n_features)

        Returns
        -------
        doc_topic : ndarray of shape (n_documents, n_components)
            Rows sum to 1 (uniform for empty documents).
        """
        check_is_fitted(self, "params_")
        X, _ = self._validate_data(X, reset=False)
        return self._fold_in(X, self.params_.topic_word)

    def _fold_in(self, X: Any, topic_word: np.ndarray, *, quiet: bool = False) -> np.ndarray:
        """EM over the topic weights of the documents ``X`` with ``topic_word`` fixed.

        ``quiet`` silences the warning that ``fold_in_max_iter`` ran out (online EM: an inner
        step that need not converge, since every iteration raises the batch's likelihood)."""
        import warnings

        from emkit.exceptions import ConvergenceWarning

        n = X.shape[0]
        fold = _FoldIn(topic_word.astype(X.dtype), self.doc_topic_alpha)
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", ConvergenceWarning)
            result = fit_em(
                fold,
                Batch((X, np.arange(n, dtype=np.intp)), np.ones(n, dtype=X.dtype)),
                random_state=check_random_state(0),
                init_params=self._start_theta(n, X.dtype),
                max_iter=self.fold_in_max_iter,
                tol=self.tol,
                eps=float(np.finfo(X.dtype).eps),
            )
        return np.asarray(result.params)

    def fit_transform(self, X: Any, y: Any = None, **kw: Any) -> np.ndarray:
        """Fit and return the training documents' topic weights ``doc_topic_``."""
        return np.asarray(self.fit(X, y, **kw).doc_topic_)

    def score(self, X: Any, y: Any = None) -> float:
        """Log-likelihood per word of ``X`` after folding in its documents."""
        check_is_fitted(self, "params_")
        theta = self.transform(X)
        X = as_count_matrix(validate_data(self, X, reset=False, accept_sparse="csr"))
        loglik, _, _ = plsa_statistics(
            X,
            theta,
            self.params_.topic_word,
            np.ones(X.shape[0]),
            hard=False,
            need_topic_word=False,
        )
        return loglik / max(float(X.sum()), 1.0)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags


def _n_rows(X: Any) -> int:
    """Number of rows of ``fit``'s X (an array, sparse matrix, dask array, path or source)."""
    from emkit.sources import as_source

    source = as_source(X)
    if source is not None:
        return source.n_rows
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X)
        shape = X.shape
    return int(shape[0]) if len(shape) else 0


class _RowIndex(RowSource):
    """The rows' own positions ``0 .. n-1`` as a 1-D row source (read on demand, no storage)."""

    def __init__(self, n_rows: int) -> None:
        self.shape = (n_rows,)
        self.dtype = np.dtype(np.intp)

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.arange(start, max(start, stop), dtype=np.intp)


class _FoldIn(EMModel[np.ndarray]):
    """EM over the topic weights of new documents with the topics fixed (params = theta)."""

    def __init__(self, topic_word: np.ndarray, doc_topic_alpha: float) -> None:
        self.topic_word = topic_word
        self.doc_topic_alpha = doc_topic_alpha

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> np.ndarray:
        K = self.topic_word.shape[0]
        return np.full((batch.n_rows, K), 1.0 / K, dtype=batch.X.dtype)

    def e_step(self, batch: Batch, params: np.ndarray, ctx: StepContext) -> Stats:
        X, rows = batch.arrays
        loglik, dt, _ = plsa_statistics(
            X, params[rows], self.topic_word, batch.weight, hard=False, need_topic_word=False
        )
        assert dt is not None
        doc_topic = np.zeros_like(params)
        doc_topic[rows] = dt
        return Stats(loglik=loglik, weight=float(np.sum(batch.weight)), doc_topic=doc_topic)

    def m_step(self, stats: Stats, params: np.ndarray, ctx: StepContext) -> np.ndarray:
        return _normalise_rows(stats["doc_topic"], self.doc_topic_alpha, params)

    def objective(self, stats: Stats, params: np.ndarray, ctx: StepContext) -> float:
        if self.doc_topic_alpha > 0:
            return stats.loglik + self.doc_topic_alpha * float(np.sum(np.log(params)))
        return stats.loglik
