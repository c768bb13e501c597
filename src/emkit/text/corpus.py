"""Reading text corpora into sparse document-term matrices.

Sources: a folder of ``.txt`` files, a text file with one document per line, JSONL or CSV with
a text field, and LDA-C (``M id:count ...`` per line, plus a vocabulary file with one word per
line). Tokenisation and the vocabulary come from scikit-learn's ``CountVectorizer`` (stop
words, ``min_df``, ``max_df``, ``max_features``, ``token_pattern`` ...), never hand-rolled.

Files are decoded as UTF-8 by default; a file that is not valid UTF-8 raises a
:class:`~emkit.exceptions.DataError` naming the file and the offending byte. The documented
fallback is ``encoding_errors='replace'`` (undecodable bytes become U+FFFD) or another
``encoding``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from emkit.exceptions import DataError

__all__ = [
    "Corpus",
    "build_corpus",
    "load_corpus",
    "read_csv_texts",
    "read_jsonl_texts",
    "read_ldac",
    "read_lines",
    "read_text_folder",
    "strip_email_headers",
]


@dataclass(frozen=True)
class Corpus:
    """A document-term matrix with its vocabulary and document names.

    Attributes
    ----------
    X : scipy.sparse.csr_matrix of shape (n_documents, n_words)
        Word counts.
    vocabulary : list of str, length n_words
    doc_ids : list of str, length n_documents
    tokens : list of list of str, optional
        Each document's tokens in order (restricted to nothing: all tokens the analyser
        produced), for sliding-window coherence; None for LDA-C input.
    labels : ndarray, optional
        A label per document where the source had one (JSONL/CSV ``label_field``).
    """

    X: sp.csr_matrix
    vocabulary: list[str]
    doc_ids: list[str]
    tokens: list[list[str]] | None = None
    labels: np.ndarray | None = field(default=None)

    @property
    def n_documents(self) -> int:
        """Number of documents."""
        return int(self.X.shape[0])


def strip_email_headers(text: str) -> str:
    """The body of an e-mail or news post: everything after the first blank line.

    A text without a blank line is returned unchanged.
    """
    head, sep, body = text.partition("\n\n")
    return body if sep else head


def _read_text(path: Path, encoding: str, errors: str) -> str:
    try:
        return path.read_bytes().decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{str(path)!r} is not valid {encoding}: byte {exc.object[exc.start]:#04x} at "
            f"offset {exc.start} ({exc.reason}); pass encoding='latin-1' or "
            "encoding_errors='replace' (CLI: --encoding / --encoding-errors replace)"
        ) from None
    except LookupError as exc:
        raise DataError(f"unknown encoding {encoding!r}: {exc}") from None
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from exc


def read_text_folder(
    path: str | os.PathLike[str],
    *,
    pattern: str = "*.txt",
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
) -> tuple[list[str], list[str]]:
    """Read every file matching ``pattern`` in a folder (sorted by name; not recursive).

    Returns
    -------
    texts : list of str
    doc_ids : list of str
        The file names.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{str(folder)!r} is not a folder")
    files = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not files:
        raise DataError(f"no files matching {pattern!r} in {str(folder)!r}")
    return [_read_text(p, encoding, encoding_errors) for p in files], [p.name for p in files]


def read_lines(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", encoding_errors: str = "strict"
) -> tuple[list[str], list[str]]:
    """Read a text file with one document per line (blank lines are skipped).

    Returns
    -------
    texts : list of str
    doc_ids : list of str
        ``"line <n>"`` with the 1-based line number.
    """
    text = _read_text(Path(path), encoding, encoding_errors)
    texts, ids = [], []
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            texts.append(line)
            ids.append(f"line {i}")
    if not texts:
        raise DataError(f"{str(path)!r} has no documents (no non-blank lines)")
    return texts, ids


def _record_text(record: Any, text_field: str, where: str) -> str:
    if not isinstance(record, dict) or text_field not in record:
        keys = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise DataError(f"{where}: no text field {text_field!r} (found {keys})")
    value = record[text_field]
    if not isinstance(value, str):
        raise DataError(f"{where}: field {text_field!r} is not a string")
    return value


def read_jsonl_texts(
    path: str | os.PathLike[str],
    *,
    text_field: str = "text",
    id_field: str | None = None,
    label_field: str | None = None,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
) -> tuple[list[str], list[str], list[Any] | None]:
    """Read JSON Lines: one JSON object per line with a text field.

    Returns
    -------
    texts, doc_ids, labels (None unless ``label_field``)
    """
    raw = _read_text(Path(path), encoding, encoding_errors)
    texts: list[str] = []
    ids: list[str] = []
    labels: list[Any] = []
    for i, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{str(path)!r} line {i}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DataError(f"{where}: invalid JSON ({exc})") from None
        texts.append(_record_text(record, text_field, where))
        ids.append(str(record.get(id_field, i)) if id_field else f"line {i}")
        if label_field is not None:
            if label_field not in record:
                raise DataError(f"{where}: no label field {label_field!r}")
            labels.append(record[label_field])
    if not texts:
        raise DataError(f"{str(path)!r} has no records")
    return texts, ids, labels if label_field is not None else None


def read_csv_texts(
    path: str | os.PathLike[str],
    *,
    text_field: str = "text",
    id_field: str | None = None,
    label_field: str | None = None,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
) -> tuple[list[str], list[str], list[Any] | None]:
    """Read a CSV file with a header row and a text column.

    Returns
    -------
    texts, doc_ids, labels (None unless ``label_field``)
    """
    raw = _read_text(Path(path), encoding, encoding_errors)
    reader = csv.DictReader(raw.splitlines())
    header = reader.fieldnames or []
    for name in (text_field, id_field, label_field):
        if name is not None and name not in header:
            raise DataError(f"{str(path)!r}: no column {name!r}; columns are {header}")
    texts, ids, labels = [], [], []
    for i, row in enumerate(reader, start=2):
        texts.append(row[text_field] or "")
        ids.append(row[id_field] if id_field else f"row {i}")
        if label_field is not None:
            labels.append(row[label_field])
    if not texts:
        raise DataError(f"{str(path)!r} has a header but no rows")
    return texts, ids, labels if label_field is not None else None


def read_ldac(
    path: str | os.PathLike[str],
    vocab_path: str | os.PathLike[str] | None = None,
    *,
    encoding: str = "utf-8",
) -> Corpus:
    """Read LDA-C format: each line ``M id:count id:count ...`` (M = number of distinct ids).

    Parameters
    ----------
    path : path-like
        The LDA-C file.
    vocab_path : path-like, optional
        One word per line, line ``j`` (0-based) naming word id ``j``. Without it the words are
        named by their ids.
    """
    raw = _read_text(Path(path), encoding, "strict")
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    n_docs = 0
    for lineno, line in enumerate(raw.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        where = f"{str(path)!r} line {lineno}"
        try:
            declared = int(parts[0])
            pairs = [p.split(":") for p in parts[1:]]
            ids = [int(a) for a, _ in pairs]
            counts = [float(b) for _, b in pairs]
        except ValueError:
            raise DataError(f"{where}: expected 'M id:count ...' with integers") from None
        if declared != len(ids):
            raise DataError(f"{where}: declares {declared} terms but lists {len(ids)}")
        if any(i < 0 for i in ids) or any(c < 0 or not np.isfinite(c) for c in counts):
            raise DataError(f"{where}: negative word id or count")
        rows.extend([n_docs] * len(ids))
        cols.extend(ids)
        vals.extend(counts)
        n_docs += 1
    if n_docs == 0:
        raise DataError(f"{str(path)!r} has no documents")
    if vocab_path is not None:
        vocabulary = [
            w.strip() for w in _read_text(Path(vocab_path), encoding, "strict").splitlines()
        ]
        while vocabulary and not vocabulary[-1]:
            vocabulary.pop()
    else:
        vocabulary = [str(j) for j in range(max(cols, default=-1) + 1)]
    if cols and max(cols) >= len(vocabulary):
        raise DataError(
            f"{str(path)!r} uses word id {max(cols)} but the vocabulary has {len(vocabulary)} words"
        )
    X = sp.csr_matrix(
        (np.asarray(vals, dtype=np.float64), (rows, cols)), shape=(n_docs, len(vocabulary))
    )
    X.sum_duplicates()
    return Corpus(X=X, vocabulary=vocabulary, doc_ids=[f"doc {i}" for i in range(n_docs)])


def build_corpus(
    texts: Sequence[str],
    doc_ids: Sequence[str] | None = None,
    *,
    labels: Sequence[Any] | None = None,
    drop_empty: bool = False,
    keep_tokens: bool = True,
    **vectorizer_options: Any,
) -> Corpus:
    """Tokenise texts with scikit-learn's ``CountVectorizer`` into a :class:`Corpus`.

    Parameters
    ----------
    texts : sequence of str
    doc_ids : sequence of str, optional
        Names used in messages and outputs (default ``"doc <i>"``).
    labels : sequence, optional
        Carried along (and filtered with the documents).
    drop_empty : bool, default=False
        Documents with no word left in the vocabulary raise a DataError naming them
        (default), or are dropped (``True``; ``doc_ids`` says which remain).
    keep_tokens : bool, default=True
        Keep each document's token sequence (for sliding-window coherence).
    **vectorizer_options
        Passed to ``CountVectorizer`` (``stop_words``, ``min_df``, ``max_df``,
        ``max_features``, ``token_pattern``, ``lowercase``, ``ngram_range`` ...).

    Raises
    ------
    DataError
        No documents, an empty vocabulary after filtering, or empty documents.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    texts = list(texts)
    ids = [f"doc {i}" for i in range(len(texts))] if doc_ids is None else list(doc_ids)
    if not texts:
        raise DataError("no documents to build a corpus from")
    if len(ids) != len(texts):
        raise DataError(f"{len(ids)} document ids for {len(texts)} texts")
    try:
        vectorizer = CountVectorizer(**vectorizer_options)
    except TypeError as exc:
        raise DataError(f"invalid tokenisation option: {exc}") from None
    try:
        X = vectorizer.fit_transform(texts)
    except ValueError as exc:
        # "empty vocabulary; perhaps the documents only contain stop words", or
        # "max_df corresponds to < documents than min_df"
        options = {k: v for k, v in vectorizer_options.items() if k != "vocabulary"}
        raise DataError(
            f"cannot build a vocabulary from {len(texts)} documents with options {options}: "
            f"{exc}; loosen min_df / max_df / stop_words"
        ) from None
    X = sp.csr_matrix(X, dtype=np.float64)
    vocabulary = [str(w) for w in vectorizer.get_feature_names_out()]
    lengths = np.asarray(X.sum(axis=1)).ravel()
    empty = np.flatnonzero(lengths == 0)
    keep = np.arange(len(texts))
    if empty.size:
        if not drop_empty:
            named = ", ".join(repr(ids[i]) for i in empty[:5])
            more = f" and {empty.size - 5} more" if empty.size > 5 else ""
            raise DataError(
                f"{empty.size} document(s) have no word in the vocabulary: {named}{more}; "
                "remove them, loosen the filters, or pass drop_empty=True (CLI: --drop-empty)"
            )
        keep = np.flatnonzero(lengths > 0)
        if keep.size == 0:
            raise DataError("every document is empty after tokenisation")
        X = X[keep]
    tokens = None
    if keep_tokens:
        analyse = vectorizer.build_analyzer()
        tokens = [list(analyse(texts[i])) for i in keep]
    label_array = None if labels is None else np.asarray(list(labels))[keep]
    return Corpus(
        X=X,
        vocabulary=vocabulary,
        doc_ids=[ids[i] for i in keep],
        tokens=tokens,
        labels=label_array,
    )


def load_corpus(
    path: str | os.PathLike[str],
    *,
    fmt: str = "auto",
    text_field: str = "text",
    id_field: str | None = None,
    label_field: str | None = None,
    vocab: str | os.PathLike[str] | None = None,
    pattern: str = "*.txt",
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    strip_headers: bool = False,
    drop_empty: bool = False,
    **vectorizer_options: Any,
) -> Corpus:
    """Read a corpus from ``path`` in any supported format.

    Parameters
    ----------
    path : path-like
        A folder of text files, a ``.jsonl``/``.json``, ``.csv``, LDA-C (``.ldac``/``.dat``)
        file, or any other text file (one document per line).
    fmt : {'auto', 'folder', 'lines', 'jsonl', 'csv', 'ldac'}, default='auto'
        Format; 'auto' decides from the path as above.
    text_field, id_field, label_field : str
        Fields of JSONL records / CSV columns.
    vocab : path-like, optional
        Vocabulary file for LDA-C.
    pattern : str, default='*.txt'
        File pattern in a folder.
    encoding, encoding_errors : str
        Decoding of text files (see the module docstring for the fallback).
    strip_headers : bool, default=False
        Drop e-mail/news headers (everything before the first blank line).
    drop_empty : bool, default=False
        See :func:`build_corpus`.
    **vectorizer_options
        CountVectorizer options (ignored for LDA-C, which is already counted).
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{str(p)!r} does not exist")
    if fmt == "auto":
        suffix = p.suffix.lower()
        if p.is_dir():
            fmt = "folder"
        elif suffix in (".jsonl", ".json", ".ndjson"):
            fmt = "jsonl"
        elif suffix in (".csv", ".tsv"):
            fmt = "csv"
        elif suffix in (".ldac", ".dat", ".lda-c"):
            fmt = "ldac"
        else:
            fmt = "lines"
    decode = {"encoding": encoding, "encoding_errors": encoding_errors}
    labels: list[Any] | None = None
    if fmt == "ldac":
        return read_ldac(p, vocab, encoding=encoding)
    if fmt == "folder":
        texts, ids = read_text_folder(p, pattern=pattern, **decode)
    elif fmt == "lines":
        texts, ids = read_lines(p, **decode)
    elif fmt == "jsonl":
        texts, ids, labels = read_jsonl_texts(
            p, text_field=text_field, id_field=id_field, label_field=label_field, **decode
        )
    elif fmt == "csv":
        texts, ids, labels = read_csv_texts(
            p, text_field=text_field, id_field=id_field, label_field=label_field, **decode
        )
    else:
        raise DataError(
            f"unknown corpus format {fmt!r}: use auto, folder, lines, jsonl, csv or ldac"
        )
    if strip_headers:
        texts = [strip_email_headers(t) for t in texts]
    return build_corpus(texts, ids, labels=labels, drop_empty=drop_empty, **vectorizer_options)
