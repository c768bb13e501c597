"""GaussianMixture: parity with scikit-learn, Old Faithful, options, degenerate data."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from emkit import ConvergenceWarning, ParameterError, load
from emkit.datasets import old_faithful
from emkit.models import DegenerateComponentWarning, GaussianMixture

TYPES = ["full", "tied", "diag", "spherical"]
quiet = pytest.mark.filterwarnings(
    "ignore::emkit.exceptions.ConvergenceWarning",
    "ignore::sklearn.exceptions.ConvergenceWarning",
)


def blobs(n: int = 300, d: int = 3, k: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    parts = [rng.randn(n // k, d) @ rng.randn(d, d) + 4 * rng.randn(d) for _ in range(k)]
    return np.vstack(parts)


def sk_start(X: np.ndarray, cov: str, k: int = 3, seed: int = 1) -> dict[str, Any]:
    """A rough start shared by both libraries: scikit-learn's random init after 1 iteration."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        base = SkGaussianMixture(
            k, covariance_type=cov, init_params="random", max_iter=1, random_state=seed
        ).fit(X)
    return {
        "weights_init": base.weights_,
        "means_init": base.means_,
        "precisions_init": base.precisions_,
    }


def assert_same_fit(ours: GaussianMixture, theirs: SkGaussianMixture, rtol: float) -> None:
    np.testing.assert_allclose(ours.weights_, theirs.weights_, rtol=rtol)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol, atol=1e-12)


# -- parity with scikit-learn -----------------------------------------------------------------
@quiet
@pytest.mark.parametrize("cov", TYPES)
@pytest.mark.parametrize("n_iter", [1, 10, 100])
def test_same_iterates_as_sklearn(cov: str, n_iter: int) -> None:
    X = blobs()
    start = sk_start(X, cov)
    theirs = SkGaussianMixture(
        3, covariance_type=cov, max_iter=n_iter, tol=0, init_params="random", **start
    ).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(3, covariance_type=cov, max_iter=n_iter, tol=0, **start).fit(X)
    assert_same_fit(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours.precisions_, theirs.precisions_, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-7)
    assert ours._n_parameters() == theirs._n_parameters()
    np.testing.assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-7)
    np.testing.assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-7)


@quiet
@pytest.mark.parametrize("init", ["random", "random_from_data", "k-means++"])
@pytest.mark.parametrize("cov", ["full", "diag"])
def test_same_random_state_same_start_as_sklearn(init: str, cov: str) -> None:
    """The random starts draw from the RandomState exactly as scikit-learn's do."""
    X = blobs(seed=3)
    theirs = SkGaussianMixture(
        3, covariance_type=cov, init_params=init, random_state=7, max_iter=5, tol=0
    ).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(3, covariance_type=cov, init=init, random_state=7, max_iter=5, tol=0)
        ours.fit(X)
    assert_same_fit(ours, theirs, rtol=1e-6)


def test_history_counts_like_sklearn() -> None:
    X = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(3, max_iter=7, tol=0, random_state=0).fit(X)
    assert gm.n_iter_ == 7 and gm.log_likelihood_history_.shape == (8,)
    np.testing.assert_allclose(gm.log_likelihood_, gm.score(X) * len(X), rtol=1e-12)


# -- the textbook example ------------------------------------------------------------------------
def test_old_faithful() -> None:
    """Old Faithful, 2 full components: log-likelihood -1130.2640, weights 0.355873/0.644127.

    Reference: the MLE of R's mclust (Mclust(faithful, G=2, modelNames="VVV")), also reached by
    scikit-learn; see ../shared/data/README.md.
    """
    X, columns = old_faithful()
    assert X.shape == (272, 2) and columns == ["eruptions", "waiting"]
    gm = GaussianMixture(2, tol=1e-12, max_iter=1000, n_init=3, random_state=0).fit(X)
    assert abs(gm.log_likelihood_ - -1130.2640) < 1e-3
    order = np.argsort(gm.weights_)
    np.testing.assert_allclose(gm.weights_[order], [0.355873, 0.644127], atol=2e-6)
    np.testing.assert_allclose(
        gm.means_[order], [[2.036388, 54.478516], [4.289662, 79.968115]], atol=5e-5
    )


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cov", TYPES)
def test_sample_weight_equals_repetition(cov: str) -> None:
    X = blobs(n=90)
    w = np.random.RandomState(0).randint(1, 4, size=len(X))
    start = sk_start(X, cov)
    kw: dict[str, Any] = {"covariance_type": cov, "max_iter": 20, "tol": 0, **start}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GaussianMixture(3, **kw).fit(X, sample_weight=w)
        repeated = GaussianMixture(3, **kw).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-8)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-8)
    np.testing.assert_allclose(weighted.log_likelihood_, repeated.log_likelihood_, rtol=1e-10)


@pytest.mark.parametrize("cov", TYPES)
def test_float32_matches_float64(cov: str) -> None:
    """float32 data (here 1000 away from 0, where naive float32 moments cancel) gives the
    float64 fit to float32 accuracy: one step, then at convergence."""
    rng = np.random.RandomState(0)
    X64 = 1000.0 + np.vstack([rng.randn(200, 3) + c for c in (0.0, 8.0, -8.0)])
    X32 = X64.astype(np.float32)
    X64 = X32.astype(np.float64)  # the same numbers
    precisions = {
        "full": np.stack([np.eye(3)] * 3),
        "tied": np.eye(3),
        "diag": np.ones((3, 3)),
        "spherical": np.ones(3),
    }
    start = {
        "weights_init": np.full(3, 1 / 3),
        "means_init": 1000.5 + np.array([[0.0], [8.0], [-8.0]]) * np.ones(3),
        "precisions_init": precisions[cov],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for kw in ({"max_iter": 1, "tol": 0}, {"max_iter": 500, "tol": 1e-10}):
            g64 = GaussianMixture(3, covariance_type=cov, **kw, **start).fit(X64)
            g32 = GaussianMixture(3, covariance_type=cov, **kw, **start).fit(X32)
            np.testing.assert_allclose(g32.means_, g64.means_, rtol=1e-6)
            # float32 resolves these rows to ~6e-5 (their ulp at 1000): variances of 1 to 1e-4
            np.testing.assert_allclose(g32.covariances_, g64.covariances_, rtol=1e-4, atol=1e-4)
            assert abs(g32.lower_bound_ - g64.lower_bound_) < 1e-5


def test_hard_em_is_classification_em() -> None:
    X = blobs()
    gm = GaussianMixture(3, hard=True, tol=1e-12, max_iter=200, random_state=0).fit(X)
    assert gm.converged_
    labels = gm.predict(X)
    for k in range(3):
        rows = X[labels == k]
        np.testing.assert_allclose(gm.means_[k], rows.mean(axis=0), rtol=1e-9)
        cov = np.cov(rows.T, bias=True) + 1e-6 * np.eye(3)
        np.testing.assert_allclose(gm.covariances_[k], cov, rtol=1e-8)
        assert gm.weights_[k] == pytest.approx(np.mean(labels == k))
    assert np.all(np.diff(gm.log_likelihood_history_) >= -1e-9)


def test_warm_start_continues() -> None:
    X = blobs()
    start = sk_start(X, "full")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ten = GaussianMixture(3, max_iter=10, tol=0, **start).fit(X)
        warm = GaussianMixture(3, max_iter=5, tol=0, warm_start=True, **start).fit(X)
        warm.fit(X)
    np.testing.assert_allclose(warm.means_, ten.means_, rtol=1e-10)


def test_n_init_keeps_the_best() -> None:
    X = blobs(seed=5)
    single = [
        GaussianMixture(3, init="random", random_state=s, max_iter=200).fit(X).log_likelihood_
        for s in range(3)
    ]
    best = GaussianMixture(3, init="random", n_init=4, random_state=0, max_iter=200).fit(X)
    assert best.log_likelihood_ >= min(single) - 1e-6


def test_kmeans_init_and_sampling() -> None:
    X = blobs()
    gm = GaussianMixture(3, random_state=0).fit(X)
    Xs, labels = gm.sample(20000, random_state=1)
    assert Xs.shape == (20000, 3) and labels.shape == (20000,)
    for k in range(3):
        np.testing.assert_allclose(Xs[labels == k].mean(axis=0), gm.means_[k], atol=0.1)


@pytest.mark.parametrize("cov", TYPES)
def test_save_load(cov: str, tmp_path: Any) -> None:
    X = blobs()
    gm = GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
    gm.save(tmp_path / "gm")
    back = load(tmp_path / "gm.json")
    np.testing.assert_array_equal(back.score_samples(X), gm.score_samples(X))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"covariance_type": "banana"}, "covariance_type"),
        ({"reg_covar": -1.0}, "reg_covar"),
        ({"init": "nope"}, "init"),
        ({"weights_init": [0.5, 0.6, 0.1]}, "sum to 1"),
        ({"means_init": np.zeros((2, 3))}, "means_init must have shape"),
        ({"precisions_init": np.zeros((3, 3, 3))}, "positive-definite"),
        ({"precisions_init": np.ones((3, 2))}, "precisions_init"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        GaussianMixture(3, **kwargs).fit(blobs())


# -- degenerate data --------------------------------------------------------------------------
def _assert_sane(gm: GaussianMixture) -> None:
    for value in (gm.weights_, gm.means_, gm.covariances_, gm.precisions_cholesky_):
        assert np.all(np.isfinite(value))
    assert np.all(gm._kind.min_variance(gm.covariances_) > 0)
    assert np.isfinite(gm.log_likelihood_)


@pytest.mark.parametrize("cov", TYPES)
def test_duplicate_points(cov: str) -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 3.0], [5.0, 1.0]]), 30, axis=0)
    with pytest.warns(DegenerateComponentWarning, match="reg_covar"):
        gm = GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
    _assert_sane(gm)


@pytest.mark.parametrize("cov", ["full", "tied", "diag"])
def test_constant_feature(cov: str) -> None:
    X = blobs(d=2)
    X = np.column_stack([X, np.full(len(X), 7.0)])
    with pytest.warns(DegenerateComponentWarning, match="constant feature"):
        gm = GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
    _assert_sane(gm)


def test_constant_feature_is_harmless_for_spherical() -> None:
    """A spherical variance averages over features: nothing collapses, nothing to warn about."""
    X = np.column_stack([blobs(d=2), np.full(300, 7.0)])
    gm = GaussianMixture(3, covariance_type="spherical", random_state=0).fit(X)
    _assert_sane(gm)


def test_component_collapses_onto_one_point() -> None:
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(100, 2), [[50.0, 50.0]]])
    start = {
        "weights_init": [0.5, 0.5],
        "means_init": [[0.0, 0.0], [50.0, 50.0]],
        "precisions_init": np.stack([np.eye(2), np.eye(2)]),
    }
    with pytest.warns(DegenerateComponentWarning, match=r"component\(s\) \[1\] collapsed"):
        gm = GaussianMixture(2, **start).fit(X)
    _assert_sane(gm)


@pytest.mark.parametrize("cov", TYPES)
def test_barely_more_samples_than_components(cov: str) -> None:
    X = np.array([[0.0, 0.0], [1.0, 0.5], [4.0, 4.0], [9.0, 1.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm = GaussianMixture(3, covariance_type=cov, random_state=0, max_iter=50).fit(X)
    assert any(issubclass(w.category, DegenerateComponentWarning) for w in caught)
    _assert_sane(gm)


@pytest.mark.parametrize("cov", TYPES)
def test_float32_large_offset(cov: str) -> None:
    """scikit-learn #30382: float32 data far from 0 gave negative variances / NaN."""
    rng = np.random.RandomState(0)
    X = (1e5 + np.vstack([rng.randn(200, 2), 5 + rng.randn(200, 2)])).astype(np.float32)
    gm = GaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
    _assert_sane(gm)
    var = gm._kind.min_variance(gm.covariances_)
    assert np.all(var > 0.3)  # the true variances are 1


def test_hard_em_empty_component_keeps_its_place() -> None:
    X = blobs(n=60, d=2)
    start = {
        "weights_init": [0.5, 0.25, 0.25],
        "means_init": [[0.0, 0.0], [1e3, 1e3], X[0]],
        "precisions_init": np.stack([np.eye(2)] * 3),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm = GaussianMixture(3, hard=True, max_iter=20, **start).fit(X)
    assert any("no data" in str(w.message) for w in caught)
    np.testing.assert_allclose(gm.means_[1], [1e3, 1e3])
    _assert_sane(gm)


# -- quadratic features (the few-feature E-step of emkit.image) ----------------------------


@pytest.mark.parametrize("cov", TYPES)
def test_quadratic_features_give_log_densities_and_m_step(cov: str) -> None:
    """``theta @ f(x)`` equals ``log w_k + log N(x | k)`` (GaussianMixture.log_joint); the
    moments ``resp^T f`` give the M-step of the same responsibilities (weighted means and
    covariances computed directly, plus reg_covar)."""
    from emkit.data import Batch
    from emkit.models._blocks import stable_shift
    from emkit.models.gaussian import log_density_coefficients, quadratic_features

    X = blobs(seed=4) + 50.0  # far from the origin: the shift keeps the expansion exact
    gm = GaussianMixture(3, covariance_type=cov, random_state=0, max_iter=3, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        gm.fit(X)
    shift = stable_shift(gm.means_)
    F = quadratic_features(X, shift)
    assert F.shape == (1 + 3 + 6, X.shape[0])
    theta = log_density_coefficients(gm.params_, cov, shift)
    expected = gm.log_joint(Batch((X,), np.ones(len(X))), gm.params_)
    np.testing.assert_allclose((theta @ F).T, expected, rtol=1e-9, atol=1e-8)

    rng = np.random.RandomState(0)
    resp = rng.dirichlet(np.ones(3), size=len(X)) * rng.uniform(0.5, 2.0, size=(len(X), 1))
    params = gm.params_from_moments(resp.T @ F.T, shift)
    nk = resp.sum(axis=0)
    np.testing.assert_allclose(params.weights, nk / nk.sum(), rtol=1e-12)
    np.testing.assert_allclose(params.means, resp.T @ X / nk[:, None], rtol=1e-10)
    full = np.stack(
        [np.cov(X.T, aweights=resp[:, k], bias=True) for k in range(3)]
    ) + gm.reg_covar * np.eye(3)
    want = {
        "full": full,
        "tied": np.einsum("k,kde->de", nk, full - gm.reg_covar * np.eye(3)) / nk.sum()
        + gm.reg_covar * np.eye(3),
        "diag": np.diagonal(full, axis1=1, axis2=2),
        "spherical": np.diagonal(full, axis1=1, axis2=2).mean(axis=1),
    }[cov]
    np.testing.assert_allclose(params.covariances, want, rtol=1e-8)


def test_params_from_moments_keeps_empty_components() -> None:
    from emkit.models._blocks import stable_shift
    from emkit.models.gaussian import quadratic_features

    X = blobs()
    gm = GaussianMixture(3, random_state=0).fit(X)
    resp = gm.predict_proba(X)
    resp[:, 1] = 0.0
    shift = stable_shift(gm.means_)
    params = gm.params_from_moments(resp.T @ quadratic_features(X, shift).T, shift, gm.params_)
    np.testing.assert_array_equal(params.means[1], gm.means_[1])
    np.testing.assert_array_equal(params.covariances[1], gm.covariances_[1])


def test_compiled_exp_matches_numpy() -> None:
    """The vectorisable exp of the compiled E-step: within 2.5e-16 of np.exp on [-700, 0],
    exactly 0 below (responsibilities under 1e-304 of the largest), 1 at 0, 0 at -inf."""
    pytest.importorskip("numba")
    from emkit import _numba_kernels as nk

    x = np.concatenate(
        [-np.logspace(-300, np.log10(700), 20001), np.linspace(-700, 0, 10001), [-np.inf, -701]]
    )
    out = np.empty_like(x)
    nk._exp_nonpositive_array(x, out)
    inside = x >= -700
    np.testing.assert_allclose(out[inside], np.exp(x[inside]), rtol=2.5e-16, atol=0)
    assert np.all(out[~inside] == 0.0)
    assert out[np.argmax(x)] == 1.0


@quiet
@pytest.mark.parametrize("cov", TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_e_step_gives_the_numpy_step(
    cov: str, dtype: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled soft E-steps (full: whitening GEMM, one pass for the posterior, moments of
    the rows scaled by sqrt(w r); other types: one pass for the posterior) give NumPy's fit,
    with weights and a far-away component whose responsibilities underflow."""
    pytest.importorskip("numba")
    from emkit.models import gaussian as gaussian_module

    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) + 6.0])
    X = np.concatenate([X, rng.normal(size=(20, 4)) + 60.0]).astype(dtype)
    w = rng.uniform(0.5, 2.0, len(X))
    kw = {"covariance_type": cov, "max_iter": 30, "tol": 0.0, "random_state": 0}
    compiled = GaussianMixture(3, **kw).fit(X, sample_weight=w)
    monkeypatch.setattr(gaussian_module, "_USE_KERNELS", False)
    numpy_only = GaussianMixture(3, **kw).fit(X, sample_weight=w)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(compiled.weights_, numpy_only.weights_, rtol=rtol)
    np.testing.assert_allclose(compiled.means_, numpy_only.means_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(compiled.covariances_, numpy_only.covariances_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(compiled.lower_bound_, numpy_only.lower_bound_, rtol=rtol)
