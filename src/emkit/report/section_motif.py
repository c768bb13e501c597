"""The motif-finding section of the demo report (needs :mod:`emkit.motif`).

The data are simulated, so the page can compare what EM found with the truth: sequences of
random DNA, most holding one planted site drawn from a known matrix (the ZOOPS model: zero or
one site per sequence). Simulated with ``ctx.seed``: the same page every run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.report.blocks import Section, Table, stopwatch
from emkit.report.fit import register_model_report
from emkit.report.sections import SectionContext, register_section

__all__ = ["motif_section"]

#: The planted motif: a CRP-like palindrome (Lawrence & Reilly 1990's TGTGA...TCACA).
CONSENSUS = "TGTGATCTAGATCACA"


@register_section("motif", "Motif finding: the sequence logo", requires=("emkit.motif",))
def motif_section(ctx: SectionContext) -> Section:
    """MEME-style ZOOPS motif search on sequences with a planted site."""
    from emkit.motif import find_motifs
    from emkit.motif.fasta import encode_sequences, get_alphabet
    from emkit.motif.simulate import conserved_pwm, planted_motif_sequences
    from emkit.report import model_figures

    n_sequences, length = (15, 80) if ctx.quick else (30, 100)
    width = len(CONSENSUS)
    planted = planted_motif_sequences(
        n_sequences,
        length,
        conserved_pwm(CONSENSUS, 0.85),
        site_probability=0.85,
        random_state=ctx.seed,
    )
    ctx.status("searching starts and running EM")
    with stopwatch() as fit_time:
        (motif,) = find_motifs(planted.sequences, width, model="zoops", random_state=ctx.seed)
    ctx.status("drawing the logo")
    estimator = motif.estimator
    assert estimator is not None
    codes = encode_sequences(planted.sequences, get_alphabet("dna"))
    site_post, _ = estimator.site_posteriors(codes)
    found = np.full(n_sequences, -1)
    for site in motif.sites:
        found[site.index] = site.start
    has_site = planted.starts >= 0
    exact = int(np.sum(has_site & (found == planted.starts)))
    near = int(np.sum(has_site & (found >= 0) & (np.abs(found - planted.starts) <= 1)))
    false_sites = int(np.sum(~has_site & (found >= 0)))
    summary = Table(
        "Planted and found",
        ["", "planted", "found by EM"],
        [
            ["consensus", CONSENSUS, motif.consensus],
            ["sequences with a site", int(has_site.sum()), len(motif.sites)],
            ["site start exactly right", "", exact],
            ["site start within ±1", "", near],
            ["site reported where none was planted", "", false_sites],
            ["P(a sequence holds a site), γ", "0.85", f"{motif.gamma:.2f}"],
            ["log-likelihood ratio (nats)", "", f"{motif.llr:.1f}"],
            ["E-value", "", f"{motif.evalue:.2g}"],
        ],
        caption=f"{n_sequences} random DNA sequences of {length} letters; sites drawn from a "
        f"matrix giving each consensus letter probability 0.85.",
    )
    return Section(
        title="Motif finding: the sequence logo",
        hidden=f"Where each of {n_sequences} DNA sequences holds a site of an unknown motif of "
        f"width {width}, if it holds one (ZOOPS: zero or one site per sequence).",
        estimated=f"The motif's letter probabilities at each of its {width} positions: "
        f"consensus {motif.consensus} (planted {CONSENSUS}), sites reported in "
        f"{len(motif.sites)} sequences, the planted start found exactly in {exact} of the "
        f"{int(has_site.sum())} that hold one.",
        seconds=fit_time.seconds,
        figures=[
            model_figures.sequence_logo_figure(
                motif.pwm, motif.alphabet, title="Found by EM", reference=planted.pwm
            ),
            model_figures.site_posterior_figure(
                site_post[:, 0, :], true_starts=planted.starts, found_starts=found
            ),
        ],
        tables=[summary],
        notes=[
            "The search is MEME's (Bailey & Elkan 1994): every substring of the data seeds a "
            "start, the best after one EM iteration are refined, and EM runs to convergence "
            "from the winner. The time above includes that search."
        ],
    )


def _motif_report(model: Any) -> list[Section]:
    """``emkit report`` for a saved :class:`~emkit.motif.model.MotifEM`: its logo."""
    from emkit.report import model_figures

    pwm = np.asarray(model.pwm_)
    letters = model.alphabet_.letters
    consensus = "".join(letters[k] for k in pwm.argmax(axis=1))
    gamma = float(np.asarray(model.gamma_))
    return [
        Section(
            title="Motif",
            hidden="Where each sequence holds a site of the motif (if it holds one).",
            estimated=f"A motif of width {pwm.shape[0]}, consensus {consensus}; probability "
            f"that a sequence holds a site γ = {gamma:.3f}.",
            figures=[model_figures.sequence_logo_figure(pwm, letters, title="Motif logo")],
            key="motif",
        )
    ]


def _register_report_hook() -> None:
    try:
        from emkit.motif.model import MotifEM
    except ImportError:  # emkit.motif not in this build: nothing to register
        return
    register_model_report(MotifEM)(_motif_report)


_register_report_hook()
