"""The Typer application, shared helpers for subcommands, and the error boundary."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from emkit._version import __version__
from emkit.engine import IterationInfo
from emkit.exceptions import EmkitError
from emkit.io import atomic_write

__all__ = ["UsageError", "app", "emit_json", "err_console", "fit_progress", "main"]

app = typer.Typer(
    name="emkit",
    help="Expectation-Maximization for latent-variable models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
console = Console()


class UsageError(EmkitError, ValueError):
    """Bad command-line input (unknown column, unreadable file ...)."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"emkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Fit latent-variable models by EM. Run `emkit COMMAND --help` for each command."""


@contextmanager
def fit_progress(label: str, total: int, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """A Rich progress bar on stderr fed by engine callbacks; silent when stderr is no terminal."""
    show = enabled and err_console.is_terminal
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("iter {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("log-lik {task.fields[ll]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show,
        transient=True,
    )
    task = progress.add_task(label, total=total, ll="-")

    def callback(info: IterationInfo[Any]) -> None:
        progress.update(task, completed=info.iteration, ll=f"{info.log_likelihood:.6g}")

    with progress:
        yield callback


def emit_json(payload: Any, output: Path | None) -> None:
    """Write ``payload`` as JSON to ``output`` atomically, or to stdout when ``output`` is None."""
    text = json.dumps(payload, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text.encode())


def main() -> None:
    """Entry point of the ``emkit`` script: user errors -> one line on stderr, exit code 2."""
    try:
        app()  # standalone mode: usage errors exit 2, --help and --version exit 0
    except (EmkitError, ValueError, OSError) as exc:  # the CLI's error boundary
        message = " ".join(str(exc).split())  # one line
        err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
        sys.exit(2)
