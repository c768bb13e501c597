r"""Foreground/background segmentation of an image by EM.

Two classes, background (0) and foreground (1), each a mixture of ``K`` Gaussians in colour space.
:class:`FigureGroundMixture` is the model on the engine: a mixture of ``2K`` Gaussian components
whose first ``K`` make up the background and last ``K`` the foreground, with a per-pixel prior
log-odds of foreground ``prior_i`` (``-inf`` clamps a pixel to the background, as the outside of a
GrabCut rectangle, ``+inf`` to the foreground)::

    log p(x_i, z_i = k) = log sigma(+-prior_i) + log w_k + log N(x_i | mu_k, Sigma_k)

(``w_k`` sum to one within each class). EM alternates the pixel posteriors (E-step) and the
colour models (M-step, closed form: :meth:`~emkit.models.GaussianMixture.params_from_moments`).
Colours have few channels, so the E-step works on the pixels' quadratic features
``f(x) = [1, x, x_j x_l]`` (:func:`~emkit.models.gaussian.quadratic_features`): the log-densities
of all ``2K`` components are one GEMM ``theta @ f`` and the M-step's statistics another,
``resp @ f^T``.
The E-step optionally adds spatial coherence, a Potts MRF over the 8-connected pixel grid
(:mod:`emkit.image.mrf`):

- ``mrf=None``: pixels independent (a plain semi-supervised mixture);
- ``mrf='graphcut'``: the class of every pixel is the exact minimiser of the MRF energy given
  the colour models (a min-cut, as GrabCut), the component within the class its posterior. The
  graph is built once per fit and each E-step's cut resumes from the previous flow
  (:class:`~emkit.image.mrf.GridCut`); pixels clamped by the prior stay out of it.
  The objective is minus the energy, ``sum_i log p(x_i, l_i) - sum_ij w_ij [l_i != l_j]``; the
  E-step minimises it over labels exactly and the M-step raises it, so it never decreases
  (up to ``reg_covar``, see :class:`~emkit.models.GaussianMixture`);
- ``mrf='meanfield'``: the class log-odds of each pixel get the mean field of its neighbours
  after ``n_sweeps`` damped mean-field sweeps (NumPy only; hard EM gives iterated conditional
  modes). The objective is then a pseudo-likelihood, not guaranteed monotone.

Posteriors go through ``ctx.posterior``, so ``hard=True`` gives classification EM throughout.

:class:`Segmenter` is the user-facing tool: it turns an image, a rectangle or hint mask into
pixels and priors, fits the model on a reduced copy of the image (``max_side``), and labels the
full-resolution image with the fitted colour models.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.ndimage import zoom
from threadpoolctl import threadpool_limits

from emkit._sklearn_api import BaseEstimator, check_random_state
from emkit._validation import Constraint, interval, one_of, validate_params
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import ConvergenceWarning, DataError
from emkit.image.mrf import (
    GridCut,
    contrast_beta,
    contrast_weights,
    cut_energy,
    mean_field,
    neighbour_sum,
)
from emkit.models._blocks import stable_shift
from emkit.models._seeding import kmeans_plusplus
from emkit.models.gaussian import (
    GaussianMixture,
    GaussianParams,
    log_density_coefficients,
    quadratic_features,
)
from emkit.stats import Stats

__all__ = ["FigureGroundMixture", "Segmentation", "Segmenter"]

_MRF = one_of({None, "graphcut", "meanfield"})


def _class_softmax(L: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Posteriors within each class and ``log sum exp`` of each class, in place.

    ``L`` is a log joint in (component, pixel) layout, shape (2K, n): the reductions run over
    the short first axis, vectorised along the pixels. ``L`` is overwritten by ``within`` of
    shape (2, K, n) (each class's components' posteriors given the class; 0 where the class is
    impossible), returned with ``lse`` of shape (2, n) (``-inf`` where the class is impossible).
    """
    Lc = L.reshape(2, K, -1)
    top = Lc.max(axis=1)
    safe = np.where(np.isfinite(top), top, 0.0)
    Lc -= safe[:, None, :]
    np.exp(Lc, out=Lc)
    total = Lc.sum(axis=1)
    np.divide(Lc, total[:, None, :], out=Lc, where=total[:, None, :] > 0)  # else exp(-inf) = 0
    with np.errstate(divide="ignore"):
        lse = np.log(total) + safe
    return Lc, lse


def _odds(lse: np.ndarray) -> np.ndarray:
    """Foreground log-odds from the classes' ``log sum exp`` (0 where both are impossible)."""
    with np.errstate(invalid="ignore"):
        a = lse[1] - lse[0]
    return np.nan_to_num(a, nan=0.0, posinf=np.inf, neginf=-np.inf)


def _log_sigmoid(a: np.ndarray) -> np.ndarray:
    """``log(1 / (1 + exp(-a)))`` for a in [-inf, inf]."""
    return -np.logaddexp(0.0, -a)


class FigureGroundMixture(MixtureEstimator[GaussianParams]):
    r"""Two-class (background/foreground) Gaussian mixture of pixel colours, with an MRF option.

    Parameters
    ----------
    n_components : int, default=5
        Gaussian components per class (``2 * n_components`` in all; background first).
    covariance_type : {'full', 'diag', 'spherical'}, default='full'
    reg_covar : float, default=1e-4
        Added to the diagonal of each covariance (colours are in [0, 1]).
    mrf : {None, 'graphcut', 'meanfield'}, default=None
        Spatial coherence in the E-step (see the module docstring); needs ``grid`` and
        ``edges`` in ``fit``.
    n_sweeps : int, default=10
        Mean-field sweeps per E-step (``mrf='meanfield'``).
    tol, max_iter, n_init, hard, random_state, warm_start
        As for every emkit estimator.

    Notes
    -----
    ``fit(X, prior=..., grid=..., edges=...)`` takes per-pixel arrays: ``X`` of shape (n, C)
    (colours), ``prior`` of shape (n,) (log-odds of foreground, default 0), and for the MRF
    ``grid`` of shape (n, 2) (row and column of each pixel; the rows must be the whole image
    in raster order, so the MRF runs with the in-memory executor without chunking) and
    ``edges`` of shape (n, 4) (:func:`emkit.image.mrf.contrast_weights`, moved to the last axis).

    Starting point (as GrabCut): pixels clamped to the background start as background, all
    others as foreground; without clamps, each pixel starts in the foreground with probability
    ``sigmoid(prior)``; with no information in ``prior`` at all (all equal) the two classes
    start from a 2-means split of the colours. Within each class the components start from
    weighted k-means++ seeds and a few Lloyd steps.
    """

    monotone: ClassVar[bool] = False  # reg_covar; and mean field is not monotone

    params_type = GaussianParams

    #: (prior, grid, edges, cut): the graph cut of the last grid seen. Each cut is exact whatever
    #: state the graph was left in, so this only saves rebuilding it (not pickled)
    _cut_cache: tuple[np.ndarray, np.ndarray, np.ndarray, GridCut] | None = None

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "covariance_type": one_of({"full", "diag", "spherical"}),
        "reg_covar": interval(float, 0.0, None),
        "mrf": _MRF,
        "n_sweeps": interval(int, 1, None),
    }

    def __init__(
        self,
        n_components: int = 5,
        *,
        covariance_type: str = "full",
        reg_covar: float = 1e-4,
        mrf: str | None = None,
        n_sweeps: int = 10,
        tol: float = 1e-4,
        max_iter: int = 10,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.mrf = mrf
        self.n_sweeps = n_sweeps
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    # -- data -------------------------------------------------------------------------------
    def _check_n_samples(self, n_samples: int) -> None:
        if 2 * self.n_components > n_samples:
            raise DataError(
                f"FigureGroundMixture with n_components={self.n_components} per class needs at "
                f"least {2 * self.n_components} pixels, got {n_samples}"
            )

    def _validate_data(
        self,
        X: Any,
        *,
        reset: bool,
        prior: Any = None,
        grid: Any = None,
        edges: Any = None,
        **unexpected: Any,
    ) -> tuple[np.ndarray, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = np.asarray(X)
        X = X.astype(np.float32 if X.dtype == np.float32 else np.float64, copy=False)
        if X.ndim != 2 or X.shape[1] < 1:
            raise DataError(f"X must have shape (n_pixels, n_channels), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise DataError("X holds NaN or infinite values")
        n = X.shape[0]
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise DataError(
                f"X has {X.shape[1]} channels but the model was fitted on {self.n_features_in_}"
            )
        p = np.zeros(n) if prior is None else np.asarray(prior, dtype=np.float64)
        if p.shape != (n,) or np.any(np.isnan(p)):
            raise DataError(f"prior must be {n} log-odds (+-inf allowed, no NaN), got {p.shape}")
        if self.mrf is None:
            g = np.zeros((n, 2), dtype=np.int64)
            e = np.zeros((n, 4))
        else:
            if grid is None or edges is None:
                raise DataError(f"mrf={self.mrf!r} needs the pixel grid and edges arrays")
            g = np.asarray(grid, dtype=np.int64)
            e = np.asarray(edges, dtype=np.float64)
            if g.shape != (n, 2) or e.shape != (n, 4):
                raise DataError(
                    f"grid must have shape ({n}, 2) and edges ({n}, 4), got {g.shape}, {e.shape}"
                )
        return X, p, g, e

    # -- helpers ----------------------------------------------------------------------------
    def _colour(self) -> GaussianMixture:
        return GaussianMixture(
            2 * self.n_components, covariance_type=self.covariance_type, reg_covar=self.reg_covar
        )

    def _grid_shape(self, batch: Batch) -> tuple[int, int]:
        grid = batch.arrays[2]
        h, w = int(grid[:, 0].max()) + 1, int(grid[:, 1].max()) + 1
        if h * w != batch.n_rows or np.any(grid[:, 0] * w + grid[:, 1] != np.arange(h * w)):
            raise DataError(
                f"mrf={self.mrf!r} needs every pixel of the image in raster order in one batch "
                "(use the in-memory executor without chunk_rows)"
            )
        return h, w

    def class_log_odds(self, batch: Batch, params: GaussianParams) -> np.ndarray:
        """Log-odds of foreground of each pixel from its own colour and prior: shape (n,)."""
        L, _ = self._log_joint_t(batch.arrays[0], batch.arrays[1], params)
        return _odds(_class_softmax(L, self.n_components)[1])

    def predict_foreground(self, X: Any, **fit_data: Any) -> np.ndarray:
        """Probability of foreground of each pixel under the fitted model and the MRF.

        Parameters
        ----------
        X, **fit_data
            As for ``fit`` (``prior``, and ``grid`` and ``edges`` with an MRF).

        Returns
        -------
        ndarray of shape (n,)
            ``mrf='graphcut'``: 0/1, the labelling of minimum energy; ``'meanfield'``: the
            mean-field marginals; None: each pixel's own posterior.
        """
        batch = self._batch(X, fit_data)
        a = self.class_log_odds(batch, self.params_)
        if self.mrf == "graphcut":
            cut = self._grid_cut(batch)
            return cut.cut(a.reshape(cut.weights.shape[1:])).ravel().astype(np.float64)
        if self.mrf == "meanfield":
            h, w = self._grid_shape(batch)
            edges = batch.arrays[3].T.reshape(4, h, w)
            return mean_field(
                a.reshape(h, w), edges, n_sweeps=self.n_sweeps, hard=self.hard
            ).ravel()
        return _prob(a)

    def _log_joint_t(
        self, X: np.ndarray, prior: np.ndarray, params: GaussianParams
    ) -> tuple[np.ndarray, np.ndarray]:
        """The log joint in (component, pixel) layout, shape (2K, n), and the pixels'
        :func:`~emkit.models.gaussian.quadratic_features` (one GEMM gives all components)."""
        K = self.n_components
        shift = stable_shift(params.means)
        F = quadratic_features(X, shift)
        L = log_density_coefficients(params, self.covariance_type, shift) @ F
        log_bg = _log_sigmoid(-prior)
        with np.errstate(invalid="ignore"):
            log_fg = log_bg + prior  # log sigma(a) = log sigma(-a) + a, one log-exp fewer
        log_fg[prior == np.inf] = 0.0
        L[:K] += log_bg
        L[K:] += log_fg
        return L, F

    def _grid_cut(self, batch: Batch) -> GridCut:
        """The graph cut of this batch's grid, built on the first E-step of a fit and reused
        (its result does not depend on the reuse: every cut is exact)."""
        prior, grid, edges = batch.arrays[1], batch.arrays[2], batch.arrays[3]
        cached = self._cut_cache
        if cached is not None and all(
            a is b for a, b in zip(cached[:3], batch.arrays[1:4], strict=True)
        ):
            return cached[3]
        h, w = self._grid_shape(batch)
        # pixels clamped by the prior (the outside of a rectangle) stay out of the graph
        fixed = np.where(np.isinf(prior), np.sign(prior), 0.0).reshape(h, w)
        cut = GridCut(edges.T.reshape(4, h, w), fixed)
        self._cut_cache = (prior, grid, edges, cut)
        return cut

    # -- engine hooks -----------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_cut_cache", None)
        return state

    def log_joint(self, batch: Batch, params: GaussianParams) -> np.ndarray:
        return self._log_joint_t(batch.arrays[0], batch.arrays[1], params)[0].T

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> GaussianParams:
        X, prior = batch.arrays[0], batch.arrays[1]
        K = self.n_components
        clamped = prior == -np.inf
        if np.any(clamped) and not np.all(clamped):
            pf = (~clamped).astype(np.float64)  # GrabCut's start: all that may be fg is fg
        else:
            pf = np.exp(_log_sigmoid(prior))
        if np.ptp(pf) == 0.0:  # no information: split the colours in two
            pf = _lloyd(X, batch.weight, 2, rng)[:, 1].astype(np.float64)
        resp = np.zeros((X.shape[0], 2 * K))
        for c, wc in enumerate((1.0 - pf, pf)):
            w = wc * batch.weight
            if not np.any(w > 0):  # a class with no pixel at all: seed it from every pixel
                w = batch.weight
            resp[:, c * K : (c + 1) * K] = _lloyd(X, w, K, rng) * w[:, None]
        shift = stable_shift(X)
        moments = resp.T @ quadratic_features(X, shift).T
        params = self._colour().params_from_moments(moments, shift)
        return self._renormalise(params, moments[:, 0])

    def _renormalise(self, params: GaussianParams, nk: np.ndarray) -> GaussianParams:
        K = self.n_components
        nk = np.asarray(nk, dtype=np.float64) + 10 * np.finfo(np.float64).eps
        totals = np.repeat([nk[:K].sum(), nk[K:].sum()], K)
        return GaussianParams(
            nk / totals, params.means, params.covariances, params.precisions_cholesky
        )

    def e_step(self, batch: Batch, params: GaussianParams, ctx: StepContext) -> Stats:
        X, prior, weight = batch.arrays[0], batch.arrays[1], batch.weight
        K = self.n_components
        n = X.shape[0]
        L, F = self._log_joint_t(X, prior, params)
        lj = L.copy() if ctx.hard else L
        within, lse = _class_softmax(L, K)
        # the MRF acts on the classes only: an offset (2, n) of each class's log joint
        offset = np.zeros((2, n))
        pairwise = 0.0
        if self.mrf == "graphcut":
            cut = self._grid_cut(batch)
            fg = cut.cut(_odds(lse).reshape(cut.weights.shape[1:]))
            pairwise = cut_energy(fg, cut.weights)
            fg = fg.ravel()
            offset[0, fg] = -np.inf
            offset[1, ~fg] = -np.inf
        elif self.mrf == "meanfield":
            h, w = self._grid_shape(batch)
            edges = batch.arrays[3].T.reshape(4, h, w)
            q = mean_field(_odds(lse).reshape(h, w), edges, n_sweeps=self.n_sweeps, hard=ctx.hard)
            field = neighbour_sum(2.0 * q - 1.0, edges).ravel()
            offset[0] = -0.5 * field
            offset[1] = 0.5 * field
        if ctx.hard:
            lj = (lj.reshape(2, K, n) + offset[:, None, :]).reshape(2 * K, n)
            resp_rows, log_norm = ctx.posterior(lj.T)
            resp = resp_rows.T * weight
        else:
            # the posterior factorises into the class posterior and the within-class one
            cls = lse + offset
            log_norm = np.logaddexp(cls[0], cls[1])
            with np.errstate(invalid="ignore"):  # rows of all -inf are reported by the engine
                within *= (np.exp(cls - log_norm) * weight)[:, None, :]
            resp = within.reshape(2 * K, n)
        moments = resp @ F.T
        return Stats(
            float(np.dot(weight, log_norm)) - pairwise,
            float(np.sum(weight, dtype=np.float64)),
            moments=moments,
        )

    def accumulate(self, batch: Batch, resp: np.ndarray, params: GaussianParams) -> Stats:
        F = quadratic_features(batch.X, stable_shift(params.means))
        return Stats(moments=np.asarray(resp).T @ F.T)

    def m_step(self, stats: Stats, params: GaussianParams, ctx: StepContext) -> GaussianParams:
        K = self.n_components
        moments = np.asarray(stats["moments"], dtype=np.float64)
        nk = moments[:, 0]
        shift = stable_shift(params.means)
        new = self._colour().params_from_moments(moments, shift, previous=params)
        new = self._renormalise(new, nk)
        # a class that lost every pixel keeps its colour model
        for c in (0, 1):
            part = slice(c * K, (c + 1) * K)
            if nk[part].sum() <= 0:
                new = GaussianParams(
                    np.concatenate([new.weights[:K], params.weights[K:]])
                    if c
                    else np.concatenate([params.weights[:K], new.weights[K:]]),
                    _replace(new.means, params.means, part),
                    _replace(new.covariances, params.covariances, part),
                    _replace(new.precisions_cholesky, params.precisions_cholesky, part),
                )
        return new

    def _component_weights(self, params: GaussianParams) -> np.ndarray:
        return np.asarray(params.weights) / 2.0

    def _n_parameters(self) -> int:
        K2, d = self.params_.means.shape
        cov = {"full": K2 * d * (d + 1) // 2, "diag": K2 * d, "spherical": K2}
        return int(cov[self.covariance_type] + K2 * d + K2 - 2)


def _replace(new: np.ndarray, old: np.ndarray, part: slice) -> np.ndarray:
    out = np.array(new, copy=True)
    out[part] = old[part]
    return out


def _lloyd(
    X: np.ndarray, weight: np.ndarray, k: int, rng: np.random.RandomState, n_iter: int = 8
) -> np.ndarray:
    """One-hot assignments of every row to weighted k-means centres found on <= 2000 rows."""
    rows = np.flatnonzero(weight > 0)
    if rows.size > 2000:
        rows = rng.choice(rows, size=2000, replace=False, p=weight[rows] / weight[rows].sum())
    Xs, ws = X[rows], weight[rows]
    k_eff = min(k, rows.size)
    centres, _ = kmeans_plusplus(Xs, k_eff, random_state=rng, sample_weight=ws)
    if k_eff < k:
        centres = np.vstack([centres, np.repeat(centres[-1:], k - k_eff, axis=0)])
    for _ in range(n_iter):
        onehot = _nearest(Xs, centres) * ws[:, None]
        mass = onehot.sum(axis=0)
        keep = mass > 0
        centres[keep] = (onehot.T @ Xs)[keep] / mass[keep, None]
    return _nearest(X, centres)


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = -2.0 * X @ centres.T + np.einsum("ij,ij->i", centres, centres)
    out = np.zeros((X.shape[0], centres.shape[0]))
    out[np.arange(X.shape[0]), np.argmin(d2, axis=1)] = 1.0
    return out


# ------------------------------------------------------------------------------------------
# the user-facing segmenter
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segmentation:
    """The result of :meth:`Segmenter.segment`.

    Attributes
    ----------
    mask : ndarray of shape (H, W), bool
        True for foreground.
    probability : ndarray of shape (H, W)
        Probability of foreground of each pixel given its colour, its prior and (with an MRF)
        its neighbours' labels; ``mask == probability > 0.5``.
    model : FigureGroundMixture
        The fitted colour model (background components first).
    scale : int
        The model was fitted on the image reduced by this factor along each side.
    swapped : bool
        Unsupervised mode only: whether the classes were swapped by the border rule.
    """

    mask: np.ndarray
    probability: np.ndarray
    model: FigureGroundMixture
    scale: int
    swapped: bool = False

    @property
    def converged(self) -> bool:
        """Whether EM converged within ``max_iter`` iterations."""
        return bool(self.model.converged_)


class Segmenter(BaseEstimator):
    r"""Split an image into foreground and background by EM on colour mixtures.

    Give a rectangle around the object (GrabCut style: everything outside it is background for
    sure), a hint mask (pixels known to be background or foreground), both, or nothing.

    Parameters
    ----------
    n_components : int, default=5
        Gaussian components per class.
    mrf : {'graphcut', 'meanfield', None}, default='graphcut'
        Spatial coherence (see :class:`FigureGroundMixture`). ``'graphcut'`` needs PyMaxflow
        (``pip install 'emkit[image]'``); ``'meanfield'`` is NumPy only.
    smoothness : float, default=50.0
        ``gamma`` of the contrast-sensitive Potts weights
        (:func:`emkit.image.mrf.contrast_weights`).
    center_prior : float, default=3.0
        With a rectangle: the prior log-odds of foreground falls linearly from
        ``+center_prior`` at the rectangle's centre to ``-center_prior`` on its sides (objects
        tend to be centred in the box drawn around them). 0 disables it.
    max_side : int or None, default=200
        EM runs on the image reduced (by block averaging) so that its longer side is at most
        this; the full-resolution labels then come from the fitted colour models and a few
        mean-field sweeps seeded by the reduced labels. None: EM at full resolution.
    max_iter : int, default=10
    tol : float, default=1e-4
    n_sweeps : int, default=10
        Mean-field sweeps per E-step (``mrf='meanfield'``).
    refine_sweeps : int, default=4
        Full-resolution mean-field sweeps after EM (when the image was reduced and an MRF is on).
    hard : bool, default=False
        Classification EM.
    reg_covar : float, default=1e-4
    random_state : int, RandomState or None, default=0

    Notes
    -----
    **Which class is the foreground without any hint** (unsupervised mode, the course's
    setting): the colours are split by EM into two classes, and the class that covers more than
    half of the image border is called background. A rectangle that covers the whole image
    gives no background pixel and is treated the same way (with its centre prior).

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.image import Segmenter
    >>> rng = np.random.RandomState(0)
    >>> img = np.full((40, 40, 3), 0.2) + 0.02 * rng.standard_normal((40, 40, 3))
    >>> img[10:30, 12:28] = 0.8 + 0.02 * rng.standard_normal((20, 16, 3))
    >>> seg = Segmenter(n_components=2).segment(img, rect=(8, 6, 24, 28))
    >>> int(seg.mask.sum())
    320
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_components": interval(int, 1, None),
        "mrf": _MRF,
        "smoothness": interval(float, 0.0, None),
        "center_prior": interval(float, 0.0, None),
        "max_side": interval(int, 2, None) | one_of({None}),
        "max_iter": interval(int, 0, None),
        "tol": interval(float, 0.0, None),
        "n_sweeps": interval(int, 1, None),
        "refine_sweeps": interval(int, 0, None),
        "reg_covar": interval(float, 0.0, None),
    }

    def __init__(
        self,
        n_components: int = 5,
        *,
        mrf: str | None = "graphcut",
        smoothness: float = 50.0,
        center_prior: float = 3.0,
        max_side: int | None = 200,
        max_iter: int = 10,
        tol: float = 1e-4,
        n_sweeps: int = 10,
        refine_sweeps: int = 4,
        hard: bool = False,
        reg_covar: float = 1e-4,
        random_state: Any = 0,
    ) -> None:
        self.n_components = n_components
        self.mrf = mrf
        self.smoothness = smoothness
        self.center_prior = center_prior
        self.max_side = max_side
        self.max_iter = max_iter
        self.tol = tol
        self.n_sweeps = n_sweeps
        self.refine_sweeps = refine_sweeps
        self.hard = hard
        self.reg_covar = reg_covar
        self.random_state = random_state

    def segment(
        self,
        image: Any,
        rect: tuple[int, int, int, int] | None = None,
        hint: Any = None,
    ) -> Segmentation:
        """Segment one image.

        Parameters
        ----------
        image : array-like of shape (H, W) or (H, W, C)
            uint8 (0..255), uint16 (0..65535), bool, or floats in [0, 1]
            (:func:`emkit.image.read_image` gives the latter).
        rect : (x, y, width, height), optional
            Box around the object, in pixels (x = column, y = row of the top-left corner);
            outside it is background. Parts outside the image are ignored.
        hint : array-like of shape (H, W), optional
            0 = background for sure, 1 = foreground for sure, anything else (e.g. -1) unknown.

        Returns
        -------
        Segmentation

        Raises
        ------
        DataError
            An image with fewer than two pixels, a rectangle that misses the image or is
            empty, a hint of the wrong shape.
        """
        validate_params(self, self._parameter_constraints)
        # the GEMMs here are skinny (pixels x channels): BLAS threads only add overhead, and
        # ten times more of it on a busy machine
        with threadpool_limits(limits=1, user_api="blas"):
            return self._segment(as_image(image), rect, hint)

    def _segment(self, img: np.ndarray, rect: Any, hint: Any) -> Segmentation:
        H, W = img.shape[:2]
        if H * W < 2:
            raise DataError(
                f"the image is {W}x{H}: at least 2 pixels are needed to separate foreground "
                "from background"
            )
        prior = np.zeros((H, W))
        informative = False
        if rect is not None:
            inside = _rect_mask(rect, H, W)
            if not inside.all():
                prior[~inside] = -np.inf
                informative = True
            if self.center_prior > 0:
                prior += _center_logit(rect, H, W, self.center_prior)
                informative = True
        if hint is not None:
            h = np.asarray(hint)
            if h.shape != (H, W):
                raise DataError(f"hint must have the image's shape {(H, W)}, got {h.shape}")
            prior[h == 0] = -np.inf
            prior[h == 1] = np.inf
            informative = informative or bool(np.any((h == 0) | (h == 1)))

        scale = 1
        if self.max_side is not None and max(H, W) > self.max_side:
            scale = math.ceil(max(H, W) / self.max_side)
        small = _reduce(img, scale)
        small_prior = _sample_centres(prior, scale, small.shape[:2])
        h, w = small.shape[:2]
        K = max(1, min(self.n_components, (h * w) // 2))
        model = FigureGroundMixture(
            K,
            reg_covar=self.reg_covar,
            mrf=self.mrf,
            n_sweeps=self.n_sweeps,
            tol=self.tol,
            max_iter=self.max_iter,
            hard=self.hard,
            random_state=check_random_state(self.random_state),
        )
        fit_data: dict[str, Any] = {"prior": small_prior.ravel()}
        edges_small = contrast_weights(small, self.smoothness)
        if self.mrf is not None:
            rr, cc = np.mgrid[0:h, 0:w]
            fit_data["grid"] = np.column_stack([rr.ravel(), cc.ravel()])
            fit_data["edges"] = edges_small.reshape(4, -1).T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            X_small = small.reshape(h * w, -1).astype(np.float32)
            model.fit(X_small, **fit_data)

        coarse = model.predict_foreground(X_small, **fit_data).reshape(h, w)
        swapped = False
        if not informative and _border_fraction(coarse > 0.5) > 0.5:
            _swap_classes(model)
            coarse = 1.0 - coarse
            swapped = True

        if scale == 1:
            q = coarse
        elif self.mrf is None:
            q = _prob(self._full_log_odds(model, img, prior, np.ones((H, W), dtype=bool)))
        else:
            # only pixels near the reduced image's boundary can change: a band of about two
            # blocks on either side; the rest keeps the upsampled label
            q0 = _upsample(coarse, scale, (H, W))
            band = _band(q0, scale)
            q = (q0 > 0.5).astype(np.float64)
            # the sweeps only change band pixels and read their neighbours: run them on the
            # band's bounding box plus one pixel, with the whole image's contrast weights
            box = _bounding_box(band, margin=1)
            if box is not None:
                inside = band[box]
                a = self._full_log_odds(model, img[box], prior[box], inside)
                a[~inside] = np.where(q0[box][~inside] > 0.5, np.inf, -np.inf)
                qb = np.where(np.isinf(a), (a > 0).astype(np.float64), q0[box])
                weights = contrast_weights(img[box], self.smoothness, contrast_beta(img))
                q[box] = mean_field(a, weights, qb, n_sweeps=self.refine_sweeps, hard=self.hard)
        return Segmentation(q > 0.5, q, model, scale, swapped)

    @staticmethod
    def _full_log_odds(
        model: FigureGroundMixture, img: np.ndarray, prior: np.ndarray, where: np.ndarray
    ) -> np.ndarray:
        """Foreground log-odds of the pixels in ``where`` at full resolution (0 elsewhere)."""
        idx = np.flatnonzero(where)
        n = idx.size
        batch = Batch(
            (
                img.reshape(-1, img.shape[2])[idx].astype(np.float32),
                prior.ravel()[idx],
                np.zeros((n, 2), dtype=np.int64),
                np.zeros((n, 4)),
            ),
            np.ones(n),
        )
        out = np.zeros(where.shape)
        out.ravel()[idx] = model.class_log_odds(batch, model.params_)
        return out


def _prob(a: np.ndarray) -> np.ndarray:
    return np.exp(_log_sigmoid(a))


def as_image(image: Any) -> np.ndarray:
    """An image as floats in [0, 1] of shape (H, W, C); see :meth:`Segmenter.segment`."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] < 1 or a.shape[0] < 1 or a.shape[1] < 1:
        raise DataError(f"an image must have shape (H, W) or (H, W, C), got {a.shape}")
    if a.dtype == np.bool_:
        return a.astype(np.float64)
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float64) / 65535.0
    if not np.issubdtype(a.dtype, np.number):
        raise DataError(f"an image must hold numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise DataError("the image holds NaN or infinite values")
    if a.min() < 0.0 or a.max() > 1.0:
        raise DataError(
            "a float image must have values in [0, 1] (got "
            f"{a.min():.3g}..{a.max():.3g}); pass uint8 or uint16 pixels or rescale"
        )
    return a


def _rect_mask(rect: Any, H: int, W: int) -> np.ndarray:
    try:
        x, y, w, h = (int(v) for v in rect)
    except (TypeError, ValueError):
        raise DataError(f"rect must be four integers (x, y, width, height), got {rect!r}") from None
    if w <= 0 or h <= 0:
        raise DataError(f"rect {(x, y, w, h)} is empty: width and height must be positive")
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        raise DataError(f"rect {(x, y, w, h)} lies outside the {W}x{H} image")
    inside = np.zeros((H, W), dtype=bool)
    inside[y0:y1, x0:x1] = True
    return inside


def _center_logit(rect: Any, H: int, W: int, strength: float) -> np.ndarray:
    x, y, w, h = (int(v) for v in rect)
    cy, cx = y + h / 2.0, x + w / 2.0
    rows = (np.arange(H) + 0.5 - cy) / (h / 2.0)
    cols = (np.arange(W) + 0.5 - cx) / (w / 2.0)
    r = np.maximum(np.abs(rows)[:, None], np.abs(cols)[None, :])  # 0 centre, 1 on the sides
    return strength * (1.0 - 2.0 * np.minimum(r, 1.0))


def _reduce(img: np.ndarray, f: int) -> np.ndarray:
    """Block means over f x f blocks (edge-padded)."""
    if f == 1:
        return img
    H, W, C = img.shape
    h, w = -(-H // f), -(-W // f)
    padded = np.pad(img, ((0, h * f - H), (0, w * f - W), (0, 0)), mode="edge")
    return padded.reshape(h, f, w, f, C).mean(axis=(1, 3))


def _sample_centres(values: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """The value at the centre pixel of each f x f block."""
    if f == 1:
        return values
    H, W = values.shape
    rows = np.minimum(np.arange(shape[0]) * f + f // 2, H - 1)
    cols = np.minimum(np.arange(shape[1]) * f + f // 2, W - 1)
    return values[np.ix_(rows, cols)]


def _upsample(q: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of block values back to the full image."""
    big = zoom(q, f, order=1, mode="nearest", grid_mode=True)
    H, W = shape
    big = big[:H, :W]
    if big.shape != (H, W):
        big = np.pad(big, ((0, H - big.shape[0]), (0, W - big.shape[1])), mode="edge")
    return np.clip(big, 0.0, 1.0)


def _band(q: np.ndarray, f: int) -> np.ndarray:
    """Pixels within ``f`` of a pixel whose upsampled label is not 0 or 1."""
    from scipy.ndimage import binary_dilation

    mixed = (q > 0.0) & (q < 1.0)
    return np.asarray(binary_dilation(mixed, iterations=max(1, f)), dtype=bool)


def _bounding_box(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """Slices of the smallest box holding every True pixel, grown by ``margin`` (None if none)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    H, W = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + 1 + margin, H)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + 1 + margin, W)),
    )


def _border_fraction(mask: np.ndarray) -> float:
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return float(border.mean())


def _swap_classes(model: FigureGroundMixture) -> None:
    K = model.n_components
    order = np.r_[K : 2 * K, 0:K]
    p = model.params_
    model.params_ = GaussianParams(
        p.weights[order], p.means[order], p.covariances[order], p.precisions_cholesky[order]
    )
    for name in ("weights", "means", "covariances", "precisions_cholesky"):
        setattr(model, f"{name}_", getattr(model.params_, name))
