"""Your own model on emkit's public API: the genetic linkage example of Dempster, Laird & Rubin.

DLR (1977, JRSS-B 39:1-38, section 1) revisit Rao's data: 197 animals fall into four phenotype
cells with probabilities ``(1/2 + t/4, (1 - t)/4, (1 - t)/4, t/4)`` and counts
``(125, 18, 20, 34)``. The likelihood in ``t`` has no closed-form maximiser, but it becomes easy
if the first cell is split into two hidden sub-cells with probabilities ``1/2`` and ``t/4``.

As an emkit model, each animal has a hidden "source" ``z``::

    z = 0  the constant part (probability 1/2),   possible only in cell 0
    z = 1  a t/4 part,                            possible in cells 0 and 3
    z = 2  a (1 - t)/4 part,                      possible in cells 1 and 2

The complete-data MLE is ``t = n_1 / (n_1 + n_2)`` where ``n_k`` counts animals with ``z = k``;
EM replaces the counts by their expectations. Everything else (the loop, convergence, hard EM,
restarts, predict, save/load) comes from the engine. The whole model is the class below::

    >>> import numpy as np
    >>> from emkit.examples.genetic_linkage import GeneticLinkage
    >>> cells = np.arange(4).reshape(-1, 1)
    >>> m = GeneticLinkage(tol=1e-12).fit(cells, sample_weight=[125, 18, 20, 34])
    >>> round(float(m.theta_), 9)
    0.626821498
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.utils.validation import validate_data

from emkit import Batch, DataError, MixtureEstimator, Stats, StepContext

__all__ = ["GeneticLinkage", "LinkageParams"]


@dataclass(frozen=True)
class LinkageParams:
    """The single parameter ``theta`` (a 0-d array)."""

    theta: np.ndarray


class GeneticLinkage(MixtureEstimator[LinkageParams]):
    """Rao's genetic linkage model, fitted by EM.

    Parameters
    ----------
    theta_init : float, default=0.5
        Starting value (DLR start at 0.5); ``n_init > 1`` draws further starts in (0, 1).
    tol, max_iter, n_init, hard, random_state, warm_start
        As for every emkit estimator.

    Fit on ``X`` of shape (n, 1) holding cell indices 0..3, one row per animal or one row per
    cell with its count as ``sample_weight``.
    """

    params_type = LinkageParams
    supports_online: ClassVar[bool] = True  # counts: stepwise EM applies as is
    n_components = 3  # the hidden source z of each animal

    def __init__(
        self,
        theta_init: float = 0.5,
        *,
        tol: float = 1e-10,
        max_iter: int = 100,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.theta_init = theta_init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    def _validate_data(self, X: Any, *, reset: bool, **_: Any) -> tuple[np.ndarray, ...]:
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        if X.shape[1] != 1 or np.any(~np.isin(X, [0, 1, 2, 3])):
            raise DataError("GeneticLinkage needs one column of cell indices 0, 1, 2 or 3")
        return (X[:, 0].astype(np.intp),)

    def _check_params(self) -> None:
        super()._check_params()
        if not 0.0 < self.theta_init < 1.0:
            raise DataError(f"theta_init must lie in (0, 1), got {self.theta_init!r}")

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> LinkageParams:
        return LinkageParams(
            theta=np.asarray(self.theta_init if self.n_init == 1 else rng.uniform(0.05, 0.95))
        )

    def log_joint(self, batch: Batch, params: LinkageParams) -> np.ndarray:
        t = float(params.theta)
        with np.errstate(divide="ignore"):
            # rows: cells 0..3; columns: z = 0, 1, 2 (log 0 = -inf marks impossible sources)
            table = np.log(
                [
                    [0.5, t / 4, 0.0],
                    [0.0, 0.0, (1 - t) / 4],
                    [0.0, 0.0, (1 - t) / 4],
                    [0.0, t / 4, 0.0],
                ]
            )
        return table[batch.X]

    def accumulate(self, batch: Batch, resp: np.ndarray, params: LinkageParams) -> Stats:
        return Stats(n=resp.sum(axis=0))

    def m_step(self, stats: Stats, params: LinkageParams, ctx: StepContext) -> LinkageParams:
        n = stats["n"]
        return LinkageParams(theta=np.asarray(n[1] / (n[1] + n[2])))

    def _n_parameters(self) -> int:
        return 1
