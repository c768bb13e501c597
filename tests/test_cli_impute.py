"""``emkit impute`` and ``emkit gmm --missing em`` on CSV files with empty / NA cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests._cli import run_cli


def _csv(path: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 1, 2], [[1, 0.8, 0.5], [0.8, 1, 0.3], [0.5, 0.3, 1]], 120)
    hidden = rng.random(X.shape) < 0.15
    hidden[:, 0] &= ~hidden[:, 1:].all(axis=1)
    lines = ["a,b,c"]
    for row, h in zip(X, hidden, strict=True):
        lines.append(",".join("NA" if m else f"{v:.6f}" for v, m in zip(row, h, strict=True)))
    path.write_text("\n".join(lines) + "\n")
    return np.where(hidden, np.nan, np.round(X, 6))


def test_impute_fills_every_missing_cell_and_keeps_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    X = _csv(tmp_path / "d.csv")
    out = tmp_path / "filled.csv"
    args = ["impute", str(tmp_path / "d.csv"), "-k", "1", "-o", str(out), "--seed", "0"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    filled = np.loadtxt(out, delimiter=",", skiprows=1)
    assert out.read_text().splitlines()[0] == "a,b,c"
    assert not np.isnan(filled).any()
    np.testing.assert_allclose(filled[~np.isnan(X)], X[~np.isnan(X)], rtol=1e-9)


def test_gmm_missing_em_fits_and_default_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _csv(tmp_path / "d.csv")
    args = ["gmm", str(tmp_path / "d.csv"), "-k", "2", "--missing", "em", "--seed", "0"]
    code, out, err = run_cli([*args, "--json"], capsys)
    assert code == 0, err
    assert '"converged": true' in out
    code, out, err = run_cli(["gmm", str(tmp_path / "d.csv"), "-k", "2"], capsys)
    assert code == 2
    assert "--missing em" in err and "Traceback" not in err + out


def test_impute_errors_are_one_line_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "filled.csv"
    (tmp_path / "text.csv").write_text("a,b\n1,x\n2,3\n")
    for args in (
        ["impute", str(tmp_path / "none.csv"), "-o", str(out)],
        ["impute", str(tmp_path / "text.csv"), "-o", str(out)],
        ["impute", str(tmp_path / "text.csv"), "--covariance", "round", "-o", str(out)],
    ):
        code, _, err = run_cli(args, capsys)
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1, err
        assert not out.exists()
