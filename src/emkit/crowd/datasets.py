"""Simulated crowd data: the course's bad-annotator demo and general score simulations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emkit._sklearn_api import check_random_state

__all__ = ["PUBLIC_SETS", "course_demo", "default_crowd_root", "read_public_set", "simulate_scores"]


def simulate_scores(
    n_tasks: int,
    n_workers: int,
    good: Sequence[int] | np.ndarray,
    *,
    sigma: float | Sequence[float] = 0.05,
    bias: float | Sequence[float] = 0.0,
    low: float = 0.0,
    high: float = 1.0,
    answers_per_task: int | None = None,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores from the course's model: good annotators ``N(mu_i + b_a, sigma_a^2)``, bad ones
    uniform on ``[low, high]``.

    Parameters
    ----------
    n_tasks, n_workers : int
    good : sequence of int
        Indices of the good annotators.
    sigma, bias : float or sequence of float
        Noise and bias of the good annotators (one value, or one per annotator).
    low, high : float
        Score range; true scores are drawn uniformly from its middle 70 % and good answers are
        clipped to the range.
    answers_per_task : int, optional
        Annotators per task, drawn at random; default every annotator scores every task.
    random_state : int, RandomState or None

    Returns
    -------
    answers : ndarray of shape (n_answers, 3)
        Columns task, worker, score.
    truth : ndarray of shape (n_tasks,)
        True score of each task.
    """
    rng = check_random_state(random_state)
    span = high - low
    truth = rng.uniform(low + 0.15 * span, high - 0.15 * span, size=n_tasks)
    if answers_per_task is None:
        task = np.repeat(np.arange(n_tasks), n_workers)
        worker = np.tile(np.arange(n_workers), n_tasks)
    else:
        task = np.repeat(np.arange(n_tasks), answers_per_task)
        keys = rng.uniform(size=(n_tasks, n_workers))
        worker = np.argsort(keys, axis=1)[:, :answers_per_task].ravel()
    is_good = np.zeros(n_workers, dtype=bool)
    is_good[np.asarray(good, dtype=int)] = True
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (n_workers,))
    b = np.broadcast_to(np.asarray(bias, dtype=float), (n_workers,))
    noisy = truth[task] + b[worker] + sig[worker] * rng.standard_normal(task.size)
    uniform = rng.uniform(low, high, size=task.size)
    score = np.clip(np.where(is_good[worker], noisy, uniform), low, high)
    answers = np.column_stack([task, worker, score]).astype(np.float64)
    return answers, truth


def course_demo(random_state: Any = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The course's worked example: 20 images, 5 annotators of whom 0, 1 and 3 are good.

    Good annotators score ``N(mu_i, 0.05^2)``, bad ones uniformly on [0, 1].

    Returns
    -------
    answers : ndarray of shape (100, 3)
        Columns image, annotator, score.
    truth : ndarray of shape (20,)
        True score of each image.
    good : ndarray of shape (3,)
        The good annotators: ``[0, 1, 3]``.
    """
    good = np.array([0, 1, 3])
    answers, truth = simulate_scores(20, 5, good, sigma=0.05, random_state=random_state)
    return answers, truth, good


#: public categorical sets with ground truth, in the layouts of ``../shared/data/crowd`` (see its
#: README for sources): name -> (folder, how the files are laid out)
PUBLIC_SETS: dict[str, tuple[str, str]] = {
    "bluebirds": ("d_Duck_Identification", "zheng"),
    "product": ("d_jn-product", "zheng"),
    "sentiment": ("d_sentiment", "zheng"),
    "dog": ("s4_Dog_data", "zheng"),
    "rte": ("snow2008/rte.standardized.tsv", "snow"),
    "temp": ("snow2008/temp.standardized.tsv", "snow"),
    "wsd": ("snow2008/wsd.standardized.tsv", "snow"),
    "web": ("spectral_meets_em", "zhang"),
    "cf": ("active_crowd_toolkit/CF.csv", "venanzi"),
    "ms": ("active_crowd_toolkit/MS.csv", "venanzi"),
    "sp": ("active_crowd_toolkit/SP.csv", "venanzi"),
}


def default_crowd_root() -> Any:
    """``../shared/data/crowd`` beside the project checkout (may not exist)."""
    from pathlib import Path

    return Path(__file__).resolve().parents[3].parent / "shared" / "data" / "crowd"


def read_public_set(name: str, root: Any = None) -> tuple[Any, Any]:
    """One public categorical crowd set: answers ``(task, worker, label)`` and the truth.

    Parameters
    ----------
    name : str
        A key of :data:`PUBLIC_SETS`.
    root : path-like, optional
        The folder holding the sets (default :func:`default_crowd_root`).

    Returns
    -------
    answers : pandas DataFrame with columns task, worker, label
    truth : pandas Series of true labels indexed by task

    Raises
    ------
    DataError
        Unknown name, or the files are missing.
    """
    from pathlib import Path

    from emkit.crowd.io import require_pandas
    from emkit.exceptions import DataError

    if name not in PUBLIC_SETS:
        raise DataError(f"unknown public set {name!r}; choose from {sorted(PUBLIC_SETS)}")
    pd = require_pandas()
    folder, layout = PUBLIC_SETS[name]
    path = Path(default_crowd_root() if root is None else root) / folder
    if not path.exists():
        raise DataError(f"public set {name!r} not found at {str(path)!r}")
    cols = ["task", "worker", "label"]
    if layout == "zheng":  # answer.csv (question, worker, answer), truth.csv (question, truth)
        answers = pd.read_csv(path / "answer.csv")
        answers.columns = cols
        truth = pd.read_csv(path / "truth.csv")
        return answers, truth.set_index(truth.columns[0])[truth.columns[1]].rename("truth")
    if layout == "snow":  # one row per answer with the task's gold label
        frame = pd.read_csv(path, sep="\t")
        answers = pd.DataFrame(
            {
                "task": frame["orig_id"],
                "worker": frame["!amt_worker_ids"],
                "label": frame["response"],
            }
        )
        return answers, frame.groupby("orig_id")["gold"].first().rename("truth")
    if layout == "zhang":  # whitespace-separated, no header, truth for most tasks
        answers = pd.read_csv(path / "web_crowd.txt", sep=r"\s+", header=None, names=cols)
        truth = pd.read_csv(path / "web_truth.txt", sep=r"\s+", header=None, names=["task", "t"])
        return answers, truth.set_index("task")["t"].rename("truth")
    # venanzi: worker, task, label, gold per row, no header
    frame = pd.read_csv(path, header=None, names=["worker", "task", "label", "gold"])
    return frame[cols], frame.groupby("task")["gold"].first().rename("truth")
