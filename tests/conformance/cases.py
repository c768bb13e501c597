"""The models every conformance test runs over. A new model registers by appending a Case.

A case says how to build the estimator and how hypothesis draws valid data for it; the tests in
``test_conformance.py`` then check the engine's guarantees for every case automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from emkit import BernoulliMixture, BinomialMixture, EMEstimator
from emkit.crowd import ContinuousAnnotators, DawidSkene, OneCoinDawidSkene
from emkit.examples.genetic_linkage import GeneticLinkage
from emkit.models import PLSA, GaussianMixture, KMeans, MultinomialMixture
from emkit.motif import MotifEM

__all__ = ["CASES", "Case", "FitData"]


@dataclass(frozen=True)
class FitData:
    """Data for one fit: X, per-row extras passed to fit/predict (e.g. trials), and the lengths
    of the sequences for sequence models (then a sequence, not a row, is the unit of weight)."""

    X: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    lengths: np.ndarray | None = None

    @property
    def fit_kw(self) -> dict[str, np.ndarray]:
        """What fit and predict take besides X: the extras, and ``lengths`` if any."""
        return self.extra if self.lengths is None else {**self.extra, "lengths": self.lengths}

    @property
    def n_units(self) -> int:
        """The number of units a weight applies to: sequences, or rows."""
        return self.X.shape[0] if self.lengths is None else len(self.lengths)

    def row_weights(self, unit_weights: np.ndarray) -> np.ndarray:
        """One weight per row from one per unit (a sequence's rows share its weight)."""
        return unit_weights if self.lengths is None else np.repeat(unit_weights, self.lengths)

    def rows(self, index: np.ndarray) -> FitData:
        return FitData(self.X[index], {k: v[index] for k, v in self.extra.items()})

    def repeat(self, units: np.ndarray) -> FitData:
        """The units (rows or whole sequences) at ``units``, in that order."""
        if self.lengths is None:
            return self.rows(units)
        starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        index = np.concatenate([np.arange(starts[u], starts[u] + self.lengths[u]) for u in units])
        return FitData(
            self.X[index], {k: v[index] for k, v in self.extra.items()}, self.lengths[units]
        )


@dataclass(frozen=True)
class Case:
    """A registered model.

    Attributes
    ----------
    name : str
    make : callable
        ``make(**overrides) -> estimator``; overrides include random_state, hard, max_iter, tol.
    data : hypothesis strategy of FitData
        Valid data, with at least as many rows as the estimator's components.
    mixture : bool
        Whether the estimator is a MixtureEstimator (predict_proba etc. are tested).
    independent_rows : bool
        Whether the model's statistics are sums over rows that may be cut anywhere (no hidden
        variable shared by rows), or over whole sequences (``FitData.lengths``; the executors
        cut only between them): such models must give the in-memory answer on the streamed
        and Dask executors (``test_executors.py``). Opt-in.
    row_params : tuple of str
        Parameters with one row per training row (PLSA's ``doc_topic``): an integer weight
        ``w`` then equals ``w`` copies of the row, each with the weighted row's parameters.
    hard_fixed_point : bool
        Whether hard EM reaches an exact fixed point in finitely many steps. Not so with
        missing values: with the assignments fixed, the M-step still runs EM over the missing
        coordinates (continuous), which converges only linearly; nor for GMMHMM, whose
        components within a state stay soft under Viterbi training.
    """

    name: str
    make: Callable[..., EMEstimator[Any]]
    data: st.SearchStrategy[FitData]
    mixture: bool = True
    independent_rows: bool = False
    row_params: tuple[str, ...] = ()
    hard_fixed_point: bool = True


def _binary(n_min: int = 2) -> st.SearchStrategy[FitData]:
    @st.composite
    def draw(d: st.DrawFn) -> FitData:
        n = d(st.integers(n_min, 40))
        p = d(st.integers(1, 5))
        seed = d(st.integers(0, 2**31))
        rng = np.random.default_rng(seed)
        return FitData(rng.integers(0, 2, size=(n, p)).astype(np.float64))

    return draw()


@st.composite
def _binomial_data(d: st.DrawFn) -> FitData:
    n = d(st.integers(2, 40))
    p = d(st.integers(1, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    trials = rng.integers(1, 30, size=(n, 1)).astype(np.float64)
    X = rng.binomial(trials.astype(int), rng.uniform(0.05, 0.95, size=(n, p))).astype(float)
    return FitData(X, {"trials": trials[:, 0]})


@st.composite
def _linkage_data(d: st.DrawFn) -> FitData:
    n = d(st.integers(3, 60))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    cells = rng.choice(4, size=n, p=[0.55, 0.1, 0.1, 0.25])
    cells[:2] = [1, 3]  # theta must stay inside (0, 1)
    return FitData(cells.reshape(-1, 1).astype(float))


@st.composite
def _motif_data(d: st.DrawFn) -> FitData:
    """Short DNA sequences (codes 0..3, 4 = wildcard N, -1 = padding), at least 3 letters."""
    n = d(st.integers(2, 8))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    lengths = rng.integers(3, 12, size=n)
    X = np.full((n, int(lengths.max())), -1, dtype=np.int8)
    inside = np.arange(X.shape[1]) < lengths[:, None]
    letters = rng.choice(5, size=X.shape, p=[0.24, 0.24, 0.24, 0.24, 0.04])
    X[inside] = letters[inside]
    return FitData(X)


def _motif(**kw: Any) -> MotifEM:
    small = {"n_starts": 6, "n_refine": 1, "start_iter": 1, "max_shift": 1}
    return MotifEM(3, **{**small, **kw})


def _counts(sparse: bool) -> st.SearchStrategy[FitData]:
    """Small document-term count matrices (some documents may be empty)."""

    @st.composite
    def draw(d: st.DrawFn) -> FitData:
        n = d(st.integers(2, 30))
        v = d(st.integers(2, 8))
        rng = np.random.default_rng(d(st.integers(0, 2**31)))
        topics = rng.dirichlet(np.full(v, 0.5), size=2)
        lengths = rng.integers(0, 15, size=n)
        X = np.stack([rng.multinomial(m, topics[i % 2]) for i, m in enumerate(lengths)])
        X = X.astype(np.float64)
        return FitData(sp.csr_matrix(X) if sparse else X)  # type: ignore[arg-type]

    return draw()


@st.composite
def _crowd_scores(d: st.DrawFn) -> FitData:
    """Long-format scores (task, worker, score in [0, 1]); every task and worker present."""
    n_tasks = d(st.integers(1, 6))
    n_workers = d(st.integers(1, 5))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    pairs = [(t, w) for t in range(n_tasks) for w in range(n_workers)]
    keep = rng.uniform(size=len(pairs)) < d(st.floats(0.3, 1.0))
    rows = [p for p, k in zip(pairs, keep, strict=True) if k]
    rows += [(t, t % n_workers) for t in range(n_tasks)] + [
        (w % n_tasks, w) for w in range(n_workers)
    ]
    task, worker = np.array(rows, dtype=float).T
    good = rng.uniform(size=n_workers) < 0.6
    truth = rng.uniform(0.2, 0.8, size=n_tasks)
    noisy = np.clip(truth[task.astype(int)] + 0.05 * rng.standard_normal(task.size), 0, 1)
    score = np.where(good[worker.astype(int)], noisy, rng.uniform(0, 1, size=task.size))
    return FitData(np.column_stack([task, worker, score]))


@st.composite
def _crowd_labels(d: st.DrawFn) -> FitData:
    """Long-format labels (task, worker, label in 0..K-1), repeated (task, worker) pairs allowed."""
    n_tasks = d(st.integers(1, 8))
    n_workers = d(st.integers(1, 5))
    k = d(st.integers(2, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    n = d(st.integers(max(n_tasks, n_workers), 40))
    task = np.concatenate([np.arange(n_tasks), rng.integers(0, n_tasks, n - n_tasks)])
    worker = np.concatenate([np.arange(n_workers) % n_workers, rng.integers(0, n_workers, n)])[:n]
    worker[: min(n_workers, n)] = np.arange(min(n_workers, n))
    truth = rng.integers(0, k, n_tasks)
    right = rng.uniform(size=n) < rng.uniform(0.3, 0.95, n_workers)[worker]
    label = np.where(right, truth[task], rng.integers(0, k, n))
    return FitData(np.column_stack([task, worker, label]).astype(float))


CASES: list[Case] = [
    Case(
        "binomial",
        lambda **kw: BinomialMixture(2, **{"init": "random_from_data", **kw}),
        _binomial_data(),
        independent_rows=True,
    ),
    Case("bernoulli", lambda **kw: BernoulliMixture(2, **kw), _binary(), independent_rows=True),
    Case(
        "genetic_linkage",
        lambda **kw: GeneticLinkage(**kw),
        _linkage_data(),
        independent_rows=True,
    ),
    Case(
        "motif_zoops",
        lambda **kw: _motif(**{"model": "zoops", **kw}),
        _motif_data(),
        independent_rows=True,
    ),
    Case(
        "motif_oops_revcomp_markov1",
        lambda **kw: _motif(**{"model": "oops", "revcomp": True, "background_order": 1, **kw}),
        _motif_data(),
        independent_rows=True,
    ),
    Case(
        "multinomial",
        lambda **kw: MultinomialMixture(2, **{"init": "random", "n_init": 1, **kw}),
        _counts(sparse=False),
        independent_rows=True,
    ),
    Case(
        "multinomial_sparse",
        lambda **kw: MultinomialMixture(2, **{"init": "random", "n_init": 1, **kw}),
        _counts(sparse=True),
        independent_rows=True,
    ),
    # PLSA's per-document topic weights are parameters with one row per document: a chunk's
    # statistics fill its own documents' rows (found through the document index that travels
    # with the rows), so the rows stay independent and may be cut anywhere.
    Case(
        "plsa_sparse",
        lambda **kw: PLSA(2, **{"alpha": 0.01, **kw}),
        _counts(sparse=True),
        mixture=False,
        independent_rows=True,
        row_params=("doc_topic",),
    ),
    Case(
        "plsa_alternating",
        lambda **kw: PLSA(2, **{"update": "alternating", **kw}),
        _counts(sparse=False),
        mixture=False,
        independent_rows=True,
        row_params=("doc_topic",),
    ),
    Case(
        "crowd_continuous",
        lambda **kw: ContinuousAnnotators(low=0.0, high=1.0, **kw),
        _crowd_scores(),
        mixture=False,
    ),
    Case("crowd_dawid_skene", lambda **kw: DawidSkene(**kw), _crowd_labels(), mixture=False),
    Case("crowd_one_coin", lambda **kw: OneCoinDawidSkene(**kw), _crowd_labels(), mixture=False),
]


@st.composite
def _blobs(d: st.DrawFn) -> FitData:
    """Two well-separated clusters of at least 6 distinct points each, 1 to 3 features."""
    n_a = d(st.integers(6, 20))
    n_b = d(st.integers(6, 20))
    p = d(st.integers(1, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    scale = d(st.sampled_from([1e-2, 1.0, 1e3]))
    offset = d(st.sampled_from([0.0, 1e4]))
    a = rng.normal(0.0, 1.0, size=(n_a, p))
    b = rng.normal(20.0, 1.0, size=(n_b, p))
    return FitData(offset + scale * np.vstack([a, b]))


def _gmm(covariance_type: str) -> Callable[..., EMEstimator[Any]]:
    def make(**kw: Any) -> EMEstimator[Any]:
        return GaussianMixture(2, covariance_type=covariance_type, **kw)

    return make


CASES += [
    Case("gmm_full", _gmm("full"), _blobs(), independent_rows=True),
    Case("gmm_diag", _gmm("diag"), _blobs(), independent_rows=True),
    Case("kmeans", lambda **kw: KMeans(2, **kw), _blobs(), independent_rows=True),
]


@st.composite
def _figure_ground(d: st.DrawFn) -> FitData:
    """Pixel colours of a background and a foreground cluster (10 to 24 each, 1 to 3 channels),
    with a prior that clamps some pixels to their own class and leans the others towards it."""
    n_a = d(st.integers(10, 24))
    n_b = d(st.integers(10, 24))
    p = d(st.integers(1, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    X = np.vstack([rng.normal(0.0, 1.0, size=(n_a, p)), rng.normal(20.0, 1.0, size=(n_b, p))])
    prior = np.concatenate(
        [rng.choice([-np.inf, -4.0], size=n_a), rng.choice([np.inf, 4.0], size=n_b)]
    )
    prior[:5] = -np.inf  # enough clamped pixels that neither class starts from a handful
    prior[n_a : n_a + 5] = np.inf
    return FitData(X, {"prior": prior})


def _figure_ground_mixture(**kw: Any) -> EMEstimator[Any]:
    from emkit.image import FigureGroundMixture

    return FigureGroundMixture(1, reg_covar=1e-6, **kw)


CASES += [Case("figure_ground", _figure_ground_mixture, _figure_ground())]


@st.composite
def _blobs_missing(d: st.DrawFn) -> FitData:
    """The blobs above (2 or 3 features) with 10-40 % of the values missing completely at
    random; every row keeps an observed value and every column a few."""
    n_a = d(st.integers(6, 20))
    n_b = d(st.integers(6, 20))
    p = d(st.integers(2, 3))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    scale = d(st.sampled_from([1e-2, 1.0, 1e3]))
    offset = d(st.sampled_from([0.0, 1e4]))
    a = rng.normal(0.0, 1.0, size=(n_a, p))
    b = rng.normal(20.0, 1.0, size=(n_b, p))
    X = offset + scale * np.vstack([a, b])
    drop = rng.random(X.shape) < d(st.floats(0.1, 0.4))
    drop[np.arange(X.shape[0]), rng.integers(0, p, size=X.shape[0])] = False
    drop[:3] = False
    drop[n_a : n_a + 3] = False
    X[drop] = np.nan
    return FitData(X)


def _gmm_missing(covariance_type: str) -> Callable[..., EMEstimator[Any]]:
    def make(**kw: Any) -> EMEstimator[Any]:
        # reg_covar=0: the M-step is then the exact maximiser and EM provably monotone
        return GaussianMixture(
            2, covariance_type=covariance_type, missing="em", **{"reg_covar": 0.0, **kw}
        )

    return make


CASES += [
    Case(
        f"gmm_{t}_missing",
        _gmm_missing(t),
        _blobs_missing(),
        independent_rows=True,
        hard_fixed_point=False,
    )
    for t in ("full", "tied", "diag", "spherical")
]


def _sequences(emission: str) -> st.SearchStrategy[FitData]:
    """1 to 5 sequences of 1 to 15 steps from a sticky 2-state chain; Gaussian emissions are two
    well-separated blobs with at least 6 distinct points each (``mixture``: two blobs per
    state)."""

    @st.composite
    def draw(d: st.DrawFn) -> FitData:
        rng = np.random.default_rng(d(st.integers(0, 2**31)))
        lengths = np.array(d(st.lists(st.integers(1, 15), min_size=1, max_size=5)), dtype=np.int64)
        n = int(lengths.sum())
        z = np.empty(n, dtype=np.int64)
        z[0] = 0
        for t in range(1, n):
            z[t] = z[t - 1] if rng.uniform() < 0.8 else 1 - z[t - 1]
        if emission == "gaussian":
            p = d(st.integers(1, 2))
            # a first sequence of 6 steps in each state: both states well populated
            lengths = np.append(12, lengths)
            z = np.concatenate([np.repeat([0, 1], 6), z])
            X = rng.normal(size=(len(z), p)) + 20.0 * z[:, None]
        elif emission == "mixture":  # two blobs per state, each with 6 steps or more
            p = d(st.integers(1, 2))
            lengths = np.append(24, lengths)
            z = np.concatenate([np.repeat([0, 1], 12), z])
            blob = np.concatenate([np.tile(np.repeat([0, 1], 6), 2), rng.integers(0, 2, n)])
            X = rng.normal(size=(len(z), p)) + 40.0 * z[:, None] + 10.0 * blob[:, None]
        elif emission == "categorical":
            probs = np.array([[0.6, 0.2, 0.1, 0.1], [0.1, 0.1, 0.2, 0.6]])
            X = np.array([[rng.choice(4, p=probs[k])] for k in z], dtype=np.float64)
        else:
            X = rng.poisson(np.array([2.0, 9.0])[z][:, None] * np.ones((1, 2))).astype(float)
            X[0] = 1.0  # some count above zero: no rate collapses to exactly 0 everywhere
        return FitData(X, lengths=lengths)

    return draw()


def _gaussian_hmm(covariance_type: str) -> Callable[..., EMEstimator[Any]]:
    def make(**kw: Any) -> EMEstimator[Any]:
        from emkit.hmm import GaussianHMM

        return GaussianHMM(2, covariance_type, **kw)

    return make


def _gmm_hmm(covariance_type: str) -> Callable[..., EMEstimator[Any]]:
    def make(**kw: Any) -> EMEstimator[Any]:
        from emkit.hmm import GMMHMM

        return GMMHMM(2, 2, covariance_type, **kw)

    return make


def _categorical_hmm(**kw: Any) -> EMEstimator[Any]:
    from emkit.hmm import CategoricalHMM

    # a pseudo-count (MAP-EM): under maximum likelihood a symbol absent from partial_fit's
    # first batch gets probability 0, and a later batch holding it is impossible (a clear
    # NonFiniteError, tested in test_hmm_online.py)
    return CategoricalHMM(2, n_features=4, **{"emissionprob_prior": 1.5, **kw})


def _poisson_hmm(**kw: Any) -> EMEstimator[Any]:
    from emkit.hmm import PoissonHMM

    return PoissonHMM(2, **kw)


# hidden Markov models: sequences are the unit of weight and of chunking
CASES += [
    Case(
        f"hmm_gaussian_{t}",
        _gaussian_hmm(t),
        _sequences("gaussian"),
        mixture=False,
        independent_rows=True,
    )
    for t in ("full", "diag", "tied", "spherical")
]
CASES += [  # two Gaussians per state (tied: per state, pooled from full components); hard EM
    # (Viterbi training) keeps the components within a state soft: no finite fixed point
    Case(
        f"hmm_gmm_{t}",
        _gmm_hmm(t),
        _sequences("mixture"),
        mixture=False,
        independent_rows=True,
        hard_fixed_point=False,
    )
    for t in ("diag", "tied")
]
CASES += [
    Case(
        "hmm_categorical",
        _categorical_hmm,
        _sequences("categorical"),
        mixture=False,
        independent_rows=True,
    ),
    Case("hmm_poisson", _poisson_hmm, _sequences("poisson"), mixture=False, independent_rows=True),
]
