"""Find the CRP binding-site motif in crp0.s as MEME does (ZOOPS, forward strand).

Run: ``python examples/motif_crp.py [path/to/crp0.s] [--logo crp.png]``

The data (Lawrence & Reilly 1990; 18 E. coli sequences of 105 bp) lie in ../shared/data/motif
beside the checkout; MEME 4.10.1 finds a width-19 motif TGTGA...TCACA with sites in 17 of the 18
sequences.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emkit.motif import find_motifs, read_fasta
from emkit.motif.output import to_meme

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "motif" / "crp0.s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fasta", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--width", type=int, default=19)
    parser.add_argument("--logo", type=Path, help="save the motif's sequence logo here")
    args = parser.parse_args()
    motifs = find_motifs(read_fasta(args.fasta), args.width, model="zoops", random_state=0)
    motif = motifs[0]
    print(to_meme(motifs))
    print(f"consensus {motif.consensus}, {len(motif.sites)} sites, E-value {motif.evalue:.2g}")
    for site in motif.sites:
        start = site.start + 1
        print(f"{site.sequence:>8} {start:>4} {site.strand} {site.posterior:.3f} {site.site}")
    if args.logo is not None:
        import matplotlib

        matplotlib.use("Agg")
        from emkit.motif.logo import plot_logo

        plot_logo(motif).savefig(args.logo, dpi=120)


if __name__ == "__main__":
    main()
