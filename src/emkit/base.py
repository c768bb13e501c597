"""scikit-learn-style estimators on the EM engine.

:class:`EMEstimator` turns any :class:`~emkit.engine.EMModel` into an estimator with ``fit``,
restarts, warm starts, sample weights, callbacks and save/load. :class:`MixtureEstimator` is the
common case of independent rows with one discrete hidden class per row: a model then writes only
``log_joint`` (``log p(x_i, z_i = k)``) and ``accumulate`` (weighted statistics from the
posteriors), and gets the E-step, ``predict``, ``predict_proba``, ``score_samples``, ``score``,
``bic`` and ``aic`` for free.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from emkit._sklearn_api import BaseEstimator, DensityMixin, check_is_fitted, check_random_state
from emkit._validation import (
    BOOL,
    RANDOM_STATE,
    Constraint,
    interval,
    validate_params,
)
from emkit.data import Batch
from emkit.engine import Callback, EMModel, FitResult, StepContext, fit_em
from emkit.exceptions import DataError
from emkit.executors import Executor, resolve_executor
from emkit.stats import Stats

__all__ = ["EMEstimator", "MixtureEstimator"]

P = TypeVar("P")

#: Every estimator class, by qualified name: what :func:`emkit.load` may instantiate.
REGISTRY: dict[str, type[EMEstimator[Any]]] = {}


class EMEstimator(EMModel[P], BaseEstimator, Generic[P]):
    """Base class of emkit estimators: an :class:`~emkit.engine.EMModel` with ``fit``.

    Subclasses declare their hyperparameters in ``__init__`` (stored unchanged, as scikit-learn
    requires), a frozen dataclass ``params_type`` for the fitted parameters, the engine hooks,
    and ``_validate_data``. After ``fit`` every field ``f`` of the parameters is also available
    as the attribute ``f_`` (e.g. ``weights_``), together with ``params_``, ``n_iter_``,
    ``converged_``, ``log_likelihood_`` (total, weighted), ``lower_bound_`` (its mean per unit
    of weight, as in scikit-learn) and ``log_likelihood_history_``.

    Common hyperparameters: ``tol``, ``max_iter``, ``n_init``, ``hard``, ``random_state``,
    ``warm_start``.
    """

    params_type: ClassVar[type]
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "tol": interval(float, 0.0, None),
        "max_iter": interval(int, 0, None),
        "n_init": interval(int, 1, None),
        "hard": BOOL,
        "random_state": RANDOM_STATE,
        "warm_start": BOOL,
    }

    # declared here so that type checkers and readers know every estimator has them
    tol: float
    max_iter: int
    n_init: int
    hard: bool
    random_state: Any
    warm_start: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls

    # -- hooks for subclasses -------------------------------------------------------------
    @abstractmethod
    def _validate_data(self, X: Any, *, reset: bool, **fit_data: Any) -> tuple[np.ndarray, ...]:
        """Check ``X`` (and model-specific extras) and return the row-aligned arrays of a batch.

        ``reset=True`` (in ``fit``) records ``n_features_in_``; ``reset=False`` checks against it.
        """

    def _check_params(self) -> None:
        """Validate hyperparameters (runs first in ``fit``); extend for model checks."""
        constraints: dict[str, Constraint] = {}
        for klass in reversed(type(self).__mro__):
            constraints.update(vars(klass).get("_parameter_constraints", {}))
        validate_params(self, constraints)

    def _check_n_samples(self, n_samples: int) -> None:
        """Checks that need the number of rows (e.g. components <= samples)."""

    def _split_groups(
        self, X: Any, sample_weight: Any, fit_data: dict[str, Any]
    ) -> tuple[Any, Any, dict[str, Any], np.ndarray | None]:
        """``fit``'s inputs and the first row of each group of rows that must stay in one chunk.

        The default: rows are independent (no groups). Sequence models (:mod:`emkit.hmm`)
        turn their ``lengths`` into groups here.
        """
        return X, sample_weight, fit_data, None

    def _engine_model(self) -> EMModel[P]:
        """The hooks the engine runs: the estimator itself, or an adapter when a hyperparameter
        shadows a hook's name (hmmlearn's ``init_params`` string, in :mod:`emkit.hmm`)."""
        return self

    def _initial_params(self) -> P | None:
        """Parameters to start from instead of ``init_params`` (user-given or warm start)."""
        if self.warm_start and hasattr(self, "params_"):
            return self.params_
        return None

    # -- fitting ----------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        callbacks: Sequence[Callback] = (),
        executor: Executor | str | None = None,
        **fit_data: Any,
    ) -> EMEstimator[P]:
        """Fit the model by EM.

        Parameters
        ----------
        X : array-like, path or RowSource
            The observations (shape and meaning documented by each model): an array (NumPy,
            or a dask array), or data on disk: a ``.npy`` or ``.parquet`` path, a directory of
            Parquet files, or a :class:`~emkit.sources.RowSource`.
        y : None
            Ignored; present for scikit-learn API consistency.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; an integer weight ``w`` is the same as repeating the row ``w``
            times. Defaults to 1 for every row.
        callbacks : sequence of callables, optional
            Each called with an :class:`~emkit.engine.IterationInfo` (restart, iteration,
            log-likelihood, parameters) at the start and after every iteration.
        executor : Executor or {'memory', 'stream', 'dask'}, optional
            Where the passes over the data run (see :mod:`emkit.executors`): in memory by
            default, streamed from disk by default when ``X`` is a path or a row source. The
            result is the same on every executor up to floating-point reassociation. Streamed
            and Dask fits validate every chunk as it is read.
        **fit_data
            Model-specific per-row data (e.g. ``trials`` for :class:`BinomialMixture`), in any
            form ``X`` may take.

        Returns
        -------
        self
        """
        self._check_params()
        executor = resolve_executor(executor, X)
        X, sample_weight, fit_data, groups = self._split_groups(X, sample_weight, fit_data)
        extra = {} if groups is None else {"groups": groups}
        prepared = executor.prepare(self, X, sample_weight, fit_data, **extra)
        result = fit_em(
            self._engine_model(),
            prepared.data,
            executor=executor,
            n_init=self.n_init,
            random_state=check_random_state(self.random_state),
            init_params=self._initial_params(),
            max_iter=self.max_iter,
            tol=self.tol,
            hard=self.hard,
            callbacks=callbacks,
            eps=float(np.finfo(prepared.dtype).eps),
        )
        self._set_fitted(result)
        return self

    # -- online (stepwise) EM: see emkit.online ---------------------------------------------
    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        step_size: Any = None,
        **fit_data: Any,
    ) -> EMEstimator[P]:
        """One step of stepwise (online) EM on the mini-batch ``X``.

        The batch's statistics at the current parameters, divided by its weight, update the
        running statistics ``s <- (1 - rho_t) s + rho_t s_batch`` with ``rho_t = (t + t0) **
        -kappa``, and one M-step follows (see :mod:`emkit.online`). The first call (on an
        unfitted model) starts from ``init_params`` on its batch, or from the user-given
        starting parameters; after :meth:`fit` it continues from the fitted parameters and
        statistics; :meth:`fit` starts afresh.

        Parameters
        ----------
        X : array-like
            The batch's rows (at least ``n_components`` of them in the first batch).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), optional
            As in :meth:`fit`: within a batch an integer weight equals repetition.
        step_size : emkit.online.StepSize, optional
            The schedule ``(kappa, t0)``; kept for later calls. Default ``StepSize()``
            (``kappa=0.6, t0=2``).
        **fit_data
            Per-row model data, as in :meth:`fit`.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            For models that do not support online EM (``n_passes > 1``: the crowd models, PLSA).

        Notes
        -----
        After the call ``n_iter_`` counts batches, ``lower_bound_`` is the running mean
        log-likelihood per unit weight (of the batches, at the parameters each met),
        ``log_likelihood_`` that times the weight seen, ``converged_`` is False, and
        ``online_state_`` holds the running statistics.
        """
        from emkit.online import partial_fit

        partial_fit(self, X, sample_weight, step_size=step_size, fit_data=fit_data)
        return self

    def fit_online(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        batch_rows: int = 65536,
        n_epochs: int = 1,
        step_size: Any = None,
        shuffle: bool = True,
        callbacks: Sequence[Callback] = (),
        **fit_data: Any,
    ) -> EMEstimator[P]:
        """Fit by stepwise (online) EM: ``n_epochs`` passes over ``X`` in ``batch_rows`` batches.

        ``X`` is whatever :meth:`fit` takes; data on disk (a path or a row source) are streamed
        and never held in memory whole. The start is ``init_params`` on the executor's
        initialisation sample (as in :meth:`fit`), or the user-given or warm-start parameters.
        Each batch then makes one :meth:`partial_fit`-style update; batches are visited in a
        random order each epoch when ``shuffle``. ``log_likelihood_history_`` holds the running
        estimate of the total log-likelihood after every batch. See :mod:`emkit.online`.
        """
        from emkit.online import fit_online

        fit_online(
            self,
            X,
            sample_weight,
            batch_rows=batch_rows,
            n_epochs=n_epochs,
            step_size=step_size,
            shuffle=shuffle,
            callbacks=callbacks,
            fit_data=fit_data,
        )
        return self

    def _set_fitted(self, result: FitResult[P]) -> None:
        from emkit.online import OnlineState

        self._set_result(result)
        # fit starts online EM afresh: partial_fit continues from this fit's statistics
        self.online_state_ = OnlineState.from_fit(result) if self.supports_online else None

    def _set_result(self, result: FitResult[P]) -> None:
        self.params_ = result.params
        for f in dataclasses.fields(result.params):  # type: ignore[arg-type]
            setattr(self, f"{f.name}_", getattr(result.params, f.name))
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.log_likelihood_history_ = result.log_likelihood_history
        self.log_likelihood_ = result.log_likelihood
        self.lower_bound_ = result.log_likelihood / result.total_weight

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: Any) -> None:
        """Save the fitted model as JSON + .npz (see :func:`emkit.save`)."""
        from emkit.io import save

        save(self, path)

    def _fitted_state(self) -> Mapping[str, Any]:
        check_is_fitted(self, "params_")
        return {
            "n_iter_": self.n_iter_,
            "converged_": bool(self.converged_),
            "log_likelihood_": float(self.log_likelihood_),
            "lower_bound_": float(self.lower_bound_),
            "n_features_in_": int(getattr(self, "n_features_in_", 0)),
        }


class MixtureEstimator(DensityMixin, EMEstimator[P]):
    """Independent rows, each with one discrete hidden class ``z_i`` in ``0 .. K-1``.

    A subclass implements:

    - ``log_joint(batch, params)`` -> ndarray (n, K): ``log p(x_i, z_i = k | params)``;
    - ``accumulate(batch, resp, params)`` -> Stats: statistics from ``resp``, the posteriors
      already multiplied by the sample weights;
    - ``init_params`` and ``m_step`` (from :class:`~emkit.engine.EMModel`);
    - ``_n_parameters()`` for ``bic``/``aic``, and ``_sample`` for ``sample``.
    """

    n_components: int

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_components": interval(int, 1, None),
    }

    def _check_n_samples(self, n_samples: int) -> None:
        super()._check_n_samples(n_samples)
        if self.n_components > n_samples:
            raise DataError(
                f"n_components={self.n_components} must be <= n_samples={n_samples}: "
                "a mixture cannot have more components than data points"
            )

    @abstractmethod
    def log_joint(self, batch: Batch, params: P) -> np.ndarray:
        """``log p(x_i, z_i = k | params)`` for every row i and component k: shape (n, K)."""

    @abstractmethod
    def accumulate(self, batch: Batch, resp: np.ndarray, params: P) -> Stats:
        """Sufficient statistics from weighted posteriors ``resp`` of shape (n, K)."""

    def e_step(self, batch: Batch, params: P, ctx: StepContext) -> Stats:
        resp, log_norm = ctx.posterior(self.log_joint(batch, params))
        weight = batch.weight
        stats = self.accumulate(batch, resp * weight[:, None], params)
        return stats.replace(
            loglik=float(np.dot(weight, log_norm)), weight=float(np.sum(weight, dtype=np.float64))
        )

    # -- inference on new data --------------------------------------------------------------
    def _batch(self, X: Any, fit_data: Mapping[str, Any]) -> Batch:
        check_is_fitted(self, "params_")
        arrays = self._validate_data(X, reset=False, **fit_data)
        return Batch(arrays, np.ones(arrays[0].shape[0], dtype=arrays[0].dtype))

    def _log_joint_checked(self, X: Any, fit_data: Mapping[str, Any]) -> np.ndarray:
        return self.log_joint(self._batch(X, fit_data), self.params_)

    def predict_proba(self, X: Any, **fit_data: Any) -> np.ndarray:
        """Posterior probability of each component for each row: shape (n_samples, K)."""
        resp, _ = StepContext().posterior(self._log_joint_checked(X, fit_data))
        return resp

    def predict(self, X: Any, **fit_data: Any) -> np.ndarray:
        """Most probable component of each row: shape (n_samples,)."""
        return np.argmax(self._log_joint_checked(X, fit_data), axis=1)

    def fit_predict(self, X: Any, y: Any = None, **fit_kw: Any) -> np.ndarray:
        """Fit, then return the labels of the training rows (same as ``fit(X).predict(X)``)."""
        fit_data = {k: v for k, v in fit_kw.items() if k not in ("sample_weight", "callbacks")}
        return self.fit(X, y, **fit_kw).predict(X, **fit_data)

    def score_samples(self, X: Any, **fit_data: Any) -> np.ndarray:
        """Log-likelihood ``log p(x_i)`` of each row: shape (n_samples,)."""
        _, log_norm = StepContext().posterior(self._log_joint_checked(X, fit_data))
        return log_norm

    def score(self, X: Any, y: Any = None, sample_weight: Any = None, **fit_data: Any) -> float:
        """Mean (weighted) log-likelihood per row."""
        scores = self.score_samples(X, **fit_data)
        return float(np.average(scores, weights=sample_weight))

    # -- model selection --------------------------------------------------------------------
    @abstractmethod
    def _n_parameters(self) -> int:
        """Number of free parameters of the fitted model."""

    def bic(self, X: Any, **fit_data: Any) -> float:
        """Bayesian information criterion on ``X`` (lower is better)."""
        n = self._batch(X, fit_data).n_rows
        ll = float(np.sum(self.score_samples(X, **fit_data)))
        return -2.0 * ll + self._n_parameters() * np.log(n)

    def aic(self, X: Any, **fit_data: Any) -> float:
        """Akaike information criterion on ``X`` (lower is better)."""
        ll = float(np.sum(self.score_samples(X, **fit_data)))
        return -2.0 * ll + 2.0 * self._n_parameters()

    # -- generation -------------------------------------------------------------------------
    def _sample(
        self, params: P, labels: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, ...]:
        raise NotImplementedError(f"{type(self).__name__} does not implement sampling")

    def _component_weights(self, params: P) -> np.ndarray:
        return np.asarray(params.weights)  # type: ignore[attr-defined]

    def sample(self, n_samples: int = 1, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` rows from the fitted mixture.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            The component each row was drawn from.
        """
        check_is_fitted(self, "params_")
        if not isinstance(n_samples, int | np.integer) or n_samples < 1:
            raise DataError(f"n_samples must be a positive integer, got {n_samples!r}")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        weights = self._component_weights(self.params_)
        labels = rng.choice(len(weights), size=n_samples, p=weights / weights.sum())
        X = self._sample(self.params_, labels, rng)[0]
        return X, labels
