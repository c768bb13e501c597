"""The continuous annotator model on 10,000,000 scores: seconds per iteration, peak memory.

1,000,000 tasks x 10 scores from 2,000 annotators (30 % uniform spammers), every variant of
ContinuousAnnotators. Per-iteration time: (fit with 12 iterations - fit with 2) / 10, so that
reading ids and the median start are not counted; memory: tracemalloc peak of one fit.

Run: python benchmarks/bench_crowd_continuous.py [N_SCORES]
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import warnings

import numpy as np

from emkit.crowd import ContinuousAnnotators
from emkit.crowd.continuous import VARIANTS


def make(n_scores: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    per_task, n_workers = 10, 2_000
    n_tasks = n_scores // per_task
    task = np.repeat(np.arange(n_tasks), per_task)
    worker = rng.integers(0, n_workers, task.size)
    good = rng.uniform(size=n_workers) > 0.3
    truth = rng.uniform(0.15, 0.85, n_tasks)
    noisy = np.clip(truth[task] + 0.05 * rng.standard_normal(task.size), 0, 1)
    score = np.where(good[worker], noisy, rng.uniform(0, 1, task.size))
    return np.column_stack([task, worker, score]), truth


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    answers, truth = make(n)
    warnings.simplefilter("ignore")
    print(f"ContinuousAnnotators on {n:,} scores ({len(truth):,} tasks, 2,000 annotators)")
    print(f"{'variant':>20} {'s/iter':>8} {'peak MB':>8} {'MAE':>8}")
    for name, kw in VARIANTS.items():
        times = []
        for n_iter in (2, 12):
            start = time.perf_counter()
            model = ContinuousAnnotators(low=0, high=1, max_iter=n_iter, tol=0.0, **kw)
            model.fit(answers)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        ContinuousAnnotators(low=0, high=1, max_iter=3, tol=0.0, **kw).fit(answers)
        peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
        mae = float(np.mean(np.abs(model.mu_ - truth)))
        print(f"{name:>20} {(times[1] - times[0]) / 10:8.3f} {peak:8.0f} {mae:8.4f}", flush=True)


if __name__ == "__main__":
    main()
