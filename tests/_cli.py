"""Run the ``emkit`` command line in-process through its real entry point (exit codes included)."""

from __future__ import annotations

import sys

import pytest

from emkit.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``emkit ARGS``: the exit code and what this command alone printed on stdout and stderr."""
    capsys.readouterr()  # drop what earlier steps of the test printed
    old = sys.argv
    sys.argv = ["emkit", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err
