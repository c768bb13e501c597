"""Groups of rows (sequences) stay whole in every executor's chunks."""

from __future__ import annotations

import numpy as np
import pytest

from emkit.data import Batch, group_bounds
from emkit.executors import InMemoryExecutor
from emkit.executors._rows import concat_batches
from emkit.stats import Stats


def test_bounds_cut_only_where_a_group_starts() -> None:
    groups = np.array([0, 3, 4, 9, 10])
    bounds = group_bounds(12, 2, groups)
    assert bounds == [(0, 3), (3, 9), (9, 12)]
    assert group_bounds(12, 5) == [(0, 5), (5, 10), (10, 12)]
    assert group_bounds(12, 100, groups) == [(0, 12)]


def test_rows_keep_their_groups_and_refuse_a_cut_inside_one() -> None:
    batch = Batch((np.arange(12.0).reshape(-1, 1),), np.ones(12), np.array([0, 3, 4, 9, 10]))
    part = batch.rows(3, 9)
    np.testing.assert_array_equal(part.groups, [0, 1])
    with pytest.raises(ValueError, match="not the first row of a group"):
        batch.rows(2, 9)
    whole = concat_batches([batch.rows(0, 3), batch.rows(3, 9), batch.rows(9, 12)])
    np.testing.assert_array_equal(whole.groups, batch.groups)


def test_in_memory_chunks_hold_whole_groups() -> None:
    seen: list[tuple[int, ...]] = []

    def fn(b: Batch) -> Stats:
        seen.append((*(int(g) for g in np.asarray(b.groups)), b.n_rows))
        return Stats(weight=b.n_rows)

    batch = Batch((np.zeros((12, 1)),), np.ones(12), np.array([0, 3, 4, 9, 10]))
    total = InMemoryExecutor(chunk_rows=2).map_reduce(fn, batch)
    assert total.weight == 12
    assert seen == [(0, 3), (0, 1, 6), (0, 1, 3)]
