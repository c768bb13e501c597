"""A tiny bundled text corpus with two known themes, for the topic models' demo and tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

__all__ = ["ThemeCorpus", "two_themes"]


@dataclass(frozen=True)
class ThemeCorpus:
    """Short documents, each written about one known theme.

    Attributes
    ----------
    texts : list of str
        The documents.
    themes : list of str
        The theme of each document (the answer a topic model does not see).
    doc_ids : list of str
    source : str
        Where the texts come from.
    """

    texts: list[str]
    themes: list[str]
    doc_ids: list[str]
    source: str


def two_themes() -> ThemeCorpus:
    """Forty one-sentence documents: 20 about cooking ("kitchen"), 20 about astronomy.

    Written for emkit by its developers and distributed with it under its BSD licence; they
    share some words across themes ("light", "hot", "dark", "night", "warm") so that a topic
    model has something to decide. Stored in ``emkit/datasets/data/two_themes.jsonl``, one JSON
    record per line with fields ``id``, ``theme`` and ``text``.
    """
    path = resources.files("emkit.datasets").joinpath("data").joinpath("two_themes.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return ThemeCorpus(
        texts=[r["text"] for r in records],
        themes=[r["theme"] for r in records],
        doc_ids=[r["id"] for r in records],
        source="40 sentences written for emkit (20 on cooking, 20 on astronomy); "
        "BSD-3-Clause like emkit",
    )
