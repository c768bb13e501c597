"""Per-answer arrays of categorical crowd models whose likelihood is not a sum of per-(worker,
label) terms (GLAD, MACE): the E-step is a gather over answers and a scatter into tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emkit.data import Batch

__all__ = ["AnswerRows", "answer_rows", "scatter_tasks"]


@dataclass(frozen=True)
class AnswerRows:
    """One chunk's answers: codes, weights and the flat (task, label) cell of each answer."""

    task: np.ndarray  # intp
    worker: np.ndarray  # intp
    label: np.ndarray  # intp
    cell: np.ndarray  # task * n_classes + label, intp
    weight: np.ndarray  # float64
    task_weight: np.ndarray  # (n_tasks,) sum of weights per task
    total: float


def answer_rows(model: Any, batch: Batch) -> AnswerRows:
    """The chunk's :class:`AnswerRows`, built once per fit (cached by the model)."""

    def build(b: Batch) -> AnswerRows:
        task, pair = b.arrays
        k = model._n_classes
        task = task.astype(np.intp)
        pair = pair.astype(np.intp)
        worker, label = np.divmod(pair, k)
        weight = b.weight.astype(np.float64, copy=False)
        return AnswerRows(
            task=task,
            worker=worker,
            label=label,
            cell=task * k + label,
            weight=weight,
            task_weight=np.bincount(task, weight, minlength=model._n_tasks),
            total=float(np.sum(weight)),
        )

    rows: AnswerRows = model._chunk_derived(batch, build)
    return rows


def scatter_tasks(
    rows: AnswerRows, base: np.ndarray, delta: np.ndarray, n_tasks: int, k: int
) -> np.ndarray:
    """``L[t, c] = sum_i base_i + sum_{i: label_i = c} delta_i`` over the answers ``i`` of task
    ``t`` (weighted): the per-task log-likelihood of each class when an answer's log-probability
    is ``base_i`` unless the class is its own label, ``base_i + delta_i`` then."""
    w = rows.weight
    out = np.bincount(rows.cell, w * delta, minlength=n_tasks * k).reshape(n_tasks, k)
    out += np.bincount(rows.task, w * base, minlength=n_tasks)[:, None]
    return out
