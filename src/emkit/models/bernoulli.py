"""Mixtures of multivariate Bernoulli distributions (binary vectors); the three-coin model."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from emkit._sklearn_api import validate_data
from emkit._validation import NONE, Constraint, interval
from emkit.exceptions import DataError
from emkit.models.binomial import BinomialMixture

__all__ = ["BernoulliMixture"]


class BernoulliMixture(BinomialMixture):
    r"""Mixture of products of Bernoulli distributions over binary vectors, fitted by EM.

    .. math:: p(x_i) = \sum_k w_k \prod_d \theta_{kd}^{x_{id}} (1 - \theta_{kd})^{1 - x_{id}}

    This is :class:`BinomialMixture` with one trial per feature. The three-coin model of Li Hang
    (Statistical Learning Methods, example 9.1) is ``n_features = 1``: coin A (heads with
    probability ``pi = weights_[0]``) picks coin B (``p = theta_[0, 0]``) or coin C
    (``q = theta_[1, 0]``), and only B's or C's outcome is seen. That model is not identifiable:
    every ``(pi, p, q)`` with ``pi p + (1 - pi) q`` equal to the frequency of ones maximises the
    likelihood, so EM stops after one iteration wherever it starts.

    Parameters
    ----------
    n_components : int, default=2
        Number of components K.
    binarize : float, optional
        If given, entries above this threshold become 1 and the rest 0 (as in
        scikit-learn's ``BernoulliNB``). If None (default), X must already hold only 0 and 1.
    fixed_weights, init, theta_init, weights_init, tol, max_iter, n_init, hard, random_state, \
warm_start
        As in :class:`BinomialMixture`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    theta_ : ndarray of shape (n_components, n_features)
        ``P(x_d = 1 | z = k)``.
    """

    n_trials: ClassVar[int] = 1  # type: ignore[misc]  # a constant here, a parameter above

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "binarize": interval(float, None, None) | NONE,
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        binarize: float | None = None,
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
        self.binarize = binarize
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

    def _validate_counts(self, X: Any, reset: bool) -> np.ndarray:
        X = np.asarray(validate_data(self, X, reset=reset, dtype=[np.float64, np.float32]))
        if self.binarize is not None:
            return (X > self.binarize).astype(X.dtype)
        bad = np.argwhere((X != 0) & (X != 1))
        if bad.size:
            i, d = bad[0]
            raise DataError(
                f"BernoulliMixture needs binary data (0/1), got X[{i}, {d}] = {X[i, d]:g}; "
                "set binarize=<threshold> to binarise real values"
            )
        return X

    def _validate_data(
        self, X: Any, *, reset: bool, trials: Any = None, **unexpected: Any
    ) -> tuple[np.ndarray, ...]:
        if trials is not None:
            raise TypeError("BernoulliMixture has one trial per feature; do not pass trials")
        return super()._validate_data(X, reset=reset, **unexpected)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = False
        return tags
