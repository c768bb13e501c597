"""How many threads emkit's own row-block parallelism may use in the current context.

By default every core this process may run on. A Dask worker runs several tasks side by side
(and a machine often runs several workers): there a fit's block threads are capped at the
worker's own thread count, so that ``n`` workers on ``n`` cores do not start ``n x n`` threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["cpu_threads", "limit_threads"]

_LIMIT: ContextVar[int | None] = ContextVar("emkit_thread_limit", default=None)


def cpu_threads() -> int:
    """Threads available to a block-parallel pass here: the cores of this process, capped by
    :func:`limit_threads`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    limit = _LIMIT.get()
    return cores if limit is None else max(1, min(cores, limit))


@contextmanager
def limit_threads(n: int | None) -> Iterator[None]:
    """Within the block, :func:`cpu_threads` returns at most ``n`` (``None``: no cap)."""
    token = _LIMIT.set(n)
    try:
        yield
    finally:
        _LIMIT.reset(token)
