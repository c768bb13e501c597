r"""The OOPS and ZOOPS motif models of Bailey & Elkan (1994) on the EM engine.

Each sequence ``X_i`` (length ``L_i``) hides one variable: where its motif site starts. A site of
width ``w`` at offset ``j`` is drawn from the position weight matrix ``pwm`` (``w x A`` letter
probabilities); every other letter from a background model ``b`` (0-order, or a Markov chain of
order ``k``, estimated once from the data, as MEME does). With ``m_i = L_i - w + 1`` offsets per
strand and ``S`` strands (1, or 2 with ``revcomp``)::

    OOPS   p(X_i, z_i = (s, j)) = 1 / (S m_i)     * B_i * prod_c pwm_s[c, x_{j+c}] / b(x_{j+c})
    ZOOPS  p(X_i, z_i = (s, j)) = gamma / (S m_i) * B_i * prod_c ...         (a site at j)
           p(X_i, z_i = none)   = (1 - gamma)     * B_i                       (no site)

where ``B_i`` is the probability of the whole sequence under the background and ``pwm_s`` the
matrix read on strand ``s`` (``pwm_-[c, a] = pwm[w-1-c, comp(a)]``). The wildcard (``N``) is
marginalised: it contributes a factor 1 to both the motif and the background.

The E-step works on the padded code matrix of all sequences at once: for each motif column
``c`` the slice ``codes[:, c:c + J]`` holds the letter under that column in every window of every
sequence, so one gather per column (``w`` of them) scores all sequences and offsets together (no
Python loop over sequence positions); offsets past the end of a shorter sequence get ``-inf``.
The M-step sums the posteriors into expected letter counts per motif column (one weighted
``bincount`` per column) and adds Dirichlet pseudocounts ``beta * b0(a)``; it is the
MAP estimate, so the objective the engine reports and checks for monotonicity is the
log-likelihood plus the log-prior ``sum_{c,a} beta b0(a) log pwm[c, a]``.

Several motifs (MEME's ``-nmotifs``) are found one after another by *down-weighting* the
positions covered by earlier motifs' sites: per-position weights ``e`` in [0, 1] (the ``erase``
data of :meth:`MotifEM.fit`) multiply each position's log-odds in the E-step and its counts in
the M-step; ``e = 1`` everywhere is the plain model. EM stays monotone for this weighted
objective (Jensen's bound does not need a normalised joint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from emkit._validation import ARRAY, BOOL, NONE, Constraint, interval, one_of
from emkit.base import MixtureEstimator
from emkit.data import Batch
from emkit.engine import StepContext, run_em
from emkit.exceptions import DataError, ParameterError
from emkit.motif.fasta import PAD, Alphabet, encode_sequences, get_alphabet
from emkit.stats import Stats

__all__ = ["MotifEM", "MotifParams"]

#: Elements of the largest ``(candidates, strands, rows, offsets)`` temporary of the start search.
_BLOCK = 1 << 22
#: Candidate-window pairs the start search scores; beyond it, starts are scored on a row sample.
_SCORE_BUDGET = 20_000_000
#: Windows the short EM runs of the start search see; beyond it, they run on a row sample.
_REFINE_BUDGET = 200_000


@dataclass(frozen=True)
class MotifParams:
    """Parameters of a motif model.

    Attributes
    ----------
    pwm : ndarray of shape (width, A)
        Letter probabilities at each motif column (rows sum to 1).
    gamma : ndarray of shape ()
        Probability that a sequence holds a site (1 for OOPS).
    background : ndarray of shape (A**order, A)
        Background letter probabilities given the ``order`` previous letters (context code
        ``sum_m x_{t-m} A**(m-1)``); for order 0 the single row equals ``background0``.
    background0 : ndarray of shape (A,)
        0-order background letter frequencies (used where the context is incomplete or holds
        a wildcard, and for the pseudocounts).
    """

    pwm: np.ndarray
    gamma: np.ndarray
    background: np.ndarray
    background0: np.ndarray


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


class MotifEM(MixtureEstimator[MotifParams]):
    r"""One sequence motif fitted by EM: MEME's OOPS and ZOOPS models.

    Parameters
    ----------
    width : int, default=20
        Motif width ``w`` (at least 2, at most the shortest sequence's length).
    model : {'zoops', 'oops'}, default='zoops'
        ZOOPS: zero or one site per sequence (the site probability ``gamma`` is learnt);
        OOPS: exactly one site per sequence.
    revcomp : bool, default=False
        Look for sites on both strands (DNA only).
    alphabet : {'dna', 'protein'} or str, default='dna'
        The sequences' alphabet (a custom one as a string of letters).
    background_order : int, default=0
        Order of the background Markov chain estimated from the data (with add-one smoothing).
    pseudocount : float, default=0.1
        Total Dirichlet pseudocount per motif column, spread as the 0-order background.
    n_starts : int, default=1000
        MEME's start search: at most this many distinct substrings of width ``w`` (sampled
        with ``random_state`` when there are more) become starting matrices, each ranked by
        the objective after one EM iteration from it (all at once, by matrix products; on a
        random sample of the sequences when ``n_starts x windows`` exceeds 2e7, as MEME
        samples large data sets).
    n_refine : int, default=10
        The best ``n_refine`` starts each run ``start_iter`` EM iterations (on a random sample
        of about 2e5 windows' worth of sequences when the data are larger); the best of them is
        the start of the full EM run.
    start_iter : int, default=5
        EM iterations of each short run.
    start_match : float, default=0.5
        Probability of the substring's own letter in a starting matrix (the rest spread evenly).
    gamma_init : float, default=0.5
        Starting site probability for ZOOPS.
    max_shift : int, default=3
        After the short runs, copies of the best matrix shifted by up to this many columns
        either way (new columns at the background) run ``start_iter`` iterations too, and
        the best of all is kept: a start that overlaps the sites off by a few columns
        otherwise converges to a shifted motif.
    pwm_init : array-like of shape (width, A), optional
        Start from this matrix instead of searching (all restarts start there).
    tol, max_iter, n_init, hard, random_state, warm_start
        As for every emkit estimator (``n_init`` repeats the start search with fresh samples).

    Attributes
    ----------
    pwm_ : ndarray of shape (width, A)
    gamma_ : ndarray of shape ()
    background_, background0_ : ndarray
    params_ : MotifParams
    n_iter_, converged_, log_likelihood_history_, lower_bound_
        See :class:`~emkit.base.EMEstimator`. The objective is the log-likelihood plus the
        log-prior of the pseudocounts (the M-step is the MAP estimate).

    Notes
    -----
    ``fit`` takes the sequences as a list of strings or as the padded code matrix of
    :func:`~emkit.motif.fasta.encode_sequences` (shape ``(n_sequences, max_length)``), and
    optionally ``erase=`` per-position weights of the same shape. The hidden variable of row
    ``i`` takes ``K = S * J (+1 for ZOOPS)`` values with ``J = max_length - w + 1``: forward
    offsets ``0 .. J-1``, then reverse-strand offsets, then "no site"; ``predict_proba``
    returns posteriors in that layout and :meth:`site_posteriors` splits them.

    Examples
    --------
    >>> seqs = ["ACGTTGACCA", "GGTTGACAAA", "TTTGACCCAG"]
    >>> m = MotifEM(width=5, model="oops", random_state=0).fit(seqs)  # doctest: +SKIP
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "width": interval(int, 2, None),
        "model": one_of({"oops", "zoops"}),
        "revcomp": BOOL,
        "background_order": interval(int, 0, 5),
        "pseudocount": interval(float, 0.0, None, closed="neither"),
        "n_starts": interval(int, 1, None),
        "n_refine": interval(int, 1, None),
        "start_iter": interval(int, 0, None),
        "start_match": interval(float, 0.0, 1.0, closed="neither"),
        "gamma_init": interval(float, 0.0, 1.0, closed="neither"),
        "max_shift": interval(int, 0, None),
        "pwm_init": ARRAY | NONE,
    }

    params_type = MotifParams
    #: One motif per estimator (the number of values of the hidden offset depends on the data).
    n_components = 1

    def __init__(
        self,
        width: int = 20,
        *,
        model: str = "zoops",
        revcomp: bool = False,
        alphabet: str = "dna",
        background_order: int = 0,
        pseudocount: float = 0.1,
        n_starts: int = 1000,
        n_refine: int = 10,
        start_iter: int = 5,
        start_match: float = 0.5,
        gamma_init: float = 0.5,
        max_shift: int = 3,
        pwm_init: Any = None,
        tol: float = 1e-6,
        max_iter: int = 200,
        n_init: int = 1,
        hard: bool = False,
        random_state: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.width = width
        self.model = model
        self.revcomp = revcomp
        self.alphabet = alphabet
        self.background_order = background_order
        self.pseudocount = pseudocount
        self.n_starts = n_starts
        self.n_refine = n_refine
        self.start_iter = start_iter
        self.start_match = start_match
        self.gamma_init = gamma_init
        self.max_shift = max_shift
        self.pwm_init = pwm_init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.hard = hard
        self.random_state = random_state
        self.warm_start = warm_start

    # -- small helpers ----------------------------------------------------------------------
    @property
    def alphabet_(self) -> Alphabet:
        """The :class:`~emkit.motif.fasta.Alphabet` of ``alphabet``."""
        return get_alphabet(self.alphabet)

    @property
    def n_strands(self) -> int:
        """1, or 2 when both strands are searched."""
        return 2 if self.revcomp else 1

    @property
    def zoops(self) -> bool:
        return self.model == "zoops"

    # -- data -------------------------------------------------------------------------------
    def _check_n_samples(self, n_samples: int) -> None:
        super()._check_n_samples(n_samples)
        if self.revcomp:
            self.alphabet_.complement_index  # noqa: B018  raises for alphabets without strands

    def _validate_data(
        self, X: Any, *, reset: bool, erase: Any = None, **unexpected: Any
    ) -> tuple[np.ndarray, ...]:
        """Internal codes (padding -> A + 1), and the erase weights (float64, 1 = untouched)."""
        if unexpected:
            raise TypeError(f"unexpected data arguments {sorted(unexpected)}")
        abc = get_alphabet(self.alphabet)
        A = abc.size
        if isinstance(X, str):
            raise DataError("X must be a list of sequences or a code matrix, not one string")
        if isinstance(X, list | tuple) and X and all(isinstance(s, str) for s in X):
            codes = encode_sequences(X, abc)
        else:
            codes = np.asarray(X)
            if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] == 0:
                raise DataError(
                    "X must be a non-empty list of sequences or a code matrix of shape "
                    f"(n_sequences, max_length), got shape {codes.shape}"
                )
            if not (
                np.issubdtype(codes.dtype, np.integer)
                or (np.issubdtype(codes.dtype, np.floating) and np.all(codes == np.round(codes)))
            ):
                raise DataError("the code matrix X must hold integers (letters, wildcard, -1)")
            if codes.min() < PAD or codes.max() > A:
                raise DataError(
                    f"codes must lie in [-1, {A}] ({A} letters, {A} = wildcard, -1 = padding), "
                    f"got values in [{codes.min()}, {codes.max()}]"
                )
        pad = codes == PAD
        if np.any(pad[:, :-1] & ~pad[:, 1:]):
            raise DataError("padding (-1) may only follow the end of a sequence")
        lengths = codes.shape[1] - pad.sum(axis=1)
        short = np.flatnonzero(lengths < self.width)
        if short.size:
            i = int(short[0])
            raise DataError(
                f"sequence #{i} has length {int(lengths[i])}, shorter than the motif width "
                f"{self.width}: drop it or choose a smaller width"
            )
        internal = np.where(pad, A + 1, codes).astype(np.intp)
        if erase is None:
            weights = np.ones(internal.shape, dtype=np.float64)
        else:
            weights = np.asarray(erase, dtype=np.float64)
            if weights.shape != internal.shape:
                raise DataError(f"erase must have shape {internal.shape}, got {weights.shape}")
            if not np.all(np.isfinite(weights)) or np.any(weights < 0) or np.any(weights > 1):
                raise DataError("erase weights must lie in [0, 1]")
        return internal, weights

    # -- background ---------------------------------------------------------------------------
    def _contexts(self, codes: np.ndarray, A: int) -> tuple[np.ndarray, np.ndarray]:
        """Context code of the ``order`` letters before each position, and where it is complete."""
        order = self.background_order
        ctx = np.zeros(codes.shape, dtype=np.intp)
        ok = codes < A
        for m in range(order, 0, -1):  # over the Markov order, not over positions
            prev = np.full(codes.shape, A + 1, dtype=np.intp)
            prev[:, m:] = codes[:, :-m]
            ctx = ctx * A + np.minimum(prev, A - 1)
            ok &= prev < A
        return ctx, ok

    def _fit_background(self, batch: Batch, A: int) -> tuple[np.ndarray, np.ndarray]:
        codes, _ = batch.arrays
        weight = np.broadcast_to(batch.weight[:, None], codes.shape)
        letters = codes < A
        counts0 = np.bincount(codes[letters], weights=weight[letters], minlength=A)[:A]
        b0 = (counts0 + 1.0) / (counts0.sum() + A)
        if self.background_order == 0:
            return b0[None, :], b0
        ctx, ok = self._contexts(codes, A)
        n_ctx = A**self.background_order
        pair = ctx[ok] * A + codes[ok]
        table = np.bincount(pair, weights=weight[ok], minlength=n_ctx * A).reshape(n_ctx, A)
        table = (table + 1.0) / (table.sum(axis=1, keepdims=True) + A)
        return table, b0

    def _position_log_bg(self, codes: np.ndarray, params: MotifParams) -> np.ndarray:
        """``log b(x_t | context)`` at every position; 0 at wildcards and padding. (n, L)."""
        A = params.background0.shape[0]
        ext = np.concatenate([np.log(params.background0), [0.0, 0.0]])
        out = ext[codes]
        if self.background_order > 0:
            ctx, ok = self._contexts(codes, A)
            log_table = np.log(params.background)
            full = log_table[ctx, np.minimum(codes, A - 1)]
            out = np.where(ok, full, out)
        return out

    # -- the E-step's core: log-odds of every window ------------------------------------------
    def _strand_log_pwms(self, pwm: np.ndarray) -> np.ndarray:
        """Log-PWM on each strand, extended by 0 for wildcard and padding: (..., S, w, A + 2)."""
        log_pwm = _log(pwm)
        strands = [log_pwm]
        if self.revcomp:
            comp = self.alphabet_.complement_index
            strands.append(log_pwm[..., ::-1, :][..., comp])
        stacked = np.stack(strands, axis=-3)
        zeros = np.zeros((*stacked.shape[:-1], 2))
        return np.concatenate([stacked, zeros], axis=-1)

    def _window_log_odds(
        self, codes: np.ndarray, log_bg: np.ndarray, erase: np.ndarray, log_pwm_ext: np.ndarray
    ) -> np.ndarray:
        """Sum over motif columns of the (erase-weighted) log-odds of every window.

        ``log_pwm_ext`` has shape (..., w, A + 2); the result (..., n, J).

        One gather per motif column, each over all sequences and offsets at once: the
        ``(n, J)`` slice ``codes[:, c:c + J]`` holds the letter under column ``c`` of every
        window. (A single gather through a sliding-window view builds an ``(n, J, w)``
        temporary and reduces over its short last axis: twice as slow, see
        ``benchmarks/bench_motif.py``.) The background part ``sum_c e b`` of every window is
        a difference of cumulative sums.
        """
        w = log_pwm_ext.shape[-2]
        n, L = codes.shape
        J = L - w + 1
        weighted = not np.all(erase == 1.0)
        out = np.zeros((*log_pwm_ext.shape[:-2], n, J))
        for c in range(w):  # motif columns, not sequence positions
            letters = codes[:, c : c + J]
            gathered = np.take(log_pwm_ext[..., c, :], letters, axis=-1)
            if weighted:
                gathered *= erase[:, c : c + J]
            out += gathered
        cum = np.zeros((n, L + 1))
        np.cumsum(log_bg * erase, axis=1, out=cum[:, 1:])
        out -= cum[:, w:] - cum[:, :J]
        return out

    def _log_joint_many(
        self, batch: Batch, params: MotifParams, pwms: np.ndarray, gamma: np.ndarray
    ) -> np.ndarray:
        """Log joint for a stack of matrices ``pwms`` (C, w, A) and gammas (C,): (C, n, K)."""
        codes, erase = batch.arrays
        A = params.background0.shape[0]
        w = pwms.shape[-2]
        n, L = codes.shape
        J = L - w + 1
        S = self.n_strands
        log_bg = self._position_log_bg(codes, params)
        total_bg = log_bg.sum(axis=1)
        lengths = np.sum(codes != A + 1, axis=1)
        n_offsets = lengths - w + 1
        valid = np.arange(J)[None, :] < n_offsets[:, None]  # (n, J)
        log_pwm_ext = self._strand_log_pwms(pwms)  # (C, S, w, A + 2)
        odds = self._window_log_odds(codes, log_bg, erase, log_pwm_ext)  # (C, S, n, J)
        log_gamma = _log(gamma)[:, None, None, None]
        prior = log_gamma - np.log(S * n_offsets)[None, None, :, None]
        site = np.where(valid, odds + prior + total_bg[:, None], -np.inf)  # (C, S, n, J)
        site = np.moveaxis(site, 1, 2).reshape(len(gamma), n, S * J)
        if not self.zoops:
            return site
        with np.errstate(divide="ignore"):
            none = np.log1p(-gamma)[:, None] + total_bg[None, :]
        return np.concatenate([site, none[:, :, None]], axis=2)

    # -- engine hooks ----------------------------------------------------------------------------
    def log_joint(self, batch: Batch, params: MotifParams) -> np.ndarray:
        return self._log_joint_many(batch, params, params.pwm[None], params.gamma.reshape(1))[0]

    def accumulate(self, batch: Batch, resp: np.ndarray, params: MotifParams) -> Stats:
        codes, erase = batch.arrays
        A = params.background0.shape[0]
        w = params.pwm.shape[0]
        n, L = codes.shape
        J = L - w + 1
        S = self.n_strands
        site_resp = resp[:, : S * J].reshape(n, S, J)
        by_strand = np.ascontiguousarray(site_resp.transpose(1, 0, 2))  # (S, n, J)
        counts = np.zeros((S, w, A + 2))
        weighted = not np.all(erase == 1.0)
        strand_offset = np.arange(S)[:, None, None] * (A + 2)
        for c in range(w):  # motif columns, not sequence positions
            letters = codes[:, c : c + J]
            mass = by_strand * erase[None, :, c : c + J] if weighted else by_strand
            counts[:, c, :] = np.bincount(
                (strand_offset + letters[None]).ravel(), weights=mass.ravel(), minlength=S * (A + 2)
            ).reshape(S, A + 2)
        letter_counts = counts[0, :, :A]
        if self.revcomp:
            comp = self.alphabet_.complement_index
            reverse = np.empty((w, A))
            reverse[:, comp] = counts[1, ::-1, :A]
            letter_counts = letter_counts + reverse
        return Stats(
            counts=letter_counts,
            site_mass=np.asarray(site_resp.sum()),
            row_mass=np.asarray(resp.sum()),
        )

    def _alpha(self, params: MotifParams) -> np.ndarray:
        return self.pseudocount * params.background0

    def m_step(self, stats: Stats, params: MotifParams, ctx: StepContext) -> MotifParams:
        alpha = self._alpha(params)
        counts = stats["counts"] + alpha
        pwm = counts / counts.sum(axis=1, keepdims=True)
        if self.zoops:
            row_mass = float(stats["row_mass"])
            gamma = float(stats["site_mass"]) / row_mass if row_mass > 0 else float(params.gamma)
            gamma = min(max(gamma, 0.0), 1.0)
        else:
            gamma = 1.0
        return MotifParams(
            pwm=pwm,
            gamma=np.asarray(gamma),
            background=params.background,
            background0=params.background0,
        )

    def log_prior(self, params: MotifParams) -> float:
        """Log-density (up to a constant) of the pseudocount prior at ``params.pwm``."""
        return float(np.sum(self._alpha(params) * np.log(params.pwm)))

    def objective(self, stats: Stats, params: MotifParams, ctx: StepContext) -> float:
        return stats.loglik + self.log_prior(params)

    # -- MEME's starting-point search --------------------------------------------------------
    def _start_pwms(self, substrings: np.ndarray, A: int) -> np.ndarray:
        """Starting matrices from substrings (C, w): the letter gets ``start_match``."""
        other = (1.0 - self.start_match) / (A - 1)
        pwms = np.full((*substrings.shape, A), other)
        is_letter = substrings < A
        c_idx, w_idx = np.nonzero(is_letter)
        pwms[c_idx, w_idx, substrings[is_letter]] = self.start_match
        pwms[~is_letter] = 1.0 / A  # a wildcard in the substring says nothing
        return pwms

    def _candidate_substrings(self, batch: Batch, rng: np.random.RandomState) -> np.ndarray:
        codes, _ = batch.arrays
        A = self.alphabet_.size
        w = self.width
        keep = batch.weight > 0
        win = sliding_window_view(codes[keep], w, axis=1).reshape(-1, w)
        win = win[np.all(win <= A, axis=1)]  # inside the sequence
        unique = np.unique(win, axis=0)
        if len(unique) > self.n_starts:
            unique = unique[np.sort(rng.choice(len(unique), self.n_starts, replace=False))]
        return unique

    def _window_features(self, batch: Batch, base: MotifParams) -> dict[str, Any]:
        """What the start search needs to score any PWM on every window by matrix products.

        ``features[s]`` (n J, w A) holds the erase-weighted one-hot letters of every window read
        on strand ``s`` in PWM coordinates, so that ``features[s] @ log_pwm.ravel()`` is the
        motif part of every window's log-odds (wildcards and padding contribute 0).
        """
        codes, erase = batch.arrays
        A = base.background0.shape[0]
        w = self.width
        n, L = codes.shape
        J = L - w + 1
        log_bg = self._position_log_bg(codes, base)
        win = sliding_window_view(codes, w, axis=1).reshape(n * J, w)
        mass = sliding_window_view(erase * (codes < A), w, axis=1).reshape(n * J, w)
        onehot = (win[:, :, None] == np.arange(A)) * mass[:, :, None]  # (nJ, w, A)
        features = [onehot.reshape(n * J, w * A)]
        if self.revcomp:
            comp = self.alphabet_.complement_index
            features.append(onehot[:, ::-1, :][:, :, comp].reshape(n * J, w * A))
        cum = np.zeros((n, L + 1))
        np.cumsum(log_bg * erase, axis=1, out=cum[:, 1:])
        n_offsets = np.sum(codes != A + 1, axis=1) - w + 1
        return {
            "features": features,
            "window_bg": (cum[:, w:] - cum[:, :J]).reshape(n * J),
            "total_bg": log_bg.sum(axis=1),
            "valid": np.arange(J)[None, :] < n_offsets[:, None],
            "n_offsets": n_offsets,
        }

    def _matmul_log_joint(
        self, feats: dict[str, Any], log_pwms: np.ndarray, gammas: np.ndarray
    ) -> np.ndarray:
        """Log joint of every start (C, w, A) with site probabilities (C,): (C, n, K)."""
        C = log_pwms.shape[0]
        n, J = feats["valid"].shape
        S = self.n_strands
        flat = log_pwms.reshape(C, -1).T
        odds = np.stack([f @ flat for f in feats["features"]])  # (S, nJ, C)
        odds -= feats["window_bg"][None, :, None]
        odds = odds.reshape(S, n, J, C).transpose(3, 1, 0, 2)  # (C, n, S, J)
        with np.errstate(divide="ignore"):
            log_gamma = np.log(gammas)
            log_none = np.log1p(-gammas)
        prior = feats["total_bg"] - np.log(S * feats["n_offsets"])  # (n,)
        site = odds + (log_gamma[:, None] + prior[None, :])[:, :, None, None]
        site = np.where(feats["valid"][None, :, None, :], site, -np.inf).reshape(C, n, S * J)
        if not self.zoops:
            return site
        none = log_none[:, None] + feats["total_bg"][None, :]
        return np.concatenate([site, none[:, :, None]], axis=2)

    def _one_step_scores(
        self, batch: Batch, base: MotifParams, pwms: np.ndarray, gamma: float
    ) -> np.ndarray:
        """Objective after one EM iteration from each starting matrix in ``pwms`` (C, w, A).

        MEME ranks a start by the motif one step of alignment makes of it, not by the start
        itself; here the E-step, the M-step and the new objective of all starts are matrix
        products of :meth:`_window_features` with the starts (equal to ``run_em`` with
        ``max_iter=1`` from each, to round-off; soft EM, or hard EM when ``hard``).
        """
        feats = self._window_features(batch, base)
        C, w, A = pwms.shape
        n, J = feats["valid"].shape
        S = self.n_strands
        ctx = StepContext(hard=self.hard)
        lj = self._matmul_log_joint(feats, np.log(pwms), np.full(C, gamma))
        resp, _ = ctx.posterior(lj.reshape(C * n, -1))
        resp = resp.reshape(C, n, -1) * batch.weight[None, :, None]
        site = resp[:, :, : S * J].reshape(C, n, S, J)
        counts = sum(
            site[:, :, s, :].reshape(C, n * J) @ f for s, f in enumerate(feats["features"])
        )
        alpha = self._alpha(base)
        counts = counts.reshape(C, w, A) + alpha
        new_pwms = counts / counts.sum(axis=2, keepdims=True)
        if self.zoops:
            gammas = np.clip(site.sum(axis=(1, 2, 3)) / resp.sum(axis=(1, 2)), 0.0, 1.0)
        else:
            gammas = np.ones(C)
        lj = self._matmul_log_joint(feats, np.log(new_pwms), gammas)
        _, log_norm = ctx.posterior(lj.reshape(C * n, -1))
        loglik = log_norm.reshape(C, n) @ batch.weight
        return np.asarray(loglik + np.sum(alpha * np.log(new_pwms), axis=(1, 2)))

    def init_params(self, batch: Batch, rng: np.random.RandomState) -> MotifParams:
        A = self.alphabet_.size
        background, background0 = self._fit_background(batch, A)
        gamma = self.gamma_init if self.zoops else 1.0
        if self.pwm_init is not None:
            pwm = np.asarray(self.pwm_init, dtype=np.float64)
            if (
                pwm.shape != (self.width, A)
                or not np.all(np.isfinite(pwm))
                or np.any(pwm <= 0)
                or not np.allclose(pwm.sum(axis=1), 1.0)
            ):
                raise ParameterError(
                    f"pwm_init must be a ({self.width}, {A}) matrix of positive probabilities "
                    "whose rows sum to 1"
                )
            return MotifParams(pwm, np.asarray(gamma), background, background0)
        base = MotifParams(
            np.full((self.width, A), 1.0 / A), np.asarray(gamma), background, background0
        )
        substrings = self._candidate_substrings(batch, rng)
        pwms = self._start_pwms(substrings, A)
        scoring = batch
        n, L = batch.arrays[0].shape
        pairs = n * (L - self.width + 1) * self.n_strands * len(pwms)
        if pairs > _SCORE_BUDGET:  # large data: score the starts on a sample of sequences
            n_rows = max(1, n * _SCORE_BUDGET // pairs)
            scoring = batch.take(np.sort(rng.choice(n, n_rows, replace=False)))
        scores = np.empty(len(pwms))
        per = max(1, _BLOCK // max(1, scoring.n_rows * (L - self.width + 1) * self.n_strands))
        for first in range(0, len(pwms), per):  # blocks of candidates bound the temporaries
            block = slice(first, first + per)
            scores[block] = self._one_step_scores(scoring, base, pwms[block], gamma)
        order = np.argsort(-scores, kind="stable")[: self.n_refine]
        refine = batch
        windows = n * (L - self.width + 1) * self.n_strands
        if windows > _REFINE_BUDGET:  # large data: the short runs only rank starts
            n_rows = max(1, n * _REFINE_BUDGET // windows)
            refine = batch.take(np.sort(rng.choice(n, n_rows, replace=False)))
        best: MotifParams | None = None
        best_value = -np.inf
        for k in order:  # short EM runs from the best starts, on the engine
            start = MotifParams(pwms[k], np.asarray(gamma), background, background0)
            params, value = self._short_run(refine, start)
            if best is None or value > best_value:
                best, best_value = params, value
        assert best is not None
        # a start overlapping the sites off by a few columns converges to a shifted motif;
        # shifted copies of the best (new columns at the background) let EM find the phase
        kept = best
        for shift in [s for k in range(1, self.max_shift + 1) for s in (k, -k)]:
            if abs(shift) >= self.width:
                break
            params, value = self._short_run(refine, self._shifted(kept, shift))
            if value > best_value:
                best, best_value = params, value
        return best

    def _short_run(self, batch: Batch, start: MotifParams) -> tuple[MotifParams, float]:
        result = run_em(
            self,
            batch,
            start,
            max_iter=self.start_iter,
            tol=self.tol,
            hard=self.hard,
            warn_convergence=False,
        )
        return result.params, result.log_likelihood

    @staticmethod
    def _shifted(params: MotifParams, shift: int) -> MotifParams:
        """The PWM moved ``shift`` columns right (left if negative), background columns added."""
        pwm = np.tile(params.background0, (params.pwm.shape[0], 1))
        if shift > 0:
            pwm[shift:] = params.pwm[:-shift]
        else:
            pwm[:shift] = params.pwm[-shift:]
        return MotifParams(pwm, params.gamma, params.background, params.background0)

    # -- results -----------------------------------------------------------------------------
    def site_posteriors(self, X: Any, erase: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Posterior of a site at each strand and offset, and of "no site".

        Returns
        -------
        site : ndarray of shape (n_sequences, S, J)
            ``P(site on strand s starting at offset j | X_i)`` (strand 0 forward, 1 reverse).
        none : ndarray of shape (n_sequences,)
            ``P(no site | X_i)`` (0 for OOPS).
        """
        proba = self.predict_proba(X, erase=erase)
        n = proba.shape[0]
        S = self.n_strands
        J = (proba.shape[1] - int(self.zoops)) // S
        site = proba[:, : S * J].reshape(n, S, J)
        none = proba[:, -1] if self.zoops else np.zeros(n)
        return site, none

    def _n_parameters(self) -> int:
        w, A = self.pwm_.shape
        return w * (A - 1) + int(self.zoops)

    def sample(self, n_samples: int = 1, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Not available: use :func:`emkit.motif.simulate.planted_motif_sequences`."""
        raise NotImplementedError(
            "MotifEM cannot sample without sequence lengths; use "
            "emkit.motif.simulate.planted_motif_sequences"
        )
