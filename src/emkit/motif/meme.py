"""MEME's search for several motifs, and what a person reads about each motif found.

:func:`find_motifs` fits one :class:`~emkit.motif.model.MotifEM` per motif (each with MEME's
starting-point search: substrings of the data as starts, short EM runs, keep the best, then
full EM), reports it as a :class:`Motif`, and down-weights the positions its sites cover
before looking for the next one, as MEME's ``-nmotifs`` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import chdtrc

from emkit._sklearn_api import check_random_state
from emkit.engine import Callback
from emkit.exceptions import DataError, ParameterError
from emkit.motif.fasta import FastaRecord, decode, encode_sequences, get_alphabet
from emkit.motif.model import MotifEM

__all__ = ["Motif", "Site", "coverage", "find_motifs", "score_pvalues", "site_scores"]


@dataclass(frozen=True)
class Site:
    """One motif site.

    Attributes
    ----------
    sequence : str
        Name of the sequence.
    index : int
        Index of the sequence in the input.
    start : int
        0-based position of the site's leftmost letter on the forward strand.
    strand : {'+', '-'}
        The strand the site reads on.
    posterior : float
        Posterior probability of a site at exactly this start and strand.
    site : str
        The site's letters, read on its strand (reverse complement for '-').
    pvalue : float
        Probability that a random background w-mer scores at least as high under the PWM.
    """

    sequence: str
    index: int
    start: int
    strand: str
    posterior: float
    site: str
    pvalue: float


@dataclass(frozen=True)
class Motif:
    """A fitted motif and its sites.

    Attributes
    ----------
    number : int
        1 for the first motif found, 2 for the next ...
    alphabet : str
        The alphabet's letters (PWM column order).
    pwm : ndarray of shape (width, A)
        Letter probabilities per motif column.
    background : ndarray of shape (A,)
        0-order background letter frequencies.
    consensus : str
        The most probable letter of each column.
    sites : tuple of Site
        One site per sequence whose site posterior reaches the threshold (every sequence for
        OOPS), in input order.
    gamma : float
        Fitted probability that a sequence holds a site (1 for OOPS).
    log_likelihood : float
        The fitted model's objective (log-likelihood + log-prior of the pseudocounts).
    llr : float
        MEME's log-likelihood ratio: number of sites times the relative entropy of the PWM to
        the background, in nats.
    log10_evalue : float
        log10 of the E-value: the p-value of the product of the columns' p-values, times the
        number of possible site alignments (MEME's recipe with asymptotic column p-values; an
        approximation of MEME's number, see ``_log10_evalue``).
    model, width, strands
        How it was fitted (``strands`` is ``'+'`` or ``'+ -'``).
    """

    number: int
    alphabet: str
    pwm: np.ndarray
    background: np.ndarray
    consensus: str
    sites: tuple[Site, ...]
    gamma: float
    log_likelihood: float
    llr: float
    log10_evalue: float
    model: str
    width: int
    strands: str
    estimator: MotifEM | None = field(default=None, repr=False, compare=False)

    @property
    def evalue(self) -> float:
        """The E-value (may underflow to 0; see ``log10_evalue``)."""
        return float(10.0**self.log10_evalue)

    @property
    def information_content(self) -> float:
        """Relative entropy of the PWM to the background, in bits (summed over columns)."""
        p = self.pwm
        return float(np.sum(p * np.log2(p / self.background)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the motif."""
        return {
            "number": self.number,
            "consensus": self.consensus,
            "width": self.width,
            "model": self.model,
            "strands": self.strands,
            "alphabet": self.alphabet,
            "nsites": len(self.sites),
            "gamma": self.gamma,
            "log_likelihood": self.log_likelihood,
            "llr": self.llr,
            "log10_evalue": self.log10_evalue,
            "information_content_bits": self.information_content,
            "pwm": self.pwm.tolist(),
            "background": self.background.tolist(),
            "sites": [
                {
                    "sequence": s.sequence,
                    "index": s.index,
                    "start": s.start + 1,
                    "strand": s.strand,
                    "posterior": s.posterior,
                    "site": s.site,
                    "pvalue": s.pvalue,
                }
                for s in self.sites
            ],
        }


def site_scores(pwm: np.ndarray, background: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Log-odds score ``sum_c log(pwm[c, x_c] / b(x_c))`` of w-mers (wildcards score 0).

    Parameters
    ----------
    pwm : ndarray of shape (w, A)
    background : ndarray of shape (A,)
    sites : ndarray of shape (n, w)
        Letter codes read on the site's strand (``A`` = wildcard).

    Returns
    -------
    ndarray of shape (n,)
    """
    w, A = pwm.shape
    odds = np.concatenate([np.log(pwm / background), np.zeros((w, 1))], axis=1)
    return odds[np.arange(w), np.minimum(sites, A)].sum(axis=1)


def score_pvalues(
    pwm: np.ndarray, background: np.ndarray, scores: np.ndarray, bins: int = 20000
) -> np.ndarray:
    """Exact (to the grid) p-values of log-odds scores of background w-mers.

    The distribution of ``sum_c log(pwm[c, x_c] / b(x_c))`` for ``x_c`` drawn from the 0-order
    background is computed by convolving the columns on a grid of ``bins`` steps (as FIMO and
    MAST do).

    Returns
    -------
    ndarray of the shape of ``scores``: ``P(score(x) >= s)``.
    """
    odds = np.log(pwm / background)
    low = odds.min(axis=1)
    shifted = odds - low[:, None]
    span = float(shifted.max(axis=1).sum())
    step = span / bins if span > 0 else 1.0
    q = np.rint(shifted / step).astype(np.intp)
    dist = np.ones(1)
    for column, prob in zip(q, np.broadcast_to(background, pwm.shape), strict=True):
        new = np.zeros(dist.size + int(column.max()))
        for k, p in zip(column, prob, strict=True):  # w x A small additions
            new[k : k + dist.size] += p * dist
        dist = new
    tail = np.cumsum(dist[::-1])[::-1]
    index = np.rint((np.asarray(scores) - low.sum()) / step).astype(np.intp)
    index = np.clip(index, 0, tail.size - 1)
    return np.clip(tail[index], 0.0, 1.0)


def coverage(site_post: np.ndarray, width: int, length: int) -> np.ndarray:
    """Probability that each position lies inside a site.

    Parameters
    ----------
    site_post : ndarray of shape (n, S, J)
        Posterior of a site starting at each offset on each strand.
    width : int
    length : int
        Padded sequence length L (``J = L - width + 1``).

    Returns
    -------
    ndarray of shape (n, L), clipped to [0, 1].
    """
    starts = site_post.sum(axis=1)  # (n, J)
    n, J = starts.shape
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(starts, axis=1)], axis=1)
    t = np.arange(length)
    upper = np.minimum(t + 1, J)
    lower = np.clip(t - width + 1, 0, J)
    return np.clip(cum[:, upper] - cum[:, lower], 0.0, 1.0)


def _log10_evalue(
    pwm: np.ndarray,
    background: np.ndarray,
    nsites: int,
    codes: np.ndarray,
    rows: np.ndarray,
    width: int,
    n_strands: int,
) -> float:
    """log10 E-value of a motif: product of column p-values, times the number of alignments.

    Each column's p-value is that of its log-likelihood ratio ``G = 2 N KL(pwm_c || b)`` for
    ``N`` sites drawn from the background (chi-squared with ``A - 1`` degrees of freedom); the
    product of the ``w`` column p-values is turned into a p-value (the product of ``w`` uniforms,
    Fisher's method) and multiplied by the number of ways to place the ``N`` sites (choose the
    sequences, then one offset and strand in each). This follows the recipe of MEME's
    "E-value of product of p-values" with asymptotic column p-values instead of exact ones.
    """
    if nsites == 0:
        return 0.0
    w, A = pwm.shape
    kl = np.sum(pwm * np.log(pwm / background), axis=1)
    # log of the chi-squared survival function (what scipy.stats.chi2.logsf computes), from
    # scipy.special: scipy.stats costs half a second to import
    with np.errstate(divide="ignore"):
        log_p_columns = np.log(chdtrc(A - 1, 2.0 * nsites * kl))
        log_p = float(np.log(chdtrc(2 * w, -2.0 * float(np.sum(log_p_columns)))))
    n = codes.shape[0]
    offsets = (np.sum(codes[rows] >= 0, axis=1) - width + 1) * n_strands
    log_alignments = float(np.sum(np.log(offsets))) + (
        math.lgamma(n + 1) - math.lgamma(nsites + 1) - math.lgamma(n - nsites + 1)
    )
    return (log_p + log_alignments) / math.log(10)


def _as_sequences(
    sequences: Sequence[str] | Sequence[FastaRecord], names: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    seqs: list[str] = []
    found: list[str] = []
    for k, s in enumerate(sequences):
        if isinstance(s, FastaRecord):
            seqs.append(s.sequence)
            found.append(s.name)
        elif isinstance(s, str):
            seqs.append(s)
            found.append(f"seq{k + 1}")
        else:
            raise DataError(f"sequence {k} is a {type(s).__name__}, not a string")
    if names is not None:
        found = list(names)
        if len(found) != len(seqs):
            raise DataError(f"{len(found)} names for {len(seqs)} sequences")
    return seqs, found


def find_motifs(
    sequences: Sequence[str] | Sequence[FastaRecord],
    width: int = 20,
    *,
    names: Sequence[str] | None = None,
    nmotifs: int = 1,
    model: str = "zoops",
    revcomp: bool = False,
    alphabet: str = "dna",
    site_threshold: float = 0.5,
    random_state: Any = None,
    callbacks: Sequence[Callback] = (),
    **options: Any,
) -> list[Motif]:
    """Find ``nmotifs`` motifs one after another, as MEME does.

    Parameters
    ----------
    sequences : sequence of str or of FastaRecord
        The sequences (``read_fasta``'s records keep their names).
    width : int, default=20
        Motif width (>= 2, at most the shortest sequence's length).
    names : sequence of str, optional
        Sequence names (default: the records' names, or ``seq1, seq2, ...``).
    nmotifs : int, default=1
        Number of motifs to find. After each one, every position's weight is multiplied by the
        probability that it lies outside the motif's sites, which down-weights those sites in
        later searches (MEME's erasing).
    model : {'zoops', 'oops'}, default='zoops'
    revcomp : bool, default=False
        Search both strands (DNA).
    alphabet : {'dna', 'protein'} or str, default='dna'
    site_threshold : float, default=0.5
        ZOOPS reports a site in a sequence when its posterior probability of holding one
        reaches this.
    random_state : int, RandomState or None
        Seeds the starting-point samples.
    callbacks : sequence of callables
        Engine callbacks of every fit (``IterationInfo.restart`` does not tell motifs apart).
    **options
        Further :class:`~emkit.motif.model.MotifEM` hyperparameters (``background_order``,
        ``pseudocount``, ``n_starts``, ``n_refine``, ``start_iter``, ``max_iter``, ``tol`` ...).

    Returns
    -------
    list of Motif
        In the order found.

    Raises
    ------
    DataError
        No sequences, unknown letters, or a sequence shorter than ``width``.
    ParameterError
        An invalid hyperparameter (e.g. ``width < 2``, ``nmotifs < 1``, ``revcomp`` on protein).
    """
    if not isinstance(nmotifs, int) or isinstance(nmotifs, bool) or nmotifs < 1:
        raise ParameterError(f"nmotifs must be a positive integer, got {nmotifs!r}")
    if not 0.0 <= site_threshold <= 1.0:
        raise ParameterError(f"site_threshold must lie in [0, 1], got {site_threshold!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 2:
        raise ParameterError(f"the motif width must be an integer >= 2, got {width!r}")
    abc = get_alphabet(alphabet)
    seqs, seq_names = _as_sequences(sequences, names)
    codes = encode_sequences(seqs, abc, names=seq_names)
    lengths = np.array([len(s) for s in seqs])
    short = np.flatnonzero(lengths < width)
    if short.size:
        i = int(short[0])
        raise DataError(
            f"sequence {seq_names[i]!r} has length {lengths[i]}, shorter than the motif width "
            f"{width}: drop it or choose a smaller width"
        )
    rng = check_random_state(random_state)
    erase = np.ones(codes.shape)
    motifs: list[Motif] = []
    for number in range(1, nmotifs + 1):
        est = MotifEM(
            width, model=model, revcomp=revcomp, alphabet=alphabet, random_state=rng, **options
        )
        est.fit(codes, erase=erase, callbacks=callbacks)
        site_post, none = est.site_posteriors(codes, erase=erase)
        motifs.append(_summarise(est, number, codes, seq_names, site_post, none, site_threshold))
        erase = erase * (1.0 - coverage(site_post, width, codes.shape[1]))
    return motifs


def _summarise(
    est: MotifEM,
    number: int,
    codes: np.ndarray,
    names: list[str],
    site_post: np.ndarray,
    none: np.ndarray,
    threshold: float,
) -> Motif:
    abc = est.alphabet_
    A = abc.size
    pwm = np.asarray(est.pwm_)
    background = np.asarray(est.background0_)
    w = pwm.shape[0]
    n, S, J = site_post.shape
    flat = site_post.reshape(n, S * J)
    best = flat.argmax(axis=1)
    strand_idx, start = np.divmod(best, J)
    has_site = (1.0 - none) >= threshold if est.zoops else np.ones(n, dtype=bool)
    rows = np.flatnonzero(has_site)
    windows = codes[rows[:, None], start[rows, None] + np.arange(w)].astype(np.intp)
    if S == 2:
        comp = np.append(abc.complement_index, A)  # the wildcard is its own complement
        reverse = strand_idx[rows] == 1
        windows[reverse] = comp[windows[reverse, ::-1]]
    scores = site_scores(pwm, background, windows)
    pvalues = score_pvalues(pwm, background, scores) if rows.size else np.zeros(0)
    site_strings = decode(windows, abc) if rows.size else []
    sites = tuple(
        Site(
            sequence=names[i],
            index=int(i),
            start=int(start[i]),
            strand="+-"[int(strand_idx[i])],
            posterior=float(flat[i, best[i]]),
            site=site_strings[k],
            pvalue=float(pvalues[k]),
        )
        for k, i in enumerate(rows)
    )
    relative_entropy = float(np.sum(pwm * np.log(pwm / background)))
    log10_e = _log10_evalue(pwm, background, len(sites), codes, rows, w, S)
    return Motif(
        number=number,
        alphabet=abc.letters,
        pwm=pwm,
        background=background,
        consensus="".join(abc.letters[k] for k in pwm.argmax(axis=1)),
        sites=sites,
        gamma=float(est.gamma_),
        log_likelihood=float(est.log_likelihood_),
        llr=len(sites) * relative_entropy,
        log10_evalue=log10_e,
        model=est.model,
        width=w,
        strands="+ -" if est.revcomp else "+",
        estimator=est,
    )
