"""The demo's motif section: runs where :mod:`emkit.motif` is installed (after the motif merge)."""

from __future__ import annotations

import pytest

from emkit.report import Section, SectionContext, build_sections
from emkit.report.section_motif import CONSENSUS

pytest.importorskip("emkit.motif", reason="emkit.motif is not in this build: nothing to show")


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
