"""``emkit hmm`` through the real entry point (exit codes included)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from emkit.datasets import earthquakes
from tests._cli import run_cli as run


@pytest.fixture
def quakes_csv(tmp_path: Path) -> Path:
    years, counts = earthquakes()
    path = tmp_path / "quakes.csv"
    rows = [f"{y},{int(c)}" for y, c in zip(years, counts[:, 0], strict=True)]
    path.write_text("year,count\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def sequences_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = ["seq,x,y"]
    for s in range(4):
        z = np.repeat(rng.integers(0, 2, size=6), 10)
        for x, y in rng.normal(size=(len(z), 2)) + 6.0 * z[:, None]:
            lines.append(f"s{s},{x:.6f},{y:.6f}")
    path = tmp_path / "seq.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_poisson_on_earthquakes_writes_model_and_states(
    quakes_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, states = tmp_path / "model.json", tmp_path / "states.csv"
    code, out, err = run(
        [
            "hmm",
            str(quakes_csv),
            "-k",
            "2",
            "--emission",
            "poisson",
            "--columns",
            "count",
            "--seed",
            "0",
            "--tol",
            "1e-12",
            "--max-iter",
            "1000",
            "-o",
            str(model),
            "--states",
            str(states),
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads(model.read_text())
    assert summary["model"] == "PoissonHMM" and summary["columns"] == ["count"]
    assert -summary["log_likelihood"] == pytest.approx(341.8787, abs=1e-3)
    with states.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["state", "p0", "p1"] and len(rows) == 108
    assert {r[0] for r in rows[1:]} == {"0", "1"}
    np.testing.assert_allclose([float(r[1]) + float(r[2]) for r in rows[1:]], 1.0, rtol=1e-9)
    assert "converged" in out


def test_gaussian_with_a_lengths_column(
    sequences_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "hmm",
            str(sequences_csv),
            "-k",
            "2",
            "--emission",
            "gaussian",
            "--covariance",
            "diag",
            "--lengths-column",
            "seq",
            "--seed",
            "0",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["columns"] == ["x", "y"] and summary["n_sequences"] == 4
    means = np.sort(np.asarray(summary["means"])[:, 0])
    np.testing.assert_allclose(means, [0.0, 6.0], atol=0.5)


def test_a_sequence_in_two_runs_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("seq,x\na,1\na,2\nb,3\na,4\n")
    out_path = tmp_path / "m.json"
    code, _, err = run(["hmm", str(path), "--lengths-column", "seq", "-o", str(out_path)], capsys)
    assert code == 2 and "separate runs" in err and len(err.strip().splitlines()) == 1
    assert not out_path.exists()


def test_nan_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nan.csv"
    path.write_text("x\n1.0\n2.0\nnan\n3.0\n")
    code, _, err = run(["hmm", str(path), "-k", "1"], capsys)
    assert code == 2 and "'nan' is not finite" in err and len(err.strip().splitlines()) == 1


def test_unknown_emission(quakes_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["hmm", str(quakes_csv), "--emission", "binomial"], capsys)
    assert code == 2 and "--emission" in err


def test_a_state_never_visited_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.csv"
    path.write_text("x\n" + "\n".join(["1"] * 30) + "\n")
    code, _, err = run(
        ["hmm", str(path), "-k", "2", "--emission", "categorical", "--seed", "0", "--hard"],
        capsys,
    )
    assert code == 0, err
    assert "warning:" in err and "never visited" in err


def test_gmm_emissions_with_a_lengths_column(
    sequences_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "gmm.json"
    code, _, err = run(
        [
            "hmm",
            str(sequences_csv),
            "-k",
            "2",
            "--emission",
            "gmm",
            "--n-mix",
            "2",
            "--covariance",
            "tied",
            "--lengths-column",
            "seq",
            "--seed",
            "0",
            "-o",
            str(out_path),
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads(out_path.read_text())
    assert summary["model"] == "GMMHMM" and summary["covariance_type"] == "tied"
    assert np.asarray(summary["means"]).shape == (2, 2, 2)
    assert np.asarray(summary["covars"]).shape == (2, 2, 2)  # one (d, d) per state
    np.testing.assert_allclose(np.asarray(summary["weights"]).sum(axis=1), 1.0)
