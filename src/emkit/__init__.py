"""emkit: Expectation-Maximization for latent-variable models.

One engine (:mod:`emkit.engine`) runs every model; models supply additive sufficient statistics
(:class:`~emkit.stats.Stats`) and closed-form M-steps.
"""

from emkit._version import __version__
from emkit.base import EMEstimator, MixtureEstimator
from emkit.data import Batch
from emkit.engine import EMModel, FitResult, IterationInfo, StepContext, fit_em, run_em
from emkit.exceptions import (
    ConvergenceWarning,
    DataError,
    EmkitError,
    NonFiniteError,
    NonMonotoneError,
    ParameterError,
)
from emkit.executors import DaskExecutor, Executor, InMemoryExecutor, StreamExecutor
from emkit.io import load, save
from emkit.models import BernoulliMixture, BinomialMixture, GaussianMixture, KMeans
from emkit.sources import ArraySource, NpySource, ParquetSource, RowSource, SparseNpzSource
from emkit.stats import Stats

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
    "InMemoryExecutor",
    "IterationInfo",
    "KMeans",
    "MixtureEstimator",
    "NonFiniteError",
    "NonMonotoneError",
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
