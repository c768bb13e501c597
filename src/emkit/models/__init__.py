"""The models that ship with emkit, one small module per family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emkit._lazy import lazy_exports

if TYPE_CHECKING:
    from emkit.models.bernoulli import BernoulliMixture
    from emkit.models.binomial import BinomialMixture, BinomialParams
    from emkit.models.gaussian import DegenerateComponentWarning, GaussianMixture, GaussianParams
    from emkit.models.gaussian_impute import GaussianMixtureImputer
    from emkit.models.gaussian_missing import AllMissingRowsWarning
    from emkit.models.kmeans import KMeans, KMeansParams
    from emkit.models.multinomial import (
        MultinomialMixture,
        MultinomialParams,
        labelled_loo_accuracy,
    )
    from emkit.models.plsa import PLSA, PLSAParams

_EXPORTS = {
    "BernoulliMixture": "emkit.models.bernoulli",
    "BinomialMixture": "emkit.models.binomial",
    "BinomialParams": "emkit.models.binomial",
    "DegenerateComponentWarning": "emkit.models.gaussian",
    "GaussianMixture": "emkit.models.gaussian",
    "GaussianParams": "emkit.models.gaussian",
    "GaussianMixtureImputer": "emkit.models.gaussian_impute",
    "AllMissingRowsWarning": "emkit.models.gaussian_missing",
    "KMeans": "emkit.models.kmeans",
    "KMeansParams": "emkit.models.kmeans",
    "MultinomialMixture": "emkit.models.multinomial",
    "MultinomialParams": "emkit.models.multinomial",
    "labelled_loo_accuracy": "emkit.models.multinomial",
    "PLSA": "emkit.models.plsa",
    "PLSAParams": "emkit.models.plsa",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "PLSA",
    "AllMissingRowsWarning",
    "BernoulliMixture",
    "BinomialMixture",
    "BinomialParams",
    "DegenerateComponentWarning",
    "GaussianMixture",
    "GaussianMixtureImputer",
    "GaussianParams",
    "KMeans",
    "KMeansParams",
    "MultinomialMixture",
    "MultinomialParams",
    "PLSAParams",
    "labelled_loo_accuracy",
]
