"""The course's worked examples, reproduced to the published digits.

Every reference number is embedded here with its source, so these tests run in a fresh clone;
../shared/data/textbook/ holds the same data and iterates as JSON.
"""

from __future__ import annotations

import numpy as np
import pytest

from emkit import BernoulliMixture, BinomialMixture, ConvergenceWarning
from emkit.datasets import genetic_linkage, three_coins, two_coins
from emkit.examples.genetic_linkage import GeneticLinkage


def _two_coins(**kw: object) -> BinomialMixture:
    d = two_coins()
    return BinomialMixture(
        2,
        n_trials=d.n_trials,
        fixed_weights=d.weights_init,
        theta_init=d.theta_init,
        **{"tol": 0.0, **kw},  # type: ignore[arg-type]
    )


# Do & Batzoglou (2008) Nat. Biotechnol. 26:897, Figure 1b; exact values recomputed
# (do_batzoglou_2008_two_coins.json, "recomputed_exact").
TWO_COINS_POSTERIOR_A_ITER1 = [
    0.4491,
    0.8050,
    0.7335,
    0.3522,
    0.6472,
]  # figure: .45 .80 .73 .35 .65
TWO_COINS_ITERATES = {1: (0.713012, 0.581339), 10: (0.796744, 0.519659)}


def test_two_coins_first_e_step_posteriors() -> None:
    model = _two_coins(max_iter=0).fit(two_coins().X)
    posterior_a = model.predict_proba(two_coins().X)[:, 0]
    np.testing.assert_allclose(posterior_a, TWO_COINS_POSTERIOR_A_ITER1, atol=5e-5)
    np.testing.assert_allclose(posterior_a.round(2), [0.45, 0.80, 0.73, 0.35, 0.65])


@pytest.mark.parametrize("n_iter", [1, 10])
def test_two_coins_soft_em_iterates(n_iter: int) -> None:
    with pytest.warns(ConvergenceWarning):
        model = _two_coins(max_iter=n_iter).fit(two_coins().X)
    assert model.n_iter_ == n_iter
    np.testing.assert_allclose(model.theta_.ravel(), TWO_COINS_ITERATES[n_iter], atol=1e-6)
    np.testing.assert_array_equal(model.weights_, [0.5, 0.5])  # fixed, as in the paper


def test_two_coins_converge_to_published_fixed_point() -> None:
    model = _two_coins(max_iter=200, tol=1e-14).fit(two_coins().X)
    assert model.converged_
    np.testing.assert_allclose(model.theta_.ravel(), [0.796789067, 0.51958312], atol=1e-6)


def test_two_coins_hard_em_is_the_complete_data_mle_and_stays() -> None:
    # Hard EM assigns sets 2, 3, 5 to A and 1, 4 to B: theta = 24/30, 9/20 (the paper's Fig. 1a)
    with pytest.warns(ConvergenceWarning):
        one = _two_coins(max_iter=1, hard=True).fit(two_coins().X)
    np.testing.assert_allclose(one.theta_.ravel(), [0.80, 0.45], atol=1e-12)
    model = _two_coins(max_iter=50, hard=True, tol=1e-12).fit(two_coins().X)
    assert model.converged_ and model.n_iter_ == 2  # iteration 2 changes nothing
    np.testing.assert_allclose(model.theta_.ravel(), [0.80, 0.45], atol=1e-12)
    np.testing.assert_array_equal(model.predict(two_coins().X), [1, 0, 0, 1, 0])


# Li Hang, Statistical Learning Methods, example 9.1 (lihang_example_9_1_three_coins.json).
@pytest.mark.parametrize(
    ("start", "expected"),
    [((0.5, 0.5, 0.5), (0.5, 0.6, 0.6)), ((0.4, 0.6, 0.7), (0.4064, 0.5368, 0.6432))],
)
def test_three_coins(start: tuple[float, float, float], expected: tuple[float, ...]) -> None:
    d = three_coins(start)
    model = BernoulliMixture(
        2, theta_init=d.theta_init, weights_init=d.weights_init, max_iter=1, tol=0.0
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(d.X)
    pi, p, q = model.weights_[0], model.theta_[0, 0], model.theta_[1, 0]
    np.testing.assert_allclose([pi, p, q], expected, atol=5e-5)
    # Not identifiable: iteration 2 equals iteration 1, and any pi p + (1 - pi) q = 0.6 is a
    # maximum with log-likelihood 10 (0.6 ln 0.6 + 0.4 ln 0.4).
    again = BernoulliMixture(2, max_iter=5, tol=1e-12, warm_start=True)
    again.params_ = model.params_
    again.fit(d.X)
    np.testing.assert_allclose(again.theta_, model.theta_, rtol=1e-12)
    np.testing.assert_allclose(again.weights_, model.weights_, rtol=1e-12)
    assert again.converged_
    assert pi * p + (1 - pi) * q == pytest.approx(0.6, abs=1e-12)
    assert again.log_likelihood_ == pytest.approx(10 * (0.6 * np.log(0.6) + 0.4 * np.log(0.4)))


# Dempster, Laird & Rubin (1977) JRSS-B 39:1-38, section 1, Table 1 (dlr1977_genetic_linkage.json)
DLR_ITERATES = [0.5, 0.608247423, 0.624321051, 0.626488879, 0.626777323, 0.626815632,
                0.626820719, 0.626821395, 0.626821484]  # fmt: skip
DLR_MLE = 0.626821498  # root of 197 t^2 - 15 t - 68 = 0


def test_dlr_genetic_linkage_iterates_and_mle() -> None:
    cells, counts = genetic_linkage()
    seen: list[float] = []
    model = GeneticLinkage(tol=0.0, max_iter=40)  # tol=0: exactly 40 iterations
    with pytest.warns(ConvergenceWarning):
        model.fit(
            cells, sample_weight=counts, callbacks=[lambda i: seen.append(float(i.params.theta))]
        )
    np.testing.assert_allclose(seen[: len(DLR_ITERATES)], DLR_ITERATES, atol=1.5e-9)
    assert float(model.theta_) == pytest.approx(DLR_MLE, abs=1e-9)
    exact = (15 + np.sqrt(15**2 + 4 * 197 * 68)) / (2 * 197)
    assert float(model.theta_) == pytest.approx(exact, abs=1e-12)


def test_dlr_counts_as_weights_equal_one_row_per_animal() -> None:
    cells, counts = genetic_linkage()
    animals = np.repeat(cells, counts.astype(int), axis=0)
    a = GeneticLinkage(tol=1e-12).fit(cells, sample_weight=counts)
    b = GeneticLinkage(tol=1e-12).fit(animals)
    assert float(a.theta_) == pytest.approx(float(b.theta_), abs=1e-12)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-12)
