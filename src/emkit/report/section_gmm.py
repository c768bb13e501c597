"""The Gaussian-mixture and k-means sections of the demo report (Old Faithful).

The data are the Old Faithful eruptions bundled with emkit (:func:`emkit.datasets.old_faithful`):
272 eruptions, each its duration and the waiting time to the next, both in minutes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.report.blocks import Cell, Section, Table, stopwatch
from emkit.report.sections import SectionContext, register_section

__all__ = ["gmm_section", "kmeans_section", "snapshot_iterations"]

#: The 2-component full-covariance MLE (emkit.datasets.old_faithful's notes; R's mclust agrees).
REFERENCE_LOG_LIKELIHOOD = -1130.2640


def snapshot_iterations(history: Any, n_shown: int = 4) -> list[int]:
    """Iterations to draw: the start, where the objective has made a third and two thirds of its
    total climb (where the components move), and the last.

    Parameters
    ----------
    history : array-like of shape (n_iter + 1,)
        The objective at the start and after every iteration.
    """
    h = np.asarray(history, dtype=np.float64)
    last = h.size - 1
    if last <= n_shown - 1:
        return list(range(last + 1))
    climb = h - h[0]
    total = climb[-1]
    picks = {0, last}
    if total > 0:
        for fraction in np.linspace(0, 1, n_shown)[1:-1]:
            picks.add(int(np.argmax(climb >= fraction * total)))
    for it in range(1, last):  # flat or repeated picks: fill in early iterations
        if len(picks) >= n_shown:
            break
        picks.add(it)
    return sorted(picks)


def _components_table(
    labels: list[str], weights: Any, means: Any, covariances: Any, names: list[str]
) -> Table:
    cov = np.asarray(covariances)
    rows: list[list[Cell]] = []
    for k in range(len(weights)):
        sd = np.sqrt(np.diag(cov[k]))
        corr = float(cov[k][0, 1] / (sd[0] * sd[1]))
        rows.append([labels[k], float(weights[k]), *map(float, means[k]), *map(float, sd), corr])
    return Table(
        "Components",
        [
            "eruptions",
            "weight",
            f"mean {names[0]}",
            f"mean {names[1]}",
            f"sd {names[0]}",
            f"sd {names[1]}",
            "correlation",
        ],
        rows,
        digits=3,
    )


@register_section("gmm", "Gaussian mixture on Old Faithful", requires=("emkit.models.gaussian",))
def gmm_section(ctx: SectionContext) -> Section:
    """Two full-covariance Gaussians from a random start, drawn at a few iterations."""
    from emkit.data import Batch
    from emkit.datasets import old_faithful
    from emkit.engine import IterationInfo, StepContext
    from emkit.models import GaussianMixture
    from emkit.report import figures, model_figures

    X, names = old_faithful()
    seen: list[tuple[int, Any]] = []

    def keep(info: IterationInfo[Any]) -> None:
        seen.append((info.iteration, info.params))

    model = GaussianMixture(
        2,
        covariance_type="full",
        init="random",
        n_init=1,
        tol=1e-8,
        max_iter=500,
        random_state=ctx.seed,
    )
    ctx.status("running EM on Old Faithful")
    with stopwatch() as fit_time:
        model.fit(X, callbacks=[keep])
    ctx.status("drawing the ellipses")
    batch = Batch((X,), np.ones(len(X)))
    by_iteration = dict(seen)
    shown = [it for it in snapshot_iterations(model.log_likelihood_history_) if it in by_iteration]
    snapshots = []
    for it in shown:
        params = by_iteration[it]
        resp = StepContext().posterior(model.log_joint(batch, params))[0]
        snapshots.append((it, resp, params.means, params.covariances))
    order = np.argsort(model.means_[:, 0])  # short eruptions first
    weights = model.weights_[order]
    ll = float(model.log_likelihood_)
    labels = model.predict(X)
    n_long = int(np.sum(labels == order[1]))
    return Section(
        title="Gaussian mixture on Old Faithful",
        hidden=f"Which of two kinds of eruption, short or long, each of the {len(X)} "
        "eruptions of the Old Faithful geyser was.",
        estimated=f"Two Gaussians in (duration, waiting time) with weights "
        f"{weights[0]:.3f} and {weights[1]:.3f}, means ({model.means_[order[0], 0]:.2f} min, "
        f"{model.means_[order[0], 1]:.1f} min) and ({model.means_[order[1], 0]:.2f} min, "
        f"{model.means_[order[1], 1]:.1f} min): log-likelihood {ll:.4f} after "
        f"{model.n_iter_} iterations from a random start (the known maximum is "
        f"{REFERENCE_LOG_LIKELIHOOD:.4f}); {n_long} eruptions are put with the long kind.",
        seconds=fit_time.seconds,
        figures=[
            model_figures.mixture_snapshots_figure(X, snapshots, names, "full"),
            figures.objective_figure(np.asarray(model.log_likelihood_history_)),
        ],
        tables=[
            _components_table(
                ["short", "long"],
                weights,
                model.means_[order],
                model.covariances_[order],
                list(names),
            )
        ],
        notes=[
            "EM starts from random responsibilities (init='random'), so at first both "
            "components spread over all the data; the panels show the start, the iterations "
            "where the log-likelihood has made a third and two thirds of its climb, and the "
            "end. The reference maximum is the 2-component full-covariance fit of these data "
            "(as R's mclust finds it).",
            "Data: Old Faithful geyser, Yellowstone (Azzalini & Bowman 1990, Applied "
            "Statistics 39:357-365; R datasets::faithful), bundled as "
            "emkit.datasets.old_faithful().",
        ],
    )


@register_section(
    "kmeans",
    "k-means (hard EM) beside soft EM",
    requires=("emkit.models.gaussian", "emkit.models.kmeans"),
)
def kmeans_section(ctx: SectionContext) -> Section:
    """k-means and a Gaussian mixture on the same eruptions, side by side."""
    from emkit.datasets import old_faithful
    from emkit.models import GaussianMixture, KMeans
    from emkit.report import model_figures

    X, names = old_faithful()
    ctx.status("k-means and soft EM")
    with stopwatch() as km_time:
        km = KMeans(2, n_init=5, random_state=ctx.seed).fit(X)
    with stopwatch() as gm_time:
        gm = GaussianMixture(2, covariance_type="full", random_state=ctx.seed).fit(X)
    resp = gm.predict_proba(X)
    hard = np.asarray(km.labels_)
    soft = resp.argmax(axis=1)
    # two clusters: their numbering is arbitrary, so agreement is the better of both matchings
    same = float(np.mean(hard == soft))
    agreement = max(same, 1.0 - same)
    uncertain = int(np.sum(resp.max(axis=1) < 0.9))
    spread = X.max(axis=0) - X.min(axis=0)
    centers = np.asarray(km.cluster_centers_)
    km_order = np.argsort(centers[:, 0])
    gm_order = np.argsort(gm.means_[:, 0])
    rows: list[list[Cell]] = []
    for j in range(2):
        c, k = km_order[j], gm_order[j]
        rows.append(
            [
                "short" if j == 0 else "long",
                int(np.sum(hard == c)),
                f"({centers[c, 0]:.2f}, {centers[c, 1]:.1f})",
                float(np.sum(resp[:, k])),
                f"({gm.means_[k, 0]:.2f}, {gm.means_[k, 1]:.1f})",
            ]
        )
    table = Table(
        "Clusters and components",
        [
            "eruptions",
            "k-means: points",
            "k-means: centre",
            "soft EM: sum of responsibilities",
            "soft EM: mean",
        ],
        rows,
        caption=f"Centres and means are ({names[0]}, {names[1]}) in minutes. k-means: "
        f"{km.n_iter_} iterations of its best of 5 starts, in {km_time.seconds:.3f} s; soft EM: "
        f"{gm.n_iter_} iterations in {gm_time.seconds:.3f} s.",
        digits=1,
    )
    return Section(
        title="k-means (hard EM) beside soft EM",
        hidden=f"The kind of each of the {len(X)} eruptions, as a hard label (k-means) or as "
        "probabilities (a Gaussian mixture).",
        estimated=f"k-means (EM with hard assignments to equal round clusters) puts "
        f"{int(np.sum(hard == km_order[1]))} eruptions in the long cluster, inertia "
        f"{km.inertia_:.1f}; soft EM's most probable component agrees for {agreement:.1%} of "
        f"the eruptions and gives {uncertain} of them no component with responsibility 0.9 "
        "or more.",
        seconds=km_time.seconds + gm_time.seconds,
        figures=[
            model_figures.hard_vs_soft_figure(
                X,
                hard,
                centers,
                resp,
                gm.means_,
                gm.covariances_,
                feature_names=names,
                covariance_type="full",
            )
        ],
        tables=[table],
        notes=[
            "k-means measures plain Euclidean distance in minutes, so the waiting time, which "
            f"spreads over {spread[1]:.0f} minutes against {spread[0]:.1f} for the duration, "
            "decides almost alone; the mixture's full covariances adapt to each axis.",
            "Data: Old Faithful, as in the Gaussian-mixture section.",
        ],
    )
