"""``emkit impute``: fill the missing cells of a CSV file from a Gaussian mixture.

The mixture is fitted by exact EM on the observed values (``GaussianMixture(missing='em')``);
each empty / ``NA`` cell becomes its conditional mean given the row's observed values, or a
draw from that conditional with ``--sample``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from emkit.cli._app import SEED_OPTION, UsageError, app, err_console, open_columns
from emkit.io import atomic_write

__all__ = ["impute"]


@app.command()
def impute(
    data: Path = typer.Argument(..., help="CSV file (header row); empty or NA cells are missing."),
    columns: str | None = typer.Option(
        None, "--columns", "-c", help="Comma-separated numeric columns (default: all)."
    ),
    components: int | None = typer.Option(
        None, "-k", "--components", help="Number of components (default: chosen by BIC, 1-5)."
    ),
    covariance: str = typer.Option(
        "full,tied", "--covariance", help="Covariance type(s) to choose from by BIC."
    ),
    sample: bool = typer.Option(
        False, "--sample", help="Draw from the conditional instead of its mean (--seed varies)."
    ),
    seed: int | None = SEED_OPTION,
    max_iter: int = typer.Option(300, "--max-iter", help="Maximum EM iterations."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the filled CSV here (default: stdout)."
    ),
) -> None:
    """Fill the missing cells of a CSV file from a Gaussian mixture fitted by EM."""
    import io

    import numpy as np

    from emkit.models.gaussian_impute import GaussianMixtureImputer

    if data.suffix.lower() != ".csv":
        raise UsageError(f"{str(data)!r}: emkit impute reads a .csv file")
    types = [t.strip() for t in covariance.split(",") if t.strip()]
    names, X = open_columns(data, None if columns is None else columns.split(","), missing=True)
    X = np.asarray(X)
    if not np.isnan(X).any():
        err_console.print("no missing values: the file is written unchanged", style="yellow")
    imputer = GaussianMixtureImputer(
        components,
        covariance_type=types,
        sample_posterior=sample,
        max_iter=max_iter,
        random_state=seed,
    )
    filled = imputer.fit_transform(X)
    buffer = io.StringIO()
    buffer.write(",".join(names) + "\n")
    np.savetxt(buffer, filled, fmt="%.10g", delimiter=",")
    if output is None:
        typer.echo(buffer.getvalue(), nl=False)
        return
    atomic_write(output, buffer.getvalue().encode())
    err_console.print(
        f"{int(np.isnan(X).sum())} missing values filled ({imputer.n_components_} "
        f"{imputer.covariance_type_} components) -> {output}"
    )
