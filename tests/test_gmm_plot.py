"""The Gaussian-mixture figures draw what they say (matplotlib's Agg backend, no display)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from emkit.datasets import old_faithful
from emkit.models import GaussianMixture
from emkit.models.gaussian_plot import (
    plot_bic,
    plot_log_likelihood,
    plot_responsibilities,
)
from emkit.models.selection import select_gaussian_mixture


@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical"])
def test_responsibility_scatter_with_ellipses(cov: str) -> None:
    X, _ = old_faithful()
    gm = GaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
    ax = plot_responsibilities(gm, X)
    assert len(ax.collections[0].get_offsets()) == len(X)
    assert len(ax.patches) == 2 * 2  # 1- and 2-sigma ellipse per component
    centres = sorted(p.center for p in ax.patches)
    np.testing.assert_allclose(sorted(map(tuple, gm.means_)), centres[::2])
    plt.close("all")


def test_log_likelihood_and_bic() -> None:
    X, _ = old_faithful()
    gm = GaussianMixture(2, random_state=0, tol=1e-8).fit(X)
    ax = plot_log_likelihood(gm)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), gm.log_likelihood_history_)
    result = select_gaussian_mixture(X, [1, 2, 3], ["full", "diag"], random_state=0)
    ax = plot_bic(result)
    assert len(ax.lines) == 3  # two types and the best marker
    plt.close("all")
