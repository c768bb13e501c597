"""A real dask.distributed cluster for tests: 2 worker processes on the loopback interface."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def local_cluster() -> Iterator[Any]:
    """Yield a Client of a LocalCluster: 2 processes x 1 thread, 127.0.0.1, 600 MiB each."""
    distributed = pytest.importorskip("distributed", reason="the Dask tests need dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # the scheduler's HTTP server (metrics) on a free loopback port: with None it takes
        # 8787, and a second test run on the same machine then fails with a port warning
        dashboard_address="127.0.0.1:0",
        memory_limit="600MiB",
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
