"""GLAD and MACE on the engine: crowd-kit parity from the same start, monotone objectives,
weights, and accuracies on the public sets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emkit import DataError, ParameterError
from emkit.crowd import GLAD, MACE, DawidSkene
from emkit.crowd.datasets import read_public_set
from emkit.crowd.select import METHODS, predicted_codes, select_method

pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.filterwarnings("ignore::emkit.exceptions.ConvergenceWarning")


def _public(name: str) -> tuple:
    try:
        return read_public_set(name)
    except DataError as exc:
        pytest.skip(f"shared data not found: {exc}")


def _crowdkit() -> object:
    ck = pytest.importorskip("crowdkit.aggregation")
    warnings.filterwarnings("ignore", module="crowdkit")
    return ck


def _accuracy(labels: object, truth: object) -> float:
    return float(np.mean(labels.reindex(truth.index).to_numpy() == truth.to_numpy()))


def _simulated(seed: int, n_tasks: int = 60, n_workers: int = 8, k: int = 3) -> object:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_tasks)
    task = np.repeat(np.arange(n_tasks), 5)
    worker = rng.integers(0, n_workers, task.size)
    skill = rng.uniform(0.3, 0.95, n_workers)
    right = rng.uniform(size=task.size) < skill[worker]
    label = np.where(right, truth[task], rng.integers(0, k, task.size))
    return pd.DataFrame({"task": task, "worker": worker, "label": label})


def _first_seen_ids(answers: object) -> object:
    """Worker and label ids renumbered in order of first appearance (module docstring of
    emkit.crowd.mace: crowd-kit's strategy table is otherwise misaligned with its codes)."""
    out = answers.copy()
    out["worker"] = pd.factorize(out["worker"])[0]
    out["label"] = pd.factorize(out["label"])[0]
    return out


# -- GLAD -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bluebirds", "dog", "cf"])
def test_glad_equals_crowd_kit_from_the_same_start(name: str) -> None:
    ck = _crowdkit()
    answers, _ = _public(name)
    for n_iter in (1, 2):
        theirs = ck.GLAD(n_iter=n_iter, tol=-np.inf).fit(answers)
        mine = GLAD(max_iter=n_iter, tol=0.0).fit(answers)
        # parameters after n_iter conjugate-gradient M-steps
        np.testing.assert_allclose(
            mine.alpha_, theirs.alphas_.reindex(mine.workers_).to_numpy(), atol=1e-6
        )
        np.testing.assert_allclose(
            mine.beta_, theirs.betas_.reindex(mine.tasks_).to_numpy(), atol=1e-6
        )
        # crowd-kit's posteriors are from the E-step before its last M-step
        before = GLAD(max_iter=n_iter - 1, tol=0.0).fit(answers).probas_
        proba = theirs.probas_.reindex(index=before.index, columns=before.columns)
        np.testing.assert_allclose(before.to_numpy(), proba.to_numpy(), atol=1e-6)


@pytest.mark.parametrize("name,published", [("product", 0.928)])
def test_glad_published_accuracy(name: str, published: float) -> None:
    """crowd-kit's JOSS table / Zheng et al. (VLDB 2017): GLAD on D_Product 0.928."""
    answers, truth = _public(name)
    assert _accuracy(GLAD().fit_predict(answers), truth) == pytest.approx(published, abs=0.001)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_glad_objective_never_decreases(seed: int) -> None:
    model = GLAD(max_iter=15, tol=0.0).fit(_simulated(seed))  # the engine raises on a decrease
    history = model.log_likelihood_history_
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1]))
    np.testing.assert_allclose(model.proba_.sum(axis=1), 1.0)


def test_glad_weights_equal_repetition_and_bad_input() -> None:
    df = _simulated(1, n_tasks=20)
    twice = pd.concat([df, df.iloc[:7]], ignore_index=True)
    weight = np.ones(len(df))
    weight[:7] = 2
    a = GLAD(max_iter=5, tol=0.0).fit(twice)
    b = GLAD(max_iter=5, tol=0.0).fit(df, sample_weight=weight)
    np.testing.assert_allclose(a.proba_, b.proba_, atol=1e-8)
    np.testing.assert_allclose(a.alpha_, b.alpha_, atol=1e-6)
    with pytest.raises(DataError, match="labels_priors"):
        GLAD(labels_priors=[0.5, 0.5]).fit(df)
    with pytest.raises(ParameterError, match="m_step_max_iter"):
        GLAD(m_step_max_iter=0).fit(df)
    skewed = GLAD(labels_priors=pd.Series({0: 0.8, 1: 0.1, 2: 0.1})).fit(df)
    np.testing.assert_allclose(skewed.prior_, [0.8, 0.1, 0.1])
    assert skewed.alphas_.index.name == "worker" and len(skewed.betas_) == 20


# -- MACE -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["vb", "em"])
@pytest.mark.parametrize("name", ["bluebirds", "dog", "cf"])
def test_mace_equals_crowd_kit_from_the_same_start(name: str, method: str) -> None:
    ck = _crowdkit()
    answers = _first_seen_ids(_public(name)[0])
    for n_iter in (1, 10, 49):
        # emkit's start is crowd-kit's random start plus one update
        theirs = ck.MACE(n_iter=n_iter + 1, n_restarts=1, method=method).fit(answers)
        mine = MACE(max_iter=n_iter, tol=0.0, method=method, init="random").fit(answers)
        proba = theirs.probas_.reindex(index=mine.probas_.index, columns=mine.probas_.columns)
        np.testing.assert_allclose(mine.proba_, proba.to_numpy(), atol=1e-10)
        np.testing.assert_allclose(mine.spamming_, theirs.spamming_, atol=1e-10)


@pytest.mark.parametrize("init", ["majority", "random"])
@pytest.mark.parametrize("method", ["vb", "em"])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_mace_objective_never_decreases(method: str, init: str, seed: int) -> None:
    """VB's bound (log evidence term minus the KL of the posteriors) and EM's penalised
    log-likelihood: the engine raises if either decreases."""
    model = MACE(max_iter=20, tol=0.0, method=method, init=init, random_state=seed)
    model.fit(_simulated(seed))
    history = model.log_likelihood_history_
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1]))
    np.testing.assert_allclose(model.proba_.sum(axis=1), 1.0)
    competence = model.competence_
    assert np.all((competence > 0) & (competence < 1))


def test_mace_restarts_keep_the_best_bound_and_gold() -> None:
    df = _simulated(4)
    one = MACE(init="random", random_state=0).fit(df)
    best = MACE(init="random", random_state=0, n_init=4).fit(df)
    assert best.log_likelihood_ >= one.log_likelihood_ - 1e-9
    # the default start is the majority vote's: no randomness in it
    a, b = MACE(random_state=0).fit(df), MACE(random_state=1).fit(df)
    np.testing.assert_array_equal(a.proba_, b.proba_)
    assert not np.allclose(a.proba_, one.proba_)
    gold = MACE().fit(df, true_labels={0: 2, 1: 2})
    np.testing.assert_array_equal(gold.proba_[:2].argmax(axis=1), [2, 2])
    with pytest.raises(ParameterError, match="method"):
        MACE(method="gibbs").fit(df)


def test_mace_does_not_depend_on_how_ids_are_named() -> None:
    answers, _ = _public("bluebirds")
    renamed = _first_seen_ids(answers)
    a, b = MACE().fit(answers), MACE().fit(renamed)
    codes = {w: i for i, w in enumerate(pd.factorize(answers["worker"])[1])}
    order = [codes[w] for w in a.workers_]
    np.testing.assert_allclose(a.spamming_, b.spamming_[np.argsort(b.workers_)][order])
    np.testing.assert_allclose(a.proba_.max(axis=1), b.proba_.max(axis=1), rtol=1e-12)


# -- the defaults against crowd-kit's on every public set -----------------------------------------
SETS = ["bluebirds", "product", "sentiment", "dog", "rte", "temp", "wsd", "web", "cf", "ms", "sp"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=pytest.mark.xfail(
                strict=True, reason="one task below crowd-kit: 537 vs 538 of 700 (docs/crowd.md)"
            ),
        )
        if n == "ms"
        else n
        for n in SETS
    ],
)
def test_default_dawid_skene_at_least_crowd_kits(name: str) -> None:
    ck = _crowdkit()
    answers, truth = _public(name)
    ours = _accuracy(DawidSkene().fit_predict(answers), truth)
    theirs = _accuracy(ck.DawidSkene().fit_predict(answers), truth)
    assert ours >= theirs, (ours, theirs)


def test_select_method_uses_no_truth_and_refits() -> None:
    df = _simulated(7, n_tasks=120)
    chosen = select_method(df, random_state=0)
    assert chosen.method in METHODS and set(chosen.scores) == set(METHODS)
    assert all(0.0 <= s <= 1.0 for s in chosen.scores.values())
    assert chosen.scores[chosen.method] == max(chosen.scores.values())
    assert len(predicted_codes(chosen.model)) == 120
    again = select_method(df, random_state=0)
    assert again.scores == chosen.scores  # the folds come from random_state
    few = select_method(df, methods=["majority", "dawid-skene"], n_folds=3)
    assert set(few.scores) == {"majority", "dawid-skene"}
    with pytest.raises(ParameterError, match="unknown method"):
        select_method(df, methods=["spectral"])
    with pytest.raises(ParameterError, match="n_folds"):
        select_method(df, n_folds=1)
