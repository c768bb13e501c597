"""Start-up stays light: what ``import emkit`` and the command line load, and what they list.

Timings live in ``benchmarks/bench_startup.py``; these tests pin the causes: the modules that
cost most of a second to import (scikit-learn, pandas, scipy.stats, matplotlib, numba, dask) stay
out of ``import emkit``, of ``emkit --help`` and of a small fit on the command line.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import emkit
import emkit.models
from emkit.cli._commands import COMMANDS

HEAVY = ("sklearn", "pandas", "scipy.stats", "matplotlib", "numba", "dask", "PIL", "pyarrow")


def _loaded_after(code: str, *argv: str) -> set[str]:
    """Top-level packages of HEAVY that a fresh interpreter has imported after ``code``."""
    probe = (
        f"import sys, json\nsys.argv = {['emkit', *argv]!r}\n{code}\n"
        "print('@@' + json.dumps(sorted(sys.modules)))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    line = [ln for ln in run.stdout.splitlines() if ln.startswith("@@")]
    assert line, run.stderr
    modules = set(json.loads(line[0][2:]))
    return {h for h in HEAVY if h in modules}


def test_import_emkit_is_light() -> None:
    assert _loaded_after("import emkit") == set()
    assert "numpy" not in _loaded_after("import emkit") | set()


def test_import_emkit_loads_no_numpy() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "import sys, emkit; print('numpy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "False"


_CLI = "from emkit.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass"


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["gmm", "--help"]], ids=" ".join)
def test_cli_help_is_light(argv: list[str]) -> None:
    assert _loaded_after(_CLI, *argv) == set()


def test_small_fit_on_the_command_line_is_light(tmp_path: Path) -> None:
    coins = tmp_path / "coins.csv"
    coins.write_text("heads\n5\n9\n8\n4\n7\n")
    argv = ["binomial", str(coins), "-s", "heads", "-t", "10", "--seed", "0", "--json"]
    assert _loaded_after(_CLI, *argv) == set()


_SMALL_FITS = (
    "import numpy as np, emkit\n"
    "X = np.random.RandomState(0).randn(2000, 4)\n"
    "emkit.GaussianMixture(3, random_state=0).fit(X).predict(X)\n"
    "emkit.KMeans(8, random_state=0).fit(X).predict(X)\n"
    "emkit.BinomialMixture(2, n_trials=10, random_state=0).fit(np.array([[5], [9], [8]]))"
)


def test_small_fits_in_python_load_neither_sklearn_nor_numba() -> None:
    # below emkit._kernels.MIN_COMPILED_WORK the NumPy paths run: numba's start-up (0.3-0.8 s
    # with its cache warm) would cost more than the fits
    assert _loaded_after(_SMALL_FITS) == set()


def test_large_inputs_take_the_compiled_kernels() -> None:
    code = (
        "import numpy as np, emkit\n"
        "X = np.random.RandomState(0).randn(2**16, 16)\n"
        "emkit.KMeans(16, random_state=0, max_iter=2).fit(X)"
    )
    assert "numba" in _loaded_after(f"import warnings\nwarnings.simplefilter('ignore')\n{code}")


@pytest.mark.parametrize("package", [emkit, emkit.models], ids=lambda p: p.__name__)
def test_every_lazy_export_resolves(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    assert set(names) <= set(dir(package))
    for name in names:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # type: ignore[attr-defined]  # noqa: B018


def test_the_listing_matches_each_command() -> None:
    """``emkit --help`` lists COMMANDS without importing them: each line must be the
    command's own short help, and every registered command must be listed."""
    import typer

    from emkit.cli._app import app

    for module, _ in COMMANDS.values():
        importlib.import_module(module)
    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    assert set(group.commands) == set(COMMANDS)
    for name, (_, short_help) in COMMANDS.items():
        command = group.commands[name]
        first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
        assert first_paragraph == short_help, name
