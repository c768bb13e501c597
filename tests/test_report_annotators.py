"""The demo's crowd-annotator section: the course's example, numbers from the model."""

from __future__ import annotations

import numpy as np
import pytest

from emkit.report import Section, SectionContext, build_sections

CROWD = pytest.importorskip("emkit.crowd", reason="emkit.crowd is not in this build")


def test_annotators_section_shows_whom_em_trusts() -> None:
    (section,) = build_sections(["annotators"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "annotators"
    assert len(section.figures) == 2 and section.seconds is not None and section.seconds > 0
    for fig in section.figures:
        assert fig.alt and fig.caption and fig.width_px > 100 and fig.height_px > 100
        assert fig.data.startswith(b"<?xml" if fig.mime == "image/svg+xml" else b"\x89PNG")
    workers, images = section.tables
    # the same fit, done here: the page shows its numbers
    answers, truth, good = CROWD.course_demo(random_state=0)
    model = CROWD.ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    np.testing.assert_allclose([row[2] for row in workers.rows], model.p_good_)
    assert [row[1] for row in workers.rows] == ["good" if w in good else "random" for w in range(5)]
    np.testing.assert_allclose([row[1] for row in images.rows], truth)
    np.testing.assert_allclose([row[2] for row in images.rows], model.mu_)
    # EM finds the course's good annotators and beats the plain mean
    assert [int(w) for w in np.flatnonzero(model.p_good_ >= 0.5)] == good.tolist()
    mae_em = np.mean(np.abs(model.mu_ - truth))
    mae_mean = np.mean(np.abs(np.array([row[3] for row in images.rows]) - truth))
    assert mae_em < mae_mean
    assert "trusted 0, 1, 3; in truth good 0, 1, 3" in section.estimated
    assert f"mean absolute error {mae_em:.3f} against {mae_mean:.3f}" in section.estimated
    assert f"π = {float(model.pi_):.2f}" in section.estimated
    assert f"after {model.n_iter_} iterations" in section.estimated
