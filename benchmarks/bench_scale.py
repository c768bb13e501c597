"""Scale-out benchmark: streamed from disk vs in memory, Dask 1 vs 2 workers, Spark MLlib, dask-ml.

Every measurement runs in its own subprocess (so that its peak RSS, ``ru_maxrss``, is its own)
and every fit starts from the same parameters with ``tol=0`` (so every run does the same work).
Per-iteration times of emkit come from the engine's callbacks (median of the iterations after
the first); Spark's from two fits of ``--iters`` and ``2 * --iters`` iterations (difference over
``--iters``), as Spark has no per-iteration hook.

    python benchmarks/bench_scale.py --gb 4                       # the default model: gmm
    python benchmarks/bench_scale.py --gb 40 --workdir /big/disk  # the issue's larger-than-RAM run
    python benchmarks/bench_scale.py --gb 1 --model bernoulli --skip spark,kmeans

Parts (``--skip`` any of them):

- ``stream``: fit on the whole ``.npy`` file (``--gb`` GB of float32, N x ``--features``) with
  the streamed executor; peak RSS and rows/s. ``--cold`` evicts the file from the page cache
  before every pass (``posix_fadvise(DONTNEED)``), as when the file is larger than RAM.
- ``memory``: the same model in memory on the first ``--sample-rows`` rows: rows/s. The ratio
  stream / memory is the throughput of out-of-core EM relative to in-memory EM.
- ``ratio``: streamed (from the sample file) and in-memory fits of the sample, interleaved,
  best of two each: the same ratio measured under the same load.
- ``dask``: the sample on a LocalCluster of 1 and then 2 worker processes (1 thread each).
- ``spark``: Spark MLlib GaussianMixture, ``local[2]``, on the sample (written to Parquet).
- ``kmeans``: emkit KMeans vs dask-ml KMeans on the 2-worker cluster, same initial centres.

Needs ``pip install -e .[bench]`` (pyspark and Java 17 for the Spark part).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

K_SEED = 0


# -- data ---------------------------------------------------------------------------------
def centres(k: int, d: int) -> np.ndarray:
    return np.random.RandomState(K_SEED).uniform(-6, 6, size=(k, d))


def write_npy(path: Path, n: int, d: int, k: int, block: int = 1 << 20) -> None:
    """N x d float32 rows of a k-component Gaussian mixture, written block by block."""
    if path.exists() and path.stat().st_size >= n * d * 4:
        return
    rng = np.random.RandomState(1)
    mu = centres(k, d).astype(np.float32)
    scales = rng.uniform(0.5, 1.5, size=(k, d)).astype(np.float32)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        header = {"descr": "<f4", "fortran_order": False, "shape": (n, d)}
        np.lib.format.write_array_header_2_0(fh, header)
        for start in range(0, n, block):
            m = min(block, n - start)
            z = rng.randint(k, size=m)
            rows = mu[z] + scales[z] * rng.standard_normal((m, d)).astype(np.float32)
            fh.write(np.ascontiguousarray(rows, dtype=np.float32).tobytes())
    tmp.replace(path)


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


# -- models -------------------------------------------------------------------------------
def make_model(name: str, k: int, d: int, iters: int, covariance: str = "full") -> Any:
    if name == "gmm":
        from emkit.models import GaussianMixture  # type: ignore[attr-defined]

        mu = centres(k, d)
        return GaussianMixture(
            k,
            covariance_type=covariance,
            max_iter=iters,
            tol=0.0,
            means_init=mu,
            weights_init=np.full(k, 1.0 / k),
            precisions_init=_unit_precisions(covariance, k, d),
        )
    if name == "kmeans":
        from emkit.models import KMeans  # type: ignore[attr-defined]

        return KMeans(k, init=centres(k, d), n_init=1, max_iter=iters, tol=0.0)
    if name == "bernoulli":
        from emkit import BernoulliMixture

        rng = np.random.RandomState(2)
        return BernoulliMixture(
            k, binarize=0.0, max_iter=iters, tol=0.0, theta_init=rng.uniform(0.3, 0.7, (k, d))
        )
    raise SystemExit(f"unknown model {name!r}")


def _unit_precisions(covariance: str, k: int, d: int) -> np.ndarray:
    shapes = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
    if covariance in ("full", "tied"):
        return np.broadcast_to(np.eye(d), shapes[covariance]).copy()
    return np.ones(shapes[covariance])


def _per_iteration(stamps: list[float]) -> float:
    """Median time between iteration callbacks, leaving out the first interval when there are
    more (it includes warm-up)."""
    gaps = np.diff(stamps)
    return float(np.median(gaps[1:] if len(gaps) > 1 else gaps)) if len(gaps) else float("nan")


def timed_fit(model: Any, X: Any, **fit_kw: Any) -> dict[str, Any]:
    from emkit import ConvergenceWarning

    stamps: list[float] = []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, callbacks=[lambda info: stamps.append(time.perf_counter())], **fit_kw)
    total = time.perf_counter() - t0
    per_iter = _per_iteration(stamps)
    return {
        "fit_s": total,
        "iter_s": per_iter,
        "lower_bound": float(model.lower_bound_),
        "n_iter": int(model.n_iter_),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: ru_maxrss survives fork + exec on Linux, so
    a subprocess would report its parent's peak if the parent's was higher)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- parts (each in a subprocess) ---------------------------------------------------------
def part_stream(a: argparse.Namespace) -> dict[str, Any]:
    from emkit import NpySource, StreamExecutor

    path = Path(a.workdir) / "data.npy"
    source = NpySource(path)
    model = make_model(a.model, a.components, a.features, a.iters, a.covariance)
    kw: dict[str, Any] = {"executor": StreamExecutor(chunk_rows=a.chunk_rows)}
    if a.cold:
        evict(path)
        cb_evict = [lambda info: evict(path)]
    else:
        cb_evict = []
    from emkit import ConvergenceWarning

    stamps: list[float] = []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(
            source,
            callbacks=[lambda info: stamps.append(time.perf_counter()), *cb_evict],
            **kw,
        )
    total = time.perf_counter() - t0
    iter_s = _per_iteration(stamps)
    return {
        "rows": source.n_rows,
        "fit_s": total,
        "iter_s": iter_s,
        "rows_per_s": source.n_rows / iter_s,
        "peak_rss_mb": peak_rss_mb(),
        "lower_bound": float(model.lower_bound_),
    }


def part_memory(a: argparse.Namespace) -> dict[str, Any]:
    X = np.load(Path(a.workdir) / "sample.npy")
    model = make_model(a.model, a.components, a.features, a.iters, a.covariance)
    out = timed_fit(model, X)
    out |= {"rows": X.shape[0], "rows_per_s": X.shape[0] / out["iter_s"]}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def part_ratio(a: argparse.Namespace) -> dict[str, Any]:
    """Streamed vs in-memory on the same rows, interleaved (best of 2 each): on a shared
    machine, runs minutes apart see different loads; interleaving sees the same."""
    from emkit import NpySource, StreamExecutor

    path = Path(a.workdir) / "sample.npy"
    X = np.load(path)
    best = {"memory": float("inf"), "stream": float("inf")}
    for _ in range(2):
        for how in ("memory", "stream"):
            model = make_model(a.model, a.components, a.features, a.iters, a.covariance)
            if how == "memory":
                out = timed_fit(model, X)
            else:
                out = timed_fit(
                    model, NpySource(path), executor=StreamExecutor(chunk_rows=a.chunk_rows)
                )
            best[how] = min(best[how], out["iter_s"])
    return {
        "rows": X.shape[0],
        "memory_iter_s": best["memory"],
        "stream_iter_s": best["stream"],
        "stream_over_memory_throughput": best["memory"] / best["stream"],
    }


def part_dask(a: argparse.Namespace) -> dict[str, Any]:
    import logging

    from distributed import Client, LocalCluster

    from emkit import DaskExecutor

    path = Path(a.workdir) / "sample.npy"
    with (
        LocalCluster(
            n_workers=a.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        model = make_model(a.model, a.components, a.features, a.iters, a.covariance)
        executor = DaskExecutor(client, chunk_rows=a.chunk_rows)
        # KMeans.fit labels the training rows in memory after the fit: give it the array
        data: Any = np.load(path) if a.model == "kmeans" else path
        out = timed_fit(model, data, executor=executor)
        if a.model == "kmeans":
            out["dask_ml"] = dask_ml_kmeans(a, client)
    n = int(np.load(path, mmap_mode="r").shape[0])
    return out | {"rows": n, "rows_per_s": n / out["iter_s"], "workers": a.workers}


def dask_ml_kmeans(a: argparse.Namespace, client: Any) -> dict[str, Any]:
    import dask.array as da
    from dask_ml.cluster import KMeans as DaskKMeans

    X = da.from_array(np.load(Path(a.workdir) / "sample.npy", mmap_mode="r"), a.chunk_rows)
    X = X.persist()
    init = centres(a.components, a.features)
    times = []
    DaskKMeans(n_clusters=a.components, init=init, max_iter=1, tol=0.0, n_init=1).fit(X)  # warm-up
    for iters in (a.iters, 2 * a.iters):
        km = DaskKMeans(n_clusters=a.components, init=init, max_iter=iters, tol=0.0, n_init=1)
        t0 = time.perf_counter()
        km.fit(X)
        times.append(time.perf_counter() - t0)
    return {"iter_s": (times[1] - times[0]) / a.iters, "inertia": float(km.inertia_)}


def part_spark(a: argparse.Namespace) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.ml.clustering import GaussianMixture as SparkGMM
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import SparkSession

    X = np.load(Path(a.workdir) / "sample.npy")
    pq_path = Path(a.workdir) / "sample.parquet"
    if not pq_path.exists():
        cols = {f"x{j}": X[:, j].astype(np.float64) for j in range(X.shape[1])}
        pq.write_table(pa.table(cols), pq_path, row_group_size=1 << 18)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("emkit-bench")
        .config("spark.driver.memory", a.spark_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(str(pq_path))
    assembler = VectorAssembler(inputCols=[f"x{j}" for j in range(X.shape[1])], outputCol="f")
    data = assembler.transform(df).select("f").cache()
    data.count()

    def ml_fit(iters: int) -> tuple[float, float]:
        gmm = SparkGMM(k=a.components, maxIter=iters, tol=0.0, seed=0, featuresCol="f")
        t0 = time.perf_counter()
        fitted = gmm.fit(data)
        return time.perf_counter() - t0, float(fitted.summary.logLikelihood)

    ml_fit(1)  # warm-up: JIT, caches
    (t1, _), (t2, loglik) = ml_fit(a.iters), ml_fit(2 * a.iters)
    n = X.shape[0]
    iter_s = (t2 - t1) / a.iters
    out: dict[str, Any] = {
        "rows": n,
        "iter_s": iter_s,
        "rows_per_s": n / iter_s,
        "fit_s": [t1, t2],
        "lower_bound": loglik / n,
    }
    # the RDD-based API takes an initial model: the same start as emkit's fits
    from types import SimpleNamespace

    from pyspark.mllib.clustering import GaussianMixture as MllibGMM
    from pyspark.mllib.linalg import DenseMatrix, DenseVector
    from pyspark.mllib.stat.distribution import MultivariateGaussian

    k, d = a.components, a.features
    # train() reads only k, weights and gaussians of its initialModel (pyspark 4 cannot build a
    # GaussianMixtureModel from parameters)
    start = SimpleNamespace(
        k=k,
        weights=[1.0 / k] * k,
        gaussians=[
            MultivariateGaussian(DenseVector(mu), DenseMatrix(d, d, np.eye(d).ravel().tolist()))
            for mu in centres(k, d)
        ],
    )
    from pyspark.mllib.linalg import Vectors as MllibVectors

    rdd = data.rdd.map(lambda row: MllibVectors.dense(row.f.toArray())).cache()
    rdd.count()

    def mllib_fit(iters: int) -> float:
        t0 = time.perf_counter()
        MllibGMM.train(rdd, k, convergenceTol=0.0, maxIterations=iters, initialModel=start)
        return time.perf_counter() - t0

    mllib_fit(1)
    m1, m2 = mllib_fit(a.iters), mllib_fit(2 * a.iters)
    out["mllib_same_start_iter_s"] = (m2 - m1) / a.iters
    spark.stop()
    return out


PARTS = {
    "stream": part_stream,
    "memory": part_memory,
    "ratio": part_ratio,
    "dask": part_dask,
    "spark": part_spark,
}


def run_part(name: str, argv: list[str], timeout: float, blas_threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--part", name, *argv]
    # one BLAS thread per process unless told otherwise: on a shared machine, spinning BLAS
    # threads of several processes slow each other down by an order of magnitude
    threads = str(blas_threads)
    env = os.environ | {
        v: threads for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gb", type=float, default=2.0, help="size of the streamed file (float32)")
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--components", type=int, default=16)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--model", default="gmm", choices=["gmm", "kmeans", "bernoulli"])
    p.add_argument("--covariance", default="full", choices=["full", "tied", "diag", "spherical"])
    p.add_argument("--sample-rows", type=int, default=1_000_000)
    p.add_argument("--chunk-rows", type=int, default=65536)
    p.add_argument("--workdir", default="/tmp/emkit-bench-scale")
    p.add_argument("--cold", action="store_true", help="evict the file before every pass")
    p.add_argument("--skip", default="", help="comma-separated parts to skip")
    p.add_argument("--spark-memory", default="6g")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per part")
    p.add_argument("--blas-threads", type=int, default=1, help="BLAS threads per process")
    p.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--part", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.part is not None:
        print(json.dumps(PARTS[a.part](a)))
        return

    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    d, k = a.features, a.components
    n = int(a.gb * 1e9 / (4 * d))
    t0 = time.perf_counter()
    write_npy(work / "data.npy", n, d, k)
    sample = work / "sample.npy"
    if not sample.exists() or np.load(sample, mmap_mode="r").shape[0] != a.sample_rows:
        np.save(sample, np.load(work / "data.npy", mmap_mode="r")[: a.sample_rows])
        (work / "sample.parquet").unlink(missing_ok=True)
    took = time.perf_counter() - t0
    print(f"data: {n:,} x {d} float32 = {n * d * 4 / 1e9:.2f} GB (ready in {took:.0f} s)")
    kind = f" ({a.covariance})" if a.model == "gmm" else ""
    print(f"model: {a.model}{kind}, K={k}, {a.iters} iterations from a fixed start, tol=0")
    skip = set(filter(None, a.skip.split(",")))
    argv = [x for x in sys.argv[1:]]
    results: dict[str, Any] = {}

    if "memory" not in skip:
        results["memory"] = run_part("memory", argv, a.timeout, a.blas_threads)
        print("in memory (sample):", json.dumps(results["memory"]))
    if "stream" not in skip:
        results["stream"] = run_part("stream", argv, a.timeout, a.blas_threads)
        print("streamed (whole file):", json.dumps(results["stream"]))
    if "ratio" not in skip:
        results["ratio"] = run_part("ratio", argv, a.timeout, a.blas_threads)
        print("streamed vs in memory, interleaved (sample):", json.dumps(results["ratio"]))
    if "dask" not in skip:
        for w in (1, 2):
            results[f"dask{w}"] = run_part(
                "dask", [*argv, "--workers", str(w)], a.timeout, a.blas_threads
            )
            print(f"dask, {w} worker(s) (sample):", json.dumps(results[f"dask{w}"]))
    if "spark" not in skip and a.model == "gmm":
        results["spark"] = run_part("spark", argv, a.timeout, a.blas_threads)
        print("Spark MLlib local[2] (sample):", json.dumps(results["spark"]))
    if "kmeans" not in skip and a.model == "gmm":
        km = [*argv, "--model", "kmeans"]
        results["kmeans_memory"] = run_part("memory", km, a.timeout, a.blas_threads)
        results["kmeans_dask2"] = run_part(
            "dask", [*km, "--workers", "2"], a.timeout, a.blas_threads
        )
        print("k-means in memory:", json.dumps(results["kmeans_memory"]))
        print("k-means dask 2 workers (+ dask-ml):", json.dumps(results["kmeans_dask2"]))

    def ok(*names: str) -> bool:
        return all(name in results and "error" not in results[name] for name in names)

    print("\nsummary")
    if ok("stream", "memory"):
        s, m = results["stream"], results["memory"]
        rss = s["peak_rss_mb"]
        verdict = "met" if rss < 2048 else "NOT met"
        print(
            f"  streamed peak RSS: {rss:.0f} MB for a {n * d * 4 / 1e9:.2f} GB file "
            f"(target < 2 GB: {verdict})"
        )
        print(
            f"  streamed throughput / in-memory: {s['rows_per_s'] / m['rows_per_s']:.0%} "
            f"({s['rows_per_s']:,.0f} vs {m['rows_per_s']:,.0f} rows/s per iteration)"
        )
    if ok("ratio"):
        r = results["ratio"]
        print(
            f"  streamed / in-memory throughput, same rows, interleaved: "
            f"{r['stream_over_memory_throughput']:.0%} ({r['stream_iter_s']:.3f} vs "
            f"{r['memory_iter_s']:.3f} s/iter; target >= 70%: "
            f"{'met' if r['stream_over_memory_throughput'] >= 0.7 else 'NOT met'})"
        )
    if ok("dask1", "dask2"):
        print(
            f"  dask 2 workers vs 1: {results['dask1']['iter_s'] / results['dask2']['iter_s']:.2f}x"
            f" ({results['dask1']['iter_s']:.3f} s -> {results['dask2']['iter_s']:.3f} s/iter)"
        )
    if ok("spark", "memory"):
        sp, m = results["spark"], results["memory"]
        print(
            f"  Spark ML / emkit in memory, per iteration: {sp['iter_s'] / m['iter_s']:.1f}x "
            f"({sp['iter_s']:.3f} s vs {m['iter_s']:.3f} s; Spark's own start, mean log-lik "
            f"{sp['lower_bound']:.6f} vs {m['lower_bound']:.6f})"
        )
        if "mllib_same_start_iter_s" in sp:
            ml = sp["mllib_same_start_iter_s"]
            print(
                f"  Spark mllib (same start) / emkit in memory, per iteration: "
                f"{ml / m['iter_s']:.1f}x ({ml:.3f} s vs {m['iter_s']:.3f} s)"
            )
    if ok("spark", "dask2"):
        ratio = results["spark"]["iter_s"] / results["dask2"]["iter_s"]
        print(f"  Spark MLlib local[2] / emkit dask 2 workers, per iteration: {ratio:.1f}x")
    if ok("kmeans_dask2") and "dask_ml" in results["kmeans_dask2"]:
        e, dm = results["kmeans_dask2"], results["kmeans_dask2"]["dask_ml"]
        print(
            f"  dask-ml KMeans / emkit KMeans (dask, 2 workers), per iteration: "
            f"{dm['iter_s'] / e['iter_s']:.1f}x"
        )
    errors = {name: r["error"] for name, r in results.items() if "error" in r}
    for name, err in errors.items():
        print(f"  {name}: FAILED ({err})")


if __name__ == "__main__":
    main()
