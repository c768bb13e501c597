"""The image-segmentation section of the demo report (needs :mod:`emkit.image`).

The image is drawn with NumPy (:func:`synthetic_scene`): a two-tone "flower" on a sky-and-grass
background with pixel noise, so the true mask is known and no image file is needed.
"""

from __future__ import annotations

import numpy as np

from emkit.report.blocks import Cell, Section, Table, stopwatch
from emkit.report.sections import SectionContext, register_section

__all__ = ["segmentation_section", "synthetic_scene"]


def synthetic_scene(
    height: int = 150, width: int = 200, noise: float = 0.1, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A noisy RGB scene with a known foreground, and a box around it.

    Returns
    -------
    image : ndarray of shape (height, width, 3)
        Floats in [0, 1].
    mask : ndarray of bool, shape (height, width)
        The true foreground: a flower of six petals round a dark heart.
    rect : (x, y, width, height)
        A box around the flower, GrabCut style.
    """
    rng = np.random.RandomState(random_state)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    horizon = 0.62 * height + 6 * np.sin(xx / width * 2 * np.pi)
    sky = np.array([0.45, 0.65, 0.90]) - 0.25 * (yy / height)[..., None] * np.array([1, 1, 0.5])
    grass = np.array([0.25, 0.55, 0.20]) + 0.05 * np.sin(xx / 7.0)[..., None]
    image = np.where((yy < horizon)[..., None], sky, grass)
    # a sun in the corner, outside the box, nearly the petals' colour: the background's colour
    # model learns it, so colour alone cannot tell petals from background
    sun = np.hypot(yy - 0.12 * height, xx - 0.1 * width) < 0.1 * min(height, width)
    image[sun] = [0.98, 0.62, 0.18]
    cy, cx, radius = 0.48 * height, 0.5 * width, 0.3 * min(height, width)
    angle = np.arctan2(yy - cy, xx - cx)
    r = np.hypot(yy - cy, xx - cx)
    petals = r < radius * (0.62 + 0.38 * np.abs(np.cos(3 * angle)))
    heart = r < 0.3 * radius
    image[petals] = [0.95, 0.55, 0.10]
    image[heart] = [0.45, 0.20, 0.05]
    image = np.clip(image + noise * rng.standard_normal(image.shape), 0.0, 1.0)
    mask = petals | heart
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    pad = 6
    x0, y0 = max(cols[0] - pad, 0), max(rows[0] - pad, 0)
    x1, y1 = min(cols[-1] + pad, width - 1), min(rows[-1] + pad, height - 1)
    return image, mask, (int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1))


@register_section("segmentation", "Image segmentation", requires=("emkit.image",))
def segmentation_section(ctx: SectionContext) -> Section:
    """Foreground/background EM with a mean-field MRF on the synthetic scene."""
    from emkit.image import Segmenter
    from emkit.report import model_figures

    height, width = (90, 120) if ctx.quick else (150, 200)
    image, truth, rect = synthetic_scene(height, width, random_state=ctx.seed)
    segmenter = Segmenter(n_components=3, mrf="meanfield", random_state=ctx.seed)
    ctx.status("segmenting the image")
    with stopwatch() as fit_time:
        seg = segmenter.segment(image, rect=rect)
    mask = np.asarray(seg.mask, dtype=bool)
    error = float(np.mean(mask != truth))
    x, y, w, h = rect
    in_box = np.zeros_like(truth)
    in_box[y : y + h, x : x + w] = True
    box_error = float(np.mean(mask[in_box] != truth[in_box]))
    model = seg.model
    rows: list[list[Cell]] = [
        ["pixels", truth.size, ""],
        ["pixels in the box", int(in_box.sum()), ""],
        ["foreground pixels", int(truth.sum()), int(mask.sum())],
        ["pixels labelled wrong", "", int(np.sum(mask != truth))],
        ["error, whole image", "", f"{error:.2%}"],
        ["error, inside the box", "", f"{box_error:.2%}"],
        ["EM iterations", "", model.n_iter_],
    ]
    ctx.status("drawing the overlay")
    return Section(
        title="Image segmentation",
        hidden=f"Whether each of the {truth.size:,} pixels of a {width} × {height} image "
        "belongs to the object or the background, given a box around the object (outside it, "
        "all is background).",
        estimated=f"Two colour models of {segmenter.n_components} Gaussians each (object and "
        f"background) and every pixel's probability of being the object: "
        f"{int(mask.sum()):,} pixels labelled object (in truth {int(truth.sum()):,}), "
        f"{error:.2%} of the image wrong, after {model.n_iter_} EM iterations.",
        seconds=fit_time.seconds,
        figures=[model_figures.segmentation_figure(image, mask.astype(int))],
        tables=[Table("Truth and result", ["", "truth", "EM"], rows)],
        notes=[
            "The model is emkit.image.Segmenter: GrabCut's set-up (a box, colour mixtures for "
            "object and background) fitted by EM, with a Potts prior on neighbouring labels "
            "solved by mean-field sweeps in each E-step (NumPy only; mrf='graphcut' is the "
            "default where PyMaxflow is installed).",
            "The image is drawn by NumPy for this page (emkit.report.section_segmentation."
            "synthetic_scene): a flower on sky and grass, a sun of nearly the petals' colour "
            "outside the box, and Gaussian pixel noise, so the true mask is known.",
        ],
    )
