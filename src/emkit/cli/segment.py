"""``emkit segment``: foreground/background segmentation of an image file by EM."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit.cli._app import UsageError, app, console, emit_json

if TYPE_CHECKING:
    pass

__all__ = ["parse_rect", "segment"]


def parse_rect(text: str) -> tuple[int, int, int, int]:
    """``"x,y,w,h"`` -> four integers (UsageError naming the problem otherwise)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise UsageError(f"--rect must be four integers x,y,width,height, got {text!r}")
    return values[0], values[1], values[2], values[3]


@app.command()
def segment(
    image: Path = typer.Argument(..., help="Image file (PNG, JPEG, anything Pillow reads)."),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Write the mask here (PNG: 255 = foreground)."
    ),
    rect: str | None = typer.Option(
        None,
        "--rect",
        help="Box around the object, x,y,width,height in pixels; outside it is background.",
    ),
    hint: Path | None = typer.Option(
        None,
        "--hint",
        help="Hint image of the same size: black = background, white = foreground, "
        "anything else unknown.",
    ),
    overlay: Path | None = typer.Option(
        None, "--overlay", help="Also write the image with the background dimmed (PNG)."
    ),
    proba: Path | None = typer.Option(
        None, "--proba", help="Also write the foreground probability map (8-bit grey PNG)."
    ),
    mrf: str = typer.Option(
        "graphcut", "--mrf", help="Spatial coherence: graphcut, meanfield or none."
    ),
    components: int = typer.Option(5, "-k", "--components", help="Gaussians per class."),
    smoothness: float = typer.Option(50.0, "--smoothness", help="Strength of the MRF prior."),
    max_side: int = typer.Option(200, "--max-side", help="EM runs on the image reduced to this."),
    hard: bool = typer.Option(False, "--hard", help="Hard (classification) EM."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the starting point."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Split IMAGE into foreground and background (GrabCut-style with --rect, else unsupervised).

    Without --rect or --hint the colours are split into two classes and the class covering more
    than half of the image border is the background.
    """
    import numpy as np

    if mrf not in ("graphcut", "meanfield", "none"):
        raise UsageError(f"--mrf must be graphcut, meanfield or none, got {mrf!r}")
    try:
        from emkit.image import Segmenter, read_image, write_mask, write_overlay
        from emkit.image import write_probability as write_proba

        img = read_image(image)
        hint_array = None
        if hint is not None:
            h = read_image(hint)
            grey = np.rint(h.mean(axis=2) * 255)
            hint_array = np.where(grey == 0, 0, np.where(grey == 255, 1, -1))
        segmenter = Segmenter(
            components,
            mrf=None if mrf == "none" else mrf,
            smoothness=smoothness,
            max_side=max_side,
            hard=hard,
            random_state=seed,
        )
        result = segmenter.segment(
            img, rect=None if rect is None else parse_rect(rect), hint=hint_array
        )
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    write_mask(output, result.mask)
    if proba is not None:
        write_proba(proba, result.probability)
    if overlay is not None:
        write_overlay(overlay, img, result.mask)
    summary: dict[str, Any] = {
        "image": str(image),
        "height": int(img.shape[0]),
        "width": int(img.shape[1]),
        "foreground_fraction": float(result.mask.mean()),
        "n_iter": int(result.model.n_iter_),
        "converged": result.converged,
        "scale": result.scale,
        "swapped_by_border_rule": result.swapped,
        "mask": str(output),
    }
    if as_json:
        emit_json(summary, None)
    else:
        console.print(
            f"{image}: {100 * summary['foreground_fraction']:.1f}% foreground "
            f"({summary['n_iter']} EM iterations) -> {output}"
        )
