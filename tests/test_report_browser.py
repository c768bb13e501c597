"""The report pages in a real browser: headless Chromium, driven over the DevTools protocol.

Every figure must load (decoded, non-zero size, not shrunk), the console must stay free of
errors (a blocked network request, a broken image or a script error all show there), and the
page must fit a laptop screen without sideways scrolling. ``make test`` installs Debian's
chromium when it is missing and it can (root with apt-get); elsewhere this module is skipped,
saying why. ``EMKIT_CHROMIUM=/path/to/chrome`` picks another binary.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from emkit import BinomialMixture
from emkit.cli import main
from emkit.report import COURSE
from tests._chromium import PageReport, find_chromium, open_page
from tests._demo import demo_report_dir
from tests._gallery import gallery_page
from tests.test_report import built_keys

CHROMIUM = find_chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed, so the report cannot be rendered: `make test` installs "
    "Debian's chromium when run as root with apt-get (`apt-get install chromium`); or set "
    "EMKIT_CHROMIUM to a Chromium/Chrome binary",
)


def _emkit(*args: str) -> None:
    old = sys.argv
    sys.argv = ["emkit", *args]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, f"emkit {' '.join(args)} exited with {exc.code}"
    finally:
        sys.argv = old


def _check_page(report: PageReport, html: str, min_images: int) -> None:
    assert report.errors == []
    assert len(report.images) == html.count("<img") >= min_images
    for image in report.images:
        assert image["complete"] and image["naturalWidth"] > 0 and image["naturalHeight"] > 0, (
            f"figure not loaded: {image['alt']}"
        )
        assert image["src"].startswith("data:image/")
        # shown at the size it was drawn (unless the column is narrower): its text stays legible
        assert image["width"] >= 0.98 * min(image["drawnWidth"], image["boxWidth"])
        assert image["width"] <= image["drawnWidth"] + 0.5  # never blown up either
    assert report.scroll_width <= report.client_width  # no sideways scrolling
    assert report.font_size >= 15


@pytest.fixture
def demo_report() -> Path:
    return demo_report_dir() / "report.html"


@pytest.mark.parametrize("width", [1366, 1280])
def test_demo_report_renders_in_chromium(demo_report: Path, width: int) -> None:
    assert CHROMIUM is not None
    html = demo_report.read_text()
    report = open_page(demo_report, CHROMIUM, width=width)
    _check_page(report, html, min_images=4)
    assert report.title == "EM at work: the course's problems"
    assert report.sections == len(COURSE)
    # what a reader sees: the three problems with their summaries and numbers
    built = len(built_keys())
    assert report.text.count("Hidden:") == built
    assert len(re.findall(r"\b(EM|LSH) estimated:", report.text)) == built
    assert "(0.80, 0.52) after ten" in report.text and "0.626821498" in report.text
    assert len(re.findall(r"— skipped: ", report.text)) == len(COURSE) - built


def test_fit_report_renders_in_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    model = BinomialMixture(3, n_trials=20, random_state=0, n_init=2)
    rng = np.random.RandomState(0)
    model.fit(rng.binomial(20, rng.choice([0.2, 0.5, 0.9], size=(200, 4))))
    model.save(tmp_path / "fit")
    _emkit("report", str(tmp_path / "fit.json"), "-o", str(tmp_path / "fit.html"))
    page = tmp_path / "fit.html"
    report = open_page(page, CHROMIUM)
    _check_page(report, page.read_text(), min_images=2)
    assert "Parameters per component" in report.text


def test_model_figures_render_in_chromium(tmp_path: Path) -> None:
    """The figures that the other course problems' sections will use load in a browser too."""
    assert CHROMIUM is not None
    from emkit.report.html import write_page

    page = write_page(tmp_path / "gallery.html", gallery_page())
    report = open_page(page, CHROMIUM)
    _check_page(report, page.read_text(), min_images=7)


def test_the_check_sees_broken_pages(tmp_path: Path) -> None:
    """The browser check is not vacuous: broken images and blocked requests are caught."""
    assert CHROMIUM is not None
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'img-src data:"><title>bad</title></head><body>'
        '<img src="data:image/png;base64,AAAA" alt="corrupt">'
        '<img src="https://example.invalid/x.png" alt="remote">'
        "</body></html>"
    )
    report = open_page(page, CHROMIUM)
    assert [i["naturalWidth"] for i in report.images] == [0, 0]
    assert any("Content Security Policy" in e for e in report.errors)


def test_topic_model_report_renders_in_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    from emkit.datasets.themes import two_themes
    from emkit.models import MultinomialMixture
    from emkit.text import build_corpus

    corpus = build_corpus(two_themes().texts, stop_words="english")
    MultinomialMixture(2, n_init=2, random_state=0).fit(corpus.X).save(tmp_path / "topics")
    _emkit("report", str(tmp_path / "topics.json"), "-o", str(tmp_path / "topics.html"))
    page = tmp_path / "topics.html"
    report = open_page(page, CHROMIUM)
    _check_page(report, page.read_text(), min_images=2)
    assert "most probable words" in report.text
