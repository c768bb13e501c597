"""``emkit gmm`` and ``emkit kmeans`` through the real entry point (exit codes included)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from emkit.datasets import old_faithful
from tests._cli import run_cli as run


@pytest.fixture
def faithful_csv(tmp_path: Path) -> Path:
    X, names = old_faithful()
    path = tmp_path / "faithful.csv"
    lines = [",".join(names)] + [f"{a},{b}" for a, b in X]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_gmm_writes_model_and_assignments(
    faithful_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, labels = tmp_path / "model.json", tmp_path / "labels.csv"
    args = [
        "gmm",
        str(faithful_csv),
        "-k",
        "2",
        "--covariance",
        "full",
        "--seed",
        "0",
        "--tol",
        "1e-10",
    ]
    code, out, _ = run([*args, "-o", str(model), "--labels", str(labels)], capsys)
    assert code == 0 and "GaussianMixture" in out
    summary = json.loads(model.read_text())
    assert summary["log_likelihood"] == pytest.approx(-1130.2640, abs=1e-3)
    assert sorted(summary["weights"]) == pytest.approx([0.355873, 0.644127], abs=1e-5)
    rows = list(csv.reader(labels.read_text().splitlines()))
    assert rows[0] == ["label", "p0", "p1"] and len(rows) == 273
    proba = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-8)
    assert [int(r[0]) for r in rows[1:]] == list(proba.argmax(axis=1))


def test_gmm_select_by_bic(faithful_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["gmm", str(faithful_csv), "--select", "1-3", "--seed", "0", "--json"], capsys
    )
    assert code == 0
    summary = json.loads(out)
    assert len(summary["selection"]["table"]) == 3 * 4
    best = min(summary["selection"]["table"], key=lambda r: r["bic"])
    assert [best["n_components"], best["covariance_type"]] == summary["selection"]["best_bic"]
    assert summary["n_components"] == best["n_components"]


def test_gmm_select_with_chosen_types(
    faithful_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["gmm", str(faithful_csv), "--select", "1-2", "--covariance", "full,diag", "--seed", "1"],
        capsys,
    )
    assert code == 0 and "BIC" in out


def test_kmeans(faithful_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "km.csv"
    code, out, _ = run(
        ["kmeans", str(faithful_csv), "-k", "3", "--seed", "0", "--json", "--labels", str(labels)],
        capsys,
    )
    assert code == 0
    summary = json.loads(out)
    assert len(summary["cluster_centers"]) == 3 and summary["inertia"] > 0
    assert len(labels.read_text().splitlines()) == 273


def test_parquet_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    X, names = old_faithful()
    path = tmp_path / "faithful.parquet"
    pq.write_table(pa.table({n: X[:, j] for j, n in enumerate(names)}), path)
    code, out, _ = run(["gmm", str(path), "-k", "2", "--seed", "0", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["columns"] == names


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--covariance", "round"], "--covariance 'round' is not one of"),
        (["--covariance", "full,diag"], "several together with --select"),
        (["--select", "x-y"], "cannot read 'x-y'"),
        (["-c", "nope"], "unknown column 'nope'"),
        (["-k", "0"], "n_components"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    faithful_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    out_json = tmp_path / "never.json"
    code, _, err = run(["gmm", str(faithful_csv), *extra, "-o", str(out_json)], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out_json.exists()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["kmeans", str(tmp_path / "absent.csv")], capsys)
    assert code == 2 and "cannot read" in err


def test_plot(faithful_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "gmm.png"
    code, _, _ = run(
        ["gmm", str(faithful_csv), "--select", "1-2", "--seed", "0", "--plot", str(png)], capsys
    )
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG"
