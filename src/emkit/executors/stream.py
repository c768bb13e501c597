"""The streamed executor: one sequential pass over data on disk per map-reduce pass."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from emkit.data import Batch
from emkit.exceptions import DataError
from emkit.executors._rows import (
    RowInputs,
    check_total_weight,
    chunk_bounds,
    chunk_groups,
    chunk_weight,
    concat_batches,
    make_batch,
    sample_index,
)
from emkit.executors.base import DataModel, Executor, Prepared, float_dtype
from emkit.executors.memory import InMemoryExecutor
from emkit.stats import Stats

__all__ = ["DEFAULT_CHUNK_ROWS", "DEFAULT_INIT_ROWS", "StreamExecutor", "StreamedData"]

#: Rows per chunk unless told otherwise (16 float64 features: 8 MiB per chunk).
DEFAULT_CHUNK_ROWS = 65536
#: Rows the initialisation may look at when the data are larger.
DEFAULT_INIT_ROWS = 100_000


def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class StreamedData:
    """A fit's inputs as the streamed executor reads them: sources, validated chunk by chunk."""

    model: DataModel
    inputs: RowInputs
    total_weight: float
    groups: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.inputs.n_rows

    def batch(self, start: int, stop: int) -> Batch:
        """Rows ``start:stop``, read and validated."""
        X, weight, fit_data = self.inputs.read(start, stop)
        groups = chunk_groups(self.groups, start, stop)
        return make_batch(
            self.model, X, weight, fit_data, where=f"rows {start}:{stop}", groups=groups
        )

    def bounds(self, chunk_rows: int) -> list[tuple[int, int]]:
        """The chunks of about ``chunk_rows`` rows, cut only between groups."""
        return chunk_bounds(self.n_rows, chunk_rows, self.groups)

    def take(self, index: np.ndarray) -> Batch:
        """The rows at the sorted positions ``index``, read and validated."""
        X, weight, fit_data = self.inputs.take(index)
        return make_batch(self.model, X, weight, fit_data, where="the initialisation sample")


class StreamExecutor(Executor):
    """Stream the rows from disk (or any row source), ``chunk_rows`` at a time, every pass.

    Memory holds at most two chunks (the one being processed and the next one, read by a
    background thread while the current one is computed), plus the model's per-chunk
    temporaries, whatever the number of rows. Every chunk is validated by the model on every
    pass (NaN, range and shape checks), so bad data give the same errors as in memory, with
    the rows where they were found.

    Parameters
    ----------
    chunk_rows : int, default=65536
        Rows per chunk.
    init_rows : int, default=100000
        The model's initialisation (``init_params``, e.g. k-means++ seeding or random
        responsibilities) sees all rows when there are at most ``init_rows`` of them, and
        otherwise a uniform random sample (without replacement, drawn from ``random_state``) of
        ``init_rows`` rows. With at most ``init_rows`` rows a streamed fit therefore starts
        exactly where the in-memory fit starts.
    prefetch : bool, default=True
        Read the next chunk in a background thread while the current one is computed.

    Notes
    -----
    Inputs are paths (``.npy``, ``.parquet`` or a directory of Parquet files),
    :class:`~emkit.sources.RowSource` objects, or arrays (a ``np.memmap``, zarr or dask array
    is read a chunk at a time; an in-memory array is simply sliced).
    """

    def __init__(
        self,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        *,
        init_rows: int = DEFAULT_INIT_ROWS,
        prefetch: bool = True,
    ) -> None:
        self.chunk_rows = _check_positive("chunk_rows", chunk_rows)
        self.init_rows = _check_positive("init_rows", init_rows)
        self.prefetch = bool(prefetch)

    def prepare(
        self,
        model: DataModel,
        X: Any,
        sample_weight: Any,
        fit_data: Mapping[str, Any],
        *,
        groups: np.ndarray | None = None,
    ) -> Prepared:
        inputs = RowInputs.of(X, sample_weight, fit_data)
        n = inputs.n_rows
        first = chunk_bounds(n, self.chunk_rows, groups)[0][1] if n else 0
        X0, w0, data0 = inputs.read(0, first)
        # reset=True records n_features_in_, which every later chunk is checked against
        batch0 = make_batch(model, X0, w0, data0, reset=True, where=f"rows 0:{first}")
        if n == 0:
            raise DataError(f"{type(model).__name__} got empty data: X has 0 samples")
        model._check_n_samples(n)
        dtype = float_dtype(batch0.X)
        if inputs.weight is None:
            total = float(n)
        else:
            total = 0.0
            for start, stop in chunk_bounds(n, self.chunk_rows):
                weight = chunk_weight(inputs.weight.read(start, stop), stop - start, dtype)
                total += float(np.sum(weight, dtype=np.float64))
            check_total_weight(total)
        return Prepared(StreamedData(model, inputs, total, groups), dtype, n)

    def map_reduce(self, fn: Callable[[Batch], Stats], data: StreamedData | Batch) -> Stats:
        if isinstance(data, Batch):  # already in memory: chunk it as the reference does
            return InMemoryExecutor(self.chunk_rows).map_reduce(fn, data)
        total: Stats | None = None
        for batch in self._read(data, data.bounds(self.chunk_rows)):
            stats = fn(batch)
            del batch
            total = stats if total is None else total + stats
        assert total is not None
        return total

    def batches(
        self, data: StreamedData | Batch, rng: np.random.RandomState | None = None
    ) -> Iterator[Batch]:
        if isinstance(data, Batch):
            yield from InMemoryExecutor(self.chunk_rows).batches(data, rng)
            return
        bounds = data.bounds(self.chunk_rows)
        if rng is not None:
            bounds = [bounds[i] for i in rng.permutation(len(bounds))]
        yield from self._read(data, bounds)

    def _read(self, data: StreamedData, bounds: list[tuple[int, int]]) -> Iterator[Batch]:
        """The chunks at ``bounds``, in that order, the next one read in the background."""
        if not self.prefetch or len(bounds) == 1:
            for start, stop in bounds:
                yield data.batch(start, stop)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emkit-read") as pool:
            pending: Future[Batch] = pool.submit(data.batch, *bounds[0])
            for i in range(len(bounds)):
                batch = pending.result()
                if i + 1 < len(bounds):
                    pending = pool.submit(data.batch, *bounds[i + 1])
                yield batch
                del batch

    def init_batch(self, data: StreamedData | Batch, rng: np.random.RandomState) -> Batch:
        if isinstance(data, Batch):
            return data
        n = data.n_rows
        if n <= self.init_rows:
            return concat_batches([data.batch(*b) for b in data.bounds(self.chunk_rows)])
        return data.take(sample_index(n, self.init_rows, rng))

    def total_weight(self, data: StreamedData | Batch) -> float:
        if isinstance(data, Batch):
            return float(np.sum(data.weight, dtype=np.float64))
        return data.total_weight

    def __repr__(self) -> str:
        return f"StreamExecutor(chunk_rows={self.chunk_rows!r}, init_rows={self.init_rows!r})"
