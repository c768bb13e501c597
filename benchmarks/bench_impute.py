"""Imputation error: emkit's GaussianMixtureImputer against scikit-learn's imputers.

Data: scikit-learn's bundled real data sets (no download): wine (178 x 13), iris (150 x 4),
breast cancer (569 x 30), diabetes (442 x 10). Each seed hides 20 % of the values completely at
random (rows left with nothing observed get one value back, so that every imputer sees every
row), standardises the columns with the mean and standard deviation of the *observed* values,
and scores each imputer by the RMSE on the hidden values (standardised units). emkit chooses
the number of components (1-5) and the covariance type (full or diag) by BIC on the observed
data, never by looking at the hidden values.

Peers: SimpleImputer(strategy='mean'), KNNImputer() (5 neighbours), IterativeImputer
(BayesianRidge, max_iter=10; its default). Run: ``python benchmarks/bench_impute.py [--seeds N]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def _datasets() -> dict[str, np.ndarray]:
    from sklearn import datasets

    return {
        "wine": datasets.load_wine().data,
        "iris": datasets.load_iris().data,
        "breast_cancer": datasets.load_breast_cancer().data,
        "diabetes": datasets.load_diabetes().data,
    }


def _hide(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hidden = rng.random(X.shape) < rate
    empty = np.flatnonzero(hidden.all(axis=1))
    hidden[empty, rng.integers(0, X.shape[1], size=empty.size)] = False
    out = X.astype(np.float64).copy()
    out[hidden] = np.nan
    return out


def _imputers(seed: int) -> dict[str, Callable[[], Any]]:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    from emkit.models import GaussianMixtureImputer

    return {
        "mean": lambda: SimpleImputer(strategy="mean"),
        "knn": lambda: KNNImputer(),
        "iterative": lambda: IterativeImputer(random_state=seed),
        "emkit_gmm": lambda: GaussianMixtureImputer(random_state=seed),
    }


def run(seeds: int, rate: float) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    for name, X in _datasets().items():
        results[name] = {}
        for seed in range(seeds):
            Xm = _hide(X, rate, seed)
            mean = np.nanmean(Xm, axis=0)
            sd = np.nanstd(Xm, axis=0)
            Z, Zm = (X - mean) / sd, (Xm - mean) / sd
            hidden = np.isnan(Zm)
            for method, make in _imputers(seed).items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # IterativeImputer's early-stopping notice
                    filled = make().fit_transform(Zm)
                elapsed = time.perf_counter() - start
                rmse = float(np.sqrt(np.mean((filled[hidden] - Z[hidden]) ** 2)))
                results[name].setdefault(method, []).append(rmse)
                results[name].setdefault(method + "_s", []).append(elapsed)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=0.2)
    args = parser.parse_args()
    results = run(args.seeds, args.rate)
    methods = ["mean", "knn", "iterative", "emkit_gmm"]
    print(
        f"RMSE on hidden values (standardised), {args.rate:.0%} MCAR, {args.seeds} seeds: "
        "mean (sd); ratio = emkit / peer (below 1: emkit better)"
    )
    print(
        f"{'data':14s}"
        + "".join(f"{m:>16s}" for m in methods)
        + f"{'/mean':>8s}{'/knn':>8s}{'/iter':>8s}{'emkit s':>9s}"
    )
    for name, res in results.items():
        mean = {m: float(np.mean(res[m])) for m in methods}
        cells = "".join(f"{mean[m]:9.4f} ({np.std(res[m]):.3f})" for m in methods)
        ratios = "".join(
            f"{mean['emkit_gmm'] / mean[m]:8.3f}" for m in ("mean", "knn", "iterative")
        )
        print(f"{name:14s}{cells}{ratios}{np.mean(res['emkit_gmm_s']):9.2f}")


if __name__ == "__main__":
    main()
