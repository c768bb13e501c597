"""Reading and writing images for segmentation (through Pillow, an optional dependency).

:func:`read_image` turns any file Pillow can decode into a float array in ``[0, 1]`` of shape
``(height, width, channels)``: grey-scale images keep one channel, colour images three; an alpha
channel is dropped (its colour channels are kept as they are), 16- and 32-bit images are scaled by
their full range. Files that are missing, not images, or truncated raise
:class:`~emkit.exceptions.DataError` with the file name and the reason.

The writers (:func:`write_mask`, :func:`write_probability`, :func:`write_overlay`) produce PNG
files atomically: a failed write never leaves a half-written file behind.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from emkit.exceptions import DataError
from emkit.io import atomic_write

__all__ = ["overlay", "read_image", "write_mask", "write_overlay", "write_png", "write_probability"]


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "reading and writing images needs Pillow: pip install 'emkit[image]'"
        ) from exc
    return Image


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as floats in ``[0, 1]``.

    Parameters
    ----------
    path : path-like
        A PNG, JPEG or any format Pillow reads.

    Returns
    -------
    ndarray of shape (height, width, 1) or (height, width, 3), dtype float64
        Grey-scale (modes ``1``, ``L``, ``LA``, ``I``, ``I;16``, ``F``) keeps one channel; every
        other mode is converted to RGB (alpha dropped, palettes expanded, CMYK converted).

    Raises
    ------
    DataError
        If the file is missing, is not an image, or is truncated or corrupt.
    """
    Image = _pil()
    name = str(path)
    try:
        with Image.open(path) as im:
            im.load()  # decode now: a truncated file fails here, not later
            return _to_array(im)
    except FileNotFoundError:
        raise DataError(f"image file {name!r} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{name!r} is a directory, not an image file") from None
    except Image.UnidentifiedImageError:
        raise DataError(f"{name!r} is not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot decode image {name!r} (truncated or corrupt?): {exc}") from None


def _to_array(im: Any) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        a = np.asarray(im, dtype=np.float64) / 65535.0
        return a[:, :, None]
    if mode == "I":
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if a.max(initial=0) <= 65535 else float(2**32 - 1)
        return np.clip(a / top, 0.0, 1.0)[:, :, None]
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError("the image holds NaN or infinite values")
        hi = max(1.0, float(a.max(initial=0.0)))
        return np.clip(a / hi, 0.0, 1.0)[:, :, None]
    if mode in ("1", "L", "LA", "La"):
        a = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
        return a[:, :, None]
    a = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    return a


def _png_bytes(array: np.ndarray) -> bytes:
    Image = _pil()
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write a uint8 array of shape (H, W) or (H, W, 3) as a PNG file, atomically."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"write_png needs uint8 pixels, got {array.dtype}")
    atomic_write(Path(path), _png_bytes(array))


def write_mask(path: str | os.PathLike[str], mask: np.ndarray) -> None:
    """Write a boolean mask as an 8-bit PNG: 255 = foreground, 0 = background."""
    write_png(path, np.where(np.asarray(mask, dtype=bool), 255, 0).astype(np.uint8))


def write_probability(path: str | os.PathLike[str], probability: np.ndarray) -> None:
    """Write a foreground probability map in ``[0, 1]`` as an 8-bit grey PNG (0..255)."""
    p = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)
    write_png(path, np.rint(p * 255.0).astype(np.uint8))


def overlay(image: np.ndarray, mask: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """The image with the background dimmed and the foreground outlined in red.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C), floats in [0, 1]
    mask : ndarray of shape (H, W), bool
    alpha : float, default=0.5
        How much the background is darkened (0: not at all, 1: black).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    rgb = np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img[:, :, :3]
    m = np.asarray(mask, dtype=bool)
    out = np.where(m[:, :, None], rgb, (1.0 - alpha) * rgb)
    edge = np.zeros_like(m)
    edge[:-1] |= m[:-1] != m[1:]
    edge[1:] |= m[:-1] != m[1:]
    edge[:, :-1] |= m[:, :-1] != m[:, 1:]
    edge[:, 1:] |= m[:, :-1] != m[:, 1:]
    out[edge] = (1.0, 0.0, 0.0)
    return np.rint(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_overlay(
    path: str | os.PathLike[str], image: np.ndarray, mask: np.ndarray, *, alpha: float = 0.5
) -> None:
    """Write :func:`overlay` of ``image`` and ``mask`` as a PNG, atomically."""
    write_png(path, overlay(image, mask, alpha=alpha))
