"""The demo's image-segmentation section on a synthetic scene with a known mask."""

from __future__ import annotations

import numpy as np
import pytest

from emkit.report import Section, SectionContext, build_sections

IMAGE = pytest.importorskip("emkit.image", reason="emkit.image is not in this build")


def test_synthetic_scene() -> None:
    from emkit.report.section_segmentation import synthetic_scene

    image, mask, (x, y, w, h) = synthetic_scene(60, 80, random_state=1)
    assert image.shape == (60, 80, 3) and mask.shape == (60, 80)
    assert 0 <= image.min() and image.max() <= 1 and 0.1 < mask.mean() < 0.5
    inside = np.zeros_like(mask)
    inside[y : y + h, x : x + w] = True
    assert not np.any(mask & ~inside)  # the box holds the whole object


def test_segmentation_section_finds_the_object() -> None:
    from emkit.report.section_segmentation import synthetic_scene

    (section,) = build_sections(["segmentation"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "segmentation"
    (fig,) = section.figures
    assert fig.mime == "image/png" and fig.data.startswith(b"\x89PNG") and fig.alt
    image, truth, rect = synthetic_scene(90, 120, random_state=0)
    seg = IMAGE.Segmenter(n_components=3, mrf="meanfield", random_state=0).segment(image, rect=rect)
    error = float(np.mean(seg.mask != truth))
    assert error < 0.05
    (table,) = section.tables
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["foreground pixels"] == [int(truth.sum()), int(seg.mask.sum())]
    assert rows["error, whole image"][1] == f"{error:.2%}"
    assert f"{error:.2%} of the image wrong" in section.estimated
