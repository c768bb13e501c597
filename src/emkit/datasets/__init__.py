"""Small data sets bundled with emkit: the course's worked examples, with their sources."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emkit.tabular import read_numeric_csv

__all__ = ["CoinData", "genetic_linkage", "old_faithful", "three_coins", "two_coins"]


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
