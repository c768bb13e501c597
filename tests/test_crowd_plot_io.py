"""Figures of the crowd models (Agg backend) and the long-format reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emkit import DataError
from emkit.crowd import ContinuousAnnotators, DawidSkene, course_demo, read_answers

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_scores_and_annotator_figures(tmp_path: Path) -> None:
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    from emkit.crowd.plot import plot_annotators, plot_scores

    answers, truth, _good = course_demo(random_state=0)
    m = ContinuousAnnotators(low=0.0, high=1.0).fit(answers)
    fig = plot_scores(m, truth)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    # the lecture's colours: green = true, red = estimate
    assert to_rgba(lines["true"].get_color()) == to_rgba("green")
    np.testing.assert_allclose(lines["true"].get_ydata(), truth)
    red = next(c for c in ax.containers if c.get_label() == "estimate")
    assert to_rgba(red.lines[0].get_color()) == to_rgba("red")
    np.testing.assert_allclose(red.lines[0].get_ydata(), m.mu_)
    fig.savefig(tmp_path / "scores.png")
    assert (tmp_path / "scores.png").stat().st_size > 1000
    bars = plot_annotators(m).axes[0].patches
    np.testing.assert_allclose([b.get_height() for b in bars], m.p_good_)
    with pytest.raises(ValueError, match="20 tasks"):
        plot_scores(m, truth[:3])


def test_worker_skill_figure() -> None:
    from emkit.crowd.plot import plot_worker_skill

    data = np.array([[t, w, (t + (w == 3)) % 2] for t in range(10) for w in range(4)], float)
    fig = plot_worker_skill(DawidSkene().fit(data))
    assert len(fig.axes[0].get_lines()[0].get_ydata()) == 4


def test_read_answers_forms(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"task": ["b", "a", "b"], "worker": [3, 1, 1], "label": ["x", "y", "x"]})
    a = read_answers(df)
    assert a.tasks.tolist() == ["a", "b"] and a.task.tolist() == [1, 0, 1]
    assert a.workers.tolist() == [1, 3] and a.classes.tolist() == ["x", "y"]
    assert a.task.dtype == np.int32
    tsv = tmp_path / "a.tsv"
    df.to_csv(tsv, sep="\t", index=False)
    assert read_answers(tsv).tasks.tolist() == ["a", "b"]
    arr = read_answers(np.array([[5.0, 2.0, 0.5], [7.0, 2.0, 0.25]]), kind="score")
    assert arr.tasks.tolist() == [5, 7] and arr.value.tolist() == [0.5, 0.25]
    with_classes = read_answers(df, classes=["z"])
    assert with_classes.classes.tolist() == ["x", "y", "z"]
    numeric = read_answers(np.array([[0, 0, 1], [1, 0, 0]]), classes=[2])
    assert numeric.classes.tolist() == [0, 1, 2]
    with pytest.raises(DataError, match="kind"):
        read_answers(df, kind="text")
    with pytest.raises(DataError, match="no such file"):
        read_answers(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="not a finite number"):
        read_answers(np.array([[0, 0, np.inf]]), kind="score")


def test_course_example_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "examples" / "course_annotators.py"
    spec = importlib.util.spec_from_file_location("course_annotators", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    out = capsys.readouterr().out
    assert "annotator 0: P(good) = 1.0000  (good)" in out
    assert (tmp_path / "course_scores.png").exists()
    assert (tmp_path / "course_annotators.png").exists()
