"""Ready-made figures for the course's other problems, drawn from plain arrays.

Each function takes NumPy arrays (never a model object), so a section builder fits its model,
pulls out the arrays and calls one of these; the figures look like the rest of the report.

==============================  ==============================================================
function                        shows
==============================  ==============================================================
:func:`annotators_figure`       true vs estimated score per item; P(good) per annotator
:func:`mixture_snapshots_figure`  2-D data coloured by responsibilities, with the components'
                                ellipses, at several iterations
:func:`hard_vs_soft_figure`     hard assignments (k-means) beside soft responsibilities
:func:`segmentation_figure`     an image, its segmentation, and the segmentation over it
:func:`top_words_figure`        the top words of each topic, as bars
:func:`sequence_logo_figure`    a motif's position weight matrix as a sequence logo
:func:`site_posterior_figure`   the posterior of a hidden position (a site's start) per row
:func:`recall_curve_figure`     recall against a cost (tables, candidates ...), several curves
==============================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from emkit.report.blocks import Figure
from emkit.report.figures import COLORS, new_figure, render, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "annotators_figure",
    "hard_vs_soft_figure",
    "mixture_snapshots_figure",
    "recall_curve_figure",
    "segmentation_figure",
    "sequence_logo_figure",
    "site_posterior_figure",
    "top_words_figure",
]

#: Letter colours of sequence logos (the usual ones: A green, C blue, G orange, T/U red).
LOGO_COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839", "U": "#D62839"}


def _rgb(color: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.asarray(to_rgb(color))


def _component_colors(n_components: int) -> np.ndarray:
    return np.array([_rgb(COLORS[k % len(COLORS)]) for k in range(n_components)])


_COVARIANCE_SHAPES = {
    "full": lambda k, d: (k, d, d),
    "tied": lambda k, d: (d, d),
    "diag": lambda k, d: (k, d),
    "spherical": lambda k, d: (k,),
}


def _full_covariances(
    covariances: np.ndarray, n_components: int, dim: int, covariance_type: str | None = None
) -> np.ndarray:
    """(K, d, d) from full (K, d, d), tied (d, d), diagonal (K, d) or spherical (K,) ones.

    ``covariance_type`` (as scikit-learn names them) is inferred from the shape when None; it
    must be given when the shape is ambiguous (tied and diagonal when K == d).
    """
    cov = np.asarray(covariances, dtype=np.float64)
    if covariance_type is None:
        matches = [
            t for t, shape in _COVARIANCE_SHAPES.items() if cov.shape == shape(n_components, dim)
        ]
        if len(matches) > 1:
            raise ValueError(
                f"covariances of shape {cov.shape} may be {' or '.join(matches)}: "
                "pass covariance_type"
            )
        covariance_type = matches[0] if matches else ""
    shape = _COVARIANCE_SHAPES.get(covariance_type)
    if shape is None or cov.shape != shape(n_components, dim):
        raise ValueError(
            f"covariances of shape {cov.shape} do not fit {n_components} components in "
            f"{dim} dimensions" + (f" as {covariance_type!r}" if covariance_type else "")
        )
    if covariance_type == "full":
        return cov
    if covariance_type == "tied":
        return np.broadcast_to(cov, (n_components, dim, dim))
    if covariance_type == "diag":
        return np.einsum("kd,de->kde", cov, np.eye(dim))
    return cov[:, None, None] * np.eye(dim)


def _ellipses(ax: Axes, means: np.ndarray, covariances: np.ndarray, colors: np.ndarray) -> None:
    from matplotlib.patches import Ellipse

    for mean, cov, color in zip(means, covariances, colors, strict=True):
        values, vectors = np.linalg.eigh(cov[:2, :2])
        angle = float(np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1])))
        for n_sd, alpha in ((1.0, 0.9), (2.0, 0.5)):
            width, height = 2 * n_sd * np.sqrt(np.maximum(values[::-1], 0))
            ax.add_patch(
                Ellipse(
                    tuple(mean[:2]),
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    edgecolor=color,
                    linewidth=1.6,
                    alpha=alpha,
                )
            )
        ax.plot(*mean[:2], marker="+", markersize=11, color="black", markeredgewidth=1.6)


@styled
def annotators_figure(
    true_scores: np.ndarray,
    estimated_scores: np.ndarray,
    p_good: np.ndarray,
    annotator_labels: Sequence[str] | None = None,
    truly_good: np.ndarray | None = None,
) -> Figure:
    """True vs estimated score per item, and each annotator's estimated P(good).

    Parameters
    ----------
    true_scores, estimated_scores : ndarray of shape (n_items,)
    p_good : ndarray of shape (n_annotators,)
        Posterior probability that each annotator is good (reliable).
    annotator_labels : sequence of str, optional
    truly_good : ndarray of bool of shape (n_annotators,), optional
        The truth where it is known (simulated data): drawn as hollow bars for bad annotators.
    """
    true_scores = np.asarray(true_scores, dtype=np.float64)
    estimated_scores = np.asarray(estimated_scores, dtype=np.float64)
    p_good = np.asarray(p_good, dtype=np.float64)
    fig, (left, right) = new_figure(9.6, 3.6, ncols=2, width_ratios=[1, 1.3])
    left.scatter(true_scores, estimated_scores, s=14, color=COLORS[0], alpha=0.7, linewidths=0)
    low = float(min(true_scores.min(), estimated_scores.min()))
    high = float(max(true_scores.max(), estimated_scores.max()))
    left.plot([low, high], [low, high], color="#777777", linestyle="--", linewidth=1)
    r = float(np.corrcoef(true_scores, estimated_scores)[0, 1]) if true_scores.size > 1 else 1.0
    rmse = float(np.sqrt(np.mean((true_scores - estimated_scores) ** 2)))
    left.text(0.03, 0.95, f"r = {r:.3f}\nRMSE = {rmse:.3g}", transform=left.transAxes, va="top")
    left.set_xlabel("true score")
    left.set_ylabel("estimated score")
    left.set_title("Score per item", loc="left")
    order = np.argsort(p_good)[::-1]
    labels = list(annotator_labels) if annotator_labels is not None else None
    names = [labels[i] if labels else str(i) for i in order]
    x = np.arange(order.size)
    colors = [COLORS[2] if p_good[i] >= 0.5 else COLORS[1] for i in order]
    bars = right.bar(x, p_good[order], color=colors, width=0.8)
    if truly_good is not None:
        truth = np.asarray(truly_good, dtype=bool)[order]
        for bar, good in zip(bars, truth, strict=True):
            if not good:
                bar.set_hatch("///")
                bar.set_edgecolor("white")
    right.axhline(0.5, color="#777777", linewidth=0.8, linestyle=":")
    right.set_ylim(0, 1.02)
    if order.size <= 30:
        right.set_xticks(x, names, rotation=90 if order.size > 12 else 0, fontsize=8)
    else:
        right.set_xticks([])
    right.set_xlabel("annotator (sorted)")
    right.set_ylabel("P(good)")
    right.set_title("Estimated reliability of each annotator", loc="left")
    hatch = " Hatched: annotators that are in truth bad." if truly_good is not None else ""
    return render(
        fig,
        alt="true against estimated score per item, and P(good) per annotator",
        caption="Left: each item's estimated score against its true score (dashed: equal). "
        f"Right: the probability EM gives each annotator of being good.{hatch}",
    )


def _resp_colors(resp: np.ndarray) -> np.ndarray:
    resp = np.asarray(resp, dtype=np.float64)
    return np.clip(resp @ _component_colors(resp.shape[1]), 0, 1)


@styled
def mixture_snapshots_figure(
    X: np.ndarray,
    snapshots: Sequence[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
    feature_names: Sequence[str] = ("x", "y"),
    covariance_type: str | None = None,
) -> Figure:
    """2-D data coloured by responsibilities, with each component's ellipses, per snapshot.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    snapshots : sequence of (iteration, resp, means, covariances)
        ``resp`` of shape (n_samples, K); ``means`` (K, 2); ``covariances`` full (K, 2, 2),
        diagonal (K, 2), spherical (K,) or tied (2, 2). Up to 4 are drawn side by side.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, optional
        Inferred from the shape unless ambiguous (tied and diagonal when K == 2).
    """
    X = np.asarray(X, dtype=np.float64)
    shown = list(snapshots)[:4]
    fig, grid = new_figure(9.6, 2.9, ncols=len(shown), squeeze=False)
    axes = grid.ravel()
    low, high = X[:, :2].min(axis=0), X[:, :2].max(axis=0)
    pad = 0.08 * (high - low + 1e-12)
    for ax, (iteration, resp, means, covariances) in zip(axes, shown, strict=True):
        means = np.asarray(means, dtype=np.float64)
        k = means.shape[0]
        cov = _full_covariances(covariances, k, X.shape[1], covariance_type)
        ax.scatter(X[:, 0], X[:, 1], s=9, c=_resp_colors(resp), linewidths=0, rasterized=True)
        _ellipses(ax, means, cov, _component_colors(k))
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])  # the data's range, for every panel
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
        ax.set_title(f"iteration {iteration}", loc="left")
        ax.set_xlabel(feature_names[0])
        ax.grid(False)
    axes[0].set_ylabel(feature_names[1])
    return render(
        fig,
        alt="data coloured by responsibilities, with the components' ellipses, over iterations",
        caption="Each point is coloured by its responsibilities (a blend of the components' "
        "colours: mixed colours are uncertain points); ellipses enclose 1 and 2 standard "
        "deviations of each component, + marks its mean.",
    )


@styled
def hard_vs_soft_figure(
    X: np.ndarray,
    hard_labels: np.ndarray,
    hard_centers: np.ndarray,
    soft_resp: np.ndarray,
    soft_means: np.ndarray,
    soft_covariances: np.ndarray | None = None,
    feature_names: Sequence[str] = ("x", "y"),
    titles: tuple[str, str] = ("k-means (hard EM)", "Gaussian mixture (soft EM)"),
    covariance_type: str | None = None,
) -> Figure:
    """Hard assignments beside soft responsibilities on the same 2-D data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    hard_labels : ndarray of int of shape (n_samples,)
    hard_centers : ndarray of shape (K, 2)
    soft_resp : ndarray of shape (n_samples, K)
    soft_means : ndarray of shape (K, 2)
    soft_covariances : array, optional
        As in :func:`mixture_snapshots_figure`; ellipses are drawn when given.
    """
    X = np.asarray(X, dtype=np.float64)
    hard_labels = np.asarray(hard_labels, dtype=np.intp)
    k = np.asarray(hard_centers).shape[0]
    fig, (left, right) = new_figure(9.6, 3.8, ncols=2)
    palette = _component_colors(max(k, int(hard_labels.max()) + 1))
    left.scatter(X[:, 0], X[:, 1], s=9, c=palette[hard_labels], linewidths=0, rasterized=True)
    centers = np.asarray(hard_centers, dtype=np.float64)
    left.plot(centers[:, 0], centers[:, 1], "k+", markersize=12, markeredgewidth=2)
    right.scatter(X[:, 0], X[:, 1], s=9, c=_resp_colors(soft_resp), linewidths=0, rasterized=True)
    means = np.asarray(soft_means, dtype=np.float64)
    if soft_covariances is not None:
        cov = _full_covariances(soft_covariances, means.shape[0], X.shape[1], covariance_type)
        _ellipses(right, means, cov, _component_colors(means.shape[0]))
    else:
        right.plot(means[:, 0], means[:, 1], "k+", markersize=12, markeredgewidth=2)
    uncertain = float(np.mean(np.max(soft_resp, axis=1) < 0.9))
    for ax, title in zip((left, right), titles, strict=True):
        ax.set_title(title, loc="left")
        ax.set_xlabel(feature_names[0])
        ax.set_ylabel(feature_names[1])
        ax.grid(False)
    return render(
        fig,
        alt="hard cluster assignments beside soft responsibilities on the same data",
        caption="Left: each point belongs wholly to its nearest centre (+). Right: soft EM "
        f"shares points between components; {uncertain:.0%} of them have no component with "
        "responsibility 0.9 or more (mixed colours).",
    )


@styled
def segmentation_figure(
    image: np.ndarray,
    labels: np.ndarray,
    colors: np.ndarray | None = None,
    alpha: float = 0.45,
) -> Figure:
    """An image, its segmentation, and the segmentation laid over it (PNG).

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3)
        Grey levels or RGB, floats in [0, 1] or integers in [0, 255].
    labels : ndarray of int of shape (H, W)
        Segment of each pixel.
    colors : ndarray of shape (n_segments, 3), optional
        Colour of each segment (default: each segment's mean colour in the image, which
        shows what the segmentation keeps; the overlay uses the palette instead).
    """
    img = np.asarray(image)
    # integers, or floats on a 0..255 scale, are 8-bit levels; floats near [0, 1] are kept
    eight_bit = img.dtype.kind in "iub" or float(img.max()) > 2.0
    img = img / 255.0 if eight_bit else img.astype(np.float64)
    rgb = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
    labels = np.asarray(labels, dtype=np.intp)
    n_segments = int(labels.max()) + 1
    if colors is None:
        counts = np.bincount(labels.ravel(), minlength=n_segments)[:, None]
        sums = np.zeros((n_segments, 3))
        np.add.at(sums, labels.ravel(), rgb.reshape(-1, 3))
        colors = sums / np.maximum(counts, 1)
    segmented = np.asarray(colors)[labels]
    overlay = (1 - alpha) * rgb + alpha * _component_colors(n_segments)[labels]
    edges = np.zeros(labels.shape, dtype=bool)  # segment boundaries, drawn white
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    overlay[edges] = 1.0
    height, width = labels.shape
    panel_w = 9.6 / 3
    fig, axes = new_figure(9.6, max(2.0, panel_w * height / width + 0.5), ncols=3)
    panels = ((rgb, "image"), (segmented, f"{n_segments} segments"), (overlay, "overlay"))
    for ax, (picture, title) in zip(axes, panels, strict=True):
        ax.imshow(np.clip(picture, 0, 1), interpolation="nearest")
        ax.set_title(title, loc="left")
        ax.set_axis_off()
    return render(
        fig,
        alt="an image, its segmentation by EM, and the segmentation laid over the image",
        caption="Left: the image. Middle: each pixel painted with its segment's mean colour. "
        "Right: the segments, in the palette's colours, over the image, with their boundaries "
        "in white.",
        fmt="png",
    )


@styled
def top_words_figure(
    words: Sequence[Sequence[str]], weights: np.ndarray, topic_labels: Sequence[str] | None = None
) -> Figure:
    """The top words of each topic as horizontal bars, one small panel per topic.

    Parameters
    ----------
    words : sequence of sequences of str
        ``words[t]`` are topic t's top words, most probable first.
    weights : ndarray of shape (n_topics, n_top)
        Their probabilities in the topic.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_topics, n_top = weights.shape
    ncols = min(n_topics, 4)
    nrows = -(-n_topics // ncols)
    fig, axes = new_figure(
        9.6, nrows * (0.6 + 0.22 * n_top), ncols=ncols, nrows=nrows, squeeze=False
    )
    flat = axes.ravel()
    for t in range(n_topics):
        ax = flat[t]
        y = np.arange(n_top)
        ax.barh(y, weights[t], color=COLORS[t % len(COLORS)])
        ax.set_yticks(y, list(words[t]), fontsize=9)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        label = topic_labels[t] if topic_labels is not None else f"topic {t}"
        ax.set_title(label, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    for ax in flat[n_topics:]:
        ax.set_axis_off()
    return render(
        fig,
        alt="top words of each topic with their probabilities",
        caption="For each topic, its most probable words; bar length is the word's probability "
        "in the topic.",
    )


def _draw_letter(ax: Axes, letter: str, x: float, y: float, height: float, color: str) -> None:
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    path = TextPath(
        (0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold")
    )
    box = path.get_extents()
    transform = (
        Affine2D()
        .translate(-box.x0, -box.y0)
        .scale(0.9 / box.width, height / box.height)
        .translate(x - 0.45, y)
    )
    ax.add_patch(PathPatch(transform.transform_path(path), facecolor=color, linewidth=0))


def _logo(ax: Axes, pwm: np.ndarray, alphabet: str, title: str) -> float:
    pwm = pwm / pwm.sum(axis=1, keepdims=True)
    width, n_letters = pwm.shape
    max_bits = float(np.log2(n_letters))
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.sum(np.where(pwm > 0, pwm * np.log2(pwm), 0.0), axis=1)
    information = max_bits - entropy
    for pos in range(width):
        y = 0.0
        for j in np.argsort(pwm[pos]):  # the most probable letter on top
            height = pwm[pos, j] * information[pos]
            if height > 0.06:  # slivers under 0.06 bits are noise to the eye
                letter = alphabet[j]
                _draw_letter(ax, letter, pos + 1, y, height, LOGO_COLORS.get(letter, "#444444"))
            y += height
    ax.set_xlim(0.4, width + 0.6)
    ax.set_ylim(0, max_bits)
    ax.set_xticks(np.arange(1, width + 1))
    ax.grid(False)
    ax.set_ylabel("bits")
    ax.set_title(title, loc="left")
    return max_bits


@styled
def sequence_logo_figure(
    pwm: np.ndarray,
    alphabet: str = "ACGT",
    title: str = "Motif logo",
    reference: np.ndarray | None = None,
    reference_title: str = "Planted motif",
) -> Figure:
    """A sequence logo: at each position, letters stacked by probability × information.

    Parameters
    ----------
    pwm : ndarray of shape (motif_width, len(alphabet))
        Letter probabilities per position (rows sum to 1).
    alphabet : str
    reference : ndarray of shape (motif_width, len(alphabet)), optional
        A matrix to compare with (e.g. the planted one), drawn above in the same way.
    """
    pwm = np.asarray(pwm, dtype=np.float64)
    panels = [(title, pwm)]
    if reference is not None:
        panels.insert(0, (reference_title, np.asarray(reference, dtype=np.float64)))
    width = max(p.shape[0] for _, p in panels)
    fig, axes = new_figure(
        min(9.6, 1.2 + 0.45 * width), 0.3 + 2.3 * len(panels), nrows=len(panels), squeeze=False
    )
    max_bits = 2.0
    for ax, (name, matrix) in zip(axes[:, 0], panels, strict=True):
        max_bits = _logo(ax, matrix, alphabet, name)
    axes[-1, 0].set_xlabel("position")
    return render(
        fig,
        alt="sequence logo of the motif found by EM"
        + (", below the planted one" if reference is not None else ""),
        caption=f"Letter height: its probability times the position's information content "
        f"(at most {max_bits:.0f} bits); tall stacks are conserved positions.",
    )


@styled
def site_posterior_figure(
    posterior: np.ndarray,
    true_starts: np.ndarray | None = None,
    found_starts: np.ndarray | None = None,
    row_label: str = "sequence",
) -> Figure:
    """Posterior of a hidden position per row (e.g. where each sequence's site starts).

    Parameters
    ----------
    posterior : ndarray of shape (n_rows, n_positions)
        ``P(hidden position = j | row i)``; a row may sum to less than 1 (ZOOPS: no site).
    true_starts : ndarray of int of shape (n_rows,), optional
        The truth where it is known (-1: none), drawn as open circles.
    found_starts : ndarray of int of shape (n_rows,), optional
        What was reported (-1: none), drawn as crosses.
    """
    posterior = np.asarray(posterior, dtype=np.float64)
    n_rows = posterior.shape[0]
    fig, ax = new_figure(9.6, min(6.0, 1.2 + 0.12 * n_rows))
    image = ax.imshow(
        posterior, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest"
    )
    ax.grid(False)
    rows = np.arange(n_rows)
    if true_starts is not None:  # a ring around the true cell: a dark cell inside is a hit
        t = np.asarray(true_starts)
        ok = t >= 0
        ax.scatter(t[ok], rows[ok], s=90, facecolors="none", edgecolors=COLORS[1], linewidths=1.2,
                   label="true start")  # fmt: skip
    if found_starts is not None:  # a tick under the reported cell
        f = np.asarray(found_starts)
        ok = f >= 0
        ax.scatter(f[ok], rows[ok] + 0.55, s=16, marker="^", color=COLORS[0], linewidths=0,
                   label="reported start")  # fmt: skip
    if true_starts is not None or found_starts is not None:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    fig.colorbar(image, ax=ax, label="posterior", shrink=0.9, pad=0.01)
    ax.set_xlabel("start position")
    ax.set_ylabel(row_label)
    ax.set_title("Posterior of the hidden start, per " + row_label, loc="left")
    return render(
        fig,
        alt=f"posterior probability of each start position, per {row_label}",
        caption=f"Each row is a {row_label}; darker cells are start positions EM finds more "
        "probable (a row with no dark cell holds no site, or EM is unsure). Rings mark the true "
        "starts where known, triangles the reported ones.",
    )


@styled
def recall_curve_figure(
    x: np.ndarray,
    recalls: Mapping[str, np.ndarray],
    xlabel: str,
    reference: tuple[np.ndarray, np.ndarray, str] | None = None,
    log_x: bool = False,
) -> Figure:
    """Recall against a cost (number of hash tables, candidates checked ...), several curves.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
    recalls : mapping of label -> ndarray of shape (n_points,)
        Measured recall (in [0, 1]) for each setting.
    reference : (x, y, label), optional
        A theoretical curve, drawn dashed.
    """
    x = np.asarray(x, dtype=np.float64)
    fig, ax = new_figure(7.0, 3.4)
    for i, (label, values) in enumerate(recalls.items()):
        ax.plot(x, np.asarray(values), marker="o", color=COLORS[i % len(COLORS)], label=label)
    if reference is not None:
        rx, ry, rlabel = reference
        ax.plot(rx, ry, linestyle="--", color="#555555", linewidth=1.2, label=rlabel)
    if log_x:
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(x, [f"{v:g}" for v in x])  # the settings themselves, not powers of 10
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("recall")
    ax.set_title("Recall of the true nearest neighbours", loc="left")
    ax.legend(loc="lower right")
    return render(
        fig,
        alt=f"recall against {xlabel}",
        caption=f"Fraction of the true nearest neighbours found, against {xlabel}.",
    )
