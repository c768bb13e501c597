"""``emkit demo``: the course's problems on bundled data."""

from __future__ import annotations

import time

from rich.table import Table

from emkit.cli._app import app, console
from emkit.course import IterationTable, dlr_linkage_table, three_coins_table, two_coins_table

__all__ = ["demo"]


def _render(table: IterationTable, seconds: float) -> Table:
    out = Table(title=table.title, caption=f"{table.caption}  ({seconds * 1e3:.1f} ms)")
    for name in table.columns:
        out.add_column(name, justify="right")
    for row in table.rows:
        cells = [str(int(row[0]))]
        for value in row[1:]:
            if value != value:  # NaN: nothing to show
                cells.append("")
            elif value == 0 or abs(value) >= 1e-3:
                cells.append(f"{value:.{table.digits}f}")
            else:
                cells.append(f"{value:.2e}")
        out.add_row(*cells)
    return out


@app.command()
def demo() -> None:
    """Run the course's worked examples on bundled data and print their iteration tables."""
    builders = [
        lambda: two_coins_table(hard=False),
        lambda: two_coins_table(hard=True, n_iter=3),
        lambda: three_coins_table((0.5, 0.5, 0.5)),
        lambda: three_coins_table((0.4, 0.6, 0.7)),
        dlr_linkage_table,
    ]
    for build in builders:
        start = time.perf_counter()
        table = build()
        console.print(_render(table, time.perf_counter() - start))
        console.print()
