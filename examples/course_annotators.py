"""The course's bad-annotator example: 5 annotators score 20 images; 0, 1 and 3 are good.

Good annotators score image i as N(mu_i, 0.05^2); bad ones answer uniformly on [0, 1]. EM finds
whom to trust (P(good) per annotator) and each image's true score. Run:

    python examples/course_annotators.py [OUTPUT_FOLDER]

It prints P(good) per annotator and the mean absolute error of the estimates against the plain
mean of the answers, and writes the lecture's two figures (true vs estimated score per image,
green = true, red = estimate; P(good) per annotator) into OUTPUT_FOLDER (default: current
folder). Needs matplotlib for the figures (pip install 'emkit[plot]').
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from emkit.crowd import ContinuousAnnotators, course_demo


def main(folder: Path) -> None:
    answers, truth, good = course_demo(random_state=0)
    model = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    for a, p in enumerate(model.p_good_):
        print(f"annotator {a}: P(good) = {p:.4f}{'  (good)' if a in good else ''}")
    task = answers[:, 0].astype(int)
    mean = np.bincount(task, answers[:, 2]) / np.bincount(task)
    print(f"pi = {float(model.pi_):.3f}, sigma = {float(model.sigma_):.4f}")
    print(f"MAE of EM estimates: {np.mean(np.abs(model.mu_ - truth)):.4f}")
    print(f"MAE of the mean of answers: {np.mean(np.abs(mean - truth)):.4f}")
    try:
        from emkit.crowd.plot import plot_annotators, plot_scores
    except ImportError:
        return
    folder.mkdir(parents=True, exist_ok=True)
    plot_scores(model, truth).savefig(folder / "course_scores.png", dpi=100)
    plot_annotators(model).savefig(folder / "course_annotators.png", dpi=100)
    print(f"figures written to {folder}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
