"""emkit's scikit-learn estimator API (``emkit._sklearn_api``) against scikit-learn itself.

The fast validation path must return what scikit-learn's ``validate_data`` returns and record
the same attributes; everything else is delegated, so errors and messages are scikit-learn's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.utils.validation import _check_sample_weight
from sklearn.utils.validation import validate_data as sk_validate_data

from emkit import EmkitError, GaussianMixture, KMeans, NotFittedError
from emkit._sklearn_api import check_sample_weight, validate_data
from emkit.models._seeding import kmeans_plusplus


class Holder:
    """A bare object that validate_data may record attributes on."""

    def __sklearn_tags__(self) -> object:
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


DTYPES = [None, np.float64, np.float32, [np.float64, np.float32], [np.float32, np.float64]]
arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.uint8]),
    shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements={"min_value": 0, "max_value": 100, "allow_nan": False},
)


@settings(max_examples=200, deadline=None)
@given(X=arrays, dtype=st.sampled_from(DTYPES))
def test_fast_path_equals_sklearn(X: np.ndarray, dtype: object) -> None:
    kwargs = {} if dtype is None else {"dtype": dtype}
    ours, theirs = Holder(), Holder()
    a = validate_data(ours, X, reset=True, **kwargs)
    b = sk_validate_data(theirs, X, reset=True, **kwargs)
    assert a.dtype == b.dtype and np.array_equal(a, b)
    assert ours.n_features_in_ == theirs.n_features_in_ == X.shape[1]
    wider = np.zeros((2, X.shape[1] + 1), dtype=X.dtype)
    for holder, check in ((ours, validate_data), (theirs, sk_validate_data)):
        with pytest.raises(ValueError, match=f"X has {X.shape[1] + 1} features, but Holder"):
            check(holder, wider, reset=False, **kwargs)


def test_feature_names_as_sklearn() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.5]})
    holder = Holder()
    validate_data(holder, frame)  # delegated: records feature_names_in_
    assert list(holder.feature_names_in_) == ["a", "b"]
    with pytest.warns(UserWarning, match="X does not have valid feature names, but Holder"):
        validate_data(holder, frame.to_numpy(), reset=False)
    validate_data(holder, frame.to_numpy(), reset=True)  # an array refit forgets the names
    assert not hasattr(holder, "feature_names_in_")


@pytest.mark.parametrize(
    "bad",
    [np.array([[1.0, np.nan]]), np.array([[np.inf, 1.0]]), np.zeros((0, 2)), np.zeros(3)],
    ids=["nan", "inf", "empty", "1d"],
)
def test_rejections_are_sklearns(bad: np.ndarray) -> None:
    with pytest.raises(ValueError) as theirs:
        sk_validate_data(Holder(), bad)
    with pytest.raises(ValueError) as ours:
        validate_data(Holder(), bad)
    assert str(ours.value) == str(theirs.value)


@settings(max_examples=100, deadline=None)
@given(
    weight=st.one_of(
        st.none(),
        st.floats(0, 10),
        hnp.arrays(np.float64, 5, elements={"min_value": 0, "max_value": 10}),
        hnp.arrays(np.int64, 5, elements={"min_value": 0, "max_value": 10}),
    ),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_sample_weight_equals_sklearn(weight: object, dtype: type) -> None:
    # all-zero weights: emkit's check_sample_weight (emkit._validation) names them instead
    assume(weight is None or np.any(np.asarray(weight).astype(dtype) > 0))
    ours = check_sample_weight(weight, 5, dtype)
    theirs = _check_sample_weight(
        weight, np.empty((5, 0), dtype=dtype), dtype=dtype, ensure_non_negative=True
    )
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)


def test_negative_or_misshapen_weights_rejected() -> None:
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        check_sample_weight(np.array([1.0, -1.0]), 2, np.float64)
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(2,\)"):
        check_sample_weight(np.ones(3), 2, np.float64)
    with pytest.raises(ValueError, match="must be finite"):
        check_sample_weight(float("nan"), 2, np.float64)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(5, 60),
    k=st.integers(1, 5),
    weighted=st.booleans(),
)
def test_kmeans_plusplus_draws_as_sklearn(seed: int, n: int, k: int, weighted: bool) -> None:
    data = np.random.RandomState(seed)
    X = data.randn(n, 3) * [1.0, 10.0, 0.1]
    w = data.uniform(0.1, 2.0, n) if weighted else np.ones(n)
    ours, our_rows = kmeans_plusplus(
        X, k, random_state=np.random.RandomState(seed), sample_weight=w
    )
    theirs, rows = sk_kmeans_plusplus(
        X, k, random_state=np.random.RandomState(seed), sample_weight=w
    )
    np.testing.assert_array_equal(our_rows, rows)
    np.testing.assert_array_equal(ours, theirs)


def test_params_clone_and_repr() -> None:
    model = GaussianMixture(3, covariance_type="diag", random_state=0)
    assert repr(model) == "GaussianMixture(covariance_type='diag', n_components=3, random_state=0)"
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    assert model.set_params(tol=1e-4) is model and model.tol == 1e-4
    with pytest.raises(ValueError, match="Invalid parameter 'bogus' for estimator"):
        model.set_params(bogus=1)
    assert repr(KMeans()) == "KMeans()"


def test_not_fitted_error_is_sklearns_and_emkits() -> None:
    assert issubclass(NotFittedError, SkNotFittedError) and issubclass(NotFittedError, EmkitError)
    with warnings.catch_warnings(), pytest.raises(NotFittedError, match="not fitted yet"):
        GaussianMixture(2).predict(np.zeros((2, 2)))
