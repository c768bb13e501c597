"""The continuous annotator model on 10,000,000 scores: seconds per iteration, peak memory.

1,000,000 tasks x 10 scores from 2,000 annotators (30 % uniform spammers); the course model,
the richest variant and Raykar's. Per-iteration time: CPU seconds between the engine's
callbacks (reading ids and the median start are reported apart as "setup"); memory: tracemalloc
peak of the fit (the input array itself, 240 MB, is not counted).

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
    print(f"{'variant':>20} {'s/iter':>8} {'setup s':>8} {'peak MB':>8} {'MAE':>8}")
    for name in ("course", "worker-noise+bias", "raykar"):
        stamps: list[float] = []
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        start = time.process_time()
        model = ContinuousAnnotators(low=0, high=1, max_iter=10, tol=0.0, **VARIANTS[name])
        model.fit(answers, callbacks=[lambda info, s=stamps: s.append(time.process_time())])
        peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
        per_iter = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        mae = float(np.mean(np.abs(model.mu_ - truth)))
        print(
            f"{name:>20} {per_iter:8.3f} {stamps[0] - start:8.2f} {peak:8.0f} {mae:8.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
