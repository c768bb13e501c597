"""The HTML report: `emkit demo`'s page, `emkit report FIT.json`, the section registry.

What a browser makes of the pages is tested in ``test_report_browser.py``; here the pages'
content, the registry's behaviour and the command line's errors.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from emkit import BernoulliMixture, BinomialMixture
from emkit.examples.genetic_linkage import GeneticLinkage
from emkit.report import (
    COURSE,
    SECTIONS,
    Page,
    Section,
    SectionContext,
    Skipped,
    Table,
    build_sections,
    register_section,
    render_page,
    stopwatch,
)
from emkit.report import figures as report_figures
from emkit.report.blocks import format_cell, format_seconds
from emkit.report.fit import (
    MODEL_REPORTS,
    load_fit,
    model_report_hook,
    parameter_tables,
    register_model_report,
)
from emkit.report.sections import load_section_modules, missing_requirements
from tests._cli import run_cli as run
from tests._demo import demo_report_dir

DATA_URI = re.compile(r'<img src="data:(image/svg\+xml|image/png);base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def demo_dir() -> Path:
    """`emkit demo` run once for the session, through the real entry point."""
    return demo_report_dir()


@pytest.fixture
def demo_html(demo_dir: Path) -> str:
    return (demo_dir / "report.html").read_text(encoding="utf-8")


@pytest.fixture
def clean_registry() -> Iterator[None]:
    saved_sections, saved_hooks = dict(SECTIONS), dict(MODEL_REPORTS)
    yield
    SECTIONS.clear()
    SECTIONS.update(saved_sections)
    MODEL_REPORTS.clear()
    MODEL_REPORTS.update(saved_hooks)


# -- the demo page ----------------------------------------------------------------------------
def built_keys() -> list[str]:
    """The course keys whose section is registered and whose model is installed here."""
    return [
        key
        for key, _ in COURSE
        if key in SECTIONS and not missing_requirements(SECTIONS[key].requires)
    ]


def test_demo_page_has_every_course_problem_in_order(demo_html: str) -> None:
    ids = re.findall(r'<section id="([^"]+)"', demo_html)
    assert ids == [key for key, _ in COURSE]
    assert {"two-coins", "three-coins", "linkage"} <= set(built_keys())
    for key in built_keys():
        block = demo_html.split(f'<section id="{key}">')[1].split("</section>")[0]
        method = "LSH" if key == "lsh" else "EM"  # the course's one problem without EM
        assert "<b>Hidden:</b>" in block and f"<b>{method} estimated:</b>" in block
        assert re.search(rf"{method} ran in [0-9.]+ (ms|s)", block)
        assert DATA_URI.search(block), f"section {key} has no figure"
        assert "<table" in block


def test_demo_sections_not_in_this_build_are_notes_not_results(demo_html: str) -> None:
    missing = [key for key, _ in COURSE if key not in built_keys()]
    for key in missing:
        block = demo_html.split(f'<section id="{key}" class="skip-box">')[1].split("</section>")[0]
        assert "— skipped: " in block
        assert "<img" not in block and "<table" not in block and "Hidden" not in block
    if "motif" in missing:  # registered, but its model is not installed in this build
        assert "skipped: needs emkit.motif, which is not installed" in demo_html


def test_demo_page_shows_the_published_numbers(demo_html: str) -> None:
    # Do & Batzoglou: soft EM 0.71, 0.58 after one iteration, 0.80, 0.52 after ten; hard 0.80,0.45
    two = demo_html.split('<section id="two-coins">')[1].split("</section>")[0]
    for text in ("(0.71, 0.58) after one", "(0.80, 0.52) after ten", "hard EM (0.80, 0.45)"):
        assert text in two
    for number in ("0.7130", "0.5813", "0.7967", "0.5197", "0.8000", "0.4500"):
        assert f"<td>{number}</td>" in two
    # Li Hang 9.1 and DLR's Table 1
    assert "(0.4064, 0.5368, 0.6432)" in demo_html and "(0.5000, 0.6000, 0.6000)" in demo_html
    assert "θ = 0.626821498" in demo_html and "factor 0.1328" in demo_html


def test_demo_page_is_self_contained(demo_html: str) -> None:
    assert "Content-Security-Policy" in demo_html and "default-src 'none'" in demo_html
    assert "<script" not in demo_html
    assert not re.search(r'(src|href)="(https?:)?//', demo_html)
    assert "url(" not in demo_html
    images = DATA_URI.findall(demo_html)
    assert len(images) == demo_html.count("<img") >= 4
    for mime, payload in images:
        data = base64.b64decode(payload)
        if mime == "image/svg+xml":
            assert data.startswith(b"<?xml") and b"<svg" in data
            # references only inside the image (#id) or to embedded data (rasterised parts)
            for ref in re.findall(rb'href="([^"]*)"', data):
                assert ref.startswith((b"#", b"data:image/png;base64,")), ref[:40]
        else:
            assert data.startswith(b"\x89PNG")


def test_demo_output(demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = demo_dir / "report.html"
    assert report.stat().st_mode & 0o044 == 0o044  # readable by others, like any new file
    assert [p.name for p in demo_dir.iterdir()] == ["report.html"]  # no temporary files left
    code, out, err = run(["demo", "-o", str(tmp_path), "--only", "linkage"], capsys)
    assert code == 0 and err == ""  # no progress display when stderr is no terminal
    assert "0.608247423" in out and f"Report: {tmp_path / 'report.html'}" in out
    assert "1 of 1 problems" in out
    html = (tmp_path / "report.html").read_text()
    assert re.findall(r'<section id="([^"]+)"', html) == ["linkage"]


def test_demo_progress_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from emkit.cli._app import err_console

    monkeypatch.setattr(err_console, "_force_terminal", True)
    code, out, err = run(["demo", "-o", str(tmp_path), "--only", "three-coins"], capsys)
    assert code == 0 and "\x1b[?25l" in err  # a live progress display ran (cursor hidden)
    assert "Three coins" in out and "\x1b[?25l" not in out  # tables on stdout, no control codes
    code, out, err = run(
        ["demo", "-o", str(tmp_path), "--only", "linkage", "--no-progress"], capsys
    )
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "nope"], "unknown section 'nope' for --only"),
        (["--output-dir", "{file}"], "exists and is not a folder"),
    ],
)
def test_demo_bad_input(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    args = [a.replace("{file}", str(a_file)) for a in args]
    if "--output-dir" not in args:
        args += ["--output-dir", str(tmp_path / "out")]
    code, _, err = run(["demo", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and a_file.read_text() == "x"


def test_demo_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(report_figures.MissingDependencyError, match=r"emkit\[plot\]"):
        report_figures.require_matplotlib()
    code, _, err = run(["demo", "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and "pip install 'emkit[plot]'" in err
    assert not (tmp_path / "out").exists()


# -- the registry -----------------------------------------------------------------------------
@pytest.mark.usefixtures("clean_registry")
def test_registry_order_requirements_and_timing() -> None:
    calls: list[SectionContext] = []

    @register_section("extra", "An extra problem")
    def extra(ctx: SectionContext) -> Section:
        calls.append(ctx)
        with stopwatch() as sw:
            pass
        return Section("An extra problem", "nothing", "nothing", seconds=sw.seconds)

    @register_section("gmm", "Gaussian mixture", requires=("emkit_no_such_module", "numpy"))
    def gmm(ctx: SectionContext) -> Section:
        raise AssertionError("must not run without its requirements")

    load_section_modules()  # then take one course problem's builder away
    SECTIONS.pop("topics", None)
    started: list[str] = []
    done: list[Section | Skipped] = []
    ctx = SectionContext(seed=3, quick=True)
    results = build_sections(
        ["gmm", "extra", "topics"],
        ctx,
        on_start=lambda key, title: started.append(key),
        on_done=done.append,
    )
    assert [r.key for r in results] == ["gmm", "topics", "extra"] == started  # page order
    assert done == results
    gmm_result, topics_result, extra_result = results
    assert isinstance(gmm_result, Skipped) and "emkit_no_such_module" in gmm_result.reason
    assert "numpy" not in gmm_result.reason
    assert isinstance(topics_result, Skipped) and "not in this build" in topics_result.reason
    assert isinstance(extra_result, Section) and calls == [ctx]
    assert extra_result.seconds is not None and extra_result.build_seconds is not None
    assert 0 <= extra_result.seconds <= extra_result.build_seconds
    with pytest.raises(ValueError, match="unknown section 'nope'"):
        build_sections(["nope"])


def test_missing_requirements() -> None:
    assert missing_requirements(["numpy", "emkit.models", "emkit.nope.deeper", "no_such"]) == [
        "emkit.nope.deeper",
        "no_such",
    ]


@pytest.mark.usefixtures("clean_registry")
def test_a_new_section_with_a_figure_renders() -> None:
    @report_figures.styled
    def curve(values: np.ndarray) -> report_figures.Figure:
        fig, ax = report_figures.new_figure(4, 2.5)
        ax.plot(values)
        return report_figures.render(fig, alt="a curve", caption="how to read it", fmt="png")

    @register_section("toy", "A toy problem")
    def toy(ctx: SectionContext) -> Section:
        return Section(
            title="A toy problem",
            hidden="h <b>",
            estimated="e",
            seconds=0.5,
            figures=[curve(np.arange(5.0))],
            tables=[Table("T", ["a", "b"], [[1, 0.5], ["x", float("nan")]], caption="c")],
            notes=["n & m"],
        )

    (section,) = build_sections(["toy"])
    assert isinstance(section, Section)
    html = render_page(Page("Toy", "lead", [section]))
    assert html.count('src="data:image/png;base64,') == 1
    assert 'alt="a curve"' in html and "<figcaption>how to read it</figcaption>" in html
    assert "h &lt;b&gt;" in html and "n &amp; m" in html  # text is escaped
    assert '<td class="text">x</td><td></td>' in html  # NaN -> empty, strings left-aligned
    assert "EM ran in 500.0 ms" in html
    fig = section.figures[0]
    assert (fig.width_px, fig.height_px) == (384, 240) and fig.data.startswith(b"\x89PNG")


def test_svg_figures_are_deterministic() -> None:
    a = report_figures.objective_figure([-10.0, -9.0, -8.5, -8.4])
    b = report_figures.objective_figure([-10.0, -9.0, -8.5, -8.4])
    assert a.data == b.data and a.mime == "image/svg+xml"


def test_objective_figure_edge_cases() -> None:
    for history in ([-3.0], [-3.0, -3.0]):  # max_iter=0; a fit already at its fixed point
        assert report_figures.objective_figure(history).data


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(3, 4, "3"), (0.5, 4, "0.5000"), (float("nan"), 4, ""), (1.2e-5, 4, "1.20e-05"),
     (0.0, 2, "0.00"), (-0.0025, 9, "-0.002500000"), ("x", 4, "x")],
)  # fmt: skip
def test_format_cell(value: float | str, digits: int, text: str) -> None:
    assert format_cell(value, digits) == text


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.0021, 3.42, 75.0)] == ["2.1 ms", "3.4 s", "1 min 15 s"]


# -- emkit report FIT.json ----------------------------------------------------------------------
@pytest.fixture
def saved_binomial(tmp_path: Path) -> Path:
    model = BinomialMixture(2, n_trials=10, n_init=3, random_state=0)
    model.fit(np.array([[5], [9], [8], [4], [7]]))
    model.save(tmp_path / "coins")
    return tmp_path / "coins.json"


@pytest.mark.parametrize("given", ["coins", "coins.npz"])
def test_report_accepts_the_base_name_or_the_npz(
    given: str, saved_binomial: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["report", str(saved_binomial.parent / given)], capsys)
    assert code == 0, err
    assert saved_binomial.with_suffix(".html").exists()


def test_report_of_a_saved_fit(saved_binomial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["report", str(saved_binomial)], capsys)
    assert code == 0, err
    target = saved_binomial.with_suffix(".html")
    assert f"Report: {target}" in out
    html = target.read_text()
    model = load_fit(saved_binomial)
    assert ">BinomialMixture: coins.json</h1>" in html
    assert len(DATA_URI.findall(html)) == 2  # objective + the model's own figure
    assert "Parameters per component" in html and "theta[0]" in html
    for value in np.ravel(model.theta_):
        assert f"<td>{value:.6f}</td>" in html
    assert f"{model.n_iter_} iterations" in html
    assert (
        "Hyperparameters" in html
        and '<td class="text">n_trials</td><td class="text">10</td>' in html
    )


@pytest.mark.parametrize("kind", ["bernoulli", "linkage", "hard"])
def test_report_of_other_models(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rng = np.random.RandomState(0)
    if kind == "bernoulli":
        X = (rng.rand(60, 30) < np.where(np.arange(60)[:, None] < 30, 0.8, 0.2)).astype(float)
        model = BernoulliMixture(3, random_state=0, max_iter=50).fit(X)
    elif kind == "linkage":
        model = GeneticLinkage().fit(np.arange(4).reshape(-1, 1), sample_weight=[125, 18, 20, 34])
    else:
        model = BinomialMixture(2, n_trials=10, hard=True, random_state=0).fit([[5], [9], [1]])
    model.save(tmp_path / "m")
    out_file = tmp_path / "page.html"
    code, _, err = run(["report", str(tmp_path / "m.json"), "-o", str(out_file)], capsys)
    assert code == 0, err
    html = out_file.read_text()
    assert "data:image/svg+xml;base64," in html
    if kind == "bernoulli":  # 30 features: too wide for the per-component table
        assert (
            "Parameters per component" in html
            and "theta  (shape (3, 30), shown transposed)" in html
        )
    elif kind == "linkage":
        assert "Scalar parameters" in html and "0.626821" in html
    else:
        assert "classification log-likelihood" in html


def test_parameter_tables_summarise_large_arrays() -> None:
    X = (np.random.RandomState(1).rand(50, 40) < 0.5).astype(float)
    model = BernoulliMixture(20, random_state=0, max_iter=3, tol=1e-2)
    with pytest.warns(Warning):  # not converged in 3 iterations
        model.fit(X)
    tables = parameter_tables(model)
    assert [t.title for t in tables] == [
        "Parameters per component",
        "Larger parameter arrays (summary)",
    ]
    assert tables[1].rows[0][:2] == ["theta", "20×40"]


@pytest.mark.usefixtures("clean_registry")
def test_model_report_hooks_follow_the_class_hierarchy() -> None:
    class Base:
        pass

    class Child(Base):
        pass

    assert model_report_hook(Child()) is None

    @register_model_report(Base)
    def hook(model: Base) -> list[Section]:
        return []

    assert model_report_hook(Child()) is hook
    assert model_report_hook(BinomialMixture()) is not None  # built-in hook


def _bad_files(tmp_path: Path, saved: Path) -> dict[str, tuple[Path, str]]:
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"model": "BinomialMixture", "log_likelihood_history": [1]}))
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x89PNG not json")
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    meta = json.loads(saved.read_text())
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(dict(meta, **{"class": "emkit.nope.Thing"})))
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(dict(meta, **{"class": "os.system"})))
    no_npz = tmp_path / "no_npz.json"
    no_npz.write_text(json.dumps(dict(meta, npz="missing.npz")))
    bad_hyper = tmp_path / "bad_hyper.json"
    bad_hyper.write_text(json.dumps(dict(meta, hyperparameters={"no_such_parameter": 1})))
    return {
        "missing": (tmp_path / "missing.json", "cannot read model file"),
        "directory": (tmp_path, "cannot read model file"),
        "garbage": (garbage, "cannot read model file"),
        "summary": (summary, "it is a fit summary (what -o writes)"),
        "other": (other, "is not an emkit model file"),
        "unknown": (unknown, "unknown model class 'emkit.nope.Thing'"),
        "foreign": (foreign, "unknown model class 'os.system'"),
        "no_npz": (no_npz, "cannot read model arrays"),
        "bad_hyper": (bad_hyper, "is not a valid emkit model file"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "directory", "garbage", "summary", "other", "unknown", "foreign", "no_npz",
     "bad_hyper"],
)  # fmt: skip
def test_report_bad_input_is_one_line_exit_2_and_no_output(
    case: str, saved_binomial: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, message = _bad_files(tmp_path, saved_binomial)[case]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, err = run(["report", str(path), "-o", str(out_dir / "r.html")], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert list(out_dir.iterdir()) == []


def test_report_write_failure_leaves_nothing(
    saved_binomial: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["report", str(saved_binomial), "-o", str(tmp_path / "no" / "r.html")], capsys
    )
    assert code == 2 and "No such file or directory" in err
    assert not (tmp_path / "no").exists()
