"""``emkit segment``: foreground/background segmentation of image files by EM.

One image, or many in one process (paths, folders or glob patterns): a command line user with a
folder of images pays the start-up once, and one bad image is reported without stopping the
others.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit.cli._app import UsageError, app, console, emit_json, err_console
from emkit.exceptions import EmkitError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["expand_images", "parse_rect", "read_rect_file", "segment"]

#: file types a folder given as input contributes
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def parse_rect(text: str, where: str = "--rect") -> tuple[int, int, int, int]:
    """``"x,y,w,h"`` -> four integers (UsageError naming the problem otherwise)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise UsageError(f"{where} must be four integers x,y,width,height, got {text!r}")
    return values[0], values[1], values[2], values[3]


def expand_images(inputs: list[Path]) -> list[Path]:
    """Image paths from paths, folders (their image files, sorted) and glob patterns."""
    import glob

    found: list[Path] = []
    for item in inputs:
        text = str(item)
        if item.is_dir():
            found.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif not item.exists() and any(c in text for c in "*?["):
            matches = sorted(glob.glob(text))
            if not matches:
                raise UsageError(f"no file matches {text!r}")
            found.extend(Path(m) for m in matches)
        else:
            found.append(item)
    if not found:
        raise UsageError("no image files in " + ", ".join(repr(str(p)) for p in inputs))
    return found


def read_rect_file(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """``image,x,y,width,height`` rows (a header row first) -> box by image name and stem."""
    import csv

    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --rect-file {str(path)!r}: {exc}") from exc
    need = ("image", "x", "y", "width", "height")
    if not rows or any(c not in rows[0] for c in need):
        raise UsageError(f"--rect-file {str(path)!r} needs the columns {', '.join(need)}")
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for line, row in enumerate(rows, start=2):
        box = parse_rect(",".join(str(row[c]) for c in need[1:]), f"line {line} of {path}")
        name = Path(str(row["image"])).name
        boxes[name] = boxes[Path(name).stem] = box
    return boxes


def _output_path(target: Path | None, image: Path, many: bool) -> Path | None:
    """The file for ``image``: ``target`` itself for one image, ``target/<stem>.png`` for many."""
    if target is None or not many:
        return target
    target.mkdir(parents=True, exist_ok=True)
    return target / f"{image.stem}.png"


@app.command()
def segment(
    images: list[Path] = typer.Argument(
        ...,
        help="Image files (PNG, JPEG, anything Pillow reads), folders of them, or glob patterns.",
    ),
    output: Path = typer.Option(
        ...,
        "-o",
        "--output",
        help="Write the mask here (PNG: 255 = foreground); with several images, a folder that "
        "receives one IMAGE_STEM.png per image.",
    ),
    rect: str | None = typer.Option(
        None,
        "--rect",
        help="Box around the object, x,y,width,height in pixels; outside it is background.",
    ),
    rect_file: Path | None = typer.Option(
        None,
        "--rect-file",
        help="CSV with columns image,x,y,width,height: a box per image (by file name or stem).",
    ),
    hint: Path | None = typer.Option(
        None,
        "--hint",
        help="Hint image of the same size: black = background, white = foreground, "
        "anything else unknown (one image only).",
    ),
    overlay: Path | None = typer.Option(
        None,
        "--overlay",
        help="Also write the image with the background dimmed (PNG; a folder for several).",
    ),
    proba: Path | None = typer.Option(
        None,
        "--proba",
        help="Also write the foreground probability map (8-bit grey PNG; a folder for several).",
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
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Split IMAGE into foreground and background (GrabCut-style with --rect, else unsupervised).

    Without --rect or --hint the colours are split into two classes and the class covering more
    than half of the image border is the background. With several images, each gets its line of
    results; an image that fails is reported and the others are still processed (exit code 2 at
    the end).
    """
    if mrf not in ("graphcut", "meanfield", "none"):
        raise UsageError(f"--mrf must be graphcut, meanfield or none, got {mrf!r}")
    if rect is not None and rect_file is not None:
        raise UsageError("give --rect (one box for every image) or --rect-file, not both")
    box = None if rect is None else parse_rect(rect)
    boxes = None if rect_file is None else read_rect_file(rect_file)
    paths = expand_images(images)
    many = len(images) > 1 or len(paths) > 1 or images[0].is_dir()
    if many and hint is not None:
        raise UsageError("--hint goes with one image")
    try:
        from emkit.image import Segmenter
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    segmenter = Segmenter(
        components,
        mrf=None if mrf == "none" else mrf,
        smoothness=smoothness,
        max_side=max_side,
        hard=hard,
        random_state=seed,
    )
    if not many:
        try:
            summary = _segment_one(segmenter, paths[0], box, boxes, hint, output, overlay, proba)
        except ImportError as exc:
            raise UsageError(str(exc)) from None
        _report(summary, as_json)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    summaries: list[dict[str, Any]] = []
    failed = 0
    bar = Progress(
        TextColumn("[bold]segment"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        disable=not (progress and err_console.is_terminal),
        transient=True,
    )
    with bar:
        task = bar.add_task("", total=len(paths))
        for path in paths:
            bar.update(task, description=path.name)
            try:
                summary = _segment_one(
                    segmenter,
                    path,
                    box,
                    boxes,
                    None,
                    _output_path(output, path, True),
                    _output_path(overlay, path, True),
                    _output_path(proba, path, True),
                )
            except (EmkitError, ValueError, OSError, ImportError) as exc:
                failed += 1
                message = " ".join(str(exc).split())
                summary = {"image": str(path), "error": message}
                bar.console.print(f"[red]error:[/red] {path}: {message}", highlight=False)
            summaries.append(summary)
            if "error" not in summary and not as_json:
                typer.echo(_line(summary))  # stdout (shown above the bar while it runs)
            bar.advance(task)
    if as_json:
        emit_json(summaries, None)
    if failed:
        err_console.print(f"{failed} of {len(paths)} images failed", highlight=False)
        raise typer.Exit(code=2)


def _segment_one(
    segmenter: Any,
    image: Path,
    box: tuple[int, int, int, int] | None,
    boxes: dict[str, tuple[int, int, int, int]] | None,
    hint: Path | None,
    output: Path | None,
    overlay: Path | None,
    proba: Path | None,
) -> dict[str, Any]:
    import numpy as np

    from emkit.image import read_image, write_mask, write_overlay
    from emkit.image import write_probability as write_proba

    if boxes is not None:
        box = boxes.get(image.name, boxes.get(image.stem))
        if box is None:
            raise UsageError(f"{image.name!r} has no row in --rect-file")
    img = read_image(image)
    hint_array: np.ndarray | None = None
    if hint is not None:
        h = read_image(hint)
        grey = np.rint(h.mean(axis=2) * 255)
        hint_array = np.where(grey == 0, 0, np.where(grey == 255, 1, -1))
    result = segmenter.segment(img, rect=box, hint=hint_array)
    assert output is not None
    write_mask(output, result.mask)
    if proba is not None:
        write_proba(proba, result.probability)
    if overlay is not None:
        write_overlay(overlay, img, result.mask)
    return {
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


def _line(summary: dict[str, Any]) -> str:
    return (
        f"{summary['image']}: {100 * summary['foreground_fraction']:.1f}% foreground "
        f"({summary['n_iter']} EM iterations) -> {summary['mask']}"
    )


def _report(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(summary, None)
    else:
        console.print(_line(summary))
