"""``emkit annotators`` (continuous scores) and ``emkit labels`` (categorical labels)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from emkit._files import atomic_write
from emkit.cli._app import (
    HARD_OPTION,
    N_INIT_OPTION,
    PROGRESS_OPTION,
    SEED_OPTION,
    UsageError,
    app,
    console,
    emit_json,
    fit_progress,
)
from emkit.exceptions import ConvergenceWarning, DataError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["annotators", "labels"]

_TASK = typer.Option("task", "--task", help="Column of task ids.")
_WORKER = typer.Option("worker", "--worker", help="Column of worker ids.")
_TRUTH = typer.Option(
    None,
    "--truth",
    help="CSV of true values: the task column (or else the first column) and a value column.",
)
_TRUTH_COL = typer.Option(
    None, "--truth-column", help="Value column of --truth (default: the other one)."
)
_OUTPUT = typer.Option(None, "-o", "--output", help="Write the task estimates as CSV here.")
_WORKERS = typer.Option(None, "--workers-output", help="Write the worker report as CSV here.")
_PLOT = typer.Option(None, "--plot", help="Write the figures (PNG) into this folder.")
_JSON = typer.Option(False, "--json", help="Print a JSON summary on stdout.")
_MAX_ITER = typer.Option(500, "--max-iter", help="Maximum EM iterations.")
_TOL = typer.Option(1e-8, "--tol", help="Tolerance on the change of log-likelihood per answer.")


def _read(path: Path, **kw: Any) -> Any:
    from emkit.crowd.io import _read_table

    return _read_table(path, None)


def _read_truth(path: Path, task: str, column: str | None) -> Any:
    frame = _read(path)
    if task not in frame.columns:  # else the first column holds the task ids
        task = frame.columns[0]
    others = [c for c in frame.columns if c != task]
    if column is None:
        if len(others) != 1:
            raise UsageError(
                f"--truth file {str(path)!r} has value columns {others}: choose one with "
                "--truth-column"
            )
        column = str(others[0])
    if column not in frame.columns:
        raise UsageError(f"--truth file {str(path)!r} has no column {column!r}")
    return frame.set_index(task)[column]


def _csv_bytes(frame: Any) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _check_outputs(*paths: Path | None) -> None:
    for p in paths:
        if p is not None and not p.parent.exists():
            raise UsageError(f"cannot write {str(p)!r}: folder {str(p.parent)!r} does not exist")


def _show(frame: Any, title: str, limit: int = 20) -> None:
    table = Table(title=title)
    for c in frame.columns:
        table.add_column(str(c), justify="right")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    if len(frame) > limit:
        console.print(f"... {len(frame) - limit} more rows (use -o to write all)")


def _fit_quietly(model: Any, fit: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit()
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


@app.command()
def annotators(
    csv: Path = typer.Argument(..., help="Long-format scores: CSV, TSV or Parquet."),
    task: str = _TASK,
    worker: str = _WORKER,
    score: str = typer.Option("score", "--score", help="Column of numeric scores."),
    model: str = typer.Option(
        "course",
        "--model",
        help="Variant: course, course+bias, worker-noise, worker-noise+bias, gaussian, "
        "gaussian+bias, raykar, raykar+bias, or auto (lowest BIC).",
    ),
    low: float | None = typer.Option(None, "--low", help="Lowest possible score (default: data)."),
    high: float | None = typer.Option(None, "--high", help="Highest possible score."),
    truth: Path | None = _TRUTH,
    truth_column: str | None = _TRUTH_COL,
    output: Path | None = _OUTPUT,
    workers_output: Path | None = _WORKERS,
    plot: Path | None = _PLOT,
    as_json: bool = _JSON,
    hard: bool = HARD_OPTION,
    seed: int | None = SEED_OPTION,
    n_init: int = N_INIT_OPTION,
    max_iter: int = _MAX_ITER,
    tol: float = _TOL,
    progress: bool = PROGRESS_OPTION,
) -> None:
    """Whom to trust among annotators who give numeric scores, and each task's true score."""
    import numpy as np

    from emkit.crowd.continuous import VARIANTS, ContinuousAnnotators, select_variant
    from emkit.crowd.io import read_answers

    if model != "auto" and model not in VARIANTS:
        raise UsageError(f"unknown --model {model!r}; choose from {[*VARIANTS, 'auto']}")
    _check_outputs(output, workers_output)
    answers = read_answers(_read(csv), task=task, worker=worker, value=score, kind="score")
    reference = _read_truth(truth, task, truth_column) if truth is not None else None
    common: dict[str, Any] = dict(
        low=low,
        high=high,
        hard=hard,
        random_state=seed,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        task=task,
        worker=worker,
        score=score,
    )
    bics: dict[str, float] = {}
    if model == "auto":
        fitted: Any = None

        def fit_auto() -> None:
            nonlocal fitted, bics
            fitted, bics = select_variant(answers, **common)

        notes = _fit_quietly(None, fit_auto)
        chosen = min(bics, key=bics.__getitem__)
    else:
        fitted = ContinuousAnnotators(**common, **VARIANTS[model])
        chosen = model
        with fit_progress("annotators", max_iter, progress) as callback:
            notes = _fit_quietly(fitted, lambda: fitted.fit(answers, callbacks=[callback]))
    estimates = fitted.task_estimates()
    report = fitted.worker_report()
    summary: dict[str, Any] = {
        "model": chosen,
        "n_answers": answers.n_answers,
        "n_tasks": answers.n_tasks,
        "n_workers": answers.n_workers,
        "pi": float(fitted.pi_),
        "sigma": np.asarray(fitted.sigma_).tolist(),
        "log_likelihood": fitted.log_likelihood_,
        "n_iter": fitted.n_iter_,
        "converged": bool(fitted.converged_),
        "warnings": notes,
    }
    if bics:
        summary["bic"] = bics
    truth_values = None
    if reference is not None:
        truth_values = reference.reindex(estimates[task]).to_numpy(dtype=float)
        known = np.isfinite(truth_values)
        if not known.any():
            raise DataError(f"--truth file {str(truth)!r} shares no task with {str(csv)!r}")
        err = estimates["estimate"].to_numpy()[known] - truth_values[known]
        means = _task_means(answers)[known] - truth_values[known]
        summary["mae"] = float(np.mean(np.abs(err)))
        summary["mae_mean_of_answers"] = float(np.mean(np.abs(means)))
        summary["pearson_r"] = float(
            np.corrcoef(estimates["estimate"].to_numpy()[known], truth_values[known])[0, 1]
        )
        summary["n_truth"] = int(known.sum())
    _write_outputs(output, estimates, workers_output, report)
    if plot is not None:
        from emkit.crowd.plot import plot_annotators, plot_scores

        _save_figures(
            plot,
            {
                "scores.png": plot_scores(fitted, truth_values),
                "annotators.png": plot_annotators(fitted),
            },
        )
    if as_json:
        emit_json(summary, None)
        return
    _show(report.sort_values("p_good"), f"{chosen}: annotators (P(good), sigma, bias)")
    _show(estimates, "task estimates")
    _print_summary(summary)


def _task_means(answers: Any) -> np.ndarray:
    import numpy as np

    total = np.bincount(answers.task, answers.value, minlength=answers.n_tasks)
    return total / np.bincount(answers.task, minlength=answers.n_tasks)


def _write_outputs(
    output: Path | None, tasks: Any, workers_output: Path | None, report: Any
) -> None:
    payloads = [(p, _csv_bytes(f)) for p, f in ((output, tasks), (workers_output, report)) if p]
    for path, data in payloads:
        atomic_write(path, data)


def _save_figures(folder: Path, figures: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        atomic_write(folder / name, buffer.getvalue())


def _print_summary(summary: dict[str, Any]) -> None:
    converged = "converged" if summary["converged"] else "did NOT converge"
    console.print(
        f"{summary['n_answers']} answers, {summary['n_tasks']} tasks, {summary['n_workers']} "
        f"workers; log-likelihood {summary['log_likelihood']:.6g}; {summary['n_iter']} "
        f"iterations, {converged}"
    )
    for key in ("mae", "mae_mean_of_answers", "pearson_r", "accuracy", "accuracy_majority"):
        if key in summary:
            console.print(f"{key}: {summary[key]:.4f} (on {summary['n_truth']} tasks with truth)")


@app.command()
def labels(
    csv: Path = typer.Argument(..., help="Long-format labels: CSV, TSV or Parquet."),
    task: str = _TASK,
    worker: str = _WORKER,
    label: str = typer.Option("label", "--label", help="Column of labels."),
    method: str = typer.Option(
        "dawid-skene",
        "--method",
        help="majority, one-coin, dawid-skene, glad, mace, or auto (held-out agreement).",
    ),
    truth: Path | None = _TRUTH,
    truth_column: str | None = _TRUTH_COL,
    output: Path | None = _OUTPUT,
    workers_output: Path | None = _WORKERS,
    plot: Path | None = _PLOT,
    as_json: bool = _JSON,
    hard: bool = HARD_OPTION,
    seed: int | None = SEED_OPTION,
    n_init: int = N_INIT_OPTION,
    max_iter: int | None = typer.Option(
        None, "--max-iter", help="Maximum EM iterations (default: the method's)."
    ),
    tol: float | None = typer.Option(
        None, "--tol", help="Tolerance per answer (default: the method's)."
    ),
    progress: bool = PROGRESS_OPTION,
) -> None:
    """True labels from crowd answers: majority vote, one-coin or full Dawid-Skene, GLAD, MACE."""
    import numpy as np

    from emkit.crowd.io import read_answers
    from emkit.crowd.majority import MajorityVote
    from emkit.crowd.select import METHODS, method_class, predicted_codes, select_method

    if method not in (*METHODS, "auto"):
        raise UsageError(f"unknown --method {method!r}; choose from {[*METHODS, 'auto']}")
    _check_outputs(output, workers_output)
    frame = _read(csv)
    answers = read_answers(frame, task=task, worker=worker, value=label, kind="label")
    reference = _read_truth(truth, task, truth_column) if truth is not None else None
    names = dict(task=task, worker=worker, label=label)
    notes: list[str] = []
    mv = MajorityVote(**names).fit(answers)
    chosen = method
    selection: dict[str, float] | None = None
    if method == "majority":
        fitted: Any = mv
    elif method == "auto":
        outcome: list[Any] = []
        notes = _fit_quietly(
            None,
            lambda: outcome.append(
                select_method(answers, random_state=0 if seed is None else seed)
            ),
        )
        fitted, chosen, selection = outcome[0].model, outcome[0].method, outcome[0].scores
    else:
        options: dict[str, Any] = dict(hard=hard, n_init=n_init)
        for key, value in (("random_state", seed), ("max_iter", max_iter), ("tol", tol)):
            if value is not None:
                options[key] = value
        fitted = method_class(method)(**names, **options)
        with fit_progress(method, fitted.max_iter, progress) as callback:
            notes = _fit_quietly(fitted, lambda: fitted.fit(answers, callbacks=[callback]))
    classes = np.asarray(fitted.classes_)
    proba = np.asarray(fitted.proba_)
    pd = __import__("pandas")
    estimates = pd.DataFrame({task: fitted.tasks_, "label": classes[predicted_codes(fitted)]})
    for j, c in enumerate(classes):
        estimates[f"p_{c}"] = proba[:, j]
    report = pd.DataFrame({worker: fitted.workers_})
    if chosen == "dawid-skene":
        conf = np.asarray(fitted.confusion_)
        report["accuracy"] = np.einsum("k,akk->a", fitted.prior_, conf)
    elif chosen == "one-coin":
        report["skill"] = fitted.skill_
    elif chosen == "glad":
        report["ability"] = fitted.alpha_
    elif chosen == "mace":
        report["competence"] = fitted.competence_.to_numpy()
    else:
        report["agreement"] = fitted.skill_
    report["n_answers"] = np.bincount(answers.worker, minlength=answers.n_workers)
    summary: dict[str, Any] = {
        "method": chosen,
        "n_answers": answers.n_answers,
        "n_tasks": answers.n_tasks,
        "n_workers": answers.n_workers,
        "classes": classes.tolist(),
        "warnings": notes,
    }
    if selection is not None:
        summary["held_out_agreement"] = selection
    if chosen != "majority":
        summary.update(
            log_likelihood=fitted.log_likelihood_,
            n_iter=fitted.n_iter_,
            converged=bool(fitted.converged_),
            prior=np.asarray(fitted.prior_).tolist(),
        )
    if reference is not None:
        gold = reference.reindex(estimates[task])
        known = gold.notna().to_numpy()
        if not known.any():
            raise DataError(f"--truth file {str(truth)!r} shares no task with {str(csv)!r}")
        said = estimates["label"].astype(str).to_numpy()[known]
        truth_str = gold.astype(str).to_numpy()[known]
        summary["accuracy"] = float(np.mean(said == truth_str))
        mv_said = np.asarray(mv.classes_)[mv.label_codes_].astype(str)[known]
        summary["accuracy_majority"] = float(np.mean(mv_said == truth_str))
        summary["n_truth"] = int(known.sum())
    _write_outputs(output, estimates, workers_output, report)
    if plot is not None and chosen == "dawid-skene":
        from emkit.crowd.plot import plot_worker_skill

        _save_figures(plot, {"workers.png": plot_worker_skill(fitted)})
    if as_json:
        emit_json(summary, None)
        return
    _show(estimates, "task labels")
    _show(report, "workers")
    console.print(
        f"{summary['n_answers']} answers, {summary['n_tasks']} tasks, "
        f"{summary['n_workers']} workers, classes {summary['classes']}"
    )
    if selection is not None:
        scores = ", ".join(f"{k} {v:.4f}" for k, v in selection.items())
        console.print(f"auto: chose {chosen} by held-out agreement ({scores})")
    for key in ("accuracy", "accuracy_majority"):
        if key in summary:
            console.print(f"{key}: {summary[key]:.4f} (on {summary['n_truth']} tasks with truth)")
