"""Matplotlib figures for the report, drawn off-screen and returned as embeddable images.

matplotlib is optional (``pip install 'emkit[plot]'``) and imported only here, lazily. Figures
are built on :class:`matplotlib.figure.Figure` directly, never through ``pyplot``: no global
figure state, no GUI backend, nothing to close. :func:`render` turns one into a
:class:`~emkit.report.blocks.Figure` (SVG by default: sharp at any zoom, text as paths so no
font is needed by the browser; PNG for images and dense scatter plots).

Every function drawing a model-specific figure takes plain arrays and returns a ``Figure``
block, so section builders stay short::

    @styled
    def history_figure(history: np.ndarray) -> Figure:
        fig, ax = new_figure(width=5, height=3)
        ax.plot(history)
        return render(fig, alt="log-likelihood per iteration", caption="...")
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from emkit.exceptions import EmkitError
from emkit.report.blocks import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "COLORS",
    "MissingDependencyError",
    "convergence_rate_figure",
    "figure_style",
    "mixture_parameters_figure",
    "new_figure",
    "objective_figure",
    "render",
    "require_matplotlib",
    "styled",
    "three_coins_figure",
    "two_coins_posterior_figure",
    "two_coins_theta_figure",
]

#: Okabe & Ito's colour-blind-safe palette, in the order figures use it.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

_STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": None,  # set in _style()
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "svg.fonttype": "path",  # glyphs as paths: the browser needs no font
    "svg.hashsalt": "emkit",  # deterministic element ids: same input, same bytes
    "figure.dpi": 100,
    "savefig.dpi": 150,
}


class MissingDependencyError(EmkitError, ImportError):
    """An optional dependency (matplotlib for the report) is not installed."""


def require_matplotlib() -> None:
    """Raise :class:`MissingDependencyError` with the install command if matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            "the report's figures need matplotlib: pip install 'emkit[plot]'"
        ) from exc


@contextmanager
def figure_style() -> Iterator[None]:
    """The report's matplotlib style, as a local ``rc_context``."""
    import matplotlib as mpl
    from cycler import cycler

    style = dict(_STYLE, **{"axes.prop_cycle": cycler(color=list(COLORS))})
    with mpl.rc_context(style):  # type: ignore[arg-type]
        yield


def styled(draw: Callable[..., Figure]) -> Callable[..., Figure]:
    """Decorate a function that draws and renders a figure: it runs in the report's style.

    matplotlib reads most style settings (line widths, colours, fonts) when an artist is
    created, so the whole drawing function, not only :func:`new_figure`, must run in the style.
    The style is a local ``rc_context``: the user's own matplotlib settings are untouched.
    """

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        require_matplotlib()
        with figure_style():
            return draw(*args, **kwargs)

    return wrapper


def new_figure(
    width: float = 9.0,
    height: float = 3.4,
    ncols: int = 1,
    nrows: int = 1,
    width_ratios: Sequence[float] | None = None,
    squeeze: bool = True,
    **subplot_kw: Any,
) -> tuple[MplFigure, Any]:
    """A figure of ``width`` x ``height`` inches, with constrained layout.

    Call it inside a function decorated with :func:`styled`. Returns the figure and its axes
    (one ``Axes`` when ``ncols == nrows == 1`` and ``squeeze``, else a 2-D array when
    ``squeeze=False``, as :meth:`matplotlib.figure.Figure.subplots`).
    """
    require_matplotlib()
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(
        nrows, ncols, squeeze=squeeze, width_ratios=width_ratios, subplot_kw=subplot_kw or None
    )
    return fig, axes


def render(
    fig: MplFigure, alt: str, caption: str = "", fmt: Literal["svg", "png"] = "svg"
) -> Figure:
    """Render a matplotlib figure into an embeddable :class:`~emkit.report.blocks.Figure`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Made with :func:`new_figure` (or any matplotlib figure).
    alt : str
        What the figure shows, in words.
    caption : str
        How to read it.
    fmt : {'svg', 'png'}
        SVG for line plots (sharp, small); PNG for images and plots with thousands of marks.
    """
    buffer = io.BytesIO()
    with figure_style():
        if fmt == "svg":
            fig.savefig(buffer, format="svg", metadata={"Date": None})
            mime = "image/svg+xml"
        else:
            fig.savefig(buffer, format="png", metadata={"Software": None})
            mime = "image/png"
    width_in, height_in = fig.get_size_inches()
    return Figure(
        data=buffer.getvalue(),
        mime=mime,
        width_px=round(width_in * 96),  # CSS pixels per inch: shown at the size it was drawn
        height_px=round(height_in * 96),
        alt=alt,
        caption=caption,
    )


def _finish(ax: Axes, xlabel: str, ylabel: str, title: str = "") -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, loc="left")


def _integer_ticks(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


# -- any fit ---------------------------------------------------------------------------------
@styled
def objective_figure(history: Sequence[float] | np.ndarray, hard: bool = False) -> Figure:
    """The objective per iteration and, beside it, its increase per iteration (log scale).

    The increase falls on a straight line in the right panel when EM converges linearly, as it
    does near a maximum; its slope is the rate of convergence.
    """
    history = np.asarray(history, dtype=np.float64)
    name = "classification log-likelihood" if hard else "log-likelihood"
    iters = np.arange(history.size)
    fig, (left, right) = new_figure(9.0, 3.2, ncols=2)
    left.plot(iters, history, marker="o" if history.size <= 40 else None, color=COLORS[0])
    _finish(left, "iteration", name, f"{name.capitalize()} per iteration")
    _integer_ticks(left)
    gains = np.diff(history)
    positive = gains > 0
    if np.any(positive):
        right.semilogy(iters[1:][positive], gains[positive], marker=".", color=COLORS[1])
        _integer_ticks(right)
        _finish(right, "iteration", "increase", "Increase per iteration (log scale)")
    else:
        right.set_axis_off()
        right.text(0.5, 0.5, "no increase to show", ha="center", va="center", color="#666666")
    caption = (
        f"{history.size - 1} iterations; final {name} {history[-1]:.6g}. "
        "EM never lowers it; on the right, a straight descending line means linear "
        "(geometric) convergence."
    )
    return render(fig, alt=f"{name} per EM iteration", caption=caption)


@styled
def mixture_parameters_figure(
    weights: np.ndarray, theta: np.ndarray, feature_names: Sequence[str] | None = None
) -> Figure:
    """Mixing weights and per-component probabilities of a binomial/Bernoulli mixture.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
    theta : ndarray of shape (n_components, n_features)
        Success probability of each feature in each component.
    """
    weights = np.asarray(weights, dtype=np.float64)
    theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
    n_components, n_features = theta.shape
    names = list(feature_names) if feature_names else [f"x{d}" for d in range(n_features)]
    fig, (left, right) = new_figure(
        9.0, 1.2 + 0.35 * max(n_components, 4), ncols=2, width_ratios=[1, 3]
    )
    labels = [f"component {k}" for k in range(n_components)]
    ypos = np.arange(n_components)
    left.barh(ypos, weights, color=[COLORS[k % len(COLORS)] for k in range(n_components)])
    left.set_yticks(ypos, labels)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    _finish(left, "weight", "", "Mixing weights")
    if n_features <= 40:
        image = right.imshow(theta, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        right.set_yticks(ypos, labels)
        right.set_xticks(np.arange(n_features), names, rotation=90 if n_features > 8 else 0)
        right.grid(False)
        if n_components * n_features <= 60:
            for (k, d), value in np.ndenumerate(theta):
                right.text(
                    d,
                    k,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    color="white" if value < 0.6 else "black",
                    fontsize=9,
                )
        fig.colorbar(image, ax=right, label="θ", shrink=0.9)
        _finish(right, "feature", "", "Success probability θ per component and feature")
    else:
        right.set_axis_off()
        right.text(0.5, 0.5, f"{n_features} features: see the table", ha="center")
    return render(
        fig,
        alt="mixing weights and success probabilities per component",
        caption="Left: the weight of each component. Right: its success probability for each "
        "feature; components are the hidden classes, numbered as in predict().",
    )


# -- the course's coin problems -----------------------------------------------------------------
@styled
def two_coins_theta_figure(
    soft: np.ndarray,
    hard: np.ndarray,
    heads: np.ndarray,
    n_trials: int,
    weights: np.ndarray,
) -> Figure:
    """θ_A and θ_B per iteration (soft vs hard EM) and both paths on the log-likelihood surface.

    Parameters
    ----------
    soft, hard : ndarray of shape (n_iter + 1, 2)
        (θ_A, θ_B) at the start and after each M-step.
    heads : ndarray of shape (n_sets,)
        Heads in each set of ``n_trials`` tosses.
    weights : ndarray of shape (2,)
        The (fixed) probabilities of picking coin A or B.
    """
    from scipy.special import logsumexp

    fig, (left, right) = new_figure(9.6, 4.0, ncols=2, width_ratios=[1.3, 1])
    for j, (name, color) in enumerate(((r"$\theta_A$", COLORS[0]), (r"$\theta_B$", COLORS[1]))):
        left.plot(np.arange(len(soft)), soft[:, j], marker="o", color=color, label=f"{name} soft")
        left.plot(
            np.arange(len(hard)),
            hard[:, j],
            marker="s",
            linestyle="--",
            color=color,
            alpha=0.75,
            label=f"{name} hard",
        )
    left.set_ylim(0.3, 0.95)
    _integer_ticks(left)
    left.legend(ncols=2, loc="lower right")
    _finish(left, "iteration", r"$\theta$  (probability of heads)", r"$\theta$ per iteration")

    grid = np.linspace(0.2, 0.98, 200)
    ta, tb = np.meshgrid(grid, grid)
    # log p(heads | θ_A, θ_B) summed over sets, mixing over the coin of each set
    h = heads[:, None, None]
    log_a = np.log(weights[0]) + h * np.log(ta) + (n_trials - h) * np.log1p(-ta)
    log_b = np.log(weights[1]) + h * np.log(tb) + (n_trials - h) * np.log1p(-tb)
    surface = logsumexp(np.stack([log_a, log_b]), axis=0).sum(axis=0)
    top = float(surface.max())
    levels = top - np.array([16.0, 8.0, 4.0, 2.0, 1.0, 0.5, 0.2, 0.0])
    filled = right.contourf(ta, tb, surface, levels=levels, cmap="Blues", alpha=0.6, extend="min")
    filled.set_rasterized(True)  # a small PNG inside the SVG instead of thousands of paths
    right.contour(ta, tb, surface, levels=levels[:-1], colors="white", linewidths=0.6)
    right.plot(soft[:, 0], soft[:, 1], marker="o", color=COLORS[1], label="soft EM", zorder=3)
    right.plot(
        hard[:, 0],
        hard[:, 1],
        marker="s",
        linestyle="--",
        color=COLORS[3],
        label="hard EM",
        zorder=3,
    )
    right.plot(*soft[0], marker="*", markersize=13, color="black", zorder=4, linestyle="none")
    right.annotate("start", soft[0], xytext=(-10, -14), textcoords="offset points", ha="right")
    right.plot([0, 1], [0, 1], color="#666666", linewidth=0.8, linestyle=":")
    right.set_xlim(grid[0], grid[-1])
    right.set_ylim(grid[0], grid[-1])
    right.set_aspect("equal")
    right.grid(False)
    right.legend(loc="lower right", frameon=True, framealpha=0.9, edgecolor="none")
    _finish(right, r"$\theta_A$", r"$\theta_B$", "Paths on the log-likelihood surface")
    # the first t with θ_t == θ_t+1: hard EM's assignments (and θ) no longer change
    fixed = np.flatnonzero(np.all(np.diff(hard, axis=0) == 0, axis=1))
    hard_text = (
        f"hard EM (dashed) jumps and reaches its fixed point in {fixed[0]} iteration"
        + ("s" if fixed[0] != 1 else "")
        if fixed.size
        else "hard EM (dashed) jumps further at each step"
    )
    return render(
        fig,
        alt="theta of coins A and B per EM iteration, and the EM paths on the likelihood surface",
        caption=f"Left: soft EM (solid) moves θ_A up and θ_B down a little at each iteration; "
        f"{hard_text}. Right: the log-likelihood of (θ_A, θ_B), darker is higher (contours every "
        "halving of the distance to the top, from 16 log-units below it); the mirror-image peak "
        "across the dotted diagonal is the same answer with the names of the coins swapped.",
    )


@styled
def two_coins_posterior_figure(
    soft: np.ndarray, hard: np.ndarray, set_labels: Sequence[str]
) -> Figure:
    """P(coin A | set) per iteration, one line per set of tosses (soft), hard EM as markers.

    Parameters
    ----------
    soft, hard : ndarray of shape (n_rows, n_sets)
        Posteriors computed in each E-step, as in the iteration tables.
    """
    fig, ax = new_figure(9.6, 3.0)
    x_soft = np.arange(len(soft)) + 1
    x_hard = np.arange(len(hard)) + 1
    for j, label in enumerate(set_labels):
        color = COLORS[j % len(COLORS)]
        ax.plot(x_soft, soft[:, j], marker="o", color=color, label=f"set {j + 1}: {label}")
        ax.plot(x_hard, hard[:, j], marker="x", linestyle="none", color=color, markersize=8)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(0.5, len(soft) + 0.5)
    _integer_ticks(ax)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    _finish(ax, "E-step", "P(coin A | set)", "Posterior of the hidden coin, per set of tosses")
    return render(
        fig,
        alt="posterior probability that each set of tosses came from coin A, per E-step",
        caption="Lines: soft EM's posteriors; crosses: hard EM's, which are always 0 or 1. Sets "
        "with many heads are given to coin A, the coin EM learns to be the biased one.",
    )


@styled
def three_coins_figure(runs: Sequence[tuple[str, np.ndarray]], observed: float) -> Figure:
    """π, p and q per iteration for several starts, and the P(y = 1) each implies.

    Parameters
    ----------
    runs : sequence of (label, ndarray of shape (n_iter + 1, 3))
        (π, p, q) at the start and after each M-step.
    observed : float
        The observed frequency of y = 1.
    """
    fig, axes = new_figure(9.6, 2.9, ncols=4)
    names = (r"$\pi$", r"$p$", r"$q$", r"$\pi p + (1 - \pi) q$")
    for r, (label, params) in enumerate(runs):
        x = np.arange(len(params))
        implied = params[:, 0] * params[:, 1] + (1 - params[:, 0]) * params[:, 2]
        columns = [params[:, 0], params[:, 1], params[:, 2], implied]
        for ax, values in zip(axes, columns, strict=True):
            ax.plot(
                x,
                values,
                marker="o" if r == 0 else "s",
                linestyle="-" if r == 0 else "--",
                color=COLORS[r % len(COLORS)],
                label=f"start {label}",
            )
    axes[3].axhline(observed, color="#555555", linewidth=0.8, zorder=0)
    axes[3].annotate(
        f"observed\nfrequency {observed:.1f}",
        (x[-1], observed),
        xytext=(0, -8),
        textcoords="offset points",
        ha="right",
        va="top",
        color="#555555",
        fontsize=9,
    )
    for ax, name in zip(axes, names, strict=True):
        _integer_ticks(ax)
        _finish(ax, "iteration", "", name)
        ax.set_ylim(0.35, 0.75)
    axes[0].legend(loc="upper left", fontsize=8)
    return render(
        fig,
        alt="three-coin parameters per iteration from two starts, and the implied P(y = 1)",
        caption="Both starts stop after one iteration, at different (π, p, q): only "
        "P(y = 1) = π p + (1 − π) q is identified by the tosses (right), and EM sets it to the "
        "observed frequency.",
    )


@styled
def convergence_rate_figure(errors: np.ndarray, ratios: np.ndarray, rate: float) -> Figure:
    """|θ − θ*| per iteration on a log scale, and the ratio of successive errors.

    Parameters
    ----------
    errors : ndarray of shape (n_iter + 1,)
        θ − θ* at the start and after each M-step.
    ratios : ndarray of shape (n_iter + 1,)
        Successive error ratios (NaN for the first).
    rate : float
        The theoretical rate, the derivative of the EM map at θ*.
    """
    fig, (left, right) = new_figure(9.6, 3.1, ncols=2)
    x = np.arange(errors.size)
    nonzero = errors != 0
    left.semilogy(x[nonzero], np.abs(errors[nonzero]), marker="o", color=COLORS[0], label="EM")
    start = np.abs(errors[0])
    left.semilogy(
        x,
        start * rate**x,
        linestyle="--",
        color="#777777",
        linewidth=1,
        label=rf"$|\theta_0 - \theta^*| \cdot {rate:.4f}^t$",
    )
    left.legend()
    _integer_ticks(left)
    _finish(left, "iteration t", r"$|\theta_t - \theta^*|$", "Error per iteration (log scale)")
    ok = np.isfinite(ratios)
    right.plot(
        x[ok],
        ratios[ok],
        marker="o",
        color=COLORS[1],
        label=r"$(\theta_t - \theta^*) / (\theta_{t-1} - \theta^*)$",
    )
    right.axhline(
        rate, color="#777777", linestyle="--", linewidth=1, label=rf"$M'(\theta^*)$ = {rate:.4f}"
    )
    right.legend(loc="upper right")
    _integer_ticks(right)
    span = max(0.02, float(np.nanmax(np.abs(ratios[ok] - rate)))) if np.any(ok) else 0.05
    right.set_ylim(rate - 1.3 * span, rate + 1.3 * span)
    _finish(right, "iteration t", "ratio", "Ratio of successive errors")
    return render(
        fig,
        alt="error of theta per EM iteration on a log scale, and the ratio of successive errors",
        caption="EM converges linearly: each iteration multiplies the error by the same factor, "
        "the fraction of the information that the hidden split of the first cell hides (DLR's "
        "rate, 0.1328).",
    )
