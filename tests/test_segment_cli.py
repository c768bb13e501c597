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


def _batch_folder(tmp_path: Path, picture: Path) -> Path:
    """A folder of three images: the shape twice (one flipped) and one unreadable file."""
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(picture.read_bytes())
    Image.open(picture).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "b.png")
    (folder / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return folder


def test_segment_many_images_in_one_call(
    picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _batch_folder(tmp_path, picture)
    x, y, w, h = RECT
    width = _shape().shape[1]
    rects = tmp_path / "rects.csv"
    flipped = f"{width - x - w},{y},{w},{h}"
    rects.write_text(f"image,x,y,width,height\na.png,{x},{y},{w},{h}\nb,{flipped}\nc.png,0,0,5,5\n")
    out_dir = tmp_path / "masks"
    code, out, err = run(
        [
            "segment",
            str(folder),
            "--rect-file",
            str(rects),
            "-o",
            str(out_dir),
            "-k",
            "2",
            "--json",
        ],
        capsys,
    )
    # the unreadable image is reported, the others are still segmented, the exit code says so
    assert code == 2
    assert "c.png" in err and "1 of 3 images failed" in err
    summaries = json.loads(out)
    assert [Path(s["image"]).name for s in summaries] == ["a.png", "b.png", "c.png"]
    assert "error" in summaries[2] and not (out_dir / "c.png").exists()
    truth = _shape()
    for name, expected in (("a", truth), ("b", truth[:, ::-1])):
        m = np.asarray(Image.open(out_dir / f"{name}.png"))
        assert np.mean((m == 255) != expected) < 0.01
    # the batch gives each image the mask a single call gives it
    single = tmp_path / "single.png"
    code, _, err = run(
        ["segment", str(folder / "b.png"), "--rect", flipped, "-o", str(single), "-k", "2"],
        capsys,
    )
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(single)), np.asarray(Image.open(out_dir / "b.png")))


def test_segment_glob_and_per_image_lines(
    picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _batch_folder(tmp_path, picture)
    (folder / "c.png").unlink()
    code, out, err = run(
        [
            "segment",
            str(folder / "*.png"),
            "--rect",
            ",".join(map(str, RECT)),
            "-o",
            str(tmp_path / "out"),
            "-k",
            "2",
            "--mrf",
            "none",
        ],
        capsys,
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all("% foreground" in line for line in lines)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rect", "1,2,3,4", "--rect-file", "r.csv"], "not both"),
        (["--hint", "h.png"], "one image"),
    ],
)
def test_segment_batch_usage_errors(
    picture: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    args = ["segment", str(picture), str(picture), "-o", str(tmp_path / "o"), *extra]
    code, _, err = run(args, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_segment_no_matching_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["segment", str(tmp_path / "*.png"), "-o", str(tmp_path / "o")], capsys)
    assert code == 2 and "no file matches" in err
