r"""GLAD: worker ability and task difficulty (Whitehill et al., NIPS 2009).

Worker ``j`` has ability :math:`\alpha_j` (negative: adversarial), task ``i`` has inverse
difficulty :math:`e^{\beta_i} > 0`; the worker gives the true class with probability
:math:`\sigma(\alpha_j e^{\beta_i})` and each of the other ``K - 1`` classes with probability
:math:`(1 - \sigma(\alpha_j e^{\beta_i})) / (K - 1)`. The class prior is fixed (uniform unless
``labels_priors`` is given); Gaussian priors :math:`\alpha_j \sim N(\mu_\alpha, 1)`,
:math:`\beta_i \sim N(\mu_\beta, 1)` (means 1 by default) make it MAP-EM, as in the paper and in
crowd-kit, which this module follows step by step:

- start: :math:`\alpha = \beta = 1` (so the first posteriors are a soft majority vote);
- E-step: posteriors of every task's class, a gather over the answers and a scatter into tasks
  (``_rows.scatter_tasks``), in log space;
- M-step: the expected complete-data log-likelihood plus the log priors has no closed-form
  maximiser; it is raised by SciPy's nonlinear conjugate gradient, ``m_step_max_iter`` steps at
  most with gradient tolerance ``m_step_tol`` (crowd-kit's method and defaults), from the
  current parameters. The objective and its gradient are one vectorised pass over the answers.

A partial M-step that raises the expected complete-data objective is a generalised EM step, so
the penalised log-likelihood that the engine reports never decreases: the engine's monotone
check stays on (``monotone = True``). Should the line search fail to improve, the M-step keeps
the current parameters rather than accept a worse point.

The optimiser needs every answer at once, so the M-step runs where the fit was called, on the
coded answers that fit keeps; the E-step is an ordinary pass that an executor may run in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import expit

from emkit._sklearn_api import check_is_fitted
from emkit._validation import Constraint, check_sample_weight, interval
from emkit.crowd._rows import AnswerRows, answer_rows, scatter_tasks
from emkit.crowd.categorical import _CategoricalBase
from emkit.crowd.io import require_pandas
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import DataError
from emkit.stats import Stats

__all__ = ["GLAD", "GLADParams"]


@dataclass(frozen=True)
class GLADParams:
    """Parameters of :class:`GLAD`.

    Attributes
    ----------
    prior : ndarray of shape (n_classes,)
        Class prior (fixed during the fit).
    alpha : ndarray of shape (n_workers,)
        Worker abilities.
    beta : ndarray of shape (n_tasks,)
        Log inverse difficulties of the tasks (``exp(beta)`` multiplies every ability).
    proba : ndarray of shape (n_tasks, n_classes)
        Posterior class probabilities of the tasks (from the latest E-step).
    """

    prior: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    proba: np.ndarray


def _per_id(value: Any, ids: np.ndarray, name: str) -> np.ndarray:
    """A scalar, an array in the order of ``ids``, or a pandas Series indexed by id."""
    if hasattr(value, "reindex") and hasattr(value, "index"):
        out = value.reindex(list(ids)).to_numpy(dtype=np.float64)
    else:
        arr = np.asarray(value, dtype=np.float64)
        out = np.full(len(ids), float(arr)) if arr.ndim == 0 else arr
    if out.shape != (len(ids),) or not np.all(np.isfinite(out)):
        raise DataError(f"{name} must be finite and give a value for each of the {len(ids)} ids")
    return out


class GLAD(_CategoricalBase):
    """GLAD (Whitehill et al. 2009): worker ability x task difficulty, by EM on crowd labels.

    crowd-kit's API and defaults (``fit``, ``fit_predict``, ``fit_predict_proba``, ``probas_``,
    ``labels_``, ``alphas_``, ``betas_``); see the module docstring for the model.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-5
        Stop when the penalised log-likelihood per answer changes by less than ``tol``.
    labels_priors : array-like or pandas Series, optional
        Class prior (fixed); default uniform.
    alphas_priors_mean, betas_priors_mean : float, array-like or pandas Series, default=1.0
        Means of the unit-variance Gaussian priors of the abilities and the log inverse
        difficulties (a Series is indexed by worker or task id).
    m_step_max_iter : int, default=25
        Conjugate-gradient steps per M-step.
    m_step_tol : float, default=1e-2
        Gradient tolerance of the conjugate-gradient M-step.
    classes : sequence, optional
    task, worker, label : str
        Column names of the answers.
    hard, random_state, warm_start, n_init
        As for every emkit estimator (the start is deterministic, so ``n_init`` > 1 repeats it).

    Attributes
    ----------
    proba_ : ndarray of shape (n_tasks, n_classes)
    alpha_ : ndarray of shape (n_workers,)
    beta_ : ndarray of shape (n_tasks,)
    prior_ : ndarray of shape (n_classes,)
    labels_, probas_, alphas_, betas_ : pandas objects indexed by id
    """

    n_passes: ClassVar[int] = 1
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "m_step_max_iter": interval(int, 1, None),
        "m_step_tol": interval(float, 0.0, None),
    }
    params_type = GLADParams
    _rows_all: AnswerRows | None
    # fixed choices of the shared categorical machinery
    smoothing = None
    smoothing_mode = "pseudo-count"
    init = "majority"

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-5,
        *,
        labels_priors: Any = None,
        alphas_priors_mean: Any = 1.0,
        betas_priors_mean: Any = 1.0,
        m_step_max_iter: int = 25,
        m_step_tol: float = 1e-2,
        classes: Any = None,
        task: str = "task",
        worker: str = "worker",
        label: str = "label",
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.labels_priors = labels_priors
        self.alphas_priors_mean = alphas_priors_mean
        self.betas_priors_mean = betas_priors_mean
        self.m_step_max_iter = m_step_max_iter
        self.m_step_tol = m_step_tol
        self.classes = classes
        self.task = task
        self.worker = worker
        self.label = label
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    # -- pieces ---------------------------------------------------------------------------------
    def _log_wrong(self) -> float:
        k = self._n_classes
        return float(np.log(k - 1)) if k > 1 else 0.0

    def _prior_means(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            _per_id(self.alphas_priors_mean, self.workers_, "alphas_priors_mean"),
            _per_id(self.betas_priors_mean, self.tasks_, "betas_priors_mean"),
        )

    def _log_gauss(self, alpha: np.ndarray, beta: np.ndarray) -> float:
        ma, mb = self._prior_means()
        return -0.5 * float(np.sum((alpha - ma) ** 2) + np.sum((beta - mb) ** 2))

    def _all_rows(self) -> AnswerRows:
        """Every answer of the fit (the M-step's optimiser needs them all)."""
        cached: AnswerRows | None = getattr(self, "_rows_all", None)
        if cached is None:
            arrays = self._fit_arrays
            assert arrays is not None
            weight = check_sample_weight(self._fit_sample_weight, arrays[0].shape[0], np.float64)
            cached = answer_rows(self, Batch(arrays, weight))
            self._rows_all = cached
        return cached

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._rows_all = None

    def _log_terms(
        self, rows: AnswerRows, alpha: np.ndarray, beta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per answer: ``exp(beta)``, ``c = alpha * exp(beta)``, ``log sigma(c)`` and the log
        probability of one given wrong class."""
        eb = np.exp(beta)[rows.task]
        c = alpha[rows.worker] * eb
        log_right = -np.logaddexp(0.0, -c)
        log_wrong = -np.logaddexp(0.0, c) - self._log_wrong()
        return eb, c, log_right, log_wrong

    # -- engine hooks ---------------------------------------------------------------------------
    def init_params(self, batch: Batch, rng: np.random.RandomState) -> GLADParams:
        k = self._n_classes
        if self.labels_priors is None:
            prior = np.full(k, 1.0 / k)
        else:
            prior = _per_id(self.labels_priors, self.classes_, "labels_priors")
            if np.any(prior <= 0):
                raise DataError("labels_priors must be positive")
            prior = prior / prior.sum()
        return GLADParams(
            prior=prior,
            alpha=np.ones(self._n_workers),
            beta=np.ones(self._n_tasks),
            proba=np.full((self._n_tasks, k), 1.0 / k),
        )

    def e_step(self, batch: Batch, params: Any, ctx: StepContext) -> Stats:
        rows = answer_rows(self, batch)
        _, _, log_right, log_wrong = self._log_terms(rows, params.alpha, params.beta)
        log_lik = scatter_tasks(rows, log_wrong, log_right - log_wrong, *params.proba.shape)
        return Stats(weight=rows.total, L=log_lik, tw=rows.task_weight)

    def objective(self, stats: Stats, params: Any, ctx: StepContext) -> float:
        log_norm = self._posterior(stats, params, ctx)[1]
        return float(np.sum(log_norm)) + self._log_gauss(params.alpha, params.beta)

    def m_step(self, stats: Stats, params: Any, ctx: StepContext) -> GLADParams:
        from scipy.optimize import minimize

        proba = self._posterior(stats, params, ctx)[0]
        rows = self._all_rows()
        q = proba[rows.task, rows.label]  # posterior that the answer is right
        w = rows.weight
        n_w = self._n_workers
        ma, mb = self._prior_means()

        def negative_q(x: np.ndarray) -> tuple[float, np.ndarray]:
            alpha, beta = x[:n_w], x[n_w:]
            eb, c, log_right, log_wrong = self._log_terms(rows, alpha, beta)
            value = float(np.dot(w, q * log_right + (1.0 - q) * log_wrong))
            value -= 0.5 * float(np.sum((alpha - ma) ** 2) + np.sum((beta - mb) ** 2))
            slope = w * (q - expit(c))  # d/dc of each answer's expected log-likelihood
            grad_a = np.bincount(rows.worker, slope * eb, minlength=n_w) - (alpha - ma)
            grad_b = np.bincount(rows.task, slope * c, minlength=len(beta)) - (beta - mb)
            return -value, -np.concatenate([grad_a, grad_b])

        x0 = np.concatenate([params.alpha, params.beta])
        start = negative_q(x0)[0]
        res = minimize(
            negative_q,
            x0,
            jac=True,
            method="CG",
            tol=self.m_step_tol,
            options={"maxiter": self.m_step_max_iter},
        )
        x = res.x if np.isfinite(res.fun) and res.fun <= start else x0
        return GLADParams(prior=params.prior, alpha=x[:n_w], beta=x[n_w:], proba=proba)

    def _set_fitted(self, result: Any) -> None:
        super()._set_fitted(result)
        self._rows_all = None

    # -- crowd-kit names ------------------------------------------------------------------------
    @property
    def alphas_(self) -> Any:
        """Worker abilities as a pandas Series by worker id."""
        check_is_fitted(self, "params_")
        pd = require_pandas()
        return pd.Series(self.alpha_, index=pd.Index(self.workers_, name="worker"), name="alpha")

    @property
    def betas_(self) -> Any:
        """Log inverse task difficulties as a pandas Series by task id."""
        check_is_fitted(self, "params_")
        pd = require_pandas()
        return pd.Series(self.beta_, index=pd.Index(self.tasks_, name="task"), name="beta")
