"""Writing motifs: MEME's minimal motif format (read by FIMO, Tomtom, MAST ...) and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emkit.motif.meme import Motif

__all__ = ["to_json", "to_meme"]


def to_meme(motifs: Sequence[Motif], *, version: int = 4) -> str:
    """The motifs in MEME's minimal motif format.

    Parameters
    ----------
    motifs : sequence of Motif
        Motifs found on the same sequences (same alphabet and background).

    Returns
    -------
    str
        The text of a ``.meme`` file.

    Notes
    -----
    Format: https://meme-suite.org/meme/doc/meme-format.html. Each motif is named by its
    number and consensus; ``nsites`` and ``E`` are the number of sites and the E-value.
    """
    if not motifs:
        raise ValueError("no motifs to write")
    first = motifs[0]
    lines = [f"MEME version {version}", "", f"ALPHABET= {first.alphabet}", ""]
    if first.alphabet == "ACGT":
        lines += [f"strands: {first.strands}", ""]
    lines.append("Background letter frequencies")
    lines.append(
        " ".join(f"{a} {p:.3f}" for a, p in zip(first.alphabet, first.background, strict=True))
    )
    lines.append("")
    for m in motifs:
        lines.append(f"MOTIF {m.number} {m.consensus}")
        lines.append(
            f"letter-probability matrix: alength= {len(m.alphabet)} w= {m.width} "
            f"nsites= {len(m.sites)} E= {_evalue_text(m.log10_evalue)}"
        )
        lines.extend(" " + "  ".join(f"{p:.6f}" for p in row) for row in np.asarray(m.pwm))
        lines.append("")
    return "\n".join(lines)


def _evalue_text(log10_e: float) -> str:
    exponent = int(np.floor(log10_e))
    mantissa = 10.0 ** (log10_e - exponent)
    if mantissa >= 9.95:
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f}e{exponent:+04d}"


def to_json(motifs: Sequence[Motif]) -> dict[str, Any]:
    """The motifs and their sites as a JSON-ready dict (site starts are 1-based)."""
    return {"motifs": [m.to_dict() for m in motifs]}
