"""Hidden Markov models on the EM engine: Baum-Welch, Viterbi training and decoding.

``GaussianHMM`` (full, diag, spherical and tied covariances), ``GMMHMM`` (a Gaussian mixture
per state), ``CategoricalHMM`` and ``PoissonHMM`` follow hmmlearn's names (``fit(X, lengths)``,
``startprob_``, ``transmat_``, ``means_``, ``covars_``, ``emissionprob_``, ``lambdas_``,
``weights_``, ``params`` / ``init_params``) and run on emkit's engine: every executor
(sequences are the unit of chunking), restarts, hard EM (Viterbi training), online EM,
callbacks, save/load. See ``docs/hmm.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emkit._lazy import lazy_exports

if TYPE_CHECKING:
    from emkit.hmm._base import BaseHMM, UnvisitedStateWarning
    from emkit.hmm.discrete import (
        CategoricalHMM,
        CategoricalHMMParams,
        PoissonHMM,
        PoissonHMMParams,
    )
    from emkit.hmm.gaussian import GaussianHMM, GaussianHMMParams
    from emkit.hmm.gmm import GMMHMM, GMMHMMParams

_EXPORTS = {
    "BaseHMM": "emkit.hmm._base",
    "UnvisitedStateWarning": "emkit.hmm._base",
    "CategoricalHMM": "emkit.hmm.discrete",
    "CategoricalHMMParams": "emkit.hmm.discrete",
    "PoissonHMM": "emkit.hmm.discrete",
    "PoissonHMMParams": "emkit.hmm.discrete",
    "GaussianHMM": "emkit.hmm.gaussian",
    "GaussianHMMParams": "emkit.hmm.gaussian",
    "GMMHMM": "emkit.hmm.gmm",
    "GMMHMMParams": "emkit.hmm.gmm",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "GMMHMM",
    "BaseHMM",
    "CategoricalHMM",
    "CategoricalHMMParams",
    "GMMHMMParams",
    "GaussianHMM",
    "GaussianHMMParams",
    "PoissonHMM",
    "PoissonHMMParams",
    "UnvisitedStateWarning",
]
