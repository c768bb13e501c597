"""emkit: Expectation-Maximization for latent-variable models.

One engine (:mod:`emkit.engine`) runs every model; models supply additive sufficient statistics
(:class:`~emkit.stats.Stats`) and closed-form M-steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emkit._lazy import lazy_exports
from emkit._version import __version__

if TYPE_CHECKING:
    from emkit.base import EMEstimator, MixtureEstimator
    from emkit.data import Batch
    from emkit.engine import EMModel, FitResult, IterationInfo, StepContext, fit_em, run_em
    from emkit.exceptions import (
        ConvergenceWarning,
        DataError,
        EmkitError,
        NonFiniteError,
        NonMonotoneError,
        NotFittedError,
        ParameterError,
    )
    from emkit.executors import DaskExecutor, Executor, InMemoryExecutor, StreamExecutor
    from emkit.io import load, save
    from emkit.models import (
        BernoulliMixture,
        BinomialMixture,
        GaussianMixture,
        GaussianMixtureImputer,
        KMeans,
    )
    from emkit.sources import ArraySource, NpySource, ParquetSource, RowSource, SparseNpzSource
    from emkit.stats import Stats

# where each public name lives: imported on first use (see emkit._lazy)
_EXPORTS = {
    "EMEstimator": "emkit.base",
    "MixtureEstimator": "emkit.base",
    "Batch": "emkit.data",
    "EMModel": "emkit.engine",
    "FitResult": "emkit.engine",
    "IterationInfo": "emkit.engine",
    "StepContext": "emkit.engine",
    "fit_em": "emkit.engine",
    "run_em": "emkit.engine",
    "ConvergenceWarning": "emkit.exceptions",
    "DataError": "emkit.exceptions",
    "EmkitError": "emkit.exceptions",
    "NonFiniteError": "emkit.exceptions",
    "NonMonotoneError": "emkit.exceptions",
    "NotFittedError": "emkit.exceptions",
    "ParameterError": "emkit.exceptions",
    "DaskExecutor": "emkit.executors",
    "Executor": "emkit.executors",
    "InMemoryExecutor": "emkit.executors",
    "StreamExecutor": "emkit.executors",
    "load": "emkit.io",
    "save": "emkit.io",
    "BernoulliMixture": "emkit.models.bernoulli",
    "BinomialMixture": "emkit.models.binomial",
    "GaussianMixture": "emkit.models.gaussian",
    "GaussianMixtureImputer": "emkit.models.gaussian_impute",
    "KMeans": "emkit.models.kmeans",
    "ArraySource": "emkit.sources",
    "NpySource": "emkit.sources",
    "ParquetSource": "emkit.sources",
    "RowSource": "emkit.sources",
    "SparseNpzSource": "emkit.sources",
    "Stats": "emkit.stats",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ArraySource",
    "Batch",
    "BernoulliMixture",
    "BinomialMixture",
    "ConvergenceWarning",
    "DaskExecutor",
    "DataError",
    "EMEstimator",
    "EMModel",
    "EmkitError",
    "Executor",
    "FitResult",
    "GaussianMixture",
    "GaussianMixtureImputer",
    "InMemoryExecutor",
    "IterationInfo",
    "KMeans",
    "MixtureEstimator",
    "NonFiniteError",
    "NonMonotoneError",
    "NotFittedError",
    "NpySource",
    "ParameterError",
    "ParquetSource",
    "RowSource",
    "SparseNpzSource",
    "Stats",
    "StepContext",
    "StreamExecutor",
    "__version__",
    "fit_em",
    "load",
    "run_em",
    "save",
]
