"""Figures for crowd models: true vs estimated scores, and annotator reliability.

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global state,
any backend); save it with ``fig.savefig(path)``. matplotlib is an optional dependency:
``pip install 'emkit[plot]'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit._sklearn_api import check_is_fitted

__all__ = ["plot_annotators", "plot_scores", "plot_worker_skill"]


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("plotting needs matplotlib: pip install 'emkit[plot]'") from exc
    return Figure(figsize=figsize, layout="constrained")


def plot_scores(model: Any, truth: Any = None, *, title: str | None = None) -> Any:
    """True vs estimated score per task (image), as in the lecture.

    Parameters
    ----------
    model : fitted ContinuousAnnotators
    truth : array-like of shape (n_tasks,), optional
        True scores in the order of ``model.tasks_`` (green dots); the estimates are red, with
        their standard errors as bars.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_is_fitted(model, "params_")
    mu = np.asarray(model.mu_)
    x = np.arange(mu.shape[0])
    fig = _figure((max(6.0, 0.25 * len(x)), 4.0))
    ax = fig.add_subplot()
    se = np.asarray(getattr(model, "std_error_", np.zeros_like(mu)))
    finite = np.isfinite(se)
    ax.errorbar(
        x[finite],
        mu[finite],
        yerr=se[finite],
        fmt="o",
        color="red",
        ms=5,
        capsize=2,
        label="estimate",
    )
    if not np.all(finite):
        ax.plot(x[~finite], mu[~finite], "o", color="red", mfc="none", ms=5)
    if truth is not None:
        t = np.asarray(truth, dtype=float)
        if t.shape != mu.shape:
            raise ValueError(f"truth has shape {t.shape}, the model has {mu.shape[0]} tasks")
        ax.plot(x, t, "o", color="green", ms=5, label="true")
    ax.set_xlabel("task (image)")
    ax.set_ylabel("score")
    if len(x) <= 40:
        ax.set_xticks(x, [str(t) for t in np.asarray(model.tasks_)], rotation=90)
    ax.legend()
    ax.set_title(title or "True vs estimated score per task")
    return fig


def plot_annotators(model: Any, *, title: str | None = None) -> Any:
    """P(good) per annotator as bars, with a line at 0.5.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_is_fitted(model, "params_")
    p = np.asarray(model.p_good_)
    x = np.arange(p.shape[0])
    fig = _figure((max(5.0, 0.3 * len(x)), 3.5))
    ax = fig.add_subplot()
    ax.bar(x, p, color=np.where(p > 0.5, "tab:green", "tab:red"))
    ax.axhline(0.5, color="gray", lw=0.8, ls="--")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("annotator")
    ax.set_ylabel("P(good)")
    if len(x) <= 40:
        ax.set_xticks(x, [str(w) for w in np.asarray(model.workers_)], rotation=90)
    ax.set_title(title or "Annotator reliability")
    return fig


def plot_worker_skill(model: Any, *, title: str | None = None) -> Any:
    """Estimated accuracy per worker of a categorical model (diagonal mass of the confusion
    matrix, weighted by the class prior), sorted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_is_fitted(model, "params_")
    conf = np.asarray(model.confusion_)
    prior = np.asarray(model.prior_)
    accuracy = np.einsum("k,akk->a", prior, conf)
    order = np.argsort(accuracy)
    fig = _figure((6.0, 3.5))
    ax = fig.add_subplot()
    ax.plot(np.arange(len(order)), accuracy[order], ".-")
    ax.set_xlabel("worker (sorted)")
    ax.set_ylabel("estimated accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "Worker accuracy")
    return fig
