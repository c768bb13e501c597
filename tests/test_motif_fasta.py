"""The FASTA reader and the sequence encoding of emkit.motif."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emkit import DataError, ParameterError
from emkit.motif import DNA, PROTEIN, decode, encode_sequences, get_alphabet, read_fasta

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "motif"


def test_reads_multiline_records_comments_and_descriptions() -> None:
    text = ";comment\n\n>s1 first record\nACGT\nac gt\n>s2\nNNA\n\n"
    records = read_fasta(io.StringIO(text))
    assert [r.name for r in records] == ["s1", "s2"]
    assert records[0].description == "first record"
    assert records[0].sequence == "ACGTacgt"
    assert records[1].sequence == "NNA"


def test_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "x.fa"
    path.write_text(">a\nACGT\n")
    assert read_fasta(path)[0].sequence == "ACGT"
    assert read_fasta(str(path))[0].name == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no FASTA records"),
        ("\n\n  \n", "no FASTA records"),
        ("ACGT\n>a\nACGT\n", "before the first '>' header"),
        (">\nACGT\n", "has no sequence name"),
        (">a\n>b\nACGT\n", "record 'a' (line 1) has no sequence"),
        (">a\nACGT\n>b\n", "record 'b' (line 3) has no sequence"),
    ],
)
def test_bad_fasta_is_a_data_error(text: str, message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        read_fasta(io.StringIO(text))


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read FASTA file"):
        read_fasta(tmp_path / "absent.fa")


def test_encoding_letters_wildcard_padding_and_case() -> None:
    codes = encode_sequences(["ACGTN", "gat"])
    np.testing.assert_array_equal(codes, [[0, 1, 2, 3, 4], [2, 0, 3, -1, -1]])
    assert codes.dtype == np.int8
    assert decode(codes) == ["ACGTN", "GAT"]


def test_unknown_letter_names_sequence_position_and_letter() -> None:
    with pytest.raises(DataError, match=r"sequence s2: unknown letter 'X' at position 3"):
        encode_sequences(["ACGT", "ACXT"], names=["s1", "s2"])
    with pytest.raises(DataError, match="unknown letter 'U'"):
        encode_sequences(["ACGU"])
    with pytest.raises(DataError, match="non-ASCII"):
        encode_sequences(["ACGé"])


@pytest.mark.parametrize(("seqs", "message"), [([], "no sequences"), (["AC", ""], "is empty")])
def test_empty_input_is_a_data_error(seqs: list[str], message: str) -> None:
    with pytest.raises(DataError, match=message):
        encode_sequences(seqs)


def test_one_string_is_not_a_list_of_sequences() -> None:
    with pytest.raises(DataError, match="not one string"):
        encode_sequences("ACGT")  # type: ignore[arg-type]


def test_protein_and_custom_alphabets() -> None:
    codes = encode_sequences(["MKVX"], "protein")
    assert codes.tolist() == [[PROTEIN.letters.index("M"), PROTEIN.letters.index("K"), 17, 20]]
    rna = get_alphabet("ACGU")
    assert rna.size == 4 and rna.complement is None
    assert encode_sequences(["ACGU"], rna).tolist() == [[0, 1, 2, 3]]
    with pytest.raises(DataError, match="unknown letter 'N'"):
        encode_sequences(["ACGN"], rna)  # a custom alphabet has no wildcard


@pytest.mark.parametrize("bad", ["A", "AA", "A1", 3])
def test_bad_alphabets(bad: object) -> None:
    with pytest.raises(ParameterError):
        get_alphabet(bad)  # type: ignore[arg-type]


def test_complement_only_for_dna() -> None:
    np.testing.assert_array_equal(DNA.complement_index, [3, 2, 1, 0])
    with pytest.raises(ParameterError, match="DNA only"):
        _ = PROTEIN.complement_index


@given(st.lists(st.text(alphabet="ACGTNacgtn", min_size=1, max_size=30), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_decode_inverts_encode(seqs: list[str]) -> None:
    codes = encode_sequences(seqs)
    assert codes.shape == (len(seqs), max(map(len, seqs)))
    assert decode(codes) == [s.upper() for s in seqs]
    assert np.all((codes >= 0).sum(axis=1) == [len(s) for s in seqs])


def test_reads_crp0() -> None:
    path = DATA / "crp0.s"
    if not path.exists():
        pytest.skip(f"shared data absent: {path}")
    records = read_fasta(path)
    assert len(records) == 18
    assert records[0].name == "ce1cg" and records[0].description == "17 61"
    assert {len(r.sequence) for r in records} == {105}
    assert encode_sequences([r.sequence for r in records]).shape == (18, 105)
