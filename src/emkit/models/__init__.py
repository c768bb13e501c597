"""The models that ship with emkit, one small module per family."""

from emkit.models.bernoulli import BernoulliMixture
from emkit.models.binomial import BinomialMixture, BinomialParams
from emkit.models.gaussian import DegenerateComponentWarning, GaussianMixture, GaussianParams
from emkit.models.kmeans import KMeans, KMeansParams

__all__ = [
    "BernoulliMixture",
    "BinomialMixture",
    "BinomialParams",
    "DegenerateComponentWarning",
    "GaussianMixture",
    "GaussianParams",
    "KMeans",
    "KMeansParams",
]
