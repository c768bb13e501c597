"""Seconds per EM iteration of emkit's motif model against total sequence length.

Run: ``python benchmarks/bench_motif.py [--max-length 1000000] [--width 20]``

Planted-motif DNA (sequences of 500 bp, one site each, ZOOPS, both strands optional). Every
size runs, side by side on the same data and the same starting matrix:

- emkit: ``MotifEM`` on the engine (one gather per motif column over all sequences and
  offsets); seconds per iteration from the engine's callbacks;
- window-gather: the same E-step and M-step written as one gather through an
  ``(n, J, w)`` sliding-window view (the alternative vectorisation);
- per-offset loop: the textbook E-step with a Python loop over offsets, vectorised over
  sequences (the course code's shape); only up to 100 kbp, it is slow.

MEME itself is not on PyPI, so there is no MEME timing here; ratios are to the two NumPy
implementations, measured in one run (the machine is shared, timings are noisy).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import logsumexp

from emkit.motif import MotifEM, encode_sequences
from emkit.motif.simulate import conserved_pwm, planted_motif_sequences

CONSENSUS = "TTGTGATCGAGGTCACACTT"


def _emkit(codes: np.ndarray, pwm0: np.ndarray, revcomp: bool, iters: int) -> float:
    stamps: list[float] = []
    warnings.filterwarnings("ignore", message="MotifEM did not converge")
    est = MotifEM(
        pwm0.shape[0], model="zoops", revcomp=revcomp, pwm_init=pwm0, max_iter=iters, tol=0.0
    )
    est.fit(codes, callbacks=[lambda info: stamps.append(time.perf_counter())])
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def _reference_step(
    codes: np.ndarray,
    pwm: np.ndarray,
    bg: np.ndarray,
    gamma: float,
    scorer: Callable[..., np.ndarray],
) -> tuple[np.ndarray, float]:
    """One forward-strand ZOOPS iteration (all sequences the same length, no wildcards)."""
    n, L = codes.shape
    w, A = pwm.shape
    J = L - w + 1
    log_odds = np.log(pwm) - np.log(bg)
    scores = scorer(codes, log_odds)  # (n, J)
    total = np.log(bg)[codes].sum(axis=1)
    site = scores + np.log(gamma / J) + total[:, None]
    none = np.log1p(-gamma) + total
    lj = np.concatenate([site, none[:, None]], axis=1)
    norm = logsumexp(lj, axis=1)
    resp = np.exp(lj - norm[:, None])
    win = sliding_window_view(codes, w, axis=1)
    idx = np.arange(w) * A + win
    counts = np.bincount(
        idx.ravel(), weights=np.broadcast_to(resp[:, :J, None], win.shape).ravel(), minlength=w * A
    ).reshape(w, A)
    counts += 0.1 * bg
    return counts / counts.sum(axis=1, keepdims=True), float(resp[:, :J].sum() / n)


def _window_scores(codes: np.ndarray, log_odds: np.ndarray) -> np.ndarray:
    w = log_odds.shape[0]
    return log_odds[np.arange(w), sliding_window_view(codes, w, axis=1)].sum(axis=-1)


def _loop_scores(codes: np.ndarray, log_odds: np.ndarray) -> np.ndarray:
    n, L = codes.shape
    w = log_odds.shape[0]
    J = L - w + 1
    out = np.empty((n, J))
    for j in range(J):  # the textbook loop over offsets
        out[:, j] = log_odds[np.arange(w), codes[:, j : j + w]].sum(axis=1)
    return out


def _time_reference(
    codes: np.ndarray, pwm0: np.ndarray, scorer: Callable[..., np.ndarray], iters: int
) -> float:
    bg = np.bincount(codes.ravel(), minlength=4) + 1.0
    bg /= bg.sum()
    pwm, gamma = pwm0, 0.5
    start = time.perf_counter()
    for _ in range(iters):
        pwm, gamma = _reference_step(codes, pwm, bg, gamma, scorer)
    return (time.perf_counter() - start) / iters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-length", type=int, default=1_000_000)
    parser.add_argument("--width", type=int, default=20)
    parser.add_argument("--iters", type=int, default=3)
    args = parser.parse_args()
    w = args.width
    consensus = (CONSENSUS * (w // len(CONSENSUS) + 1))[:w]
    pwm0 = conserved_pwm(consensus, 0.6)
    seq_len = 500
    sizes = [s for s in (10_000, 100_000, 1_000_000, 10_000_000) if s <= args.max_length]
    print(f"width {w}, sequences of {seq_len} bp, {args.iters} iterations per timing")
    print(
        f"{'total bp':>10} {'strands':>7} {'emkit s/it':>11} {'window s/it':>12} "
        f"{'loop s/it':>10} {'window/emkit':>13} {'loop/emkit':>11} {'us/kbp':>8}"
    )
    for size in sizes:
        data = planted_motif_sequences(
            size // seq_len,
            seq_len,
            conserved_pwm(consensus, 0.85),
            site_probability=0.8,
            random_state=0,
        )
        codes = encode_sequences(data.sequences)
        for revcomp in (False, True):
            ours = _emkit(codes, pwm0, revcomp, args.iters)
            if revcomp:
                window = loop = float("nan")
            else:
                internal = codes.astype(np.intp)
                window = _time_reference(internal, pwm0, _window_scores, args.iters)
                loop = (
                    _time_reference(internal, pwm0, _loop_scores, args.iters)
                    if size <= 100_000
                    else float("nan")
                )
            print(
                f"{size:>10,} {'+ -' if revcomp else '+':>7} {ours:>11.4f} {window:>12.4f} "
                f"{loop:>10.4f} {window / ours:>13.2f} {loop / ours:>11.2f} "
                f"{ours / size * 1e9:>8.1f}"
            )


if __name__ == "__main__":
    main()
