"""scikit-learn's estimator contract, without importing scikit-learn.

``import sklearn`` costs about a second (it imports scipy.stats and pandas), more than a whole
small fit; emkit's command line and fits on NumPy arrays never need it. This module gives emkit's
estimators what scikit-learn's ``BaseEstimator`` and mixins give (``get_params`` /
``set_params``, so ``sklearn.base.clone`` and pipelines work; a ``repr`` of the changed
parameters; ``__sklearn_tags__``), and the input validation emkit uses, with a fast path for
NumPy arrays that scikit-learn's ``validate_data`` accepts unchanged. Anything else (lists,
DataFrames, sparse matrices, object or complex arrays, arrays it would reject) goes to
scikit-learn's own ``validate_data``, imported then: the result and the error messages are
scikit-learn's in every case (``tests/test_sklearn_api.py`` compares the two paths).
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from emkit import exceptions

__all__ = [
    "BaseEstimator",
    "ClusterMixin",
    "DensityMixin",
    "TransformerMixin",
    "check_is_fitted",
    "check_random_state",
    "check_sample_weight",
    "validate_data",
]


class BaseEstimator:
    """Hyperparameters as scikit-learn sees them: the arguments of ``__init__``, stored as given."""

    if TYPE_CHECKING:  # fitted attributes (``means_`` ...) are set from the parameters' fields

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(
                    f"{cls.__name__}.__init__ takes *args: scikit-learn estimators must "
                    "name every hyperparameter"
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters (with ``name__param`` entries of nested estimators if ``deep``)."""
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> Any:
        """Set hyperparameters (``name__param`` reaches into nested estimators); returns self."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = defaultdict(dict)
        for key, value in params.items():
            head, delim, sub = key.partition("__")
            if head not in valid:
                raise ValueError(
                    f"Invalid parameter {head!r} for estimator {self}. Valid parameters are: "
                    f"{self._get_param_names()!r}."
                )
            if delim:
                nested[head][sub] = value
            else:
                setattr(self, head, value)
                valid[head] = value
        for head, sub_params in nested.items():
            valid[head].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
            if p.default is not p.empty
        }
        shown = []
        for key in self._get_param_names():
            value = getattr(self, key, None)
            if key in defaults and _same_default(value, defaults[key]):
                continue
            shown.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __sklearn_tags__(self) -> Any:
        # only scikit-learn asks for tags, so it is imported already
        from sklearn.utils import Tags, TargetTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=None,
        )


def _same_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    try:
        return bool(type(value) is type(default) and value == default)
    except (TypeError, ValueError):
        return False


class DensityMixin:
    """Tags of a density estimator (scikit-learn's ``DensityMixin``)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.estimator_type = "DensityEstimator"
        return tags


class ClusterMixin:
    """``fit_predict`` and the tags of a clusterer (scikit-learn's ``ClusterMixin``)."""

    labels_: np.ndarray

    def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """Fit, then return the cluster of each training row (``labels_``)."""
        self.fit(X, **kwargs)  # type: ignore[attr-defined]
        return self.labels_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.estimator_type = "clusterer"
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = []
        return tags


class TransformerMixin:
    """``fit_transform`` and the tags of a transformer (scikit-learn's ``TransformerMixin``)."""

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X, **fit_params).transform(X)``."""
        return self.fit(X, **fit_params).transform(X)  # type: ignore[attr-defined]

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.transformer_tags = TransformerTags()
        return tags


def check_random_state(seed: Any) -> np.random.RandomState:
    """A ``RandomState`` from None (numpy's global one), an int, or a ``RandomState``."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")


def check_is_fitted(estimator: Any, attributes: str | tuple[str, ...]) -> None:
    """Raise :class:`~emkit.exceptions.NotFittedError` unless ``estimator`` has ``attributes``."""
    names = (attributes,) if isinstance(attributes, str) else attributes
    if not all(hasattr(estimator, a) for a in names):
        raise exceptions.NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def _fast_dtype(X: np.ndarray, dtype: Any) -> Any:
    """The dtype scikit-learn's check_array gives a plain real array, or None when it is not
    such an array."""
    if X.dtype.kind not in "fiu":
        return None
    if dtype is None:
        return X.dtype
    if isinstance(dtype, list | tuple):
        return X.dtype if X.dtype in dtype else np.dtype(dtype[0])
    return np.dtype(dtype)


# options of validate_data that the fast path honours (a dense array is never sparse)
_FAST_OPTIONS = {"ensure_min_samples", "accept_sparse"}


def validate_data(
    estimator: Any,
    X: Any,
    *,
    reset: bool = True,
    dtype: Any = "numeric",
    **check_params: Any,
) -> Any:
    """scikit-learn's ``validate_data(estimator, X, reset=..., dtype=...)``, without importing
    it for a finite, non-empty 2-D real NumPy array.

    The fast path returns what scikit-learn returns (the array, or a converted copy) and records
    or checks ``n_features_in_`` and feature names the same way, with the same messages.
    """
    numeric = isinstance(dtype, str) and dtype == "numeric"
    target = _fast_dtype(X, None if numeric else dtype) if type(X) is np.ndarray else None
    min_samples = check_params.get("ensure_min_samples", 1)
    if (
        target is None
        or set(check_params) - _FAST_OPTIONS
        or X.ndim != 2
        or X.shape[0] < max(1, min_samples)
        or X.shape[1] == 0
        or not _all_finite(X)
    ):
        from sklearn.utils.validation import validate_data as sk_validate_data

        return sk_validate_data(estimator, X, reset=reset, dtype=dtype, **check_params)
    out = X if X.dtype == target else X.astype(target)
    n_features = X.shape[1]
    if reset:
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            delattr(estimator, "feature_names_in_")
        return out
    if hasattr(estimator, "feature_names_in_"):
        warnings.warn(
            f"X does not have valid feature names, but {type(estimator).__name__} was fitted "
            "with feature names",
            UserWarning,
            stacklevel=2,
        )
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and n_features != expected:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{expected} features as input."
        )
    return out


def _all_finite(X: np.ndarray) -> bool:
    if X.dtype.kind != "f":
        return True
    # a finite sum proves every value finite; an overflowing one needs the element-wise test
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(X)):
            return True
    return bool(np.isfinite(X).all())


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: Any) -> np.ndarray:
    """scikit-learn's ``_check_sample_weight(..., ensure_non_negative=True)``: ones for None, a
    scalar broadcast, or a validated 1-D array of length ``n_samples``.

    NumPy arrays and scalars are checked here; anything else goes to scikit-learn.
    """
    dtype = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float64)
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        if not np.isfinite(float(sample_weight)):
            raise ValueError(f"sample_weight={sample_weight!r}: a weight must be finite")
        weight = np.full(n_samples, sample_weight, dtype=dtype)
    elif (
        type(sample_weight) is np.ndarray
        and sample_weight.dtype.kind in "fiu"
        and sample_weight.shape == (n_samples,)
        and _all_finite(sample_weight)
    ):
        weight = sample_weight.astype(dtype, copy=sample_weight.dtype != dtype)
    else:
        from sklearn.utils.validation import _check_sample_weight

        return np.asarray(
            _check_sample_weight(
                sample_weight,
                np.empty((n_samples, 0), dtype=dtype),
                dtype=dtype,
                ensure_non_negative=True,
            )
        )
    if weight.size and np.min(weight) < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    return weight
