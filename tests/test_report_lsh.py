"""The demo's locality-sensitive hashing section: recall and time against nbits on the digits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from emkit.lsh import LSHIndex, brute_force_knn, recall_at_k
from emkit.report import Section, SectionContext, build_sections
from emkit.report.section_lsh import NBITS_QUICK, RERANK, K


def test_lsh_section_shows_the_measured_recall() -> None:
    (section,) = build_sections(["lsh"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "lsh" and section.method == "LSH"
    assert len(section.figures) == 2 and section.seconds is not None and section.seconds > 0
    for fig in section.figures:
        assert fig.alt and fig.caption and fig.mime == "image/svg+xml"
        assert fig.data.startswith(b"<?xml") and fig.width_px > 100 and fig.height_px > 100
    recall_table, time_table = section.tables
    assert [row[0] for row in recall_table.rows] == list(NBITS_QUICK)
    assert [row[0] for row in time_table.rows] == list(NBITS_QUICK)
    recalls = np.array([row[1:] for row in recall_table.rows], dtype=float)
    ratios = np.array([row[1:] for row in time_table.rows], dtype=float)
    assert recalls.shape == ratios.shape == (len(NBITS_QUICK), 3)
    assert np.all((recalls >= 0) & (recalls <= 1)) and np.all(ratios > 0)
    # more bits find more true neighbours; re-ranking finds most of them
    assert np.all(np.diff(recalls[:, 0]) > 0) and recalls[-1, 2] > 0.95
    # recompute one point independently: the same split, index and queries
    X = np.asarray(load_digits().data, dtype=np.float32)
    is_query = np.zeros(len(X), dtype=bool)
    is_query[np.random.RandomState(0).permutation(len(X))[: len(X) // 6]] = True
    stored, queries = X[~is_query], X[is_query]
    _, truth = brute_force_knn(stored, queries, K)
    at = NBITS_QUICK.index(64)
    for column, options in enumerate([{"asymmetric": False}, {}, {"rerank": RERANK}]):
        index = LSHIndex(64, random_state=0, **options).fit(stored)
        expected = recall_at_k(index.query(queries, K)[1], truth)
        assert recalls[at, column] == pytest.approx(expected)
    plain, asym, rerank = recalls[at]
    assert (
        f"with 64 bits, ranking codes by Hamming distance finds {plain:.0%} of the true ones, "
        f"the asymmetric distance {asym:.0%}, and re-ranking the best {RERANK} by exact "
        f"distance {rerank:.0%}"
    ) in section.estimated
    assert f"{len(stored):,} stored digit images" in section.hidden
    assert f"{len(queries)} query digits" in section.hidden
    assert section.timing().startswith("LSH ran in ")
