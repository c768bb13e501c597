"""Dask-distributed fits on a real LocalCluster (2 worker processes on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emkit import (
    BernoulliMixture,
    BinomialMixture,
    ConvergenceWarning,
    DaskExecutor,
    DataError,
    ParameterError,
    StreamExecutor,
)
from tests.dask_cluster import local_cluster

da = pytest.importorskip("dask.array", reason="the Dask tests need dask")
pytest.importorskip("distributed", reason="the Dask tests need dask.distributed")

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)

KW: dict[str, Any] = {"random_state": 5, "max_iter": 5, "tol": 0.0}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with local_cluster() as c:
        yield c


def _binary(n: int, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.9] * d, [0.1] * d, [0.9, 0.1] * (d // 2)])
    z = rng.integers(0, 3, size=n)
    return (rng.random((n, d)) < centres[z]).astype(np.float64)


def _same(a: Any, b: Any, rtol: float = 1e-9) -> None:
    np.testing.assert_allclose(b.theta_, a.theta_, rtol=rtol)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=rtol)
    np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=rtol)


def test_dask_array_files_and_per_row_data(client: Any, tmp_path: Path) -> None:
    X = _binary(4000)
    ref = BernoulliMixture(3, **KW).fit(X)
    # a dask array keeps its row chunks; "dask" uses the default client
    _same(ref, BernoulliMixture(3, **KW).fit(da.from_array(X, chunks=(900, 2)), executor="dask"))
    # a path: every worker reads its own rows
    np.save(tmp_path / "x.npy", X)
    _same(ref, BernoulliMixture(3, **KW).fit(tmp_path / "x.npy", executor=DaskExecutor(client)))
    # per-row data and weights as dask arrays or NumPy arrays, aligned to X's chunks
    rng = np.random.default_rng(2)
    trials = rng.integers(1, 20, size=4000).astype(np.float64)
    S = rng.binomial(trials.astype(int)[:, None], [[0.2, 0.6]], size=(4000, 2)).astype(float)
    weight = rng.uniform(0, 2, size=4000)
    ref_b = BinomialMixture(2, **KW).fit(S, trials=trials, sample_weight=weight)
    got = BinomialMixture(2, **KW).fit(
        da.from_array(S, chunks=(1000, 2)),
        trials=da.from_array(trials, chunks=700),
        sample_weight=weight,
        executor=DaskExecutor(client),
    )
    _same(ref_b, got)


def test_bad_chunks_fail_on_the_workers_with_the_in_memory_errors(client: Any) -> None:
    X = _binary(2000)
    X[1234, 1] = np.nan
    executor = DaskExecutor(client, chunk_rows=500)
    with pytest.raises(DataError, match=r"(?s)Input X contains NaN.*\(in rows 1000:1500\)"):
        BernoulliMixture(2).fit(X, executor=executor)
    X[1234, 1] = 3.0
    with pytest.raises(DataError, match=r"needs binary data \(0/1\), got X\[234, 1\] = 3"):
        BernoulliMixture(2).fit(X, executor=executor)
    with pytest.raises(DataError, match="sample_weight is zero for every sample"):
        BernoulliMixture(2).fit(_binary(2000), sample_weight=np.zeros(2000), executor=executor)


def test_dask_initialisation_sample_matches_the_streamed_one(client: Any, tmp_path: Path) -> None:
    X = _binary(3000, seed=9)
    np.save(tmp_path / "x.npy", X)
    kw: dict[str, Any] = {"random_state": 11, "max_iter": 6, "tol": 0.0, "n_init": 2}
    streamed = BernoulliMixture(3, **kw).fit(
        tmp_path / "x.npy", executor=StreamExecutor(chunk_rows=400, init_rows=250)
    )
    distributed = BernoulliMixture(3, **kw).fit(
        tmp_path / "x.npy", executor=DaskExecutor(client, chunk_rows=700, init_rows=250)
    )
    _same(streamed, distributed)


def test_no_client_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import distributed

    def no_client() -> None:
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "get_client", no_client)
    with pytest.raises(ParameterError, match="DaskExecutor found no Dask client"):
        BernoulliMixture(2).fit(_binary(100), executor="dask")
    with pytest.raises(ValueError, match="split_every must be at least 2"):
        DaskExecutor(split_every=1)


def test_cli_runs_on_a_scheduler_address(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_cli import run

    X = _binary(3000)
    np.save(tmp_path / "x.npy", X)
    args = ["bernoulli", str(tmp_path / "x.npy"), "-k", "3", "--json", "--no-progress"]
    args += ["--seed", "1", "--max-iter", "5", "--tol", "0"]
    code, out, err = run([*args, "--scheduler", client.scheduler.address], capsys)
    assert code == 0, err
    ref = BernoulliMixture(3, random_state=1, max_iter=5, tol=0.0).fit(X)
    np.testing.assert_allclose(json.loads(out)["theta"], ref.theta_, rtol=1e-9)


def test_fit_survives_a_worker_killed_mid_fit(client: Any) -> None:
    X = _binary(6000, seed=3)
    ref = BernoulliMixture(3, **KW).fit(X)
    before = client.run(os.getpid)  # {worker address: pid}
    killed: list[str] = []

    def kill_one_worker(info: Any) -> None:
        if info.iteration == 2 and not killed:
            address, pid = sorted(before.items())[0]
            os.kill(pid, signal.SIGKILL)  # no goodbye: the chunks it held are lost
            killed.append(address)

    model = BernoulliMixture(3, **KW)
    model.fit(X, callbacks=[kill_one_worker], executor=DaskExecutor(client, chunk_rows=500))
    assert killed
    _same(ref, model)  # recomputed chunks, same answer
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker
    assert killed[0] not in client.run(os.getpid)


def test_gmm_cli_on_a_scheduler_address(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from emkit import GaussianMixture
    from tests.test_cli import run

    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (2000, 2)), rng.normal(5, 2, (2000, 2))])
    np.save(tmp_path / "x.npy", X)
    args = ["gmm", str(tmp_path / "x.npy"), "-k", "2", "--json", "--no-progress", "--seed", "1"]
    args += ["--max-iter", "5", "--tol", "0", "--chunk-rows", "1000"]
    code, out, err = run([*args, "--scheduler", client.scheduler.address], capsys)
    assert code == 0, err
    ref = GaussianMixture(2, init="kmeans", random_state=1, max_iter=5, tol=0.0).fit(X)
    np.testing.assert_allclose(json.loads(out)["means"], ref.means_, rtol=1e-9)


def _threads_here(batch: Any) -> Any:
    from emkit._threads import cpu_threads

    return cpu_threads()


def test_block_threads_are_capped_at_the_workers_threads(client: Any) -> None:
    """2 single-thread workers on 2 cores must not each start a 2-thread block pool."""
    from emkit._threads import cpu_threads, limit_threads
    from emkit.executors.dask import _apply

    futures = [
        client.submit(_apply, None, _threads_here, workers=[w], pure=False)
        for w in client.scheduler_info()["workers"]
    ]
    assert client.gather(futures) == [1, 1]
    with limit_threads(1):
        assert cpu_threads() == 1
    with limit_threads(None):
        assert cpu_threads() >= 1
