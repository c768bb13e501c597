"""Every ready-made figure of :mod:`emkit.report.model_figures` on synthetic data, as one page."""

from __future__ import annotations

import functools

import numpy as np

from emkit.report import Page, Section
from emkit.report import model_figures as mf


@functools.cache
def gallery_page(seed: int = 0) -> Page:
    """A page with each model figure drawn from small synthetic arrays (not EM results)."""
    rng = np.random.RandomState(seed)
    true = rng.uniform(1, 5, 80)
    est = true + rng.normal(0, 0.3, 80)
    p_good = np.clip(np.r_[rng.uniform(0.7, 1, 12), rng.uniform(0, 0.3, 4)], 0, 1)
    truly = np.r_[np.ones(12, bool), np.zeros(4, bool)]
    X = np.r_[rng.normal([2, 55], [0.3, 6], (100, 2)), rng.normal([4.3, 80], [0.4, 6], (150, 2))]
    resp1 = np.full((250, 2), 0.5)
    resp2 = np.c_[X[:, 0] < 3.2, X[:, 0] >= 3.2].astype(float) * 0.9 + 0.05
    means = np.array([[2.0, 55.0], [4.3, 80.0]])
    covs = np.array([[[0.09, 0.5], [0.5, 36.0]], [[0.16, 0.8], [0.8, 36.0]]])
    snapshots = [
        (0, resp1, np.array([[3.0, 60.0], [3.5, 75.0]]), np.array([1.0, 1.0]) * 40),
        (5, resp2, means, covs),
    ]
    image = np.zeros((40, 60, 3))
    image[:, :30] = [0.9, 0.7, 0.2]
    image[:, 30:] = [0.1, 0.3, 0.8]
    image += rng.normal(0, 0.05, image.shape)
    labels = np.zeros((40, 60), dtype=int)
    labels[:, 30:] = 1
    labels[10:20, 10:20] = 2
    words = [
        ["gene", "dna", "cell", "protein"],
        ["ball", "team", "game", "win"],
        ["vote", "law", "party", "state"],
    ]
    weights = np.sort(rng.dirichlet(np.ones(4), 3), axis=1)[:, ::-1]
    pwm = np.array(
        [[0.9, 0.05, 0.03, 0.02], [0.25, 0.25, 0.25, 0.25], [0.1, 0.1, 0.7, 0.1], [0, 0, 0, 1.0]]
    )
    tables = np.arange(1, 11)
    figures = [
        mf.annotators_figure(true, est, p_good, [f"a{i}" for i in range(16)], truly),
        mf.mixture_snapshots_figure(X, snapshots, ("eruption (min)", "waiting (min)")),
        mf.hard_vs_soft_figure(X, (resp2[:, 1] > 0.5).astype(int), means, resp2, means, covs),
        mf.segmentation_figure(image, labels),
        mf.top_words_figure(words, weights),
        mf.sequence_logo_figure(pwm),
        mf.recall_curve_figure(
            tables,
            {"8 bits": 1 - 0.7**tables, "16 bits": 1 - 0.85**tables},
            "hash tables",
            reference=(tables, 1 - 0.75**tables, "theory"),
        ),
    ]
    section = Section(
        title="Gallery", hidden="synthetic arrays", estimated="nothing", figures=figures
    )
    section.key = "gallery"
    return Page("Figure gallery (synthetic data)", "", [section])
