"""Executors run the map (an E-step over row chunks) and the reduce (a sum of ``Stats``).

The model never knows where its rows live. ``InMemoryExecutor`` is the reference; the streamed
(:class:`StreamExecutor`: data on disk, one pass per iteration, bounded memory) and distributed
(:class:`DaskExecutor`: chunks persisted on a Dask cluster) executors give the same statistics
up to floating-point reassociation. ``fit(..., executor=...)`` takes an executor or its name.
"""

from __future__ import annotations

from typing import Any

from emkit.exceptions import ParameterError
from emkit.executors.base import Executor, Prepared
from emkit.executors.dask import DaskExecutor
from emkit.executors.memory import InMemoryExecutor
from emkit.executors.stream import StreamExecutor
from emkit.sources import RowSource

__all__ = [
    "EXECUTOR_NAMES",
    "DaskExecutor",
    "Executor",
    "InMemoryExecutor",
    "Prepared",
    "StreamExecutor",
    "resolve_executor",
]

EXECUTOR_NAMES = {"memory": InMemoryExecutor, "stream": StreamExecutor, "dask": DaskExecutor}


def resolve_executor(executor: Executor | str | None, X: Any = None) -> Executor:
    """The executor a fit runs on.

    Parameters
    ----------
    executor : Executor, {'memory', 'stream', 'dask'} or None
        An executor, or the name of one with its defaults (``'dask'`` uses the current Dask
        client). None picks ``'stream'`` when ``X`` is a path or a
        :class:`~emkit.sources.RowSource` (data on disk) and ``'memory'`` otherwise.
    X : object, optional
        The data, for the default.
    """
    if isinstance(executor, Executor):
        return executor
    if executor is None:
        import os

        on_disk = isinstance(X, RowSource | str | os.PathLike)
        return StreamExecutor() if on_disk else InMemoryExecutor()
    if isinstance(executor, str) and executor in EXECUTOR_NAMES:
        return EXECUTOR_NAMES[executor]()
    raise ParameterError(
        f"executor must be an Executor or one of {sorted(EXECUTOR_NAMES)}, got {executor!r}"
    )
