"""The one-method interface every executor implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from emkit.data import Batch
from emkit.stats import Stats

__all__ = ["Executor"]


class Executor(ABC):
    """Where the rows live and how a pass over them runs.

    Subclasses implement :meth:`map_reduce` (one pass: apply ``fn`` to every chunk of rows and sum
    the results) and :meth:`init_batch` (the rows a model's initialisation may look at).
    """

    @abstractmethod
    def map_reduce(self, fn: Callable[[Batch], Stats], data: Any) -> Stats:
        """Apply ``fn`` to every chunk of ``data`` and return the sum of the results."""

    @abstractmethod
    def init_batch(self, data: Any, rng: np.random.RandomState) -> Batch:
        """Rows to initialise from: all of them in memory, a sample when data is out of core."""

    @abstractmethod
    def total_weight(self, data: Any) -> float:
        """Sum of the sample weights of ``data``."""
