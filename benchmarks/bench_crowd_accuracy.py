"""Accuracy of emkit's and crowd-kit's aggregation methods on the public categorical sets.

For every set in ``../shared/data/crowd`` (see its README; :data:`emkit.crowd.datasets.
PUBLIC_SETS`): majority vote, one-coin Dawid-Skene, Dawid-Skene, GLAD and MACE of both libraries
at their default settings, and the method that ``emkit.crowd.select.select_method`` (held-out
agreement, no truth) picks. Prints a Markdown table (docs/crowd.md) and how often the pick is
the most accurate emkit method.

Run: python benchmarks/bench_crowd_accuracy.py [--sets a,b] [--no-crowdkit]
(needs crowd-kit, in the dev extra; crowd-kit's GLAD takes about four minutes over all sets)
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

METHODS = ("majority", "one-coin", "dawid-skene", "glad", "mace")
CROWDKIT = {
    "majority": "MajorityVote",
    "one-coin": "OneCoinDawidSkene",
    "dawid-skene": "DawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
}


def _accuracy(labels, truth) -> float:
    return float(np.mean(labels.reindex(truth.index).to_numpy() == truth.to_numpy()))


def main() -> None:
    import pandas as pd

    from emkit.crowd.datasets import PUBLIC_SETS, read_public_set
    from emkit.crowd.select import method_class, predicted_codes, select_method

    warnings.simplefilter("ignore")
    names = sys.argv[sys.argv.index("--sets") + 1].split(",") if "--sets" in sys.argv else None
    with_ck = "--no-crowdkit" not in sys.argv
    if with_ck:
        import crowdkit.aggregation as ck
    head = (
        "| set | answers | K | "
        + " | ".join(f"{m} e / c" for m in METHODS)
        + " | c MACE, ids renumbered | auto |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    hits = near = total = 0
    ds_rows = []
    for name in names or list(PUBLIC_SETS):
        answers, truth = read_public_set(name)
        cells = []
        emkit_acc = {}
        for m in METHODS:
            model = method_class(m)().fit(answers)
            labels = pd.Series(
                np.asarray(model.classes_)[predicted_codes(model)], index=model.tasks_
            )
            emkit_acc[m] = _accuracy(labels, truth)
            theirs = float("nan")
            if with_ck:
                theirs = _accuracy(getattr(ck, CROWDKIT[m])().fit_predict(answers), truth)
            cells.append(f"{emkit_acc[m]:.4f} / {theirs:.4f}")
            if m == "dawid-skene":
                ds_rows.append((name, emkit_acc[m], theirs, len(truth)))
        # crowd-kit's MACE reads its count tables in sorted id order but codes ids in order of
        # appearance (emkit.crowd.mace's docstring): with ids renumbered that way it runs MACE
        renumbered = float("nan")
        if with_ck:
            codes, names = pd.factorize(answers["label"])
            same = answers.assign(worker=pd.factorize(answers["worker"])[0], label=codes)
            labels = ck.MACE().fit_predict(same).map(dict(enumerate(names)))
            renumbered = _accuracy(labels, truth)
        cells.append(f"{renumbered:.4f}")
        t0 = time.perf_counter()
        pick = select_method(answers).method
        seconds = time.perf_counter() - t0
        best = max(emkit_acc.values())
        hits += emkit_acc[pick] == best
        near += (best - emkit_acc[pick]) * len(truth) <= 2.5  # within two tasks
        total += 1
        k = answers["label"].nunique()
        print(
            f"| {name} | {len(answers):,} | {k} | " + " | ".join(cells) + f" | {pick} "
            f"({emkit_acc[pick]:.4f}, {seconds:.1f} s) |",
            flush=True,
        )
    print(
        f"\nauto picks the most accurate emkit method on {hits} of {total} sets, within two tasks "
        f"of it on {near} of {total}"
    )
    if with_ck:
        worse = [(n, round((e - c) * t)) for n, e, c, t in ds_rows if e < c]
        print(f"emkit DS >= crowd-kit DS on {total - len(worse)} of {total} sets; below: {worse}")


if __name__ == "__main__":
    main()
