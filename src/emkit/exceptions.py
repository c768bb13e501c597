"""Exceptions and warnings raised by emkit.

The hierarchy::

    EmkitError                      base of every error emkit raises on purpose
    ├── DataError (ValueError)      bad input: NaN, wrong shape, empty data, out-of-range values
    ├── ParameterError (ValueError) a hyperparameter with an invalid value
    ├── NonMonotoneError (RuntimeError)
    │                               soft EM lowered the log-likelihood: a bug in a model's steps
    └── NonFiniteError (FloatingPointError)
                                    the objective became NaN or infinite (data impossible under
                                    the current parameters, or a numerical breakdown)

    ConvergenceWarning (sklearn.exceptions.ConvergenceWarning)
                                    ``max_iter`` was reached before ``tol``

``DataError`` and ``ParameterError`` derive from ``ValueError`` so that code written for
scikit-learn estimators keeps working; ``ConvergenceWarning`` derives from scikit-learn's so that
existing warning filters apply.
"""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "EmkitError",
    "NonFiniteError",
    "NonMonotoneError",
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


class ConvergenceWarning(_SklearnConvergenceWarning):
    """EM stopped at ``max_iter`` before the mean log-likelihood changed by less than ``tol``."""
