"""Row blocks of an E-step, spread over threads with single-threaded BLAS in each.

An E-step over many rows is cut into blocks small enough for the ``(block, K, d)`` temporaries
to stay in cache. Each thread reduces a contiguous run of blocks in order and the runs are summed
in order, so a given thread count always gives the same result. NumPy and BLAS release the GIL;
BLAS's own threads are switched off meanwhile because on blocks this small they cost more than
they bring (and oversubscribe the cores).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from emkit._threads import cpu_threads

__all__ = ["block_starts", "reduce_blocks", "sq_rows", "stable_shift"]

T = TypeVar("T")

#: below this many scalar entries in the (rows, K, d) temporaries, run on the calling thread
_PARALLEL_MIN_WORK = 2_000_000


def sq_rows(A: np.ndarray) -> np.ndarray:
    """Squared Euclidean norm of each row of ``A``."""
    return np.einsum("ij,ij->i", A, A)


def _n_threads() -> int:
    return cpu_threads()


def block_starts(n_rows: int, step: int) -> list[int]:
    """First row of each block."""
    return list(range(0, n_rows, step))


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, found once: ``threadpool_limits``
    looks them up on every call (milliseconds with many libraries loaded, every iteration)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def reduce_blocks(
    fn: Callable[[int], T], add: Callable[[T, T], T], starts: list[int], work: int
) -> T:
    """``fn(start)`` for every block start, combined with ``add`` in order.

    Parameters
    ----------
    fn : callable
        Statistics of the block beginning at a row.
    add : callable
        Combines two partial results (the left one may be modified and returned).
    starts : list of int
        Block starts, in row order.
    work : int
        Size of the whole pass (rows x K x d): small passes run on the calling thread.
    """
    threads = min(_n_threads(), len(starts))
    if threads <= 1 or work < _PARALLEL_MIN_WORK:
        return _reduce_run(fn, add, starts)
    bounds = [len(starts) * t // threads for t in range(threads + 1)]
    runs = [starts[bounds[t] : bounds[t + 1]] for t in range(threads)]
    with _blas_controller().limit(limits=1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        partials = list(pool.map(lambda run: _reduce_run(fn, add, run), runs))
    total = partials[0]
    for part in partials[1:]:
        total = add(total, part)
    return total


def _reduce_run(fn: Callable[[int], T], add: Callable[[T, T], T], starts: list[int]) -> T:
    total = fn(starts[0])
    for s in starts[1:]:
        total = add(total, fn(s))
    return total


def stable_shift(centers: np.ndarray) -> np.ndarray:
    """The mean of the component centres, rounded to 16 significant bits.

    Rows are shifted by this point before expansions such as ``|x|^2 - 2 x.mu + |mu|^2`` so that
    they do not cancel on data far from the origin. The rounding makes the shift insensitive to
    round-off changes of the centres: at a fixed point of EM the computation then repeats bit for
    bit (``tol=0`` detects the fixed point, and hard EM stops exactly).
    """
    mantissa, exponent = np.frexp(np.asarray(centers, dtype=np.float64).mean(axis=0))
    return np.ldexp(np.round(mantissa * 2.0**16) / 2.0**16, exponent)
