"""Figures for Gaussian mixtures (matplotlib, an optional extra: ``pip install 'emkit[plot]'``).

- :func:`plot_responsibilities`: the course's Bishop figure (PRML fig. 9.8): a 2-D scatter whose
  colours mix the components' colours by the responsibilities, with each component's
  1- and 2-sigma ellipses;
- :func:`plot_log_likelihood`: the objective per iteration;
- :func:`plot_bic`: BIC against the number of components, one line per covariance type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.models.gaussian import GaussianMixture
from emkit.models.selection import SelectionResult

__all__ = ["plot_bic", "plot_log_likelihood", "plot_responsibilities"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "emkit's plots need matplotlib: pip install 'emkit[plot]' (or pip install matplotlib)"
        ) from None
    return plt


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=(6, 5))
    return ax


def _full_covariances(model: GaussianMixture) -> np.ndarray:
    K, d = model.means_.shape
    cov = np.asarray(model.covariances_)
    if model.covariance_type == "full":
        return cov
    if model.covariance_type == "tied":
        return np.broadcast_to(cov, (K, d, d))
    if model.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return cov[:, None, None] * np.eye(d)


def plot_responsibilities(
    model: GaussianMixture, X: Any, *, features: tuple[int, int] = (0, 1), ax: Any = None
) -> Any:
    """Scatter of two features coloured by the responsibilities, with component ellipses.

    Parameters
    ----------
    model : GaussianMixture
        A fitted model.
    X : array-like of shape (n_samples, n_features)
    features : (int, int), default=(0, 1)
        Which two features to draw.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.patches import Ellipse

    ax = _axes(ax)
    X = np.asarray(X, dtype=np.float64)
    i, j = features
    resp = model.predict_proba(X)
    cmap = _pyplot().get_cmap("tab10")
    palette = np.array([cmap(k % 10)[:3] for k in range(model.n_components)])
    ax.scatter(X[:, i], X[:, j], c=np.clip(resp @ palette, 0, 1), s=12, linewidths=0)
    covs = _full_covariances(model)[:, [i, j]][:, :, [i, j]]
    for k in range(model.n_components):
        vals, vecs = np.linalg.eigh(covs[k])
        angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
        for n_sigma in (1.0, 2.0):
            width, height = 2 * n_sigma * np.sqrt(np.maximum(vals[::-1], 0.0))
            ax.add_patch(
                Ellipse(
                    (model.means_[k, i], model.means_[k, j]),
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    color=palette[k],
                    lw=2.0 / n_sigma,
                )
            )
        ax.plot(model.means_[k, i], model.means_[k, j], "x", color="k")
    ax.set_xlabel(f"feature {i}")
    ax.set_ylabel(f"feature {j}")
    ax.set_title(f"{model.n_components} components ({model.covariance_type})")
    return ax


def plot_log_likelihood(model: GaussianMixture, *, ax: Any = None) -> Any:
    """The log-likelihood after each iteration (iteration 0: the starting point)."""
    ax = _axes(ax)
    history = model.log_likelihood_history_
    ax.plot(np.arange(len(history)), history, "o-", ms=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("log-likelihood")
    ax.set_title("EM progress")
    return ax


def plot_bic(result: SelectionResult, *, ax: Any = None) -> Any:
    """BIC against the number of components, one line per covariance type; best marked."""
    ax = _axes(ax)
    ks, types, bic = result.bic_matrix()
    for t, column in zip(types, bic.T, strict=True):
        ax.plot(ks, column, "o-", label=t, ms=4)
    best = result.best_bic
    ax.plot([best.n_components], [np.nanmin(bic)], "k*", ms=14, label="best")
    ax.set_xlabel("number of components")
    ax.set_ylabel("BIC (lower is better)")
    ax.legend()
    return ax
