"""`emkit motif`: output files, JSON, errors as one line with exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emkit.cli import app, main
from emkit.motif.simulate import conserved_pwm, planted_motif_sequences

runner = CliRunner()
CONSENSUS = "TTGACGCATGAC"


@pytest.fixture
def fasta(tmp_path: Path) -> Path:
    data = planted_motif_sequences(20, 80, conserved_pwm(CONSENSUS, 0.95), random_state=3)
    path = tmp_path / "seqs.fa"
    path.write_text(
        "".join(f">s{i} planted\n{s[:40]}\n{s[40:]}\n" for i, s in enumerate(data.sequences))
    )
    return path


def _run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["emkit", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0)


def test_json_meme_and_logo_outputs(fasta: Path, tmp_path: Path) -> None:
    out, meme, logo = tmp_path / "m.json", tmp_path / "m.meme", tmp_path / "logo.png"
    result = runner.invoke(
        app,
        [
            "motif",
            str(fasta),
            "-w",
            "12",
            "--model",
            "oops",
            "--nmotifs",
            "2",
            "--seed",
            "0",
            "-o",
            str(out),
            "--meme",
            str(meme),
            "--logo",
            str(logo),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "MOTIF 1 TTGACGCATGAC" in result.output
    payload = json.loads(out.read_text())
    first = payload["motifs"][0]
    assert first["consensus"] == CONSENSUS and first["nsites"] == 20
    assert payload["n_sequences"] == 20 and len(payload["motifs"]) == 2
    assert first["sites"][0]["sequence"] == "s0"
    assert meme.read_text().count("MOTIF ") == 2
    assert logo.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_on_stdout_with_revcomp(fasta: Path) -> None:
    result = runner.invoke(
        app,
        [
            "motif",
            str(fasta),
            "-w",
            "12",
            "--revcomp",
            "--json",
            "--seed",
            "1",
            "--n-starts",
            "300",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["motifs"][0]["strands"] == "+ -"
    assert payload["motifs"][0]["consensus"] in (CONSENSUS, "GTCATGCGTCAA")


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("", [], "no FASTA records"),
        (
            ">a\nACGTACGT\n>b\nACG\n",
            ["-w", "4"],
            "sequence 'b' has length 3, shorter than the motif width 4",
        ),
        (">a\nACGTZCGT\n", ["-w", "4"], "sequence a: unknown letter 'Z' at position 5"),
        (">a\nACGTACGT\n", ["-w", "1"], "--width must be at least 2"),
        (">a\nACGTACGT\n", ["-w", "3", "--model", "tcm"], "--model must be oops or zoops"),
        (">a\nMKVWMKVW\n", ["-w", "3", "--alphabet", "protein", "--revcomp"], "DNA only"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "bad.fa"
    path.write_text(content)
    out = tmp_path / "out.json"
    code = _run_main(monkeypatch, "motif", str(path), *args, "-o", str(out), "--no-progress")
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1, err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no half-written files


def test_missing_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _run_main(monkeypatch, "motif", str(tmp_path / "absent.fa")) == 2
    assert "cannot read FASTA file" in capsys.readouterr().err
