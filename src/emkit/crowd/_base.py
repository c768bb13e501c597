"""What the crowd estimators share: long-format input, ids, caches of derived per-chunk arrays."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

import numpy as np
import scipy.sparse as sp

from emkit._validation import Constraint
from emkit.base import EMEstimator
from emkit.data import Batch
from emkit.engine import Callback, StepContext
from emkit.executors import Executor, InMemoryExecutor, Prepared, resolve_executor
from emkit.executors.base import DataModel
from emkit.stats import Stats

__all__ = ["CrowdEstimator", "row_blocks", "run_parallel"]

P = TypeVar("P")
T = TypeVar("T")

STRING = Constraint(lambda v: isinstance(v, str) and bool(v), "a non-empty str")

#: chunks whose derived arrays are kept during one fit (a streamed executor that hands out fresh
#: arrays every pass would otherwise grow the cache without bound)
_MAX_CACHED_CHUNKS = 256


#: a pass over fewer entries than this (answers, or tasks x classes) runs as one block
PARALLEL_MIN_ENTRIES = 200_000
#: blocks of a large pass: fixed, so that results never depend on the machine's core count
N_BLOCKS = 2

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def row_blocks(n_rows: int, n_entries: int) -> list[tuple[int, int]]:
    """``[start, stop)`` row ranges that cut a pass of ``n_entries`` entries into blocks.

    One block below :data:`PARALLEL_MIN_ENTRIES`, else :data:`N_BLOCKS` of equal rows. The cut
    depends only on the sizes, so the sums of the blocks (and hence the fit) are the same
    whatever the number of threads that runs them.
    """
    n = N_BLOCKS if n_entries >= PARALLEL_MIN_ENTRIES and n_rows >= N_BLOCKS else 1
    cuts = [n_rows * i // n for i in range(n + 1)]
    return [(cuts[i], cuts[i + 1]) for i in range(n)]


def run_parallel(fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    """``[fn(item) for item in items]``, on up to ``len(items)`` threads.

    The blocks are sparse products and NumPy ufuncs over large arrays, which release the GIL.
    One thread pool per process serves every fit (created on first use; a forked child makes
    its own).
    """
    threads = min(_threads(), len(items))
    if threads <= 1:
        return [fn(item) for item in items]
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1]._max_workers < threads:
            _pool = (os.getpid(), ThreadPoolExecutor(threads, thread_name_prefix="emkit-crowd"))
        pool = _pool[1]
    return list(pool.map(fn, items))


def _ids_to_json(ids: Any) -> list[Any]:
    return np.asarray(ids).tolist()


class CrowdEstimator(EMEstimator[P]):
    """Base of the crowd models: rows are answers ``(task code, worker code, answer)``.

    The hidden variables are shared by many rows (one per worker or one per task), so an
    iteration takes two map-reduce passes (``n_passes = 2``) and the log-likelihood is computed
    from reduced statistics (:meth:`objective` is overridden by each model).

    Subclasses set the fitted ``tasks_`` and ``workers_`` (ids of the integer codes) in
    ``_validate_data``.
    """

    n_passes: ClassVar[int] = 2

    tasks_: np.ndarray
    workers_: np.ndarray

    # -- caches that live for one fit ------------------------------------------------------
    def _reset_caches(self) -> None:
        self._chunk_cache: dict[tuple[int, int, int], tuple[Any, ...]] = {}
        self._memo: tuple[Any, ...] | None = None

    def _chunk_derived(self, batch: Batch, build: Callable[[Batch], Any]) -> Any:
        """``build(batch)`` once per chunk of rows for the whole fit.

        A chunk is identified by the memory of its arrays (a view of the same rows has the same
        address); the cache keeps the arrays alive, so an address cannot be reused while cached.
        """
        cache = getattr(self, "_chunk_cache", None)
        if cache is None:
            self._reset_caches()
            cache = self._chunk_cache
        key = (
            batch.arrays[0].__array_interface__["data"][0],
            batch.n_rows,
            batch.weight.__array_interface__["data"][0],
        )
        hit = cache.get(key)
        if hit is not None:
            return hit[2]
        if len(cache) >= _MAX_CACHED_CHUNKS:
            cache.clear()
        value = build(batch)
        cache[key] = (batch.arrays, batch.weight, value)
        return value

    def _memoised(
        self, stats: Stats, params: Any, ctx: StepContext, compute: Callable[[], Any]
    ) -> Any:
        """``compute()`` once for the pass-0 statistics shared by ``objective`` and ``m_step``."""
        memo = getattr(self, "_memo", None)
        if memo is not None and memo[0] is stats and memo[1] is params and memo[2] == ctx.hard:
            return memo[3]
        value = compute()
        self._memo = (stats, params, ctx.hard, value)
        return value

    # -- fitting -----------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        callbacks: Sequence[Callback] = (),
        executor: Executor | str | None = None,
        **fit_data: Any,
    ) -> CrowdEstimator[P]:
        """Fit by EM on long-format answers (see the class docstring for ``X``).

        ``executor`` is in memory by default (a path is read by the crowd readers). With
        another executor (``'dask'``), the ids are factorised on the client first: one task
        or worker is shared by rows of every chunk, so its code must be global. The coded
        rows (a few numbers each) are then handed to the executor, which keeps them in chunks
        (on the Dask workers) and runs every E-step pass there, summing the per-task and
        per-worker statistics in its tree; the starting point is computed on the client from
        all rows, as in memory, so the fit gives the in-memory answer.
        """
        executor = InMemoryExecutor() if executor is None else resolve_executor(executor, X)
        self._reset_caches()
        self._fit_sample_weight = sample_weight
        self._coded: tuple[np.dtype[Any], ...] | None = None
        try:
            if isinstance(executor, InMemoryExecutor) and not isinstance(X, str | os.PathLike):
                super().fit(X, y, sample_weight, callbacks=callbacks, executor=executor, **fit_data)
            else:
                self._fit_coded(X, y, sample_weight, callbacks, executor, fit_data)
            self._finish_fit(sample_weight, executor)
        finally:
            self._reset_caches()
            self._fit_arrays: tuple[np.ndarray, ...] | None = None
            self._fit_sample_weight = None
            self._coded = None
        return self

    def _fit_coded(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        callbacks: Sequence[Callback],
        executor: Executor,
        fit_data: Mapping[str, Any],
    ) -> None:
        """Factorise the ids here, then fit on ``executor`` from the (n_answers, m) codes."""
        from emkit._validation import check_sample_weight

        self._check_params()
        arrays = self._validate_data(X, reset=True, **fit_data)  # records ids, keeps arrays
        weight = check_sample_weight(sample_weight, arrays[0].shape[0], np.float64)
        coded = np.column_stack(arrays)
        self._coded = tuple(a.dtype for a in arrays)
        full = _AllRowsInit(executor, Batch(arrays, weight))
        super().fit(coded, y, sample_weight, callbacks=callbacks, executor=full)

    def _split_coded(self, X: Any) -> tuple[np.ndarray, ...] | None:
        """The arrays of a chunk of coded rows (``None`` unless fitting from codes)."""
        dtypes = getattr(self, "_coded", None)
        if dtypes is None:
            return None
        X = np.asarray(X)
        return tuple(X[:, j].astype(dtype) for j, dtype in enumerate(dtypes))

    def __getstate__(self) -> dict[str, Any]:
        # what a Dask worker receives with every pass: no fit-time caches or training arrays
        state: dict[str, Any] = dict(super().__getstate__())
        for key in (
            "_chunk_cache",
            "_memo",
            "_fit_arrays",
            "_fit_sample_weight",
            "_rows_all",
        ):
            state.pop(key, None)
        return state

    def _finish_fit(self, sample_weight: Any, executor: Executor | None) -> None:
        """Hook after the engine's fit (derived outputs that need one more pass)."""

    def _final_pass(self, sample_weight: Any, pass_index: int, params: Any) -> Stats:
        """Map ``e_step`` once more over the training rows (for outputs such as standard errors)."""
        from emkit._validation import check_sample_weight

        arrays = self._fit_arrays
        assert arrays is not None
        weight = check_sample_weight(sample_weight, arrays[0].shape[0], np.float64)
        batch = Batch(arrays, weight)
        ctx = StepContext(hard=self.hard, pass_index=pass_index)
        return InMemoryExecutor().map_reduce(lambda b: self.e_step(b, params, ctx), batch)

    def _fitted_state(self) -> Mapping[str, Any]:
        state = dict(super()._fitted_state())
        state["tasks_"] = _ids_to_json(self.tasks_)
        state["workers_"] = _ids_to_json(self.workers_)
        return state


class _AllRowsInit(Executor):
    """An executor whose ``init_batch`` is every row (held here), the rest delegated.

    A crowd model's start (each task's median or vote) needs all rows of a task, not the
    sample an out-of-core executor hands to ``init_params``.
    """

    def __init__(self, inner: Executor, rows: Batch) -> None:
        self.inner = inner
        self.rows = rows

    def prepare(
        self,
        model: DataModel,
        X: Any,
        sample_weight: Any,
        fit_data: Mapping[str, Any],
        *,
        groups: np.ndarray | None = None,
    ) -> Prepared:
        return self.inner.prepare(model, X, sample_weight, fit_data, groups=groups)

    def map_reduce(self, fn: Callable[[Batch], Stats], data: Any) -> Stats:
        return self.inner.map_reduce(fn, data)

    def init_batch(self, data: Any, rng: np.random.RandomState) -> Batch:
        return self.rows

    def total_weight(self, data: Any) -> float:
        return self.inner.total_weight(data)


def incidence(
    task: np.ndarray, column: np.ndarray, weight: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """Sparse ``(n_tasks, n_columns)`` matrix summing the weights of the rows of each cell."""
    return sp.csr_matrix((weight, (task, column)), shape=shape)
