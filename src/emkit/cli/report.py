"""``emkit report FIT.json``: an HTML page for a model saved with ``emkit.save``."""

from __future__ import annotations

from pathlib import Path

import typer

from emkit.cli._app import app, console

__all__ = ["report"]


@app.command()
def report(
    fit: Path = typer.Argument(
        ..., help="A saved model: PATH (or PATH.json) from emkit.save or --save-model PATH."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="The HTML file to write (default: FIT with suffix .html)."
    ),
) -> None:
    """Build a self-contained HTML page for a saved fit: objective per iteration, parameters,
    and the model's own figures."""
    from emkit.report.figures import require_matplotlib
    from emkit.report.fit import fit_json_path, fit_page, load_fit
    from emkit.report.html import write_page

    require_matplotlib()
    model = load_fit(fit)
    page = fit_page(model, str(fit))
    target = output if output is not None else fit_json_path(fit).with_suffix(".html")
    write_page(target, page)
    console.print(f"Report: {target}", highlight=False, soft_wrap=True)
