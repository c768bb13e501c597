r"""Categorical crowd labels: Dawid-Skene, one-coin Dawid-Skene and majority vote.

Worker ``a`` labels task ``t`` with ``l``; the task's true class ``z_t`` is hidden (one per task,
shared by all its labels). Dawid & Skene (1979, Appl. Statist. 28:20-28) give every worker a
confusion matrix ``pi_a[k, l] = P(label l | true class k)``:

.. math:: \log p(\text{labels}) = \sum_t \log \sum_k p_k \prod_{(a, l) \in t} \pi_a[k, l]

computed in log space from per-task sums of ``log pi_a[k, l]``. The one-coin model (e.g. Zhang
et al. 2016, JMLR 17) has one accuracy ``s_a`` per worker: ``pi_a[k, k] = s_a`` and the other
labels share ``1 - s_a`` equally.

One iteration is two map-reduce passes: (1) per-task sums of log confusion entries give the
posterior of every task's class (and the log-likelihood); (2) per-(worker, label) sums of the
posteriors give the expected confusion counts. Both passes are one sparse matrix product with
the (tasks x (worker, label)) incidence matrix of the answers, built once per fit. On large data
the matrix is cut into two row blocks (views of its arrays) and the products and posteriors of
the blocks run on two threads (SciPy's sparse products and NumPy's ufuncs release the GIL); the
cut depends only on the data's size, so the result does not depend on the number of cores.

The M-steps add a pseudo-count to every count (a Dirichlet prior; MAP-EM, still monotone in the
penalised log-likelihood that the engine reports). Dawid-Skene's default is a tenth of an answer
per confusion row (``0.1 / n_classes`` per cell, :data:`PRIOR_ANSWERS`): without it a worker with
one or two answers gets confusion entries of exactly 0 and 1 at the maximum-likelihood fixed
point, and her answers then decide her tasks alone. Together with the default ``tol=1e-5`` per
answer (crowd-kit's default tolerance), this is what keeps emkit at or above crowd-kit on the
public sets (docs/crowd.md): crowd-kit gets there by stopping early (its convergence test is on a
non-monotone surrogate of the ELBO, which stops after 5 iterations on Venanzi et al.'s CF set),
emkit by the prior. One-coin Dawid-Skene keeps a pseudo-count of ``1e-10`` (one parameter per
worker does not overfit); ``smoothing_mode='clip'`` clips at 1e-10 as crowd-kit does.

Gold labels for some tasks (``true_labels``) clamp those tasks' posteriors to the known class
(crowd-kit issue #107); initial confusion matrices (``initial_error``, crowd-kit issue #112) start
EM from historical worker quality.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from emkit._sklearn_api import check_is_fitted
from emkit._validation import ARRAY, NONE, Constraint, interval, one_of
from emkit.crowd._base import STRING, CrowdEstimator, row_blocks, run_parallel
from emkit.crowd.io import Answers, read_answers, require_pandas, sort_by_task
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import DataError, ParameterError
from emkit.stats import Stats

#: crowd-kit's clipping threshold, and the pseudo-count of the one-coin model
CLIP = 1e-10
#: Dawid-Skene's default prior: pseudo-answers per confusion row, spread evenly over its cells
PRIOR_ANSWERS = 0.1

__all__ = [
    "DawidSkene",
    "DawidSkeneParams",
    "OneCoinDawidSkene",
    "OneCoinParams",
]


@dataclass(frozen=True)
class DawidSkeneParams:
    """Parameters of :class:`DawidSkene`.

    Attributes
    ----------
    prior : ndarray of shape (n_classes,)
        Class prior ``p_k``.
    confusion : ndarray of shape (n_workers, n_classes, n_classes)
        ``confusion[a, k, l] = P(worker a answers l | true class k)``; rows sum to 1.
    proba : ndarray of shape (n_tasks, n_classes)
        Posterior class probabilities of the tasks (from the latest E-step).
    """

    prior: np.ndarray
    confusion: np.ndarray
    proba: np.ndarray


@dataclass(frozen=True)
class OneCoinParams:
    """Parameters of :class:`OneCoinDawidSkene`.

    Attributes
    ----------
    prior : ndarray of shape (n_classes,)
    skill : ndarray of shape (n_workers,)
        Probability that each worker answers the true class.
    proba : ndarray of shape (n_tasks, n_classes)
    """

    prior: np.ndarray
    skill: np.ndarray
    proba: np.ndarray


def _labels_from_proba(proba: np.ndarray) -> np.ndarray:
    """Arg-max per row; ties go to the first (smallest) class."""
    return np.argmax(proba, axis=1)


class _CategoricalBase(CrowdEstimator[Any]):
    """Shared machinery of the Dawid-Skene family."""

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "smoothing": interval(float, 0.0, None, closed="neither") | NONE,
        "smoothing_mode": one_of({"pseudo-count", "clip"}),
        "init": one_of({"majority", "random"}),
        "classes": ARRAY | NONE,
        "task": STRING,
        "worker": STRING,
        "label": STRING,
    }

    smoothing: float | None
    smoothing_mode: str
    init: str
    classes: Any
    task: str
    worker: str
    label: str

    classes_: np.ndarray

    # -- data ---------------------------------------------------------------------------------
    def _read(self, X: Any, gold_map: Mapping[Any, Any]) -> Answers:
        if isinstance(X, _AnswerBox):  # handed over by fit: take it, so that only the codes
            answers = X.answers  # the model needs outlive _validate_data
            assert answers is not None
            X.answers = None
            return answers
        extra: list[Any] = [] if self.classes is None else list(self.classes)
        if gold_map:
            extra += list(gold_map.values())
        return read_answers(
            X,
            task=self.task,
            worker=self.worker,
            value=self.label,
            kind="label",
            classes=extra or None,
        )

    def _validate_data(
        self,
        X: Any,
        *,
        reset: bool,
        true_labels: Any = None,
        initial_error: Any = None,
        **unexpected: Any,
    ) -> tuple[np.ndarray, ...]:
        coded = self._split_coded(X)
        if coded is not None:  # a chunk of rows already coded by fit
            return coded
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        gold_map = _as_mapping(true_labels)
        answers = self._read(X, gold_map)
        assert answers.classes is not None
        if self.classes is not None:
            unknown = sorted(
                set(map(str, answers.classes.tolist())) - set(map(str, list(self.classes)))
            )
            if unknown:
                raise DataError(
                    f"labels {unknown[:5]} are not among classes={list(self.classes)!r}"
                )
        if reset:
            self.tasks_ = answers.tasks
            self.workers_ = answers.workers
            self.classes_ = answers.classes
            self._gold = _gold_codes(answers, gold_map)
            self._initial_error = self._check_initial_error(initial_error, answers)
        # one column per (worker, label) pair: the incidence matrix's column index
        k = len(answers.classes)
        dtype = np.int32 if answers.n_workers * k < 2**31 else np.int64
        pair = answers.worker.astype(dtype) * k + answers.value
        arrays = (answers.task, pair)
        self._fit_arrays = arrays
        return arrays

    def _check_initial_error(self, initial_error: Any, answers: Answers) -> np.ndarray | None:
        if initial_error is None:
            return None
        n_w, k = answers.n_workers, len(answers.classes)  # type: ignore[arg-type]
        if hasattr(initial_error, "index") and hasattr(initial_error, "columns"):
            return _error_frame_to_array(initial_error, answers)
        arr = np.asarray(initial_error, dtype=np.float64)
        if arr.shape != (n_w, k, k) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise DataError(
                f"initial_error must be non-negative counts or probabilities of shape "
                f"(n_workers, n_classes, n_classes) = {(n_w, k, k)} indexed [worker, true, "
                f"observed], or a crowd-kit DataFrame; got shape {arr.shape}"
            )
        return arr

    @property
    def _n_tasks(self) -> int:
        return len(self.tasks_)

    @property
    def _n_workers(self) -> int:
        return len(self.workers_)

    @property
    def _n_classes(self) -> int:
        return len(self.classes_)

    def _incidence(self, batch: Batch) -> _Incidence:
        """The chunk's (tasks x (worker, label)) weighted incidence matrix and its sums."""

        def build(b: Batch) -> _Incidence:
            task, pair = b.arrays
            shape = (self._n_tasks, self._n_workers * self._n_classes)
            weight = b.weight.astype(np.float64, copy=False)
            task_weight = np.bincount(task, weight, minlength=shape[0])
            pair_weight = np.bincount(pair, weight, minlength=shape[1])
            if task.size < 2 or not np.any(task[1:] < task[:-1]):
                # rows grouped by task (fit sorts them): the CSR matrix shares the chunk's
                # arrays, so it costs no memory beyond its row pointers
                indptr = np.zeros(shape[0] + 1, dtype=pair.dtype)
                np.cumsum(np.bincount(task, minlength=shape[0]), out=indptr[1:])
                matrix = sp.csr_matrix((weight, pair, indptr), shape=shape, copy=False)
            else:
                matrix = sp.csr_matrix((weight, (task, pair)), shape=shape)
            return _Incidence(
                matrix=matrix,
                blocks=_csr_row_blocks(matrix),
                task_weight=task_weight,
                pair_weight=pair_weight,
                weight=float(np.sum(weight)),
            )

        result: _Incidence = self._chunk_derived(batch, build)
        return result

    @property
    def _alpha(self) -> float:
        """The pseudo-count per cell in use (``smoothing``, or the model's default)."""
        if self.smoothing is not None:
            return float(self.smoothing)
        if self.smoothing_mode == "clip":
            return CLIP
        return self._default_smoothing()

    def _default_smoothing(self) -> float:
        return CLIP

    # -- model-specific hooks -------------------------------------------------------------------
    def _log_table(self, params: Any) -> np.ndarray:
        """``log P(label l | class k)`` of each worker as a ((worker, label), class) table."""
        raise NotImplementedError

    def _log_prior_penalty(self, params: Any) -> float:
        """``smoothing * sum(log parameters)``: the Dirichlet log prior (up to a constant)."""
        raise NotImplementedError

    def _params_from_counts(
        self, counts: np.ndarray, used: np.ndarray, prior: np.ndarray, proba: np.ndarray
    ) -> Any:
        """M-step from expected counts of shape (n_workers, n_labels, n_classes); ``used``
        (n_workers, n_labels) says which labels each worker gave."""
        raise NotImplementedError

    def _params_from_error(
        self, error: np.ndarray, used: np.ndarray, prior: np.ndarray, proba: np.ndarray
    ) -> Any:
        """Parameters from given confusion counts or probabilities (n_workers, K, K)."""
        raise NotImplementedError

    # -- engine hooks -----------------------------------------------------------------------
    def _prior_update(self, proba: np.ndarray, task_weight: np.ndarray) -> np.ndarray:
        active = task_weight > 0
        a = self._alpha if self.smoothing_mode == "pseudo-count" else 0.0
        # a column sum, not a BLAS product: (n, K) posteriors are (K, n) in memory
        mass = proba.sum(axis=0) if active.all() else proba[active].sum(axis=0)
        return (mass + a) / (active.sum() + a * self._n_classes)

    def _log_prior(self, prior: np.ndarray) -> np.ndarray:
        if self.smoothing_mode == "clip":
            prior = np.maximum(prior, self._alpha)
        with np.errstate(divide="ignore"):
            return np.log(prior)

    @property
    def monotone(self) -> bool:  # type: ignore[override]
        """Clipping counts (crowd-kit's M-step) is not an exact M-step: decreases are logged."""
        return self.smoothing_mode == "pseudo-count"

    def _clamp(self, proba: np.ndarray) -> np.ndarray:
        gold = self._gold
        if gold is None:
            return proba
        known = gold >= 0
        proba = proba.copy()
        proba[known] = 0.0
        proba[np.flatnonzero(known), gold[known]] = 1.0
        return proba

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> Any:
        k = self._n_classes
        inc = self._incidence(batch)
        matrix, task_weight, pair_weight = inc.matrix, inc.task_weight, inc.pair_weight
        if self.init == "majority":
            # votes per (task, label) through the incidence matrix: no per-answer temporaries
            selector = np.tile(np.eye(k), (self._n_workers, 1))  # (worker, label) -> label
            votes = np.asarray(matrix @ selector)
            total = votes.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                proba = np.where(total > 0, votes / np.where(total > 0, total, 1.0), 1.0 / k)
        else:
            proba = rng.dirichlet(np.ones(k), size=self._n_tasks)
        proba = self._clamp(proba)
        used = pair_weight.reshape(self._n_workers, k) > 0
        prior = self._prior_update(proba, task_weight)
        counts = np.asarray(matrix.T @ proba).reshape(self._n_workers, k, k)
        initial = self._initial_error
        if initial is not None:
            strategy = getattr(self, "initial_error_strategy", "assign")
            if strategy == "addition":
                counts = counts + initial.transpose(0, 2, 1)
            else:
                return self._params_from_error(initial, used, prior, proba)
        return self._params_from_counts(counts, used, prior, proba)

    def _log_joint(self, stats: Stats, params: Any, start: int, stop: int) -> np.ndarray:
        """``log p(labels_t, z_t = k)`` of the tasks ``start:stop`` (gold tasks clamped)."""
        log_joint = stats["L"][start:stop] + self._log_prior(params.prior)
        gold = self._gold
        if gold is not None:
            known = np.flatnonzero(gold[start:stop] >= 0)
            said = gold[start:stop][known]
            clamped = np.full((len(known), self._n_classes), -np.inf)
            clamped[np.arange(len(known)), said] = log_joint[known, said]
            log_joint[known] = clamped
        return log_joint

    def _posterior(self, stats: Stats, params: Any, ctx: StepContext) -> tuple[Any, ...]:
        def compute() -> tuple[np.ndarray, np.ndarray]:
            # row-wise, so blocks of tasks run on separate threads
            n = stats["L"].shape[0]
            blocks = row_blocks(n, n * self._n_classes)
            parts = run_parallel(
                lambda blk: ctx.posterior(self._log_joint(stats, params, *blk)), blocks
            )
            if len(parts) == 1:  # C order: the transposed sparse product reads it faster
                return np.ascontiguousarray(parts[0][0]), parts[0][1]
            return (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
            )

        result: tuple[Any, ...] = self._memoised(stats, params, ctx, compute)
        return result

    def e_step(self, batch: Batch, params: Any, ctx: StepContext) -> Stats:
        inc = self._incidence(batch)
        if ctx.pass_index == 0:
            # per-task sums of log confusion entries: one sparse product per row block
            log_lik = inc.task_sums(self._log_table(params))
            return Stats(weight=inc.weight, L=log_lik, tw=inc.task_weight)
        # expected confusion counts: the transposed products, summed over the row blocks
        counts = inc.pair_sums(params.proba)
        return Stats(weight=inc.weight, counts=counts, pw=inc.pair_weight)

    def objective(self, stats: Stats, params: Any, ctx: StepContext) -> float:
        log_norm = self._posterior(stats, params, ctx)[1]
        if self.smoothing_mode == "clip":
            return float(np.sum(log_norm))
        return float(np.sum(log_norm)) + self._log_prior_penalty(params)

    def m_step(self, stats: Stats, params: Any, ctx: StepContext) -> Any:
        if ctx.pass_index == 0:
            proba = self._posterior(stats, params, ctx)[0]
            prior = self._prior_update(proba, stats["tw"])
            return dataclasses.replace(params, prior=prior, proba=proba)
        k = self._n_classes
        counts = np.asarray(stats["counts"]).reshape(self._n_workers, k, k)
        used = np.asarray(stats["pw"]).reshape(self._n_workers, k) > 0
        return self._params_from_counts(counts, used, params.prior, params.proba)

    def _initial_params(self) -> Any:
        warm = super()._initial_params()
        if warm is not None and warm.proba.shape != (self._n_tasks, self._n_classes):
            raise ParameterError(
                f"warm start: the fitted parameters have shape {warm.proba.shape} of "
                f"(tasks, classes), the data {(self._n_tasks, self._n_classes)}"
            )
        return warm

    def _set_fitted(self, result: Any) -> None:
        # report the posteriors at the final parameters (the engine's last E-step)
        proba = self._posterior(result.final_stats, result.params, StepContext(hard=self.hard))[0]
        params = dataclasses.replace(result.params, proba=proba)
        super()._set_fitted(dataclasses.replace(result, params=params))

    def _fitted_state(self) -> dict[str, Any]:
        state = dict(super()._fitted_state())
        state["classes_"] = np.asarray(self.classes_).tolist()
        return state

    # -- crowd-kit compatible API -------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        true_labels: Any = None,
        initial_error: Any = None,
        **kwargs: Any,
    ) -> _CategoricalBase:
        """Fit by EM.

        Parameters
        ----------
        X : DataFrame, path-like or array-like of shape (n_answers, 3)
            Long-format answers: columns ``task``, ``worker``, ``label`` (names set by the
            estimator's parameters), a CSV/TSV/Parquet file with them, or an array of ids.
        y : mapping or pandas Series, optional
            Same as ``true_labels`` (crowd-kit passes gold labels second).
        sample_weight : array-like of shape (n_answers,), optional
            Weight of each answer (an integer weight counts the answer that many times).
        true_labels : mapping or pandas Series, optional
            Known classes of some tasks (task id -> label); their posteriors are clamped.
        initial_error : ndarray or DataFrame, optional
            Initial confusion matrices: an array (n_workers, n_classes, n_classes) indexed
            [worker, true, observed] in the order of ``workers_``/``classes_``, or crowd-kit's
            DataFrame indexed by (worker, label) with one column per true label.
        **kwargs
            ``callbacks`` and ``executor``, as for every emkit estimator.
        """
        if y is not None and true_labels is not None:
            raise ParameterError("give gold labels as y or as true_labels, not both")
        gold = true_labels if true_labels is not None else y
        extra: dict[str, Any] = {}
        if gold is not None:
            extra["true_labels"] = gold
        if initial_error is not None:
            extra["initial_error"] = initial_error
        # rows grouped by task let the incidence matrix share the answers' memory
        answers, sample_weight = sort_by_task(self._read(X, _as_mapping(gold)), sample_weight)
        box = _AnswerBox(answers)
        del answers
        super().fit(box, None, sample_weight, **kwargs, **extra)
        return self

    def fit_predict(self, X: Any, true_labels: Any = None, initial_error: Any = None) -> Any:
        """Fit and return the most probable class per task (a pandas Series by task id)."""
        return self.fit(X, true_labels=true_labels, initial_error=initial_error).labels_

    def fit_predict_proba(self, X: Any, true_labels: Any = None, initial_error: Any = None) -> Any:
        """Fit and return the class posteriors per task (a DataFrame: tasks x classes)."""
        return self.fit(X, true_labels=true_labels, initial_error=initial_error).probas_

    @property
    def probas_(self) -> Any:
        """Posterior class probabilities: DataFrame indexed by task, one column per class."""
        check_is_fitted(self, "params_")
        pd = require_pandas()
        return pd.DataFrame(
            self.proba_,
            index=pd.Index(self.tasks_, name="task"),
            columns=pd.Index(self.classes_, name="label"),
        )

    @property
    def labels_(self) -> Any:
        """Most probable class per task (ties: the first class): Series indexed by task."""
        check_is_fitted(self, "params_")
        pd = require_pandas()
        classes = np.asarray(self.classes_)
        return pd.Series(
            classes[_labels_from_proba(self.proba_)],
            index=pd.Index(self.tasks_, name="task"),
            name="agg_label",
        )

    @property
    def priors_(self) -> Any:
        """Class prior: Series indexed by class."""
        check_is_fitted(self, "params_")
        pd = require_pandas()
        return pd.Series(self.prior_, index=pd.Index(self.classes_, name="label"), name="prior")

    def _confusion(self) -> np.ndarray:
        return np.asarray(self.confusion_)

    @property
    def errors_(self) -> Any:
        """Confusion matrices as crowd-kit lays them out.

        A DataFrame indexed by (worker, observed label), one column per true label:
        ``errors_.loc[(worker, observed), true] = P(observed | true)``.
        """
        check_is_fitted(self, "params_")
        pd = require_pandas()
        conf = self._confusion()  # (worker, true, observed)
        n_w, k, _ = conf.shape
        index = pd.MultiIndex.from_product(
            [pd.Index(self.workers_), pd.Index(self.classes_)], names=["worker", "label"]
        )
        return pd.DataFrame(
            conf.transpose(0, 2, 1).reshape(n_w * k, k),
            index=index,
            columns=pd.Index(self.classes_, name="label"),
        )


class DawidSkene(_CategoricalBase):
    """Dawid-Skene: a full confusion matrix per worker, fitted by EM on crowd labels.

    Parameters
    ----------
    smoothing : float, optional
        Pseudo-count added to every class count and to every cell of every confusion matrix
        (a symmetric Dirichlet prior, MAP-EM). Default ``0.1 / n_classes``: a tenth of an
        answer per confusion row (module docstring).
    smoothing_mode : {'pseudo-count', 'clip'}, default='pseudo-count'
        'clip' raises counts of the labels each worker gave below ``smoothing`` (default
        1e-10) to it instead, as crowd-kit does: this reproduces crowd-kit's iterates to
        round-off, but it is not
        an exact M-step, so the engine only logs (does not raise on) a tiny decrease.
    init : {'majority', 'random'}, default='majority'
        Start from (weighted) majority-vote fractions, as crowd-kit does, or from random
        posteriors (use with ``n_init > 1``).
    initial_error_strategy : {'assign', 'addition'}, default='assign'
        With ``initial_error`` given to ``fit``: start from those matrices ('assign'), or add
        them as counts to the ones estimated from the majority vote ('addition').
    classes : sequence, optional
        All possible labels, including ones nobody gave. Default: the labels in the data.
    task, worker, label : str, default 'task', 'worker', 'label'
        Column names of the answers.
    max_iter : int, default=100
        Maximum number of EM iterations (first positional, like crowd-kit's ``n_iter``, so
        ``DawidSkene(100)`` works in both).
    tol : float, default=1e-5
        Stop when the log-likelihood per answer changes by less than ``tol``.
    n_init : int, default=1
    hard : bool, default=False
        Hard EM: each task takes its most probable class in every iteration.
    random_state : int, RandomState or None
    warm_start : bool, default=False

    Attributes
    ----------
    proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior class probabilities (numpy); ``probas_`` is the same as a DataFrame.
    prior_ : ndarray of shape (n_classes,)
    confusion_ : ndarray of shape (n_workers, n_classes, n_classes)
        ``confusion_[a, k, l] = P(worker a says l | true class k)``; ``errors_`` is crowd-kit's
        DataFrame layout of the same numbers.
    labels_ : pandas Series
        Most probable class per task.
    tasks_, workers_, classes_ : ndarray
        Ids of the tasks, workers and classes, in the order of the arrays above.

    Examples
    --------
    >>> import pandas as pd
    >>> from emkit.crowd import DawidSkene
    >>> df = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": list("abcabc"),
    ...                    "label": ["y", "y", "n", "n", "n", "n"]})
    >>> DawidSkene().fit_predict(df).tolist()
    ['y', 'n']
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "initial_error_strategy": one_of({"assign", "addition"}),
    }

    params_type = DawidSkeneParams

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-5,
        *,
        smoothing: float | None = None,
        smoothing_mode: str = "pseudo-count",
        init: str = "majority",
        initial_error_strategy: str = "assign",
        classes: Any = None,
        task: str = "task",
        worker: str = "worker",
        label: str = "label",
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.smoothing = smoothing
        self.smoothing_mode = smoothing_mode
        self.init = init
        self.initial_error_strategy = initial_error_strategy
        self.classes = classes
        self.task = task
        self.worker = worker
        self.label = label
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    def _default_smoothing(self) -> float:
        return PRIOR_ANSWERS / self._n_classes

    def _log_table(self, params: DawidSkeneParams) -> np.ndarray:
        n_w, k, _ = params.confusion.shape
        with np.errstate(divide="ignore"):
            return np.log(params.confusion).transpose(0, 2, 1).reshape(n_w * k, k)

    def _log_prior_penalty(self, params: DawidSkeneParams) -> float:
        conf = params.confusion
        return self._alpha * float(np.sum(np.log(conf[conf > 0])) + np.sum(np.log(params.prior)))

    def _params_from_counts(
        self, counts: np.ndarray, used: np.ndarray, prior: np.ndarray, proba: np.ndarray
    ) -> DawidSkeneParams:
        # counts[a, l, k]: expected number of answers l by worker a on tasks of class k.
        by_class = counts.transpose(0, 2, 1)  # (worker, true, observed)
        if self.smoothing_mode == "clip":
            # crowd-kit's convention: only the labels each worker gave are clipped; a class
            # she never met spreads over her own labels, the others keep probability 0
            given = np.where(used.any(axis=1, keepdims=True), used, True)[:, None, :]
            by_class = np.where(given, np.maximum(by_class, self._alpha), 0.0)
        else:  # a symmetric Dirichlet prior on every row
            by_class = by_class + self._alpha
        confusion = by_class / by_class.sum(axis=2, keepdims=True)
        return DawidSkeneParams(prior=prior, confusion=confusion, proba=proba)

    def _params_from_error(
        self, error: np.ndarray, used: np.ndarray, prior: np.ndarray, proba: np.ndarray
    ) -> DawidSkeneParams:
        # given matrices are used as they are (normalised; no prior), as crowd-kit's 'assign'
        by_class = error + CLIP
        confusion = by_class / by_class.sum(axis=2, keepdims=True)
        return DawidSkeneParams(prior=prior, confusion=confusion, proba=proba)


class OneCoinDawidSkene(_CategoricalBase):
    """One-coin Dawid-Skene: one accuracy per worker; errors spread evenly over other classes.

    Parameters and attributes as :class:`DawidSkene`, except:

    Attributes
    ----------
    skill_ : ndarray of shape (n_workers,)
        Probability that each worker gives the true class; ``skills_`` is the same as a pandas
        Series by worker id. ``confusion_`` and ``errors_`` are the implied confusion matrices.
    """

    params_type = OneCoinParams

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-7,
        *,
        smoothing: float = 1e-10,
        smoothing_mode: str = "pseudo-count",
        init: str = "majority",
        classes: Any = None,
        task: str = "task",
        worker: str = "worker",
        label: str = "label",
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.smoothing = smoothing
        self.smoothing_mode = smoothing_mode
        self.init = init
        self.classes = classes
        self.task = task
        self.worker = worker
        self.label = label
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    def _log_skill(self, skill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self._n_classes
        s = np.clip(skill, 0.0, 1.0 - np.finfo(np.float64).eps)
        with np.errstate(divide="ignore"):
            return np.log(s), np.log1p(-s) - np.log(max(k - 1, 1))

    def _log_table(self, params: OneCoinParams) -> np.ndarray:
        k = self._n_classes
        log_right, log_wrong = self._log_skill(params.skill)
        table = np.repeat(log_wrong[:, None, None], k, axis=1).repeat(k, axis=2)
        diag = np.arange(k)
        table[:, diag, diag] = log_right[:, None]
        return table.reshape(-1, k)

    def _log_prior_penalty(self, params: OneCoinParams) -> float:
        log_right, log_wrong = self._log_skill(params.skill)
        k = self._n_classes
        with np.errstate(divide="ignore"):
            return self._alpha * float(
                np.sum(log_right + log_wrong + np.log(max(k - 1, 1))) + np.sum(np.log(params.prior))
            )

    def _params_from_counts(
        self, counts: np.ndarray, used: np.ndarray, prior: np.ndarray, proba: np.ndarray
    ) -> OneCoinParams:
        a = self._alpha
        right = np.trace(counts, axis1=1, axis2=2)
        total = counts.sum(axis=(1, 2))
        wrong = np.maximum(total - right, 0.0)
        if self.smoothing_mode == "clip":
            with np.errstate(invalid="ignore", divide="ignore"):
                skill = np.clip(right / np.where(total > 0, total, 1.0), a, 1.0 - a)
        else:
            skill = (right + a) / (right + wrong + 2 * a)
        return OneCoinParams(prior=prior, skill=skill, proba=proba)

    def _params_from_error(
        self, error: np.ndarray, used: np.ndarray, prior: np.ndarray, proba: np.ndarray
    ) -> OneCoinParams:
        conf = error / error.sum(axis=2, keepdims=True)
        skill = np.einsum("akk->a", conf) / conf.shape[1]
        return OneCoinParams(prior=prior, skill=skill, proba=proba)

    def _confusion(self) -> np.ndarray:
        return np.exp(
            self._log_table(self.params_).reshape(-1, self._n_classes, self._n_classes)
        ).transpose(0, 2, 1)

    @property
    def confusion_(self) -> np.ndarray:
        """Implied confusion matrices (n_workers, n_classes, n_classes) [worker, true, said]."""
        check_is_fitted(self, "params_")
        return self._confusion()

    @property
    def skills_(self) -> Any:
        """Worker accuracies as a pandas Series by worker id."""
        check_is_fitted(self, "params_")
        pd = require_pandas()
        return pd.Series(self.skill_, index=pd.Index(self.workers_, name="worker"), name="skill")


# -- helpers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Incidence:
    """A chunk's incidence matrix, cut into row blocks that share its memory, and its sums."""

    matrix: sp.csr_matrix
    blocks: list[tuple[int, int, sp.csr_matrix]]
    task_weight: np.ndarray
    pair_weight: np.ndarray
    weight: float

    def task_sums(self, table: np.ndarray) -> np.ndarray:
        """``matrix @ table``, (tasks, K): one sparse product per row block, in threads."""
        parts = run_parallel(lambda blk: blk[2] @ table, self.blocks)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def pair_sums(self, proba: np.ndarray) -> np.ndarray:
        """``matrix.T @ proba``, ((worker, label), K): the row blocks' products, summed."""
        parts = run_parallel(lambda blk: blk[2].T @ proba[blk[0] : blk[1]], self.blocks)
        counts = parts[0]
        for part in parts[1:]:
            counts = counts + part
        return counts


def _csr_row_blocks(matrix: sp.csr_matrix) -> list[tuple[int, int, sp.csr_matrix]]:
    """``(start, stop, rows start:stop)`` blocks of a CSR matrix, as views of its arrays."""
    indptr = matrix.indptr
    blocks = []
    for start, stop in row_blocks(matrix.shape[0], matrix.nnz):
        lo, hi = int(indptr[start]), int(indptr[stop])
        block = sp.csr_matrix(
            (matrix.data[lo:hi], matrix.indices[lo:hi], indptr[start : stop + 1] - lo),
            shape=(stop - start, matrix.shape[1]),
            copy=False,
        )
        blocks.append((start, stop, block))
    return blocks


class _AnswerBox:
    """Answers handed from ``fit`` to ``_validate_data``, which empties the box."""

    def __init__(self, answers: Answers) -> None:
        self.answers: Answers | None = answers


def _as_mapping(true_labels: Any) -> dict[Any, Any]:
    if true_labels is None:
        return {}
    if hasattr(true_labels, "to_dict") and hasattr(true_labels, "index"):
        return dict(true_labels.to_dict())
    if isinstance(true_labels, Mapping):
        return dict(true_labels)
    raise DataError(
        "true_labels must be a mapping or a pandas Series from task id to label, got "
        f"{type(true_labels).__name__}"
    )


def _gold_codes(answers: Answers, gold: Mapping[Any, Any]) -> np.ndarray | None:
    """Class code of each task's gold label, -1 where unknown (gold tasks not in the data are
    ignored, as in crowd-kit)."""
    if not gold:
        return None
    assert answers.classes is not None
    task_pos = {t: i for i, t in enumerate(answers.tasks.tolist())}
    class_pos = {c: i for i, c in enumerate(answers.classes.tolist())}
    codes = np.full(answers.n_tasks, -1, dtype=np.int64)
    for t, label in gold.items():
        i = task_pos.get(t)
        if i is not None:
            codes[i] = class_pos[label]
    return codes


def _error_frame_to_array(frame: Any, answers: Answers) -> np.ndarray:
    """crowd-kit's initial_error DataFrame (index (worker, label), columns true) -> array."""
    assert answers.classes is not None
    k = len(answers.classes)
    worker_pos = {w: i for i, w in enumerate(answers.workers.tolist())}
    class_pos = {c: i for i, c in enumerate(answers.classes.tolist())}
    arr = np.zeros((answers.n_workers, k, k))
    seen = np.zeros(answers.n_workers, dtype=bool)
    try:
        for (worker, observed), row in frame.iterrows():
            a = worker_pos.get(worker)
            if a is None:
                continue
            seen[a] = True
            for true, value in row.items():
                arr[a, class_pos[true], class_pos[observed]] = float(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            "initial_error must be indexed by (worker, label) with one column per true label "
            f"among {answers.classes.tolist()}: {exc}"
        ) from exc
    if not np.all(seen):
        missing = answers.workers[~seen][:5].tolist()
        raise DataError(f"initial_error has no matrix for workers {missing}")
    return arr
