"""Text corpora for topic models: reading, tokenising (via scikit-learn), quality metrics."""

from emkit.text.corpus import (
    Corpus,
    build_corpus,
    load_corpus,
    read_csv_texts,
    read_jsonl_texts,
    read_ldac,
    read_lines,
    read_text_folder,
    strip_email_headers,
)
from emkit.text.metrics import (
    coherence_npmi,
    coherence_umass,
    completion_perplexity,
    held_out_perplexity,
    split_documents,
    top_word_ids,
    top_words,
)

__all__ = [
    "Corpus",
    "build_corpus",
    "coherence_npmi",
    "coherence_umass",
    "completion_perplexity",
    "held_out_perplexity",
    "load_corpus",
    "read_csv_texts",
    "read_jsonl_texts",
    "read_ldac",
    "read_lines",
    "read_text_folder",
    "split_documents",
    "strip_email_headers",
    "top_word_ids",
    "top_words",
]
