r"""Stepwise (online, mini-batch) EM: the engine's loop for data that keep arriving.

Batch EM sums the statistics of *all* rows before every M-step. Stepwise EM (Sato & Ishii 2000;
Cappé & Moulines 2009; Liang & Klein 2009) keeps a running average of the statistics per unit of
sample weight and takes an M-step after every mini-batch:

.. math:: \bar s_t = (1 - \rho_t)\, \bar s_{t-1} + \rho_t\, \frac{S(B_t; \theta_{t-1})}{w(B_t)},
          \qquad \theta_t = \text{M-step}(W_t\, \bar s_t),
          \qquad \rho_t = (t + t_0)^{-\kappa}

where ``S(B_t; theta)`` are the additive statistics of batch ``t`` from the model's ordinary
``e_step``, ``w(B_t)`` its sample weight and ``W_t`` the weight seen so far (capped at the data's
total weight when streaming several epochs over a file). Stepwise EM converges to a stationary
point of the likelihood for ``kappa`` in ``(0.5, 1]`` (Cappé & Moulines' conditions
``sum rho = inf``, ``sum rho^2 < inf``). ``kappa = 1, t0 = 0`` gives ``rho_t = 1/t``: the running
statistics are then the plain average of the batches', and with parameters held fixed over one
pass they are exactly batch EM's statistics divided by the total weight.

The M-step sees statistics scaled to the weight seen, so models whose M-step is not scale-free
(a Dirichlet prior's pseudo-counts in :class:`~emkit.models.MultinomialMixture`) weigh their
prior against the data seen so far, as batch EM on those rows would.

Hard EM works the same way: for :class:`~emkit.models.KMeans` with ``rho_t = 1/t`` each centre is
the mean of every row ever assigned to it, i.e. mini-batch k-means (Sculley 2010) with its
per-centre counts; for other ``rho`` the centres forget old assignments geometrically.

A model opts in with ``supports_online = True`` (its pass-0 statistics must be sums over
independent rows, or over independent groups of rows: a hidden Markov model's batches are whole
sequences, cut by :attr:`~emkit.data.Batch.groups` as in batch EM); models whose statistics
are taken in a frame of the current parameters (shifted or whitened moments) implement
``rebase_stats``. Models with per-row parameters (PLSA's document weights) fit those for each
new batch in ``online_e_step`` (the local step of stochastic EM) and average the statistics of
the shared parameters only. Models with ``n_passes > 1`` that do not opt in (hidden variables
shared by many rows: the crowd models) are refused with a
:class:`~emkit.exceptions.ParameterError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from emkit.data import Batch
from emkit.engine import Callback, EMModel, FitResult, IterationInfo, StepContext, _check_finite
from emkit.exceptions import DataError, ParameterError
from emkit.executors import Executor
from emkit.stats import Stats

__all__ = [
    "OnlineState",
    "StepSize",
    "check_online",
    "online_step",
    "online_update",
    "run_online",
    "running_stats",
]

P = TypeVar("P")


@dataclass(frozen=True)
class StepSize:
    r"""The step-size schedule ``rho_t = (t + t0) ** -kappa`` of stepwise EM.

    Parameters
    ----------
    kappa : float, default=0.6
        Forgetting rate, in ``(0.5, 1]``. Smaller forgets old batches faster (more noise, faster
        moves); ``kappa = 1`` with ``t0 = 0`` is ``rho_t = 1/t`` (a plain running average).
    t0 : float, default=2.0
        Delay, ``>= 0``: larger damps the first updates. ``(0.6, 2)`` is within the range
        Liang & Klein (2009) found robust and the defaults of this module's tests and benchmark.

    Notes
    -----
    The first batch has ``rho = 1`` whatever the schedule: there are no statistics before it.
    """

    kappa: float = 0.6
    t0: float = 2.0

    def __post_init__(self) -> None:
        kappa, t0 = self.kappa, self.t0
        if not isinstance(kappa, int | float) or not 0.5 < kappa <= 1.0:
            raise ParameterError(
                f"step size kappa must lie in (0.5, 1] (stepwise EM converges only there), "
                f"got {kappa!r}"
            )
        if not isinstance(t0, int | float) or not (t0 >= 0 and math.isfinite(t0)):
            raise ParameterError(f"step size t0 must be a finite number >= 0, got {t0!r}")

    def __call__(self, t: int) -> float:
        """``rho_t`` for the ``t``-th update (``t >= 1``)."""
        return float((t + self.t0) ** -self.kappa)


@dataclass(frozen=True)
class OnlineState(Generic[P]):
    """Where stepwise EM stands: parameters and the running statistics.

    Attributes
    ----------
    params : object
        Current parameters.
    stats : Stats or None
        Running statistics per unit of sample weight (``stats.weight == 1``; ``stats.loglik`` the
        running mean log-likelihood per unit weight), in the frame of ``params``. None before
        the first batch.
    n_updates : int
        Number of batches (M-steps) so far.
    weight_seen : float
        Sum of the sample weights of those batches (or of the fit the state continues).
    """

    params: P
    stats: Stats | None = None
    n_updates: int = 0
    weight_seen: float = 0.0

    @property
    def mean_log_likelihood(self) -> float:
        """Running mean log-likelihood per unit weight (NaN before the first batch)."""
        return float("nan") if self.stats is None else self.stats.loglik

    @classmethod
    def from_fit(cls, result: FitResult[P]) -> OnlineState[P]:
        """The state a batch fit leaves: its final statistics (at its final parameters)."""
        final = result.final_stats
        if final.weight <= 0 or len(final) == 0:
            return cls(result.params)
        return cls(result.params, final * (1.0 / final.weight), 0, float(final.weight))


def check_online(model: EMModel[Any]) -> None:
    """Raise :class:`~emkit.exceptions.ParameterError` unless ``model`` supports online EM."""
    name = type(model).__name__
    if model.supports_online:
        return
    if model.n_passes > 1:
        raise ParameterError(
            f"{name} does not support online EM (partial_fit): each of its iterations takes "
            f"{model.n_passes} passes over all rows because hidden variables or parameters are "
            "shared by many rows (a task's true label, an annotator's reliability), so one "
            "batch's statistics are not a sample of the whole data's. "
            "Fit it in batch; for data larger than memory use executor='stream' or 'dask'"
        )
    raise ParameterError(
        f"{name} does not support online EM (partial_fit): it does not declare "
        "supports_online (statistics that are sums over independent rows)"
    )


def running_stats(previous: Stats | None, batch: Stats, rho: float) -> Stats:
    """``(1 - rho) * previous + rho * batch / batch.weight`` (``batch / weight`` when empty)."""
    mean = batch * (1.0 / batch.weight)
    if previous is None:
        return mean
    return (1.0 - rho) * previous + rho * mean


def online_update(
    model: EMModel[P],
    state: OnlineState[P],
    batch_stats: Stats,
    *,
    step_size: StepSize,
    hard: bool = False,
    total_weight: float | None = None,
    local_params: P | None = None,
) -> OnlineState[P]:
    """One stepwise update from a batch's statistics (at ``state.params``): average, M-step.

    Parameters
    ----------
    model : EMModel
    state : OnlineState
    batch_stats : Stats
        ``model.online_e_step`` of the batch at ``state.params``.
    step_size : StepSize
    hard : bool, default=False
        Passed to the M-step's context.
    total_weight : float, optional
        The data's total weight when it is known (epochs over a file): caps the weight the
        M-step's statistics are scaled to.
    local_params : object, optional
        The parameters the M-step starts from (``online_e_step``'s, with the batch's per-row
        parameters filled in); default ``state.params``.

    Returns
    -------
    OnlineState
        Unchanged when the batch carries no weight.
    """
    w = batch_stats.weight
    if not w > 0:
        return state
    if state.stats is None:
        t, rho = 1, 1.0
    else:
        t = state.n_updates + 1
        if state.n_updates == 0:  # continuing a batch fit: count its rows as batches like this
            t = 1 + max(1, round(state.weight_seen / w))
        rho = step_size(t)
    stats = running_stats(state.stats, batch_stats, rho)
    seen = state.weight_seen + w
    scale = seen if total_weight is None else min(seen, total_weight)
    ctx = StepContext(hard=hard, pass_index=0, iteration=state.n_updates)
    start = state.params if local_params is None else local_params
    params = model.m_step(stats * scale, start, ctx)
    stats = model.rebase_stats(stats, state.params, params)
    return OnlineState(params, stats, state.n_updates + 1, seen)


def online_step(
    model: EMModel[P],
    state: OnlineState[P],
    batch: Batch,
    *,
    step_size: StepSize,
    hard: bool = False,
    total_weight: float | None = None,
) -> OnlineState[P]:
    """E-step of ``batch`` at ``state.params`` (``model.online_e_step``), then
    :func:`online_update`.

    Raises
    ------
    NonFiniteError
        When the batch's log-likelihood is not finite (a row with zero probability).
    """
    ctx = StepContext(hard=hard, pass_index=0, iteration=state.n_updates)
    stats, local = model.online_e_step(batch, state.params, ctx)
    _check_finite(model, stats.loglik, state.n_updates)
    return online_update(
        model,
        state,
        stats,
        step_size=step_size,
        hard=hard,
        total_weight=total_weight,
        local_params=local,
    )


def run_online(
    model: EMModel[P],
    data: Any,
    params: P,
    *,
    executor: Executor,
    n_epochs: int = 1,
    step_size: StepSize | None = None,
    hard: bool = False,
    shuffle: bool = True,
    random_state: np.random.RandomState | None = None,
    callbacks: Sequence[Callback] = (),
) -> FitResult[P]:
    """Stepwise EM over the batches of ``data``, ``n_epochs`` times, from ``params``.

    Parameters
    ----------
    model : EMModel
    data : object
        As ``executor`` holds it (``executor.prepare``); its chunks are the mini-batches.
    params : object
        Starting parameters.
    executor : Executor
        Yields the batches (:meth:`~emkit.executors.Executor.batches`).
    n_epochs : int, default=1
        Passes over the data.
    step_size : StepSize, optional
        Default ``StepSize()``.
    hard : bool, default=False
    shuffle : bool, default=True
        Visit the batches in a random order each epoch (drawn from ``random_state``); stepwise
        EM assumes exchangeable batches, and files are often sorted.
    random_state : numpy.random.RandomState, optional
    callbacks : sequence of callables
        Called after every batch with an :class:`~emkit.engine.IterationInfo` whose
        ``iteration`` counts batches and whose ``log_likelihood`` is the running estimate.

    Returns
    -------
    FitResult
        ``log_likelihood_history`` holds the running estimate of the total log-likelihood
        (mean per unit weight times the total weight) after every batch; ``n_iter`` counts
        batches; ``converged`` is False (stepwise EM has no stopping test); ``final_stats`` are
        the running statistics scaled to the total weight.
    """
    check_online(model)
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 1:
        raise ParameterError(f"n_epochs must be a positive integer, got {n_epochs!r}")
    step = StepSize() if step_size is None else step_size
    rng = np.random.RandomState() if random_state is None else random_state
    total = executor.total_weight(data)
    state: OnlineState[P] = OnlineState(params)
    history: list[float] = []
    for _ in range(n_epochs):
        for batch in executor.batches(data, rng if shuffle else None):
            state = online_step(model, state, batch, step_size=step, hard=hard, total_weight=total)
            value = state.mean_log_likelihood * total
            history.append(value)
            info = IterationInfo(0, state.n_updates, value, state.params)
            for callback in callbacks:
                callback(info)
    final = Stats() if state.stats is None else state.stats * total
    return FitResult(
        params=state.params,
        log_likelihood_history=np.asarray(history, dtype=np.float64),
        n_iter=state.n_updates,
        converged=False,
        total_weight=total,
        final_stats=final,
    )


# -- the estimator's side (EMEstimator.partial_fit and fit_online delegate here) --------------
def _step_size(estimator: Any, step_size: StepSize | None) -> StepSize:
    if step_size is not None:
        if not isinstance(step_size, StepSize):
            raise ParameterError(f"step_size must be a StepSize, got {step_size!r}")
        return step_size
    return getattr(estimator, "online_step_size_", None) or StepSize()


def _random_state(estimator: Any) -> np.random.RandomState:
    from emkit._sklearn_api import check_random_state

    return check_random_state(estimator.random_state)


def partial_fit(
    estimator: Any,
    X: Any,
    sample_weight: Any = None,
    *,
    step_size: StepSize | None = None,
    fit_data: dict[str, Any],
) -> None:
    """One stepwise-EM update of ``estimator`` (an :class:`~emkit.base.EMEstimator`) from the
    rows ``X``: see :meth:`emkit.base.EMEstimator.partial_fit`."""
    from emkit.executors._rows import check_total_weight, make_batch

    check_online(estimator)
    state: OnlineState[Any] | None = getattr(estimator, "online_state_", None)
    fitted = hasattr(estimator, "params_")
    if state is None:
        estimator._check_params()
    # sequence models: the batch's whole sequences (``lengths``) become its groups
    X, sample_weight, fit_data, groups = estimator._split_groups(X, sample_weight, fit_data)
    if state is None and not fitted:
        batch = make_batch(
            estimator, X, sample_weight, fit_data, reset=True, where="the batch", groups=groups
        )
        if batch.n_rows == 0:
            raise DataError(f"{type(estimator).__name__} got empty data: X has 0 samples")
        estimator._check_n_samples(batch.n_rows)
        check_total_weight(float(np.sum(batch.weight, dtype=np.float64)))
        rng = _random_state(estimator)
        params = estimator._initial_params()
        if params is None:
            params = _best_start(estimator, batch, rng)
        state = OnlineState(params)
    else:
        batch = make_batch(
            estimator, X, sample_weight, fit_data, reset=False, where="the batch", groups=groups
        )
        if state is None:  # fitted, then saved and loaded: the parameters without statistics
            state = OnlineState(estimator.params_)
    step = _step_size(estimator, step_size)
    state = online_step(estimator, state, batch, step_size=step, hard=estimator.hard)
    _set_online(estimator, state, step)


def _set_online(estimator: Any, state: OnlineState[Any], step: StepSize) -> None:
    value = state.mean_log_likelihood * state.weight_seen
    history = np.append(getattr(estimator, "log_likelihood_history_", np.empty(0)), value)
    final = Stats() if state.stats is None else state.stats * state.weight_seen
    result = FitResult(
        params=state.params,
        log_likelihood_history=history,
        n_iter=state.n_updates,
        converged=False,
        total_weight=max(state.weight_seen, float(np.finfo(np.float64).tiny)),
        final_stats=final,
    )
    estimator._set_result(result)
    estimator.online_state_ = state
    estimator.online_step_size_ = step


def _best_start(estimator: Any, batch: Batch, rng: np.random.RandomState) -> Any:
    """Of ``n_init`` draws of ``init_params`` on ``batch``, the one under which ``batch`` is most
    likely (stepwise EM, like EM, keeps the basin it starts in)."""
    best, best_value = None, -np.inf
    ctx = StepContext(hard=estimator.hard)
    hooks = estimator._engine_model()  # an HMM's init_params is hmmlearn's letter string
    for _ in range(estimator.n_init):
        params = hooks.init_params(batch, rng)
        value = estimator.online_e_step(batch, params, ctx)[0].loglik
        if best is None or value > best_value:
            best, best_value = params, value
    return best


def fit_online(
    estimator: Any,
    X: Any,
    sample_weight: Any = None,
    *,
    batch_rows: int,
    n_epochs: int,
    step_size: StepSize | None,
    shuffle: bool,
    callbacks: Sequence[Callback],
    fit_data: dict[str, Any],
) -> None:
    """Stepwise EM of ``estimator`` over ``X`` in batches: see
    :meth:`emkit.base.EMEstimator.fit_online`."""
    from emkit.executors import InMemoryExecutor, StreamExecutor, resolve_executor

    check_online(estimator)
    estimator._check_params()
    default = resolve_executor(None, X)
    executor: Executor
    if isinstance(default, StreamExecutor):
        executor = StreamExecutor(batch_rows)
    else:
        executor = InMemoryExecutor(batch_rows)
    X, sample_weight, fit_data, groups = estimator._split_groups(X, sample_weight, fit_data)
    extra = {} if groups is None else {"groups": groups}
    prepared = executor.prepare(estimator, X, sample_weight, fit_data, **extra)
    rng = _random_state(estimator)
    params = estimator._initial_params()
    if params is None:
        params = _best_start(estimator, executor.init_batch(prepared.data, rng), rng)
    step = _step_size(None, step_size)
    result = run_online(
        estimator,
        prepared.data,
        params,
        executor=executor,
        n_epochs=n_epochs,
        step_size=step,
        hard=estimator.hard,
        shuffle=shuffle,
        random_state=rng,
        callbacks=callbacks,
    )
    estimator._set_result(result)
    total = result.total_weight
    stats = result.final_stats * (1.0 / total) if len(result.final_stats) else None
    estimator.online_state_ = OnlineState(result.params, stats, result.n_iter, total)
    estimator.online_step_size_ = step
