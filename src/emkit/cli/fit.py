"""``emkit binomial`` and ``emkit bernoulli``: fit a coin-style mixture to a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit.cli._app import (
    CHUNK_ROWS_OPTION,
    EXECUTOR_OPTION,
    HARD_OPTION,
    N_INIT_OPTION,
    PROGRESS_OPTION,
    SCHEDULER_OPTION,
    SEED_OPTION,
    ExecutorName,
    UsageError,
    app,
    console,
    emit_json,
    fit_progress,
    open_column,
    open_columns,
    use_executor,
)

if TYPE_CHECKING:
    from emkit.base import MixtureEstimator

__all__ = ["bernoulli", "binomial", "fit_summary"]

_COMPONENTS = typer.Option(2, "-k", "--components", help="Number of mixture components.")
_OUTPUT = typer.Option(None, "-o", "--output", help="Write the fitted parameters as JSON here.")
_JSON = typer.Option(False, "--json", help="Print the fitted parameters as JSON on stdout.")
_SAVE = typer.Option(None, "--save-model", help="Also save the model (PATH.json + PATH.npz).")
_MAX_ITER = typer.Option(200, "--max-iter", help="Maximum EM iterations.")
_TOL = typer.Option(1e-8, "--tol", help="Tolerance on the change of mean log-likelihood.")


def fit_summary(model: MixtureEstimator[Any], columns: list[str]) -> dict[str, Any]:
    """The fitted parameters and fit diagnostics as a JSON-ready dict."""
    import numpy as np

    return {
        "model": type(model).__name__,
        "columns": columns,
        "n_components": model.n_components,
        "weights": np.asarray(model.weights_).tolist(),
        "theta": np.asarray(model.theta_).tolist(),
        "log_likelihood": model.log_likelihood_,
        "n_iter": model.n_iter_,
        "converged": model.converged_,
        "log_likelihood_history": model.log_likelihood_history_.tolist(),
    }


def _split(columns: str | None) -> list[str] | None:
    return None if columns is None else [c.strip() for c in columns.split(",") if c.strip()]


def _run(
    model: MixtureEstimator[Any],
    X: Any,
    columns: list[str],
    output: Path | None,
    as_json: bool,
    save_model: Path | None,
    progress: bool,
    where: tuple[ExecutorName | None, str | None, int | None],
    **fit_data: Any,
) -> None:
    with (
        use_executor(*where) as executor,
        fit_progress(type(model).__name__, model.max_iter, progress) as callback,
    ):
        model.fit(X, callbacks=[callback], executor=executor, **fit_data)
    summary = fit_summary(model, columns)
    if save_model is not None:
        model.save(save_model)
    if output is not None:
        emit_json(summary, output)
    if as_json:
        emit_json(summary, None)
        return
    from rich.table import Table

    table = Table(title=f"{summary['model']}: log-likelihood {summary['log_likelihood']:.6f}")
    table.add_column("component")
    table.add_column("weight", justify="right")
    for c in columns:
        table.add_column(f"theta[{c}]", justify="right")
    for k, (w, row) in enumerate(zip(summary["weights"], summary["theta"], strict=True)):
        table.add_row(str(k), f"{w:.6f}", *(f"{t:.6f}" for t in row))
    console.print(table)
    converged = "converged" if summary["converged"] else "did NOT converge"
    console.print(f"{summary['n_iter']} iterations, {converged}")


@app.command()
def binomial(
    data: Path = typer.Argument(
        ..., help="CSV file with a header row, Parquet file (or directory), or .npy array."
    ),
    successes: str = typer.Option(
        ..., "--successes", "-s", help="Comma-separated columns of success counts."
    ),
    trials: str = typer.Option(
        ..., "--trials", "-t", help="Trials per observation: a number, or a column name."
    ),
    components: int = _COMPONENTS,
    output: Path | None = _OUTPUT,
    as_json: bool = _JSON,
    save_model: Path | None = _SAVE,
    hard: bool = HARD_OPTION,
    seed: int | None = SEED_OPTION,
    n_init: int = N_INIT_OPTION,
    max_iter: int = _MAX_ITER,
    tol: float = _TOL,
    progress: bool = PROGRESS_OPTION,
    executor: ExecutorName | None = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    chunk_rows: int | None = CHUNK_ROWS_OPTION,
) -> None:
    """Fit a binomial mixture (e.g. coins with unknown identity) to success counts."""
    from emkit.models.binomial import BinomialMixture

    cols = _split(successes) or []
    try:
        n_trials: int | None = int(trials)
        trial_col = None
    except ValueError:
        n_trials, trial_col = None, trials
    cols, X = open_columns(data, cols or None)
    fit_data = {"trials": open_column(data, trial_col)} if trial_col else {}
    if n_trials is not None and n_trials < 1:
        raise UsageError(f"--trials must be a positive integer or a column name, got {trials!r}")
    model = BinomialMixture(
        components,
        n_trials=n_trials,
        hard=hard,
        random_state=seed,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        init="random_from_data",
    )
    where = (executor, scheduler, chunk_rows)
    _run(model, X, cols, output, as_json, save_model, progress, where, **fit_data)


@app.command()
def bernoulli(
    data: Path = typer.Argument(
        ..., help="CSV file with a header row of 0/1 columns, Parquet file (or directory), or .npy."
    ),
    columns: str | None = typer.Option(
        None, "--columns", "-c", help="Comma-separated binary columns (default: all)."
    ),
    components: int = _COMPONENTS,
    output: Path | None = _OUTPUT,
    as_json: bool = _JSON,
    save_model: Path | None = _SAVE,
    hard: bool = HARD_OPTION,
    seed: int | None = SEED_OPTION,
    n_init: int = N_INIT_OPTION,
    max_iter: int = _MAX_ITER,
    tol: float = _TOL,
    progress: bool = PROGRESS_OPTION,
    executor: ExecutorName | None = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    chunk_rows: int | None = CHUNK_ROWS_OPTION,
) -> None:
    """Fit a Bernoulli mixture (latent classes of binary vectors) to 0/1 columns."""
    from emkit.models.bernoulli import BernoulliMixture

    names, X = open_columns(data, _split(columns))
    model = BernoulliMixture(
        components, hard=hard, random_state=seed, n_init=n_init, max_iter=max_iter, tol=tol
    )
    _run(model, X, names, output, as_json, save_model, progress, (executor, scheduler, chunk_rows))
