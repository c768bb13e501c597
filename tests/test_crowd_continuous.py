"""ContinuousAnnotators: the course's good/bad annotator model and its variants."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emkit import DataError, InMemoryExecutor, ParameterError
from emkit.crowd import ContinuousAnnotators, course_demo, simulate_scores
from emkit.crowd.continuous import VARIANTS, select_variant

# fits with tol=0 run max_iter iterations on purpose
pytestmark = pytest.mark.filterwarnings("ignore::emkit.exceptions.ConvergenceWarning")

SNOW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "crowd" / "snow2008"
VARIANT_KW = list(VARIANTS.values())
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _task_means(answers: np.ndarray, n_tasks: int) -> np.ndarray:
    task = answers[:, 0].astype(int)
    return np.bincount(task, answers[:, 2], n_tasks) / np.bincount(task, minlength=n_tasks)


# -- the course demo ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_course_demo_finds_the_good_annotators(seed: int) -> None:
    answers, truth, good = course_demo(random_state=seed)
    assert answers.shape == (100, 3) and truth.shape == (20,)
    m = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    bad = np.setdiff1d(np.arange(5), good)
    assert np.all(m.p_good_[good] > 0.9), m.p_good_
    assert np.all(m.p_good_[bad] < 0.1), m.p_good_
    assert m.converged_
    # the estimate is the mean of the good annotators' answers, much better than the mean
    assert np.mean(np.abs(m.mu_ - truth)) < 0.5 * np.mean(np.abs(_task_means(answers, 20) - truth))
    assert float(m.pi_) == pytest.approx(0.6, abs=1e-6)
    assert m.sigma_.shape == () and 0.01 < float(m.sigma_) < 0.1


def test_course_demo_outputs() -> None:
    answers, _truth, _good = course_demo(random_state=0)
    m = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    assert m.mu_.shape == (20,) and m.std_error_.shape == (20,)
    # three good annotators with shared sigma: standard error sigma / sqrt(3) on every image
    np.testing.assert_allclose(m.std_error_, float(m.sigma_) / np.sqrt(3), rtol=1e-6)
    np.testing.assert_array_equal(m.bias_, 0.0)
    h = m.log_likelihood_history_
    assert h.shape == (m.n_iter_ + 1,) and np.all(np.diff(h) >= -1e-9)
    assert m.tasks_.tolist() == list(range(20)) and m.workers_.tolist() == list(range(5))
    assert m.low_ == 0.0 and m.high_ == 1.0


def test_course_model_is_the_lecture_formula() -> None:
    """The log-likelihood equals the course's formula, evaluated directly."""
    from scipy.stats import norm

    answers, _, _ = course_demo(random_state=3)
    m = ContinuousAnnotators(low=0.0, high=1.0, max_iter=3, tol=0.0).fit(answers)
    p = m.params_
    task, worker, s = answers[:, 0].astype(int), answers[:, 1].astype(int), answers[:, 2]
    log_good = np.bincount(worker, norm.logpdf(s, p.mu[task], float(p.sigma)), 5)
    log_bad = np.bincount(worker, np.zeros_like(s), 5)  # log U[0, 1] = 0
    expected = np.logaddexp(np.log(p.pi) + log_good, np.log1p(-p.pi) + log_bad).sum()
    assert m.log_likelihood_ == pytest.approx(expected, rel=1e-12)


def test_a_million_tasks_do_not_underflow() -> None:
    """The course code multiplies densities over images and gets 0/0; log space does not."""
    answers, truth = simulate_scores(1_000_000, 3, [0, 1], sigma=0.05, random_state=0)
    from scipy.stats import norm

    # what the course code computes for annotator 0: products of a million densities, whose
    # ratio is inf / inf
    first = answers[answers[:, 1] == 0]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        good = 0.5 * np.prod(norm.pdf(first[:, 2], truth, 0.05))
        naive = good / (good + 0.5 * np.prod(np.ones(len(first))))
    assert not np.isfinite(naive)
    m = ContinuousAnnotators(low=0.0, high=1.0, max_iter=30).fit(answers)
    assert np.isfinite(m.log_likelihood_) and np.all(np.isfinite(m.log_likelihood_history_))
    np.testing.assert_allclose(m.p_good_, [1.0, 1.0, 0.0], atol=1e-12)
    assert np.mean(np.abs(m.mu_ - truth)) < 0.04


# -- recovery ------------------------------------------------------------------------------------
@pytest.mark.parametrize("answers_per_task", [6, None])
def test_recovery_with_thirty_percent_spammers(answers_per_task: int | None) -> None:
    ratios = []
    for seed in range(40):
        rng = np.random.RandomState(seed)
        good = np.sort(rng.choice(10, 7, replace=False))  # 3 of 10 are uniform spammers
        answers, truth = simulate_scores(
            40, 10, good, sigma=0.05, answers_per_task=answers_per_task, random_state=seed
        )
        m = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
        np.testing.assert_array_equal(np.flatnonzero(m.p_good_ > 0.5), good, err_msg=str(seed))
        mae = np.mean(np.abs(m.mu_ - truth))
        ratios.append(mae / np.mean(np.abs(_task_means(answers, 40) - truth)))
    assert max(ratios) <= 0.5, max(ratios)


def test_per_worker_noise_is_recovered() -> None:
    # (the best annotator's sigma is biased low: the true scores she helps estimate follow her)
    sigma = np.array([0.05, 0.06, 0.08, 0.12, 0.16, 0.07, 0.1, 0.09])
    answers, truth = simulate_scores(
        400, 8, np.arange(8), sigma=sigma, low=-10, high=10, random_state=1
    )
    m = ContinuousAnnotators(noise="worker", mixture=False, low=-10, high=10).fit(answers)
    np.testing.assert_allclose(m.sigma_, sigma, rtol=0.2)
    shared = ContinuousAnnotators(mixture=False, low=-10, high=10).fit(answers)
    # precision weighting beats the plain mean
    assert np.mean(np.abs(m.mu_ - truth)) < 0.9 * np.mean(np.abs(shared.mu_ - truth))
    assert m.bic() < shared.bic()


def test_per_worker_bias_is_recovered() -> None:
    bias = np.array([0.1, -0.05, 0.0, 0.08, -0.13])
    answers, truth = simulate_scores(
        300, 5, np.arange(5), sigma=0.02, bias=bias, low=-1, high=2, random_state=2
    )
    m = ContinuousAnnotators(bias=True, mixture=False, low=-1, high=2).fit(answers)
    # biases are identified up to a common shift: they are centred on the good annotators
    np.testing.assert_allclose(m.bias_, bias - bias.mean(), atol=0.01)
    np.testing.assert_allclose(m.mu_, truth + bias.mean(), atol=0.04)  # se 0.009
    with_mixture = ContinuousAnnotators(bias=True, low=-1, high=2).fit(answers)
    np.testing.assert_allclose(with_mixture.p_good_, 1.0, atol=1e-6)


def test_select_variant_prefers_the_mixture_with_spammers() -> None:
    answers, _ = simulate_scores(60, 8, [0, 1, 2, 4, 6], sigma=0.05, random_state=4)
    best, bic = select_variant(answers, low=0.0, high=1.0)
    assert set(bic) == set(VARIANTS)
    assert best.mixture and min(bic, key=bic.__getitem__) in ("course", "course+bias")
    with pytest.raises(ParameterError, match="unknown variant"):
        select_variant(answers, ["nope"])


# -- engine guarantees for every variant ---------------------------------------------------------
@st.composite
def _scores(d: st.DrawFn) -> np.ndarray:
    n_tasks, n_workers = d(st.integers(1, 6)), d(st.integers(2, 5))
    rng = np.random.default_rng(d(st.integers(0, 2**31)))
    pairs = np.array([(t, w) for t in range(n_tasks) for w in range(n_workers)], dtype=float)
    pairs = pairs[rng.uniform(size=len(pairs)) < 0.8]
    extra = np.array([(t, t % n_workers) for t in range(n_tasks)], dtype=float)
    extra2 = np.array([(w % n_tasks, w) for w in range(n_workers)], dtype=float)
    tw = np.vstack([pairs, extra, extra2])
    return np.column_stack([tw, rng.uniform(0, 1, len(tw))])


@pytest.mark.parametrize("variant", VARIANT_KW, ids=list(VARIANTS))
@given(data=_scores(), hard=st.booleans())
@PROPS
def test_variants_never_lower_the_objective(variant: dict, data: np.ndarray, hard: bool) -> None:
    m = ContinuousAnnotators(low=0.0, high=1.0, hard=hard, max_iter=25, tol=0.0, **variant)
    m.fit(data)
    h = m.log_likelihood_history_
    assert np.all(np.isfinite(h))
    assert np.all(np.diff(h) >= -1e-9 * (np.abs(h[:-1]) + len(data))), h


@pytest.mark.parametrize("variant", VARIANT_KW, ids=list(VARIANTS))
@given(data=_scores(), seed=st.integers(0, 1000), chunk=st.integers(1, 7))
@PROPS
def test_variants_weights_chunks(variant: dict, data: np.ndarray, seed: int, chunk: int) -> None:
    weight = np.random.default_rng(seed).integers(1, 4, len(data)).astype(float)
    kw = dict(low=0.0, high=1.0, max_iter=6, tol=0.0, **variant)
    weighted = ContinuousAnnotators(**kw).fit(data, sample_weight=weight)
    repeated = ContinuousAnnotators(**kw).fit(np.repeat(data, weight.astype(int), axis=0))
    chunked = ContinuousAnnotators(**kw)
    chunked.fit(data, sample_weight=weight, executor=InMemoryExecutor(chunk_rows=chunk))
    for other in (repeated, chunked):
        for f in dataclasses.fields(weighted.params_):
            np.testing.assert_allclose(
                getattr(weighted.params_, f.name),
                getattr(other.params_, f.name),
                rtol=1e-8,
                atol=1e-10,
                err_msg=f.name,
            )


# -- input ----------------------------------------------------------------------------------------
def test_dataframe_with_string_ids_and_repeated_pairs() -> None:
    pd = pytest.importorskip("pandas")
    answers, _truth, _good = course_demo(random_state=0)
    df = pd.DataFrame(
        {
            "image": [f"img{int(t):02d}" for t in answers[:, 0]],
            "rater": [f"r{int(w)}" for w in answers[:, 1]],
            "value": answers[:, 2],
        }
    )
    m = ContinuousAnnotators(task="image", worker="rater", score="value", low=0, high=1)
    scores = m.fit_predict(df)
    assert scores.index.name == "image" and scores.index[0] == "img00"
    plain = ContinuousAnnotators(low=0, high=1).fit(answers)
    np.testing.assert_allclose(scores.to_numpy(), plain.mu_)
    report = m.worker_report()
    assert report["rater"].tolist() == [f"r{i}" for i in range(5)]
    assert (report["p_good"] > 0.5).tolist() == [True, True, False, True, False]
    estimates = m.task_estimates()
    assert list(estimates.columns) == ["image", "estimate", "std_error"]
    # a repeated (task, worker) pair counts twice, like a weight of 2
    doubled = pd.concat([df, df.iloc[:1]], ignore_index=True)
    w = np.ones(len(df))
    w[0] = 2
    a = ContinuousAnnotators(task="image", worker="rater", score="value", low=0, high=1)
    b = ContinuousAnnotators(task="image", worker="rater", score="value", low=0, high=1)
    np.testing.assert_allclose(a.fit(doubled).mu_, b.fit(df, sample_weight=w).mu_, rtol=1e-10)


def test_bad_input() -> None:
    answers, _, _ = course_demo(random_state=0)
    with pytest.raises(DataError, match="outside"):
        ContinuousAnnotators(low=0.0, high=0.5).fit(answers)
    with pytest.raises(DataError, match="0 rows"):
        ContinuousAnnotators().fit(np.empty((0, 3)))
    with pytest.raises(DataError, match="shape"):
        ContinuousAnnotators().fit(np.zeros((4, 2)))
    bad = answers.copy()
    bad[3, 2] = np.nan
    with pytest.raises(DataError, match="row 3"):
        ContinuousAnnotators().fit(bad)
    with pytest.raises(DataError, match="empty"):
        ContinuousAnnotators().fit(np.array([[0, 0, 1.0], [1, 0, 1.0]]))
    with pytest.raises(ParameterError, match="noise"):
        ContinuousAnnotators(noise="each").fit(answers)
    with pytest.raises(ParameterError, match="high must exceed low"):
        ContinuousAnnotators(low=1.0, high=0.0).fit(answers)
    pd = pytest.importorskip("pandas")
    with pytest.raises(DataError, match="unknown column 'score'"):
        ContinuousAnnotators().fit(pd.DataFrame({"task": [1], "worker": [1], "value": [1.0]}))


def test_hard_em_and_warm_start() -> None:
    answers, _, good = course_demo(random_state=5)
    hard = ContinuousAnnotators(low=0.0, high=1.0, hard=True).fit(answers)
    np.testing.assert_array_equal(np.flatnonzero(hard.p_good_ == 1.0), good)
    soft = ContinuousAnnotators(low=0.0, high=1.0, warm_start=True).fit(answers)
    again = soft.fit(answers)
    assert again.n_iter_ <= 2


# -- real data -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,low,high", [("valence", -100, 100), ("anger", 0, 100), ("disgust", 0, 100)]
)
def test_snow2008_bic_choice_beats_the_mean(name: str, low: float, high: float) -> None:
    if not SNOW.exists():
        pytest.skip(f"shared data not found at {SNOW}")
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(SNOW / f"{name}.standardized.tsv", sep="\t")
    gold = df.groupby("orig_id")["gold"].first()
    best, _ = select_variant(
        df, low=low, high=high, task="orig_id", worker="!amt_worker_ids", score="response"
    )
    estimate = pd.Series(best.mu_, index=best.tasks_).reindex(gold.index)
    mean = df.groupby("orig_id")["response"].mean().reindex(gold.index)
    assert np.mean(np.abs(estimate - gold)) < np.mean(np.abs(mean - gold))


def test_fit_from_a_csv_path_reads_it_in_memory(tmp_path: Path) -> None:
    """A path is read by the crowd readers (not streamed as rows of numbers)."""
    pd = pytest.importorskip("pandas")
    answers, _truth, _good = course_demo(random_state=0)
    frame = pd.DataFrame(np.asarray(answers), columns=["task", "worker", "score"])
    frame.to_csv(tmp_path / "scores.csv", index=False)
    from_path = ContinuousAnnotators(low=0.0, high=1.0).fit(str(tmp_path / "scores.csv"))
    from_frame = ContinuousAnnotators(low=0.0, high=1.0).fit(frame)
    np.testing.assert_allclose(from_path.mu_, from_frame.mu_, rtol=1e-12)
