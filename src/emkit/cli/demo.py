"""``emkit demo``: the course's problems on bundled data, as iteration tables and an HTML report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table as RichTable

from emkit.cli._app import UsageError, app, console, err_console

if TYPE_CHECKING:
    from emkit.report.blocks import Section, Skipped, Table

__all__ = ["demo", "render_table"]


def render_table(table: Table) -> RichTable:
    """A report table for the terminal."""
    out = RichTable(
        title=escape(table.title),
        caption=escape(table.caption) or None,
        box=box.SIMPLE_HEAD,  # light rules: nine numeric columns fit 80 characters
        collapse_padding=True,
        pad_edge=False,
    )
    for name in table.columns:
        out.add_column(escape(name), justify="right")
    for row in table.formatted():
        out.add_row(*(escape(cell) for cell in row))
    return out


class _Progress:
    """The demo's progress display on stderr: one step per section (silent when no terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=not (enabled and err_console.is_terminal),
            transient=True,
        )
        self.task = self.progress.add_task("emkit demo", total=total)
        self.title = ""

    def _describe(self, text: str) -> None:
        short = text if len(text) <= 56 else text[:55] + "…"
        self.progress.update(self.task, description=short)

    def start(self, key: str, title: str) -> None:
        self.title = title
        self._describe(title)

    def status(self, message: str) -> None:
        self._describe(f"{self.title}: {message}")

    def done(self, _result: Section | Skipped) -> None:
        self.progress.advance(self.task)

    @contextmanager
    def running(self) -> Iterator[_Progress]:
        with self.progress:
            yield self


@app.command()
def demo(
    output_dir: Path = typer.Option(
        Path("emkit-demo"), "--output-dir", "-o", help="Folder for report.html (created)."
    ),
    only: list[str] | None = typer.Option(
        None, "--only", help="Only this section (repeatable), e.g. --only two-coins."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Smaller data and fewer iterations, for a fast check."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the sections that draw random numbers."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress on stderr."),
) -> None:
    """Run the course's problems on bundled data: iteration tables here, figures in
    OUTPUT_DIR/report.html (one self-contained page)."""
    from emkit.report import demo_page
    from emkit.report.blocks import Section, Skipped, format_seconds
    from emkit.report.figures import require_matplotlib
    from emkit.report.html import write_page
    from emkit.report.sections import SectionContext, build_sections, planned_keys

    require_matplotlib()
    if output_dir.exists() and not output_dir.is_dir():  # fail before the work, not after
        raise UsageError(f"--output-dir {str(output_dir)!r} exists and is not a folder")
    keys = planned_keys()
    if only:
        unknown = [k for k in only if k not in keys]
        if unknown:
            raise UsageError(f"unknown section {unknown[0]!r} for --only; known: {', '.join(keys)}")
    display = _Progress(len(only) if only else len(keys), progress)
    start = time.perf_counter()
    with display.running():
        sections = build_sections(
            only or None,
            SectionContext(seed=seed, quick=quick, status=display.status),
            on_start=display.start,
            on_done=display.done,
        )
    total = time.perf_counter() - start
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / "report.html"
    write_page(target, demo_page(sections, total))

    for section in sections:
        if isinstance(section, Skipped):
            console.print(f"[dim]{escape(section.title)} — skipped: {escape(section.reason)}[/dim]")
            continue
        for table in section.tables:
            console.print(render_table(table))
            console.print()
        console.print(f"[dim]{escape(section.title)}: {escape(section.timing())}[/dim]")
        console.print()
    shown = sum(isinstance(s, Section) for s in sections)
    console.print(
        f"Report: {target}  ({shown} of {len(sections)} problems, {format_seconds(total)})",
        highlight=False,
        soft_wrap=True,
    )
