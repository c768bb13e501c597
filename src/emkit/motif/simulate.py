"""Synthetic sequences with planted motif sites, for tests, benchmarks and demonstrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emkit._sklearn_api import check_random_state
from emkit.exceptions import ParameterError
from emkit.motif.fasta import DNA, Alphabet, decode, get_alphabet

__all__ = ["PlantedMotifData", "conserved_pwm", "planted_motif_sequences"]


@dataclass(frozen=True)
class PlantedMotifData:
    """Sequences and the truth about their planted sites.

    Attributes
    ----------
    sequences : list of str
    starts : ndarray of shape (n_sequences,)
        0-based start of the planted site on the forward strand, -1 where none was planted.
    strands : ndarray of shape (n_sequences,)
        +1 or -1 (the strand the site reads on), 0 where none was planted.
    pwm : ndarray of shape (width, A)
        The matrix the sites were drawn from.
    """

    sequences: list[str]
    starts: np.ndarray
    strands: np.ndarray
    pwm: np.ndarray


def conserved_pwm(
    consensus: str, conservation: float, alphabet: str | Alphabet = DNA
) -> np.ndarray:
    """A PWM giving each consensus letter probability ``conservation``, the rest evenly."""
    abc = get_alphabet(alphabet)
    if not 0.0 < conservation <= 1.0:
        raise ParameterError(f"conservation must lie in (0, 1], got {conservation!r}")
    A = abc.size
    pwm = np.full((len(consensus), A), (1.0 - conservation) / (A - 1))
    pwm[np.arange(len(consensus)), [abc.letters.index(c) for c in consensus.upper()]] = conservation
    return pwm


def planted_motif_sequences(
    n_sequences: int,
    length: int,
    pwm: np.ndarray,
    *,
    site_probability: float = 1.0,
    background: Any = None,
    reverse_fraction: float = 0.0,
    alphabet: str | Alphabet = DNA,
    random_state: Any = None,
) -> PlantedMotifData:
    """Random background sequences, each holding one site drawn from ``pwm`` with some probability.

    Parameters
    ----------
    n_sequences, length : int
        Number and length of the sequences.
    pwm : ndarray of shape (width, A)
        The motif's letter probabilities.
    site_probability : float, default=1.0
        Chance that a sequence holds a site (1: OOPS data; < 1: ZOOPS data).
    background : array-like of shape (A,), optional
        0-order background letter probabilities (default uniform).
    reverse_fraction : float, default=0.0
        Chance that a site is planted on the reverse strand (DNA).
    alphabet : str or Alphabet, default=DNA
    random_state : int, RandomState or None
    """
    abc = get_alphabet(alphabet)
    rng = check_random_state(random_state)
    pwm = np.asarray(pwm, dtype=np.float64)
    w, A = pwm.shape
    if A != abc.size or length < w:
        raise ParameterError(
            f"pwm of shape {pwm.shape} does not fit alphabet {abc.letters} and length {length}"
        )
    bg = np.full(A, 1.0 / A) if background is None else np.asarray(background, dtype=np.float64)
    codes = rng.choice(A, size=(n_sequences, length), p=bg / bg.sum())
    has = rng.uniform(size=n_sequences) < site_probability
    starts = np.where(has, rng.randint(0, length - w + 1, size=n_sequences), -1)
    reverse = has & (rng.uniform(size=n_sequences) < reverse_fraction)
    cum = np.cumsum(pwm, axis=1)
    draws = (rng.uniform(size=(n_sequences, w, 1)) > cum[None]).sum(axis=2)
    draws = np.minimum(draws, A - 1)
    if np.any(reverse):
        comp = abc.complement_index
        draws[reverse] = comp[draws[reverse, ::-1]]
    rows = np.flatnonzero(has)
    codes[rows[:, None], starts[rows, None] + np.arange(w)] = draws[rows]
    strands = np.where(has, np.where(reverse, -1, 1), 0)
    return PlantedMotifData(decode(codes, abc), starts, strands, pwm)
