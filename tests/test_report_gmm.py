"""The demo's Gaussian-mixture and k-means sections on Old Faithful."""

from __future__ import annotations

import numpy as np
import pytest

from emkit.report import Section, SectionContext, build_sections

GAUSSIAN = pytest.importorskip("emkit.models.gaussian", reason="no GaussianMixture in this build")


def _figures_are_images(section: Section) -> None:
    for fig in section.figures:
        assert fig.alt and fig.caption and fig.width_px > 100 and fig.height_px > 100
        assert fig.data.startswith(b"<?xml" if fig.mime == "image/svg+xml" else b"\x89PNG")


def test_snapshot_iterations() -> None:
    from emkit.report.section_gmm import snapshot_iterations

    assert snapshot_iterations([-5.0]) == [0]
    assert snapshot_iterations([-5.0, -4.0, -3.9]) == [0, 1, 2]
    # a slow start, a jump at 5-6, a flat end: the picks sit on the climb
    history = [-100, -99.9, -99.8, -99.7, -99.6, -60, -20, -10, -10, -10]
    assert snapshot_iterations(history) == [0, 5, 6, 9]
    assert snapshot_iterations([-1.0] * 6) == [0, 1, 2, 5]  # nothing climbs: early ones


def test_gmm_section_reaches_the_known_maximum() -> None:
    from emkit.datasets import old_faithful
    from emkit.models import GaussianMixture
    from emkit.report.section_gmm import REFERENCE_LOG_LIKELIHOOD

    (section,) = build_sections(["gmm"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "gmm"
    assert len(section.figures) == 2 and section.seconds is not None
    _figures_are_images(section)
    X, _ = old_faithful()
    model = GaussianMixture(
        2,
        covariance_type="full",
        init="random",
        n_init=1,
        tol=1e-8,
        max_iter=500,
        random_state=0,
    ).fit(X)
    assert model.log_likelihood_ == pytest.approx(REFERENCE_LOG_LIKELIHOOD, abs=1e-3)
    assert f"log-likelihood {model.log_likelihood_:.4f} after {model.n_iter_}" in (
        section.estimated
    )
    order = np.argsort(model.means_[:, 0])
    (table,) = section.tables
    np.testing.assert_allclose([row[1] for row in table.rows], model.weights_[order])
    np.testing.assert_allclose([row[2:4] for row in table.rows], model.means_[order])
    assert "272 eruptions" in section.hidden


def test_kmeans_section_beside_soft_em() -> None:
    from emkit.datasets import old_faithful
    from emkit.models import GaussianMixture, KMeans

    (section,) = build_sections(["kmeans"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "kmeans"
    assert len(section.figures) == 1
    _figures_are_images(section)
    X, _ = old_faithful()
    km = KMeans(2, n_init=5, random_state=0).fit(X)
    (table,) = section.tables
    sizes = [row[1] for row in table.rows]
    assert sorted(sizes) == sorted(np.bincount(km.labels_).tolist()) and sum(sizes) == 272
    assert f"long cluster, inertia {km.inertia_:.1f}" in section.estimated
    gm = GaussianMixture(2, covariance_type="full", random_state=0).fit(X)
    resp = gm.predict_proba(X)
    same = float(np.mean(km.labels_ == resp.argmax(axis=1)))
    agreement = max(same, 1 - same)
    assert agreement > 0.9
    uncertain = int(np.sum(resp.max(axis=1) < 0.9))
    assert f"agrees for {agreement:.1%} of the eruptions and gives {uncertain} of them" in (
        section.estimated
    )
    np.testing.assert_allclose(sorted(row[3] for row in table.rows), sorted(resp.sum(axis=0)))
