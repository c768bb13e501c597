"""The reference executor: data in memory, processed in row blocks."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from functools import reduce

import numpy as np

from emkit.data import Batch, group_bounds
from emkit.executors.base import Executor
from emkit.stats import Stats

__all__ = ["InMemoryExecutor"]


class InMemoryExecutor(Executor):
    """Run each pass over an in-memory :class:`~emkit.data.Batch`, ``chunk_rows`` rows at a time.

    Parameters
    ----------
    chunk_rows : int or None, default=None
        Rows per block. ``None`` processes all rows at once; a bound keeps the ``(rows, K)``
        temporaries of an E-step small on large data. Data with groups (sequences) are cut
        only between groups: a block then holds whole groups, ``chunk_rows`` rows or more.
    """

    def __init__(self, chunk_rows: int | None = None) -> None:
        if chunk_rows is not None and chunk_rows < 1:
            raise ValueError(f"chunk_rows must be a positive integer or None, got {chunk_rows!r}")
        self.chunk_rows = chunk_rows

    def map_reduce(self, fn: Callable[[Batch], Stats], data: Batch) -> Stats:
        n = data.n_rows
        step = n if self.chunk_rows is None else self.chunk_rows
        if step >= n:
            return fn(data)
        bounds = group_bounds(n, step, data.groups)
        return reduce(operator.add, (fn(data.rows(s, e)) for s, e in bounds))

    def batches(self, data: Batch, rng: np.random.RandomState | None = None) -> Iterator[Batch]:
        n = data.n_rows
        step = n if self.chunk_rows is None else self.chunk_rows
        bounds = group_bounds(n, step, data.groups)
        order = np.arange(len(bounds)) if rng is None else rng.permutation(len(bounds))
        for i in order:
            yield data.rows(*bounds[int(i)])

    def init_batch(self, data: Batch, rng: np.random.RandomState) -> Batch:
        return data

    def total_weight(self, data: Batch) -> float:
        return float(np.sum(data.weight, dtype=np.float64))

    def __repr__(self) -> str:
        return f"InMemoryExecutor(chunk_rows={self.chunk_rows!r})"
