"""Motif finding by EM: MEME's OOPS and ZOOPS models of Bailey & Elkan (1994).

- :mod:`emkit.motif.fasta`: alphabets, a FASTA reader, the padded integer encoding;
- :class:`MotifEM`: one motif on the EM engine (PWM, background, OOPS/ZOOPS, both strands);
- :func:`find_motifs`: MEME's starting-point search and several motifs by down-weighting;
- :mod:`emkit.motif.output`: MEME's minimal motif format and JSON;
- :func:`emkit.motif.logo.plot_logo`: a sequence logo (needs matplotlib, the ``plot`` extra).

Example
-------
>>> from emkit.motif import find_motifs, read_fasta      # doctest: +SKIP
>>> motifs = find_motifs(read_fasta("crp0.s"), width=20, model="zoops")  # doctest: +SKIP
>>> motifs[0].consensus                                  # doctest: +SKIP
"""

from emkit.motif.fasta import (
    DNA,
    PROTEIN,
    Alphabet,
    FastaRecord,
    decode,
    encode_sequences,
    get_alphabet,
    read_fasta,
)
from emkit.motif.meme import Motif, Site, find_motifs
from emkit.motif.model import MotifEM, MotifParams

__all__ = [
    "DNA",
    "PROTEIN",
    "Alphabet",
    "FastaRecord",
    "Motif",
    "MotifEM",
    "MotifParams",
    "Site",
    "decode",
    "encode_sequences",
    "find_motifs",
    "get_alphabet",
    "read_fasta",
]
