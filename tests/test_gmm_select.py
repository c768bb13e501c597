"""Model selection over K x covariance types (BIC and ICL), tested on known mixtures."""

from __future__ import annotations

import numpy as np
import pytest

from emkit import ParameterError
from emkit.models.selection import parse_range, select_gaussian_mixture


def test_recovers_k_and_full_covariances() -> None:
    rng = np.random.RandomState(0)
    covs = [[[1.0, 0.8], [0.8, 1.0]], [[1.0, -0.7], [-0.7, 1.0]], [[2.0, 0.9], [0.9, 0.6]]]
    means = [[0.0, 0.0], [6.0, 0.0], [3.0, 6.0]]
    X = np.vstack([rng.multivariate_normal(m, c, 300) for m, c in zip(means, covs, strict=True)])
    result = select_gaussian_mixture(X, range(1, 6), random_state=0)
    assert (result.best_bic.n_components, result.best_bic.covariance_type) == (3, "full")
    assert (result.best_icl.n_components, result.best_icl.covariance_type) == (3, "full")
    assert len(result.rows) == 5 * 4
    ks, _, bic = result.bic_matrix()
    assert ks == [1, 2, 3, 4, 5] and bic.shape == (5, 4)
    assert np.nanmin(bic) == pytest.approx(result.best_bic.bic(X))


def test_recovers_k_and_spherical_covariances() -> None:
    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(c, s, size=(250, 3)) for c, s in [(0, 1.0), (6, 0.5), (-6, 2.0)]])
    result = select_gaussian_mixture(X, range(1, 6), random_state=0)
    assert (result.best_bic.n_components, result.best_bic.covariance_type) == (3, "spherical")


def test_recovers_k_and_diagonal_covariances() -> None:
    rng = np.random.RandomState(2)
    scales = [(3.0, 0.3), (0.3, 3.0)]
    centres = [(0.0, 0.0), (10.0, 10.0)]
    X = np.vstack([rng.normal(c, s, size=(300, 2)) for c, s in zip(centres, scales, strict=True)])
    result = select_gaussian_mixture(X, range(1, 5), random_state=0)
    assert (result.best_bic.n_components, result.best_bic.covariance_type) == (2, "diag")


def test_table_and_weights() -> None:
    rng = np.random.RandomState(3)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (60, 2))])
    w = rng.randint(1, 3, size=len(X)).astype(float)
    weighted = select_gaussian_mixture(X, [1, 2], ["spherical"], sample_weight=w, random_state=0)
    repeated = select_gaussian_mixture(
        np.repeat(X, w.astype(int), axis=0), [1, 2], ["spherical"], random_state=0
    )
    for a, b in zip(weighted.rows, repeated.rows, strict=True):
        assert a.bic == pytest.approx(b.bic, rel=1e-6)
    table = weighted.table()
    assert table[0].keys() >= {"n_components", "covariance_type", "bic", "icl", "aic"}


def test_too_many_components_are_skipped() -> None:
    X = np.random.RandomState(0).randn(5, 2)
    result = select_gaussian_mixture(X, [1, 2, 8], ["spherical"], random_state=0)
    assert [s[0] for s in result.skipped] == [8]


def test_parse_range() -> None:
    assert parse_range("1-4") == [1, 2, 3, 4]
    assert parse_range("2,4, 8") == [2, 4, 8]
    assert parse_range("1-3,7") == [1, 2, 3, 7]
    with pytest.raises(ParameterError):
        parse_range("a-b")
    with pytest.raises(ParameterError):
        parse_range("0-2")


def test_bad_grid() -> None:
    with pytest.raises(ParameterError, match="unknown covariance type"):
        select_gaussian_mixture(np.zeros((5, 2)), [1], ["round"])
