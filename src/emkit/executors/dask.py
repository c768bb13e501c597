"""The Dask executor: chunks persisted on the workers of a ``dask.distributed`` cluster.

Each pass ships the E-step (the model and its current parameters, a few kilobytes) to the
cluster once (every worker fetches it once), maps it over the persisted chunks where they
live, and sums the statistics in a tree (``split_every`` at a time) on the workers, so only one
``Stats`` value comes back to the client: the map-reduce EM of Chu et al. (2006), as Spark
MLlib's ``GaussianMixture`` does with ``treeAggregate``.

Fault tolerance comes from Dask: chunks are futures with lineage (read from a file or a dask
array), so when a worker dies the scheduler recomputes the chunks it held on the others and the
pass goes on; the fit's result is the same.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from emkit._threads import limit_threads
from emkit.data import Batch
from emkit.exceptions import DataError, ParameterError
from emkit.executors._rows import (
    RowInputs,
    check_total_weight,
    chunk_bounds,
    chunk_groups,
    concat_batches,
    make_batch,
    sample_index,
)
from emkit.executors.base import DataModel, Executor, Prepared, float_dtype
from emkit.executors.stream import DEFAULT_CHUNK_ROWS, DEFAULT_INIT_ROWS, _check_positive
from emkit.sources import is_dask_collection
from emkit.stats import Stats

__all__ = ["DaskExecutor", "DistributedData"]


def _import_distributed() -> Any:
    try:
        import dask.array  # noqa: F401  (both halves are needed)
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Dask executor needs dask.distributed: pip install 'emkit[dask]'"
        ) from exc
    return distributed


# -- functions that run on the workers (top level, so they pickle by reference) -------------------
def _chunk_batch(
    model: DataModel,
    X: np.ndarray,
    weight: np.ndarray | None,
    fit_data: Mapping[str, Any],
    start: int,
    stop: int,
    groups: np.ndarray | None = None,
) -> Batch:
    return make_batch(model, X, weight, fit_data, where=f"rows {start}:{stop}", groups=groups)


def _summary(batch: Batch) -> tuple[int, float]:
    return batch.n_rows, float(np.sum(batch.weight, dtype=np.float64))


def _identity(value: Any) -> Any:
    return value


def _worker_threads() -> int | None:
    """Thread count of the Dask worker running this task (None outside a worker)."""
    from distributed import get_worker

    try:
        return int(get_worker().state.nthreads)
    except (ValueError, AttributeError):
        return None


def _apply(batch: Batch, fn: Callable[[Batch], Stats]) -> Stats:
    # the model's block threads share the worker's cores with its other tasks (and workers)
    with limit_threads(_worker_threads()):
        return fn(batch)


def _sum(*parts: Stats) -> Stats:
    return functools.reduce(operator.add, parts)


def _take(batch: Batch, index: np.ndarray) -> Batch:
    return batch.take(index)


@dataclass(frozen=True)
class DistributedData:
    """A fit's chunks as validated batches persisted on the workers (futures, in row order)."""

    futures: tuple[Any, ...]
    bounds: tuple[tuple[int, int], ...]
    total_weight: float

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.bounds[-1][1] if self.bounds else 0


class DaskExecutor(Executor):
    """Run each pass on a ``dask.distributed`` cluster, the chunks persisted on its workers.

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster to use. Default: ``address`` if given, else the current default client
        (``distributed.get_client()``).
    address : str, optional
        Scheduler address (``tcp://host:8786``) to connect to when no client is given; the
        executor owns that connection (:meth:`close` it, or use the executor as a context
        manager).
    chunk_rows : int, optional
        Rows per chunk. Default: a dask array keeps its own row chunks; anything else is cut
        into chunks of 65536 rows.
    init_rows : int, default=100000
        Initialisation sees all rows if there are at most this many, else a uniform random
        sample of that size gathered from the workers (as :class:`StreamExecutor`).
    split_every : int, default=8
        Fan-in of the tree that sums the statistics.

    Notes
    -----
    Inputs: dask arrays (their row chunks become the executor's chunks), paths and
    :class:`~emkit.sources.RowSource` objects (each worker reads its own rows: the path must
    be visible to every worker), or NumPy arrays (sent to the cluster once, as part of the task
    graph so that lost chunks can be recomputed). The model is pickled to the workers (with
    cloudpickle): workers need emkit, and the module defining the model, installed.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        address: str | None = None,
        chunk_rows: int | None = None,
        init_rows: int = DEFAULT_INIT_ROWS,
        split_every: int = 8,
    ) -> None:
        self.client = client
        self.address = address
        self.chunk_rows = None if chunk_rows is None else _check_positive("chunk_rows", chunk_rows)
        self.init_rows = _check_positive("init_rows", init_rows)
        if _check_positive("split_every", split_every) < 2:
            raise ValueError(f"split_every must be at least 2, got {split_every!r}")
        self.split_every = split_every
        self._owned: Any = None

    # -- the cluster ----------------------------------------------------------------------
    def get_client(self) -> Any:
        """The ``distributed.Client`` passes run on."""
        distributed = _import_distributed()
        if self.client is not None:
            return self.client
        if self.address is not None:
            if self._owned is None:
                self._owned = distributed.Client(self.address)
            return self._owned
        try:
            return distributed.get_client()
        except ValueError:
            raise ParameterError(
                "DaskExecutor found no Dask client: create one (distributed.Client(...)) "
                "before fitting, or pass client=... or address='tcp://scheduler:8786'"
            ) from None

    def close(self) -> None:
        """Close the connection this executor opened from ``address`` (if any)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data -----------------------------------------------------------------------------
    def _blocks(self, value: Any, bounds: tuple[tuple[int, int], ...]) -> list[Any]:
        """One delayed block of rows per chunk (dask arrays rechunked to the row chunks)."""
        import dask

        from emkit.sources import ArraySource, as_source

        source = None if is_dask_collection(value) else as_source(value)
        if source is None and sp.issparse(value):
            source = ArraySource(value)
        if source is not None and source.sparse:
            # scipy.sparse rows: read on the workers from a file, sliced here if in memory
            if isinstance(source, ArraySource):
                return [dask.delayed(source.read(a, b), traverse=False) for a, b in bounds]
            read = dask.delayed(source, traverse=False).read
            return [read(a, b) for a, b in bounds]
        row_chunks = tuple(b - a for a, b in bounds)
        return list(self._as_dask(value, row_chunks).to_delayed().ravel())

    def _as_dask(self, value: Any, chunks: tuple[int, ...]) -> Any:
        import dask.array as da

        from emkit.sources import as_source

        if is_dask_collection(value):
            arr = value
        else:
            source = as_source(value)
            arr = da.from_array(
                source if source is not None else np.asarray(value),
                chunks=(chunks, *np.shape(source if source is not None else value)[1:]),
                asarray=False,
                lock=False,
            )
        return arr.rechunk((chunks, *arr.shape[1:]))

    def prepare(
        self,
        model: DataModel,
        X: Any,
        sample_weight: Any,
        fit_data: Mapping[str, Any],
        *,
        groups: np.ndarray | None = None,
    ) -> Prepared:
        _import_distributed()
        import dask

        client = self.get_client()
        inputs = RowInputs.of(X, sample_weight, fit_data)  # shapes, lengths; no data read
        n = inputs.n_rows
        if groups is not None:  # whole groups per chunk (a dask array is rechunked to them)
            step = self.chunk_rows or DEFAULT_CHUNK_ROWS
            row_chunks = tuple(b - a for a, b in chunk_bounds(n, step, groups)) or (0,)
        elif is_dask_collection(X) and self.chunk_rows is None:
            import dask.array as da

            row_chunks = tuple(int(c) for c in da.asarray(X).chunks[0])
        else:
            step = self.chunk_rows or DEFAULT_CHUNK_ROWS
            row_chunks = tuple(min(step, n - s) for s in range(0, n, step)) or (0,)
        first = row_chunks[0]
        X0, w0, data0 = inputs.read(0, first)  # one chunk comes to the client, for the checks
        # reset=True records n_features_in_, which every chunk is checked against on the workers
        batch0 = make_batch(model, X0, w0, data0, reset=True, where=f"rows 0:{first}")
        if n == 0:
            raise DataError(f"{type(model).__name__} got empty data: X has 0 samples")
        model._check_n_samples(n)
        dtype = float_dtype(batch0.X)

        starts = np.concatenate([[0], np.cumsum(row_chunks)])
        bounds = tuple((int(starts[i]), int(starts[i + 1])) for i in range(len(row_chunks)))
        x_blocks = self._blocks(X, bounds)
        w_blocks = (
            [None] * len(row_chunks)
            if sample_weight is None
            else self._blocks(sample_weight, bounds)
        )
        d_blocks = {k: self._blocks(v, bounds) for k, v in fit_data.items() if k in inputs.per_row}
        model_d = dask.delayed(model, traverse=False)
        batches = [
            dask.delayed(_chunk_batch, pure=True, traverse=False)(
                model_d,
                x_blocks[i],
                w_blocks[i],
                {k: b[i] for k, b in d_blocks.items()} | dict(inputs.constant),
                start,
                stop,
                chunk_groups(groups, start, stop),
            )
            for i, (start, stop) in enumerate(bounds)
        ]
        futures = client.compute(batches)
        summaries = client.gather(client.map(_summary, futures))  # raises validation errors
        total = float(sum(w for _, w in summaries))
        check_total_weight(total)
        return Prepared(DistributedData(tuple(futures), bounds, total), dtype, n)

    # -- passes ---------------------------------------------------------------------------
    def map_reduce(self, fn: Callable[[Batch], Stats], data: DistributedData) -> Stats:
        client = self.get_client()
        # The E-step (model and current parameters) goes to the cluster once per pass, as a task
        # whose result each worker fetches once. Unlike scatter() it has lineage: if the worker
        # holding it dies, the scheduler recomputes it (a broadcast scatter would wait for the
        # dead worker).
        shipped = client.submit(_identity, fn, pure=False)
        parts = client.map(_apply, data.futures, fn=shipped, pure=False)
        while len(parts) > 1:
            parts = [
                client.submit(_sum, *parts[i : i + self.split_every], pure=False)
                if len(parts[i : i + self.split_every]) > 1
                else parts[i]
                for i in range(0, len(parts), self.split_every)
            ]
        result: Stats = parts[0].result()
        return result

    def init_batch(self, data: DistributedData, rng: np.random.RandomState) -> Batch:
        client = self.get_client()
        n = data.n_rows
        if n <= self.init_rows:
            return concat_batches(client.gather(list(data.futures)))
        index = sample_index(n, self.init_rows, rng)
        picks = []
        for future, (start, stop) in zip(data.futures, data.bounds, strict=True):
            lo, hi = np.searchsorted(index, [start, stop])
            if hi > lo:
                picks.append(client.submit(_take, future, index[lo:hi] - start, pure=False))
        return concat_batches(client.gather(picks))

    def total_weight(self, data: DistributedData) -> float:
        return data.total_weight

    def __repr__(self) -> str:
        where = self.address if self.address is not None else "default client"
        return f"DaskExecutor({where}, chunk_rows={self.chunk_rows!r})"
