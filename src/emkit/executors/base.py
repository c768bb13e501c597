"""The interface every executor implements, and the in-memory preparation of a fit's data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from emkit._validation import check_sample_weight
from emkit.data import Batch
from emkit.exceptions import DataError
from emkit.stats import Stats

__all__ = ["DataModel", "Executor", "Prepared", "float_dtype"]


class DataModel(Protocol):
    """What an executor needs from an estimator to turn raw input into validated batches.

    Every :class:`~emkit.base.EMEstimator` is one. ``_validate_data(X, reset=True, ...)``
    records what later calls check (``n_features_in_``); executors that read the rows in chunks
    call it with ``reset=True`` on the first chunk and ``reset=False`` on every chunk.
    """

    def _validate_data(
        self, X: Any, *, reset: bool, **fit_data: Any
    ) -> tuple[np.ndarray, ...]: ...  # pragma: no cover

    def _check_n_samples(self, n_samples: int) -> None: ...  # pragma: no cover


@dataclass(frozen=True)
class Prepared:
    """A fit's data as an executor holds it.

    Attributes
    ----------
    data : object
        What :meth:`Executor.map_reduce` reads (a :class:`~emkit.data.Batch` in memory).
    dtype : numpy.dtype
        Floating dtype of the computation (sets the engine's round-off allowance).
    n_samples : int
        Number of rows.
    """

    data: Any
    dtype: np.dtype[Any]
    n_samples: int


def float_dtype(array: np.ndarray) -> np.dtype[Any]:
    """The dtype of a computation on ``array``: its own if floating, float64 otherwise."""
    return array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float64)


def _materialize(value: Any) -> Any:
    from emkit.sources import as_source

    source = as_source(value)
    return value if source is None else source.read(0, source.n_rows)


class Executor(ABC):
    """Where the rows live and how a pass over them runs.

    Subclasses implement :meth:`map_reduce` (one pass: apply ``fn`` to every chunk of rows and sum
    the results), :meth:`init_batch` (the rows a model's initialisation may look at) and
    :meth:`total_weight`; :meth:`prepare` turns ``fit``'s raw input into what they read (by
    default: everything validated in memory, as one :class:`~emkit.data.Batch`).
    """

    @abstractmethod
    def map_reduce(self, fn: Callable[[Batch], Stats], data: Any) -> Stats:
        """Apply ``fn`` to every chunk of ``data`` and return the sum of the results."""

    @abstractmethod
    def init_batch(self, data: Any, rng: np.random.RandomState) -> Batch:
        """Rows to initialise from: all of them in memory, a sample when data is out of core."""

    @abstractmethod
    def total_weight(self, data: Any) -> float:
        """Sum of the sample weights of ``data``."""

    def batches(self, data: Any, rng: np.random.RandomState | None = None) -> Iterator[Batch]:
        """The chunks of ``data`` one at a time, in order or (with ``rng``) in a random order:
        the mini-batches of online EM (:mod:`emkit.online`)."""
        from emkit.exceptions import ParameterError

        raise ParameterError(
            f"{type(self).__name__} does not hand out batches for online EM; "
            "use the in-memory or streamed executor"
        )

    def prepare(
        self,
        model: DataModel,
        X: Any,
        sample_weight: Any,
        fit_data: Mapping[str, Any],
        *,
        groups: np.ndarray | None = None,
    ) -> Prepared:
        """Validate ``fit``'s input with ``model`` and hold it as this executor reads it.

        The default reads everything into memory (paths and :class:`~emkit.sources.RowSource`
        objects included) and returns one :class:`~emkit.data.Batch`. ``groups`` (the first
        row of each group of rows that must stay in one chunk, e.g. the sequences of a hidden
        Markov model) travels with the batch; every executor cuts only where a group starts.

        Raises
        ------
        DataError
            Empty data, or anything ``model._validate_data`` rejects.
        """
        X = _materialize(X)
        sample_weight = _materialize(sample_weight)
        fit_data = {k: _materialize(v) for k, v in fit_data.items()}
        arrays = model._validate_data(X, reset=True, **fit_data)
        n_samples = arrays[0].shape[0]
        if n_samples == 0:
            raise DataError(f"{type(model).__name__} got empty data: X has 0 samples")
        model._check_n_samples(n_samples)
        dtype = float_dtype(arrays[0])
        weight = check_sample_weight(sample_weight, n_samples, dtype)
        return Prepared(Batch(arrays, weight, groups), dtype, n_samples)
