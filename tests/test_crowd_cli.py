"""``emkit annotators`` and ``emkit labels``, through the real entry point (exit codes, files)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from emkit.cli import main
from emkit.crowd import course_demo

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable:
    """Run ``emkit ARGS`` in-process through the real entry point (error boundary included)."""

    def invoke(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["emkit", *args])
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


@pytest.fixture
def scores(tmp_path: Path) -> tuple[Path, Path]:
    answers, truth, _ = course_demo(random_state=0)
    df = pd.DataFrame(
        {
            "image": [f"img{int(t)}" for t in answers[:, 0]],
            "rater": [f"r{int(w)}" for w in answers[:, 1]],
            "value": answers[:, 2],
        }
    )
    path = tmp_path / "scores.csv"
    df.to_csv(path, index=False)
    truth_path = tmp_path / "truth.csv"
    pd.DataFrame({"image": [f"img{i}" for i in range(20)], "true": truth}).to_csv(
        truth_path, index=False
    )
    return path, truth_path


@pytest.fixture
def labels(tmp_path: Path) -> tuple[Path, Path]:
    rows = []
    truth = {f"q{i}": "y" if i % 3 else "n" for i in range(12)}
    for t, y in truth.items():
        rows += [(t, w, y) for w in ("a", "b", "c")] + [(t, "spam", "n")]
    path = tmp_path / "answers.csv"
    pd.DataFrame(rows, columns=["question", "who", "answer"]).to_csv(path, index=False)
    truth_path = tmp_path / "gold.csv"
    pd.DataFrame({"q": list(truth), "truth": list(truth.values())}).to_csv(truth_path, index=False)
    return path, truth_path


def test_annotators_end_to_end(run: Callable, scores: tuple[Path, Path], tmp_path: Path) -> None:
    path, truth = scores
    out, workers, plots = tmp_path / "est.csv", tmp_path / "workers.csv", tmp_path / "plots"
    names = ["--task", "image", "--worker", "rater", "--score", "value"]
    result = run(
        "annotators",
        str(path),
        *names,
        "--low",
        "0",
        "--high",
        "1",
        "--truth",
        str(truth),
        "-o",
        str(out),
        "--workers-output",
        str(workers),
        "--plot",
        str(plots),
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["model"] == "course" and summary["n_tasks"] == 20
    assert summary["mae"] < 0.5 * summary["mae_mean_of_answers"]
    estimates = pd.read_csv(out)
    assert list(estimates.columns) == ["image", "estimate", "std_error"] and len(estimates) == 20
    report = pd.read_csv(workers)
    assert report.set_index("rater")["p_good"].gt(0.5).to_dict() == {
        "r0": True,
        "r1": True,
        "r2": False,
        "r3": True,
        "r4": False,
    }
    assert (plots / "scores.png").stat().st_size > 1000
    assert (plots / "annotators.png").stat().st_size > 1000
    auto = run("annotators", str(path), *names, "--model", "auto", "--no-progress", cwd=tmp_path)
    assert auto.returncode == 0, auto.stderr
    assert "annotators" in auto.stdout


def test_labels_end_to_end(run: Callable, labels: tuple[Path, Path], tmp_path: Path) -> None:
    path, gold = labels
    out = tmp_path / "labels.csv"
    names = ["--task", "question", "--worker", "who", "--label", "answer"]
    for method in ("dawid-skene", "one-coin", "majority", "glad", "mace", "auto"):
        result = run(
            "labels",
            str(path),
            *names,
            "--method",
            method,
            "--truth",
            str(gold),
            "--json",
            "-o",
            str(out),
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["accuracy"] == 1.0, method
        if method == "auto":  # the choice and the agreement of every method it tried
            assert summary["method"] in summary["held_out_agreement"]
            assert set(summary["held_out_agreement"]) == {
                "majority",
                "one-coin",
                "dawid-skene",
                "glad",
                "mace",
            }
        else:
            assert summary["method"] == method
        table = pd.read_csv(out)
        assert list(table.columns[:2]) == ["question", "label"] and len(table) == 12
    shown = run("labels", str(path), *names, "--plot", str(tmp_path / "p"), cwd=tmp_path)
    assert shown.returncode == 0 and "accuracy:" not in shown.stdout
    assert (tmp_path / "p" / "workers.png").exists()


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "empty"),
        ("task,worker,score\n", "0 rows"),
        ("task,worker,score\n1,a,0.5\n2,b,oops\n", "not a number"),
        ("task,worker,value\n1,a,0.5\n", "unknown column 'score'"),
        ('task,worker,score\n1,a,0.5,7\n"2,b\n', "cannot read"),
    ],
)
def test_annotators_bad_input(run: Callable, content: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    out = tmp_path / "out.csv"
    result = run("annotators", str(path), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_labels_bad_options(run: Callable, labels: tuple[Path, Path], tmp_path: Path) -> None:
    path, _ = labels
    result = run("labels", str(path), "--task", "nope", cwd=tmp_path)
    assert result.returncode == 2 and "unknown column 'nope'" in result.stderr
    result = run("labels", str(path), "--method", "spectral", cwd=tmp_path)
    assert result.returncode == 2 and "unknown --method" in result.stderr
    missing = run("labels", str(tmp_path / "missing.csv"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    result = run(
        "labels",
        str(path),
        "--task",
        "question",
        "--worker",
        "who",
        "--label",
        "answer",
        "-o",
        str(tmp_path / "nowhere" / "x.csv"),
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "does not exist" in result.stderr
