"""Fit one model in memory, streamed from a file on disk, and on a local Dask cluster.

    python examples/stream_and_dask.py

The three fits start from the same parameters and print the same answer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from emkit import BernoulliMixture, DaskExecutor, StreamExecutor


def main() -> None:
    rng = np.random.default_rng(0)
    profiles = np.array([[0.9, 0.8, 0.1, 0.2], [0.1, 0.3, 0.9, 0.7]])
    z = rng.integers(0, 2, size=200_000)
    X = (rng.random((z.size, 4)) < profiles[z]).astype(np.float64)
    options = {"random_state": 0, "tol": 1e-8, "max_iter": 200}

    print("in memory:", BernoulliMixture(2, **options).fit(X).theta_.round(4).tolist())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, X)  # stands in for a file larger than memory
        streamed = BernoulliMixture(2, **options).fit(path, executor=StreamExecutor(20_000))
        print("streamed: ", streamed.theta_.round(4).tolist())

        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            executor = DaskExecutor(client, chunk_rows=50_000)
            on_dask = BernoulliMixture(2, **options).fit(path, executor=executor)
            print("on Dask:  ", on_dask.theta_.round(4).tolist())


if __name__ == "__main__":
    main()
