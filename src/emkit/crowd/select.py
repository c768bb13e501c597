"""Which aggregation method to trust on *your* answers: held-out agreement, never the truth.

:func:`select_method` hides a random part of the answers (``n_folds`` folds; every task keeps at
least one answer in training, so every method labels every task), fits each method on the rest
and counts how often the label it gives a task equals a hidden answer to that task. The method
whose labels agree best with answers it has not seen wins (ties: the simpler method, in the order
of :data:`METHODS`), and is refitted on all answers.

Why agreement: whatever the model, the hidden answer of a better-than-chance worker equals the
true label more often than any other label, so labels that are right more often agree more often
with hidden answers (exactly so when workers' errors do not favour one wrong label). It needs no
gold, applies to majority vote as to the EM models, and does not reward a model for fitting its
own answers. How often it picks the most accurate method on the public sets is in docs/crowd.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emkit._sklearn_api import check_random_state
from emkit.crowd.io import Answers, read_answers
from emkit.exceptions import ConvergenceWarning, ParameterError

__all__ = ["METHODS", "Selection", "method_class", "predicted_codes", "select_method"]

#: method name -> class path, simplest first (the order that breaks ties)
METHODS: dict[str, str] = {
    "majority": "emkit.crowd.majority.MajorityVote",
    "one-coin": "emkit.crowd.categorical.OneCoinDawidSkene",
    "dawid-skene": "emkit.crowd.categorical.DawidSkene",
    "glad": "emkit.crowd.glad.GLAD",
    "mace": "emkit.crowd.mace.MACE",
}


def method_class(name: str) -> Any:
    """The estimator class of a method name in :data:`METHODS`."""
    import importlib

    if name not in METHODS:
        raise ParameterError(f"unknown method {name!r}; choose from {list(METHODS)}")
    module, _, cls = METHODS[name].rpartition(".")
    return getattr(importlib.import_module(module), cls)


def predicted_codes(model: Any) -> np.ndarray:
    """Index into ``model.classes_`` of each task's label (majority vote's ties broken)."""
    codes = getattr(model, "label_codes_", None)
    if codes is not None:
        return np.asarray(codes)
    return np.argmax(np.asarray(model.proba_), axis=1)


@dataclass(frozen=True)
class Selection:
    """The outcome of :func:`select_method`.

    Attributes
    ----------
    method : str
        The chosen method.
    scores : dict of str to float
        Held-out agreement of every method tried.
    model : estimator
        The chosen method fitted on all answers.
    """

    method: str
    scores: dict[str, float]
    model: Any


def _folds(answers: Answers, n_folds: int, rng: np.random.RandomState) -> np.ndarray:
    """Fold of every answer; -1 for one answer per task that always stays in training."""
    n = answers.n_answers
    order = np.lexsort((rng.uniform(size=n), answers.task))
    first = np.ones(n, dtype=bool)
    first[1:] = answers.task[order][1:] != answers.task[order][:-1]
    fold = rng.randint(0, n_folds, size=n)
    fold[order[first]] = -1
    return fold


def select_method(
    X: Any,
    *,
    methods: Sequence[str] | None = None,
    n_folds: int = 5,
    random_state: Any = 0,
    task: str = "task",
    worker: str = "worker",
    label: str = "label",
    options: dict[str, dict[str, Any]] | None = None,
) -> Selection:
    """Choose an aggregation method by held-out agreement (module docstring).

    Parameters
    ----------
    X : DataFrame, path-like, Answers or array of shape (n_answers, 3)
        Long-format answers, as every crowd estimator takes them.
    methods : sequence of str, optional
        Names from :data:`METHODS` (default all).
    n_folds : int, default=5
        Folds of hidden answers (each answer outside the kept one is hidden once).
    random_state : int, RandomState or None, default=0
        Draws the folds.
    task, worker, label : str
        Column names.
    options : dict, optional
        Extra constructor arguments per method name (e.g. ``{"glad": {"max_iter": 50}}``).

    Returns
    -------
    Selection
    """
    names = list(METHODS) if methods is None else list(methods)
    for name in names:
        method_class(name)  # unknown names fail before any fit
    if not names:
        raise ParameterError("methods must name at least one method")
    if n_folds < 2:
        raise ParameterError(f"n_folds must be at least 2, got {n_folds}")
    answers = read_answers(X, task=task, worker=worker, value=label, kind="label")
    assert answers.classes is not None
    k = len(answers.classes)
    coded = np.column_stack([answers.task, answers.worker, answers.value])
    fold = _folds(answers, n_folds, check_random_state(random_state))
    options = options or {}

    def build(name: str, **extra: Any) -> Any:
        return method_class(name)(**{**options.get(name, {}), **extra})

    scores: dict[str, float] = {}
    for name in names:
        agree = seen = 0
        for f in range(n_folds):
            held = fold == f
            if not held.any():
                continue
            with warnings.catch_warnings():  # a fold's fit is a means, not a result
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = build(name, classes=list(range(k))).fit(coded[~held])
            said = predicted_codes(model)[answers.task[held]]
            agree += int(np.sum(said == answers.value[held]))
            seen += int(held.sum())
        scores[name] = agree / seen if seen else float("nan")
    finite = {n: s for n, s in scores.items() if np.isfinite(s)}
    best = max(finite, key=lambda n: (finite[n], -names.index(n))) if finite else names[0]
    model = build(best, task=task, worker=worker, label=label).fit(X)
    return Selection(method=best, scores=scores, model=model)
