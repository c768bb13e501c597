"""CRP binding sites (Lawrence & Reilly 1990; Bailey & Elkan 1994) against MEME 4.10.1's answer.

Data: ../shared/data/motif/crp0.s (18 E. coli sequences of 105 bp, 24 known 22-bp CRP sites),
and MEME's own output on it (ZOOPS, forward strand): motif 1 of width 19 has one site in 17 of
the 18 sequences, llr = 175 and E-value 4.1e-9.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from emkit.motif import Motif, find_motifs, read_fasta

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "motif"


@pytest.fixture(scope="module")
def crp() -> tuple[list, dict[str, list[int]]]:
    path = DATA / "crp0.s"
    if not path.exists():
        pytest.skip(f"shared data absent: {path}")
    known: dict[str, list[int]] = {}
    with open(DATA / "crp0_known_sites.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            known.setdefault(row["seq_name"], []).append(int(row["site_start_1based"]) - 1)
    return read_fasta(path), known


def _hits(motif: Motif, known: dict[str, list[int]]) -> int:
    return sum(
        any(s.start < k + 22 and k < s.start + motif.width for k in known[s.sequence])
        for s in motif.sites
    )


@pytest.mark.parametrize("width", [16, 19, 20, 22])
def test_zoops_finds_the_crp_sites(crp: tuple[list, dict[str, list[int]]], width: int) -> None:
    records, known = crp
    motif = find_motifs(records, width, model="zoops", random_state=0)[0]
    assert _hits(motif, known) >= 16
    assert re.search("TGTGA.*TCACA", motif.consensus), motif.consensus
    assert all(s.strand == "+" for s in motif.sites)


def test_agrees_with_meme_at_width_19(crp: tuple[list, dict[str, list[int]]]) -> None:
    records, _known = crp
    text = (DATA / "meme_4.10.1_crp0_zoops_nmotifs5.txt").read_text()
    block = text.split("Motif 1 sites sorted by position p-value")[1].split("block diagrams")[0]
    meme_sites = {
        m.group(1): int(m.group(2)) - 1
        for m in re.finditer(r"^(\w+)\s+(\d+)\s+[\d.e+-]+\s", block, flags=re.MULTILINE)
    }
    assert len(meme_sites) == 17
    motif = find_motifs(records, 19, model="zoops", random_state=0)[0]
    ours = {s.sequence: s.start for s in motif.sites}
    same = sum(ours.get(name) == start for name, start in meme_sites.items())
    assert len(ours) == 17 and same >= 14, (ours, meme_sites)
    assert motif.llr == pytest.approx(175, rel=0.05)  # MEME: llr = 175
    assert abs(motif.log10_evalue - np.log10(4.1e-9)) < 1.5  # MEME: E-value = 4.1e-009
    assert motif.consensus.startswith("TGTGA") and "TCACA" in motif.consensus


def test_second_motif_and_meme_file(crp: tuple[list, dict[str, list[int]]], tmp_path: Path) -> None:
    records, known = crp
    motifs = find_motifs(records, 20, model="zoops", nmotifs=2, random_state=0)
    assert _hits(motifs[0], known) >= 16
    # the CRP sites are down-weighted: the second motif does not re-find them
    assert _hits(motifs[1], known) < 10
    assert motifs[1].log10_evalue > motifs[0].log10_evalue
