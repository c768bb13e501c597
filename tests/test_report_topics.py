"""The demo's topic-model section and the `emkit report` hook for topic models."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from emkit.datasets.themes import two_themes
from emkit.models import PLSA, MultinomialMixture
from emkit.report import Section, SectionContext, build_sections
from emkit.report.section_topics import N_TOP, theme_agreement
from emkit.text import build_corpus, top_words


def _figures_are_images(section: Section) -> None:
    for fig in section.figures:
        assert fig.alt and fig.caption and fig.width_px > 100 and fig.height_px > 100
        assert fig.data.startswith(b"<?xml" if fig.mime == "image/svg+xml" else b"\x89PNG")


def test_the_bundled_corpus() -> None:
    data = two_themes()
    assert len(data.texts) == len(data.themes) == len(set(data.doc_ids)) == 40
    assert data.themes.count("kitchen") == data.themes.count("night sky") == 20
    assert all(text.strip() for text in data.texts) and "emkit" in data.source


def test_theme_agreement() -> None:
    themes = np.array(["a", "a", "b", "b", "b"], dtype=object)
    names, accuracy = theme_agreement(np.array([1, 1, 0, 0, 1]), themes)
    assert names == ["b", "a"] and accuracy == pytest.approx(0.8)
    names, accuracy = theme_agreement(np.array([0, 0, 2, 2, 2]), themes)
    assert names == ["a", "(no document)", "b"] and accuracy == 1.0


def test_topics_section_shows_what_the_models_found() -> None:
    (section,) = build_sections(["topics"], SectionContext(seed=0, quick=True))
    assert isinstance(section, Section) and section.key == "topics"
    assert len(section.figures) == 2 and section.seconds is not None and section.seconds > 0
    _figures_are_images(section)
    models, words = section.tables
    # refit the same models independently: the page's numbers are theirs
    data = two_themes()
    corpus = build_corpus(data.texts, data.doc_ids, stop_words="english")
    themes = np.asarray(data.themes, dtype=object)
    mixture = MultinomialMixture(2, n_init=3, random_state=0).fit(corpus.X)
    plsa = PLSA(2, init="kmeans", n_init=3, random_state=0).fit(corpus.X)
    names, accuracy = theme_agreement(mixture.predict(corpus.X), themes)
    plsa_names, plsa_accuracy = theme_agreement(plsa.doc_topic_.argmax(axis=1), themes)
    assert sorted(names) == sorted(plsa_names) == ["kitchen", "night sky"]
    assert accuracy >= 0.8 and plsa_accuracy >= 0.8  # the themes are clear
    n_right = round(accuracy * 40)
    mix_row, plsa_row = models.rows
    assert mix_row[2] == f"{n_right} of 40" and plsa_row[2] == f"{round(plsa_accuracy * 40)} of 40"
    assert mix_row[3] == mixture.n_iter_ and plsa_row[3] == plsa.n_iter_
    assert mix_row[4] == pytest.approx(mixture.log_likelihood_)
    assert plsa_row[4] == pytest.approx(plsa.log_likelihood_)
    assert f"puts {n_right} of the 40 documents" in section.estimated
    assert f"after {mixture.n_iter_} iterations" in section.estimated
    weights = ", ".join(f"{w:.2f}" for w in mixture.weights_)
    assert f"weights ({weights})" in section.estimated
    expected = top_words(mixture.topic_word_, corpus.vocabulary, N_TOP) + top_words(
        plsa.topic_word_, corpus.vocabulary, N_TOP
    )
    assert [row[3] for row in words.rows] == [", ".join(w) for w in expected]
    assert [row[2] for row in words.rows] == names + plsa_names
    # the misplaced documents are named in a note, or the note says there are none
    wrong = int(40 - n_right)
    assert len(re.findall(r"(kitchen|sky)-\d\d \(", section.notes[0])) == wrong
    assert "40 sentences written for emkit" in section.notes[-1]


@pytest.mark.parametrize("kind", ["mixture", "plsa"])
def test_report_of_a_saved_topic_model(kind: str, tmp_path: Path) -> None:
    from emkit.report.fit import fit_page, load_fit, model_report_hook
    from emkit.report.html import render_page

    corpus = build_corpus(two_themes().texts, stop_words="english")
    model = (MultinomialMixture if kind == "mixture" else PLSA)(2, n_init=2, random_state=0)
    model.fit(corpus.X)
    model.save(tmp_path / "topics")
    loaded = load_fit(tmp_path / "topics.json")
    assert model_report_hook(loaded) is not None
    html = render_page(fit_page(loaded, "topics.json"))
    assert '<section id="topics">' in html
    assert html.count("data:image/svg+xml;base64,") == 2  # objective + top words
    best = int(np.argmax(model.topic_word_[0]))
    assert f"word #{best}" not in html  # the words are inside the figure, not the text
    assert f"2 word distributions over {corpus.X.shape[1]} words" in html
