"""``emkit motif``: find sequence motifs in a FASTA file (MEME's OOPS / ZOOPS models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from emkit._files import atomic_write
from emkit.cli._app import UsageError, app, console, emit_json, fit_progress

__all__ = ["motif"]


def _write_logos(motifs: list[Any], path: Path) -> None:
    import io

    from emkit.motif.logo import _require_matplotlib, plot_logo

    matplotlib = _require_matplotlib()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(motifs),
        1,
        figsize=(max(4.0, 0.45 * motifs[0].width + 1.0), 2.6 * len(motifs)),
        squeeze=False,
    )
    for m, ax in zip(motifs, axes[:, 0], strict=True):
        plot_logo(m, ax=ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fmt = path.suffix.lstrip(".").lower() or "png"
    try:
        fig.savefig(buffer, format=fmt, dpi=120)
    except ValueError as exc:
        raise UsageError(f"cannot write a logo as {path.name!r}: {exc}") from None
    finally:
        plt.close(fig)
    atomic_write(path, buffer.getvalue())


@app.command()
def motif(
    fasta: Path = typer.Argument(..., help="FASTA file of the sequences."),
    width: int = typer.Option(20, "-w", "--width", help="Motif width (>= 2)."),
    model: str = typer.Option(
        "zoops", "--model", help="oops (one site per sequence) or zoops (zero or one)."
    ),
    nmotifs: int = typer.Option(
        1, "--nmotifs", help="Number of motifs to find, one after another."
    ),
    revcomp: bool = typer.Option(False, "--revcomp", help="Search both strands (DNA)."),
    alphabet: str = typer.Option(
        "dna", "--alphabet", help="dna, protein, or the letters of a custom alphabet."
    ),
    background_order: int = typer.Option(
        0, "--background-order", help="Order of the background Markov chain."
    ),
    pseudocount: float = typer.Option(
        0.1, "--pseudocount", help="Dirichlet pseudocount per motif column."
    ),
    n_starts: int = typer.Option(1000, "--n-starts", help="Substrings tried as starting points."),
    seed: int | None = typer.Option(
        None, "--seed", help="Random seed for the starting-point sample."
    ),
    max_iter: int = typer.Option(200, "--max-iter", help="Maximum EM iterations per motif."),
    tol: float = typer.Option(
        1e-6, "--tol", help="Tolerance on the change of mean log-likelihood."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the motifs and sites as JSON here."
    ),
    meme: Path | None = typer.Option(
        None, "--meme", help="Write the motifs in MEME's minimal motif format here."
    ),
    logo: Path | None = typer.Option(
        None,
        "--logo",
        help="Draw the motifs' sequence logos here (PNG, SVG, PDF; needs matplotlib).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the motifs and sites as JSON on stdout."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr."),
) -> None:
    """Find motifs by EM (MEME's OOPS / ZOOPS models) and report PWMs, consensus and sites."""
    from emkit.motif import find_motifs, read_fasta
    from emkit.motif.output import to_json, to_meme

    if model not in ("oops", "zoops"):
        raise UsageError(f"--model must be oops or zoops, got {model!r}")
    if width < 2:
        raise UsageError(f"--width must be at least 2, got {width}")
    if nmotifs < 1:
        raise UsageError(f"--nmotifs must be at least 1, got {nmotifs}")
    if logo is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--logo needs matplotlib: pip install 'emkit[plot]'") from None
    records = read_fasta(fasta)
    with fit_progress("motif", max_iter, progress) as callback:
        motifs = find_motifs(
            records,
            width,
            nmotifs=nmotifs,
            model=model,
            revcomp=revcomp,
            alphabet=alphabet,
            background_order=background_order,
            pseudocount=pseudocount,
            n_starts=n_starts,
            max_iter=max_iter,
            tol=tol,
            random_state=seed,
            callbacks=[callback],
        )
    payload = {"fasta": str(fasta), "n_sequences": len(records), **to_json(motifs)}
    if meme is not None:
        atomic_write(meme, to_meme(motifs).encode())
    if logo is not None:
        _write_logos(motifs, logo)
    if output is not None:
        emit_json(payload, output)
    if as_json:
        emit_json(payload, None)
        return
    for m in motifs:
        console.print(
            f"[bold]MOTIF {m.number}[/bold] {m.consensus}  width={m.width}  sites={len(m.sites)}"
            f"  llr={m.llr:.1f}  E-value={m.evalue:.2g}  log-likelihood={m.log_likelihood:.4f}",
            highlight=False,
        )
        table = Table(show_header=True, header_style="bold")
        for name, justify in [
            ("sequence", "left"),
            ("start", "right"),
            ("strand", "center"),
            ("posterior", "right"),
            ("p-value", "right"),
            ("site", "left"),
        ]:
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for s in m.sites:
            table.add_row(
                s.sequence,
                str(s.start + 1),
                s.strand,
                f"{s.posterior:.3f}",
                f"{s.pvalue:.2e}",
                s.site,
            )
        console.print(table)
