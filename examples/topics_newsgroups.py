"""Topics of 200 newsgroup posts (alt.atheism vs sci.space) with a mixture of unigrams and PLSA.

Run from the repository root (needs ../shared/data, see shared/data/README.md)::

    python examples/topics_newsgroups.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emkit.models import PLSA, MultinomialMixture
from emkit.text import coherence_umass, held_out_perplexity, load_corpus, top_word_ids, top_words

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "topics"


def main() -> None:
    corpus = load_corpus(
        DATA / "mini_newsgroup" / "mini_newsgroup.jsonl",
        label_field="label",
        strip_headers=True,
        stop_words="english",
        min_df=2,
        drop_empty=True,
    )
    assert corpus.labels is not None
    labels = corpus.labels.astype(int)
    mixture = MultinomialMixture(2, random_state=0).fit(corpus.X)
    pred = mixture.predict(corpus.X)
    accuracy = max(np.mean(pred == labels), np.mean(pred != labels))
    print(f"mixture of unigrams: clustering accuracy {accuracy:.3f}")
    for k, words in enumerate(top_words(mixture.topic_word_, corpus.vocabulary, 10)):
        print(f"  topic {k}: {' '.join(words)}")
    plsa = PLSA(2, random_state=0, init="kmeans").fit(corpus.X)
    ids = top_word_ids(plsa.topic_word_, 10)
    print(f"PLSA: UMass coherence {coherence_umass(ids, corpus.X):.3f}")
    print(f"PLSA: held-out perplexity (training docs) {held_out_perplexity(plsa, corpus.X):.1f}")


if __name__ == "__main__":
    main()
