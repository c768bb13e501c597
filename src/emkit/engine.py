"""The EM engine: the one loop every emkit model runs on.

A model supplies four hooks (see :class:`EMModel`)::

    init_params(batch, rng)          -> params   starting point
    e_step(batch, params, ctx)       -> Stats    additive sufficient statistics of a chunk of rows
    m_step(stats, params, ctx)       -> params   re-estimate from the statistics of all rows
    objective(stats, params, ctx)    -> float    log-likelihood at ``params`` (default stats.loglik)

and the engine alone owns the iteration loop, the convergence test, the monotonicity check,
``n_init`` restarts, hard EM, the history of the objective, callbacks and the random state.
Where the rows live is an executor's business (:mod:`emkit.executors`).

One iteration is one or more map-reduce passes. Pass 0 is the E-step proper: it maps
``e_step`` over every chunk of rows at the current parameters and reduces (sums) the statistics;
``objective`` turns them into the log-likelihood of the current parameters and ``m_step`` into new
parameters. Models whose hidden variables are shared by many rows (the annotator models) declare
``n_passes = 2``: pass 1 maps ``e_step(..., ctx.pass_index == 1)`` with the parameters pass 0
produced, and ``m_step`` finishes the update from those statistics.

Hard EM replaces each posterior by the one-hot indicator of its arg-max (``ctx.posterior`` does
this for every model), and the objective becomes the *classification* log-likelihood
``sum_i max_z log p(x_i, z | theta)``. Both the hard E-step (a maximisation over z) and an exact
M-step (a maximisation over theta) can only raise it, so it is monotone in hard EM too, while the
observed-data log-likelihood need not be; with a finite number of assignments hard EM stops at a
fixed point in finitely many iterations (k-means' Lloyd iterations are the textbook case).

Soft EM never lowers the observed-data log-likelihood (Jensen's inequality gives a lower bound
that is tight at the current parameters; the M-step raises the bound). A decrease beyond round-off
is therefore a bug and raises :class:`~emkit.exceptions.NonMonotoneError`.
"""

from __future__ import annotations

import logging
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from emkit.data import Batch
from emkit.exceptions import (
    ConvergenceWarning,
    NonFiniteError,
    NonMonotoneError,
    user_stacklevel,
)
from emkit.executors import Executor, InMemoryExecutor
from emkit.stats import Stats

__all__ = [
    "EMModel",
    "FitResult",
    "IterationInfo",
    "StepContext",
    "fit_em",
    "run_em",
]

logger = logging.getLogger("emkit")

P = TypeVar("P")


# relative tolerance under which hard EM treats two log joints as tied
_TIE_RTOL = 1e-12


@dataclass(frozen=True)
class StepContext:
    """What the engine tells a model's steps about the current step.

    Attributes
    ----------
    hard : bool
        Hard (classification) EM: posteriors are one-hot arg-max indicators.
    pass_index : int
        Which map-reduce pass of the iteration this is (0 for the E-step proper).
    iteration : int
        Number of completed M-steps before this step.
    """

    hard: bool = False
    pass_index: int = 0
    iteration: int = 0

    def posterior(self, log_joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior of a discrete hidden variable from its log joint, in log space.

        Parameters
        ----------
        log_joint : ndarray of shape (n, K)
            ``log p(x_i, z_i = k | theta)``; ``-inf`` marks impossible values.

        Returns
        -------
        resp : ndarray of shape (n, K)
            ``p(z_i = k | x_i, theta)`` (soft EM) or its one-hot arg-max (hard EM); rows sum to 1.
        log_norm : ndarray of shape (n,)
            ``log p(x_i | theta)`` (soft EM) or ``max_k log p(x_i, z_i = k | theta)`` (hard EM).
        """
        if self.hard:
            # Values within round-off of the row maximum are ties, broken towards the lowest
            # index: otherwise sums that are equal in exact arithmetic (a weight of 2 against a
            # repeated row) could pick different components by one unit in the last place.
            top = np.max(log_joint, axis=1, keepdims=True)
            with np.errstate(invalid="ignore"):
                slack = _TIE_RTOL * np.maximum(1.0, np.abs(top))
                best = np.argmax(log_joint >= top - slack, axis=1)
            log_norm = np.take_along_axis(log_joint, best[:, None], axis=1)[:, 0]
            resp = np.zeros_like(log_joint)
            resp[np.arange(log_joint.shape[0]), best] = 1.0
            return resp, log_norm
        # logsumexp by hand, on a (K, n) copy: numpy reduces a short last axis ~50x slower
        # than a long one, and one exp serves both outputs. Rows of all -inf give nan
        # posteriors, as before, which the engine reports through the objective.
        work = np.array(log_joint.T, order="C")
        shift = np.max(work, axis=0)
        shift[~np.isfinite(shift)] = 0.0
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            work -= shift
            np.exp(work, out=work)
            total = np.sum(work, axis=0)
            work /= total
            log_norm = np.log(total) + shift
        resp = work.T
        return resp, log_norm


@dataclass(frozen=True)
class IterationInfo(Generic[P]):
    """What a callback receives after every iteration (and once for the starting point).

    Attributes
    ----------
    restart : int
        Index of the current run among ``n_init`` restarts.
    iteration : int
        Number of M-steps done; 0 for the starting point.
    log_likelihood : float
        The objective at ``params`` (total over rows, weighted).
    params : object
        The model's parameters after ``iteration`` M-steps.
    """

    restart: int
    iteration: int
    log_likelihood: float
    params: P


Callback = Callable[[IterationInfo[Any]], None]


@dataclass(frozen=True)
class FitResult(Generic[P]):
    """The outcome of a fit: the best run among the restarts.

    Attributes
    ----------
    params : object
        Final parameters.
    log_likelihood_history : ndarray of shape (n_iter + 1,)
        The objective at the starting point and after each M-step.
    n_iter : int
        Number of M-steps performed.
    converged : bool
        Whether the change of the mean objective fell below ``tol``.
    total_weight : float
        Sum of sample weights (the denominator of the mean objective).
    restart : int
        Which restart was kept.
    final_stats : Stats
        Pass-0 statistics at the final parameters.
    """

    params: P
    log_likelihood_history: np.ndarray
    n_iter: int
    converged: bool
    total_weight: float
    restart: int = 0
    final_stats: Stats = field(default_factory=Stats, repr=False)

    @property
    def log_likelihood(self) -> float:
        """The objective at the final parameters."""
        return float(self.log_likelihood_history[-1])


class EMModel(ABC, Generic[P]):
    """The hooks a model implements to run on the engine.

    Every emkit estimator derives from this class; a new model needs nothing else (see
    ``examples/genetic_linkage.py`` for a complete model in a few lines).

    Attributes
    ----------
    n_passes : int
        Map-reduce passes per iteration (1 for models whose rows are independent).
    monotone : bool
        Whether the objective is guaranteed never to decrease (True for exact M-steps). Models
        whose M-step is regularised (e.g. a variance floor) may set it False; the engine then
        only logs decreases.
    supports_online : bool
        Whether stepwise (online) EM (:mod:`emkit.online`, ``partial_fit``) applies: the
        statistics of :meth:`online_e_step` (by default the pass-0 statistics) are sums over
        independent rows (or groups of rows) whose average per unit of weight the M-step may
        take in place of the sums. Opt-in; a model with ``n_passes > 1`` that opts in makes
        its :meth:`online_e_step` return every statistic its M-step needs.
    """

    n_passes: ClassVar[int] = 1
    monotone: ClassVar[bool] = True
    supports_online: ClassVar[bool] = False

    @abstractmethod
    def init_params(self, batch: Batch, rng: np.random.RandomState) -> P:
        """Starting parameters, drawn with ``rng`` from the rows in ``batch`` if needed."""

    @abstractmethod
    def e_step(self, batch: Batch, params: P, ctx: StepContext) -> Stats:
        """Additive sufficient statistics of the rows in ``batch`` for pass ``ctx.pass_index``.

        For pass 0 the returned ``Stats.loglik`` is the rows' weighted contribution to the
        objective and ``Stats.weight`` the sum of their sample weights, unless
        :meth:`objective` is overridden.
        """

    @abstractmethod
    def m_step(self, stats: Stats, params: P, ctx: StepContext) -> P:
        """New parameters from the statistics of all rows for pass ``ctx.pass_index``."""

    def online_e_step(self, batch: Batch, params: P, ctx: StepContext) -> tuple[Stats, P]:
        """The statistics stepwise EM averages for a batch of *new* rows, and the parameters
        its M-step starts from (:mod:`emkit.online`).

        The default is the pass-0 :meth:`e_step` at ``params``. Models with per-row parameters
        (PLSA's document weights) fit those for the batch's rows with the shared parameters
        fixed, and return the shared parameters' statistics with the batch's own rows filled
        in: the local/global split of stochastic EM (Hoffman et al. 2013).
        """
        return self.e_step(batch, params, ctx), params

    def rebase_stats(self, stats: Stats, params: P, new_params: P) -> Stats:
        """Statistics computed at ``params`` re-expressed for an M-step at ``new_params``.

        Only online EM calls it: its running statistics outlive the parameters they were
        computed at. The default (identity) is right for statistics that do not depend on the
        parameters' frame (counts, sums of rows); models that accumulate moments about a point
        or in a frame taken from the current parameters (for numerical accuracy) map them,
        exactly, to the frame of ``new_params``.
        """
        return stats

    def objective(self, stats: Stats, params: P, ctx: StepContext) -> float:
        """The objective at ``params`` from the pass-0 statistics (default ``stats.loglik``).

        Override when the log-likelihood is not a sum over rows, e.g. when a hidden variable is
        shared by many rows and its marginal needs the reduced statistics.
        """
        return stats.loglik


def model_name(model: object) -> str:
    """The name messages give a model: its ``display_name`` if it has one (an adapter that runs
    an estimator's hooks names the estimator), else its class name."""
    return str(getattr(model, "display_name", type(model).__name__))


def _check_finite(model: EMModel[Any], value: float, iteration: int) -> None:
    if not math.isfinite(value):
        raise NonFiniteError(
            f"{model_name(model)}: the log-likelihood is {value} at iteration {iteration}: "
            "some observation has zero probability under the current parameters or the "
            "computation overflowed; check the data for outliers or out-of-range values, "
            "and the model's regularisation"
        )


@dataclass(frozen=True, eq=False)
class _EStep(Generic[P]):
    """``model.e_step`` at fixed parameters: the picklable ``Batch -> Stats`` an executor maps
    (a Dask executor ships it to the workers)."""

    model: EMModel[P]
    params: P
    ctx: StepContext

    def __call__(self, batch: Batch) -> Stats:
        return self.model.e_step(batch, self.params, self.ctx)


def _map_pass(
    executor: Executor, model: EMModel[P], data: Any, params: P, ctx: StepContext
) -> Stats:
    return executor.map_reduce(_EStep(model, params, ctx), data)


def _warn_not_converged(name: str, max_iter: int, tol: float) -> None:
    warnings.warn(
        f"{name} did not converge in max_iter={max_iter} iterations: the mean log-likelihood "
        f"still changed by more than tol={tol}. Increase max_iter, loosen tol, or check the "
        "data and the initialisation.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )


def run_em(
    model: EMModel[P],
    data: Any,
    params: P,
    *,
    executor: Executor | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    hard: bool = False,
    callbacks: Sequence[Callback] = (),
    restart: int = 0,
    eps: float = float(np.finfo(np.float64).eps),
    warn_convergence: bool = True,
) -> FitResult[P]:
    """Run EM from ``params`` until the mean objective changes by less than ``tol``.

    Parameters
    ----------
    model : EMModel
        The model's hooks.
    data : object
        The rows, in whatever form ``executor`` reads (a :class:`~emkit.data.Batch` in memory).
    params : object
        Starting parameters.
    executor : Executor, default=InMemoryExecutor()
        Runs the passes over the rows.
    max_iter : int, default=100
        Maximum number of M-steps.
    tol : float, default=1e-6
        Stop when the change of the objective divided by the total sample weight is below
        ``tol`` (strictly: ``tol=0`` runs exactly ``max_iter`` iterations).
    hard : bool, default=False
        Hard (classification) EM.
    callbacks : sequence of callables
        Each called with an :class:`IterationInfo` at the start and after every iteration.
    restart : int, default=0
        Index reported to callbacks.
    eps : float
        Machine epsilon of the computation's dtype; sets the round-off allowance of the
        monotonicity check.
    warn_convergence : bool, default=True
        Emit a :class:`~emkit.exceptions.ConvergenceWarning` when ``max_iter`` is reached.

    Returns
    -------
    FitResult
    """
    executor = InMemoryExecutor() if executor is None else executor
    total_weight = executor.total_weight(data)
    name = model_name(model)

    def evaluate(p: P, iteration: int) -> tuple[Stats, float]:
        ctx = StepContext(hard=hard, pass_index=0, iteration=iteration)
        stats = _map_pass(executor, model, data, p, ctx)
        value = float(model.objective(stats, p, ctx))
        _check_finite(model, value, iteration)
        return stats, value

    def notify(iteration: int, value: float, p: P) -> None:
        info = IterationInfo(restart, iteration, value, p)
        for callback in callbacks:
            callback(info)

    stats, value = evaluate(params, 0)
    history = [value]
    notify(0, value, params)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        for pass_index in range(model.n_passes):
            ctx = StepContext(hard=hard, pass_index=pass_index, iteration=n_iter - 1)
            if pass_index > 0:
                stats = _map_pass(executor, model, data, params, ctx)
            params = model.m_step(stats, params, ctx)
        stats, new_value = evaluate(params, n_iter)
        change = new_value - value
        slack = 1e3 * eps * (abs(value) + total_weight)
        if change < -slack:
            message = (
                f"{name}: the {'classification ' if hard else ''}log-likelihood decreased from "
                f"{value:.12g} to {new_value:.12g} at iteration {n_iter}. EM never lowers it "
                "(Jensen's inequality), so the model's E-step or M-step is wrong"
            )
            if model.monotone:
                raise NonMonotoneError(message)
            logger.debug(message)
        value = new_value
        history.append(value)
        logger.debug(
            "%s restart %d iteration %d: log-likelihood %.10g", name, restart, n_iter, value
        )
        notify(n_iter, value, params)
        if abs(change) < tol * total_weight:  # strict, as scikit-learn: tol=0 runs max_iter
            converged = True
            break
    if not converged and warn_convergence and max_iter > 0:
        _warn_not_converged(name, max_iter, tol)
    return FitResult(
        params=params,
        log_likelihood_history=np.asarray(history, dtype=np.float64),
        n_iter=n_iter if max_iter > 0 else 0,
        converged=converged,
        total_weight=total_weight,
        restart=restart,
        final_stats=stats,
    )


def fit_em(
    model: EMModel[P],
    data: Any,
    *,
    executor: Executor | None = None,
    n_init: int = 1,
    random_state: np.random.RandomState | None = None,
    init_params: P | None = None,
    **run_options: Any,
) -> FitResult[P]:
    """Fit with ``n_init`` restarts and keep the run with the highest final objective.

    Parameters
    ----------
    model : EMModel
        The model's hooks.
    data : object
        The rows, as ``executor`` reads them.
    executor : Executor, default=InMemoryExecutor()
        Runs the passes over the rows.
    n_init : int, default=1
        Number of starts from ``model.init_params``; ignored when ``init_params`` is given.
    random_state : numpy.random.RandomState, optional
        The only source of randomness (for the starting points).
    init_params : object, optional
        Start from these parameters (warm start) instead of drawing ``n_init`` starts.
    **run_options
        Passed to :func:`run_em` (``max_iter``, ``tol``, ``hard``, ``callbacks``, ``eps``).

    Returns
    -------
    FitResult
        The best run; ``restart`` says which. A ConvergenceWarning is emitted only if the kept
        run did not converge.
    """
    executor = InMemoryExecutor() if executor is None else executor
    rng = np.random.RandomState() if random_state is None else random_state
    starts = 1 if init_params is not None else n_init
    best: FitResult[P] | None = None
    for restart in range(starts):
        if init_params is not None:
            params0 = init_params
        else:
            params0 = model.init_params(executor.init_batch(data, rng), rng)
        result = run_em(
            model,
            data,
            params0,
            executor=executor,
            restart=restart,
            warn_convergence=False,
            **run_options,
        )
        if best is None or result.log_likelihood > best.log_likelihood:
            best = result
    assert best is not None
    max_iter = run_options.get("max_iter", 100)
    if not best.converged and max_iter > 0:
        _warn_not_converged(model_name(model), max_iter, run_options.get("tol", 1e-6))
    return best
