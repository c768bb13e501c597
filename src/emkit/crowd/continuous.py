r"""Continuous scores from annotators of unknown reliability: the course's good/bad model and kin.

Annotator ``a`` scores task (image) ``i``; the answer is ``s_ia``. In the course model each
annotator is *good* with probability ``pi`` (hidden flag ``z_a``, one per annotator):

.. math::

    s_{ia} \mid z_a = \text{good} &\sim \mathcal N(\mu_i, \sigma^2) \\
    s_{ia} \mid z_a = \text{bad}  &\sim \mathcal U[\text{low}, \text{high}]

and EM finds whom to trust and each task's true score ``mu_i``. The variants real data needs:

- ``noise='worker'``: each annotator has her own noise ``sigma_a`` (Raykar et al., 2010, JMLR
  11:1297-1322, section 3 for continuous labels);
- ``bias=True``: each annotator adds her own offset, ``s_ia ~ N(mu_i + b_a, sigma_a^2)``
  (biases are centred so that good annotators' mean bias, weighted by answers, is 0);
- ``mixture=False``: no bad annotators (every ``z_a`` is good).

The likelihood is a product over annotators of a two-component mixture whose components are
products over that annotator's answers, so it is computed in log space from per-annotator sums:
``log p = sum_a logsumexp(log pi + L_good(a), log(1 - pi) + L_bad(a))``. Nothing is multiplied
in linear space, so a million tasks do not underflow.

One iteration is two map-reduce passes (expectation-conditional-maximisation, Meng & Rubin
1993, which keeps EM's monotonicity):

1. per-annotator sums of weighted residuals ``r = s - mu_i - b_a`` and their squares give
   ``L_good``, ``L_bad`` and hence ``P(good | data)`` for every annotator; then ``pi``, the
   biases and the noise are re-estimated with ``mu`` fixed;
2. per-task sums of precision-weighted answers ``P(good_a) (s - b_a) / sigma_a^2`` give the new
   ``mu_i`` (a precision-weighted mean of the answers of the annotators believed good).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emkit._validation import BOOL, NONE, Constraint, check_sample_weight, interval, one_of
from emkit.crowd._base import STRING, CrowdEstimator
from emkit.crowd.io import read_answers, require_pandas
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import DataError, ParameterError
from emkit.executors import Executor
from emkit.stats import Stats

__all__ = ["AnnotatorParams", "ContinuousAnnotators"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class AnnotatorParams:
    """Parameters of :class:`ContinuousAnnotators`.

    Attributes
    ----------
    mu : ndarray of shape (n_tasks,)
        True score of each task.
    sigma : ndarray of shape () or (n_workers,)
        Noise standard deviation of good annotators: shared (0-d) or one per annotator.
    bias : ndarray of shape (n_workers,)
        Additive bias of each annotator (zeros without ``bias=True``).
    pi : ndarray of shape ()
        Prior probability that an annotator is good (1 without the mixture).
    p_good : ndarray of shape (n_workers,)
        Posterior probability that each annotator is good.
    """

    mu: np.ndarray
    sigma: np.ndarray
    bias: np.ndarray
    pi: np.ndarray
    p_good: np.ndarray


class ContinuousAnnotators(CrowdEstimator[AnnotatorParams]):
    """Aggregate continuous scores of annotators, some of whom answer at random.

    Parameters
    ----------
    mixture : bool, default=True
        Model bad annotators who answer uniformly on ``[low, high]`` (the course model). False
        treats every annotator as good (with ``noise='worker'`` this is Raykar et al.'s model).
    noise : {'shared', 'worker'}, default='shared'
        One noise ``sigma`` for all good annotators (the course model) or one per annotator.
    bias : bool, default=False
        Give each annotator an additive bias ``b_a``.
    low, high : float, optional
        Range of the scores for the uniform "bad" density; taken from the data when None.
        Every score must lie inside.
    min_sigma : float, optional
        Lower bound on every ``sigma``: a good annotator who is alone on her tasks would
        otherwise reach ``sigma = 0`` and an infinite likelihood. Default ``1e-6 * (high -
        low)``.
    sigma_prior : float, default=10.0
        With ``noise='worker'``: strength (in pseudo-answers ``nu``) of an inverse-gamma prior
        on each ``sigma_a^2`` with scale ``sigma_prior_scale``; the M-step becomes
        ``sigma_a^2 = (P(good_a) RSS_a + nu s0^2) / (P(good_a) n_a + nu + 2)`` (MAP-EM).
        Without it the likelihood is unbounded: an annotator whose answers alone set the true
        scores reaches ``sigma_a -> 0``. 0 gives maximum likelihood.
    sigma_prior_scale : float, optional
        The prior's typical noise ``s0``; default: the root mean square deviation of the
        answers from their task's median.
    init : {'median', 'mean', 'random'}, default='median'
        Starting true scores: each task's (weighted) median or mean answer, or a mean with
        random weights per annotator (use with ``n_init > 1``).
    task, worker, score : str, default 'task', 'worker', 'score'
        Column names when ``X`` is a DataFrame or a file.
    tol : float, default=1e-8
        Stop when the log-likelihood per answer changes by less than ``tol``.
    max_iter : int, default=500
    n_init : int, default=1
    hard : bool, default=False
        Hard EM: each annotator is classified as good or bad in every iteration.
    random_state : int, RandomState or None
    warm_start : bool, default=False

    Attributes
    ----------
    mu_ : ndarray of shape (n_tasks,)
        Estimated true score of each task (in the order of ``tasks_``).
    std_error_ : ndarray of shape (n_tasks,)
        Standard error of ``mu_``: ``(sum_a P(good_a) / sigma_a^2)^(-1/2)`` over the task's
        answers (inf for a task no good annotator scored).
    p_good_ : ndarray of shape (n_workers,)
        Posterior probability that each annotator is good.
    sigma_ : ndarray of shape () or (n_workers,)
    bias_ : ndarray of shape (n_workers,)
    pi_ : ndarray of shape ()
    low_, high_ : float
        The score range used.
    tasks_, workers_ : ndarray
        The ids of the tasks and annotators.
    log_likelihood_history_, n_iter_, converged_, log_likelihood_
        See :class:`~emkit.base.EMEstimator` (with ``noise='worker'`` the objective includes
        the log prior of the noise; ``data_log_likelihood_`` is the likelihood alone).

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.crowd import ContinuousAnnotators
    >>> from emkit.crowd.datasets import course_demo
    >>> answers, truth, good = course_demo(random_state=0)
    >>> m = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    >>> np.flatnonzero(m.p_good_ > 0.9).tolist()
    [0, 1, 3]
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "mixture": BOOL,
        "noise": one_of({"shared", "worker"}),
        "bias": BOOL,
        "low": interval(float, None, None) | NONE,
        "high": interval(float, None, None) | NONE,
        "min_sigma": interval(float, 0.0, None, closed="neither") | NONE,
        "sigma_prior": interval(float, 0.0, None),
        "sigma_prior_scale": interval(float, 0.0, None, closed="neither") | NONE,
        "init": one_of({"median", "mean", "random"}),
        "task": STRING,
        "worker": STRING,
        "score": STRING,
    }

    params_type = AnnotatorParams

    def __init__(
        self,
        *,
        mixture: bool = True,
        noise: str = "shared",
        bias: bool = False,
        low: float | None = None,
        high: float | None = None,
        min_sigma: float | None = None,
        sigma_prior: float = 10.0,
        sigma_prior_scale: float | None = None,
        init: str = "median",
        task: str = "task",
        worker: str = "worker",
        score: str = "score",
        tol: float = 1e-8,
        max_iter: int = 500,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.mixture = mixture
        self.noise = noise
        self.bias = bias
        self.low = low
        self.high = high
        self.min_sigma = min_sigma
        self.sigma_prior = sigma_prior
        self.sigma_prior_scale = sigma_prior_scale
        self.init = init
        self.task = task
        self.worker = worker
        self.score = score
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    # -- data -----------------------------------------------------------------------------
    def _validate_data(self, X: Any, *, reset: bool, **fit_data: Any) -> tuple[np.ndarray, ...]:
        coded = self._split_coded(X)
        if coded is not None:  # a chunk of rows already coded by fit
            return coded
        if fit_data:
            raise TypeError(f"unexpected data arguments {sorted(fit_data)}")
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ParameterError(f"high must exceed low, got low={self.low}, high={self.high}")
        answers = read_answers(
            X, task=self.task, worker=self.worker, value=self.score, kind="score"
        )
        scores = answers.value
        lo = float(np.min(scores)) if self.low is None else float(self.low)
        hi = float(np.max(scores)) if self.high is None else float(self.high)
        if self.mixture:
            if not hi > lo:
                raise DataError(
                    f"the score range [low, high] = [{lo}, {hi}] is empty: the uniform density "
                    "of bad annotators needs high > low (set low= and high=)"
                )
            outside = (scores < lo) | (scores > hi)
            if np.any(outside):
                row = int(np.flatnonzero(outside)[0])
                raise DataError(
                    f"score {scores[row]!r} at row {row} lies outside [low, high] = [{lo}, {hi}]"
                )
        if reset:
            self.tasks_ = answers.tasks
            self.workers_ = answers.workers
            self.low_ = lo
            self.high_ = hi
            spread = hi - lo if hi > lo else float(np.std(scores)) or 1.0
            self._sigma_floor = float(self.min_sigma) if self.min_sigma else 1e-6 * spread
            if self.sigma_prior_scale:
                scale2 = float(self.sigma_prior_scale) ** 2
            elif self.noise != "worker" or self.sigma_prior <= 0:
                scale2 = 0.0  # no prior on a shared sigma
            else:  # the answers' pooled variance around each task's median
                w = check_sample_weight(
                    getattr(self, "_fit_sample_weight", None), len(scores), np.float64
                )
                med = _weighted_median(answers.task, scores, w, answers.n_tasks)
                scale2 = float(np.dot(w, (scores - med[answers.task]) ** 2) / w.sum())
                scale2 = max(scale2, self._sigma_floor**2)
            self._prior_ss = float(self.sigma_prior) * scale2
            self._n_tasks = answers.n_tasks
            self._n_workers = answers.n_workers
        arrays = (answers.task, answers.worker, scores)
        self._fit_arrays = arrays
        return arrays

    def _check_params(self) -> None:
        super()._check_params()
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ParameterError(f"high must exceed low, got low={self.low}, high={self.high}")

    def _initial_params(self) -> AnnotatorParams | None:
        warm = super()._initial_params()
        if warm is not None and (
            warm.mu.shape != (self._n_tasks,) or warm.bias.shape != (self._n_workers,)
        ):
            raise ParameterError(
                "warm start: the fitted parameters have "
                f"{warm.mu.shape[0]} tasks and {warm.bias.shape[0]} workers, the data "
                f"{self._n_tasks} and {self._n_workers}"
            )
        return warm

    # -- helpers ----------------------------------------------------------------------------
    def _worker_sigma(self, params: AnnotatorParams) -> np.ndarray:
        return np.broadcast_to(params.sigma, (self._n_workers,))

    def _log_joint(self, stats: Stats, params: AnnotatorParams) -> np.ndarray:
        """Per-annotator ``log p(answers_a, z_a)`` for z = good, bad: shape (n_workers, 2)."""
        n, s2 = stats["n"], stats["s2"]
        var = self._worker_sigma(params) ** 2
        log_good = -0.5 * n * (_LOG_2PI + np.log(var)) - 0.5 * s2 / var
        if not self.mixture:
            return log_good[:, None]
        log_bad = -n * np.log(self.high_ - self.low_)
        pi = float(params.pi)
        with np.errstate(divide="ignore"):
            return np.column_stack([np.log(pi) + log_good, np.log1p(-pi) + log_bad])

    def _posterior(
        self, stats: Stats, params: AnnotatorParams, ctx: StepContext
    ) -> tuple[np.ndarray, np.ndarray]:
        def compute() -> tuple[np.ndarray, np.ndarray]:
            resp, log_norm = ctx.posterior(self._log_joint(stats, params))
            return resp[:, 0], log_norm

        result: tuple[np.ndarray, np.ndarray] = self._memoised(stats, params, ctx, compute)
        return result

    # -- engine hooks ---------------------------------------------------------------------
    def init_params(self, batch: Batch, rng: np.random.RandomState) -> AnnotatorParams:
        task, worker, s = batch.arrays
        w = batch.weight
        n_tasks, n_workers = self._n_tasks, self._n_workers
        if self.init == "median":
            mu = _weighted_median(task, s, w, n_tasks)
        else:
            u = np.ones(n_workers) if self.init == "mean" else rng.uniform(0.05, 1.0, n_workers)
            uw = u[worker] * w
            total = np.bincount(task, uw, minlength=n_tasks)
            with np.errstate(invalid="ignore", divide="ignore"):
                mu = np.bincount(task, uw * s, minlength=n_tasks) / total
            mu = np.where(total > 0, mu, np.average(s, weights=w) if w.sum() > 0 else 0.0)
        resid2 = w * (s - mu[task]) ** 2
        n = np.bincount(worker, w, minlength=n_workers)
        floor = self._sigma_floor
        if self.noise == "shared":
            sigma = np.asarray(max(np.sqrt(resid2.sum() / max(n.sum(), 1e-300)), floor))
        else:
            ss = np.bincount(worker, resid2, minlength=n_workers)
            with np.errstate(invalid="ignore", divide="ignore"):
                sigma = np.sqrt(np.where(n > 0, ss / n, 1.0))
            sigma = np.maximum(sigma, floor)
        pi = np.asarray(0.5 if self.mixture else 1.0)
        return AnnotatorParams(
            mu=mu,
            sigma=sigma,
            bias=np.zeros(n_workers),
            pi=pi,
            p_good=np.full(n_workers, float(pi)),
        )

    def e_step(self, batch: Batch, params: AnnotatorParams, ctx: StepContext) -> Stats:
        task, worker, s = batch.arrays
        w = batch.weight
        n_workers = self._n_workers
        weight = float(np.sum(w, dtype=np.float64))
        n = np.bincount(worker, w, minlength=n_workers)
        if ctx.pass_index == 0:
            r = s - params.mu[task]
            if self.bias:
                r -= params.bias[worker]
            wr = w * r
            return Stats(
                weight=weight,
                n=n,
                s1=np.bincount(worker, wr, minlength=n_workers),
                s2=np.bincount(worker, wr * r, minlength=n_workers),
            )
        precision = params.p_good / self._worker_sigma(params) ** 2
        pw = precision[worker] * w
        target = s - params.bias[worker] if self.bias else s
        return Stats(
            weight=weight,
            n=n,
            a=np.bincount(task, pw, minlength=self._n_tasks),
            b=np.bincount(task, pw * target, minlength=self._n_tasks),
        )

    def objective(self, stats: Stats, params: AnnotatorParams, ctx: StepContext) -> float:
        value = float(np.sum(self._posterior(stats, params, ctx)[1]))
        return value + self._log_sigma_prior(params)

    def _log_sigma_prior(self, params: AnnotatorParams) -> float:
        """Inverse-gamma(nu / 2, nu s0^2 / 2) log prior of every sigma_a^2 (up to a constant)."""
        if self.noise != "worker" or self.sigma_prior <= 0:
            return 0.0
        var = np.asarray(params.sigma) ** 2
        return -float(
            np.sum((0.5 * self.sigma_prior + 1.0) * np.log(var) + 0.5 * self._prior_ss / var)
        )

    def m_step(self, stats: Stats, params: AnnotatorParams, ctx: StepContext) -> AnnotatorParams:
        if ctx.pass_index == 0:
            return self._m_step_workers(stats, params, ctx)
        return self._m_step_tasks(stats, params)

    def _m_step_workers(
        self, stats: Stats, params: AnnotatorParams, ctx: StepContext
    ) -> AnnotatorParams:
        n, s1, s2 = stats["n"], stats["s1"], stats["s2"]
        active = n > 0
        p_good = self._posterior(stats, params, ctx)[0] if self.mixture else np.ones_like(n)
        pi = params.pi
        if self.mixture and np.any(active):
            pi = np.asarray(np.mean(p_good[active]))
        bias = params.bias
        ss = s2
        if self.bias:
            # b_a maximises sum_rows log N(s | mu + b_a, sigma_a^2) whatever sigma_a and P(good)
            delta = np.where(active, s1 / np.where(active, n, 1.0), 0.0)
            bias = params.bias + delta
            ss = np.maximum(s2 - delta * s1, 0.0)  # residual sum of squares at the new bias
        floor = self._sigma_floor
        if self.noise == "shared":
            mass = float(np.dot(p_good, n))
            sigma = params.sigma
            if mass > 0:
                sigma = np.asarray(max(np.sqrt(float(np.dot(p_good, ss)) / mass), floor))
        else:
            nu = self.sigma_prior
            if nu > 0:  # MAP under the inverse-gamma prior: never collapses to 0
                sigma = np.sqrt((p_good * ss + self._prior_ss) / (p_good * n + nu + 2.0))
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    sigma = np.where(active, np.sqrt(ss / np.where(active, n, 1.0)), params.sigma)
            sigma = np.maximum(sigma, floor)
        return AnnotatorParams(mu=params.mu, sigma=sigma, bias=bias, pi=pi, p_good=p_good)

    def _m_step_tasks(self, stats: Stats, params: AnnotatorParams) -> AnnotatorParams:
        a, b = stats["a"], stats["b"]
        scored = a > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.where(scored, b / np.where(scored, a, 1.0), params.mu)
        bias = params.bias
        if self.bias:
            # mu_i + b_a is all the likelihood sees: shift both so that the good annotators'
            # answer-weighted mean bias is 0 (the log-likelihood does not change)
            mass = params.p_good * stats["n"]
            if mass.sum() > 0:
                shift = float(np.dot(mass, bias) / mass.sum())
                bias = bias - shift
                mu = mu + shift
        return dataclasses.replace(params, mu=mu, bias=bias)

    # -- outputs ----------------------------------------------------------------------------
    def _set_fitted(self, result: Any) -> None:
        params = result.params
        ctx = StepContext(hard=self.hard)
        if self.mixture:
            p_good = self._posterior(result.final_stats, params, ctx)[0]
            result = dataclasses.replace(result, params=dataclasses.replace(params, p_good=p_good))
        super()._set_fitted(result)
        self.data_log_likelihood_ = self.log_likelihood_ - self._log_sigma_prior(result.params)

    def _finish_fit(self, sample_weight: Any, executor: Executor | None) -> None:
        stats = self._final_pass(sample_weight, 1, self.params_)
        with np.errstate(divide="ignore"):
            self.std_error_ = 1.0 / np.sqrt(stats["a"])

    def task_estimates(self) -> Any:
        """Estimated true score and standard error per task, as a pandas DataFrame."""
        pd = require_pandas()
        return pd.DataFrame(
            {
                self.task: self.tasks_,
                "estimate": self.mu_,
                "std_error": self.std_error_,
            }
        )

    def worker_report(self) -> Any:
        """P(good), noise and bias per annotator, as a pandas DataFrame."""
        pd = require_pandas()
        return pd.DataFrame(
            {
                self.worker: self.workers_,
                "p_good": self.p_good_,
                "sigma": np.broadcast_to(self.sigma_, (len(self.workers_),)),
                "bias": self.bias_,
            }
        )

    def fit_predict(self, X: Any, y: Any = None, **fit_kw: Any) -> Any:
        """Fit, then return the estimated true score per task (a pandas Series by task id)."""
        self.fit(X, y, **fit_kw)
        pd = require_pandas()
        return pd.Series(self.mu_, index=pd.Index(self.tasks_, name=self.task), name="score")

    def _fitted_state(self) -> dict[str, Any]:
        state = dict(super()._fitted_state())
        state.update(
            low_=self.low_,
            high_=self.high_,
            std_error_=np.asarray(self.std_error_).tolist(),
            data_log_likelihood_=float(self.data_log_likelihood_),
        )
        return state

    def _n_parameters(self) -> int:
        """Free parameters: task scores, noise(s), biases (minus the centring) and pi."""
        k = self._n_tasks_fitted() + int(np.size(self.sigma_))
        if self.bias:
            k += len(self.workers_) - 1
        return k + int(self.mixture)

    def _n_tasks_fitted(self) -> int:
        return int(np.shape(self.mu_)[0])

    def bic(self) -> float:
        """Bayesian information criterion of the fit (lower is better).

        ``-2 log L + k log n`` with ``L`` the likelihood (without the noise prior), ``n`` the
        total weight of the answers and ``k`` the number of free parameters; compares variants
        fitted to the same answers without looking at any gold standard.
        """
        n = float(self.log_likelihood_ / self.lower_bound_)
        return -2.0 * self.data_log_likelihood_ + self._n_parameters() * np.log(n)


def _weighted_median(task: np.ndarray, s: np.ndarray, w: np.ndarray, n_tasks: int) -> np.ndarray:
    """Lower weighted median of each task's answers (0 for a task without weight)."""
    # by task, then by score: two argsorts are much faster than np.lexsort on float keys
    by_score = np.argsort(s)
    order = by_score[np.argsort(task[by_score], kind="stable")]
    t_sorted, s_sorted, w_sorted = task[order], s[order], w[order]
    cum = np.cumsum(w_sorted)
    total = np.bincount(task, w, minlength=n_tasks)
    counts = np.bincount(task, minlength=n_tasks)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    # first answer of the task whose cumulative weight reaches half the task's weight
    within = cum - before[t_sorted]
    reached = within >= 0.5 * total[t_sorted] * (1 - 1e-12)
    reached &= w_sorted > 0
    candidates = np.where(reached, np.arange(len(order)), len(order))
    first = np.minimum.reduceat(candidates, starts[counts > 0]) if len(order) else candidates
    mu = np.zeros(n_tasks)
    has = counts > 0
    idx = np.minimum(first, len(order) - 1)
    mu[has] = np.where(first < len(order), s_sorted[idx], s_sorted[starts[has]])
    return mu


#: The model variants by name: the course model and the extensions real data needs.
VARIANTS: dict[str, dict[str, Any]] = {
    "course": {"mixture": True, "noise": "shared", "bias": False},
    "course+bias": {"mixture": True, "noise": "shared", "bias": True},
    "worker-noise": {"mixture": True, "noise": "worker", "bias": False},
    "worker-noise+bias": {"mixture": True, "noise": "worker", "bias": True},
    "gaussian": {"mixture": False, "noise": "shared", "bias": False},
    "gaussian+bias": {"mixture": False, "noise": "shared", "bias": True},
    "raykar": {"mixture": False, "noise": "worker", "bias": False},
    "raykar+bias": {"mixture": False, "noise": "worker", "bias": True},
}


def select_variant(
    X: Any,
    variants: Sequence[str] | None = None,
    sample_weight: Any = None,
    **params: Any,
) -> tuple[ContinuousAnnotators, dict[str, float]]:
    """Fit several variants and keep the one with the lowest BIC (no gold standard needed).

    Parameters
    ----------
    X : answers, as for :class:`ContinuousAnnotators`
    variants : sequence of str, optional
        Names from :data:`VARIANTS` (default: all).
    sample_weight : array-like, optional
    **params
        Hyperparameters shared by every variant (``low``, ``high``, column names, ``tol`` ...).

    Returns
    -------
    best : ContinuousAnnotators
        The fitted variant with the lowest BIC.
    bic : dict
        BIC of every variant, by name.
    """
    from emkit.crowd.io import read_answers

    names = list(VARIANTS) if variants is None else list(variants)
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        raise ParameterError(f"unknown variant {unknown[0]!r}; choose from {sorted(VARIANTS)}")
    answers = read_answers(
        X,
        task=params.get("task", "task"),
        worker=params.get("worker", "worker"),
        value=params.get("score", "score"),
        kind="score",
    )
    table = np.column_stack([answers.task, answers.worker, answers.value])
    best: ContinuousAnnotators | None = None
    scores: dict[str, float] = {}
    for name in names:
        model = ContinuousAnnotators(**{**params, **VARIANTS[name]})
        model.fit(table, sample_weight=sample_weight)
        scores[name] = float(model.bic())
        if best is None or scores[name] < min(v for k, v in scores.items() if k != name):
            best = model
    assert best is not None
    best.tasks_ = answers.tasks[np.asarray(best.tasks_, dtype=np.int64)]
    best.workers_ = answers.workers[np.asarray(best.workers_, dtype=np.int64)]
    return best, scores
