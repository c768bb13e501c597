"""Mixtures of binomials: the two-coin problem and its many-coin, many-feature generalisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import gammaln

from emkit._sklearn_api import validate_data
from emkit._validation import ARRAY, NONE, Constraint, interval, one_of
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import DataError, ParameterError
from emkit.stats import Stats

__all__ = ["BinomialMixture", "BinomialParams"]


@dataclass(frozen=True)
class BinomialParams:
    """Parameters of a binomial mixture.

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
        Mixing weights ``P(z = k)``.
    theta : ndarray of shape (n_components, n_features)
        Success probability of each feature in each component.
    """

    weights: np.ndarray
    theta: np.ndarray


def _as_probability_matrix(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape and arr.size == int(np.prod(shape)):
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ParameterError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ParameterError(f"{name} must hold probabilities in [0, 1], got {arr.tolist()}")
    return arr


class BinomialMixture(MixtureEstimator[BinomialParams]):
    r"""Mixture of products of binomials, fitted by EM.

    Row ``i`` holds the successes ``x_id`` out of ``t_id`` trials for each feature ``d``; a hidden
    component ``z_i`` chooses the success probabilities:

    .. math:: p(x_i) = \sum_k w_k \prod_d \binom{t_{id}}{x_{id}}
              \theta_{kd}^{x_{id}} (1 - \theta_{kd})^{t_{id} - x_{id}}

    The two-coin problem of Do & Batzoglou (2008) is ``n_features = 1``, ``n_trials = 10`` and
    ``fixed_weights=[0.5, 0.5]``.

    Parameters
    ----------
    n_components : int, default=2
        Number of components K.
    n_trials : int, optional
        Trials per observation. If None, pass per-row ``trials=`` (shape (n_samples,) or
        (n_samples, n_features)) to ``fit``, ``predict`` and the other methods.
    fixed_weights : array-like of shape (n_components,), optional
        Keep the mixing weights fixed at these values instead of learning them.
    init : {'random', 'random_from_data'}, default='random'
        'random' draws random responsibilities and takes one M-step; 'random_from_data' starts
        each component at a distinct random row's success rate (smoothed by 1/2 pseudo-count).
    theta_init : array-like of shape (n_components, n_features), optional
        Start from these success probabilities (all restarts start there).
    weights_init : array-like of shape (n_components,), optional
        Starting mixing weights with ``theta_init`` (default uniform).
    tol : float, default=1e-6
        Stop when the mean log-likelihood changes by less than ``tol``.
    max_iter : int, default=100
        Maximum number of EM iterations.
    n_init : int, default=1
        Number of random starts; the best final log-likelihood is kept.
    hard : bool, default=False
        Hard (classification) EM: each row is assigned wholly to its most probable component.
    random_state : int, RandomState or None, default=None
        Seed of the starting points.
    warm_start : bool, default=False
        Start the next ``fit`` from the current parameters.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    theta_ : ndarray of shape (n_components, n_features)
    params_ : BinomialParams
    n_iter_, converged_, log_likelihood_, lower_bound_, log_likelihood_history_
        See :class:`~emkit.base.EMEstimator`.

    Notes
    -----
    Success probabilities are clipped to ``[tiny, 1 - eps]`` inside logarithms so that a
    component with a rate of exactly 0 or 1 yields finite log-likelihoods. Counts need not be
    integers: fractional counts enter the likelihood through the gamma function.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit import BinomialMixture
    >>> heads = np.array([[5], [9], [8], [4], [7]])
    >>> m = BinomialMixture(2, n_trials=10, fixed_weights=[0.5, 0.5],
    ...                     theta_init=[[0.6], [0.5]], max_iter=10, tol=0).fit(heads)
    ... # doctest: +SKIP
    >>> m.theta_.ravel().round(6)  # doctest: +SKIP
    array([0.796744, 0.519659])
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_trials": interval(int, 1, None) | NONE,
        "fixed_weights": ARRAY | NONE,
        "init": one_of({"random", "random_from_data"}),
        "theta_init": ARRAY | NONE,
        "weights_init": ARRAY | NONE,
    }

    params_type = BinomialParams
    supports_online: ClassVar[bool] = True

    def __init__(
        self,
        n_components: int = 2,
        *,
        n_trials: int | None = None,
        fixed_weights: Any = None,
        init: str = "random",
        theta_init: Any = None,
        weights_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.n_components = n_components
        self.n_trials = n_trials
        self.fixed_weights = fixed_weights
        self.init = init
        self.theta_init = theta_init
        self.weights_init = weights_init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    # -- data -----------------------------------------------------------------------------
    def _validate_counts(self, X: Any, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        if np.any(X < 0):
            raise DataError(
                f"Negative values in data passed to {type(self).__name__}: X (successes) "
                f"must be non-negative, got minimum {X.min():g}"
            )
        return np.asarray(X)

    def _validate_data(
        self, X: Any, *, reset: bool, trials: Any = None, **unexpected: Any
    ) -> tuple[np.ndarray, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = self._validate_counts(X, reset)
        if trials is None:
            if self.n_trials is None:
                raise ParameterError(
                    f"{type(self).__name__} needs the number of trials: set n_trials=... or "
                    "pass trials=... (one value per row or per row and feature)"
                )
            T = np.full_like(X, self.n_trials)
        else:
            T = np.asarray(trials, dtype=X.dtype)
            if T.ndim == 1:
                T = T[:, None]
            try:
                T = np.broadcast_to(T, X.shape)
            except ValueError:
                raise DataError(
                    f"trials of shape {np.shape(trials)} does not match X of shape {X.shape}"
                ) from None
            if not np.all(np.isfinite(T)) or np.any(T < 0):
                raise DataError("trials must be finite and non-negative")
        bad = np.argwhere(X > T)
        if bad.size:
            i, d = bad[0]
            raise DataError(
                f"successes exceed trials: X[{i}, {d}] = {X[i, d]:g} > trials = {T[i, d]:g}"
            )
        return X, np.ascontiguousarray(T)

    def _check_params(self) -> None:
        super()._check_params()
        if self.fixed_weights is not None:
            self._fixed_weights()

    def _fixed_weights(self) -> np.ndarray:
        w = np.asarray(self.fixed_weights, dtype=np.float64)
        if w.shape != (self.n_components,) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ParameterError(
                f"fixed_weights must be {self.n_components} non-negative numbers summing to 1, "
                f"got {np.asarray(self.fixed_weights).tolist()!r}"
            )
        return w

    # -- engine hooks ---------------------------------------------------------------------
    def _initial_params(self) -> BinomialParams | None:
        warm = super()._initial_params()
        if warm is not None or self.theta_init is None:
            return warm
        n_features = self.n_features_in_
        theta = _as_probability_matrix(
            "theta_init", self.theta_init, (self.n_components, n_features)
        )
        if self.weights_init is not None:
            weights = _as_probability_matrix(
                "weights_init", self.weights_init, (self.n_components,)
            )
        elif self.fixed_weights is not None:
            weights = self._fixed_weights()
        else:
            weights = np.full(self.n_components, 1.0 / self.n_components)
        return BinomialParams(weights=weights, theta=theta)

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> BinomialParams:
        X, T = batch.arrays
        if self.init == "random_from_data":
            rows = rng.choice(batch.n_rows, size=self.n_components, replace=False)
            theta = (X[rows] + 0.5) / (T[rows] + 1.0)
            weights = (
                self._fixed_weights()
                if self.fixed_weights is not None
                else np.full(self.n_components, 1.0 / self.n_components)
            )
            return BinomialParams(weights=weights.astype(X.dtype), theta=theta)
        resp = rng.uniform(size=(batch.n_rows, self.n_components)).astype(X.dtype)
        resp /= resp.sum(axis=1, keepdims=True)
        stats = self.accumulate(batch, resp * batch.weight[:, None], None)
        # smoothing keeps random starts away from the boundary
        smoothed = stats.replace(sx=stats["sx"] + 0.5, st=stats["st"] + 1.0)
        return self.m_step(smoothed, None, StepContext())

    def log_joint(self, batch: Batch, params: BinomialParams) -> np.ndarray:
        X, T = batch.arrays
        dtype = X.dtype
        finfo = np.finfo(dtype)
        theta = np.clip(params.theta.astype(dtype, copy=False), finfo.tiny, 1 - finfo.eps)
        log_coef = np.sum(gammaln(T + 1) - gammaln(X + 1) - gammaln(T - X + 1), axis=1)
        with np.errstate(divide="ignore"):
            log_w = np.log(params.weights.astype(dtype, copy=False))
        return X @ np.log(theta).T + (T - X) @ np.log1p(-theta).T + log_w + log_coef[:, None]

    def accumulate(self, batch: Batch, resp: np.ndarray, params: BinomialParams | None) -> Stats:
        X, T = batch.arrays
        return Stats(nk=resp.sum(axis=0), sx=resp.T @ X, st=resp.T @ T)

    def m_step(
        self, stats: Stats, params: BinomialParams | None, ctx: StepContext
    ) -> BinomialParams:
        nk, sx, st = stats["nk"], stats["sx"], stats["st"]
        if self.fixed_weights is not None:
            weights = self._fixed_weights().astype(nk.dtype)
        else:
            weights = nk / nk.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = sx / st
        empty = st <= 0  # a component with no trials keeps its previous rate
        if np.any(empty):
            previous = np.full_like(theta, 0.5) if params is None else params.theta
            theta = np.where(empty, previous, theta)
        return BinomialParams(weights=weights, theta=theta)

    def _n_parameters(self) -> int:
        free_weights = 0 if self.fixed_weights is not None else self.n_components - 1
        return int(self.theta_.size) + free_weights

    def _sample(
        self, params: BinomialParams, labels: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, ...]:
        if self.n_trials is None:
            raise ParameterError("sampling needs n_trials (per-row trials were used in fit)")
        X = rng.binomial(self.n_trials, params.theta[labels]).astype(np.float64)
        return (X,)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags
