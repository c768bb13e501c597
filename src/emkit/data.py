"""Row-aligned data as the engine sees it: arrays that share their first axis, plus weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Batch"]


@dataclass(frozen=True)
class Batch:
    """A block of observations: row-aligned arrays and one sample weight per row.

    Parameters
    ----------
    arrays : tuple of ndarray
        Each of shape ``(n_rows, ...)``. Their meaning is the model's: a feature matrix
        ``(X,)``, ``(successes, trials)``, ``(task, worker, score)`` ...
    weight : ndarray of shape (n_rows,)
        Non-negative sample weights; an integer weight ``w`` counts a row ``w`` times.
    """

    arrays: tuple[np.ndarray, ...]
    weight: np.ndarray

    @property
    def X(self) -> np.ndarray:
        """The first array (the feature matrix for most models)."""
        return self.arrays[0]

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.weight.shape[0])

    def rows(self, start: int, stop: int) -> Batch:
        """The rows ``start:stop`` as a new batch (views, no copy)."""
        return Batch(tuple(a[start:stop] for a in self.arrays), self.weight[start:stop])

    def take(self, index: np.ndarray) -> Batch:
        """The rows at ``index`` (a copy)."""
        return Batch(tuple(a[index] for a in self.arrays), self.weight[index])
