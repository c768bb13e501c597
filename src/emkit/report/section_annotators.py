"""The crowd-annotator section of the demo report (needs :mod:`emkit.crowd`).

The data are the course's worked example, simulated by :func:`emkit.crowd.course_demo` with
``ctx.seed``: five annotators score twenty images on [0, 1]; annotators 0, 1 and 3 are good
(their scores are the true score plus N(0, 0.05²) noise), the others answer at random.
"""

from __future__ import annotations

import numpy as np

from emkit.report.blocks import Cell, Section, Table, stopwatch
from emkit.report.sections import SectionContext, register_section

__all__ = ["annotators_section"]


@register_section("annotators", "Crowd annotators: who to trust", requires=("emkit.crowd",))
def annotators_section(ctx: SectionContext) -> Section:
    """The course's good/bad annotator model on its simulated example."""
    from emkit.crowd import ContinuousAnnotators, course_demo
    from emkit.report import figures, model_figures

    answers, truth, good = course_demo(random_state=ctx.seed)
    ctx.status("running EM on the annotators' scores")
    with stopwatch() as fit_time:
        model = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    tasks = np.asarray(model.tasks_).astype(int)
    workers = np.asarray(model.workers_).astype(int)
    true_scores = truth[tasks]
    estimated = np.asarray(model.mu_)
    p_good = np.asarray(model.p_good_)
    truly_good = np.isin(workers, good)
    task = answers[:, 0].astype(int)
    mean = np.bincount(task, answers[:, 2]) / np.bincount(task)
    mae_em = float(np.mean(np.abs(estimated - true_scores)))
    mae_mean = float(np.mean(np.abs(mean[tasks] - true_scores)))
    trusted = [int(w) for w in workers[p_good >= 0.5]]
    n_images, n_workers = tasks.size, workers.size
    ctx.status("drawing the annotators' figure")
    worker_rows: list[list[Cell]] = [
        [int(w), "good" if g else "random", float(p)]
        for w, g, p in zip(workers, truly_good, p_good, strict=True)
    ]
    image_rows: list[list[Cell]] = [
        [int(t), float(s), float(e), float(m)]
        for t, s, e, m in zip(tasks, true_scores, estimated, mean[tasks], strict=True)
    ]
    return Section(
        title="Crowd annotators: who to trust",
        hidden=f"Which of the {n_workers} annotators who scored {n_images} images are good (score "
        "the image's true value plus a little noise) and which answer at random, and each "
        "image's true score.",
        estimated=f"P(good) per annotator ({', '.join(f'{p:.2f}' for p in p_good)}: trusted "
        f"{', '.join(map(str, trusted))}; in truth good {', '.join(map(str, good))}), the "
        f"share of good annotators π = {float(model.pi_):.2f}, their noise σ = "
        f"{float(model.sigma_):.3f} and every image's score: mean absolute error {mae_em:.3f} "
        f"against {mae_mean:.3f} for the plain mean of the answers, after {model.n_iter_} "
        "iterations.",
        seconds=fit_time.seconds,
        figures=[
            model_figures.annotators_figure(
                true_scores,
                estimated,
                p_good,
                annotator_labels=[f"#{w}" for w in workers],
                truly_good=truly_good,
            ),
            figures.objective_figure(np.asarray(model.log_likelihood_history_)),
        ],
        tables=[
            Table(
                "Annotators",
                ["annotator", "in truth", "P(good) estimated by EM"],
                worker_rows,
                digits=3,
            ),
            Table(
                "Images",
                ["image", "true score", "EM's estimate", "mean of the answers"],
                image_rows,
                caption="EM weighs each answer by how much it trusts the annotator; the plain "
                "mean gives the random annotators a full vote.",
                digits=3,
            ),
        ],
        notes=[
            "The objective is the log-likelihood plus the log-prior that keeps σ away from 0 "
            "(emkit.crowd.ContinuousAnnotators, docs/crowd.md).",
            "Data: the course's example, simulated by emkit.crowd.course_demo(): good "
            "annotators score N(true score, 0.05²), random ones uniformly on [0, 1].",
        ],
    )
