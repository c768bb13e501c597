"""Start-up time of ``import emkit`` and the ``emkit`` command line (issue #16).

Every command runs ``--runs`` times as a fresh process, interleaved with the floor
(``python -c pass``); the median wall time of each is printed with its time above the floor.
The targets: ``emkit --version``, ``emkit --help``, ``emkit COMMAND --help`` and ``import emkit``
<= 0.3 s; the fixed overhead of a small fit (``emkit binomial`` on the two-coin CSV) <= 0.6 s.

``--numba`` also times the compiled kernels' first run on a fresh machine (an empty numba cache
directory, ``NUMBA_CACHE_DIR``) against later runs (the cache filled) for ``emkit kmeans`` and
``emkit lsh build`` + ``query`` on a small input, where the compilation dominates.

    python benchmarks/bench_startup.py [--runs 11] [--numba]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: the issue's targets, seconds
TARGETS = {"help": 0.3, "fit": 0.6}

EMKIT = [sys.executable, "-m", "emkit"]


def _time(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def _cases(work: Path) -> dict[str, tuple[list[str], str]]:
    coins = work / "coins.csv"
    coins.write_text("set,heads,tosses\n1,5,10\n2,9,10\n3,8,10\n4,4,10\n5,7,10\n")
    fit = [*EMKIT, "binomial", str(coins), "-s", "heads", "-t", "10", "--seed", "0", "--json"]
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], "floor"),
        "python -c 'import emkit'": ([sys.executable, "-c", "import emkit"], "help"),
        "emkit --version": ([*EMKIT, "--version"], "help"),
        "emkit --help": ([*EMKIT, "--help"], "help"),
        "emkit gmm --help": ([*EMKIT, "gmm", "--help"], "help"),
        "emkit segment --help": ([*EMKIT, "segment", "--help"], "help"),
        "emkit binomial coins.csv": (fit, "fit"),
    }


def startup(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cases = _cases(Path(tmp))
        times: dict[str, list[float]] = {name: [] for name in cases}
        for argv, _ in cases.values():  # warm the file cache and .pyc files
            _time(argv)
        for _ in range(runs):
            for name, (argv, _) in cases.items():
                times[name].append(_time(argv))
    floor = statistics.median(times["python -c pass"])
    print(f"{'command':<28} {'median s':>9} {'above floor':>12} {'target':>7}  met")
    for name, (_, kind) in cases.items():
        median = statistics.median(times[name])
        target = TARGETS.get(kind)
        met = "" if target is None else ("yes" if median <= target else "NO")
        shown = "" if target is None else f"{target:.2f}"
        print(f"{name:<28} {median:9.3f} {median - floor:12.3f} {shown:>7}  {met}")


def numba_runs(runs: int) -> None:
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rng = np.random.RandomState(0)
        X = rng.randn(2000, 8)
        np.savetxt(
            work / "x.csv",
            X,
            delimiter=",",
            header=",".join(f"f{j}" for j in range(8)),
            comments="",
        )
        commands = {
            "emkit kmeans": [
                *EMKIT,
                "kmeans",
                str(work / "x.csv"),
                "-k",
                "8",
                "--seed",
                "0",
                "--json",
                "--no-progress",
            ],
            "emkit lsh build": [
                *EMKIT,
                "lsh",
                "build",
                str(work / "x.csv"),
                "-o",
                str(work / "index"),
                "--seed",
                "0",
            ],
            "emkit lsh query": [
                *EMKIT,
                "lsh",
                "query",
                str(work / "index.json"),
                str(work / "x.csv"),
                "-k",
                "5",
            ],
        }
        print(f"\n{'command':<18} {'first run s':>11} {'warm median s':>14}  (first: empty cache)")
        for name, argv in commands.items():
            cache = work / f"cache-{name.replace(' ', '-')}"
            env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
            first = _time(argv, env)  # the cache starts empty; the query uses the built index
            warm = statistics.median(_time(argv, env) for _ in range(runs))
            print(f"{name:<18} {first:11.3f} {warm:14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--numba", action="store_true", help="Also time first vs warm runs.")
    args = parser.parse_args()
    startup(args.runs)
    if args.numba:
        numba_runs(max(3, args.runs // 3))


if __name__ == "__main__":
    main()
