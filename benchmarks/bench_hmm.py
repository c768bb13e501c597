"""emkit vs hmmlearn: hidden Markov models fitted side by side, per-iteration time and memory.

Both libraries fit the same data from the same parameters for ``--iters`` Baum-Welch iterations
(hmmlearn with ``tol=-inf`` and ``init_params=''``, emkit with ``tol=0``), ``--repeats`` times;
the best run of each is reported (the minimum is the estimate least disturbed by other processes)
with the ratio hmmlearn time / emkit time (> 1: emkit is faster) and the difference of their
final log-likelihoods (they must agree: same algorithm). emkit's numba kernels are compiled
(or loaded from the cache) by a warm-up fit before timing. With ``--memory`` each fit also runs
in a fresh subprocess that reports the peak memory NumPy allocates during the fit, above the
data (tracemalloc).

    python benchmarks/bench_hmm.py                        # the issue's workload, all models
    python benchmarks/bench_hmm.py --models gaussian --repeats 5
    python benchmarks/bench_hmm.py --n-seq 20 --memory    # a tenth of it, with memory
    python benchmarks/bench_hmm.py --models gmm           # GMMHMM, 2 Gaussians per state

hmmlearn's GMMHMM takes its covariances about the previous iteration's means (emkit's M-step
is the exact one), so the two GMMHMM fits follow different paths: their log-likelihoods differ
by a little, and the comparison is of the time per iteration only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

K = 8
N_MIX = 2


def workload(model: str, n_seq: int, seq_len: int, seed: int = 0) -> dict[str, Any]:
    """Data from a sticky K-state chain and a common start (not the truth) for both fits."""
    rng = np.random.default_rng(seed)
    n = n_seq * seq_len
    trans = np.full((K, K), 0.1 / (K - 1)) + np.eye(K) * (0.9 - 0.1 / (K - 1))
    u = rng.uniform(size=n)
    z = np.empty(n, dtype=np.int64)
    z[0] = 0
    cum = np.cumsum(trans, axis=1)
    for t in range(1, n):
        z[t] = min(int(np.searchsorted(cum[z[t - 1]], u[t], side="right")), K - 1)
    start = {"startprob": np.full(K, 1.0 / K), "transmat": np.full((K, K), 0.5 / (K - 1))}
    start["transmat"][np.diag_indices(K)] = 0.5
    if model == "gaussian":
        d = 20
        centres = rng.normal(scale=3.0, size=(K, d))
        X = centres[z] + rng.normal(size=(n, d))
        start |= {"means": centres + rng.normal(scale=0.5, size=(K, d)), "covars": np.ones((K, d))}
    elif model == "gmm":  # two Gaussians per state
        d = 10
        centres = rng.normal(scale=3.0, size=(K, N_MIX, d))
        comp = rng.integers(0, N_MIX, size=n)
        X = centres[z, comp] + rng.normal(size=(n, d))
        start |= {
            "weights": np.full((K, N_MIX), 1.0 / N_MIX),
            "means": centres + rng.normal(scale=0.5, size=centres.shape),
            "covars": np.ones((K, N_MIX, d)),
        }
    elif model == "categorical":
        m = 20
        probs = rng.dirichlet(np.full(m, 0.5), size=K)
        cum_e = np.cumsum(probs, axis=1)
        X = np.minimum((rng.uniform(size=n)[:, None] >= cum_e[z]).sum(axis=1), m - 1)[:, None]
        start |= {"emissionprob": rng.dirichlet(np.full(m, 5.0), size=K)}
    else:
        d = 5
        rates = rng.uniform(1.0, 20.0, size=(K, d))
        X = rng.poisson(rates[z]).astype(np.float64)
        start |= {"lambdas": rates * rng.uniform(0.7, 1.3, size=(K, d))}
    return {"X": X, "lengths": np.full(n_seq, seq_len), "start": start}


def fit_hmmlearn(model: str, w: dict[str, Any], iters: int) -> Any:
    from hmmlearn import hmm

    kw = {"n_iter": iters, "tol": -np.inf, "init_params": ""}
    s = w["start"]
    if model == "gaussian":
        est = hmm.GaussianHMM(K, covariance_type="diag", covars_prior=0.0, **kw)
        est.means_, est.covars_ = s["means"], s["covars"]
    elif model == "gmm":  # covars_prior=-1.5 (its default for diag) is maximum likelihood
        est = hmm.GMMHMM(K, N_MIX, covariance_type="diag", **kw)
        est.weights_, est.means_, est.covars_ = s["weights"], s["means"], s["covars"]
    elif model == "categorical":
        est = hmm.CategoricalHMM(K, **kw)
        est.emissionprob_ = s["emissionprob"]
    else:
        est = hmm.PoissonHMM(K, **kw)
        est.lambdas_ = s["lambdas"]
    est.startprob_, est.transmat_ = s["startprob"], s["transmat"]
    est.fit(w["X"], w["lengths"])
    return est


def fit_emkit(model: str, w: dict[str, Any], iters: int) -> Any:
    from emkit.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM

    s = w["start"]
    kw = {
        "startprob_init": s["startprob"],
        "transmat_init": s["transmat"],
        "max_iter": iters,
        "tol": 0.0,
    }
    if model == "gaussian":
        est: Any = GaussianHMM(
            K, "diag", reg_covar=0.0, means_init=s["means"], covars_init=s["covars"], **kw
        )
    elif model == "gmm":
        est = GMMHMM(
            K,
            N_MIX,
            "diag",
            reg_covar=0.0,
            weights_init=s["weights"],
            means_init=s["means"],
            covars_init=s["covars"],
            **kw,
        )
    elif model == "categorical":
        est = CategoricalHMM(K, emissionprob_init=s["emissionprob"], **kw)
    else:
        est = PoissonHMM(K, lambdas_init=s["lambdas"], **kw)
    return est.fit(w["X"], lengths=w["lengths"])


FITS: dict[str, Callable[[str, dict[str, Any], int], Any]] = {
    "hmmlearn": fit_hmmlearn,
    "emkit": fit_emkit,
}


def quiet(fn: Callable[[], Any]) -> tuple[float, Any]:
    import logging

    logging.getLogger("hmmlearn").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out


def child(lib: str, model: str, n_seq: int, seq_len: int, iters: int) -> None:
    """Peak memory NumPy allocates during one fit (tracemalloc), printed as JSON (``--memory``).

    Arrays that hmmlearn's C++ extension or NumPy allocate are counted; numba's own scratch
    inside emkit's kernels (one float per step of the sequences in flight) is not.
    """
    import tracemalloc

    w = workload(model, n_seq, seq_len)
    if lib == "emkit":
        small = {**w, "X": w["X"][: 2 * seq_len], "lengths": w["lengths"][:2]}
        quiet(lambda: fit_emkit(model, small, 1))  # load the compiled kernels
    else:
        import hmmlearn.hmm  # noqa: F401
    tracemalloc.start()
    quiet(lambda: FITS[lib](model, w, iters))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"peak_mib": peak / 2**20}))


def memory(lib: str, model: str, args: argparse.Namespace) -> float:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        lib,
        "--models",
        model,
        "--n-seq",
        str(args.n_seq),
        "--seq-len",
        str(args.seq_len),
        "--iters",
        str(args.iters),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_mib"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="gaussian,categorical,poisson")
    parser.add_argument("--n-seq", type=int, default=200)
    parser.add_argument("--seq-len", type=int, default=5000)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--child", choices=list(FITS))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.models, args.n_seq, args.seq_len, args.iters)
        return
    import os

    print(
        f"K={K}, {args.n_seq} sequences x {args.seq_len} steps, {args.iters} iterations, "
        f"best of {args.repeats}; {os.cpu_count()} CPUs"
    )
    for model in args.models.split(","):
        w = workload(model, args.n_seq, args.seq_len)
        small = {**w, "X": w["X"][: 2 * args.seq_len], "lengths": w["lengths"][:2]}
        quiet(lambda: fit_emkit(model, small, 1))  # noqa: B023  compile or load the kernels
        best: dict[str, float] = {}
        fitted: dict[str, Any] = {}
        for _ in range(args.repeats):
            for lib, fit in FITS.items():
                seconds, est = quiet(lambda fit=fit: fit(model, w, args.iters))  # noqa: B023
                best[lib] = min(best.get(lib, np.inf), seconds)
                fitted[lib] = est
        ll_h = fitted["hmmlearn"].score(w["X"], w["lengths"])
        ll_e = fitted["emkit"].score(w["X"], w["lengths"])
        per_h, per_e = best["hmmlearn"] / args.iters, best["emkit"] / args.iters
        line = (
            f"{model:12s} per iteration: hmmlearn {per_h * 1e3:8.1f} ms, emkit "
            f"{per_e * 1e3:7.1f} ms, ratio {per_h / per_e:5.1f}x; "
            f"log L differs by {abs(ll_h - ll_e) / abs(ll_h):.1e} (relative)"
        )
        if args.memory:
            line += (
                f"; peak memory during the fit: hmmlearn {memory('hmmlearn', model, args):.0f} "
                f"MiB, emkit {memory('emkit', model, args):.0f} MiB"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
