"""Discrete emissions: categorical symbols and Poisson counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emkit._validation import ARRAY, NONE, Constraint, interval
from emkit.data import Batch
from emkit.exceptions import DataError, ParameterError
from emkit.hmm._base import BaseHMM, _log_prior, _normalized
from emkit.hmm.gaussian import check_observations
from emkit.stats import Stats

__all__ = ["CategoricalHMM", "CategoricalHMMParams", "PoissonHMM", "PoissonHMMParams"]

_COMMON_DOC = """
    startprob_prior, transmat_prior : float or array, default=1.0
        Dirichlet concentrations of the start probabilities and of each transition row (MAP-EM:
        ``p = max(alpha - 1 + counts, 0)``, normalised; 1 is maximum likelihood).
    algorithm : {'viterbi', 'map'}, default='viterbi'
        What :meth:`predict` and :meth:`decode` return.
    startprob_init, transmat_init : array, optional
        Starting values; drawn (uniform) when absent and their letter is in ``init_params``.
    tol, max_iter, n_init, hard, random_state, warm_start
        As every emkit estimator; ``hard=True`` is Viterbi training.
"""


#: rows checked at a time (the checks' temporaries stay small next to the data)
_CHECK_ROWS = 2**14


def _whole_non_negative(X: np.ndarray) -> bool:
    """Whether every value of ``X`` is a non-negative integer (checked block by block)."""
    if np.issubdtype(X.dtype, np.integer):
        return bool(X.size == 0 or X.min() >= 0)
    for s in range(0, X.shape[0], _CHECK_ROWS):
        block = X[s : s + _CHECK_ROWS]
        if np.any(block < 0) or np.any(block != np.round(block)):
            return False
    return True


def _set_common(est: Any, kw: dict[str, Any]) -> None:
    for name, value in kw.items():
        setattr(est, name, value)


@dataclass(frozen=True)
class CategoricalHMMParams:
    """Parameters of a categorical HMM: ``emissionprob[k, m] = p(x_t = m | z_t = k)``."""

    startprob: np.ndarray
    transmat: np.ndarray
    emissionprob: np.ndarray


class CategoricalHMM(BaseHMM[CategoricalHMMParams]):
    (
        """Hidden Markov model with categorical emissions (symbols ``0 .. n_features - 1``).

    ``X`` has one column of integer symbols (shape (n, 1), or (n,)), as hmmlearn's.

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states.
    n_features : int, optional
        Number of symbols; default: one more than the largest symbol in the data (the first
        chunk's, when streamed: give it explicitly there).
    emissionprob_prior : float or array, default=1.0
        Dirichlet concentration of each state's emission row.
    params, init_params : str, default='ste'
        ``s`` start, ``t`` transitions, ``e`` emission probabilities.
    emissionprob_init : array of shape (n_components, n_features), optional
    """
        + _COMMON_DOC
    )

    params_type: ClassVar[type] = CategoricalHMMParams
    _emission_letters: ClassVar[str] = "e"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_features": NONE | interval(int, 1, None),
        "emissionprob_prior": interval(float, 0.0, None, closed="neither") | ARRAY,
        "emissionprob_init": NONE | ARRAY,
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        n_features: int | None = None,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        emissionprob_prior: Any = 1.0,
        algorithm: str = "viterbi",
        params: str = "ste",
        init_params: str = "ste",
        startprob_init: Any = None,
        transmat_init: Any = None,
        emissionprob_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        _set_common(self, {k: v for k, v in locals().items() if k != "self"})

    def _n_symbols(self) -> int:
        if self.n_features is not None:
            return int(self.n_features)
        if self.emissionprob_init is not None:
            return int(np.shape(self.emissionprob_init)[1])
        return int(getattr(self, "_symbols_seen", 1))

    def _symbol_limit(self, reset: bool) -> int:
        if not reset and hasattr(self, "params_"):
            return int(self.params_.emissionprob.shape[1])
        return self._n_symbols()

    def _validate_data(self, X: Any, *, reset: bool, **unexpected: Any) -> tuple[np.ndarray, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = check_observations(self, X, reset=reset, dtype=None)
        if X.shape[1] != 1:
            raise DataError(f"{type(self).__name__} takes one column of symbols, got {X.shape[1]}")
        if not _whole_non_negative(X):
            raise DataError("symbols must be non-negative integers")
        symbols = np.asarray(X[:, 0], dtype=np.intp)  # no copy of integer input
        top = int(symbols.max(initial=-1)) + 1
        if reset:
            self._symbols_seen = top
        if top > self._symbol_limit(reset):
            raise DataError(
                f"symbol {top - 1} is out of range for n_features={self._symbol_limit(reset)} "
                "symbols (give n_features when the first chunk does not show every symbol)"
            )
        return (symbols,)

    def _emission_log_prob(
        self, batch: Batch, params: CategoricalHMMParams, cache: Any = None
    ) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_e = np.log(params.emissionprob.T)
        return np.ascontiguousarray(log_e[batch.X])

    def _emission_stats(
        self, batch: Batch, wgamma: np.ndarray, params: CategoricalHMMParams, cache: Any = None
    ) -> dict[str, Any]:
        M = params.emissionprob.shape[1]
        obs = np.stack([np.bincount(batch.X, wgamma[:, k], M) for k in range(wgamma.shape[1])])
        return {"obs": obs}

    def _emission_m_step(self, stats: Stats, params: CategoricalHMMParams) -> dict[str, Any]:
        if "e" not in self.params:
            return {}
        return {
            "emissionprob": _normalized(stats["obs"], params.emissionprob, self.emissionprob_prior)
        }

    def _emission_log_prior(self, params: CategoricalHMMParams) -> float:
        if "e" not in self.params:
            return 0.0
        return _log_prior(params.emissionprob, self.emissionprob_prior)

    def _emission_init(self, batch: Batch, rng: np.random.RandomState) -> dict[str, Any]:
        K, M = self.n_components, self._n_symbols()
        if self.emissionprob_init is not None:
            return {"emissionprob": self._user_probabilities("emissionprob_init", (K, M))}
        if "e" not in self._init_letters():
            raise ParameterError("emissionprob_init is needed: 'e' is not in init_params")
        e = rng.uniform(size=(K, M))
        return {"emissionprob": e / e.sum(axis=1, keepdims=True)}

    def _emission_n_parameters(self) -> int:
        K, M = self.emissionprob_.shape
        return K * (M - 1) if "e" in self.params else 0

    def _emission_sample(
        self, params: CategoricalHMMParams, states: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        cum: np.ndarray = np.cumsum(params.emissionprob, axis=1)
        u = np.asarray(rng.uniform(size=states.shape[0]))
        draws = np.sum(u[:, None] >= cum[states], axis=1)
        return np.minimum(draws, cum.shape[1] - 1).reshape(-1, 1)


@dataclass(frozen=True)
class PoissonHMMParams:
    """Parameters of a Poisson HMM: ``lambdas[k, j]``, the rate of feature ``j`` in state ``k``."""

    startprob: np.ndarray
    transmat: np.ndarray
    lambdas: np.ndarray


class PoissonHMM(BaseHMM[PoissonHMMParams]):
    (
        """Hidden Markov model with independent Poisson counts per feature.

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states.
    params, init_params : str, default='stl'
        ``s`` start, ``t`` transitions, ``l`` rates.
    lambdas_init : array of shape (n_components, n_features), optional
        Starting rates; drawn around the data's means when absent.
    """
        + _COMMON_DOC
    )

    params_type: ClassVar[type] = PoissonHMMParams
    _emission_letters: ClassVar[str] = "l"
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "lambdas_init": NONE | ARRAY,
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        algorithm: str = "viterbi",
        params: str = "stl",
        init_params: str = "stl",
        startprob_init: Any = None,
        transmat_init: Any = None,
        lambdas_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        _set_common(self, {k: v for k, v in locals().items() if k != "self"})

    def _validate_data(self, X: Any, *, reset: bool, **unexpected: Any) -> tuple[np.ndarray, ...]:
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        X = check_observations(self, X, reset=reset, dtype=np.float64)
        if not _whole_non_negative(X):
            raise DataError("Poisson counts must be non-negative integers")
        from scipy.special import gammaln

        # log x! travels with the rows: computed once per fit (in blocks), not per iteration
        log_fact = np.empty(X.shape[0])
        for s in range(0, X.shape[0], _CHECK_ROWS):
            log_fact[s : s + _CHECK_ROWS] = gammaln(X[s : s + _CHECK_ROWS] + 1.0).sum(axis=1)
        return (X, log_fact)

    def _emission_log_prob(
        self, batch: Batch, params: PoissonHMMParams, cache: Any = None
    ) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_l = np.log(params.lambdas)
        X = batch.X
        # 0 * log 0 = 0: a zero count has probability exp(-lambda) even at lambda = 0
        out = X @ np.where(np.isfinite(log_l), log_l, 0.0).T
        impossible = (X > 0).astype(np.float64) @ (~np.isfinite(log_l)).T.astype(np.float64)
        out[impossible > 0] = -np.inf
        out -= params.lambdas.sum(axis=1)
        out -= batch.arrays[1][:, None]
        return out

    def _emission_stats(
        self, batch: Batch, wgamma: np.ndarray, params: PoissonHMMParams, cache: Any = None
    ) -> dict[str, Any]:
        return {"obs": wgamma.T @ batch.X}

    def _emission_m_step(self, stats: Stats, params: PoissonHMMParams) -> dict[str, Any]:
        if "l" not in self.params:
            return {}
        post = stats["post"][:, None]
        lambdas = np.where(post > 0, stats["obs"] / np.where(post > 0, post, 1.0), params.lambdas)
        return {"lambdas": lambdas}

    def _emission_init(self, batch: Batch, rng: np.random.RandomState) -> dict[str, Any]:
        K, d = self.n_components, batch.X.shape[1]
        if self.lambdas_init is not None:
            lam = np.asarray(self.lambdas_init, dtype=np.float64)
            if lam.shape != (K, d) or not np.all(np.isfinite(lam)) or np.any(lam < 0):
                raise ParameterError(f"lambdas_init must be non-negative with shape {(K, d)}")
            return {"lambdas": lam}
        if "l" not in self._init_letters():
            raise ParameterError("lambdas_init is needed: 'l' is not in init_params")
        mean = np.average(batch.X, axis=0, weights=batch.weight) if batch.n_rows else np.ones(d)
        return {"lambdas": np.maximum(mean, 1e-3) * rng.uniform(0.5, 1.5, size=(K, d))}

    def _emission_n_parameters(self) -> int:
        return int(self.lambdas_.size) if "l" in self.params else 0

    def _emission_sample(
        self, params: PoissonHMMParams, states: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        return rng.poisson(params.lambdas[states]).astype(np.float64)
