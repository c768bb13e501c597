"""Image segmentation by EM: figure/ground colour mixtures with an optional MRF prior.

Reading and writing images needs Pillow and ``mrf='graphcut'`` needs PyMaxflow:
``pip install 'emkit[image]'``.
"""

from __future__ import annotations

from emkit.image.io import (
    overlay,
    read_image,
    write_mask,
    write_overlay,
    write_probability,
)
from emkit.image.segment import FigureGroundMixture, Segmentation, Segmenter

__all__ = [
    "FigureGroundMixture",
    "Segmentation",
    "Segmenter",
    "overlay",
    "read_image",
    "write_mask",
    "write_overlay",
    "write_probability",
]
