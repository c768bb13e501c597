"""Every model with independent rows gives the in-memory answer on every executor.

Streamed (from ``.npy`` files, or ``.npz`` for sparse matrices, in chunks of any size) and
Dask-distributed fits (a real LocalCluster with two worker processes) must reproduce the
in-memory fit from the same start to 1e-9 relative: same parameters, same log-likelihood
history. Only the order of the additions differs.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emkit import ConvergenceWarning, DaskExecutor, StreamExecutor
from emkit.sources import as_source
from tests.conformance.cases import CASES, Case, FitData
from tests.dask_cluster import local_cluster

pytestmark = [
    pytest.mark.filterwarnings(f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"),
    # hard EM, or a sequence of a few steps, can leave a hidden state empty: warned, not wrong
    pytest.mark.filterwarnings("ignore::emkit.hmm._base.UnvisitedStateWarning"),
]

ROW_CASES = [c for c in CASES if c.independent_rows]
IDS = [c.name for c in ROW_CASES]
STREAM = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
DASK = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))


def _assert_same_fit(a: Any, b: Any) -> None:
    for f in dataclasses.fields(a.params_):
        np.testing.assert_allclose(
            np.asarray(getattr(b.params_, f.name)),
            np.asarray(getattr(a.params_, f.name)),
            rtol=1e-9,
            atol=1e-12,
            err_msg=f.name,
        )
    np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=1e-9)
    assert b.n_iter_ == a.n_iter_


def _weights(seed: int, d: FitData, weighted: bool) -> np.ndarray | None:
    """Random weights per row (per sequence, repeated on its rows, for sequence models)."""
    if not weighted:
        return None
    weight = np.random.default_rng(seed).uniform(0.0, 3.0, size=d.n_units)
    weight[0] = 1.0  # never all zero
    return d.row_weights(weight)


def _reference(case: Case, d: FitData, seed: int, weight: np.ndarray | None) -> Any:
    # few iterations: near convergence a zero change (which stops a tol=0 fit) depends on the
    # summation order
    return case.make(random_state=seed, max_iter=4, tol=0.0).fit(
        d.X, sample_weight=weight, **d.fit_kw
    )


@pytest.mark.parametrize("case", ROW_CASES, ids=IDS)
@given(
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    chunk=st.integers(1, 9),
    weighted=st.booleans(),
    prefetch=st.booleans(),
)
@STREAM
def test_streamed_from_disk_equals_in_memory(
    case: Case, data: st.DataObject, seed: int, chunk: int, weighted: bool, prefetch: bool
) -> None:
    d: FitData = data.draw(case.data)
    weight = _weights(seed, d, weighted)
    whole = _reference(case, d, seed, weight)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, value in {"X": d.X, "sample_weight": weight, **d.fit_kw}.items():
            if value is None:
                continue
            if sp.issparse(value):  # CSR rows: positioned reads, or a whole compressed file
                paths[name] = Path(tmp) / f"{name}.npz"
                sp.save_npz(paths[name], value, compressed=bool(seed % 2))
            else:
                paths[name] = Path(tmp) / f"{name}.npy"
                np.save(paths[name], value)
        sources = {name: as_source(path) for name, path in paths.items()}
        streamed = case.make(random_state=seed, max_iter=4, tol=0.0)
        streamed.fit(
            sources.pop("X"),
            executor=StreamExecutor(chunk_rows=chunk, prefetch=prefetch),
            **sources,
        )
    _assert_same_fit(whole, streamed)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with local_cluster() as c:
        yield c


@pytest.mark.parametrize("case", ROW_CASES, ids=IDS)
@given(
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    chunk=st.integers(5, 25),
    weighted=st.booleans(),
)
@DASK
def test_dask_distributed_equals_in_memory(
    case: Case, client: Any, data: st.DataObject, seed: int, chunk: int, weighted: bool
) -> None:
    d: FitData = data.draw(case.data)
    weight = _weights(seed, d, weighted)
    whole = _reference(case, d, seed, weight)
    distributed = case.make(random_state=seed, max_iter=4, tol=0.0)
    distributed.fit(
        d.X,
        sample_weight=weight,
        executor=DaskExecutor(client, chunk_rows=chunk, split_every=3),
        **d.fit_kw,
    )
    _assert_same_fit(whole, distributed)
