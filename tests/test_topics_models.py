"""MultinomialMixture and PLSA: properties, sparse input, semi-supervised EM, KL-NMF equivalence."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emkit import (
    ConvergenceWarning,
    DataError,
    InMemoryExecutor,
    ParameterError,
    SparseNpzSource,
    StreamExecutor,
    load,
)
from emkit.models import PLSA, MultinomialMixture, labelled_loo_accuracy
from emkit.models.plsa import plsa_kl_divergence_offset
from emkit.sources import as_source

SOME = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _corpus(seed: int, n: int = 60, v: int = 30, k: int = 3) -> tuple[sp.csr_matrix, np.ndarray]:
    """Documents from k topics with mostly disjoint vocabularies; returns counts and labels."""
    rng = np.random.default_rng(seed)
    topics = np.full((k, v), 0.01)
    block = v // k
    for t in range(k):
        topics[t, t * block : (t + 1) * block] = rng.dirichlet(np.ones(block)) * 5
    topics /= topics.sum(axis=1, keepdims=True)
    labels = np.arange(n) % k
    X = np.stack([rng.multinomial(rng.integers(20, 60), topics[z]) for z in labels])
    return sp.csr_matrix(X.astype(np.float64)), labels


@st.composite
def _counts(d: st.DrawFn) -> sp.csr_matrix:
    n = d(st.integers(3, 25))
    v = d(st.integers(2, 10))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    X = rng.poisson(rng.gamma(0.5, 3.0, size=(n, v))).astype(np.float64)
    X[0, 0] += 1  # at least one word
    return sp.csr_matrix(X)


def _kl(X: sp.csr_matrix, W: np.ndarray, H: np.ndarray) -> float:
    """Generalised KL divergence D(X || W H), from its definition."""
    WH = W @ H
    dense = X.toarray()
    nz = dense > 0
    return float(np.sum(dense[nz] * np.log(dense[nz] / WH[nz])) - dense.sum() + WH.sum())


# -- MultinomialMixture ------------------------------------------------------------------------
def test_mixture_recovers_separated_topics_on_sparse_input() -> None:
    X, labels = _corpus(0)
    model = MultinomialMixture(3, random_state=0).fit(X)
    pred = model.predict(X)
    # the clustering equals the truth up to a permutation
    table = np.zeros((3, 3), int)
    np.add.at(table, (labels, pred), 1)
    assert np.all(table.max(axis=1) == table.sum(axis=1))
    np.testing.assert_allclose(model.topic_word_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_mixture_dense_and_sparse_input_agree() -> None:
    X, _ = _corpus(1)
    a = MultinomialMixture(3, random_state=3, init="random", n_init=2).fit(X)
    b = MultinomialMixture(3, random_state=3, init="random", n_init=2).fit(X.toarray())
    np.testing.assert_allclose(a.topic_word_, b.topic_word_, rtol=1e-10)
    np.testing.assert_allclose(a.log_likelihood_history_, b.log_likelihood_history_, rtol=1e-12)


def test_mixture_log_joint_is_the_multinomial_sequence_likelihood() -> None:
    X, _ = _corpus(2, n=10, v=6, k=2)
    model = MultinomialMixture(2, random_state=0, n_init=1).fit(X)
    dense = X.toarray()
    expected = np.log(
        np.sum(model.weights_ * np.prod(model.topic_word_[None] ** dense[:, None], axis=2), 1)
    )
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-10)


def test_mixture_smoothing_objective_includes_the_prior() -> None:
    X, _ = _corpus(3, n=20, v=9, k=3)
    model = MultinomialMixture(3, alpha=0.5, random_state=0, n_init=1).fit(X)
    ll = float(np.sum(model.score_samples(X)))
    prior = 0.5 * float(np.sum(np.log(model.topic_word_)))
    assert model.log_likelihood_ == pytest.approx(ll + prior, rel=1e-9)
    assert np.all(model.topic_word_ > 0)


def test_semi_supervised_clamps_labelled_documents() -> None:
    X, labels = _corpus(4)
    partial = np.full(labels.shape, -1)
    partial[:6] = labels[:6]  # two labelled documents per topic
    model = MultinomialMixture(3, random_state=0).fit(X, labels=partial)
    # the labelled documents name the topics: no permutation left
    assert np.mean(model.predict(X) == labels) == 1.0


def test_semi_supervised_label_errors() -> None:
    X, _ = _corpus(5, n=12)
    with pytest.raises(DataError, match="labels must lie in"):
        MultinomialMixture(3).fit(X, labels=np.full(12, 7))
    with pytest.raises(DataError, match="labels must be 12 integers"):
        MultinomialMixture(3).fit(X, labels=np.zeros(5, int))


@pytest.mark.parametrize("hard", [False, True])
def test_mixture_kmeans_init_monotone_and_reproducible(hard: bool) -> None:
    X, _ = _corpus(6)
    a = MultinomialMixture(3, hard=hard, random_state=1, n_init=3).fit(X)
    b = MultinomialMixture(3, hard=hard, random_state=1, n_init=3).fit(X)
    assert np.all(np.diff(a.log_likelihood_history_) >= -1e-9 * abs(a.log_likelihood_))
    np.testing.assert_array_equal(a.topic_word_, b.topic_word_)


def test_mixture_bad_input() -> None:
    X, _ = _corpus(7, n=5)
    with pytest.raises(DataError, match="n_components=9 must be <= n_samples=5"):
        MultinomialMixture(9).fit(X)
    with pytest.raises(DataError, match="non-negative"):
        MultinomialMixture(2).fit(-X.toarray())
    with pytest.raises(ParameterError, match="'alpha' parameter"):
        MultinomialMixture(2, alpha=-1.0).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        MultinomialMixture(2).fit(np.full((3, 3), np.nan))


def test_mixture_empty_documents_are_valid() -> None:
    X, _ = _corpus(8, n=12)
    X = sp.vstack([X, sp.csr_matrix((2, X.shape[1]))]).tocsr()
    model = MultinomialMixture(3, random_state=0).fit(X)
    np.testing.assert_allclose(model.predict_proba(X[-2:]), [model.weights_] * 2)


def test_mixture_passes_sklearn_check_estimator() -> None:
    from tests._sklearn_checks import run_check_estimator

    reason = "the random start draws one value per row, so repeating rows changes it"
    run_check_estimator(
        MultinomialMixture(2, n_init=1, init="random", max_iter=20),
        {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
            # sklearn 1.9's sparse check reads classifier tags of any estimator with
            # predict_proba (None here): sparse input is tested above instead
            "check_estimator_sparse_array": "classifier-only check of predict_proba",
            "check_estimator_sparse_matrix": "classifier-only check of predict_proba",
        },
    )


# -- PLSA ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["em", "alternating"])
@given(
    X=_counts(),
    seed=st.integers(0, 2**32 - 1),
    hard=st.booleans(),
    alpha=st.sampled_from([0.0, 0.1]),
)
@SOME
def test_plsa_objective_never_decreases(
    update: str, X: sp.csr_matrix, seed: int, hard: bool, alpha: float
) -> None:
    model = PLSA(2, alpha=alpha, update=update, hard=hard, random_state=seed, max_iter=30, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    history = model.log_likelihood_history_
    assert np.all(np.isfinite(history))
    assert np.all(np.diff(history) >= -1e-9 * (np.abs(history[:-1]) + X.shape[0]))
    np.testing.assert_allclose(model.doc_topic_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.topic_word_.sum(axis=1), 1.0)


@given(X=_counts(), seed=st.integers(0, 2**32 - 1), hard=st.booleans())
@SOME
def test_plsa_integer_weights_equal_repetition(X: sp.csr_matrix, seed: int, hard: bool) -> None:
    rng = np.random.default_rng(seed)
    weight = rng.integers(1, 4, size=X.shape[0])
    beta0 = rng.dirichlet(np.ones(X.shape[1]), size=2)
    options: dict[str, Any] = {"topic_word_init": beta0, "max_iter": 8, "tol": 0.0, "hard": hard}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = PLSA(2, **options).fit(X, sample_weight=weight.astype(float))
        rows = np.repeat(np.arange(X.shape[0]), weight)
        repeated = PLSA(2, **options).fit(X[rows])
    np.testing.assert_allclose(weighted.topic_word_, repeated.topic_word_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        weighted.doc_topic_[rows], repeated.doc_topic_, rtol=1e-8, atol=1e-12
    )
    np.testing.assert_allclose(
        weighted.log_likelihood_history_, repeated.log_likelihood_history_, rtol=1e-9
    )


@given(X=_counts(), seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 7))
@SOME
def test_plsa_chunked_equals_in_memory(X: sp.csr_matrix, seed: int, chunk: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = PLSA(2, random_state=seed, max_iter=10, tol=0).fit(X)
        chunked = PLSA(2, random_state=seed, max_iter=10, tol=0)
        chunked.fit(X, executor=InMemoryExecutor(chunk_rows=chunk))
    np.testing.assert_allclose(whole.topic_word_, chunked.topic_word_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(whole.doc_topic_, chunked.doc_topic_, rtol=1e-9, atol=1e-12)


@given(X=_counts(), seed=st.integers(0, 2**32 - 1))
@SOME
def test_plsa_hard_em_stops_at_a_fixed_point(X: sp.csr_matrix, seed: int) -> None:
    model = PLSA(2, hard=True, random_state=seed, max_iter=500, tol=1e-12).fit(X)
    assert model.converged_
    again = PLSA(2, hard=True, warm_start=True, max_iter=1, tol=1e-12)
    again.params_ = model.params_
    again.fit(X)
    np.testing.assert_allclose(again.topic_word_, model.topic_word_, rtol=1e-12, atol=1e-15)


def test_plsa_same_random_state_and_save_load(tmp_path: Any) -> None:
    X, _ = _corpus(9)
    a = PLSA(3, random_state=5, n_init=2, init="kmeans", max_iter=300).fit(X)
    b = PLSA(3, random_state=5, n_init=2, init="kmeans", max_iter=300).fit(X)
    np.testing.assert_array_equal(a.topic_word_, b.topic_word_)
    a.save(tmp_path / "plsa")
    back = load(tmp_path / "plsa.json")
    assert isinstance(back, PLSA)
    for f in dataclasses.fields(a.params_):
        np.testing.assert_array_equal(getattr(back.params_, f.name), getattr(a.params_, f.name))
    np.testing.assert_allclose(back.transform(X[:5]), a.transform(X[:5]))


def test_plsa_kl_nmf_identity_at_any_parameters() -> None:
    """D_KL(X || diag(n) theta beta) = C - log L, checked against the definition."""
    X, _ = _corpus(10)
    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.ones(3), size=X.shape[0])
    beta = rng.dirichlet(np.ones(X.shape[1]), size=3)
    model = PLSA(3, alpha=0.0, topic_word_init=beta, doc_topic_init=theta, max_iter=0).fit(X)
    n = np.asarray(X.sum(axis=1)).ravel()
    divergence = _kl(X, n[:, None] * theta, beta)
    offset = plsa_kl_divergence_offset(X)
    assert offset - model.log_likelihood_ == pytest.approx(divergence, rel=1e-12)


def test_plsa_objective_equals_sklearn_kl_nmf_from_the_same_start() -> None:
    """The PLSA = KL-NMF equivalence (Gaussier & Goutte 2005) to 1e-6 relative.

    Both start from the same point (NMF's W = diag(n) theta0, H = beta0) and run to
    convergence; PLSA's EM and NMF's multiplicative updates reach the same optimum.
    """
    from sklearn.decomposition import NMF

    X, _ = _corpus(11, n=120, v=45, k=3)
    rng = np.random.default_rng(1)
    beta0 = rng.dirichlet(np.ones(X.shape[1]), size=3)
    theta0 = np.full((X.shape[0], 3), 1 / 3)
    n = np.asarray(X.sum(axis=1)).ravel()
    plsa = PLSA(3, alpha=0.0, topic_word_init=beta0, doc_topic_init=theta0, max_iter=3000)
    plsa.set_params(tol=1e-10).fit(X)
    nmf = NMF(3, beta_loss="kullback-leibler", solver="mu", init="custom", max_iter=1500, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's own ConvergenceWarning at max_iter
        W = nmf.fit_transform(X, W=n[:, None] * theta0, H=beta0.copy())
    d_nmf = _kl(X, W, nmf.components_)
    d_plsa = plsa_kl_divergence_offset(X) - plsa.log_likelihood_
    assert d_plsa == pytest.approx(d_nmf, rel=1e-6)
    # and PLSA's parameters are NMF's, normalised
    np.testing.assert_allclose(
        plsa.doc_topic_ @ plsa.topic_word_,
        (W @ nmf.components_) / n[:, None],
        atol=5e-5,  # the likelihood is flat in some directions: parameters agree less tightly
    )


def test_plsa_fold_in_matches_training_weights() -> None:
    X, _ = _corpus(12)
    model = PLSA(3, random_state=0, init="kmeans", tol=1e-10, max_iter=2000).fit(X)
    folded = PLSA(3, alpha=model.alpha, tol=1e-12, fold_in_max_iter=5000)
    folded.__dict__.update({k: v for k, v in vars(model).items() if k.endswith("_")})
    theta = folded.transform(X)
    np.testing.assert_allclose(theta, model.doc_topic_, atol=2e-3)
    assert np.isfinite(folded.score(X))


def test_plsa_bad_input() -> None:
    X, _ = _corpus(13, n=4)
    with pytest.raises(DataError, match="n_components=6 must be <="):
        PLSA(6).fit(X)
    with pytest.raises(ParameterError, match="'update' parameter"):
        PLSA(2, update="sideways").fit(X)
    with pytest.raises(ParameterError, match="topic_word_init"):
        PLSA(2, topic_word_init=np.ones((3, 3))).fit(X)
    model = PLSA(2, random_state=0, max_iter=5, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    with pytest.raises(DataError, match="warm start"):
        model.fit(X[:3])


# -- streamed sparse input ----------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [False, True])
def test_sparse_npz_source_reads_csr_blocks(tmp_path: Any, compressed: bool) -> None:
    X, _ = _corpus(3, n=23)
    path = tmp_path / "counts.npz"
    sp.save_npz(path, X, compressed=compressed)
    source = as_source(path)
    assert isinstance(source, SparseNpzSource) and source.sparse
    assert source.shape == X.shape and source.dtype == X.dtype
    for start, stop in [(0, 23), (0, 5), (5, 17), (22, 23), (7, 7)]:
        block = source.read(start, stop)
        assert sp.issparse(block) and block.shape == (stop - start, X.shape[1])
        np.testing.assert_array_equal(block.toarray(), X[start:stop].toarray())
    np.testing.assert_array_equal(
        source.take(np.array([1, 4, 20])).toarray(), X[[1, 4, 20]].toarray()
    )
    sp.save_npz(tmp_path / "csc.npz", X.tocsc())
    with pytest.raises(DataError, match=r"save X\.tocsr"):
        SparseNpzSource(tmp_path / "csc.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"scipy\.sparse\.save_npz"):
        SparseNpzSource(tmp_path / "junk.npz")


@pytest.mark.filterwarnings("ignore::emkit.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", ["mixture", "plsa"])
def test_streamed_sparse_fit_equals_in_memory(tmp_path: Any, model: str) -> None:
    """A CSR matrix on disk, in chunks, semi-supervised labels streamed along (mixture)."""
    X, labels = _corpus(4, n=50)
    sp.save_npz(tmp_path / "counts.npz", X, compressed=False)
    extra: dict[str, Any] = {}
    if model == "mixture":
        partial = np.where(np.arange(50) < 9, labels, -1)
        extra = {"labels": partial}

        def make() -> Any:
            return MultinomialMixture(3, n_init=2, random_state=0, max_iter=8, tol=0)
    else:

        def make() -> Any:
            return PLSA(3, random_state=0, max_iter=8, tol=0)

    whole = make().fit(X, **extra)
    streamed = make().fit(tmp_path / "counts.npz", executor=StreamExecutor(chunk_rows=7), **extra)
    np.testing.assert_allclose(streamed.topic_word_, whole.topic_word_, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        streamed.log_likelihood_history_, whole.log_likelihood_history_, rtol=1e-9
    )
    if model == "plsa":
        np.testing.assert_allclose(streamed.doc_topic_, whole.doc_topic_, rtol=1e-9, atol=1e-14)
    else:
        with pytest.raises(TypeError, match="labels are only used by fit"):
            streamed.predict(X, labels=extra["labels"])


@pytest.mark.parametrize("threads", [1, 3, 64])
def test_plsa_statistics_same_for_any_cut_into_runs(
    monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """The E-step cuts the documents into one run per core: any cut gives the same sums."""
    from emkit.models import _plsa_stats as plsa_module

    X, _ = _corpus(6, n=40)
    dense = X.toarray()
    dense[5] = 0  # an empty document inside a run
    X = sp.csr_matrix(dense)
    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.ones(3), size=40)
    beta = rng.dirichlet(np.ones(X.shape[1]), size=3)
    weight = rng.uniform(0.5, 2.0, size=40)
    monkeypatch.setattr(plsa_module, "_n_threads", lambda: 1)
    ref = plsa_module.plsa_statistics(X, theta, beta, weight, hard=False)
    monkeypatch.setattr(plsa_module, "_n_threads", lambda: threads)
    got = plsa_module.plsa_statistics(X, theta, beta, weight, hard=False)
    assert got[0] == pytest.approx(ref[0], rel=1e-12)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-12, atol=1e-15)
    # and the sums are the definitions: sum_v x_dv q_dvk and sum_d w_d x_dv q_dvk
    q = theta[:, :, None] * beta[None, :, :]
    q /= np.where(q.sum(axis=1, keepdims=True) > 0, q.sum(axis=1, keepdims=True), 1)
    np.testing.assert_allclose(got[1], np.einsum("dv,dkv->dk", dense, q), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        got[2], np.einsum("d,dv,dkv->kv", weight, dense, q), rtol=1e-10, atol=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(2, 5))
def test_clusters_are_named_after_the_labelled_documents(seed: int, k: int) -> None:
    from emkit.models.multinomial import _match_clusters

    rng = np.random.default_rng(seed)
    truth = np.concatenate([np.arange(k), rng.integers(0, k, 30)])
    clusters = rng.permutation(k)[truth]  # the same partition under other names
    labels = np.where(rng.uniform(size=truth.size) < 0.3, truth, -1)
    labels[:k] = truth[:k]  # every topic has a labelled document
    np.testing.assert_array_equal(_match_clusters(clusters, labels), truth)


@pytest.mark.parametrize("init", ["kmeans", "random", "naive-bayes"])
def test_semi_supervised_starts_keep_labelled_documents_in_their_topic(init: str) -> None:
    X, labels = _corpus(4)
    partial = np.full(labels.shape, -1)
    partial[:6] = labels[:6]
    model = MultinomialMixture(3, init=init, max_iter=0, n_init=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, labels=partial)
    start = model.predict(X)
    np.testing.assert_array_equal(start[:6], labels[:6])


def test_labelled_loo_accuracy_scores_the_labels_against_the_content() -> None:
    """Perfect on consistent labels; a mislabelled document is the one miss when it is left out."""
    X, y = _corpus(3, n=60, k=2)
    partial = np.full(y.shape, -1)
    picked = np.concatenate([np.flatnonzero(y == c)[:4] for c in (0, 1)])
    partial[picked] = y[picked]
    model = MultinomialMixture(2, random_state=0, n_init=2)
    assert labelled_loo_accuracy(model, X, partial) == 1.0

    wrong = partial.copy()
    wrong[picked[0]] = 1 - y[picked[0]]  # a topic-0 document labelled 1
    assert labelled_loo_accuracy(model, X, wrong) == 7 / 8
    assert labelled_loo_accuracy(model, X.toarray(), wrong) == 7 / 8

    with pytest.raises(DataError, match="at least one labelled document"):
        labelled_loo_accuracy(model, X, np.full(y.shape, -1))
