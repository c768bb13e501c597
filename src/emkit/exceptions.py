"""Exceptions and warnings raised by emkit.

The hierarchy::

    EmkitError                      base of every error emkit raises on purpose
    ├── DataError (ValueError)      bad input: NaN, wrong shape, empty data, out-of-range values
    ├── ParameterError (ValueError) a hyperparameter with an invalid value
    ├── NonMonotoneError (RuntimeError)
    │                               soft EM lowered the log-likelihood: a bug in a model's steps
    ├── NonFiniteError (FloatingPointError)
    │                               the objective became NaN or infinite (data impossible under
    │                               the current parameters, or a numerical breakdown)
    └── NotFittedError (sklearn.exceptions.NotFittedError: ValueError, AttributeError)
                                    a fitted attribute was asked of an estimator not fitted yet

    ConvergenceWarning (UserWarning)
                                    ``max_iter`` was reached before ``tol``

``DataError`` and ``ParameterError`` derive from ``ValueError`` so that code written for
scikit-learn estimators keeps working, and ``NotFittedError`` from scikit-learn's own. That class
is created on first use (it imports scikit-learn, about a second: only a call before ``fit``
pays it). ``ConvergenceWarning`` derives from ``UserWarning`` as scikit-learn's does, but not
from scikit-learn's class, which would cost that second in every fit; filter
``emkit.ConvergenceWarning`` (or ``UserWarning``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "EmkitError",
    "NonFiniteError",
    "NonMonotoneError",
    "NotFittedError",
    "ParameterError",
]


class EmkitError(Exception):
    """Base class of every error emkit raises on purpose."""


class DataError(EmkitError, ValueError):
    """The data handed to a model is not valid for it (NaN, wrong shape, empty, out of range)."""


class ParameterError(EmkitError, ValueError):
    """A hyperparameter has an invalid value."""


class NonMonotoneError(EmkitError, RuntimeError):
    """Soft EM decreased the log-likelihood by more than round-off.

    By Jensen's inequality every EM iteration is guaranteed not to lower the observed-data
    log-likelihood, so a decrease means an E-step or M-step is wrong.
    """


class NonFiniteError(EmkitError, FloatingPointError):
    """The objective became NaN or infinite."""


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the mean log-likelihood changed by less than ``tol``."""


if TYPE_CHECKING:

    class NotFittedError(EmkitError, ValueError, AttributeError):
        """A method that needs a fitted model was called before ``fit``."""


def user_stacklevel() -> int:
    """The ``stacklevel`` at which a warning issued by the caller points at the first frame
    outside emkit (the user's call), however many emkit frames lie between."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


@functools.cache
def _not_fitted_error() -> type[Exception]:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(EmkitError, SklearnNotFittedError):
        """A method that needs a fitted model was called before ``fit``."""

    NotFittedError.__module__ = __name__
    return NotFittedError


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        return _not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
