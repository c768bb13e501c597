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
    centers, _ = kmeans_plusplus(X[:20000], k, random_state=0)

    def sk(it: int) -> SkKMeans:
        return SkKMeans(k, init=centers, n_init=1, max_iter=it, tol=0, algorithm="lloyd")

    def ek(it: int) -> KMeans:
        return KMeans(k, init=centers, max_iter=it, tol=0)

    m = max(iters, 2)
    # scikit-learn's Lloyd loop is compiled: time fits of 1 and 1 + m iterations
    t_sk = best_of(lambda: sk(1 + m).fit(X), repeats) - best_of(lambda: sk(1).fit(X), repeats)
    t_ek = best_of(lambda: ek(1 + m).fit(X), repeats) - best_of(lambda: ek(1).fit(X), repeats)
    return {
        "t_sk": t_sk / m,
        "t_ek": t_ek / m,
        "ll_sk": -timed(lambda: sk(m).fit(X))[1].inertia_,
        "ll_ek": -timed(lambda: ek(m).fit(X))[1].inertia_,
    }


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
    args = parser.parse_args()
    args.cpus = len(os.sched_getaffinity(0))

    X64 = blobs(args.n, args.d, args.k)
    print(
        f"X: {args.n} x {args.d}, {args.k} blobs, K={args.k}; best of {args.repeats} runs of "
        f"one iteration; {args.cpus} CPUs"
    )
    for dtype in args.dtypes.split(","):
        X = X64.astype(dtype)
        peak = gemm_gflops(X.dtype)
        print(f"\n{dtype}: NumPy GEMM 2048^3 runs at {peak:.1f} GFLOP/s")
        for cov in args.types.split(","):
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
            r = bench_kmeans(X, args.kmeans_k, args.iters, args.repeats)
            print(
                f"  KMeans K={args.kmeans_k} sklearn {r['t_sk']:.3f} s/it  emkit {r['t_ek']:.3f}"
                f" s/it  ratio {r['t_sk'] / r['t_ek']:5.2f}x  inertia sklearn {-r['ll_sk']:.6g}"
                f" emkit {-r['ll_ek']:.6g}",
                flush=True,
            )


if __name__ == "__main__":
    main()
