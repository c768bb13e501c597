"""The topic-model section of the demo report, and ``emkit report`` hooks for topic models.

The data are :func:`emkit.datasets.themes.two_themes`: forty sentences written for emkit, half
about cooking and half about astronomy. The themes are known, so the page can say how well the
topics EM found agree with them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.report.blocks import Cell, Section, Table, stopwatch
from emkit.report.fit import register_model_report
from emkit.report.sections import SectionContext, register_section

__all__ = ["theme_agreement", "topics_section"]

N_TOP = 8


def theme_agreement(labels: np.ndarray, themes: np.ndarray) -> tuple[list[str], float]:
    """Name each topic by the theme most of its documents have; the fraction so named right.

    Parameters
    ----------
    labels : ndarray of shape (n_documents,) of int
        The topic of each document (0 .. K - 1).
    themes : ndarray of shape (n_documents,) of str
        The known theme of each document.

    Returns
    -------
    names : list of str
        The majority theme of each topic ("(no document)" for an empty one).
    accuracy : float
        Fraction of documents whose topic is named after their own theme.
    """
    n_topics = int(labels.max()) + 1 if labels.size else 0
    names = []
    for k in range(n_topics):
        members = themes[labels == k]
        if members.size == 0:
            names.append("(no document)")
            continue
        values, counts = np.unique(members, return_counts=True)
        names.append(str(values[np.argmax(counts)]))
    predicted = np.asarray(names, dtype=object)[labels]
    return names, float(np.mean(predicted == themes))


@register_section("topics", "Topic model: top words", requires=("emkit.models.multinomial",))
def topics_section(ctx: SectionContext) -> Section:
    """A mixture of unigrams and PLSA with two topics on the bundled two-theme corpus."""
    from emkit.datasets.themes import two_themes
    from emkit.models import PLSA, MultinomialMixture
    from emkit.report import figures, model_figures
    from emkit.text import build_corpus, top_word_ids

    data = two_themes()
    corpus = build_corpus(data.texts, data.doc_ids, labels=data.themes, stop_words="english")
    themes = np.asarray(data.themes, dtype=object)
    n_docs, n_words = corpus.X.shape
    n_tokens = int(corpus.X.sum())
    n_init = 3 if ctx.quick else 10
    ctx.status("fitting the mixture of unigrams")
    with stopwatch() as mix_time:
        mixture = MultinomialMixture(2, n_init=n_init, random_state=ctx.seed).fit(corpus.X)
    labels = mixture.predict(corpus.X)
    names, accuracy = theme_agreement(labels, themes)
    ctx.status("fitting PLSA")
    with stopwatch() as plsa_time:
        plsa = PLSA(2, init="kmeans", n_init=n_init, random_state=ctx.seed).fit(corpus.X)
    plsa_labels = np.asarray(plsa.doc_topic_).argmax(axis=1)
    plsa_names, plsa_accuracy = theme_agreement(plsa_labels, themes)
    n_right, plsa_right = round(accuracy * n_docs), round(plsa_accuracy * n_docs)
    ctx.status("drawing the top words")
    vocabulary = np.asarray(corpus.vocabulary)
    beta = np.asarray(mixture.topic_word_)
    ids = top_word_ids(beta, N_TOP)
    words = [vocabulary[row].tolist() for row in ids]
    weights = np.take_along_axis(beta, ids, axis=1)
    sizes = np.bincount(labels, minlength=2)
    topic_labels = [
        f"topic {k}: {sizes[k]} documents, mostly {names[k]}" if k < len(names) else f"topic {k}"
        for k in range(2)
    ]
    plsa_ids = top_word_ids(np.asarray(plsa.topic_word_), N_TOP)
    wrong = np.flatnonzero(np.asarray(names, dtype=object)[labels] != themes)
    history = np.asarray(mixture.log_likelihood_history_)
    seconds = mix_time.seconds + plsa_time.seconds
    model_rows: list[list[Cell]] = [
        [
            "mixture of unigrams",
            "each document",
            f"{n_right} of {n_docs}",
            mixture.n_iter_,
            mixture.log_likelihood_,
            mix_time.seconds,
        ],
        [
            "PLSA",
            "each word",
            f"{plsa_right} of {n_docs}",
            plsa.n_iter_,
            plsa.log_likelihood_,
            plsa_time.seconds,
        ],
    ]
    table = Table(
        "Two topic models, two topics",
        [
            "model",
            "hidden topic of",
            "documents named right",
            "iterations",
            "objective",
            "time (s)",
        ],
        model_rows,
        caption=f"Each model's topics are named by the theme most of their documents have (for "
        f"PLSA a document goes to its heaviest topic); {n_init} restarts each from k-means on "
        "tf-idf, the best kept. Objectives include the smoothing prior and are not comparable "
        "between the models.",
        digits=2,
    )
    word_rows: list[list[Cell]] = []
    for model_name, topic_names, topic_ids in (
        ("mixture of unigrams", names, ids),
        ("PLSA", plsa_names, plsa_ids),
    ):
        for k, name in enumerate(topic_names):
            word_rows.append([model_name, k, name, ", ".join(map(str, vocabulary[topic_ids[k]]))])
    words_table = Table(
        f"Top {N_TOP} words",
        ["model", "topic", "named", "top words"],
        word_rows,
    )
    misplaced = (
        "Every document landed in its theme's topic."
        if wrong.size == 0
        else "Documents put with the other theme: "
        + "; ".join(f"{data.doc_ids[i]} ({data.texts[i]!r})" for i in wrong)
        + "."
    )
    return Section(
        title="Topic model: top words",
        hidden=f"The theme of each of {n_docs} short documents ({n_tokens} words after dropping "
        f"English stop words, {n_words} distinct), half written about cooking and half "
        "about the night sky; the models are not told which.",
        estimated=f"Two topics' word distributions and their weights "
        f"({', '.join(f'{w:.2f}' for w in mixture.weights_)}): the mixture of unigrams puts "
        f"{n_right} of the {n_docs} documents in their theme's topic after {mixture.n_iter_} "
        f"iterations of its best start (PLSA, one topic per word: {plsa_right} of {n_docs}).",
        seconds=seconds,
        figures=[
            model_figures.top_words_figure(words, weights, topic_labels),
            figures.objective_figure(history),
        ],
        tables=[table, words_table],
        notes=[
            misplaced,
            "The objective curve is the mixture's log-likelihood plus the log-prior of its "
            "smoothing (a Dirichlet pseudo-count of 1 per word and topic), for the kept start. "
            "The time above is both models' fits, restarts included.",
            f"Data: {data.source}; emkit.datasets.themes.two_themes().",
        ],
    )


def _topics_report(model: Any) -> list[Section]:
    """``emkit report`` for a saved topic model: its topics' most probable words.

    The saved file holds no vocabulary, so words are named by their column in the
    document-term matrix.
    """
    from emkit.report import model_figures
    from emkit.text import top_word_ids

    beta = np.asarray(model.topic_word_)
    n_top = min(N_TOP, beta.shape[1])
    ids = top_word_ids(beta, n_top)
    words = [[f"word #{i}" for i in row] for row in ids]
    weights = np.take_along_axis(beta, ids, axis=1)
    hidden = (
        "The topic of each document."
        if type(model).__name__ == "MultinomialMixture"
        else "The topic of each word occurrence."
    )
    return [
        Section(
            title="Topics",
            hidden=hidden,
            estimated=f"{beta.shape[0]} word distributions over {beta.shape[1]} words; their "
            f"{n_top} most probable words below (by column of the document-term matrix: the "
            "saved model holds no vocabulary).",
            figures=[
                model_figures.top_words_figure(
                    words, weights, [f"topic {k}" for k in range(beta.shape[0])]
                )
            ],
            key="topics",
        )
    ]


def _register_report_hooks() -> None:
    from emkit.models import PLSA, MultinomialMixture

    register_model_report(MultinomialMixture)(_topics_report)
    register_model_report(PLSA)(_topics_report)


_register_report_hooks()
