"""The demo's motif section: runs where :mod:`emkit.motif` is installed (after the motif merge)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from emkit.report import Section, SectionContext, build_sections
from emkit.report.section_motif import CONSENSUS

MOTIF = pytest.importorskip(
    "emkit.motif", reason="emkit.motif is not in this build: nothing to show"
)


def test_motif_section_finds_the_planted_motif() -> None:
    (section,) = build_sections(["motif"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "motif"
    assert len(section.figures) == 2 and section.seconds is not None
    (table,) = section.tables
    rows = {row[0]: row[1:] for row in table.rows}
    planted, found = rows["consensus"]
    assert planted == CONSENSUS
    # the found consensus agrees with the planted one at nearly every position
    assert sum(a == b for a, b in zip(str(found), CONSENSUS, strict=True)) >= len(CONSENSUS) - 2
    n_planted, n_found = rows["sequences with a site"]
    exact = rows["site start exactly right"][1]
    assert int(exact) >= 0.8 * int(n_planted) and abs(int(n_found) - int(n_planted)) <= 2
    assert f"planted {CONSENSUS}" in section.estimated


def test_report_of_a_saved_motif_model(tmp_path: Path) -> None:
    from emkit.report.fit import fit_page, load_fit, model_report_hook
    from emkit.report.html import render_page

    # through importlib: emkit.motif is a first-party package only once it is merged
    simulate = importlib.import_module("emkit.motif.simulate")
    pwm = simulate.conserved_pwm("TTGACA", 0.9)
    data = simulate.planted_motif_sequences(12, 60, pwm, random_state=1)
    (motif,) = MOTIF.find_motifs(data.sequences, 6, model="oops", random_state=0)
    assert motif.estimator is not None
    motif.estimator.save(tmp_path / "motif")
    model = load_fit(tmp_path / "motif.json")
    assert model_report_hook(model) is not None
    html = render_page(fit_page(model, "motif.json"))
    assert '<section id="motif">' in html and "consensus " + motif.consensus in html
    assert html.count("data:image/svg+xml;base64,") == 2  # objective + logo
    np.testing.assert_allclose(model.pwm_, motif.pwm)
