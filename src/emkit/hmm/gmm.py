"""Gaussian-mixture emissions (hmmlearn's GMMHMM), from the Gaussian mixture's own pieces.

Each of the ``K`` states emits from a mixture of ``M = n_mix`` Gaussians. The ``K * M``
components, flattened state by state (component ``(k, m)`` is ``k * M + m``), form one
:class:`~emkit.models.GaussianMixture` frame whose weights are the per-state mixture weights:
its log-joint ``log w_km + log N(x | k, m)`` (one batched pass over the rows) gives the state's
emission log-likelihood by a log-sum-exp over ``m`` and the within-state responsibilities; those
times the HMM's posteriors are the responsibilities whose moments the mixture accumulates, and
the mixture's M-step gives the means and covariances. ``tied`` is hmmlearn's: one covariance
per *state*, shared by its components; it runs as ``full`` components whose covariances are
pooled per state in the M-step (the pooled scatter is the occupancy-weighted mean of the
components' scatters, exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emkit._validation import ARRAY, NONE, Constraint, interval, one_of
from emkit.data import Batch
from emkit.exceptions import DataError, ParameterError
from emkit.hmm._base import _PRIOR, BaseHMM, _log_prior, _normalized
from emkit.hmm.gaussian import (
    _expand_covars,
    _mixture,
    real_observations,
    rebase_emissions,
    start_precisions,
)
from emkit.models.gaussian import COVARIANCE_KINDS, GaussianMixture, GaussianParams
from emkit.stats import Stats

__all__ = ["GMMHMM", "GMMHMMParams"]

#: the mixture's covariance type for the flattened components
_FLAT = {"full": "full", "diag": "diag", "spherical": "spherical", "tied": "full"}


@dataclass(frozen=True)
class GMMHMMParams:
    """Parameters of a hidden Markov model with Gaussian-mixture emissions.

    Attributes
    ----------
    startprob : ndarray of shape (K,)
    transmat : ndarray of shape (K, K)
    weights : ndarray of shape (K, M)
        Mixture weights of each state (rows sum to 1).
    means : ndarray of shape (K, M, d)
    covars : ndarray
        (K, M, d, d) full, (K, d, d) tied (per state), (K, M, d) diag, (K, M) spherical:
        hmmlearn's layouts.
    precisions_cholesky : ndarray
        Of the ``K * M`` flattened components, in the mixture's layout (tied: full).
    """

    startprob: np.ndarray
    transmat: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    covars: np.ndarray
    precisions_cholesky: np.ndarray


class GMMHMM(BaseHMM[GMMHMMParams]):
    r"""Hidden Markov model whose states emit Gaussian mixtures (Baum-Welch on the engine).

    .. math:: p(x_t \mid z_t = k) = \sum_m w_{km}\, \mathcal N(x_t \mid \mu_{km}, \Sigma_{km})

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states ``K``.
    n_mix : int, default=1
        Gaussians per state ``M`` (``n_mix=1`` is :class:`GaussianHMM`).
    covariance_type : {'diag', 'full', 'tied', 'spherical'}, default='diag'
        As hmmlearn's GMMHMM: ``tied`` shares one covariance among the components of a state.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance.
    weights_prior : float or array of shape (K, M), default=1.0
        Dirichlet concentration of each state's mixture weights (MAP-EM; 1 is maximum
        likelihood).
    startprob_prior, transmat_prior : float or array, default=1.0
        Dirichlet concentrations of the start probabilities and of each transition row.
    algorithm : {'viterbi', 'map'}, default='viterbi'
    params, init_params : str, default='stmcw'
        ``s`` start, ``t`` transitions, ``m`` means, ``c`` covariances, ``w`` mixture weights.
    startprob_init, transmat_init, weights_init, means_init, covars_init : array, optional
        Starting values (``covars_init`` in the ``covariance_type`` layout). Unset emissions
        start from k-means with ``K * M`` clusters (``M`` consecutive clusters per state) and
        uniform weights.
    tol, max_iter, n_init, hard, random_state, warm_start
        As every emkit estimator; ``hard=True`` is Viterbi training (the states' path is hard,
        the components within a state stay soft).

    Notes
    -----
    hmmlearn 0.3's GMMHMM takes the covariance statistics about the means of the *previous*
    iteration (not exact EM; its iterates differ from these, its fixed points do not). emkit's
    M-step is the exact one, so its objective never decreases.
    """

    # reg_covar > 0 makes the M-step a regularised one, not the exact maximiser (as
    # GaussianMixture): the engine logs a decrease instead of raising
    monotone: ClassVar[bool] = False
    params_type: ClassVar[type] = GMMHMMParams
    _emission_letters: ClassVar[str] = "mcw"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_mix": interval(int, 1, None),
        "covariance_type": one_of(list(_FLAT)),
        "reg_covar": interval(float, 0.0, None),
        "weights_prior": _PRIOR,
        "weights_init": NONE | ARRAY,
        "means_init": NONE | ARRAY,
        "covars_init": NONE | ARRAY,
    }

    def __init__(
        self,
        n_components: int = 1,
        n_mix: int = 1,
        covariance_type: str = "diag",
        *,
        reg_covar: float = 1e-6,
        weights_prior: Any = 1.0,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        algorithm: str = "viterbi",
        params: str = "stmcw",
        init_params: str = "stmcw",
        startprob_init: Any = None,
        transmat_init: Any = None,
        weights_init: Any = None,
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
        self.n_mix = n_mix
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.weights_prior = weights_prior
        self.startprob_prior = startprob_prior
        self.transmat_prior = transmat_prior
        self.algorithm = algorithm
        self.params = params
        self.init_params = init_params  # type: ignore[method-assign, assignment]
        self.startprob_init = startprob_init
        self.transmat_init = transmat_init
        self.weights_init = weights_init
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

    # -- the flattened mixture ------------------------------------------------------------
    def _gmm(self) -> GaussianMixture:
        K, M = self.n_components, self.n_mix
        return _mixture(K * M, _FLAT[self.covariance_type], self.reg_covar)

    def _flat_covars(self, covars: np.ndarray) -> np.ndarray:
        """Covariances of the ``K * M`` components in the mixture's layout."""
        K, M = self.n_components, self.n_mix
        if self.covariance_type == "tied":
            return np.repeat(covars, M, axis=0)
        return covars.reshape((K * M, *covars.shape[2:]))

    def _frame(self, params: GMMHMMParams) -> GaussianParams:
        K, M, d = params.means.shape
        return GaussianParams(
            params.weights.reshape(K * M),
            params.means.reshape(K * M, d),
            self._flat_covars(params.covars),
            params.precisions_cholesky,
        )

    def _emission_cache(self, batch: Batch, params: GMMHMMParams) -> Any:
        """The states' log-likelihoods (n, K) and the within-state responsibilities (n, K, M)."""
        K, M = self.n_components, self.n_mix
        joint = self._gmm()._log_joint_complete(batch, self._frame(params))
        joint = np.asarray(joint, dtype=np.float64).reshape(-1, K, M)
        top = np.max(joint, axis=2)
        top[~np.isfinite(top)] = 0.0
        resp = np.exp(joint - top[:, :, None])
        total = resp.sum(axis=2)
        with np.errstate(divide="ignore"):
            log_prob = np.log(total) + top
        resp /= np.where(total > 0, total, 1.0)[:, :, None]
        return log_prob, resp

    def _emission_log_prob(
        self, batch: Batch, params: GMMHMMParams, cache: Any = None
    ) -> np.ndarray:
        if cache is None:
            cache = self._emission_cache(batch, params)
        return np.asarray(cache[0])

    def _emission_stats(
        self, batch: Batch, wgamma: np.ndarray, params: GMMHMMParams, cache: Any = None
    ) -> dict[str, Any]:
        if cache is None:
            cache = self._emission_cache(batch, params)
        K, M = self.n_components, self.n_mix
        wresp = (wgamma[:, :, None] * cache[1]).reshape(-1, K * M).astype(batch.X.dtype)
        stats = self._gmm()._accumulate_all(batch, wresp, self._frame(params))
        return {f"emit_{k}": np.asarray(stats[k], dtype=np.float64) for k in stats}

    def _emission_m_step(self, stats: Stats, params: GMMHMMParams) -> dict[str, Any]:
        K, M = self.n_components, self.n_mix
        changes: dict[str, Any] = {}
        moments = Stats(**{k[5:]: v for k, v in stats.items() if k.startswith("emit_")})
        nk = np.asarray(moments["nk"]).reshape(K, M)
        if "w" in self.params:
            changes["weights"] = _normalized(nk, params.weights, self.weights_prior)
        if "m" not in self.params and "c" not in self.params:
            return changes
        new = self._gmm()._m_step_stats(moments, self._frame(params))
        d = params.means.shape[2]
        if "m" in self.params:
            changes["means"] = new.means.reshape(K, M, d)
        if "c" in self.params:
            cov = new.covariances
            if self.covariance_type == "tied":  # pool the components' scatters per state
                eye = self.reg_covar * np.eye(d)
                share = nk / np.maximum(nk.sum(axis=1, keepdims=True), np.finfo(float).tiny)
                scatter = (cov - eye).reshape(K, M, d, d)
                pooled = np.einsum("km,kmde->kde", share, scatter) + eye
                changes["covars"] = pooled
                prec = COVARIANCE_KINDS["full"].precision_cholesky(pooled)
                changes["precisions_cholesky"] = np.repeat(prec, M, axis=0)
            else:
                changes["covars"] = cov.reshape((K, M, *cov.shape[1:]))
                changes["precisions_cholesky"] = new.precisions_cholesky
        return changes

    def _emission_log_prior(self, params: GMMHMMParams) -> float:
        return _log_prior(params.weights, self.weights_prior) if "w" in self.params else 0.0

    def rebase_stats(self, stats: Stats, params: GMMHMMParams, new_params: GMMHMMParams) -> Stats:
        """The components' moments re-expressed for ``new_params`` (online EM), by the
        mixture's exact change of frame."""
        return rebase_emissions(self._gmm(), stats, self._frame(params), self._frame(new_params))

    # -- start ----------------------------------------------------------------------------
    def _cov_shape(self, d: int) -> tuple[int, ...]:
        K, M = self.n_components, self.n_mix
        return {
            "full": (K, M, d, d),
            "tied": (K, d, d),
            "diag": (K, M, d),
            "spherical": (K, M),
        }[self.covariance_type]

    def _emission_init(self, batch: Batch, rng: np.random.RandomState) -> dict[str, Any]:
        K, M, d = self.n_components, self.n_mix, batch.X.shape[1]
        drawn: GaussianParams | None = None
        if self.means_init is None or self.covars_init is None:
            for letter, name in (("m", "means_init"), ("c", "covars_init")):
                if getattr(self, name) is None and letter not in self._init_letters():
                    raise ParameterError(f"{name} is needed: {letter!r} is not in init_params")
            if batch.n_rows < K * M:
                raise DataError(
                    f"n_components * n_mix = {K * M} Gaussians need at least {K * M} "
                    f"observations, got {batch.n_rows}"
                )
            resp = self._initial_resp(batch, rng)
            drawn = self._gmm()._m_step_from_resp(batch, resp.astype(batch.X.dtype, copy=False))
        weights = self._start_weights()
        if self.means_init is not None:
            means = np.asarray(self.means_init, dtype=np.float64)
            if means.shape != (K, M, d) or not np.all(np.isfinite(means)):
                raise ParameterError(f"means_init must be finite with shape {(K, M, d)}")
        else:
            assert drawn is not None
            means = drawn.means.reshape(K, M, d)
        if self.covars_init is not None:
            cov = np.asarray(self.covars_init, dtype=np.float64)
            if cov.shape != self._cov_shape(d) or not np.all(np.isfinite(cov)):
                raise ParameterError(
                    f"covars_init for covariance_type={self.covariance_type!r} must be finite "
                    f"with shape {self._cov_shape(d)}, got {cov.shape}"
                )
        else:
            assert drawn is not None
            flat = drawn.covariances
            cov = flat.reshape((K, M, *flat.shape[1:]))
            if self.covariance_type == "tied":
                cov = cov.mean(axis=1)
        prec = start_precisions(_FLAT[self.covariance_type], self._flat_covars(cov))
        return {"weights": weights, "means": means, "covars": cov, "precisions_cholesky": prec}

    def _initial_resp(self, batch: Batch, rng: np.random.RandomState) -> np.ndarray:
        """One-hot responsibilities of the ``K * M`` components, as hmmlearn starts: k-means
        with ``K`` clusters for the states, then k-means with ``M`` clusters inside each (a
        state's cluster with fewer than ``M`` rows borrows random rows for the rest)."""
        K, M = self.n_components, self.n_mix
        X, weight = batch.X, batch.weight
        n = X.shape[0]
        states = np.argmax(_mixture(K, "diag", 0.0)._initial_resp(X, weight, rng), axis=1)
        resp = np.zeros((n, K * M))
        within = _mixture(M, "diag", 0.0)
        for k in range(K):  # K small k-means fits, once per start
            rows = np.flatnonzero(states == k)
            if rows.size >= M:
                comp = np.argmax(within._initial_resp(X[rows], weight[rows], rng), axis=1)
                resp[rows, k * M + comp] = 1.0
            else:
                resp[rows, k * M] = 1.0
                borrowed = rng.choice(n, size=M - rows.size, replace=False)
                resp[borrowed, k * M + rows.size + np.arange(M - rows.size)] = 1.0
        return resp

    def _start_weights(self) -> np.ndarray:
        K, M = self.n_components, self.n_mix
        if self.weights_init is not None:
            return self._user_probabilities("weights_init", (K, M))
        if "w" not in self._init_letters():
            raise ParameterError("weights_init is needed: 'w' is not in init_params")
        return np.full((K, M), 1.0 / M)

    # -- model selection, generation ------------------------------------------------------
    def _emission_n_parameters(self) -> int:
        K, M, d = self.means_.shape
        n = K * (M - 1) if "w" in self.params else 0
        if "m" in self.params:
            n += K * M * d
        if "c" in self.params:
            if self.covariance_type == "tied":
                n += K * d * (d + 1) // 2
            else:
                n += COVARIANCE_KINDS[self.covariance_type].n_cov_parameters(K * M, d)
        return n

    def _emission_sample(
        self, params: GMMHMMParams, states: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        K, M, d = params.means.shape
        flat = _expand_covars(
            self._flat_covars(params.covars), _FLAT[self.covariance_type], K * M, d
        )
        cum = np.cumsum(params.weights, axis=1)
        u = np.asarray(rng.uniform(size=states.shape[0]))
        comp = np.minimum((u[:, None] >= cum[states]).sum(axis=1), M - 1)
        which = states * M + comp
        chol = np.linalg.cholesky(flat)  # (K * M, d, d)
        noise = rng.standard_normal((states.shape[0], d))
        means = params.means.reshape(K * M, d)
        return means[which] + np.einsum("nde,ne->nd", chol[which], noise)
