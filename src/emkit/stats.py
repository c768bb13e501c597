"""Additive sufficient statistics: the unit of work every executor maps and reduces."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["Stats"]


class Stats(Mapping[str, Any]):
    """Named arrays of sufficient statistics that add element-wise.

    An E-step over a chunk of rows returns one ``Stats``; the statistics of the whole data set
    are the plain sum of the chunks' statistics (``sum(chunks)`` works), so in-memory, streamed
    and distributed fits are the same algorithm.

    Parameters
    ----------
    loglik : float, default=0.0
        The chunk's contribution to the objective (observed-data log-likelihood in soft EM,
        classification log-likelihood in hard EM), already weighted by ``sample_weight``.
    weight : float, default=0.0
        Sum of the chunk's sample weights (the effective number of observations).
    **arrays : array-like
        The statistics themselves, e.g. ``nk`` (responsibility mass per component) and ``sx``.

    Examples
    --------
    >>> a = Stats(loglik=-1.0, weight=2.0, nk=np.array([1.0, 1.0]))
    >>> b = Stats(loglik=-2.0, weight=1.0, nk=np.array([0.5, 0.5]))
    >>> (a + b)["nk"]
    array([1.5, 1.5])
    >>> (0.5 * a)["nk"], (0.5 * a).weight
    (array([0.5, 0.5]), 1.0)
    """

    __slots__ = ("_arrays", "loglik", "weight")

    def __init__(self, loglik: float = 0.0, weight: float = 0.0, **arrays: Any) -> None:
        self.loglik = float(loglik)
        self.weight = float(weight)
        self._arrays = {k: np.asarray(v) for k, v in arrays.items()}

    def __getitem__(self, key: str) -> Any:
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __add__(self, other: object) -> Stats:
        if isinstance(other, int) and other == 0:  # lets the builtin sum() start from 0
            return self
        if not isinstance(other, Stats):
            return NotImplemented
        if self._arrays.keys() != other._arrays.keys():
            raise ValueError(
                f"cannot add Stats with keys {sorted(self)} and {sorted(other)}: "
                "every chunk of one pass must return the same statistics"
            )
        return Stats(
            loglik=self.loglik + other.loglik,
            weight=self.weight + other.weight,
            **{k: self._arrays[k] + other._arrays[k] for k in self._arrays},
        )

    __radd__ = __add__

    def __mul__(self, factor: object) -> Stats:
        """Every field (``loglik``, ``weight`` and each array) times a scalar ``factor``.

        Statistics are sums over rows, so ``c * s`` are the statistics of rows weighted ``c``
        times as much: ``s * (1 / s.weight)`` is a per-unit-weight average, and stepwise
        (online) EM's running statistics are ``(1 - rho) * s + rho * batch``.
        """
        if isinstance(factor, bool) or not isinstance(factor, int | float | np.number):
            return NotImplemented
        c = float(factor)
        return Stats(
            loglik=c * self.loglik,
            weight=c * self.weight,
            **{k: c * v for k, v in self._arrays.items()},
        )

    __rmul__ = __mul__

    def replace(self, **changes: Any) -> Stats:
        """Return a copy with some fields (``loglik``, ``weight`` or arrays) replaced."""
        loglik = changes.pop("loglik", self.loglik)
        weight = changes.pop("weight", self.weight)
        return Stats(loglik=loglik, weight=weight, **{**self._arrays, **changes})

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self._arrays.items())
        return f"Stats(loglik={self.loglik:.6g}, weight={self.weight:.6g}, {shapes})"
