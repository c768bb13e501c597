"""Small data sets bundled with emkit: the course's worked examples, with their sources."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emkit.tabular import read_numeric_csv

__all__ = [
    "CasinoData",
    "CoinData",
    "dishonest_casino",
    "earthquakes",
    "genetic_linkage",
    "old_faithful",
    "three_coins",
    "two_coins",
]


@dataclass(frozen=True)
class CoinData:
    """A worked coin example: observations, trials and the textbook's starting values."""

    X: np.ndarray
    n_trials: int
    theta_init: np.ndarray
    weights_init: np.ndarray
    source: str


def two_coins() -> CoinData:
    """Do & Batzoglou (2008), Nature Biotechnology 26:897, Figure 1.

    Five sets of 10 tosses with heads 5, 9, 8, 4, 7; coin A or B (unknown) chosen with equal
    probability for each set. EM starts at theta_A = 0.6, theta_B = 0.5 (weights fixed at 1/2).
    """
    return CoinData(
        X=np.array([[5], [9], [8], [4], [7]], dtype=np.float64),
        n_trials=10,
        theta_init=np.array([[0.6], [0.5]]),
        weights_init=np.array([0.5, 0.5]),
        source="Do & Batzoglou (2008) Nat. Biotechnol. 26(8):897-899, Figure 1",
    )


def three_coins(start: tuple[float, float, float] = (0.4, 0.6, 0.7)) -> CoinData:
    """Li Hang, Statistical Learning Methods, example 9.1: the three-coin model.

    Observations y = 1,1,0,1,0,0,1,0,1,1; ``start`` is (pi, p, q), the book uses (0.5, 0.5, 0.5)
    and (0.4, 0.6, 0.7).
    """
    pi, p, q = start
    return CoinData(
        X=np.array([1, 1, 0, 1, 0, 0, 1, 0, 1, 1], dtype=np.float64)[:, None],
        n_trials=1,
        theta_init=np.array([[p], [q]]),
        weights_init=np.array([pi, 1 - pi]),
        source="Li Hang, Statistical Learning Methods, ch. 9, example 9.1",
    )


def genetic_linkage() -> tuple[np.ndarray, np.ndarray]:
    """Dempster, Laird & Rubin (1977), section 1: Rao's 197 animals in four cells.

    Returns
    -------
    cells : ndarray of shape (4, 1)
        Cell indices 0..3.
    counts : ndarray of shape (4,)
        125, 18, 20, 34 (use as ``sample_weight``).
    """
    return np.arange(4).reshape(-1, 1), np.array([125.0, 18.0, 20.0, 34.0])


def old_faithful() -> tuple[np.ndarray, list[str]]:
    """Old Faithful geyser eruptions (Yellowstone): 272 rows of duration and waiting time.

    The classic data of Bishop's *Pattern Recognition and Machine Learning* (fig. 9.8) and of R's
    ``datasets::faithful`` (Härdle 1991; Azzalini & Bowman 1990); public domain.

    Returns
    -------
    X : ndarray of shape (272, 2)
        Eruption duration (minutes) and waiting time to the next eruption (minutes).
    columns : list of str
        ``["eruptions", "waiting"]``.

    Notes
    -----
    The 2-component full-covariance Gaussian mixture MLE has weights 0.355873 / 0.644127, means
    (2.036388, 54.478516) / (4.289662, 79.968115) and log-likelihood -1130.2640.
    """
    from importlib.resources import as_file, files

    with as_file(files("emkit.datasets") / "data" / "old_faithful.csv") as path:
        names, X = read_numeric_csv(path)
    return X, names


def earthquakes() -> tuple[np.ndarray, np.ndarray]:
    """Annual counts of major earthquakes (magnitude >= 7) worldwide, 1900-2006 (107 years).

    Zucchini, MacDonald & Langrock, *Hidden Markov Models for Time Series* (Chapman & Hall/CRC),
    Table 1.1 (see ``datasets/data/earthquakes.md``).

    Returns
    -------
    years : ndarray of int64, shape (107,)
    counts : ndarray of shape (107, 1)
        The counts, one column (a :class:`~emkit.hmm.PoissonHMM`'s ``X``).

    Notes
    -----
    A 2-state Poisson HMM with the initial distribution learned reaches -log L = 341.8787
    (AIC 693.7574) from lambda = (10, 30), Gamma = [[0.9, 0.1], [0.1, 0.9]], delta = (0.5, 0.5).
    """
    from importlib.resources import as_file, files

    with as_file(files("emkit.datasets") / "data" / "earthquakes.csv") as path:
        _, table = read_numeric_csv(path)
    return table[:, 0].astype(np.int64), table[:, 1:2]


@dataclass(frozen=True)
class CasinoData:
    """Rolls of the occasionally dishonest casino and the dice that produced them.

    Attributes
    ----------
    X : ndarray of shape (n, 1)
        Faces 0..5 (a roll of 1 is 0).
    states : ndarray of int64, shape (n,)
        0 = fair die, 1 = loaded die.
    startprob, transmat, emissionprob : ndarray
        The true parameters.
    source : str
    """

    X: np.ndarray
    states: np.ndarray
    startprob: np.ndarray
    transmat: np.ndarray
    emissionprob: np.ndarray
    source: str


def dishonest_casino(n_rolls: int = 3000, random_state: int | None = 0) -> CasinoData:
    """The occasionally dishonest casino of Durbin, Eddy, Krogh & Mitchison (1998), sec. 3.2.

    A fair die (every face 1/6) is swapped for a loaded one (a six with probability 1/2, the
    other faces 1/10) with probability 0.05 per roll, and back with probability 0.1; the first
    roll uses the fair die with probability 1/2. Generated, not bundled.
    """
    rng = np.random.default_rng(random_state)
    startprob = np.array([0.5, 0.5])
    transmat = np.array([[0.95, 0.05], [0.10, 0.90]])
    emissionprob = np.array([[1 / 6] * 6, [0.1] * 5 + [0.5]])
    states = np.empty(n_rolls, dtype=np.int64)
    states[0] = rng.choice(2, p=startprob)
    switch = rng.uniform(size=n_rolls)
    for t in range(1, n_rolls):
        states[t] = states[t - 1] ^ int(switch[t] < transmat[states[t - 1], 1 - states[t - 1]])
    u = rng.uniform(size=n_rolls)
    faces = (u[:, None] >= np.cumsum(emissionprob, axis=1)[states]).sum(axis=1)
    return CasinoData(
        np.minimum(faces, 5).reshape(-1, 1),
        states,
        startprob,
        transmat,
        emissionprob,
        "Durbin, Eddy, Krogh & Mitchison (1998), Biological Sequence Analysis, section 3.2",
    )
