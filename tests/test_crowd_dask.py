"""The crowd models on a real Dask cluster (2 worker processes on 127.0.0.1) give the in-memory
answer: ids are factorised on the client, the coded rows live in chunks on the workers, and
every E-step pass runs there with its per-task and per-worker statistics tree-reduced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from emkit import ConvergenceWarning, DaskExecutor
from emkit.crowd import ContinuousAnnotators, DawidSkene, OneCoinDawidSkene
from tests.dask_cluster import local_cluster

pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed", reason="the Dask tests need dask.distributed")

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with local_cluster() as c:
        yield c


def _answers(kind: str, n: int = 3000, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    task = rng.integers(0, 400, n)
    worker = rng.integers(0, 30, n)
    if kind == "score":
        truth = rng.uniform(0.2, 0.8, 400)
        spammer = rng.uniform(size=30) < 0.3
        value = np.where(
            spammer[worker], rng.uniform(0, 1, n), np.clip(rng.normal(truth[task], 0.05), 0, 1)
        )
    else:
        truth = rng.integers(0, 3, 400)
        right = rng.uniform(size=n) < rng.uniform(0.4, 0.9, 30)[worker]
        value = np.where(right, truth[task], rng.integers(0, 3, n))
    # string worker ids: the codes must be global, not per chunk
    return pd.DataFrame({"task": task, "worker": [f"w{w}" for w in worker], kind: value})


def _on_cluster(client: Any, fit: Any) -> Any:
    """Run ``fit()`` and check that its passes ran as tasks on the workers."""
    with distributed.get_task_stream(client) as stream:
        model = fit()
    assert any("_apply" in str(task["key"]) for task in stream.data)
    return model


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"noise": "worker", "bias": True},
        {"mixture": False, "noise": "worker"},
    ],
)
def test_continuous_annotators_on_dask_equal_in_memory(client: Any, variant: dict) -> None:
    df = _answers("score")
    weight = np.random.default_rng(1).integers(1, 3, len(df)).astype(float)
    kw = {"low": 0.0, "high": 1.0, "max_iter": 8, "tol": 0.0, **variant}
    ref = ContinuousAnnotators(**kw).fit(df, sample_weight=weight)
    executor = DaskExecutor(client, chunk_rows=700, init_rows=500)  # init must see all rows
    got = _on_cluster(
        client,
        lambda: ContinuousAnnotators(**kw).fit(df, sample_weight=weight, executor=executor),
    )
    for name in ("mu_", "std_error_", "p_good_", "sigma_", "bias_", "log_likelihood_history_"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-9, err_msg=name)
    assert got.tasks_.tolist() == ref.tasks_.tolist()
    assert got.workers_.tolist() == ref.workers_.tolist()


@pytest.mark.parametrize("model", [DawidSkene, OneCoinDawidSkene])
def test_dawid_skene_family_on_dask_equal_in_memory(client: Any, model: type) -> None:
    df = _answers("label")
    gold = {int(t): 1 for t in df["task"].unique()[:5]}
    ref = model(max_iter=8, tol=0.0).fit(df, true_labels=gold)
    # "dask" picks the default client (the fixture's)
    got = _on_cluster(
        client, lambda: model(max_iter=8, tol=0.0).fit(df, true_labels=gold, executor="dask")
    )
    np.testing.assert_allclose(got.proba_, ref.proba_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.prior_, ref.prior_, rtol=1e-9)
    np.testing.assert_allclose(got.confusion_, ref.confusion_, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got.log_likelihood_history_, ref.log_likelihood_history_, rtol=1e-9)
    assert got.labels_.equals(ref.labels_)
