"""``emkit hmm``: fit a hidden Markov model to the rows of a CSV or Parquet file.

The rows are time steps in order; ``--lengths-column`` names a column that identifies the
sequence of each row (a new sequence starts where its value changes). Writes a JSON model
(``-o``) and a CSV of the decoded state and the posterior state probabilities of every row
(``--states``).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit._files import atomic_writer
from emkit.cli._app import (
    CHUNK_ROWS_OPTION,
    EXECUTOR_OPTION,
    HARD_OPTION,
    N_INIT_OPTION,
    PROGRESS_OPTION,
    SEED_OPTION,
    ExecutorName,
    UsageError,
    app,
    console,
    emit_json,
    err_console,
    fit_progress,
    open_column,
    open_columns,
    use_executor,
)

if TYPE_CHECKING:
    import numpy as np

    from emkit.hmm import BaseHMM

__all__ = ["hmm"]

_EMISSIONS = ("gaussian", "gmm", "categorical", "poisson")
_COVARIANCES = ("full", "tied", "diag", "spherical")


def sequence_lengths(ids: np.ndarray) -> np.ndarray:
    """Lengths of the runs of equal values in ``ids`` (each run one sequence, in file order).

    Raises
    ------
    UsageError
        When a value comes back after another one (its rows are not together).
    """
    import numpy as np

    ids = np.asarray(ids)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate([[0], change])
    firsts = ids[starts]
    if np.unique(firsts).size != firsts.size:
        values, counts = np.unique(firsts, return_counts=True)
        raise UsageError(
            f"sequence {values[counts > 1][0]!r} of the lengths column appears in separate runs "
            "of rows: sort the file by sequence, keeping each sequence's steps in order"
        )
    return np.diff(np.append(starts, ids.size)).astype(np.int64)


def _sequence_ids(path: Path, name: str) -> tuple[list[str], np.ndarray]:
    """The file's column names and the values of column ``name`` (text or numbers)."""
    import csv

    import numpy as np

    if path.suffix.lower() != ".csv":
        from emkit.sources import ParquetSource

        if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
            header = list(ParquetSource(path, None).columns)
            return header, np.asarray(open_column(path, name))
        raise UsageError("--lengths-column needs a CSV or Parquet file with column names")
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = [c.strip() for c in next(reader, [])]
        if name not in header:
            raise UsageError(f"--lengths-column {name!r} is not a column of {str(path)!r}")
        j = header.index(name)
        ids = [row[j].strip() for row in reader if row]
    return header, np.asarray(ids)


def _model(
    emission: str,
    k: int,
    covariance: str,
    options: dict[str, Any],
    n_features: int | None,
    n_mix: int,
) -> BaseHMM[Any]:
    from emkit.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM

    if emission == "gaussian":
        return GaussianHMM(k, covariance, **options)
    if emission == "gmm":
        return GMMHMM(k, n_mix, covariance, **options)
    if emission == "categorical":
        return CategoricalHMM(k, n_features=n_features, **options)
    return PoissonHMM(k, **options)


def _summary(model: Any, emission: str, columns: list[str], n_seq: int) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "model": type(model).__name__,
        "columns": columns,
        "n_components": model.n_components,
        "n_sequences": n_seq,
        "startprob": model.startprob_.tolist(),
        "transmat": model.transmat_.tolist(),
    }
    if emission in ("gaussian", "gmm"):
        summary |= {
            "covariance_type": model.covariance_type,
            "means": model.means_.tolist(),
            "covars": model.covars_.tolist(),
        }
        if emission == "gmm":
            summary["weights"] = model.weights_.tolist()
    elif emission == "categorical":
        summary["emissionprob"] = model.emissionprob_.tolist()
    else:
        summary["lambdas"] = model.lambdas_.tolist()
    return summary | {
        "log_likelihood": model.log_likelihood_,
        "n_iter": model.n_iter_,
        "converged": bool(model.converged_),
        "log_likelihood_history": model.log_likelihood_history_.tolist(),
    }


def _write_states(path: Path, states: np.ndarray, post: np.ndarray) -> None:
    """CSV of each row's decoded state and posteriors; the file appears once complete."""
    import numpy as np

    k = post.shape[1]
    buffer = io.StringIO()
    buffer.write("state," + ",".join(f"p{j}" for j in range(k)) + "\n")
    np.savetxt(buffer, np.column_stack([states, post]), fmt=["%d"] + ["%.10g"] * k, delimiter=",")
    with atomic_writer(path) as fh:
        fh.write(buffer.getvalue().encode())


@app.command()
def hmm(
    data: Path = typer.Argument(..., help="CSV (header row) or Parquet file, one row per step."),
    components: int = typer.Option(2, "-k", "--components", help="Number of hidden states."),
    emission: str = typer.Option(
        "gaussian",
        "--emission",
        help="gaussian, gmm (a Gaussian mixture per state), categorical (symbols 0..M-1) or "
        "poisson.",
    ),
    n_mix: int = typer.Option(
        2, "--n-mix", min=1, help="gmm: Gaussians per state (hmmlearn's n_mix)."
    ),
    covariance: str = typer.Option(
        "diag",
        "--covariance",
        help="Gaussian covariance: full, tied (gmm: per state), diag or spherical.",
    ),
    columns: str | None = typer.Option(
        None,
        "--columns",
        "-c",
        help="Comma-separated observation columns (default: all but the lengths column).",
    ),
    lengths_column: str | None = typer.Option(
        None,
        "--lengths-column",
        help="Column identifying each row's sequence (default: all rows are one sequence).",
    ),
    n_symbols: int | None = typer.Option(
        None, "--n-symbols", min=1, help="Categorical: number of symbols (default: max + 1)."
    ),
    algorithm: str = typer.Option(
        "viterbi", "--algorithm", help="Decoding: viterbi (best path) or map (best per step)."
    ),
    hard: bool = HARD_OPTION,
    n_init: int = N_INIT_OPTION,
    seed: int | None = SEED_OPTION,
    max_iter: int = typer.Option(200, "--max-iter", help="Maximum EM iterations."),
    tol: float = typer.Option(1e-6, "--tol", help="Tolerance on the log-likelihood per step."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the model as JSON."),
    states: Path | None = typer.Option(
        None, "--states", help="Write a CSV of decoded states and posterior probabilities."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the model as JSON on stdout."),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="Also save the model (PATH.json + PATH.npz)."
    ),
    progress: bool = PROGRESS_OPTION,
    executor: ExecutorName | None = EXECUTOR_OPTION,
    chunk_rows: int | None = CHUNK_ROWS_OPTION,
) -> None:
    """Fit a hidden Markov model (Baum-Welch) to the rows of a CSV or Parquet file."""
    import numpy as np
    from rich.table import Table

    if emission not in _EMISSIONS:
        raise UsageError(f"--emission {emission!r} is not one of {', '.join(_EMISSIONS)}")
    if covariance not in _COVARIANCES:
        raise UsageError(f"--covariance {covariance!r} is not one of {', '.join(_COVARIANCES)}")
    if algorithm not in ("viterbi", "map"):
        raise UsageError(f"--algorithm {algorithm!r} is not one of viterbi, map")
    wanted = None if columns is None else [c.strip() for c in columns.split(",") if c.strip()]
    lengths = None
    if lengths_column is not None:
        if wanted is not None and lengths_column in wanted:
            raise UsageError(f"--lengths-column {lengths_column!r} is also an observation column")
        header, ids = _sequence_ids(data, lengths_column)
        lengths = sequence_lengths(ids)
        if wanted is None:
            wanted = [c for c in header if c != lengths_column]
    names, X = open_columns(data, wanted)
    X = np.asarray(X)
    if X.shape[1] == 0:
        raise UsageError("no observation column left: give --columns")
    if emission == "categorical" and X.shape[1] != 1:
        raise UsageError("--emission categorical takes one column of symbols: give --columns")
    options = {
        "algorithm": algorithm,
        "hard": hard,
        "n_init": n_init,
        "random_state": seed,
        "max_iter": max_iter,
        "tol": tol,
    }
    model = _model(emission, components, covariance, options, n_symbols, n_mix)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with (
            use_executor(executor, None, chunk_rows) as where,
            fit_progress(type(model).__name__, max_iter, progress) as callback,
        ):
            model.fit(X, lengths=lengths, callbacks=[callback], executor=where)
        _, path = model.decode(X, lengths)
        post = model.predict_proba(X, lengths)
    for w in caught:  # one line each: a state never visited, no convergence ...
        message = " ".join(str(w.message).split())
        err_console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)
    n_seq = 1 if lengths is None else len(lengths)
    summary = _summary(model, emission, names, n_seq)
    if save_model is not None:
        model.save(save_model)
    if states is not None:
        _write_states(states, path, post)
    if output is not None:
        emit_json(summary, output)
    if as_json:
        emit_json(summary, None)
        return
    table = Table(title=f"{type(model).__name__}: log-likelihood {model.log_likelihood_:.6f}")
    table.add_column("state")
    table.add_column("start", justify="right")
    table.add_column("stay", justify="right")
    table.add_column("steps (decoded)", justify="right")
    counts = np.bincount(path, minlength=components)
    for k in range(components):
        table.add_row(
            str(k),
            f"{model.startprob_[k]:.4f}",
            f"{model.transmat_[k, k]:.4f}",
            str(counts[k]),
        )
    console.print(table)
    state = "converged" if model.converged_ else "did NOT converge"
    console.print(f"{model.n_iter_} iterations, {state}; {n_seq} sequence(s), {X.shape[0]} steps")
