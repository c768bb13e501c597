"""The pieces a report page is made of: figures, tables and sections.

A section builder (see :mod:`emkit.report.sections`) returns a :class:`Section`; the page
(:mod:`emkit.report.html`) only renders what these values hold, so building a section never
depends on HTML, and the same tables are printed in the terminal by ``emkit demo``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emkit.course import IterationTable

__all__ = [
    "Cell",
    "Figure",
    "Section",
    "Skipped",
    "Stopwatch",
    "Table",
    "format_cell",
    "format_seconds",
    "join_sentences",
    "stopwatch",
]


@dataclass(frozen=True)
class Figure:
    """A rendered figure, embedded in the page as a ``data:`` URI.

    Attributes
    ----------
    data : bytes
        The image file (SVG text or PNG bytes).
    mime : str
        ``"image/svg+xml"`` or ``"image/png"``.
    width_px, height_px : int
        Intended display size in CSS pixels (the page never shows it larger).
    alt : str
        What the figure shows, for screen readers and when images are off.
    caption : str
        One or two sentences under the figure: how to read it.
    """

    data: bytes
    mime: str
    width_px: int
    height_px: int
    alt: str
    caption: str = ""


Cell = str | float | int


@dataclass
class Table:
    """A table of numbers (or short strings) with a title and a caption.

    Floats are shown with ``digits`` decimals, NaN as an empty cell.
    """

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""
    digits: int = 4

    @classmethod
    def from_iterations(cls, table: IterationTable) -> Table:
        """The report's form of an :class:`emkit.course.IterationTable` (iteration as int)."""
        rows: list[list[Cell]] = [[int(row[0]), *row[1:]] for row in table.rows]
        return cls(table.title, list(table.columns), rows, table.caption, table.digits)

    def formatted(self) -> list[list[str]]:
        """The cells as strings, as both the page and the terminal show them."""
        return [[format_cell(c, self.digits) for c in row] for row in self.rows]


def format_cell(value: Cell, digits: int = 4) -> str:
    """Format one cell: ints as is, floats with ``digits`` decimals (tiny ones in e-notation)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return ""
    if value == 0 or abs(value) >= 10.0 ** (-min(digits, 3)) or math.isinf(value):
        return f"{value:.{digits}f}"
    return f"{value:.2e}"


@dataclass
class Section:
    """One problem on the page: what is hidden, what EM estimated, how long it took, and
    the figures and tables that show it.

    Attributes
    ----------
    title : str
        Heading, e.g. ``"Two coins: soft vs hard EM"``.
    hidden : str
        One sentence: the hidden variables of the problem.
    estimated : str
        One or two sentences: what EM estimated, with the key numbers.
    seconds : float or None
        Time the EM fits of the section took (not the figures); None when unknown (a saved fit).
    figures, tables : list
        Shown in this order: figures first, then tables.
    notes : list of str
        Further short paragraphs (sources, caveats).
    key : str
        Anchor of the section in the page; set by the registry.
    build_seconds : float or None
        Time to build the whole section, figures included; set by the registry.
    method : str
        What did the estimating, named in the summary ("EM estimated: ...", "EM ran in ...");
        another name only for a course problem solved without EM (the LSH recap).
    """

    title: str
    hidden: str
    estimated: str
    seconds: float | None = None
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key: str = ""
    build_seconds: float | None = None
    method: str = "EM"

    def timing(self) -> str:
        """The "how long it took" sentence."""
        if self.seconds is None:
            return ""
        text = f"{self.method} ran in {format_seconds(self.seconds)}"
        if self.build_seconds is not None:
            text += f"; the section, with its figures, took {format_seconds(self.build_seconds)}"
        return text + "."


@dataclass(frozen=True)
class Skipped:
    """A registered or planned section that could not be built here, and why."""

    key: str
    title: str
    reason: str


def format_seconds(seconds: float) -> str:
    """``0.0021`` -> ``"2.1 ms"``, ``3.4`` -> ``"3.4 s"``, ``75`` -> ``"1 min 15 s"``."""
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 60.0:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


@dataclass
class Stopwatch:
    """Accumulated wall-clock seconds of the blocks timed with :func:`stopwatch`."""

    seconds: float = 0.0


@contextmanager
def stopwatch(watch: Stopwatch | None = None) -> Iterator[Stopwatch]:
    """Time a block (``with stopwatch() as sw: ...; sw.seconds``), adding to ``watch`` if given.

    Use it around the EM fits of a section so that ``Section.seconds`` says how long EM took,
    without the time spent drawing figures.
    """
    watch = Stopwatch() if watch is None else watch
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds += time.perf_counter() - start


def join_sentences(parts: Sequence[str]) -> str:
    """Join sentences with single spaces, skipping empty ones."""
    return " ".join(p.strip() for p in parts if p and p.strip())
