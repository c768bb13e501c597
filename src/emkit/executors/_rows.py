"""Row-aligned inputs read in chunks, and their validation chunk by chunk (shared by executors)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emkit.data import Batch, group_bounds, sub_groups
from emkit.exceptions import DataError
from emkit.executors.base import DataModel, float_dtype
from emkit.sources import ArraySource, RowSource, as_source, stack_rows

__all__ = [
    "RowInputs",
    "chunk_bounds",
    "chunk_groups",
    "concat_batches",
    "make_batch",
    "sample_index",
]


def _source(name: str, value: Any) -> RowSource:
    source = as_source(value)
    if source is None:
        source = ArraySource(value)
    return source


@dataclass(frozen=True)
class RowInputs:
    """``fit``'s inputs as row sources of one length: X, sample weights, per-row model data.

    Per-row data of dimension 0 (e.g. a scalar ``trials``) is passed unchanged to every chunk.
    """

    X: RowSource
    weight: RowSource | None = None
    per_row: Mapping[str, RowSource] = field(default_factory=dict)
    constant: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, X: Any, sample_weight: Any, fit_data: Mapping[str, Any]) -> RowInputs:
        """Wrap ``fit``'s arguments, checking that every per-row input has X's number of rows."""
        x = _source("X", X)
        weight = None if sample_weight is None else _source("sample_weight", sample_weight)
        per_row: dict[str, RowSource] = {}
        constant: dict[str, Any] = {}
        for name, value in fit_data.items():
            if value is None or (as_source(value) is None and np.ndim(value) == 0):
                constant[name] = value
            else:
                per_row[name] = _source(name, value)
        others = ({"sample_weight": weight} if weight is not None else {}) | per_row
        for name, src in others.items():
            if src.n_rows != x.n_rows:
                raise DataError(f"{name} has {src.n_rows} rows but X has {x.n_rows}")
        return cls(x, weight, per_row, constant)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.X.n_rows

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
        """X, weights (or None) and model data of rows ``start:stop``."""
        weight = None if self.weight is None else self.weight.read(start, stop)
        data = {k: s.read(start, stop) for k, s in self.per_row.items()} | dict(self.constant)
        return self.X.read(start, stop), weight, data

    def take(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
        """X, weights (or None) and model data of the rows at the sorted positions ``index``."""
        weight = None if self.weight is None else self.weight.take(index)
        data = {k: s.take(index) for k, s in self.per_row.items()} | dict(self.constant)
        return self.X.take(index), weight, data


def chunk_weight(sample_weight: Any, n_rows: int, dtype: Any) -> np.ndarray:
    """One chunk's weights, checked as in memory (finite, non-negative, shape (n_rows,)).

    Unlike :func:`emkit._validation.check_sample_weight` a chunk may weigh zero; the total is
    checked once for the whole data.
    """
    if sample_weight is None:
        # unit weights as a read-only view of one value: no 8 bytes per row (a tenth of a
        # 20-feature float32 dataset, half of one column of symbols)
        return np.broadcast_to(np.ones(1, dtype=dtype), (n_rows,))
    weight = np.asarray(sample_weight, dtype=dtype)
    if weight.ndim == 0:
        weight = np.full(n_rows, weight, dtype=dtype)
    if weight.ndim != 1:
        raise DataError(f"Sample weights must be 1D array or scalar, got shape {weight.shape}")
    if weight.shape != (n_rows,):
        raise DataError(f"sample_weight.shape == {weight.shape}, expected {(n_rows,)}!")
    if not np.all(np.isfinite(weight)):
        raise DataError("Input sample_weight contains NaN or infinity.")
    if np.any(weight < 0):
        raise DataError("Negative values in sample_weight")
    return weight


def check_total_weight(total: float) -> None:
    """Raise the in-memory error when no row has a positive weight."""
    if not total > 0:
        raise DataError("sample_weight is zero for every sample: there is nothing to fit")


def make_batch(
    model: DataModel,
    X: Any,
    sample_weight: Any,
    fit_data: Mapping[str, Any],
    *,
    reset: bool = False,
    where: str = "",
    groups: np.ndarray | None = None,
) -> Batch:
    """Validate one chunk with the model's ``_validate_data`` and attach its weights.

    ``where`` (e.g. ``"rows 0:65536"``) is appended to the message of a validation error so that
    a bad value deep inside a large file can be found. ``groups`` (the chunk's group starts,
    relative to its first row) is attached to the batch.
    """
    try:
        arrays = model._validate_data(X, reset=reset, **fit_data)
        weight = chunk_weight(sample_weight, arrays[0].shape[0], float_dtype(arrays[0]))
    except ValueError as exc:
        if where and (isinstance(exc, DataError) or type(exc) is ValueError):
            raise DataError(f"{exc} (in {where})") from exc
        raise
    return Batch(arrays, weight, groups)


def chunk_bounds(
    n_rows: int, chunk_rows: int, groups: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n_rows)`` in chunks of ``chunk_rows``, cut only
    where a group starts when ``groups`` is given (:func:`emkit.data.group_bounds`)."""
    return group_bounds(n_rows, chunk_rows, groups)


def chunk_groups(groups: np.ndarray | None, start: int, stop: int) -> np.ndarray | None:
    """The group starts of the chunk ``start:stop``, relative to its first row."""
    return sub_groups(groups, start, stop)


def concat_batches(batches: list[Batch]) -> Batch:
    """One batch holding the rows of ``batches`` in order (sparse arrays stay CSR)."""
    if len(batches) == 1:
        return batches[0]
    columns = zip(*(b.arrays for b in batches), strict=True)
    arrays = tuple(stack_rows(parts) for parts in columns)
    groups = None
    if all(b.groups is not None for b in batches):
        offsets = np.cumsum([0] + [b.n_rows for b in batches[:-1]])
        groups = np.concatenate(
            [np.asarray(b.groups) + o for b, o in zip(batches, offsets, strict=True)]
        )
    return Batch(arrays, np.concatenate([b.weight for b in batches]), groups)


def sample_index(n_rows: int, size: int, rng: np.random.RandomState) -> np.ndarray:
    """``size`` distinct row positions drawn uniformly with ``rng``, sorted; O(size) memory."""
    chosen = np.empty(0, dtype=np.intp)
    while chosen.size < size:
        draw = rng.randint(0, n_rows, size=2 * (size - chosen.size) + 16)
        chosen = np.unique(np.concatenate([chosen, draw]))
    return np.sort(rng.choice(chosen, size=size, replace=False))
