"""The Typer application, shared helpers for subcommands, and the error boundary."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from emkit._files import atomic_write
from emkit._version import __version__
from emkit.cli._commands import COMMANDS
from emkit.exceptions import EmkitError

if TYPE_CHECKING:
    from emkit.engine import IterationInfo

__all__ = [
    "CHUNK_ROWS_OPTION",
    "EXECUTOR_OPTION",
    "HARD_OPTION",
    "N_INIT_OPTION",
    "PROGRESS_OPTION",
    "SCHEDULER_OPTION",
    "SEED_OPTION",
    "ExecutorName",
    "UsageError",
    "app",
    "emit_json",
    "err_console",
    "fit_progress",
    "main",
    "open_column",
    "open_columns",
    "use_executor",
]


class LazyGroup(TyperGroup):
    """The root command: it lists every subcommand of ``COMMANDS`` but imports a subcommand's
    module only when that command is resolved to run (or show its own help)."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS) + [c for c in super().list_commands(ctx) if c not in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module, short_help = COMMANDS[cmd_name]
        if self._listing:  # `emkit --help` needs the one-line help only
            return TyperCommand(cmd_name, help=short_help, short_help=short_help)
        importlib.import_module(module)  # registers its commands on `app`
        command = typer.main.get_command(app).commands[cmd_name]  # type: ignore[attr-defined]
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=LazyGroup,
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
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

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


# -- where a fit runs: options every fitting command shares ---------------------------------
class ExecutorName(str, Enum):
    """Values of ``--executor``."""

    memory = "memory"
    stream = "stream"
    dask = "dask"


EXECUTOR_OPTION = typer.Option(
    None,
    "--executor",
    help="Where the passes over the data run: in memory, streamed from the file chunk by chunk "
    "(bounded memory; .npy and .parquet inputs are never loaded whole), or on a Dask cluster. "
    "Default: memory, or dask when --scheduler is given.",
)
SCHEDULER_OPTION = typer.Option(
    None,
    "--scheduler",
    metavar="ADDRESS",
    help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) for --executor dask. "
    "Default: a local cluster of worker processes, started for this run.",
)
# options every fitting command shares
HARD_OPTION = typer.Option(False, "--hard", help="Hard (classification) EM.")
SEED_OPTION = typer.Option(None, "--seed", help="Random seed for the starting points.")
N_INIT_OPTION = typer.Option(1, "--n-init", help="Random restarts; the best is kept.")
PROGRESS_OPTION = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr.")

CHUNK_ROWS_OPTION = typer.Option(
    None,
    "--chunk-rows",
    min=1,
    help="Rows per chunk (stream and dask: 65536; memory: all rows at once).",
)


@contextmanager
def use_executor(
    executor: ExecutorName | str | None, scheduler: str | None, chunk_rows: int | None
) -> Iterator[Any]:
    """The :class:`~emkit.executors.Executor` chosen by the shared options, closed afterwards.

    ``--executor dask`` without ``--scheduler`` starts a local cluster (one worker process per
    core, loopback only) for the duration of the ``with`` block.
    """
    from emkit.executors import DaskExecutor, InMemoryExecutor, StreamExecutor

    if executor is None:
        executor = ExecutorName.memory if scheduler is None else ExecutorName.dask
    name = ExecutorName(executor)
    if scheduler is not None and name is not ExecutorName.dask:
        raise UsageError("--scheduler is the address of a Dask scheduler: use --executor dask")
    if name is ExecutorName.memory:
        yield InMemoryExecutor(chunk_rows)
    elif name is ExecutorName.stream:
        yield StreamExecutor() if chunk_rows is None else StreamExecutor(chunk_rows)
    elif scheduler is not None:
        with DaskExecutor(address=scheduler, chunk_rows=chunk_rows) as dask_executor:
            yield dask_executor
    else:
        import logging

        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise UsageError(
                "--executor dask needs dask.distributed: pip install 'emkit[dask]'"
            ) from exc
        with (
            LocalCluster(
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield DaskExecutor(client, chunk_rows=chunk_rows)


def open_columns(
    path: Path, columns: list[str] | None, *, missing: bool = False
) -> tuple[list[str], Any]:
    """Numeric columns of a data file, by name: ``(names, data)``.

    A ``.csv`` file is read into memory (an array); ``.parquet`` files (or a directory of them)
    and ``.npy`` arrays are opened as row sources, so ``--executor stream`` or ``dask`` never
    loads them whole. A ``.npy`` file has no column names: its columns are ``0, 1, ...``.
    ``missing=True`` reads empty or ``NA`` CSV cells as NaN (Parquet nulls are NaN anyway).
    """
    from emkit.sources import NpySource, ParquetSource
    from emkit.tabular import read_numeric_csv

    suffix = path.suffix.lower()
    if path.is_dir() or suffix in (".parquet", ".pq"):
        source = ParquetSource(path, columns)
        return list(source.columns), source
    if suffix == ".npy":
        array = NpySource(path)
        width = array.shape[1] if array.ndim == 2 else 1
        names = [str(j) for j in range(width)]
        if array.ndim != 2:
            raise UsageError(f"{str(path)!r} must hold a 2-D array, got shape {array.shape}")
        if columns is not None and columns != names:
            raise UsageError(
                f"a .npy file has no column names: use all its {width} columns (no --columns)"
            )
        return names, array
    return read_numeric_csv(path, columns, missing=missing)


def open_column(path: Path, name: str) -> Any:
    """One numeric column of a data file (1-D), as :func:`open_columns` opens it."""
    if path.suffix.lower() == ".npy":
        raise UsageError(f"a .npy file has no column named {name!r}")
    _, data = open_columns(path, [name])
    if hasattr(data, "columns"):  # a Parquet source: read the column as a 1-D source
        from emkit.sources import ParquetSource

        return ParquetSource(path, name)
    return data[:, 0]


def main() -> None:
    """Entry point of the ``emkit`` script: user errors -> one line on stderr, exit code 2."""
    try:
        app()  # standalone mode: usage errors exit 2, --help and --version exit 0
    except (EmkitError, ValueError, OSError) as exc:  # the CLI's error boundary
        message = " ".join(str(exc).split())  # one line
        err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(2)
