"""The hidden Markov model on the EM engine: sequences, Baum-Welch statistics, inference.

A chunk of the engine is a set of whole sequences (the executors cut only between them, through
:attr:`emkit.data.Batch.groups`). The E-step of a chunk computes the emission log-likelihoods of
all its steps at once (the emission model's batched matrix products), runs forward-backward
(:mod:`emkit.hmm._lattice`) and returns additive statistics: expected start counts, expected
transition counts, the emission model's weighted moments and the log-likelihood. Hard EM (the
engine's ``hard=True``) is Viterbi training: the posteriors become the indicators of the Viterbi
path and the objective is ``sum_s max_z log p(x_s, z)``.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import warnings
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from emkit._sklearn_api import check_is_fitted, check_random_state
from emkit._validation import ARRAY, NONE, Constraint, interval, one_of
from emkit.base import EMEstimator
from emkit.data import Batch, group_bounds
from emkit.engine import Callback, EMModel, StepContext
from emkit.exceptions import DataError, ParameterError, user_stacklevel
from emkit.executors import Executor
from emkit.hmm._lattice import forward_backward, viterbi
from emkit.stats import Stats

__all__ = ["BaseHMM", "UnvisitedStateWarning", "split_sequences"]

P = TypeVar("P")

#: rows of whole sequences per block of an E-step
BLOCK_ROWS = 2**14

_LETTERS = Constraint(lambda v: isinstance(v, str), "a string of parameter letters")
_PRIOR = interval(float, 0.0, None, closed="neither") | ARRAY


class UnvisitedStateWarning(UserWarning):
    """A hidden state is (almost) never visited: its expected occupancy is below 1e-3 steps.

    Its emission parameters are kept from the previous iteration and carry no information; fewer
    states, another start or a prior on the transitions usually help.
    """


def split_sequences(X: Any, lengths: Any) -> tuple[Any, np.ndarray | None, int]:
    """``X`` as one array of rows, the validated ``lengths`` and the number of rows.

    ``X`` is an array (or a path or row source) with ``lengths`` as in hmmlearn, or a list of
    arrays, one per sequence. ``lengths=None`` with an array: one sequence.
    """
    from emkit.sources import as_source

    if isinstance(X, list | tuple):
        if lengths is not None:
            raise DataError("pass either a list of sequences or lengths, not both")
        if not X:
            raise DataError("X is an empty list of sequences")
        parts = [np.asarray(x) for x in X]
        parts = [p.reshape(-1, 1) if p.ndim == 1 else p for p in parts]
        lengths = [p.shape[0] for p in parts]
        X = np.concatenate(parts) if len(parts) > 1 else parts[0]
    source = as_source(X)
    n = source.n_rows if source is not None else int(np.shape(X)[0]) if np.ndim(X) else 0
    if lengths is None:
        return X, None, n
    src = as_source(lengths)
    values = src.read(0, src.n_rows) if src is not None else lengths
    lens = np.asarray(values)
    if lens.ndim != 1 or (lens.size and not np.issubdtype(lens.dtype, np.number)):
        raise DataError(f"lengths must be a 1-D array of integers, got shape {lens.shape}")
    if lens.size == 0:
        raise DataError("lengths is empty: there is no sequence to fit")
    if np.any(lens != np.round(lens)) or np.any(lens < 0):
        raise DataError("lengths must hold non-negative integers")
    lens = lens.astype(np.int64)
    if np.any(lens == 0):
        raise DataError(
            f"sequence {int(np.flatnonzero(lens == 0)[0])} is empty (length 0): every sequence "
            "needs at least one step"
        )
    if int(lens.sum()) != n:
        raise DataError(f"lengths sum to {int(lens.sum())} but X has {n} rows")
    return X, lens, n


def _offsets(batch: Batch) -> np.ndarray:
    groups = batch.groups if batch.groups is not None else np.zeros(1, dtype=np.int64)
    if batch.n_rows == 0:
        return np.zeros(1, dtype=np.int64)
    return np.append(np.asarray(groups, dtype=np.int64), batch.n_rows)


def _normalized(counts: np.ndarray, old: np.ndarray, prior: Any) -> np.ndarray:
    """MAP estimate of probability rows under a Dirichlet prior (hmmlearn's rule): negative
    entries are clipped, structural zeros of ``old`` stay zero, a row without mass keeps ``old``."""
    new = np.maximum(np.asarray(prior, dtype=np.float64) - 1.0 + counts, 0.0)
    new = np.where(old == 0, 0.0, new)
    total = new.sum(axis=-1, keepdims=True)
    return np.where(total > 0, new / np.where(total > 0, total, 1.0), old)


def _log_prior(prob: np.ndarray, prior: Any) -> float:
    alpha = np.broadcast_to(np.asarray(prior, dtype=np.float64) - 1.0, prob.shape)
    if not np.any(alpha):
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(alpha != 0, alpha * np.log(prob), 0.0)
    return float(np.sum(terms))


class BaseHMM(EMEstimator[P]):
    """Hidden Markov models: the parts shared by every emission model.

    A subclass gives the emission model: ``_validate_data``, ``_emission_log_prob`` (all steps
    at once, shape (n, K)), ``_emission_stats`` (weighted moments from the posteriors),
    ``_emission_m_step``, ``_emission_init``, ``_emission_n_parameters`` and
    ``_emission_sample``; its letters in ``params`` (``_emission_letters``).
    """

    _emission_letters: ClassVar[str] = ""
    #: stepwise EM over batches of whole sequences: the statistics are sums over sequences
    supports_online: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_components": interval(int, 1, None),
        "startprob_prior": _PRIOR,
        "transmat_prior": _PRIOR,
        "algorithm": one_of(["viterbi", "map"]),
        "params": _LETTERS,
        "init_params": _LETTERS,
        "startprob_init": NONE | ARRAY,
        "transmat_init": NONE | ARRAY,
    }

    n_components: int
    startprob_prior: Any
    transmat_prior: Any
    algorithm: str
    params: str
    startprob_init: Any
    transmat_init: Any

    # -- fitting: hmmlearn's ``fit(X, lengths)``, on the engine ----------------------------
    # ``lengths`` takes scikit-learn's ``y`` place: hmmlearn's users pass it positionally
    def fit(  # type: ignore[override]
        self,
        X: Any,
        lengths: Any = None,
        sample_weight: Any = None,
        *,
        callbacks: Sequence[Callback] = (),
        executor: Executor | str | None = None,
    ) -> BaseHMM[P]:
        """Fit by Baum-Welch (Viterbi training when ``hard``) on the engine.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), list of arrays, path or RowSource
            The sequences one after another (hmmlearn's layout), or a list of arrays, one per
            sequence (then ``lengths`` is None).
        lengths : array-like of int, optional
            The length of each sequence, summing to ``n_samples``; default: one sequence.
        sample_weight : array-like, optional
            One weight per sequence (or per row, constant within each sequence): an integer
            weight ``w`` counts the sequence ``w`` times.
        callbacks, executor
            As :meth:`emkit.base.EMEstimator.fit`; executors cut only between sequences.

        Returns
        -------
        self
        """
        super().fit(X, None, sample_weight, callbacks=callbacks, executor=executor, lengths=lengths)
        return self

    def partial_fit(  # type: ignore[override]
        self,
        X: Any,
        lengths: Any = None,
        sample_weight: Any = None,
        *,
        step_size: Any = None,
    ) -> BaseHMM[P]:
        """One step of stepwise (online) EM on a batch of whole sequences.

        The batch's expected start, transition and emission statistics at the current
        parameters update the running statistics with step ``rho_t`` and one M-step follows
        (:mod:`emkit.online`; :meth:`emkit.base.EMEstimator.partial_fit`). ``X``, ``lengths``
        and ``sample_weight`` are as in :meth:`fit`: a sequence is never split between batches.
        """
        super().partial_fit(X, None, sample_weight, step_size=step_size, lengths=lengths)
        return self

    def fit_online(  # type: ignore[override]
        self,
        X: Any,
        lengths: Any = None,
        sample_weight: Any = None,
        *,
        batch_rows: int = 65536,
        n_epochs: int = 1,
        step_size: Any = None,
        shuffle: bool = True,
        callbacks: Sequence[Callback] = (),
    ) -> BaseHMM[P]:
        """Stepwise EM in batches of whole sequences of about ``batch_rows`` steps (see
        :meth:`emkit.base.EMEstimator.fit_online`; ``X``, ``lengths`` as in :meth:`fit`)."""
        super().fit_online(
            X,
            None,
            sample_weight,
            batch_rows=batch_rows,
            n_epochs=n_epochs,
            step_size=step_size,
            shuffle=shuffle,
            callbacks=callbacks,
            lengths=lengths,
        )
        return self

    # -- fit's inputs ---------------------------------------------------------------------
    def _split_groups(
        self, X: Any, sample_weight: Any, fit_data: dict[str, Any]
    ) -> tuple[Any, Any, dict[str, Any], np.ndarray | None]:
        fit_data = dict(fit_data)
        X, lengths, n = split_sequences(X, fit_data.pop("lengths", None))
        lens = np.array([n], dtype=np.int64) if lengths is None else lengths
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        from emkit.sources import as_source

        if sample_weight is not None and as_source(sample_weight) is None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.ndim == 1 and w.shape[0] == lens.shape[0] and w.shape[0] != n:
                sample_weight = np.repeat(w, lens)  # one weight per sequence
        return X, sample_weight, fit_data, starts if n else None

    def _check_params(self) -> None:
        super()._check_params()
        allowed = "st" + self._emission_letters
        for name in ("params", "init_params"):
            bad = set(getattr(self, name)) - set(allowed)
            if bad:
                raise ParameterError(
                    f"{name}={getattr(self, name)!r} has unknown letters {sorted(bad)}: "
                    f"{type(self).__name__} knows {allowed!r}"
                )

    # -- emission model -------------------------------------------------------------------
    def _emission_cache(self, batch: Batch, params: P) -> Any:
        """Per-row features that the log-likelihoods and the statistics of one E-step share
        (default none)."""
        return None

    @abstractmethod
    def _emission_log_prob(self, batch: Batch, params: P, cache: Any = None) -> np.ndarray:
        """``log p(x_t | z_t = k)`` of every row: shape (n, K)."""

    @abstractmethod
    def _emission_stats(
        self, batch: Batch, wgamma: np.ndarray, params: P, cache: Any = None
    ) -> dict[str, Any]:
        """Additive emission statistics from posteriors times sample weights (n, K); the
        posterior mass of each state is ``post`` already."""

    @abstractmethod
    def _emission_m_step(self, stats: Stats, params: P) -> dict[str, Any]:
        """New emission fields of the parameters from the reduced statistics."""

    @abstractmethod
    def _emission_init(self, batch: Batch, rng: np.random.RandomState) -> dict[str, Any]:
        """Starting emission fields (user-given ``*_init`` or drawn with ``rng``)."""

    @abstractmethod
    def _emission_n_parameters(self) -> int:
        """Free emission parameters that ``params`` learns."""

    @abstractmethod
    def _emission_sample(
        self, params: P, states: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        """One observation row per state in ``states``."""

    # -- engine hooks ---------------------------------------------------------------------
    def _user_probabilities(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        value = np.asarray(getattr(self, name), dtype=np.float64)
        if value.shape != shape:
            raise ParameterError(f"{name} must have shape {shape}, got {value.shape}")
        if not np.all(np.isfinite(value)) or np.any(value < 0):
            raise ParameterError(f"{name} must hold non-negative finite probabilities")
        if not np.allclose(value.sum(axis=-1), 1.0):
            raise ParameterError(f"the rows of {name} must sum to 1")
        return value / value.sum(axis=-1, keepdims=True)

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> P:
        """The engine's hook (shadowed on instances by the ``init_params`` letters, as hmmlearn
        names them; the engine runs :meth:`_draw_params` through :class:`_Hooks`)."""
        return self._draw_params(batch, rng)

    def _engine_model(self) -> EMModel[P]:
        return _Hooks(self)

    def _init_letters(self) -> str:
        """The ``init_params`` letters (the instance attribute that shadows the engine hook)."""
        return str(vars(self).get("init_params", ""))

    def _draw_params(self, batch: Batch, rng: np.random.RandomState) -> P:
        """Starting parameters: the ``*_init`` values, the rest drawn (``init_params``)."""
        K = self.n_components
        for letter, name in (("s", "startprob_init"), ("t", "transmat_init")):
            if getattr(self, name) is None and letter not in self._init_letters():
                raise ParameterError(f"{name} is needed: {letter!r} is not in init_params")
        if self.startprob_init is not None:
            startprob = self._user_probabilities("startprob_init", (K,))
        else:
            startprob = np.full(K, 1.0 / K)
        if self.transmat_init is not None:
            transmat = self._user_probabilities("transmat_init", (K, K))
        else:
            transmat = np.full((K, K), 1.0 / K)
        fields = self._emission_init(batch, rng)
        return self.params_type(startprob=startprob, transmat=transmat, **fields)

    def e_step(self, batch: Batch, params: P, ctx: StepContext) -> Stats:
        """Statistics of the batch's sequences, ``BLOCK_ROWS`` rows of whole sequences at a
        time (the ``(rows, K)`` temporaries stay small; one long sequence is one block)."""
        bounds = group_bounds(batch.n_rows, BLOCK_ROWS, _offsets(batch)[:-1])
        if len(bounds) <= 1 and batch.n_rows < BLOCK_ROWS:
            return self._e_step_block(batch, params, ctx)
        # The compiled forward-backward runs on every core; BLAS's own threads, busy-waiting
        # beside it on products this thin (rows x K), only slow it down (1.4x measured).
        from emkit.models._blocks import _blas_controller

        with _blas_controller().limit(limits=1, user_api="blas"):
            return functools.reduce(
                operator.add,
                (self._e_step_block(batch.rows(a, b), params, ctx) for a, b in bounds),
            )

    def _e_step_block(self, batch: Batch, params: P, ctx: StepContext) -> Stats:
        offsets = _offsets(batch)
        weight = batch.weight
        firsts = offsets[:-1]
        seq_w = weight[firsts] if batch.n_rows else np.zeros(0)
        if batch.n_rows and not np.array_equal(
            np.maximum.reduceat(weight, firsts), np.minimum.reduceat(weight, firsts)
        ):
            raise DataError(
                "sample_weight must be constant within each sequence (give one weight per "
                "sequence, or the same weight on all its rows)"
            )
        K = self.n_components
        startprob = params.startprob  # type: ignore[attr-defined]
        transmat = params.transmat  # type: ignore[attr-defined]
        cache = self._emission_cache(batch, params)
        log_b = self._emission_log_prob(batch, params, cache)
        if ctx.hard:
            path, score = viterbi(log_b, offsets, startprob, transmat)
            gamma = np.zeros((batch.n_rows, K))
            gamma[np.arange(batch.n_rows), path] = 1.0
            start = np.zeros(K)
            np.add.at(start, path[firsts], seq_w)
            inner = np.ones(batch.n_rows, dtype=bool)
            inner[offsets[1:] - 1] = False  # a step followed by one of the same sequence
            idx = np.flatnonzero(inner)
            trans = np.zeros((K, K))
            np.add.at(trans, (path[idx], path[idx + 1]), weight[idx])
            occupancy = np.bincount(path, weights=weight, minlength=K).astype(np.float64)
            loglik_seq = score
        else:
            post = forward_backward(log_b, offsets, startprob, transmat, overwrite=True)
            gamma = post.gamma
            start = seq_w @ gamma[firsts]
            trans = np.tensordot(seq_w, post.xi, axes=1)
            # sum_j xi_t(i, j) = gamma_t(i): the occupancy without a pass over all posteriors
            occupancy = trans.sum(axis=1) + seq_w @ gamma[offsets[1:] - 1]
            loglik_seq = post.loglik
        with np.errstate(invalid="ignore"):  # 0 * -inf: a zero-weight impossible sequence
            loglik = float(np.sum(np.where(seq_w > 0, seq_w * loglik_seq, 0.0)))
        unit = bool(np.all(seq_w == 1.0))  # the common case: no copy of the posteriors
        wgamma = gamma if unit else gamma * weight[:, None]
        return Stats(
            loglik=loglik,
            weight=float(np.sum(weight, dtype=np.float64)),
            start=start,
            trans=trans,
            post=occupancy,
            **self._emission_stats(batch, wgamma, params, cache),
        )

    def m_step(self, stats: Stats, params: P, ctx: StepContext) -> P:
        changes: dict[str, Any] = {}
        if "s" in self.params:
            changes["startprob"] = _normalized(
                stats["start"],
                params.startprob,  # type: ignore[attr-defined]
                self.startprob_prior,
            )
        if "t" in self.params:
            changes["transmat"] = _normalized(
                stats["trans"],
                params.transmat,  # type: ignore[attr-defined]
                self.transmat_prior,
            )
        changes.update(self._emission_m_step(stats, params))
        return dataclasses.replace(params, **changes)  # type: ignore[type-var]

    def _emission_log_prior(self, params: P) -> float:
        """Log density of the emission prior (MAP-EM), up to a constant; default none."""
        return 0.0

    def objective(self, stats: Stats, params: P, ctx: StepContext) -> float:
        """The log-likelihood plus the log Dirichlet priors of the learned probabilities (MAP-EM
        maximises their sum; with the default priors of 1 it is the log-likelihood)."""
        value = stats.loglik
        if "s" in self.params:
            value += _log_prior(params.startprob, self.startprob_prior)  # type: ignore[attr-defined]
        if "t" in self.params:
            value += _log_prior(params.transmat, self.transmat_prior)  # type: ignore[attr-defined]
        return value + self._emission_log_prior(params)

    def _set_fitted(self, result: Any) -> None:
        super()._set_fitted(result)
        stats = result.final_stats
        if "post" in stats:
            post = np.asarray(stats["post"])
            empty = np.flatnonzero(post < 1e-3)
            if empty.size:
                warnings.warn(
                    f"{type(self).__name__}: state(s) {empty.tolist()} are never visited "
                    f"(expected occupancy {[float(f'{v:.3g}') for v in post[empty]]} steps): "
                    "their emission parameters mean nothing. Use fewer states, another start or "
                    "a transition prior.",
                    UnvisitedStateWarning,
                    stacklevel=user_stacklevel(),
                )

    # -- inference ------------------------------------------------------------------------
    def _sequences(self, X: Any, lengths: Any) -> tuple[Batch, np.ndarray]:
        check_is_fitted(self, "params_")
        X, lens, n = split_sequences(X, lengths)
        if n == 0:
            raise DataError(f"{type(self).__name__} got empty data: X has 0 samples")
        arrays = self._validate_data(X, reset=False)
        lens = np.array([n], dtype=np.int64) if lens is None else lens
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        batch = Batch(arrays, np.ones(n), offsets[:-1])
        return batch, offsets

    def score_samples(self, X: Any, lengths: Any = None) -> tuple[float, np.ndarray]:
        """Log-likelihood of ``X`` and the posterior state marginals (as hmmlearn).

        Returns
        -------
        log_prob : float
            ``log p(X)`` summed over the sequences.
        posteriors : ndarray of shape (n_samples, n_components)
        """
        batch, offsets = self._sequences(X, lengths)
        post = forward_backward(
            self._emission_log_prob(batch, self.params_),
            offsets,
            self.params_.startprob,  # type: ignore[attr-defined]
            self.params_.transmat,  # type: ignore[attr-defined]
        )
        return float(np.sum(post.loglik)), post.gamma

    def score(self, X: Any, lengths: Any = None) -> float:
        """``log p(X)``: the total log-likelihood of the sequences (hmmlearn's convention, not a
        mean per row)."""
        return self.score_samples(X, lengths)[0]

    def predict_proba(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Posterior probability of each state at each step: shape (n_samples, n_components)."""
        return self.score_samples(X, lengths)[1]

    def decode(
        self, X: Any, lengths: Any = None, algorithm: str | None = None
    ) -> tuple[float, np.ndarray]:
        """The most likely states: the Viterbi path or, with ``algorithm='map'``, the most
        probable state at each step.

        Returns
        -------
        log_prob : float
            ``log p(X, path)`` (Viterbi) or ``log p(X)`` (map), summed over sequences.
        states : ndarray of int64, shape (n_samples,)
        """
        algorithm = self.algorithm if algorithm is None else algorithm
        if algorithm == "map":
            log_prob, post = self.score_samples(X, lengths)
            return log_prob, np.argmax(post, axis=1)
        if algorithm != "viterbi":
            raise ParameterError(f"algorithm must be 'viterbi' or 'map', got {algorithm!r}")
        batch, offsets = self._sequences(X, lengths)
        path, score = viterbi(
            self._emission_log_prob(batch, self.params_),
            offsets,
            self.params_.startprob,  # type: ignore[attr-defined]
            self.params_.transmat,  # type: ignore[attr-defined]
        )
        return float(np.sum(score)), path

    def predict(self, X: Any, lengths: Any = None) -> np.ndarray:
        """The state path (``algorithm``, Viterbi by default): shape (n_samples,)."""
        return self.decode(X, lengths)[1]

    def fit_predict(self, X: Any, lengths: Any = None, **fit_kw: Any) -> np.ndarray:
        """Fit, then decode the training sequences."""
        self.fit(X, lengths=lengths, **fit_kw)
        return self.predict(X, lengths)

    # -- model selection ------------------------------------------------------------------
    def _n_parameters(self) -> int:
        K = self.n_components
        n = 0
        if "s" in self.params:
            n += K - 1
        if "t" in self.params:
            n += K * (K - 1)
        return n + self._emission_n_parameters()

    def bic(self, X: Any, lengths: Any = None) -> float:
        """Bayesian information criterion on ``X`` (lower is better; learned parameters only)."""
        batch, _ = self._sequences(X, lengths)
        return -2.0 * self.score(X, lengths) + self._n_parameters() * np.log(batch.n_rows)

    def aic(self, X: Any, lengths: Any = None) -> float:
        """Akaike information criterion on ``X`` (lower is better)."""
        return -2.0 * self.score(X, lengths) + 2.0 * self._n_parameters()

    # -- generation -----------------------------------------------------------------------
    def sample(
        self, n_samples: int = 1, random_state: Any = None, currstate: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw one sequence of ``n_samples`` steps from the fitted model.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        states : ndarray of int64, shape (n_samples,)
        """
        check_is_fitted(self, "params_")
        if not isinstance(n_samples, int | np.integer) or n_samples < 1:
            raise DataError(f"n_samples must be a positive integer, got {n_samples!r}")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        startprob = self.params_.startprob  # type: ignore[attr-defined]
        cum = np.cumsum(self.params_.transmat, axis=1)  # type: ignore[attr-defined]
        states = np.empty(n_samples, dtype=np.int64)
        states[0] = rng.choice(len(startprob), p=startprob) if currstate is None else currstate
        u = rng.uniform(size=n_samples)
        for t in range(1, n_samples):
            states[t] = min(
                int(np.searchsorted(cum[states[t - 1]], u[t], side="right")), len(startprob) - 1
            )
        return self._emission_sample(self.params_, states, rng), states


class _Hooks(EMModel[Any]):
    """The engine's view of an HMM: its hooks, with ``init_params`` free of the letters."""

    def __init__(self, estimator: BaseHMM[Any]) -> None:
        self.estimator = estimator
        self.display_name = type(estimator).__name__

    @property
    def monotone(self) -> bool:  # type: ignore[override]
        return type(self.estimator).monotone

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> Any:
        return self.estimator._draw_params(batch, rng)

    def e_step(self, batch: Batch, params: Any, ctx: StepContext) -> Stats:
        return self.estimator.e_step(batch, params, ctx)

    def m_step(self, stats: Stats, params: Any, ctx: StepContext) -> Any:
        return self.estimator.m_step(stats, params, ctx)

    def rebase_stats(self, stats: Stats, params: Any, new_params: Any) -> Stats:
        return self.estimator.rebase_stats(stats, params, new_params)

    def objective(self, stats: Stats, params: Any, ctx: StepContext) -> float:
        return self.estimator.objective(stats, params, ctx)
