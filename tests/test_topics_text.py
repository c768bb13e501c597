"""Text input, topic-quality metrics and the ``emkit topics`` command."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from emkit import DataError
from emkit.cli import app
from emkit.models import PLSA, MultinomialMixture
from emkit.text import (
    build_corpus,
    coherence_npmi,
    coherence_umass,
    completion_perplexity,
    held_out_perplexity,
    load_corpus,
    read_ldac,
    split_documents,
    strip_email_headers,
    top_word_ids,
    top_words,
)

DOCS = [
    "the cat sat on the mat with another cat",
    "a cat and a kitten chased the mouse",
    "kitten and cat sleep on the mat",
    "stocks fell as the market closed lower",
    "the market rallied and stocks rose",
    "investors sold stocks in a falling market",
]


def _write_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, text in enumerate(DOCS):
        (folder / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    (folder / "ignored.md").write_text("not a txt file")
    return folder


def test_all_formats_give_the_same_matrix(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path)
    lines = tmp_path / "docs.txt"
    lines.write_text("\n".join(DOCS) + "\n\n")
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t, "y": i % 2}) for i, t in enumerate(DOCS)))
    table = tmp_path / "docs.csv"
    with table.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "body"])
        writer.writerows([[f"d{i}", t] for i, t in enumerate(DOCS)])
    corpora = [
        load_corpus(folder, stop_words="english"),
        load_corpus(lines, stop_words="english"),
        load_corpus(jsonl, stop_words="english", label_field="y"),
        load_corpus(table, text_field="body", id_field="id", stop_words="english"),
    ]
    for c in corpora[1:]:
        assert c.vocabulary == corpora[0].vocabulary
        assert (c.X != corpora[0].X).nnz == 0
    assert corpora[0].doc_ids[0] == "00.txt"
    assert corpora[3].doc_ids[-1] == "d5"
    assert corpora[2].labels is not None and corpora[2].labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert "the" not in corpora[0].vocabulary  # stop words through CountVectorizer
    assert corpora[0].tokens is not None and corpora[0].tokens[0][:2] == ["cat", "sat"]


def test_ldac_round_trip(tmp_path: Path) -> None:
    corpus = build_corpus(DOCS)
    ldac = tmp_path / "c.ldac"
    lines = []
    for row in corpus.X:
        pairs = [f"{j}:{int(v)}" for j, v in zip(row.indices, row.data, strict=True)]
        lines.append(f"{len(pairs)} " + " ".join(pairs))
    ldac.write_text("\n".join(lines) + "\n")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(corpus.vocabulary) + "\n")
    back = load_corpus(ldac, vocab=vocab)
    assert back.vocabulary == corpus.vocabulary
    assert (back.X != corpus.X).nnz == 0
    (tmp_path / "bad.ldac").write_text("3 0:1 1:2\n")
    with pytest.raises(DataError, match="declares 3 terms but lists 2"):
        read_ldac(tmp_path / "bad.ldac")
    with pytest.raises(DataError, match="word id 99 but the vocabulary has"):
        (tmp_path / "big.ldac").write_text("1 99:1\n")
        read_ldac(tmp_path / "big.ldac", vocab)


def test_vectorizer_options_and_errors(tmp_path: Path) -> None:
    c = build_corpus(DOCS, min_df=2)
    assert set(c.vocabulary) == {"cat", "kitten", "market", "stocks", "mat", "and", "on", "the"}
    assert len(build_corpus(DOCS, max_features=3).vocabulary) == 3
    with pytest.raises(DataError, match="cannot build a vocabulary"):
        build_corpus(["the and of", "a the"], stop_words="english")
    with pytest.raises(DataError, match=r"1 document\(s\) have no word .*'doc 1'"):
        build_corpus(["cat mat", "the", "cat"], stop_words="english")
    dropped = build_corpus(["cat mat", "the", "cat"], stop_words="english", drop_empty=True)
    assert dropped.doc_ids == ["doc 0", "doc 2"]
    with pytest.raises(DataError, match="invalid tokenisation option"):
        build_corpus(DOCS, min_dff=2)


def test_non_utf8_file_is_named_and_has_a_fallback(tmp_path: Path) -> None:
    bad = tmp_path / "latin.txt"
    bad.write_bytes("caf\xe9 au lait\nthe caf\xe9 again\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.txt' is not valid utf-8: byte 0xe9"):
        load_corpus(bad)
    assert "café" in load_corpus(bad, encoding="latin-1").vocabulary
    assert "caf" in load_corpus(bad, encoding_errors="replace").vocabulary
    with pytest.raises(DataError, match="no files matching"):
        load_corpus(tmp_path, pattern="*.none")
    with pytest.raises(DataError, match="does not exist"):
        load_corpus(tmp_path / "missing.txt")
    (tmp_path / "rec.jsonl").write_text('{"body": "x"}\n')
    with pytest.raises(DataError, match="no text field 'text'"):
        load_corpus(tmp_path / "rec.jsonl")


def test_strip_email_headers() -> None:
    assert strip_email_headers("From: a\nSubject: b\n\nbody\n\nmore") == "body\n\nmore"
    assert strip_email_headers("no headers here") == "no headers here"


# -- metrics --------------------------------------------------------------------------------
def test_top_words() -> None:
    beta = np.array([[0.1, 0.5, 0.4], [0.6, 0.1, 0.3]])
    assert top_words(beta, ["a", "b", "c"], 2) == [["b", "c"], ["a", "c"]]
    np.testing.assert_array_equal(top_word_ids(beta, 5), [[1, 2, 0], [0, 2, 1]])


def _brute_umass(ids: np.ndarray, X: sp.csr_matrix) -> float:
    B = X.toarray() > 0
    scores = []
    for topic in ids:
        values = [
            np.log(
                (np.sum(B[:, topic[i]] & B[:, topic[j]]) / B.shape[0] + 1e-12)
                / (np.sum(B[:, topic[j]]) / B.shape[0])
            )
            for i in range(1, len(topic))
            for j in range(i)
        ]
        scores.append(np.mean(values))
    return float(np.mean(scores))


def _brute_npmi(ids: np.ndarray, tokens: list[list[str]], vocab: list[str], window: int) -> float:
    contexts: list[set[str]] = []
    for doc in tokens:
        if len(doc) <= window:
            contexts.append(set(doc))
        else:
            contexts.extend(set(doc[s : s + window]) for s in range(len(doc) - window + 1))
    m = len(contexts)
    scores = []
    for topic in ids:
        words = [vocab[w] for w in topic]
        values = []
        for a, b in itertools.permutations(words, 2):
            pa = sum(a in c for c in contexts) / m
            pb = sum(b in c for c in contexts) / m
            pab = sum(a in c and b in c for c in contexts) / m + 1e-12
            values.append(np.log(pab / (pa * pb)) / -np.log(pab))
        scores.append(np.mean(values))
    return float(np.mean(scores))


def test_coherence_matches_brute_force_definitions() -> None:
    corpus = build_corpus(DOCS * 2 + ["cat market", "mouse stocks fell"], stop_words="english")
    rng = np.random.default_rng(0)
    ids = np.stack([rng.permutation(len(corpus.vocabulary))[:4] for _ in range(3)])
    assert coherence_umass(ids, corpus.X) == pytest.approx(_brute_umass(ids, corpus.X))
    assert corpus.tokens is not None
    for window in (2, 3, 50):
        ours = coherence_npmi(
            ids, tokens=corpus.tokens, vocabulary=corpus.vocabulary, window=window
        )
        assert ours == pytest.approx(_brute_npmi(ids, corpus.tokens, corpus.vocabulary, window))
    doc_level = coherence_npmi(ids, corpus.X, window=None)
    assert doc_level == pytest.approx(
        _brute_npmi(ids, [sorted(set(t)) for t in corpus.tokens], corpus.vocabulary, 10**6)
    )


def test_coherence_ranks_real_topics_above_mixed_ones() -> None:
    corpus = build_corpus(DOCS * 3, stop_words="english")
    v = corpus.vocabulary.index
    good = np.array([[v("cat"), v("kitten"), v("mat")], [v("stocks"), v("market"), v("fell")]])
    mixed = np.array([[v("cat"), v("stocks"), v("mat")], [v("kitten"), v("market"), v("fell")]])
    assert coherence_umass(good, corpus.X) > coherence_umass(mixed, corpus.X)
    kw = {"tokens": corpus.tokens, "vocabulary": corpus.vocabulary}
    assert coherence_npmi(good, **kw) > coherence_npmi(mixed, **kw)


def test_split_documents_and_perplexity() -> None:
    corpus = build_corpus(DOCS * 5)
    obs, held = split_documents(corpus.X, 0.5, random_state=0)
    assert ((obs + held) != corpus.X).nnz == 0
    assert held.sum() > 0 and obs.sum() > 0
    V = corpus.X.shape[1]
    uniform = completion_perplexity(np.ones((30, 1)), np.ones((1, V)), held)
    assert uniform == pytest.approx(V)  # a uniform model is as perplexed as the vocabulary
    mixture = MultinomialMixture(2, random_state=0).fit(corpus.X)
    plsa = PLSA(2, random_state=0, init="kmeans").fit(corpus.X)
    for model in (mixture, plsa):
        assert 1.0 < held_out_perplexity(model, corpus.X) < V
    with pytest.raises(DataError, match="integer counts"):
        split_documents(corpus.X * 0.5)


# -- CLI ------------------------------------------------------------------------------------
def test_cli_topics_writes_table_csv_and_figure(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path)
    out = tmp_path / "doc_topics.csv"
    fig = tmp_path / "topics.png"
    result = CliRunner().invoke(
        app,
        [
            "topics",
            str(folder),
            "-k",
            "2",
            "--min-df",
            "1",
            "-o",
            str(out),
            "--figure",
            str(fig),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "top words" in result.output and "UMass" in result.output
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["document", "topic_0", "topic_1"]
    assert len(rows) == 1 + len(DOCS)
    np.testing.assert_allclose([float(a) + float(b) for _, a, b in rows[1:]], 1.0, rtol=1e-5)
    assert fig.read_bytes()[:4] == b"\x89PNG"
    result = CliRunner().invoke(
        app,
        [
            "topics",
            str(folder),
            "-k",
            "2",
            "--min-df",
            "1",
            "--model",
            "plsa",
            "--json",
            "-o",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["model"] == "PLSA" and len(summary["topics"]) == 2


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"caf\xe9\n", [], "is not valid utf-8"),
        (b"the of and\nthe a\n", [], "cannot build a vocabulary"),
        (
            b"cat mat\ncat dog\n",
            ["-k", "5", "--min-df", "1"],
            "larger than the number of documents",
        ),
        (b"cat mat\nthe\ncat mat\n", ["--min-df", "1", "-k", "1"], "have no word"),
    ],
)
def test_cli_bad_input_one_line_exit_2(
    tmp_path: Path,
    content: bytes,
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from emkit.cli import main

    src = tmp_path / "in.txt"
    src.write_bytes(content)
    out = tmp_path / "out.csv"
    monkeypatch.setattr("sys.argv", ["emkit", "topics", str(src), "-o", str(out), *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
