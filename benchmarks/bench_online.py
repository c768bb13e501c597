"""Online (stepwise) EM vs batch EM on the streamed executor, and vs MiniBatchKMeans.

The question: how long until a fit's log-likelihood per row is within ``--gap`` (1e-3) of what
the batch fit finally reaches? On N x d float32 rows of a K-component Gaussian mixture
(default 10^7 x 16, K = 16) written to a ``.npy`` file and streamed from it:

- ``gmm``: ``GaussianMixture(covariance_type=--covariance)`` fitted by batch EM with the
  streamed executor (``fit(path)``, one pass per iteration, ``tol=1e-6``) and by stepwise EM
  (``fit_online(path)``, batches of ``--batch-rows``, up to ``--epochs`` passes). Both start
  from the same k-means start on the same 10^5-row initialisation sample (same seed).
- ``kmeans``: emkit ``KMeans`` (Lloyd, streamed), emkit online ``KMeans`` (hard stepwise EM),
  and scikit-learn's ``MiniBatchKMeans.partial_fit`` over the same batches, all three from one
  k-means++ start (on 10^5 rows, not timed). The log-likelihood of k-means is ``-inertia / 2``.

Every fit stores its parameters at checkpoints (each batch iteration; every ``--eval-every``
online batches) with the wall time since its start; afterwards (outside the timing) each
checkpoint's mean log-likelihood is computed on the same evaluation rows (the first
``--eval-rows`` rows), and the target is the batch fit's final value there minus ``--gap``.
Times include initialisation. Several ``--repeats`` (seeds 0, 1, ...); medians and ratios are
printed. The machine is shared: figures carry the load of whatever else runs.

    python benchmarks/bench_online.py                      # 10^7 x 16, K = 16
    python benchmarks/bench_online.py --rows 1000000 --repeats 2 --skip kmeans
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def write_npy(path: Path, n: int, d: int, k: int, block: int = 1 << 20) -> None:
    """N x d float32 rows of a K-component Gaussian mixture, written block by block."""
    if path.exists():
        return
    rng = np.random.RandomState(1)
    means = rng.uniform(-4, 4, size=(k, d))
    scales = rng.uniform(0.5, 1.5, size=(k, d))
    weights = rng.dirichlet(np.full(k, 5.0))
    tmp = path.with_name(path.name + ".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, d))
    for s in range(0, n, block):
        m = min(block, n - s)
        z = rng.choice(k, size=m, p=weights)
        out[s : s + m] = means[z] + rng.standard_normal((m, d)) * scales[z]
    out.flush()
    del out
    tmp.rename(path)


class Checkpoints:
    """Engine callback: parameters and wall time at every ``every``-th iteration."""

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self.start = time.perf_counter()
        self.points: list[tuple[float, Any]] = []

    def __call__(self, info: Any) -> None:
        if info.iteration % self.every == 0:
            self.points.append((time.perf_counter() - self.start, info.params))


def time_to(points: list[tuple[float, float]], target: float) -> float | None:
    for t, value in points:
        if value >= target:
            return t
    return None


def gmm_eval(template: Any, params: Any, X: np.ndarray) -> float:
    template.params_ = params
    return float(template.score(X))


def kmeans_eval(centres: np.ndarray, X: np.ndarray) -> float:
    """Mean of ``-min_k |x - c_k|^2 / 2`` (k-means' log-likelihood per row)."""
    C = np.asarray(centres, dtype=np.float64)
    total = 0.0
    for s in range(0, X.shape[0], 65536):
        B = X[s : s + 65536].astype(np.float64)
        D = (B**2).sum(1)[:, None] - 2 * B @ C.T + (C**2).sum(1)
        total += float(np.maximum(D.min(axis=1), 0).sum())
    return -0.5 * total / X.shape[0]


def run_gmm(args: Any, path: Path, X_eval: np.ndarray, seed: int) -> dict[str, Any]:
    from emkit.executors import StreamExecutor
    from emkit.models import GaussianMixture

    def make() -> GaussianMixture:
        return GaussianMixture(
            args.k, covariance_type=args.covariance, random_state=seed, max_iter=300, tol=1e-6
        )

    batch_cb = Checkpoints()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = make().fit(
            str(path), callbacks=[batch_cb], executor=StreamExecutor(args.batch_rows)
        )
    online_cb = Checkpoints(args.eval_every)
    online = make().fit_online(
        str(path), batch_rows=args.batch_rows, n_epochs=args.epochs, callbacks=[online_cb]
    )
    online_cb.points.append((online_cb.points[-1][0] if online_cb.points else 0.0, online.params_))
    template = make().fit(X_eval[:1000], executor="memory")  # any fitted estimator to score with
    curve_b = [(t, gmm_eval(template, p, X_eval)) for t, p in batch_cb.points]
    curve_o = [(t, gmm_eval(template, p, X_eval)) for t, p in online_cb.points]
    ref = curve_b[-1][1]
    return {
        "batch": time_to(curve_b, ref - args.gap),
        "batch_total": curve_b[-1][0],
        "batch_iters": batch.n_iter_,
        "online": time_to(curve_o, ref - args.gap),
        "online_best_gap": ref - max(v for _, v in curve_o),
        "online_total": curve_o[-1][0],
        "ref": ref,
    }


def run_kmeans(args: Any, path: Path, X_eval: np.ndarray, seed: int) -> dict[str, Any]:
    from sklearn.cluster import MiniBatchKMeans, kmeans_plusplus

    from emkit.executors import StreamExecutor
    from emkit.models import KMeans
    from emkit.online import StepSize

    X = np.load(path, mmap_mode="r")
    n = X.shape[0]
    # one k-means++ start for all three (on 10^5 rows; its time is not counted): each method
    # then descends from the same point, and no one wins by a luckier basin
    rng = np.random.RandomState(seed)
    sample = np.asarray(X[np.sort(rng.choice(n, size=min(n, 100_000), replace=False))])
    init, _ = kmeans_plusplus(sample, args.k, random_state=seed)
    batch_cb = Checkpoints()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = KMeans(args.k, init=init, random_state=seed, tol=1e-6, max_iter=300).fit(
            str(path), callbacks=[batch_cb], executor=StreamExecutor(args.batch_rows)
        )
    online_cb = Checkpoints(args.eval_every)
    online = KMeans(args.k, init=init, random_state=seed).fit_online(
        str(path),
        batch_rows=args.batch_rows,
        n_epochs=args.epochs,
        step_size=StepSize(args.kmeans_kappa, args.kmeans_t0),
        callbacks=[online_cb],
    )
    online_cb.points.append((online_cb.points[-1][0] if online_cb.points else 0.0, online.params_))
    mbk = MiniBatchKMeans(
        args.k, init=init, random_state=seed, batch_size=args.batch_rows, n_init=1
    )
    sk_points: list[tuple[float, Any]] = []
    start = time.perf_counter()
    step = 0
    for _ in range(args.epochs):
        for s in rng.permutation(np.arange(0, n, args.batch_rows)):
            mbk.partial_fit(np.asarray(X[s : s + args.batch_rows]))
            step += 1
            if step % args.eval_every == 0:
                sk_points.append((time.perf_counter() - start, mbk.cluster_centers_.copy()))
    sk_points.append((time.perf_counter() - start, mbk.cluster_centers_.copy()))
    curve_b = [(t, kmeans_eval(p.cluster_centers, X_eval)) for t, p in batch_cb.points]
    curve_o = [(t, kmeans_eval(p.cluster_centers, X_eval)) for t, p in online_cb.points]
    curve_s = [(t, kmeans_eval(c, X_eval)) for t, c in sk_points]
    ref = curve_b[-1][1]
    return {
        "batch": time_to(curve_b, ref - args.gap),
        "batch_total": curve_b[-1][0],
        "batch_iters": batch.n_iter_,
        "online": time_to(curve_o, ref - args.gap),
        "online_best_gap": ref - max(v for _, v in curve_o),
        "online_total": curve_o[-1][0] if curve_o else float("nan"),
        "sklearn": time_to(curve_s, ref - args.gap),
        "sklearn_best_gap": ref - max(v for _, v in curve_s),
        "sklearn_total": curve_s[-1][0] if curve_s else float("nan"),
        "ref": ref,
    }


def _fmt(t: float | None) -> str:
    return "not reached" if t is None else f"{t:8.2f} s"


def _median(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(np.median(got)) if len(got) == len(values) else None


def report(name: str, runs: list[dict[str, Any]], methods: list[str]) -> None:
    print(f"\n== {name}: time to within the gap of the batch fit's log-likelihood per row ==")
    for i, r in enumerate(runs):
        parts = [f"ref {r['ref']:.5f}", f"batch {_fmt(r['batch'])} ({r['batch_iters']} iters)"]
        for m in methods:
            parts.append(f"{m} {_fmt(r[m])} (best gap {r[m + '_best_gap']:.2e})")
        print(f"  repeat {i}: " + ", ".join(parts))
    med = {m: _median([r[m] for r in runs]) for m in ["batch", *methods]}
    print("  median: " + ", ".join(f"{m} {_fmt(v)}" for m, v in med.items()))
    for m in methods:
        ratios = [r["batch"] / r[m] for r in runs if r[m] is not None and r["batch"] is not None]
        if ratios:
            print(
                f"  batch / {m}: "
                + ", ".join(f"{x:.2f}x" for x in ratios)
                + f"  (median {np.median(ratios):.2f}x over {len(ratios)} of {len(runs)})"
            )
        else:
            print(f"  batch / {m}: {m} never reached the target")
    if "sklearn" in methods and "online" in methods:
        ratios = [r["sklearn"] / r["online"] for r in runs if r["sklearn"] and r["online"]]
        if ratios:
            print("  sklearn / online: " + ", ".join(f"{x:.2f}x" for x in ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--covariance", default="diag")
    parser.add_argument("--batch-rows", type=int, default=65536)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--eval-every", type=int, default=8)
    parser.add_argument("--eval-rows", type=int, default=1_000_000)
    parser.add_argument("--gap", type=float, default=1e-3)
    parser.add_argument("--kmeans-kappa", type=float, default=0.6)
    parser.add_argument("--kmeans-t0", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", default="")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/emkit-bench-online"))
    args = parser.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / f"mix_{args.rows}x{args.features}_k{args.k}.npy"
    t = time.perf_counter()
    write_npy(path, args.rows, args.features, args.k)
    print(f"data {path} ({time.perf_counter() - t:.1f} s to write or find)")
    X_eval = np.asarray(np.load(path, mmap_mode="r")[: args.eval_rows])
    print(
        f"{args.rows} x {args.features} float32, K={args.k}, batches of {args.batch_rows}, "
        f"online up to {args.epochs} epochs, gap {args.gap:g} per row, "
        f"evaluated on {X_eval.shape[0]} rows, {args.repeats} repeats"
    )
    if "gmm" not in skip:
        runs = [run_gmm(args, path, X_eval, seed) for seed in range(args.repeats)]
        report(f"GaussianMixture({args.covariance})", runs, ["online"])
    if "kmeans" not in skip:
        runs = [run_kmeans(args, path, X_eval, seed) for seed in range(args.repeats)]
        report("KMeans", runs, ["online", "sklearn"])


if __name__ == "__main__":
    main()
