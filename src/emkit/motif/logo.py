"""Sequence logos with matplotlib (the ``plot`` extra): letter stacks scaled by information."""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.motif.fasta import get_alphabet

__all__ = ["plot_logo"]

_DNA_COLOURS = {"A": "#2ca02c", "C": "#1f77b4", "G": "#ff7f0e", "T": "#d62728"}


def _require_matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib import pyplot  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("sequence logos need matplotlib: pip install 'emkit[plot]'") from exc
    import matplotlib

    return matplotlib


def plot_logo(
    pwm: Any,
    alphabet: str = "dna",
    *,
    background: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Draw a sequence logo: each column a stack of letters, heights in bits.

    The column height is its information content ``log2 A - H(column)`` (or, with
    ``background``, the relative entropy to it); each letter's share is its probability, the
    most probable letter on top.

    Parameters
    ----------
    pwm : array-like of shape (width, A), or a :class:`~emkit.motif.meme.Motif`
    alphabet : str, default='dna'
        Ignored for a Motif (it knows its alphabet).
    background : array-like of shape (A,), optional
        Letter frequencies to measure information against (default uniform).
    ax : matplotlib Axes, optional
        Draw here (default: a new figure).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    matplotlib = _require_matplotlib()
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    if hasattr(pwm, "pwm") and hasattr(pwm, "alphabet"):
        letters = pwm.alphabet
        if title is None:
            title = f"motif {pwm.number}: {pwm.consensus}"
        pwm = pwm.pwm
    else:
        letters = get_alphabet(alphabet).letters
    probs = np.asarray(pwm, dtype=np.float64)
    w, A = probs.shape
    if A != len(letters):
        raise ValueError(f"pwm has {A} columns but the alphabet has {len(letters)} letters")
    safe = np.clip(probs, 1e-300, 1.0)
    if background is None:
        info = np.log2(A) + np.sum(probs * np.log2(safe), axis=1)
        top = np.log2(A)
    else:
        bg = np.asarray(background, dtype=np.float64)
        info = np.sum(probs * np.log2(safe / bg), axis=1)
        top = float(np.log2(1.0 / bg.min()))
    info = np.maximum(info, 0.0)
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * w + 1.0), 2.6))
    else:
        fig = ax.figure
    font = FontProperties(family="DejaVu Sans", weight="bold")
    cmap = matplotlib.colormaps["tab20"]
    colours = {c: _DNA_COLOURS.get(c, cmap(k % 20)) for k, c in enumerate(letters)}
    for col in range(w):
        y = 0.0
        for k in np.argsort(probs[col], kind="stable"):  # smallest at the bottom
            height = probs[col, k] * info[col]
            if height <= 1e-3:
                continue
            path = TextPath((0, 0), letters[k], size=1, prop=font)
            box = path.get_extents()
            transform = (
                Affine2D()
                .translate(-box.x0, -box.y0)
                .scale(0.9 / box.width, height / box.height)
                .translate(col + 0.55, y)
            )
            ax.add_patch(
                PathPatch(transform.transform_path(path), facecolor=colours[letters[k]], lw=0)
            )
            y += height
    ax.set_xlim(0.5, w + 0.5)
    ax.set_ylim(0, top)
    ax.set_xticks(range(1, w + 1))
    ax.set_ylabel("bits")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title)
    return fig
