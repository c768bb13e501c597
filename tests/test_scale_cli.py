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
