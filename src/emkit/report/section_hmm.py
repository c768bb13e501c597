"""The hidden Markov model section of the demo report: the earthquake counts and their states.

The data are the 107 annual counts of major earthquakes bundled with emkit
(:func:`emkit.datasets.earthquakes`); a 2-state Poisson HMM is fitted by Baum-Welch from the start
of Zucchini, MacDonald & Langrock and its Viterbi path drawn over the series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.report.blocks import Cell, Figure, Section, Table, stopwatch
from emkit.report.figures import COLORS, new_figure, render, styled
from emkit.report.sections import SectionContext, register_section

__all__ = ["REFERENCE_NEG_LOG_LIKELIHOOD", "hmm_section", "states_figure", "transition_figure"]

#: -log L of the 2-state Poisson HMM with the initial distribution estimated (the book's value)
REFERENCE_NEG_LOG_LIKELIHOOD = 341.8787


@styled
def states_figure(years: np.ndarray, counts: np.ndarray, states: np.ndarray, rates: Any) -> Figure:
    """The series, each year coloured by its decoded state, and each state's rate as a step."""
    fig, ax = new_figure(9.0, 3.2)
    ax.plot(years, counts, color="#999999", linewidth=0.8, zorder=1)
    for k in range(len(rates)):
        here = states == k
        ax.scatter(years[here], counts[here], s=14, color=COLORS[k], zorder=2, label=f"state {k}")
    ax.step(
        years,
        np.asarray(rates)[states],
        where="mid",
        color="#000000",
        linewidth=1.0,
        label="rate of the decoded state",
    )
    ax.set_xlabel("year")
    ax.set_ylabel("major earthquakes")
    ax.set_title("Annual counts and their Viterbi states", loc="left")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    caption = (
        "Each year's count, coloured by the state of the Viterbi path (the most probable "
        "sequence of states); the black steps are the Poisson rate of the decoded state."
    )
    return render(fig, alt="earthquake counts per year with decoded states", caption=caption)


@styled
def transition_figure(transmat: Any) -> Figure:
    """The transition matrix as a picture: one cell per (from, to) pair, shaded by probability."""
    A = np.asarray(transmat, dtype=np.float64)
    K = A.shape[0]
    fig, ax = new_figure(3.6, 3.2)
    image = ax.imshow(A, vmin=0.0, vmax=1.0, cmap="Blues")
    for i in range(K):
        for j in range(K):
            ax.text(
                j,
                i,
                f"{A[i, j]:.3f}",
                ha="center",
                va="center",
                color="white" if A[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(K), [f"to {j}" for j in range(K)])
    ax.set_yticks(range(K), [f"from {i}" for i in range(K)])
    ax.set_title("Transition matrix", loc="left")
    fig.colorbar(image, ax=ax, shrink=0.8)
    caption = "Row i is the distribution of next year's state given state i this year."
    return render(fig, alt="transition matrix of the fitted HMM", caption=caption)


@register_section("hmm", "Hidden Markov model: earthquake regimes", requires=("emkit.hmm",))
def hmm_section(ctx: SectionContext) -> Section:
    """A 2-state Poisson HMM on the annual earthquake counts, its states and transitions."""
    from emkit.datasets import earthquakes
    from emkit.hmm import PoissonHMM
    from emkit.report import figures

    years, counts = earthquakes()
    model = PoissonHMM(
        2,
        startprob_init=[0.5, 0.5],
        transmat_init=[[0.9, 0.1], [0.1, 0.9]],
        lambdas_init=[[10.0], [30.0]],
        tol=1e-12,
        max_iter=1000,
        random_state=ctx.seed,
    )
    ctx.status("Baum-Welch on the earthquake counts")
    with stopwatch() as fit_time:
        model.fit(counts)
    states = model.predict(counts)
    rates = model.lambdas_[:, 0]
    neg_ll = -float(model.log_likelihood_)
    rows: list[list[Cell]] = [
        [
            f"state {k}",
            float(rates[k]),
            float(model.transmat_[k, k]),
            float(1.0 / max(1.0 - model.transmat_[k, k], 1e-12)),
            int(np.sum(states == k)),
        ]
        for k in range(2)
    ]
    table = Table(
        "States",
        ["state", "rate (per year)", "stay probability", "mean stay (years)", "years decoded"],
        rows,
        digits=3,
    )
    return Section(
        title="Hidden Markov model: earthquake regimes",
        hidden="Which of two seismic regimes, calm or active, the world was in each year "
        f"from {years[0]} to {years[-1]}.",
        estimated=f"Two Poisson rates, {rates.min():.2f} and {rates.max():.2f} major "
        f"earthquakes a year, and the transitions between them: -log L = {neg_ll:.4f} after "
        f"{model.n_iter_} Baum-Welch iterations (the published value is "
        f"{REFERENCE_NEG_LOG_LIKELIHOOD}); the Viterbi path puts "
        f"{int(np.sum(states == np.argmax(rates)))} of the {len(years)} years in the active "
        "regime.",
        seconds=fit_time.seconds,
        figures=[
            states_figure(years, counts[:, 0], states, rates),
            transition_figure(model.transmat_),
            figures.objective_figure(np.asarray(model.log_likelihood_history_)),
        ],
        tables=[table],
        notes=[
            "Start: rates (10, 30), transitions [[0.9, 0.1], [0.1, 0.9]], initial distribution "
            "(0.5, 0.5), as in Zucchini, MacDonald & Langrock; the initial distribution is "
            "learned, so EM puts all of it on the first year's state.",
            "Data: annual counts of earthquakes of magnitude 7 and above, 1900-2006 (Zucchini, "
            "MacDonald & Langrock, Hidden Markov Models for Time Series, Table 1.1), bundled as "
            "emkit.datasets.earthquakes().",
        ],
    )
