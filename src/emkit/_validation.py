"""Hyperparameter validation declared as data, with one message format."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from emkit._sklearn_api import check_sample_weight as _check_sample_weight
from emkit.exceptions import DataError, ParameterError

__all__ = [
    "Constraint",
    "check_sample_weight",
    "check_squares_finite",
    "interval",
    "one_of",
    "validate_params",
]


@dataclass(frozen=True)
class Constraint:
    """A predicate on a parameter value and the words that describe the values it accepts."""

    accepts: Callable[[Any], bool]
    description: str

    def __or__(self, other: Constraint) -> Constraint:
        return Constraint(
            lambda v: self.accepts(v) or other.accepts(v),
            f"{self.description} or {other.description}",
        )


def interval(
    kind: type, low: float | None, high: float | None = None, *, closed: str = "both"
) -> Constraint:
    """Numbers of type ``kind`` (int or float) within ``[low, high]`` (``closed`` as in sklearn)."""
    left = closed in ("both", "left")
    right = closed in ("both", "right")

    def accepts(value: Any) -> bool:
        if kind is int:
            ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
        else:
            ok = (
                isinstance(value, int | float | np.integer | np.floating)
                and not isinstance(value, bool)
                and bool(np.isfinite(value))
            )
        if not ok:
            return False
        if low is not None and (value < low or (value == low and not left)):
            return False
        return not (high is not None and (value > high or (value == high and not right)))

    noun = "an int" if kind is int else "a float"
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    brackets = ("[" if left else "(") + f"{lo}, {hi}" + ("]" if right else ")")
    return Constraint(accepts, f"{noun} in the range {brackets}")


def one_of(options: Collection[Any]) -> Constraint:
    """One of a fixed set of values."""
    return Constraint(
        lambda v: isinstance(v, str | bool | None) and v in options,
        f"one of {sorted(map(repr, options))}",
    )


BOOL = Constraint(lambda v: isinstance(v, bool | np.bool_), "a bool")
NONE = Constraint(lambda v: v is None, "None")
RANDOM_STATE = Constraint(
    lambda v: (
        v is None
        or (isinstance(v, int | np.integer) and not isinstance(v, bool) and 0 <= int(v) < 2**32)
        or isinstance(v, np.random.RandomState)
    ),
    "None, an int in [0, 2**32) or a numpy.random.RandomState",
)
ARRAY = Constraint(lambda v: hasattr(v, "__array__") or isinstance(v, list | tuple), "an array")


def validate_params(owner: object, constraints: Mapping[str, Constraint]) -> None:
    """Raise ParameterError for the first hyperparameter of ``owner`` that violates its constraint.

    The message format: ``The 'tol' parameter of BinomialMixture must be a float in the range
    [0.0, inf]. Got -1 instead.``
    """
    name = type(owner).__name__
    for param, constraint in constraints.items():
        value = getattr(owner, param)
        if not constraint.accepts(value):
            raise ParameterError(
                f"The {param!r} parameter of {name} must be {constraint.description}. "
                f"Got {value!r} instead."
            )


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: Any) -> np.ndarray:
    """Validated sample weights: finite, non-negative, shape (n_samples,), not all zero.

    ``None`` gives unit weights as a read-only view of one value (no memory per row).
    """
    if sample_weight is None:
        return np.broadcast_to(np.ones(1, dtype=dtype), (n_samples,))
    weight = _check_sample_weight(sample_weight, n_samples, dtype)
    if n_samples and not np.any(weight > 0):
        raise DataError("sample_weight is zero for every sample: there is nothing to fit")
    return np.asarray(weight)


def check_squares_finite(X: np.ndarray, what: str = "X") -> np.ndarray:
    """``X`` itself, after checking that sums of squares of its rows cannot overflow.

    Distances and variances square the data: values beyond ``sqrt(max / (4 d))`` of the dtype
    (about 3e153 / sqrt(d) in float64, 9e18 / sqrt(d) in float32) would overflow to infinity and
    surface later as an unrelated error.
    """
    if X.size == 0 or X.dtype.kind != "f":
        return X
    limit = float(np.sqrt(np.finfo(X.dtype).max / (4.0 * max(1, X.shape[-1]))))
    top = max(float(np.max(X)), -float(np.min(X)))
    if top > limit:
        raise DataError(
            f"{what} has values up to {top:.3g} in absolute value: their squares overflow "
            f"{X.dtype} (limit {limit:.3g} for {X.shape[-1]} features). Rescale the data "
            "(divide by a constant) before fitting."
        )
    return X
