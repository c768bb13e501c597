"""Model selection for Gaussian mixtures: a grid of K x covariance types scored by BIC and ICL.

Like R's mclust (Scrucca et al. 2016), every combination of a number of components and a
covariance structure is fitted, and the table of log-likelihoods, parameter counts, BIC, AIC and
ICL is returned together with the best model by BIC and by ICL. emkit's criteria follow
scikit-learn's sign convention: lower is better (mclust reports ``-BIC``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from emkit._sklearn_api import check_random_state
from emkit.exceptions import DataError, ParameterError
from emkit.models.gaussian import COVARIANCE_KINDS, GaussianMixture

__all__ = ["SelectionResult", "SelectionRow", "parse_range", "select_gaussian_mixture"]


@dataclass(frozen=True)
class SelectionRow:
    """One fitted candidate of the grid."""

    n_components: int
    covariance_type: str
    log_likelihood: float
    n_parameters: int
    bic: float
    aic: float
    icl: float
    converged: bool
    n_iter: int


@dataclass(frozen=True)
class SelectionResult:
    """The grid's table and the best models.

    Attributes
    ----------
    rows : list of SelectionRow
        One per (n_components, covariance_type) that could be fitted, in grid order.
    best_bic : GaussianMixture
        The fitted model with the lowest BIC.
    best_icl : GaussianMixture
        The fitted model with the lowest ICL.
    skipped : list of (n_components, covariance_type, reason)
        Candidates that could not be fitted (e.g. more components than rows).
    """

    rows: list[SelectionRow]
    best_bic: GaussianMixture
    best_icl: GaussianMixture
    skipped: list[tuple[int, str, str]] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (JSON-ready)."""
        return [asdict(r) for r in self.rows]

    def bic_matrix(self) -> tuple[list[int], list[str], np.ndarray]:
        """BIC as a (n_components x covariance types) matrix, NaN where not fitted."""
        ks = sorted({r.n_components for r in self.rows})
        types = list(dict.fromkeys(r.covariance_type for r in self.rows))
        out = np.full((len(ks), len(types)), np.nan)
        for r in self.rows:
            out[ks.index(r.n_components), types.index(r.covariance_type)] = r.bic
        return ks, types, out


def parse_range(text: str) -> list[int]:
    """Parse ``"1-10"``, ``"2,4,8"`` or ``"3"`` into a list of positive integers."""
    values: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                values.extend(range(lo, hi + 1))
            elif part:
                values.append(int(part))
    except ValueError:
        raise ParameterError(
            f"cannot read {text!r} as component counts: use e.g. '1-10' or '2,4,8'"
        ) from None
    if not values or min(values) < 1:
        raise ParameterError(f"component counts must be positive integers, got {text!r}")
    return sorted(set(values))


def select_gaussian_mixture(
    X: Any,
    n_components: Iterable[int] = range(1, 10),
    covariance_types: Sequence[str] = ("spherical", "diag", "tied", "full"),
    *,
    sample_weight: Any = None,
    n_init: int = 1,
    random_state: Any = None,
    callback: Callable[[SelectionRow], None] | None = None,
    **gmm_params: Any,
) -> SelectionResult:
    """Fit every (n_components, covariance_type) pair and pick the best by BIC and ICL.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : iterable of int, default=range(1, 10)
    covariance_types : sequence of str, default=all four
    sample_weight : array-like of shape (n_samples,), optional
    n_init : int, default=1
        Restarts per candidate.
    random_state : int, RandomState or None
        Each candidate gets its own seed drawn from this.
    callback : callable, optional
        Called with each :class:`SelectionRow` as soon as it is fitted (progress bars).
    **gmm_params
        Other :class:`GaussianMixture` hyperparameters (``tol``, ``max_iter``, ``reg_covar`` ...).

    Returns
    -------
    SelectionResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (200, 2)), rng.normal(8, 1, (200, 2))])
    >>> res = select_gaussian_mixture(X, range(1, 4), ["spherical"], random_state=0)
    >>> res.best_bic.n_components
    2
    """
    ks = sorted(set(int(k) for k in n_components))
    types = list(covariance_types)
    unknown = [t for t in types if t not in COVARIANCE_KINDS]
    if unknown:
        raise ParameterError(
            f"unknown covariance type {unknown[0]!r}; choose from {sorted(COVARIANCE_KINDS)}"
        )
    if not ks or not types:
        raise ParameterError("the grid is empty: give at least one K and one covariance type")
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    rng = check_random_state(random_state)
    rows: list[SelectionRow] = []
    models: list[tuple[float, float, GaussianMixture]] = []
    skipped: list[tuple[int, str, str]] = []
    for k in ks:
        for cov in types:
            seed = int(rng.randint(2**31 - 1))
            if k > X.shape[0]:
                skipped.append((k, cov, f"more components than the {X.shape[0]} rows"))
                continue
            model = GaussianMixture(
                k, covariance_type=cov, n_init=n_init, random_state=seed, **gmm_params
            )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.fit(X, sample_weight=sample_weight)
            _reemit_unexpected(caught)
            w = _weights(sample_weight, X.shape[0])
            ll = float(np.dot(w, model.score_samples(X)))
            n_par = model._n_parameters()
            bic = -2.0 * ll + n_par * np.log(w.sum())
            # ICL: BIC plus twice the entropy of the hard (MAP) classification
            log_map = np.log(np.maximum(model.predict_proba(X).max(axis=1), np.finfo(float).tiny))
            row = SelectionRow(
                n_components=k,
                covariance_type=cov,
                log_likelihood=ll,
                n_parameters=n_par,
                bic=float(bic),
                aic=-2.0 * ll + 2.0 * n_par,
                icl=float(bic - 2.0 * np.dot(w, log_map)),
                converged=bool(model.converged_),
                n_iter=int(model.n_iter_),
            )
            rows.append(row)
            models.append((row.bic, row.icl, model))
            if callback is not None:
                callback(row)
    if not models:
        raise DataError("no candidate of the grid could be fitted: " + skipped[0][2])
    best_bic = min(models, key=lambda m: m[0])[2]
    best_icl = min(models, key=lambda m: m[1])[2]
    return SelectionResult(rows, best_bic, best_icl, skipped)


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)


def _reemit_unexpected(caught: list[warnings.WarningMessage]) -> None:
    """Candidates too rich for the data degenerate by design: their warnings are expected and
    dropped (BIC rejects them); anything else is passed on."""
    from emkit.exceptions import ConvergenceWarning
    from emkit.models.gaussian import DegenerateComponentWarning

    for w in caught:
        if not issubclass(w.category, DegenerateComponentWarning | ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
