"""HTML reports: ``emkit demo``'s page of the course's problems and ``emkit report FIT.json``.

- :mod:`emkit.report.blocks`: the values a page is made of (:class:`Section`, :class:`Figure`,
  :class:`Table`, :class:`Skipped`);
- :mod:`emkit.report.sections`: the registry of the demo's section builders, and the coin
  problems' sections (``docs/report.md`` says how to add one for a new model);
- :mod:`emkit.report.figures`: matplotlib figures (optional dependency: ``emkit[plot]``);
- :mod:`emkit.report.html`: one static, self-contained HTML page;
- :mod:`emkit.report.fit`: the page for a saved fit, with per-model hooks.

Importing this package does not import matplotlib.
"""

from emkit.report.blocks import Figure, Section, Skipped, Table, stopwatch
from emkit.report.html import Page, render_page
from emkit.report.sections import (
    COURSE,
    SECTIONS,
    SectionContext,
    SectionSpec,
    build_sections,
    register_section,
)

__all__ = [
    "COURSE",
    "SECTIONS",
    "Figure",
    "Page",
    "Section",
    "SectionContext",
    "SectionSpec",
    "Skipped",
    "Table",
    "build_sections",
    "demo_page",
    "register_section",
    "render_page",
    "stopwatch",
]


def demo_page(sections: list[Section | Skipped], total_seconds: float) -> Page:
    """The ``emkit demo`` page around already-built sections."""
    import platform
    from datetime import datetime, timezone

    import numpy as np

    from emkit._version import __version__
    from emkit.report.blocks import format_seconds

    built = sum(isinstance(s, Section) for s in sections)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Page(
        title="EM at work: the course's problems",
        lead="Each section below is one problem of the course, run by emkit's EM engine on the "
        "bundled data: what is hidden, what EM estimated and how long it took, then figures and "
        "the iteration tables. Every number on this page was computed when the page was made.",
        sections=sections,
        meta=[
            f"emkit {__version__}",
            f"{built} of {len(sections)} problems shown",
            f"built in {format_seconds(total_seconds)}",
            f"generated {stamp}",
            f"Python {platform.python_version()}, NumPy {np.__version__}",
        ],
        footer="Made by `emkit demo`. Self-contained: figures are embedded, nothing is loaded "
        "from the network. Sections marked skipped need a model this installation lacks.",
    )
