"""The course's worked examples as iteration tables: what ``emkit demo`` shows.

Each function fits a bundled example on the engine and records, through a callback, the
parameters (and posteriors) at every iteration, so the tables show EM at work step by step.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from emkit.data import Batch
from emkit.datasets import genetic_linkage, three_coins, two_coins
from emkit.engine import IterationInfo, StepContext
from emkit.exceptions import ConvergenceWarning
from emkit.models import BernoulliMixture, BinomialMixture

__all__ = ["IterationTable", "dlr_linkage_table", "three_coins_table", "two_coins_table"]


@dataclass
class IterationTable:
    """Rows of an iteration table with their column names and a caption."""

    title: str
    columns: list[str]
    rows: list[list[float]] = field(default_factory=list)
    caption: str = ""
    digits: int = 4


def two_coins_table(hard: bool = False, n_iter: int = 10) -> IterationTable:
    """Do & Batzoglou (2008): posteriors P(coin A | set) and theta per iteration.

    Row ``t`` holds the posteriors computed in E-step ``t + 1`` (at the parameters after ``t``
    M-steps) and those parameters.
    """
    data = two_coins()
    model = BinomialMixture(
        2,
        n_trials=data.n_trials,
        fixed_weights=data.weights_init,
        theta_init=data.theta_init,
        max_iter=n_iter,
        tol=0.0,
        hard=hard,
    )
    ctx = StepContext(hard=hard)
    table = IterationTable(
        title=f"Two coins, {'hard' if hard else 'soft'} EM (Do & Batzoglou 2008)",
        columns=["iter", *[f"{int(h)}H" for h in data.X[:, 0]], "θ_A", "θ_B", "log-lik"],
        caption="columns 5H..7H: P(coin A | set with that many heads of 10); start θ_A = 0.6, "
        f"θ_B = 0.5{'; log-lik is the classification log-likelihood' if hard else ''}",
    )

    batch = Batch((data.X, np.full_like(data.X, data.n_trials)), np.ones(len(data.X)))

    def record(info: IterationInfo[object]) -> None:
        resp, _ = ctx.posterior(model.log_joint(batch, info.params))  # type: ignore[arg-type]
        theta = info.params.theta.ravel()  # type: ignore[attr-defined]
        table.rows.append([info.iteration, *resp[:, 0], *theta, info.log_likelihood])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data.X, callbacks=[record])
    return table


def three_coins_table(start: tuple[float, float, float] = (0.4, 0.6, 0.7)) -> IterationTable:
    """Li Hang example 9.1: (pi, p, q) per iteration; the fixed point is reached in one step."""
    data = three_coins(start)
    model = BernoulliMixture(
        2, theta_init=data.theta_init, weights_init=data.weights_init, max_iter=3, tol=0.0
    )
    table = IterationTable(
        title=f"Three coins from (pi, p, q) = {start} (Li Hang, example 9.1)",
        columns=["iter", "pi", "p", "q", "log-lik"],
        caption="y = 1,1,0,1,0,0,1,0,1,1; not identifiable: iteration 2 equals iteration 1",
    )

    def record(info: IterationInfo[object]) -> None:
        p = info.params
        w, th = p.weights, p.theta.ravel()  # type: ignore[attr-defined]
        table.rows.append([info.iteration, w[0], th[0], th[1], info.log_likelihood])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data.X, callbacks=[record])
    return table


def dlr_linkage_table(n_iter: int = 8) -> IterationTable:
    """Dempster, Laird & Rubin (1977), Table 1: theta per iteration and the convergence rate."""
    from emkit.examples.genetic_linkage import GeneticLinkage

    cells, counts = genetic_linkage()
    mle = (15 + np.sqrt(15**2 + 4 * 197 * 68)) / (2 * 197)
    table = IterationTable(
        title="Genetic linkage (Dempster, Laird & Rubin 1977, Table 1)",
        columns=["iter", "θ", "θ - θ*", "ratio", "log-lik"],
        caption=f"counts (125, 18, 20, 34); θ* = {mle:.9f}",
        digits=9,
    )
    prev: list[float] = []

    def record(info: IterationInfo[object]) -> None:
        t = float(info.params.theta)  # type: ignore[attr-defined]
        err = t - mle
        ratio = err / prev[-1] if prev else float("nan")
        prev.append(err)
        table.rows.append([info.iteration, t, err, ratio, info.log_likelihood])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GeneticLinkage(max_iter=n_iter, tol=0.0).fit(
            cells, sample_weight=counts, callbacks=[record]
        )
    return table
