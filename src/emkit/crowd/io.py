"""Long-format crowd answers: one row per (task, worker, answer), as crowd-kit takes them.

:func:`read_answers` turns a pandas DataFrame, a CSV / TSV / Parquet file, or a plain array of
shape (n, 3) into an :class:`Answers` table: integer codes for tasks and workers (and for labels
when they are categorical) plus the original ids, so that models work on dense integer arrays and
results are reported under the user's ids. Repeated (task, worker) pairs are kept as separate
answers: a worker who labelled a task twice contributes two independent observations, as in
Dawid & Skene (1979), whose first anaesthetist rated every patient three times.

Ids may be strings or numbers; they are coded in sorted order when they can be sorted, so that a
fit does not depend on the order of the rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emkit.exceptions import DataError

__all__ = ["Answers", "read_answers", "require_pandas", "sort_by_task"]


def require_pandas() -> Any:
    """Import pandas, or explain how to install it."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - exercised only without pandas
        raise ImportError(
            "this feature of emkit.crowd needs pandas: pip install 'emkit[crowd]'"
        ) from exc
    return pd


@dataclass(frozen=True)
class Answers:
    """Crowd answers coded as integers.

    Attributes
    ----------
    task : ndarray of shape (n_answers,), int32
        Task code of each answer, in ``0 .. n_tasks - 1``.
    worker : ndarray of shape (n_answers,), int32
        Worker code of each answer, in ``0 .. n_workers - 1``.
    value : ndarray of shape (n_answers,)
        The answer: a float score, or a label code in ``0 .. n_classes - 1`` (int32).
    tasks : ndarray of shape (n_tasks,)
        The task id of each code.
    workers : ndarray of shape (n_workers,)
        The worker id of each code.
    classes : ndarray of shape (n_classes,) or None
        The label of each label code (categorical answers only).
    """

    task: np.ndarray
    worker: np.ndarray
    value: np.ndarray
    tasks: np.ndarray
    workers: np.ndarray
    classes: np.ndarray | None = None

    @property
    def n_answers(self) -> int:
        """Number of answers (rows)."""
        return int(self.task.shape[0])

    @property
    def n_tasks(self) -> int:
        """Number of distinct tasks."""
        return int(self.tasks.shape[0])

    @property
    def n_workers(self) -> int:
        """Number of distinct workers."""
        return int(self.workers.shape[0])


def _factorize(values: Any, name: str, extra: Sequence[Any] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (int32) and sorted unique ids of ``values`` (``extra`` ids are included)."""
    if (
        hasattr(values, "dtype")
        and hasattr(values, "isna")
        and not extra
        and values.dtype.kind not in "fciu"  # numeric ids go through numpy (3.0 -> 3)
    ):
        return _factorize_series(values, name)
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            row = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise DataError(f"column {name!r} has a missing or non-finite id at row {row}")
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2**53):
            arr = arr.astype(np.int64)  # ids read from a float array: 3.0 -> 3
        try:
            more = np.asarray(list(extra), dtype=arr.dtype) if extra else arr[:0]
        except (TypeError, ValueError):  # e.g. string classes for numeric labels
            return _factorize(arr.astype(object), name, extra)
        pool = np.concatenate([arr, more]) if extra else arr
        if pool.dtype.kind in "iu" and pool.size and 0 <= pool.min() and pool.max() < 4 * pool.size:
            # small non-negative integer ids: a counting pass instead of a sort
            present = np.bincount(pool) > 0
            uniques = np.flatnonzero(present).astype(pool.dtype)
            codes = (np.cumsum(present) - 1).astype(np.int32)[arr]
        else:
            uniques, codes = np.unique(pool, return_inverse=True)
            codes = codes[: arr.shape[0]]
    else:
        pd = require_pandas()
        series = pd.Series(arr, dtype=object)
        missing = series.isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise DataError(f"column {name!r} has a missing id at row {row}")
        if extra:
            series = pd.concat([series, pd.Series(list(extra), dtype=object)], ignore_index=True)
        try:
            codes, uniques = pd.factorize(series, sort=True)
        except TypeError:  # ids of mixed, unorderable types: keep first-seen order
            codes, uniques = pd.factorize(series, sort=False)
        codes = codes[: arr.shape[0]]
        uniques = np.asarray(uniques, dtype=object)
    return codes.astype(np.int32, copy=False), np.asarray(uniques)


def _factorize_series(series: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """pandas' hash-based factorisation, straight from a column (no object-array copy)."""
    pd = require_pandas()
    missing = series.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(f"column {name!r} has a missing id at row {row}")
    codes, uniques = pd.factorize(series, sort=False)
    uniques = np.asarray(uniques)
    if uniques.dtype.kind in "OUS":
        uniques = uniques.astype(object)
    try:  # sort the (few) unique ids and renumber, rather than sorting every row
        order = np.argsort(uniques, kind="stable")
    except TypeError:  # ids of mixed, unorderable types: keep first-seen order
        return np.asarray(codes).astype(np.int32), uniques
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[codes], uniques[order]


def _frame_columns(frame: Any, columns: Sequence[str]) -> list[Any]:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"unknown column {missing[0]!r}; available columns: {[str(c) for c in frame.columns]}"
        )
    return [frame[c] for c in columns]


def _read_table(path: Path, sep: str | None) -> Any:
    pd = require_pandas()
    if not path.exists():
        raise DataError(f"cannot read {str(path)!r}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if sep is None:
            sep = "\t" if suffix in (".tsv", ".tab") else ","
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(f"{str(path)!r} is empty: expected a header row and data rows") from None
    except (OSError, ValueError, ImportError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from exc


def read_answers(
    source: Any,
    *,
    task: str = "task",
    worker: str = "worker",
    value: str = "label",
    kind: str = "label",
    classes: Sequence[Any] | None = None,
    sep: str | None = None,
) -> Answers:
    """Read long-format crowd answers.

    Parameters
    ----------
    source : DataFrame, path-like, Answers or array-like of shape (n_answers, 3)
        A pandas DataFrame with the three named columns; a CSV, TSV or Parquet file with a header
        row; or an array whose columns are task id, worker id and answer.
    task, worker, value : str
        Column names of the task id, the worker id and the answer.
    kind : {'label', 'score'}
        Categorical labels (coded as integers, sorted) or numeric scores (float64).
    classes : sequence, optional
        Labels that exist even if nobody answered them (categorical answers only).
    sep : str, optional
        Field separator for text files (default: tab for .tsv, comma otherwise).

    Returns
    -------
    Answers

    Raises
    ------
    DataError
        Empty input, unknown column, missing ids or answers, or a score that is not a finite
        number (the message names the column and the row).
    """
    if kind not in ("label", "score"):
        raise DataError(f"kind must be 'label' or 'score', got {kind!r}")
    if isinstance(source, Answers):
        return source
    if isinstance(source, str | os.PathLike):
        source = _read_table(Path(source), sep)
    if hasattr(source, "columns") and hasattr(source, "to_numpy"):
        t, w, v = _frame_columns(source, [task, worker, value])
    else:
        arr = np.asarray(source)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise DataError(
                "crowd answers must be a DataFrame with columns "
                f"({task!r}, {worker!r}, {value!r}) or an array of shape (n_answers, 3), "
                f"got an array of shape {arr.shape}"
            )
        t, w, v = arr[:, 0], arr[:, 1], arr[:, 2]
    if len(t) == 0:
        raise DataError("no answers: the input has 0 rows")
    task_codes, tasks = _factorize(t, task)
    worker_codes, workers = _factorize(w, worker)
    if kind == "score":
        if hasattr(v, "to_numpy"):
            v = v.to_numpy()
        try:
            scores = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(i for i, x in enumerate(v) if not _is_number(x))
            raise DataError(f"column {value!r}, row {bad}: {v[bad]!r} is not a number") from None
        if not np.all(np.isfinite(scores)):
            bad = int(np.flatnonzero(~np.isfinite(scores))[0])
            raise DataError(f"column {value!r}, row {bad}: {v[bad]!r} is not a finite number")
        return Answers(task_codes, worker_codes, scores, tasks, workers)
    label_codes, labels = _factorize(v, value, extra=list(classes or ()))
    return Answers(task_codes, worker_codes, label_codes, tasks, workers, labels)


def _is_number(x: Any) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


def sort_by_task(answers: Answers, sample_weight: Any = None) -> tuple[Answers, Any]:
    """The answers (and their weights) in order of task code; a stable sort, skipped when the
    rows are already grouped that way."""
    task = answers.task
    if task.size < 2 or not np.any(task[1:] < task[:-1]):
        return answers, sample_weight
    order = np.argsort(task, kind="stable")
    if sample_weight is not None:
        weight = np.asarray(sample_weight)
        if weight.ndim == 1 and weight.shape[0] == task.shape[0]:
            sample_weight = weight[order]
    return (
        Answers(
            task[order],
            answers.worker[order],
            answers.value[order],
            answers.tasks,
            answers.workers,
            answers.classes,
        ),
        sample_weight,
    )
