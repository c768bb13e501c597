"""Bad input gets a ValueError that names the parameter and the offending value."""

from __future__ import annotations

import numpy as np
import pytest

from emkit import BernoulliMixture, BinomialMixture, DataError, ParameterError, load
from emkit.examples.genetic_linkage import GeneticLinkage

HEADS = np.array([[5.0], [9.0], [8.0], [4.0], [7.0]])


def _binomial(**kw: object) -> BinomialMixture:
    return BinomialMixture(**{"n_components": 2, "n_trials": 10, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[5.0], [np.nan]]), "NaN"),
        (np.array([[5.0], [np.inf]]), "infinity"),
        (np.array([5.0, 9.0]), "2D array"),
        (np.empty((0, 1)), "0 sample"),
        (np.array([[5.0], [-1.0]]), "non-negative.*-1"),
        (np.array([[5.0], [11.0]]), r"successes exceed trials: X\[1, 0\] = 11"),
        (np.array([["a"], ["b"]]), "could not convert|numeric"),
    ],
)
def test_bad_data_for_binomial(X: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _binomial().fit(X)


def test_bad_per_row_trials() -> None:
    with pytest.raises(DataError, match="trials of shape"):
        BinomialMixture(2).fit(HEADS, trials=np.ones(3))
    with pytest.raises(DataError, match="non-negative"):
        BinomialMixture(2).fit(HEADS, trials=-np.ones(5))
    with pytest.raises(ParameterError, match="needs the number of trials"):
        BinomialMixture(2).fit(HEADS)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_components": 0}, r"'n_components' parameter of BinomialMixture must be an int in "
                              r"the range \[1, inf\]. Got 0"),
        ({"n_components": 6}, "n_components=6 must be <= n_samples=5"),
        ({"n_components": 2.5}, "'n_components'.*Got 2.5"),
        ({"tol": -1.0}, "'tol'.*Got -1.0"),
        ({"max_iter": -1}, "'max_iter'.*Got -1"),
        ({"n_init": 0}, "'n_init'.*Got 0"),
        ({"init": "kmeans++"}, "'init' parameter.*Got 'kmeans\\+\\+'"),
        ({"n_trials": 0}, "'n_trials'.*Got 0"),
        ({"random_state": "seed"}, "'random_state'.*Got 'seed'"),
        ({"hard": "yes"}, "'hard'.*Got 'yes'"),
        ({"fixed_weights": [0.7, 0.7]}, "fixed_weights must be 2 non-negative numbers summing"),
        ({"theta_init": [[0.5], [1.5]]}, r"theta_init must hold probabilities"),
        ({"theta_init": [0.5, 0.5, 0.5]}, r"theta_init must have shape \(2, 1\)"),
    ],
)  # fmt: skip
def test_bad_hyperparameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _binomial(**params).fit(HEADS)


@pytest.mark.parametrize(
    ("weight", "match"),
    [
        ([1, 1, -1, 1, 1], "Negative values in data passed to `sample_weight`"),
        ([1, 1, np.nan, 1, 1], "NaN"),
        ([1, 1], "sample_weight.shape"),
        ([0, 0, 0, 0, 0], "(?i)sample.weight.*(zero|non-zero)"),
    ],
)
def test_bad_sample_weight(weight: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _binomial().fit(HEADS, sample_weight=weight)


def test_non_binary_data_for_bernoulli_names_the_entry() -> None:
    X = np.array([[0.0, 1.0], [1.0, 0.5]])
    with pytest.raises(DataError, match=r"binary data.*X\[1, 1\] = 0.5.*binarize"):
        BernoulliMixture(2).fit(X)
    BernoulliMixture(2, binarize=0.25, random_state=0).fit(X)  # the documented way out


def test_predict_checks_the_number_of_features() -> None:
    model = _binomial(random_state=0).fit(HEADS)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.ones((3, 2)))


def test_unfitted_model_says_so() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        _binomial().predict(HEADS)


def test_linkage_rejects_unknown_cells() -> None:
    with pytest.raises(DataError, match="cell indices"):
        GeneticLinkage().fit(np.array([[0.0], [4.0]]))


def test_loading_garbage_is_a_clear_error(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "model.json"
    path.write_text("{not json")
    with pytest.raises(DataError, match="cannot read model file"):
        load(path)
    path.write_text('{"format": "emkit-model/1", "class": "os.system", "npz": "x.npz"}')
    with pytest.raises(DataError, match=r"unknown model class 'os\.system'"):
        load(path)
    with pytest.raises(DataError, match="cannot read model file"):
        load(Path(str(tmp_path)) / "missing.json")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("model", ["gmm", "kmeans"])
def test_values_whose_squares_overflow_are_named(model: str, dtype: type) -> None:
    """Squared distances of such values overflow to infinity: a clear DataError up front, not
    an unrelated failure deep in the fit (an infinite k-means tol, a non-finite covariance)."""
    from emkit.models import GaussianMixture, KMeans

    X = np.random.default_rng(0).normal(size=(40, 2)).astype(dtype)
    big = X.copy()
    big[3, 1] = -1e200 if dtype == np.float64 else -1e30
    est = GaussianMixture(2, random_state=0) if model == "gmm" else KMeans(2, random_state=0)
    with pytest.raises(DataError, match="squares overflow"):
        est.fit(big)
    est.fit(X * (1e100 if dtype == np.float64 else 1e15))  # large but safe: fits
