"""The ready-made model figures (emkit.report.model_figures) on synthetic arrays."""

from __future__ import annotations

import numpy as np
import pytest

from emkit.report import model_figures as mf
from emkit.report.model_figures import _full_covariances
from tests._gallery import gallery_page


def test_every_model_figure_renders() -> None:
    page = gallery_page()
    (section,) = page.sections
    assert len(section.figures) == 7
    for fig in section.figures:
        assert fig.alt and fig.caption and fig.width_px > 100 and fig.height_px > 100
        if fig.mime == "image/svg+xml":
            assert fig.data.startswith(b"<?xml")
        else:
            assert fig.mime == "image/png" and fig.data.startswith(b"\x89PNG")
    assert section.figures[3].mime == "image/png"  # the segmentation is an image


def test_figures_are_reproducible() -> None:
    pwm = np.array([[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0]])
    assert mf.sequence_logo_figure(pwm).data == mf.sequence_logo_figure(pwm).data


@pytest.mark.parametrize(
    ("cov", "kind", "expected"),
    [
        (np.array([[[2.0, 0.5], [0.5, 1.0]]] * 2), None, [[2.0, 0.5], [0.5, 1.0]]),
        (np.array([[2.0, 1.0], [3.0, 4.0]]), "diag", [[2.0, 0.0], [0.0, 1.0]]),
        (np.array([[2.0, 1.0], [1.0, 4.0]]), "tied", [[2.0, 1.0], [1.0, 4.0]]),
        (np.array([2.0, 3.0]), None, [[2.0, 0.0], [0.0, 2.0]]),  # spherical (K,)
    ],
)
def test_covariance_forms(cov: np.ndarray, kind: str | None, expected: list[list[float]]) -> None:
    full = _full_covariances(cov, 2, 2, kind)
    assert full.shape == (2, 2, 2)
    np.testing.assert_allclose(full[0], expected)


def test_inferred_and_bad_covariances() -> None:
    assert _full_covariances(np.eye(2), 3, 2).shape == (3, 2, 2)  # (d, d): tied
    assert _full_covariances(np.ones((3, 2)), 3, 2).shape == (3, 2, 2)  # (K, d): diag
    with pytest.raises(ValueError, match="may be tied or diag: pass covariance_type"):
        _full_covariances(np.eye(2), 2, 2)
    with pytest.raises(ValueError, match=r"shape \(4,\) do not fit 3 components in 2 dim"):
        _full_covariances(np.ones(4), 3, 2)
    with pytest.raises(ValueError, match="as 'full'"):
        _full_covariances(np.ones(3), 3, 2, "full")


def test_segmentation_accepts_grey_and_8_bit_images() -> None:
    labels = np.zeros((8, 12), dtype=int)
    labels[:, 6:] = 1
    grey = np.where(labels == 1, 200, 30).astype(np.uint8)
    assert mf.segmentation_figure(grey, labels).mime == "image/png"
    assert mf.segmentation_figure(grey / 255.0, labels).mime == "image/png"
