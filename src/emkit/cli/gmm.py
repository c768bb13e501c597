"""``emkit gmm`` and ``emkit kmeans``: cluster the numeric columns of a CSV or Parquet file.

Writes a JSON model (``-o``) and a CSV of labels and component probabilities (``--labels``);
``emkit gmm --select 1-10`` fits a grid of component counts x covariance types and keeps the best
by BIC (the table is printed, and included in the JSON).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit._files import atomic_write, atomic_writer
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
    open_columns,
    use_executor,
)

if TYPE_CHECKING:
    import numpy as np
    from rich.table import Table

    from emkit.models import GaussianMixture
    from emkit.models.selection import SelectionRow
    from emkit.sources import RowSource

__all__ = ["gmm", "kmeans"]

_COVARIANCES = ("full", "tied", "diag", "spherical")


def _columns(text: str | None) -> list[str] | None:
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


_PLOT_ROWS = 50_000  # rows drawn in --plot (a sample of larger inputs)
_WRITE_ROWS = 65_536  # rows predicted and written at a time


def _sample(X: np.ndarray | RowSource, size: int) -> np.ndarray:
    """All rows of a small input; evenly spaced rows of a large one (for plots)."""
    import numpy as np

    from emkit.sources import RowSource

    n = X.shape[0]
    index = np.arange(n) if n <= size else np.linspace(0, n - 1, size).astype(np.intp)
    return X.take(index) if isinstance(X, RowSource) else np.asarray(X)[index]


def _write_assignments(path: Path, X: np.ndarray | RowSource, predict: Any, k: int) -> None:
    """CSV of the label and the K probabilities of every row, computed block by block so that a
    streamed input is never loaded whole; the file appears only once it is complete."""
    import numpy as np

    header = "label," + ",".join(f"p{j}" for j in range(k)) + "\n"
    with atomic_writer(path) as fh:
        fh.write(header.encode())
        for start in range(0, X.shape[0], _WRITE_ROWS):
            block = X[start : start + _WRITE_ROWS]
            proba, labels = predict(np.asarray(block))
            table = np.column_stack([labels, proba])
            buffer = io.StringIO()
            np.savetxt(buffer, table, fmt=["%d"] + ["%.10g"] * k, delimiter=",")
            fh.write(buffer.getvalue().encode())


def _finish(
    summary: dict[str, Any],
    output: Path | None,
    as_json: bool,
    labels_path: Path | None,
    X: np.ndarray | RowSource,
    predict: Any,
    k: int,
) -> None:
    # write everything only after the fit succeeded: no half-written outputs on error
    if labels_path is not None:
        _write_assignments(labels_path, X, predict, k)
    if output is not None:
        emit_json(summary, output)
    if as_json:
        emit_json(summary, None)


def _gmm_summary(model: GaussianMixture, columns: list[str]) -> dict[str, Any]:
    return {
        "model": "GaussianMixture",
        "columns": columns,
        "n_components": model.n_components,
        "covariance_type": model.covariance_type,
        "weights": model.weights_.tolist(),
        "means": model.means_.tolist(),
        "covariances": model.covariances_.tolist(),
        "log_likelihood": model.log_likelihood_,
        "n_iter": model.n_iter_,
        "converged": bool(model.converged_),
        "log_likelihood_history": model.log_likelihood_history_.tolist(),
    }


def _selection_table(rows: list[SelectionRow], best: tuple[int, str]) -> Table:
    from rich.table import Table

    table = Table(title="BIC (lower is better)")
    for name in ("K", "covariance", "log-lik", "params", "BIC", "ICL"):
        table.add_column(name, justify="right")
    for r in rows:
        mark = " *" if (r.n_components, r.covariance_type) == best else ""
        table.add_row(
            str(r.n_components),
            r.covariance_type,
            f"{r.log_likelihood:.4f}",
            str(r.n_parameters),
            f"{r.bic:.4f}{mark}",
            f"{r.icl:.4f}",
        )
    return table


def _write_plot(
    path: Path, model: GaussianMixture, X: np.ndarray, names: list[str], selection: Any
) -> None:
    try:
        from emkit.models.gaussian_plot import (
            _pyplot,
            plot_bic,
            plot_log_likelihood,
            plot_responsibilities,
        )

        plt = _pyplot()
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    panels = 3 if selection is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5))
    ax = plot_responsibilities(model, X, ax=axes[0])
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    plot_log_likelihood(model, ax=axes[1])
    if selection is not None:
        plot_bic(selection, ax=axes[2])
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write(path, buffer.getvalue())


@app.command()
def gmm(
    data: Path = typer.Argument(..., help="CSV (header row) or Parquet file."),
    columns: str | None = typer.Option(
        None, "--columns", "-c", help="Comma-separated numeric columns (default: all)."
    ),
    components: int = typer.Option(2, "-k", "--components", help="Number of components."),
    covariance: str | None = typer.Option(
        None,
        "--covariance",
        help="full, tied, diag or spherical (default full); with --select a comma list "
        "(default: all four).",
    ),
    select: str | None = typer.Option(
        None, "--select", help="Choose K by BIC over a range, e.g. '1-10' or '2,4,8'."
    ),
    init: str = typer.Option(
        "kmeans", "--init", help="kmeans, k-means++, random or random_from_data."
    ),
    reg_covar: float = typer.Option(1e-6, "--reg-covar", help="Added to covariance diagonals."),
    missing: str = typer.Option(
        "error",
        "--missing",
        help="error: empty / NA cells are an error; em: values missing at random, fitted by "
        "exact EM on the observed values.",
    ),
    hard: bool = HARD_OPTION,
    n_init: int = N_INIT_OPTION,
    seed: int | None = SEED_OPTION,
    max_iter: int = typer.Option(200, "--max-iter", help="Maximum EM iterations."),
    tol: float = typer.Option(1e-6, "--tol", help="Tolerance on the mean log-likelihood."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the model as JSON."),
    labels: Path | None = typer.Option(
        None, "--labels", help="Write a CSV of labels and probabilities."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the model as JSON on stdout."),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="Also save the model (PATH.json + PATH.npz)."
    ),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Write a PNG: the first two columns coloured by responsibilities with component "
        "ellipses, the log-likelihood per iteration, and the BIC curves with --select "
        "(needs matplotlib).",
    ),
    progress: bool = PROGRESS_OPTION,
    executor: ExecutorName | None = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    chunk_rows: int | None = CHUNK_ROWS_OPTION,
    online: bool = typer.Option(
        False,
        "--online",
        help="Stepwise (online) EM: one M-step per batch of --batch-rows rows, streamed over "
        "the file --epochs times; for data too large for batch EM's passes (docs/online.md).",
    ),
    batch_rows: int = typer.Option(65536, "--batch-rows", min=1, help="Rows per online batch."),
    epochs: int = typer.Option(1, "--epochs", min=1, help="Passes over the file with --online."),
    kappa: float = typer.Option(
        0.6, "--kappa", help="Online step size rho_t = (t + t0)^-kappa, kappa in (0.5, 1]."
    ),
    t0: float = typer.Option(2.0, "--t0", help="Online step-size delay t0 >= 0."),
) -> None:
    """Fit a Gaussian mixture to the numeric columns of a CSV or Parquet file."""
    import numpy as np
    from rich.table import Table

    from emkit.models.gaussian import GaussianMixture
    from emkit.models.selection import parse_range, select_gaussian_mixture

    types = _columns(covariance) or (list(_COVARIANCES) if select else ["full"])
    bad = [t for t in types if t not in _COVARIANCES]
    if bad:
        raise UsageError(f"--covariance {bad[0]!r} is not one of {', '.join(_COVARIANCES)}")
    if not select and len(types) > 1:
        raise UsageError("give one --covariance type, or several together with --select")
    if missing not in ("error", "em"):
        raise UsageError(f"--missing {missing!r} is not one of error, em")
    names, X = open_columns(data, _columns(columns), missing=missing == "em")
    if plot is not None and X.shape[1] < 2:
        raise UsageError("--plot needs at least two columns (it draws the first two)")
    options: dict[str, Any] = {
        "init": init,
        "reg_covar": reg_covar,
        "missing": missing,
        "hard": hard,
        "max_iter": max_iter,
        "tol": tol,
    }
    selection: dict[str, Any] | None = None
    if online:
        if select:
            raise UsageError("--online fits one model: drop --select")
        if executor is not None or scheduler is not None or chunk_rows is not None:
            raise UsageError(
                "--online streams the rows in --batch-rows batches itself: "
                "drop --executor/--scheduler/--chunk-rows"
            )
        from emkit.online import StepSize

        step = StepSize(kappa, t0)
        model = GaussianMixture(
            components, covariance_type=types[0], n_init=n_init, random_state=seed, **options
        )
        n_batches = -(-int(X.shape[0]) // batch_rows) * epochs
        with fit_progress("GaussianMixture (online)", n_batches, progress) as callback:
            model.fit_online(
                X, batch_rows=batch_rows, n_epochs=epochs, step_size=step, callbacks=[callback]
            )
    elif select:
        if executor not in (None, ExecutorName.memory) or scheduler is not None:
            raise UsageError("--select fits its grid in memory: drop --executor/--scheduler")
        X = np.asarray(X)
        ks = parse_range(select)
        total = len(ks) * len(types)
        with fit_progress("BIC grid", total, progress) as callback:
            done = [0]

            def tick(row: SelectionRow) -> None:
                done[0] += 1
                from emkit.engine import IterationInfo

                callback(IterationInfo(0, done[0], row.bic, None))

            result = select_gaussian_mixture(
                X, ks, types, n_init=n_init, random_state=seed, callback=tick, **options
            )
        model = result.best_bic
        selection = {
            "criterion": "bic",
            "table": result.table(),
            "best_bic": [model.n_components, model.covariance_type],
            "best_icl": [result.best_icl.n_components, result.best_icl.covariance_type],
        }
    else:
        model = GaussianMixture(
            components, covariance_type=types[0], n_init=n_init, random_state=seed, **options
        )
        with (
            use_executor(executor, scheduler, chunk_rows) as where,
            fit_progress("GaussianMixture", max_iter, progress) as callback,
        ):
            model.fit(X, callbacks=[callback], executor=where)
    summary = _gmm_summary(model, names)
    if selection is not None:
        summary["selection"] = selection
    if online:
        # log_likelihood is then the running estimate (mean over the batches, times the rows)
        summary["online"] = {
            "batch_rows": batch_rows,
            "epochs": epochs,
            "kappa": kappa,
            "t0": t0,
            "n_batches": model.n_iter_,
        }
    if save_model is not None:
        model.save(save_model)
    if plot is not None:
        _write_plot(plot, model, _sample(X, _PLOT_ROWS), names, result if select else None)

    def predict(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        proba = model.predict_proba(block)
        return proba, np.argmax(proba, axis=1)

    _finish(summary, output, as_json, labels, X, predict, model.n_components)
    if as_json:
        return
    if selection is not None:
        console.print(_selection_table(result.rows, (model.n_components, model.covariance_type)))
    table = Table(
        title=f"GaussianMixture ({model.covariance_type}): log-likelihood "
        f"{model.log_likelihood_:.6f}"
    )
    table.add_column("component")
    table.add_column("weight", justify="right")
    for c in names:
        table.add_column(f"mean[{c}]", justify="right")
    for k in range(model.n_components):
        table.add_row(str(k), f"{model.weights_[k]:.6f}", *(f"{v:.6g}" for v in model.means_[k]))
    console.print(table)
    if online:
        console.print(
            f"online EM: {model.n_iter_} batches of {batch_rows} rows, {epochs} epoch(s); "
            "log-likelihood is the running estimate"
        )
        return
    state = "converged" if model.converged_ else "did NOT converge"
    console.print(f"{model.n_iter_} iterations, {state}")


@app.command()
def kmeans(
    data: Path = typer.Argument(..., help="CSV (header row) or Parquet file."),
    columns: str | None = typer.Option(
        None, "--columns", "-c", help="Comma-separated numeric columns (default: all)."
    ),
    clusters: int = typer.Option(8, "-k", "--clusters", help="Number of clusters."),
    init: str = typer.Option("k-means++", "--init", help="k-means++ or random."),
    n_init: int = typer.Option(1, "--n-init", help="Restarts; the lowest inertia is kept."),
    seed: int | None = SEED_OPTION,
    max_iter: int = typer.Option(300, "--max-iter", help="Maximum Lloyd iterations."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the model as JSON."),
    labels: Path | None = typer.Option(None, "--labels", help="Write a CSV of labels."),
    as_json: bool = typer.Option(False, "--json", help="Print the model as JSON on stdout."),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="Also save the model (PATH.json + PATH.npz)."
    ),
    progress: bool = PROGRESS_OPTION,
    executor: ExecutorName | None = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    chunk_rows: int | None = CHUNK_ROWS_OPTION,
) -> None:
    """k-means (Lloyd's algorithm, hard EM) on the numeric columns of a CSV or Parquet file."""
    import numpy as np
    from rich.table import Table

    from emkit.models.kmeans import KMeans

    names, X = open_columns(data, _columns(columns))
    model = KMeans(clusters, init=init, n_init=n_init, random_state=seed, max_iter=max_iter)
    with (
        use_executor(executor, scheduler, chunk_rows) as where,
        fit_progress("KMeans", max_iter, progress) as callback,
    ):
        model.fit(X, callbacks=[callback], executor=where)
    summary = {
        "model": "KMeans",
        "columns": names,
        "n_clusters": clusters,
        "cluster_centers": model.cluster_centers_.tolist(),
        "inertia": model.inertia_,
        "n_iter": model.n_iter_,
        "converged": bool(model.converged_),
    }
    if save_model is not None:
        model.save(save_model)
    eye = np.eye(clusters)

    def predict(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        label = model.predict(block)
        return eye[label], label

    _finish(summary, output, as_json, labels, X, predict, clusters)
    if as_json:
        return
    table = Table(title=f"KMeans: inertia {model.inertia_:.6g}")
    table.add_column("cluster")
    table.add_column("size", justify="right")
    for c in names:
        table.add_column(c, justify="right")
    sizes = np.bincount(model.labels_, minlength=clusters)  # labels_ of every row (see KMeans)
    for k in range(clusters):
        table.add_row(str(k), str(sizes[k]), *(f"{v:.6g}" for v in model.cluster_centers_[k]))
    console.print(table)
    state = "converged" if model.converged_ else "did NOT converge"
    console.print(f"{model.n_iter_} iterations, {state}")
