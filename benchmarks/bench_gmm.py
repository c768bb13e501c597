"""emkit vs scikit-learn: Gaussian mixtures and k-means, per-iteration time, side by side.

Both libraries start from the same parameters. One EM iteration is timed directly: scikit-learn's
``_e_step`` + ``_m_step`` (what its fit loop runs per iteration) against emkit's ``e_step`` +
``m_step`` (what the engine runs), the best of ``--repeats`` runs (the minimum is the estimate
least disturbed by other processes on a shared machine). Then both fit ``--iters`` iterations
with tol=0 from the same start and their final mean log-likelihoods are compared. Prints ratios
(sklearn time / emkit time: > 1 means emkit is faster), the achieved GFLOP/s of the full
covariance iteration as a percentage of a NumPy GEMM measured in the same run, and with
``--memory`` the peak memory NumPy allocates during a fit (tracemalloc).

    python benchmarks/bench_gmm.py                 # quick: n=200,000
    python benchmarks/bench_gmm.py --n 1000000     # the issue's workload (slow for sklearn)
    python benchmarks/bench_gmm.py --n 1000000 --only-kmeans   # KMeans K=64 only (~1 min)
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from emkit.data import Batch
from emkit.engine import StepContext
from emkit.exceptions import ConvergenceWarning
from emkit.models import GaussianMixture, KMeans


def blobs(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    labels = rng.randint(k, size=n)
    return centers[labels] + rng.standard_normal((n, d))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out


def peak_memory(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    timed(fn)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def gemm_gflops(dtype: Any) -> float:
    a = np.random.RandomState(0).standard_normal((2048, 2048)).astype(dtype)
    a @ a
    t = min(timed(lambda: a @ a)[0] for _ in range(3))
    return 2 * 2048**3 / t / 1e9


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up
    return min(timed(fn)[0] for _ in range(repeats))


def bench_gmm(
    X: np.ndarray, k: int, cov: str, iters: int, repeats: int, memory: bool
) -> dict[str, Any]:
    base = SkGaussianMixture(
        k, covariance_type=cov, init_params="random_from_data", max_iter=1, random_state=0
    )
    timed(lambda: base.fit(X[: min(len(X), 20000)]))
    init = {
        "weights_init": base.weights_,
        "means_init": base.means_,
        "precisions_init": base.precisions_,
    }

    def sk(it: int) -> SkGaussianMixture:
        return SkGaussianMixture(
            k, covariance_type=cov, max_iter=it, tol=0, init_params="random_from_data", **init
        )

    def ek(it: int) -> GaussianMixture:
        return GaussianMixture(k, covariance_type=cov, max_iter=it, tol=0, **init)

    # one iteration, as each library's own loop runs it, from the same parameters
    sk_model = timed(lambda: sk(1).fit(X))[1]
    ek_model = timed(lambda: ek(1).fit(X))[1]
    batch = Batch((X,), np.ones(len(X), dtype=X.dtype))
    ctx = StepContext()

    def sk_iteration() -> None:
        _, log_resp = sk_model._e_step(X)
        sk_model._m_step(X, log_resp)

    def ek_iteration() -> None:
        params = ek_model.params_
        ek_model.m_step(ek_model.e_step(batch, params, ctx), params, ctx)

    row = {"t_sk": best_of(sk_iteration, repeats), "t_ek": best_of(ek_iteration, repeats)}
    if iters:
        row["ll_sk"] = timed(lambda: sk(iters).fit(X))[1].score(X)
        row["ll_ek"] = timed(lambda: ek(iters).fit(X))[1].score(X)
    if memory:
        row["mem_sk"] = peak_memory(lambda: sk(2).fit(X))
        row["mem_ek"] = peak_memory(lambda: ek(2).fit(X))
    return row


def bench_kmeans(X: np.ndarray, k: int, iters: int, repeats: int) -> dict[str, Any]:
    """KMeans (Lloyd) from the same centres: per-iteration time and whole-fit time.

    Both libraries' loops are timed as users run them, ``fit`` with tol=0. Per iteration is
    ``(fit(1 + m) - fit(1)) / m``, which removes the set-up and the final labelling pass; the
    whole fit is ``fit(iters)``. Runs of the two libraries alternate and each keeps its best of
    ``repeats``, so that a load shared by both leaves the ratios least disturbed.
    """
    centers, _ = kmeans_plusplus(X[:20000], k, random_state=0)

    def sk(it: int) -> Callable[[], Any]:
        return SkKMeans(k, init=centers, n_init=1, max_iter=it, tol=0, algorithm="lloyd").fit

    def ek(it: int) -> Callable[[], Any]:
        return KMeans(k, init=centers, max_iter=it, tol=0).fit

    m = max(iters, 2)
    runs = {
        "sk_1": sk(1),
        "ek_1": ek(1),
        "sk_m": sk(1 + m),
        "ek_m": ek(1 + m),
        "sk_fit": sk(iters or m),
        "ek_fit": ek(iters or m),
    }
    best = dict.fromkeys(runs, np.inf)
    fitted: dict[str, Any] = {}
    for _ in range(repeats + 1):  # the first round warms up and is kept only if it is the best
        for name, fit in runs.items():
            t, fitted[name] = timed(lambda fit=fit: fit(X))
            best[name] = min(best[name], t)
    return {
        "t_sk": (best["sk_m"] - best["sk_1"]) / m,
        "t_ek": (best["ek_m"] - best["ek_1"]) / m,
        "fit_sk": best["sk_fit"],
        "fit_ek": best["ek_fit"],
        "iters": iters or m,
        "inertia_sk": fitted["sk_fit"].inertia_,
        "inertia_ek": fitted["ek_fit"].inertia_,
        "same_labels": float(np.mean(fitted["sk_fit"].labels_ == fitted["ek_fit"].labels_)),
    }


def report_kmeans(X: np.ndarray, args: argparse.Namespace) -> bool:
    """Print the KMeans line of one dtype; True when emkit is at least as fast on both counts."""
    r = bench_kmeans(X, args.kmeans_k, args.iters, args.repeats)
    per_it = r["t_sk"] / r["t_ek"]
    whole = r["fit_sk"] / r["fit_ek"]
    print(
        f"  KMeans K={args.kmeans_k} per iteration: sklearn {r['t_sk']:.4f} s emkit "
        f"{r['t_ek']:.4f} s ratio {per_it:5.2f}x | whole fit of {r['iters']} it: sklearn "
        f"{r['fit_sk']:.3f} s emkit {r['fit_ek']:.3f} s ratio {whole:5.2f}x | inertia sklearn "
        f"{r['inertia_sk']:.8g} emkit {r['inertia_ek']:.8g}, same labels "
        f"{100 * r['same_labels']:.4g}%",
        flush=True,
    )
    return per_it >= 1.0 and whole >= 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument(
        "--iters", type=int, default=10, help="iterations of the full fits (0: skip them)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kmeans-k", type=int, default=64)
    parser.add_argument("--types", default="full,tied,diag,spherical")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    parser.add_argument("--no-kmeans", action="store_true")
    parser.add_argument(
        "--only-kmeans", action="store_true", help="only the KMeans comparison (no GMM types)"
    )
    args = parser.parse_args()
    args.cpus = len(os.sched_getaffinity(0))

    X64 = blobs(args.n, args.d, args.k)
    print(
        f"X: {args.n} x {args.d}, {args.k} blobs, K={args.k}; best of {args.repeats} runs of "
        f"one iteration; {args.cpus} CPUs"
    )
    met: dict[str, bool] = {}
    types = [] if args.only_kmeans else args.types.split(",")
    for dtype in args.dtypes.split(","):
        X = X64.astype(dtype)
        peak = gemm_gflops(X.dtype)
        print(f"\n{dtype}: NumPy GEMM 2048^3 runs at {peak:.1f} GFLOP/s")
        for cov in types:
            r = bench_gmm(X, args.k, cov, args.iters, args.repeats, args.memory)
            line = (
                f"  GMM {cov:9s} sklearn {r['t_sk']:.3f} s/it  emkit {r['t_ek']:.3f} s/it  "
                f"ratio {r['t_sk'] / r['t_ek']:5.2f}x"
            )
            if args.iters:
                line += (
                    f"  mean log-lik after {args.iters} it: sklearn {r['ll_sk']:.8f} "
                    f"emkit {r['ll_ek']:.8f}"
                )
            if cov == "full":
                flops = 4.0 * args.n * args.k * args.d**2
                line += (
                    f"  emkit {flops / r['t_ek'] / 1e9:.1f} GFLOP/s"
                    f" = {100 * flops / r['t_ek'] / 1e9 / peak:.0f}% of GEMM"
                    f" (sklearn {100 * flops / r['t_sk'] / 1e9 / peak:.0f}%)"
                )
            if args.memory:
                line += f"  peak MiB sklearn {r['mem_sk']:.0f} emkit {r['mem_ek']:.0f}"
            print(line, flush=True)
        if not args.no_kmeans:
            met[dtype] = report_kmeans(X, args)
    if met:
        verdict = "met" if all(met.values()) else "NOT met"
        detail = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in met.items())
        print(
            f"\nKMeans target (at least as fast as sklearn per iteration and as a whole fit): "
            f"{verdict} ({detail})"
        )


if __name__ == "__main__":
    main()
