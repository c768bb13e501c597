"""``emkit topics PATH -k 10``: topic model of a text corpus, topics table and doc-topic CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit._files import atomic_write
from emkit.cli._app import UsageError, app, console, emit_json, err_console, fit_progress

if TYPE_CHECKING:
    import numpy as np

__all__ = ["topics", "topics_figure"]


def topics_figure(
    topic_word: np.ndarray, vocabulary: list[str], path: Path, n_top: int = 10
) -> None:
    """Bar charts of the top words of each topic, written atomically to ``path`` (PNG/SVG/PDF)."""
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UsageError("--figure needs matplotlib: pip install 'emkit[plot]'") from exc
    from emkit.text import top_word_ids

    ids = top_word_ids(topic_word, n_top)
    K = ids.shape[0]
    cols = min(K, 5)
    rows = -(-K // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 0.28 * n_top * rows + 0.8 * rows))
    flat = np.atleast_1d(axes).ravel()
    for k, ax in enumerate(flat):
        if k >= K:
            ax.axis("off")
            continue
        probs = topic_word[k, ids[k]][::-1]
        ax.barh(np.arange(ids.shape[1]), probs, color="tab:blue")
        ax.set_yticks(np.arange(ids.shape[1]))
        ax.set_yticklabels([vocabulary[w] for w in ids[k][::-1]], fontsize=8)
        ax.set_title(f"topic {k}", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fmt = path.suffix.lstrip(".").lower() or "png"
    fig.savefig(buffer, format=fmt, dpi=120)
    plt.close(fig)
    atomic_write(path, buffer.getvalue())


@app.command()
def topics(
    path: Path = typer.Argument(
        ...,
        help="Folder of .txt files, .jsonl/.csv with a text field, LDA-C, or a text file "
        "with one document per line.",
    ),
    components: int = typer.Option(10, "-k", "--components", help="Number of topics."),
    model_name: str = typer.Option(
        "mixture", "--model", "-m", help="'mixture' (mixture of unigrams) or 'plsa'."
    ),
    fmt: str = typer.Option("auto", "--format", help="auto, folder, lines, jsonl, csv or ldac."),
    text_field: str = typer.Option("text", "--text-field", help="JSONL/CSV text field."),
    id_field: str | None = typer.Option(None, "--id-field", help="JSONL/CSV document id."),
    vocab: Path | None = typer.Option(None, "--vocab", help="Vocabulary file for LDA-C."),
    stop_words: str | None = typer.Option("english", "--stop-words", help="'english' or 'none'."),
    min_df: float = typer.Option(2, "--min-df", help="CountVectorizer min_df."),
    max_df: float = typer.Option(1.0, "--max-df", help="CountVectorizer max_df."),
    max_features: int | None = typer.Option(None, "--max-features", help="Vocabulary cap."),
    strip_headers: bool = typer.Option(
        False, "--strip-headers", help="Drop e-mail headers (text before the first blank line)."
    ),
    drop_empty: bool = typer.Option(
        False, "--drop-empty", help="Skip documents left empty by tokenisation (else error)."
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding."),
    encoding_errors: str = typer.Option(
        "strict", "--encoding-errors", help="'strict' (error naming the file) or 'replace'."
    ),
    n_top: int = typer.Option(10, "--top", help="Top words per topic."),
    output: Path = typer.Option(
        Path("doc_topics.csv"), "-o", "--output", help="Document-topic CSV to write."
    ),
    figure: Path | None = typer.Option(None, "--figure", help="Top-words figure (PNG/SVG)."),
    as_json: bool = typer.Option(False, "--json", help="Print the topics as JSON."),
    save_model: Path | None = typer.Option(None, "--save-model", help="Save the model."),
    hard: bool = typer.Option(False, "--hard", help="Hard (classification) EM."),
    seed: int | None = typer.Option(0, "--seed", help="Random seed."),
    n_init: int | None = typer.Option(None, "--n-init", help="Restarts (model default)."),
    max_iter: int = typer.Option(200, "--max-iter", help="Maximum EM iterations."),
    alpha: float | None = typer.Option(None, "--alpha", help="Smoothing (model default)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Fit a topic model to a text corpus: print the topics, write document-topic weights."""
    import numpy as np
    from rich.table import Table

    from emkit.models.multinomial import MultinomialMixture
    from emkit.models.plsa import PLSA
    from emkit.text import coherence_npmi, coherence_umass, load_corpus, top_word_ids, top_words

    if components < 1:
        raise UsageError(f"-k must be a positive integer, got {components}")
    if model_name not in ("mixture", "plsa"):
        raise UsageError(f"--model must be 'mixture' or 'plsa', got {model_name!r}")
    options: dict[str, Any] = {
        "stop_words": None if stop_words in (None, "none", "") else stop_words,
        "min_df": int(min_df) if float(min_df).is_integer() and min_df >= 1 else min_df,
        "max_df": int(max_df) if float(max_df).is_integer() and max_df > 1 else max_df,
        "max_features": max_features,
    }
    corpus = load_corpus(
        path,
        fmt=fmt,
        text_field=text_field,
        id_field=id_field,
        vocab=vocab,
        encoding=encoding,
        encoding_errors=encoding_errors,
        strip_headers=strip_headers,
        drop_empty=drop_empty,
        **options,
    )
    if components > corpus.n_documents:
        raise UsageError(
            f"-k {components} is larger than the number of documents ({corpus.n_documents})"
        )
    extra: dict[str, Any] = {}
    if n_init is not None:
        extra["n_init"] = n_init
    if alpha is not None:
        extra["alpha"] = alpha
    model: MultinomialMixture | PLSA
    if model_name == "mixture":
        model = MultinomialMixture(
            components, hard=hard, random_state=seed, max_iter=max_iter, **extra
        )
    else:
        model = PLSA(components, hard=hard, random_state=seed, max_iter=max_iter, **extra)
    with fit_progress(type(model).__name__, max_iter, progress) as callback:
        model.fit(corpus.X, callbacks=[callback])
    if isinstance(model, PLSA):
        doc_topic = np.asarray(model.doc_topic_)
        weights = doc_topic.mean(axis=0)
    else:
        doc_topic = model.predict_proba(corpus.X)
        weights = np.asarray(model.weights_)
    beta = np.asarray(model.topic_word_)
    words = top_words(beta, corpus.vocabulary, n_top)
    ids = top_word_ids(beta, n_top)
    umass = np.asarray(coherence_umass(ids, corpus.X, per_topic=True)) if n_top >= 2 else None
    npmi = (
        np.asarray(
            coherence_npmi(ids, tokens=corpus.tokens, vocabulary=corpus.vocabulary, per_topic=True)
        )
        if corpus.tokens is not None and n_top >= 2
        else None
    )
    # the document-topic CSV: one row per document
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["document", *(f"topic_{k}" for k in range(components))])
    for doc_id, row in zip(corpus.doc_ids, doc_topic, strict=True):
        writer.writerow([doc_id, *(f"{v:.6g}" for v in row)])
    atomic_write(output, buffer.getvalue().encode())
    if figure is not None:
        topics_figure(beta, corpus.vocabulary, figure, n_top)
    if save_model is not None:
        model.save(save_model)
    summary = {
        "model": type(model).__name__,
        "n_documents": corpus.n_documents,
        "n_words": len(corpus.vocabulary),
        "log_likelihood": model.log_likelihood_,
        "n_iter": model.n_iter_,
        "converged": bool(model.converged_),
        "coherence_umass": None if umass is None else float(np.mean(umass)),
        "coherence_npmi": None if npmi is None else float(np.mean(npmi)),
        "topics": [
            {
                "topic": k,
                "weight": float(weights[k]),
                "top_words": words[k],
                "umass": None if umass is None else float(umass[k]),
                "npmi": None if npmi is None else float(npmi[k]),
            }
            for k in range(components)
        ],
        "doc_topics": str(output),
    }
    if as_json:
        emit_json(summary, None)
        return
    table = Table(
        title=f"{summary['model']}: {corpus.n_documents} documents, {len(corpus.vocabulary)} words"
    )
    table.add_column("topic", justify="right")
    table.add_column("weight", justify="right")
    table.add_column("top words")
    if umass is not None:
        table.add_column("UMass", justify="right")
    if npmi is not None:
        table.add_column("NPMI", justify="right")
    for k in range(components):
        cells = [str(k), f"{weights[k]:.3f}", " ".join(words[k])]
        if umass is not None:
            cells.append(f"{umass[k]:.3f}")
        if npmi is not None:
            cells.append(f"{npmi[k]:.3f}")
        table.add_row(*cells)
    console.print(table)
    converged = "converged" if summary["converged"] else "did NOT converge"
    console.print(f"{summary['n_iter']} iterations, {converged}")
    err_console.print(f"document-topic weights written to {output}")
