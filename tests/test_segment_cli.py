"""``emkit segment`` through the real entry point: outputs, JSON, exit codes, no partial files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("maxflow")

from PIL import Image

from tests._cli import run_cli as run
from tests.test_segment import RECT, _paint, _shape


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "shape.png"
    Image.fromarray((_paint(_shape(), 0.05) * 255).round().astype(np.uint8)).save(path)
    return path


def test_segment_writes_mask_overlay_and_probability(
    picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mask, over, proba = tmp_path / "m.png", tmp_path / "o.png", tmp_path / "p.png"
    rect = ",".join(map(str, RECT))
    code, out, err = run(
        [
            "segment",
            str(picture),
            "--rect",
            rect,
            "-o",
            str(mask),
            "--overlay",
            str(over),
            "--proba",
            str(proba),
            "-k",
            "2",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads(out)
    truth = _shape()
    m = np.asarray(Image.open(mask))
    assert m.shape == truth.shape and set(np.unique(m)) <= {0, 255}
    assert np.mean((m == 255) != truth) < 0.01
    assert summary["foreground_fraction"] == pytest.approx(truth.mean(), abs=0.01)
    assert np.asarray(Image.open(over)).shape == (*truth.shape, 3)
    p = np.asarray(Image.open(proba))
    assert p.dtype == np.uint8 and np.array_equal(p > 127, m == 255)
    assert not list(tmp_path.glob(".*.tmp"))


def test_segment_unsupervised_and_meanfield(
    picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mask = tmp_path / "m.png"
    code, out, err = run(
        ["segment", str(picture), "-o", str(mask), "--mrf", "meanfield", "-k", "2"], capsys
    )
    assert code == 0, err
    assert "foreground" in out
    m = np.asarray(Image.open(mask)) == 255
    assert np.mean(m != _shape()) < 0.01


def test_segment_with_hint_file(
    picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hint = np.full(_shape().shape, 128, np.uint8)
    hint[:3] = 0
    hint[40:50, 55:65] = 255
    Image.fromarray(hint).save(tmp_path / "hint.png")
    code, _, err = run(
        [
            "segment",
            str(picture),
            "--hint",
            str(tmp_path / "hint.png"),
            "-o",
            str(tmp_path / "m.png"),
        ],
        capsys,
    )
    assert code == 0, err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rect", "1,2,3"], "four integers"),
        (["--rect", "500,500,10,10"], "outside"),
        (["--rect", "a,b,c,d"], "four integers"),
        (["--mrf", "icm"], "--mrf"),
    ],
)
def test_segment_bad_options_exit_2(
    picture: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    out_path = tmp_path / "m.png"
    code, _, err = run(["segment", str(picture), "-o", str(out_path), *extra], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out_path.exists()


def test_segment_bad_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    for path, message in [(tmp_path / "nope.png", "does not exist"), (bad, "")]:
        out_path = tmp_path / "m.png"
        code, _, err = run(["segment", str(path), "-o", str(out_path)], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
        assert not out_path.exists()
