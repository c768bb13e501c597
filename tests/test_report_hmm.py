"""The demo's hidden Markov model section (the earthquake counts)."""

from __future__ import annotations

import numpy as np
import pytest

from emkit.datasets import earthquakes
from emkit.hmm import PoissonHMM
from emkit.report import Section, SectionContext, build_sections
from emkit.report.section_hmm import REFERENCE_NEG_LOG_LIKELIHOOD


def test_hmm_section_shows_the_states_and_transitions() -> None:
    (section,) = build_sections(["hmm"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "hmm"
    assert len(section.figures) == 3 and section.seconds is not None and section.seconds > 0
    for fig in section.figures:
        assert fig.alt and fig.caption and fig.mime == "image/svg+xml"
        assert fig.data.startswith(b"<?xml") and fig.width_px > 100 and fig.height_px > 100
    (table,) = section.tables
    # refit independently: the page's numbers are the model's
    _, counts = earthquakes()
    model = PoissonHMM(
        2,
        startprob_init=[0.5, 0.5],
        transmat_init=[[0.9, 0.1], [0.1, 0.9]],
        lambdas_init=[[10.0], [30.0]],
        tol=1e-12,
        max_iter=1000,
    ).fit(counts)
    rates = [row[1] for row in table.rows]
    np.testing.assert_allclose(rates, model.lambdas_[:, 0])
    assert sum(int(row[4]) for row in table.rows) == 107
    assert -model.log_likelihood_ == pytest.approx(REFERENCE_NEG_LOG_LIKELIHOOD, abs=5e-5)
    assert f"-log L = {-model.log_likelihood_:.4f}" in section.estimated
