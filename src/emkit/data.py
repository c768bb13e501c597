"""Row-aligned data as the engine sees it: arrays that share their first axis, plus weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Batch", "group_bounds", "sub_groups"]


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
    groups : ndarray of int64, optional
        First row of each group of rows that must stay together (the sequences of a hidden
        Markov model), ascending, starting with 0. Executors cut a batch only at these rows.
        None: rows are independent and may be cut anywhere.
    """

    arrays: tuple[np.ndarray, ...]
    weight: np.ndarray
    groups: np.ndarray | None = None

    @property
    def X(self) -> np.ndarray:
        """The first array (the feature matrix for most models)."""
        return self.arrays[0]

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.weight.shape[0])

    def rows(self, start: int, stop: int) -> Batch:
        """The rows ``start:stop`` as a new batch (views, no copy).

        With ``groups``, ``start`` must be the first row of a group (see :func:`group_bounds`).
        """
        return Batch(
            tuple(a[start:stop] for a in self.arrays),
            self.weight[start:stop],
            sub_groups(self.groups, start, stop),
        )

    def take(self, index: np.ndarray) -> Batch:
        """The rows at ``index`` (a copy; the groups are dropped)."""
        return Batch(tuple(a[index] for a in self.arrays), self.weight[index])


def sub_groups(groups: np.ndarray | None, start: int, stop: int) -> np.ndarray | None:
    """The group starts inside rows ``start:stop``, relative to ``start`` (None stays None)."""
    if groups is None:
        return None
    lo, hi = np.searchsorted(groups, [start, stop])
    if lo == len(groups) or groups[lo] != start:
        raise ValueError(f"row {start} is not the first row of a group: cannot cut there")
    return np.asarray(groups[lo:hi] - start, dtype=np.int64)


def group_bounds(
    n_rows: int, chunk_rows: int, groups: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n_rows)`` in chunks of about ``chunk_rows``.

    Without ``groups`` every chunk but the last has ``chunk_rows`` rows. With ``groups`` (the
    first row of each group, ascending, from 0) a chunk ends only where a group starts: each
    chunk holds whole groups, at least ``chunk_rows`` rows unless it is the last (or one group is
    longer).
    """
    if groups is None or len(groups) == 0:
        return [(s, min(s + chunk_rows, n_rows)) for s in range(0, n_rows, chunk_rows)]
    cuts = np.append(np.asarray(groups, dtype=np.int64), n_rows)
    bounds = []
    start = 0
    while start < n_rows:
        i = int(np.searchsorted(cuts, start + chunk_rows))
        stop = int(cuts[min(i, len(cuts) - 1)])
        bounds.append((start, stop))
        start = stop
    return bounds
