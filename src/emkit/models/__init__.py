"""The models that ship with emkit, one small module per family."""

from emkit.models.bernoulli import BernoulliMixture
from emkit.models.binomial import BinomialMixture, BinomialParams
from emkit.models.gaussian import DegenerateComponentWarning, GaussianMixture, GaussianParams
from emkit.models.kmeans import KMeans, KMeansParams
from emkit.models.multinomial import (
    MultinomialMixture,
    MultinomialParams,
    labelled_loo_accuracy,
)
from emkit.models.plsa import PLSA, PLSAParams

__all__ = [
    "PLSA",
    "BernoulliMixture",
    "BinomialMixture",
    "BinomialParams",
    "DegenerateComponentWarning",
    "GaussianMixture",
    "GaussianParams",
    "KMeans",
    "KMeansParams",
    "MultinomialMixture",
    "MultinomialParams",
    "PLSAParams",
    "labelled_loo_accuracy",
]
