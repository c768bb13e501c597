r"""Spatial coherence for pixel labels: a Potts Markov random field on the 8-connected grid.

The energy of a binary labelling :math:`l` (1 = foreground) is GrabCut's (Rother et al. 2004)

.. math::

    E(l) = -\sum_i \log p(x_i, l_i) + \sum_{i \sim j} w_{ij} [l_i \ne l_j], \qquad
    w_{ij} = \frac{\gamma}{\mathrm{dist}(i, j)} \exp(-\beta \lVert x_i - x_j \rVert^2),

with :math:`\beta = 1 / (2 \langle \lVert x_i - x_j \rVert^2 \rangle)`: neighbours prefer the
same label, less so across strong colour edges. Two ways to use it:

- :func:`graph_cut`: the exact minimiser of :math:`E` (a min-cut, through PyMaxflow);
  :class:`GridCut` repeats it on one grid under changing unary terms without rebuilding the
  graph (EM's E-steps);
- :func:`mean_field`: parallel mean-field updates of the marginals
  :math:`q_i = \sigma(a_i + \sum_j w_{ij} (2 q_j - 1))`, where :math:`a_i` is the log-odds of
  foreground from the pixel alone (NumPy only; soft, but it can stall in local optima).

Edge weights are stored as an array of shape (4, H, W): the weight of the edge from pixel
``(r, c)`` to its right, lower, lower-right and lower-left neighbour (0 where there is none).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "OFFSETS",
    "GridCut",
    "contrast_beta",
    "contrast_weights",
    "cut_energy",
    "graph_cut",
    "mean_field",
    "neighbour_sum",
]

#: (row, column) offsets of the four forward neighbours the weight planes refer to
OFFSETS: tuple[tuple[int, int], ...] = ((0, 1), (1, 0), (1, 1), (1, -1))


def _pairs(h: int, w: int, dr: int, dc: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Slices of the source pixels and of their neighbours at offset (dr, dc)."""
    rows_src = slice(0, h - dr)
    rows_dst = slice(dr, h)
    if dc >= 0:
        cols_src, cols_dst = slice(0, w - dc), slice(dc, w)
    else:
        cols_src, cols_dst = slice(-dc, w), slice(0, w + dc)
    return (rows_src, cols_src), (rows_dst, cols_dst)


def _square_differences(img: np.ndarray) -> list[np.ndarray]:
    """``|x_i - x_j|^2`` of every neighbour pair, one plane per offset of :data:`OFFSETS`."""
    h, w = img.shape[:2]
    sq = []
    for dr, dc in OFFSETS:
        src, dst = _pairs(h, w, dr, dc)
        diff = img[src] - img[dst]
        sq.append(np.einsum("ijc,ijc->ij", diff, diff))
    return sq


def contrast_beta(image: np.ndarray) -> float:
    r"""GrabCut's :math:`\beta = 1 / (2 \langle \lVert x_i - x_j \rVert^2 \rangle)` over all
    neighbour pairs of the image (0 for a flat image)."""
    img = np.asarray(image, dtype=np.float64)
    h, w = img.shape[:2]
    total, count = 0.0, 0
    for dr, dc in OFFSETS:
        src, dst = _pairs(h, w, dr, dc)
        diff = (img[src] - img[dst]).ravel()
        total += float(np.dot(diff, diff))
        count += diff.size // img.shape[2]
    mean = total / max(count, 1)
    return 0.0 if mean <= 0 else 1.0 / (2.0 * mean)


def _beta(sq: list[np.ndarray]) -> float:
    count = sum(s.size for s in sq)
    mean = sum(float(s.sum()) for s in sq) / max(count, 1)
    return 0.0 if mean <= 0 else 1.0 / (2.0 * mean)


def contrast_weights(image: np.ndarray, gamma: float, beta: float | None = None) -> np.ndarray:
    """GrabCut's contrast-sensitive Potts weights on the 8-connected grid.

    Parameters
    ----------
    image : ndarray of shape (H, W, C)
        Pixel features (colours).
    gamma : float
        Strength of the smoothness term (GrabCut uses 50 for colours in 0..255 units of
        log-likelihood; the weights do not depend on the colour scale).
    beta : float, optional
        :func:`contrast_beta` of this image by default; give the whole image's to get the
        weights of a crop of it exactly as they are in the whole image.

    Returns
    -------
    ndarray of shape (4, H, W)
        Weight of the edge from each pixel to its neighbour at each of :data:`OFFSETS`.
    """
    img = np.asarray(image, dtype=np.float64)
    h, w = img.shape[:2]
    sq = _square_differences(img)
    if beta is None:
        beta = _beta(sq)
    out = np.zeros((4, h, w))
    for k, ((dr, dc), s) in enumerate(zip(OFFSETS, sq, strict=True)):
        src, _ = _pairs(h, w, dr, dc)
        out[k][src] = gamma / np.hypot(dr, dc) * np.exp(-beta * s)
    return out


def neighbour_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_j w_ij values_j`` over the 8 neighbours of every pixel: shape (H, W)."""
    h, w = values.shape
    out = np.zeros((h, w))
    for k, (dr, dc) in enumerate(OFFSETS):
        src, dst = _pairs(h, w, dr, dc)
        wk = weights[k][src]
        out[src] += wk * values[dst]
        out[dst] += wk * values[src]
    return out


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.clip(a, -700.0, 700.0)))


def mean_field(
    logit: np.ndarray,
    weights: np.ndarray,
    q: np.ndarray | None = None,
    n_sweeps: int = 10,
    *,
    hard: bool = False,
    damping: float = 0.5,
) -> np.ndarray:
    """Approximate foreground marginals of the Potts MRF by damped parallel mean-field sweeps.

    Parameters
    ----------
    logit : ndarray of shape (H, W)
        Log-odds of foreground from each pixel's own evidence (``+inf``/``-inf``: clamped).
    weights : ndarray of shape (4, H, W)
        Edge weights (:func:`contrast_weights`).
    q : ndarray of shape (H, W), optional
        Starting marginals; ``sigmoid(logit)`` by default.
    n_sweeps : int, default=10
    hard : bool, default=False
        Iterated conditional modes instead: each pixel takes its most probable label given
        its neighbours' labels (the hard-EM counterpart of mean field).
    damping : float, default=0.5
        Weight of the previous marginals in each update (parallel updates oscillate without it).

    Returns
    -------
    ndarray of shape (H, W)
        Foreground probabilities (0/1 when ``hard``).
    """
    q = _sigmoid(logit) if q is None else np.asarray(q, dtype=np.float64)
    if hard:
        q = (q > 0.5).astype(np.float64)
    for _ in range(n_sweeps):
        a = logit + neighbour_sum(2.0 * q - 1.0, weights)
        new = (a > 0).astype(np.float64) if hard else _sigmoid(a)
        q = new if hard else damping * q + (1.0 - damping) * new
    return q


def _maxflow() -> Any:
    try:
        import maxflow
    except ImportError as exc:
        raise ImportError(
            "mrf='graphcut' needs PyMaxflow: pip install 'emkit[image]' (or use mrf='meanfield')"
        ) from exc
    return maxflow


class GridCut:
    """Repeated exact min-cuts on one grid: fixed edge weights, changing unary terms.

    The graph (nodes and the pairwise edges, the expensive part) is built once. Each
    :meth:`cut` after the first only changes the terminal capacities by the difference of the
    unary terms and resumes the max-flow from the previous flow and search trees (the dynamic
    graph cuts of Kohli and Torr 2007, through Boykov-Kolmogorov's ``maxflow(reuse_trees=True)``);
    the result is still the labelling of minimum energy. EM calls it once per E-step with colour
    models that change less and less.

    Pixels whose label is known for good (``fixed``: the outside of a GrabCut rectangle) are
    left out of the graph: an edge from a free pixel to a fixed one becomes part of the free
    pixel's unary term (``-w`` on its foreground log-odds next to a fixed background pixel,
    ``+w`` next to a fixed foreground one), which leaves the energy unchanged up to a constant.

    Parameters
    ----------
    weights : ndarray of shape (4, H, W)
        Edge weights (:func:`contrast_weights`).
    fixed : ndarray of shape (H, W), optional
        +1 for pixels that are foreground whatever the unary terms, -1 for background, 0 for
        the others (all free by default).
    """

    def __init__(self, weights: np.ndarray, fixed: np.ndarray | None = None) -> None:
        maxflow = _maxflow()
        self.weights = np.asarray(weights, dtype=np.float64)
        _, h, w = self.weights.shape
        self.fixed = np.zeros((h, w)) if fixed is None else np.sign(np.asarray(fixed, float))
        if self.fixed.shape != (h, w):
            raise ValueError(f"fixed must have shape {(h, w)}, got {self.fixed.shape}")
        free = (self.fixed == 0).ravel()
        self._free = free
        ids = np.full(h * w, -1, dtype=np.int64)
        ids[free] = np.arange(int(free.sum()))
        ids = ids.reshape(h, w)
        fixed_flat = self.fixed.ravel()
        flat = np.arange(h * w).reshape(h, w)
        offset = np.zeros(h * w)
        sources, targets, caps = [], [], []
        for k, (dr, dc) in enumerate(OFFSETS):
            src, dst = _pairs(h, w, dr, dc)
            i, j, wk = ids[src].ravel(), ids[dst].ravel(), self.weights[k][src].ravel()
            both = (i >= 0) & (j >= 0)
            sources.append(i[both])
            targets.append(j[both])
            caps.append(wk[both])
            # free next to fixed: the edge is cut exactly when the free pixel differs
            fi, fj = flat[src].ravel(), flat[dst].ravel()
            m = (i >= 0) & (j < 0)
            np.add.at(offset, fi[m], wk[m] * fixed_flat[fj[m]])
            m = (i < 0) & (j >= 0)
            np.add.at(offset, fj[m], wk[m] * fixed_flat[fi[m]])
        self._offset = offset[free]
        n_free = int(free.sum())
        self._graph = maxflow.Graph[float](max(n_free, 1), max(sum(c.size for c in caps), 1))
        self._nodes = self._graph.add_nodes(n_free)
        cap = np.concatenate(caps)
        if cap.size:
            self._graph.add_edges(np.concatenate(sources), np.concatenate(targets), cap, cap)
        # a clamp must outweigh every edge around the pixel
        self._big = 1.0 + 2.0 * float(self.weights.sum(axis=0).max(initial=0.0)) * 4.0
        self._unary: np.ndarray | None = None

    def cut(self, logit: np.ndarray) -> np.ndarray:
        """The labelling of minimum energy for these unary terms.

        Parameters
        ----------
        logit : ndarray of shape (H, W)
            Log-odds of foreground from each pixel's own evidence (the unary terms);
            ``+inf``/``-inf`` clamp a pixel to foreground/background. Ignored at ``fixed``
            pixels.

        Returns
        -------
        ndarray of shape (H, W), bool
            True for foreground.
        """
        if np.shape(logit) != self.fixed.shape:
            raise ValueError(f"logit must have shape {self.fixed.shape}, got {np.shape(logit)}")
        labels = self.fixed > 0
        if self._nodes.size == 0:
            return labels
        big = self._big
        a = np.nan_to_num(
            np.asarray(logit, dtype=np.float64).ravel()[self._free], posinf=big, neginf=-big
        )
        a = np.clip(a + self._offset, -big, big)
        reuse = self._unary is not None
        # source side = foreground: cutting a pixel's source edge (it goes to the sink,
        # background) costs its foreground log-odds when positive; cutting its sink edge costs
        # the opposite. Only the difference of the two capacities matters, so a change of the
        # unary term is added to the residual capacities as it stands.
        delta = a - self._unary if reuse else a
        if reuse:
            changed = delta != 0.0
            if np.any(changed):
                nodes = self._nodes[changed]
                d = delta[changed]
                self._graph.add_grid_tedges(nodes, np.maximum(d, 0.0), np.maximum(-d, 0.0))
                self._graph.mark_grid_nodes(nodes)
                self._graph.maxflow(reuse_trees=True)
        else:
            self._graph.add_grid_tedges(self._nodes, np.maximum(a, 0.0), np.maximum(-a, 0.0))
            self._graph.maxflow()
        self._unary = a
        flat = labels.ravel()
        flat[self._free] = ~np.asarray(self._graph.get_grid_segments(self._nodes), dtype=bool)
        return flat.reshape(labels.shape)


def graph_cut(logit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The labelling of minimum energy (exact, by a min-cut on the grid).

    Parameters
    ----------
    logit : ndarray of shape (H, W)
        Log-odds of foreground from each pixel's own evidence (the unary terms);
        ``+inf``/``-inf`` clamp a pixel to foreground/background.
    weights : ndarray of shape (4, H, W)
        Edge weights (:func:`contrast_weights`).

    Returns
    -------
    ndarray of shape (H, W), bool
        True for foreground.

    See Also
    --------
    GridCut : the same, repeated on one grid without rebuilding the graph.
    """
    return GridCut(weights).cut(logit)


def cut_energy(labels: np.ndarray, weights: np.ndarray) -> float:
    """The pairwise part of the energy: total weight of edges joining different labels."""
    lab = np.asarray(labels, dtype=bool)
    h, w = lab.shape
    total = 0.0
    for k, (dr, dc) in enumerate(OFFSETS):
        src, dst = _pairs(h, w, dr, dc)
        total += float(np.sum(weights[k][src][lab[src] != lab[dst]]))
    return total
