"""Imputation by a Gaussian mixture fitted with missing values: a scikit-learn transformer.

:class:`GaussianMixtureImputer` fits a :class:`~emkit.models.GaussianMixture` with
``missing='em'`` (exact EM on the observed values) and fills each NaN with its conditional mean
``E[x_M | x_O]`` under the mixture, or (``sample_posterior=True``) with a draw from
``p(x_M | x_O)`` for multiple imputation. It needs no scikit-learn import and works in a
``sklearn.pipeline.Pipeline``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from emkit._sklearn_api import (
    BaseEstimator,
    TransformerMixin,
    check_is_fitted,
    check_random_state,
)
from emkit._validation import BOOL, NONE, RANDOM_STATE, Constraint, interval, validate_params
from emkit.exceptions import ConvergenceWarning, ParameterError
from emkit.models.gaussian import COVARIANCE_KINDS, GaussianMixture

__all__ = ["GaussianMixtureImputer"]


def _observed_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each column's observed values (1 where constant)."""
    observed = ~np.isnan(X)
    count = observed.sum(axis=0)
    if np.any(count == 0):
        from emkit.exceptions import DataError

        raise DataError(
            f"column(s) {np.flatnonzero(count == 0).tolist()} of X have no observed value"
        )
    Xo = np.where(observed, X, 0.0).astype(np.float64)
    center = Xo.sum(axis=0) / count
    var = (np.where(observed, Xo - center, 0.0) ** 2).sum(axis=0) / count
    scale = np.sqrt(var)
    return center, np.where(scale > 0, scale, 1.0)


class GaussianMixtureImputer(TransformerMixin, BaseEstimator):
    """Fill missing values (NaN) from a Gaussian mixture fitted to the observed values.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components. None chooses it by BIC of the *observed* data (the
        log-likelihood that EM with missing values maximises) among 1 .. ``max_components``,
        jointly with ``covariance_type`` when that is a sequence; the true values are never
        looked at.
    covariance_type : str or sequence of str, default=('full', 'tied')
        One of 'full', 'tied', 'diag', 'spherical', or several to choose from by BIC.
    max_components : int, default=5
        Largest number of components tried when ``n_components`` is None.
    sample_posterior : bool, default=False
        ``transform`` draws each row's missing values from ``p(x_M | x_O)`` (a component from
        the posterior, then its conditional Gaussian) instead of the conditional mean;
        different ``random_state`` give the draws of a multiple imputation.
    reg_covar : float, default=0.03
        Added to the covariance diagonals *in standardised units*: the mixture is fitted to
        the columns scaled by the mean and standard deviation of their observed values, so this
        is a fraction of each column's variance. It shrinks the covariances towards the
        diagonal, which small samples need (the default was chosen on the benchmark data of
        ``benchmarks/bench_impute.py``; 1e-6 gives the unregularised fit).
    tol, max_iter, n_init : see :class:`~emkit.models.GaussianMixture`
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    mixture_ : GaussianMixture
        The fitted (selected) mixture.
    n_components_ : int
    covariance_type_ : str
    bic_ : dict of (n_components, covariance_type) -> float
        BIC of every candidate fitted.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.models import GaussianMixtureImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=200)
    >>> X_missing = X.copy(); X_missing[::4, 1] = np.nan
    >>> filled = GaussianMixtureImputer(n_components=1, random_state=0).fit_transform(X_missing)
    >>> bool(np.isnan(filled).any())
    False
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_components": interval(int, 1, None) | NONE,
        "max_components": interval(int, 1, None),
        "sample_posterior": BOOL,
        "reg_covar": interval(float, 0.0, None),
        "tol": interval(float, 0.0, None),
        "max_iter": interval(int, 1, None),
        "n_init": interval(int, 1, None),
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        n_components: int | None = None,
        *,
        covariance_type: str | Sequence[str] = ("full", "tied"),
        max_components: int = 5,
        sample_posterior: bool = False,
        reg_covar: float = 0.03,
        tol: float = 1e-4,
        max_iter: int = 300,
        n_init: int = 1,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.max_components = max_components
        self.sample_posterior = sample_posterior
        self.reg_covar = reg_covar
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state

    def _types(self) -> list[str]:
        value = self.covariance_type
        types = [value] if isinstance(value, str) else list(value)
        if not types or any(t not in COVARIANCE_KINDS for t in types):
            raise ParameterError(
                "The 'covariance_type' parameter of GaussianMixtureImputer must be one of "
                f"{sorted(COVARIANCE_KINDS)} or a non-empty sequence of them. Got {value!r} "
                "instead."
            )
        return types

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixtureImputer:
        """Fit the mixture to the observed values of ``X`` (NaN = missing).

        Returns
        -------
        self
        """
        validate_params(self, self._parameter_constraints)
        types = self._types()
        from emkit.models import gaussian_missing

        probe = GaussianMixture(missing="em")
        X = gaussian_missing.validate(probe, X, reset=True)
        self.n_features_in_ = X.shape[1]
        self.center_, self.scale_ = _observed_scale(X)
        X = (X - self.center_) / self.scale_
        n = int(np.sum(~np.isnan(X).all(axis=1)))
        ks = [self.n_components] if self.n_components is not None else None
        ks = list(range(1, max(1, min(self.max_components, n)) + 1)) if ks is None else ks
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        best: tuple[float, GaussianMixture] | None = None
        self.bic_: dict[tuple[int, str], float] = {}
        for t in types:
            for k in ks:
                gm = GaussianMixture(
                    k,
                    covariance_type=t,
                    missing="em",
                    reg_covar=self.reg_covar,
                    tol=self.tol,
                    max_iter=self.max_iter,
                    n_init=self.n_init,
                    random_state=seed,
                )
                with warnings.catch_warnings():
                    if len(types) * len(ks) > 1:  # candidates that do not converge lose on BIC
                        warnings.simplefilter("ignore", ConvergenceWarning)
                    gm.fit(X, sample_weight=sample_weight)
                bic = gm.bic(X)
                self.bic_[(k, t)] = bic
                if best is None or bic < best[0]:
                    best = (bic, gm)
        assert best is not None
        self.mixture_ = best[1]
        self.n_components_ = self.mixture_.n_components
        self.covariance_type_ = self.mixture_.covariance_type
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``X`` with every NaN filled (conditional mean, or a draw if ``sample_posterior``).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "mixture_")
        from emkit.models import gaussian_missing

        X = gaussian_missing.validate(self, X, reset=False)
        Z = (X - self.center_) / self.scale_
        if self.sample_posterior:
            rng = check_random_state(self.random_state)
            filled = self.mixture_.sample_imputations(Z, 1, random_state=rng)[0]
        else:
            filled = self.mixture_.impute(Z)
        out = filled * self.scale_ + self.center_
        observed = ~np.isnan(X)
        out[observed] = X[observed]  # exactly, not through the round trip of the scaling
        return out.astype(X.dtype, copy=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
