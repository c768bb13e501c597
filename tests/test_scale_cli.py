"""``--executor``, ``--chunk-rows`` and Parquet / .npy inputs on the fitting commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emkit import ConvergenceWarning
from tests.test_cli import run

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)

pa = pytest.importorskip("pyarrow", reason="Parquet inputs need pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def coins_parquet(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    tosses = rng.integers(1, 20, size=3000)
    heads = rng.binomial(tosses, np.where(rng.integers(0, 2, size=3000) == 0, 0.2, 0.7))
    path = tmp_path / "coins.parquet"
    pq.write_table(pa.table({"heads": heads.astype(float), "tosses": tosses}), path, 500)
    return path


def fit_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = run([*args, "--json", "--no-progress", "--seed", "0"], capsys)
    assert code == 0, err
    payload: dict[str, object] = json.loads(out)
    return payload


def test_binomial_from_parquet_on_each_executor(
    coins_parquet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["binomial", str(coins_parquet), "-s", "heads", "-t", "tosses", "--max-iter", "30"]
    memory = fit_json(base, capsys)
    streamed = fit_json([*base, "--executor", "stream", "--chunk-rows", "700"], capsys)
    np.testing.assert_allclose(streamed["theta"], memory["theta"], rtol=1e-9)  # type: ignore[arg-type]
    np.testing.assert_allclose(memory["theta"], [[0.1994], [0.6975]], atol=1e-3)  # type: ignore[arg-type]
    assert streamed["columns"] == ["heads"]


def test_bernoulli_from_npy_streams(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    X = (np.random.default_rng(1).random((2000, 4)) < 0.3).astype(float)
    np.save(tmp_path / "x.npy", X)
    memory = fit_json(["bernoulli", str(tmp_path / "x.npy"), "--max-iter", "20"], capsys)
    streamed = fit_json(
        ["bernoulli", str(tmp_path / "x.npy"), "--max-iter", "20", "--executor", "stream"], capsys
    )
    assert memory["columns"] == ["0", "1", "2", "3"]
    np.testing.assert_allclose(streamed["theta"], memory["theta"], rtol=1e-9)  # type: ignore[arg-type]


def test_executor_option_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "x.npy", np.zeros((10, 2)))
    out = tmp_path / "out.json"
    args = ["bernoulli", str(tmp_path / "x.npy"), "--executor", "stream", "-o", str(out)]
    code, _, err = run([*args, "--scheduler", "tcp://x:1"], capsys)
    assert code == 2 and "use --executor dask" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    code, _, err = run(["bernoulli", str(tmp_path / "x.npy"), "-c", "a"], capsys)
    assert code == 2 and "no column names" in err
    code, _, err = run(["bernoulli", str(tmp_path / "x.npy"), "--executor", "spark"], capsys)
    assert code == 2 and "spark" in err
    bad = (np.random.default_rng(0).random((300, 2)) < 0.5).astype(float)
    bad[250, 1] = 2.0
    np.save(tmp_path / "bad.npy", bad)
    code, _, err = run(
        ["bernoulli", str(tmp_path / "bad.npy"), "--executor", "stream", "--chunk-rows", "100"],
        capsys,
    )
    assert code == 2 and "X[50, 1] = 2" in err and "rows 200:300" in err


@pytest.mark.parametrize("command", ["gmm", "kmeans"])
def test_gmm_and_kmeans_stream_a_parquet_file(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The streamed fit writes the in-memory model and the same labels CSV, block by block."""
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0, 1, (1500, 3)), rng.normal(6, 1, (1500, 3))])
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({f"x{j}": X[:, j] for j in range(3)}), path, row_group_size=400)
    base = [command, str(path), "-k", "2", "--max-iter", "15"]
    outs = {}
    for executor in ("memory", "stream"):
        labels = tmp_path / f"{executor}.csv"
        extra = ["--executor", executor, "--chunk-rows", "700", "--labels", str(labels)]
        outs[executor] = fit_json([*base, *extra], capsys)
    key = "means" if command == "gmm" else "cluster_centers"
    np.testing.assert_allclose(outs["stream"][key], outs["memory"][key], rtol=1e-9)  # type: ignore[arg-type]
    assert outs["stream"]["columns"] == ["x0", "x1", "x2"]
    memory_rows = (tmp_path / "memory.csv").read_text().splitlines()
    assert (tmp_path / "stream.csv").read_text().splitlines() == memory_rows
    assert len(memory_rows) == 1 + 3000 and memory_rows[0] == "label,p0,p1"
    labels = np.array([int(r.split(",")[0]) for r in memory_rows[1:]])
    assert len(set(labels[:1500])) == 1 and len(set(labels[1500:])) == 1  # the two blobs


def test_gmm_select_runs_in_memory_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(100, 2)))
    code, _, err = run(
        ["gmm", str(tmp_path / "x.npy"), "--select", "1-2", "--executor", "stream"], capsys
    )
    assert code == 2 and "--select fits its grid in memory" in err
