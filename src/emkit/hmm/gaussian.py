"""Gaussian emissions: the Gaussian mixture's covariance code, reused per hidden state."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emkit._sklearn_api import validate_data
from emkit._validation import ARRAY, NONE, Constraint, check_squares_finite, interval, one_of
from emkit.data import Batch
from emkit.exceptions import DataError, ParameterError
from emkit.hmm import _lattice
from emkit.hmm._base import BaseHMM
from emkit.models.gaussian import (
    COVARIANCE_KINDS,
    GaussianMixture,
    GaussianParams,
)
from emkit.stats import Stats

__all__ = ["GaussianHMM", "GaussianHMMParams", "check_observations", "real_observations"]


@dataclass(frozen=True)
class GaussianHMMParams:
    """Parameters of a Gaussian HMM.

    Attributes
    ----------
    startprob : ndarray of shape (K,)
    transmat : ndarray of shape (K, K)
        ``transmat[i, j] = p(z_{t+1} = j | z_t = i)``.
    means : ndarray of shape (K, d)
    covars : ndarray
        (K, d, d) full, (d, d) tied, (K, d) diag, (K,) spherical (hmmlearn's ``covars_init``
        layout; hmmlearn's ``covars_`` property expands them to (K, d, d)).
    precisions_cholesky : ndarray
        As :class:`~emkit.models.GaussianParams`.
    """

    startprob: np.ndarray
    transmat: np.ndarray
    means: np.ndarray
    covars: np.ndarray
    precisions_cholesky: np.ndarray


def check_observations(owner: Any, X: Any, *, reset: bool, dtype: Any) -> np.ndarray:
    """``X`` as a 2-D finite array (a 1-D array is one feature); NaN is a clear error."""
    if isinstance(X, np.ndarray) and X.ndim == 1:
        X = X.reshape(-1, 1)
    try:
        out = validate_data(owner, X, reset=reset, dtype=dtype, ensure_min_samples=1)
    except ValueError as error:
        if "NaN" in str(error) or "infinity" in str(error):
            raise DataError(
                f"{type(owner).__name__}: X contains NaN or infinity: a hidden Markov model "
                "needs every observation (drop or impute the missing steps first)"
            ) from None
        raise
    return np.asarray(out)


def real_observations(
    owner: Any, X: Any, *, reset: bool, unexpected: dict[str, Any]
) -> tuple[np.ndarray, ...]:
    """``(X,)`` for a model with real-valued emissions: 2-D, finite, squares that cannot
    overflow."""
    if unexpected:
        raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
    X = check_observations(owner, X, reset=reset, dtype=[np.float64, np.float32])
    return (check_squares_finite(X),)


def start_precisions(covariance_type: str, cov: np.ndarray) -> np.ndarray:
    """``precisions_cholesky`` of user-given starting covariances (the mixture's layout), or a
    :class:`~emkit.exceptions.ParameterError` that says what is wrong with them."""
    try:
        prec = COVARIANCE_KINDS[covariance_type].precision_cholesky(cov)
    except np.linalg.LinAlgError:
        raise ParameterError("covars_init must be positive definite") from None
    if not np.all(np.isfinite(prec)):
        raise ParameterError("covars_init must be positive")
    return prec


def rebase_emissions(
    gmm: GaussianMixture,
    stats: Stats,
    frame: GaussianParams,
    new_frame: GaussianParams,
    nk: np.ndarray | None = None,
) -> Stats:
    """The ``emit_*`` moments of ``stats``, taken in the mixture frame ``frame``, re-expressed for
    ``new_frame`` by the mixture's exact change of frame (online EM). ``nk``: the components'
    masses when they are not among the moments (``emit_nk``)."""
    keys = [k for k in stats if k.startswith("emit_")]
    arrays: dict[str, Any] = {k[5:]: stats[k] for k in keys}
    if nk is not None:
        arrays["nk"] = nk
    moments = Stats(0.0, 0.0, **arrays)
    moved = gmm.rebase_stats(moments, frame, new_frame)
    return stats.replace(**{k: moved[k[5:]] for k in keys})


class GaussianHMM(BaseHMM[GaussianHMMParams]):
    r"""Hidden Markov model with Gaussian emissions, fitted by Baum-Welch on the EM engine.

    .. math:: p(x_{1:T}) = \sum_z \pi_{z_1} \prod_t A_{z_{t-1} z_t}
              \mathcal N(x_t \mid \mu_{z_t}, \Sigma_{z_t})

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states.
    covariance_type : {'diag', 'full', 'tied', 'spherical'}, default='diag'
        As :class:`~emkit.models.GaussianMixture` (whose covariance code this reuses).
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance (hmmlearn's ``covars_prior`` plays this
        role; ``reg_covar=0`` gives its estimates with ``covars_prior=0``).
    startprob_prior, transmat_prior : float or array, default=1.0
        Dirichlet concentrations of the start probabilities and of each transition row (MAP-EM:
        ``p = max(alpha - 1 + counts, 0)``, normalised; 1 is maximum likelihood).
    algorithm : {'viterbi', 'map'}, default='viterbi'
        What :meth:`predict` and :meth:`decode` return.
    params, init_params : str, default='stmc'
        Which parameters EM learns, and which are drawn at the start when no ``*_init`` is
        given: ``s`` start probabilities, ``t`` transitions, ``m`` means, ``c`` covariances.
    startprob_init, transmat_init, means_init, covars_init : array, optional
        Starting values (``covars_init`` in the ``covariance_type`` layout).
    tol, max_iter, n_init, hard, random_state, warm_start
        As every emkit estimator; ``hard=True`` is Viterbi training.

    Attributes
    ----------
    startprob_, transmat_, means_, covars_, precisions_cholesky_ : ndarray
    n_iter_, converged_, log_likelihood_, log_likelihood_history_, lower_bound_
    """

    # reg_covar > 0 makes the M-step a regularised one, not the exact maximiser (as
    # GaussianMixture): the engine logs a decrease instead of raising
    monotone: ClassVar[bool] = False
    params_type: ClassVar[type] = GaussianHMMParams
    _emission_letters: ClassVar[str] = "mc"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "covariance_type": one_of(list(COVARIANCE_KINDS)),
        "reg_covar": interval(float, 0.0, None),
        "means_init": NONE | ARRAY,
        "covars_init": NONE | ARRAY,
    }

    def __init__(
        self,
        n_components: int = 1,
        covariance_type: str = "diag",
        *,
        reg_covar: float = 1e-6,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        algorithm: str = "viterbi",
        params: str = "stmc",
        init_params: str = "stmc",
        startprob_init: Any = None,
        transmat_init: Any = None,
        means_init: Any = None,
        covars_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.startprob_prior = startprob_prior
        self.transmat_prior = transmat_prior
        self.algorithm = algorithm
        self.params = params
        self.init_params = init_params  # type: ignore[method-assign, assignment]
        self.startprob_init = startprob_init
        self.transmat_init = transmat_init
        self.means_init = means_init
        self.covars_init = covars_init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    def _validate_data(self, X: Any, *, reset: bool, **unexpected: Any) -> tuple[np.ndarray, ...]:
        return real_observations(self, X, reset=reset, unexpected=unexpected)

    # -- the Gaussian mixture's covariance code -------------------------------------------
    def _gmm(self) -> GaussianMixture:
        return _mixture(self.n_components, self.covariance_type, self.reg_covar)

    def _frame(self, params: GaussianHMMParams) -> GaussianParams:
        K = params.means.shape[0]
        return GaussianParams(np.ones(K), params.means, params.covars, params.precisions_cholesky)

    def _emission_cache(self, batch: Batch, params: GaussianHMMParams) -> Any:
        if self.covariance_type not in ("diag", "spherical"):
            return None
        # the centred rows and their squares, side by side, serve the log-densities and the
        # moments alike: one product each
        p = self._gmm()._prepare(self._frame(params), batch.X.dtype)
        n, d = batch.X.shape
        F = _scratch(n * 2 * d, batch.X.dtype)[: n * 2 * d].reshape(n, 2 * d)
        if _lattice.compiled(n, self.n_components):
            from emkit.hmm import _numba_hmm

            X = np.ascontiguousarray(batch.X)
            _numba_hmm.centred_squares(X, np.asarray(p.shift, dtype=X.dtype), F)
        else:
            np.subtract(batch.X, p.shift, out=F[:, :d])
            np.multiply(F[:, :d], F[:, :d], out=F[:, d:])
        return p, F

    def _emission_log_prob(
        self, batch: Batch, params: GaussianHMMParams, cache: Any = None
    ) -> np.ndarray:
        if cache is None:
            cache = self._emission_cache(batch, params)
        if cache is None:  # full, tied: the mixture's own blocks
            out = self._gmm()._log_joint_complete(batch, self._frame(params))
            return np.asarray(out, dtype=np.float64)
        # the mixture's diag / spherical coefficients: maha = (x - s)^2 a + (x - s) b + c
        # log N = log_const - maha / 2, with maha >= 0 (round-off) as log N <= log_const
        p, F = cache
        out = F @ (-0.5 * np.concatenate([p.b, p.a]))
        out += p.log_const - 0.5 * p.c
        np.minimum(out, p.log_const, out=out)
        return np.asarray(out, dtype=np.float64)

    def _emission_stats(
        self, batch: Batch, wgamma: np.ndarray, params: GaussianHMMParams, cache: Any = None
    ) -> dict[str, Any]:
        wgamma = wgamma.astype(batch.X.dtype, copy=False)
        if cache is None:
            kind = COVARIANCE_KINDS[self.covariance_type]
            if self.covariance_type == "full":  # moments in the whitened frame of params
                stats = dict(
                    self._gmm()._accumulate_all(batch, wgamma, self._frame(params)).items()
                )
                stats.pop("nk")  # the posterior mass is the HMM's ``post``
            else:
                p = self._gmm()._prepare(self._frame(params), batch.X.dtype)
                Xc = batch.X - p.shift
                stats = kind.accumulate(Xc, wgamma, Xc, p)
        else:
            _, F = cache
            d = batch.X.shape[1]
            moments = wgamma.T @ F
            stats = {"sx": moments[:, :d], "sxx": moments[:, d:]}
        return {f"emit_{k}": np.asarray(v, dtype=np.float64) for k, v in stats.items()}

    def _emission_m_step(self, stats: Stats, params: GaussianHMMParams) -> dict[str, Any]:
        if "m" not in self.params and "c" not in self.params:
            return {}
        moments = Stats(
            nk=stats["post"], **{k[5:]: v for k, v in stats.items() if k.startswith("emit_")}
        )
        new = self._gmm()._m_step_stats(moments, self._frame(params))
        if "c" not in self.params:
            return {"means": new.means}
        means = new.means if "m" in self.params else params.means
        return {
            "means": means,
            "covars": new.covariances,
            "precisions_cholesky": new.precisions_cholesky,
        }

    def rebase_stats(
        self, stats: Stats, params: GaussianHMMParams, new_params: GaussianHMMParams
    ) -> Stats:
        """The emission moments, taken about (or whitened by) ``params``' means, re-expressed
        for ``new_params`` by the mixture's exact change of frame (online EM)."""
        return rebase_emissions(
            self._gmm(), stats, self._frame(params), self._frame(new_params), nk=stats["post"]
        )

    def _emission_init(self, batch: Batch, rng: np.random.RandomState) -> dict[str, Any]:
        K, d = self.n_components, batch.X.shape[1]
        gmm = self._gmm()
        drawn: GaussianParams | None = None
        if self.means_init is None or self.covars_init is None:
            for letter, name in (("m", "means_init"), ("c", "covars_init")):
                if getattr(self, name) is None and letter not in self._init_letters():
                    raise ParameterError(f"{name} is needed: {letter!r} is not in init_params")
            if batch.n_rows < K:
                raise DataError(f"n_components={K} states need at least {K} observations")
            resp = gmm._initial_resp(batch.X, batch.weight, rng)
            drawn = gmm._m_step_from_resp(batch, resp.astype(batch.X.dtype, copy=False))
        if self.means_init is not None:
            means = np.asarray(self.means_init, dtype=np.float64)
            if means.shape != (K, d) or not np.all(np.isfinite(means)):
                raise ParameterError(f"means_init must be finite with shape {(K, d)}")
        else:
            assert drawn is not None
            means = drawn.means
        if self.covars_init is not None:
            cov = np.asarray(self.covars_init, dtype=np.float64)
            shape = COVARIANCE_KINDS[self.covariance_type].cov_shape(K, d)
            if cov.shape != shape or not np.all(np.isfinite(cov)):
                raise ParameterError(
                    f"covars_init for covariance_type={self.covariance_type!r} must be finite "
                    f"with shape {shape}, got {cov.shape}"
                )
            prec = start_precisions(self.covariance_type, cov)
        else:
            assert drawn is not None
            cov, prec = drawn.covariances, drawn.precisions_cholesky
        return {"means": means, "covars": cov, "precisions_cholesky": prec}

    def _emission_n_parameters(self) -> int:
        K, d = self.means_.shape
        n = K * d if "m" in self.params else 0
        if "c" in self.params:
            n += COVARIANCE_KINDS[self.covariance_type].n_cov_parameters(K, d)
        return n

    def _emission_sample(
        self, params: GaussianHMMParams, states: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        K, d = params.means.shape
        full = _expand_covars(params.covars, self.covariance_type, K, d)
        X = np.empty((states.shape[0], d))
        for k in range(K):
            rows = np.flatnonzero(states == k)
            if rows.size:
                chol = np.linalg.cholesky(full[k])
                X[rows] = params.means[k] + rng.standard_normal((rows.size, d)) @ chol.T
        return X


def _expand_covars(cov: np.ndarray, covariance_type: str, K: int, d: int) -> np.ndarray:
    """(K, d, d) covariance matrices from the ``covariance_type`` layout (hmmlearn's
    ``covars_`` property)."""
    if covariance_type == "full":
        return cov
    if covariance_type == "tied":
        return np.broadcast_to(cov, (K, d, d)).copy()
    var = cov if covariance_type == "diag" else np.repeat(cov[:, None], d, axis=1)
    out = np.zeros((K, d, d))
    out[:, np.arange(d), np.arange(d)] = var
    return out


_SCRATCH = threading.local()


def _scratch(size: int, dtype: Any) -> np.ndarray:
    """A buffer of at least ``size`` entries, one per thread, reused from block to block: a
    fresh array per block costs its page faults every time (a third of the E-step here)."""
    buffer = getattr(_SCRATCH, "buffer", None)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = _SCRATCH.buffer = np.empty(size, dtype=dtype)
    return buffer


@functools.lru_cache(maxsize=32)
def _mixture(n_components: int, covariance_type: str, reg_covar: float) -> GaussianMixture:
    return GaussianMixture(n_components, covariance_type=covariance_type, reg_covar=reg_covar)
