"""The command line, run in-process through its real entry point (exit codes included)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from emkit import BinomialMixture, __version__
from emkit.cli import app
from emkit.cli._commands import COMMANDS
from tests._cli import run_cli as run


@pytest.fixture
def coins_csv(tmp_path: Path) -> Path:
    path = tmp_path / "coins.csv"
    path.write_text("set,heads,tosses\n1,5,10\n2,9,10\n3,8,10\n4,4,10\n5,7,10\n")
    return path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"emkit {__version__}"


def _names(typer_app: typer.Typer) -> list[str]:
    return [c.name or c.callback.__name__.replace("_", "-") for c in typer_app.registered_commands]


def _commands() -> list[list[str]]:
    for module, _ in COMMANDS.values():  # subcommands register when their module is imported
        importlib.import_module(module)
    paths = [[name] for name in _names(app)]
    for group in app.registered_groups:
        assert group.name and group.typer_instance
        paths.append([group.name])
        paths.extend([group.name, sub] for sub in _names(group.typer_instance))
    return paths


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_subcommand_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0 and "Usage" in out


def test_demo_prints_the_course_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["demo", "--output-dir", str(tmp_path / "demo")], capsys)
    assert code == 0, err
    assert (tmp_path / "demo" / "report.html").exists()
    for number in ("0.7130", "0.5813", "0.7967", "0.5197", "0.4064", "0.6432", "0.608247423"):
        assert number in out


def test_binomial_json_on_stdout(coins_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["binomial", str(coins_csv), "-s", "heads", "-t", "10", "--seed", "0", "--n-init", "5",
         "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0 and err == ""  # no progress bar when stderr is not a terminal
    result = json.loads(out)
    assert result["model"] == "BinomialMixture" and result["converged"]
    api = BinomialMixture(
        2, n_trials=10, n_init=5, random_state=0, init="random_from_data", tol=1e-8, max_iter=200
    ).fit([[5], [9], [8], [4], [7]])
    assert result["log_likelihood"] == pytest.approx(api.log_likelihood_, rel=1e-12)
    assert result["theta"] == api.theta_.tolist()


def test_binomial_trials_column_and_output_file(
    coins_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "params.json"
    model = tmp_path / "model"
    code, out, _ = run(
        ["binomial", str(coins_csv), "-s", "heads", "-t", "tosses", "-o", str(out_file),
         "--save-model", str(model), "--seed", "1"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "BinomialMixture" in out
    assert json.loads(out_file.read_text())["columns"] == ["heads"]
    assert (tmp_path / "model.json").exists() and (tmp_path / "model.npz").exists()


def test_bernoulli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "y.csv"
    path.write_text("a,b\n" + "1,1\n0,0\n1,1\n0,0\n1,0\n" * 4)
    code, out, _ = run(["bernoulli", str(path), "-k", "2", "--json", "--seed", "0"], capsys)
    assert code == 0 and json.loads(out)["columns"] == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["-s", "nope", "-t", "10"], None, "unknown column 'nope'"),
        (["-s", "heads", "-t", "5"], None, "successes exceed trials"),
        (["-s", "heads", "-t", "10", "-k", "9"], None, "n_components=9 must be <= n_samples=5"),
        (["-s", "heads", "-t", "10"], "heads\n1\nx\n", "'x' is not a number"),
        (["-s", "heads", "-t", "10"], "heads\n1\nnan\n", "not finite"),
        (["-s", "heads", "-t", "10"], "", "is empty"),
        (["-s", "heads", "-t", "10"], "heads\n", "no data rows"),
        (["-s", "heads", "-t", "0"], None, "--trials must be a positive integer"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(
    args: list[str],
    content: str | None,
    message: str,
    coins_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if content is not None:
        coins_csv.write_text(content)
    out_file = tmp_path / "out.json"
    code, _, err = run(["binomial", str(coins_csv), *args, "-o", str(out_file)], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out_file.exists()
    assert list(tmp_path.glob(".out.json*")) == []


def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["bernoulli", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "cannot read" in err


def test_non_binary_bernoulli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "y.csv"
    path.write_text("a\n0\n2\n")
    code, _, err = run(["bernoulli", str(path)], capsys)
    assert code == 2 and "binary data" in err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emkit", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and __version__ in result.stdout
