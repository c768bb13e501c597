"""Alphabets, a small FASTA reader, and the integer encoding the motif models work on.

Sequences become one integer matrix of shape ``(n_sequences, max_length)``:

- ``0 .. A-1``: the letters of the alphabet (``ACGT`` for DNA);
- ``A``: the wildcard (``N`` for DNA, ``X`` for protein), an unknown letter that every model
  marginalises (it contributes a factor 1 to every likelihood);
- ``-1``: padding after the end of a shorter sequence.

Lower-case letters are read as upper case (soft-masked repeats are still sequence).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from emkit.exceptions import DataError, ParameterError

__all__ = [
    "DNA",
    "PAD",
    "PROTEIN",
    "Alphabet",
    "FastaRecord",
    "decode",
    "encode_sequences",
    "get_alphabet",
    "read_fasta",
]

#: Code of the padding after the end of a sequence.
PAD = -1


@dataclass(frozen=True)
class Alphabet:
    """The letters a sequence may hold.

    Attributes
    ----------
    name : str
        ``'dna'``, ``'protein'`` or ``'custom'``.
    letters : str
        The letters, in code order (code ``k`` is ``letters[k]``).
    wildcard : str
        The letter read as "any letter" (``''`` if none).
    complement : str or None
        The complement of each letter, in the same order (DNA only); None when the alphabet
        has no reverse strand.
    """

    name: str
    letters: str
    wildcard: str = ""
    complement: str | None = None

    @property
    def size(self) -> int:
        """Number of letters A (the wildcard not counted)."""
        return len(self.letters)

    @property
    def complement_index(self) -> np.ndarray:
        """``comp[k]`` is the code of the complement of letter ``k``; shape (A,)."""
        if self.complement is None:
            raise ParameterError(
                f"the {self.name} alphabet has no complement: the reverse strand is defined "
                "for DNA only"
            )
        return np.array([self.letters.index(c) for c in self.complement], dtype=np.intp)

    def lookup_table(self) -> np.ndarray:
        """Code of every byte value: letters, wildcard, and -2 for anything else; shape (256,)."""
        table = np.full(256, -2, dtype=np.int16)
        for k, letter in enumerate(self.letters):
            table[ord(letter.upper())] = k
            table[ord(letter.lower())] = k
        for letter in self.wildcard:
            table[ord(letter.upper())] = self.size
            table[ord(letter.lower())] = self.size
        return table


DNA = Alphabet("dna", "ACGT", "N", "TGCA")
PROTEIN = Alphabet("protein", "ACDEFGHIKLMNPQRSTVWY", "X")


def get_alphabet(alphabet: str | Alphabet) -> Alphabet:
    """The alphabet named ``'dna'`` or ``'protein'``, or a custom one from its letters.

    A custom alphabet is a string of at least two distinct upper-case letters, e.g. ``'ACGU'``;
    it has no wildcard and no complement.
    """
    if isinstance(alphabet, Alphabet):
        return alphabet
    if not isinstance(alphabet, str):
        raise ParameterError(
            f"alphabet must be 'dna', 'protein' or a string of letters, got {alphabet!r}"
        )
    key = alphabet.lower()
    if key == "dna":
        return DNA
    if key == "protein":
        return PROTEIN
    letters = alphabet.upper()
    if (
        len(letters) < 2
        or len(set(letters)) != len(letters)
        or not letters.isascii()
        or not letters.isalpha()
    ):
        raise ParameterError(
            "alphabet must be 'dna', 'protein' or a string of at least two distinct letters, "
            f"got {alphabet!r}"
        )
    return Alphabet("custom", letters)


@dataclass(frozen=True)
class FastaRecord:
    """One FASTA record.

    Attributes
    ----------
    name : str
        The first word of the header line (after ``>``).
    description : str
        The rest of the header line.
    sequence : str
        The sequence with white space removed, as written (case kept).
    """

    name: str
    description: str
    sequence: str


def _lines(source: str | os.PathLike[str] | TextIO) -> tuple[Iterable[str], str]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise DataError(f"cannot read FASTA file {str(path)!r}: {exc.strerror or exc}") from exc
        return io.StringIO(text), str(path)
    return source, getattr(source, "name", "<stream>")


def read_fasta(source: str | os.PathLike[str] | TextIO) -> list[FastaRecord]:
    """Read every record of a FASTA file.

    Parameters
    ----------
    source : path or text stream
        The FASTA file. Lines starting with ``;`` are comments; blank lines are skipped.

    Returns
    -------
    list of FastaRecord
        In file order. Letters are not checked here (see :func:`encode_sequences`).

    Raises
    ------
    DataError
        The file cannot be read, holds no record, has sequence lines before the first header,
        a header without a name, or a record without sequence.

    Examples
    --------
    >>> import io
    >>> read_fasta(io.StringIO(">s1 first\\nACGT\\nAC\\n>s2\\nGGT\\n"))[0]
    FastaRecord(name='s1', description='first', sequence='ACGTAC')
    """
    lines, where = _lines(source)
    records: list[FastaRecord] = []
    name: str | None = None
    description = ""
    chunks: list[str] = []
    header_line = 0

    def finish() -> None:
        if name is None:
            return
        sequence = "".join(chunks)
        if not sequence:
            raise DataError(f"{where}: record {name!r} (line {header_line}) has no sequence")
        records.append(FastaRecord(name, description, sequence))

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            finish()
            words = line[1:].split(maxsplit=1)
            if not words:
                raise DataError(f"{where}: the header on line {number} has no sequence name")
            name = words[0]
            description = words[1] if len(words) > 1 else ""
            chunks = []
            header_line = number
        elif name is None:
            raise DataError(
                f"{where}: line {number} holds sequence data before the first '>' header; "
                "is this a FASTA file?"
            )
        else:
            chunks.append("".join(line.split()))
    finish()
    if not records:
        raise DataError(f"{where}: no FASTA records (the file is empty or has no '>' header)")
    return records


def encode_sequences(
    sequences: Sequence[str],
    alphabet: str | Alphabet = "dna",
    *,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Encode sequences as one padded integer matrix.

    Parameters
    ----------
    sequences : sequence of str
        The sequences (case-insensitive).
    alphabet : {'dna', 'protein'}, str or Alphabet, default='dna'
        Their alphabet.
    names : sequence of str, optional
        Names used in error messages (default: the sequence index).

    Returns
    -------
    codes : ndarray of shape (n_sequences, max_length), dtype int8 (int16 for > 126 letters)
        Letter codes ``0 .. A-1``, ``A`` for the wildcard, ``-1`` (:data:`PAD`) after the end.

    Raises
    ------
    DataError
        No sequences, an empty sequence, or a letter outside the alphabet (the message names
        the sequence, the position and the letter).

    Examples
    --------
    >>> encode_sequences(["ACGTN", "GA"])
    array([[ 0,  1,  2,  3,  4],
           [ 2,  0, -1, -1, -1]], dtype=int8)
    """
    abc = get_alphabet(alphabet)
    if isinstance(sequences, str):
        raise DataError("sequences must be a list of strings, not one string")
    seqs = list(sequences)
    if not seqs:
        raise DataError("no sequences to encode")
    label = list(names) if names is not None else [f"#{i}" for i in range(len(seqs))]
    lengths = np.array([len(s) for s in seqs], dtype=np.intp)
    for i in np.flatnonzero(lengths == 0)[:1]:
        raise DataError(f"sequence {label[i]} is empty")
    joined = "".join(seqs)
    try:
        raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as exc:
        raise DataError(f"non-ASCII character {joined[exc.start]!r} in the sequences") from None
    flat = abc.lookup_table()[raw]
    bad = np.flatnonzero(flat < 0)
    if bad.size:
        where = int(bad[0])
        ends = np.cumsum(lengths)
        i = int(np.searchsorted(ends, where, side="right"))
        position = where - (int(ends[i - 1]) if i else 0)
        wild = f" ({abc.wildcard} as the wildcard)" if abc.wildcard else ""
        raise DataError(
            f"sequence {label[i]}: unknown letter {joined[where]!r} at position {position + 1}; "
            f"the {abc.name} alphabet has {abc.letters}{wild}"
        )
    dtype = np.int8 if abc.size < 127 else np.int16
    codes = np.full((len(seqs), int(lengths.max())), PAD, dtype=dtype)
    codes[np.arange(codes.shape[1]) < lengths[:, None]] = flat
    return codes


def decode(codes: np.ndarray, alphabet: str | Alphabet = "dna") -> list[str]:
    """The strings of a padded code matrix (inverse of :func:`encode_sequences`, upper case)."""
    abc = get_alphabet(alphabet)
    chars = np.array(list(abc.letters + (abc.wildcard[:1] or "?")))
    codes = np.atleast_2d(np.asarray(codes))
    return ["".join(chars[row[row >= 0]]) for row in codes]
