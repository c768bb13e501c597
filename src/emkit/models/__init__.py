"""The models that ship with emkit, one small module per family."""

from emkit.models.bernoulli import BernoulliMixture
from emkit.models.binomial import BinomialMixture, BinomialParams

__all__ = ["BernoulliMixture", "BinomialMixture", "BinomialParams"]
