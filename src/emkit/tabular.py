"""Reading numeric columns from CSV files, with errors that name the file, row and column."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emkit.exceptions import DataError

__all__ = ["read_numeric_csv"]


#: cells read as a missing value with ``missing=True``
_MISSING_CELLS = frozenset({"", "na", "nan", "n/a", "?", "null"})


def read_numeric_csv(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    *,
    missing: bool = False,
) -> tuple[list[str], np.ndarray]:
    """Read numeric columns of a CSV file with a header row.

    Parameters
    ----------
    path : path-like
        The CSV file.
    columns : sequence of str, optional
        Columns to read, in this order; all columns if None.
    missing : bool, default=False
        Read an empty cell, ``NA``, ``NaN`` or ``?`` as a missing value (NaN) instead of
        rejecting it.

    Returns
    -------
    names : list of str
    values : ndarray of shape (n_rows, len(names)), float64

    Raises
    ------
    DataError
        Unreadable or empty file, unknown column, or a value that is not a finite number.
    """
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{str(path)!r} is empty: expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    names = list(header) if columns is None else list(columns)
    unknown = [c for c in names if c not in header]
    if unknown:
        raise DataError(
            f"unknown column {unknown[0]!r} in {str(path)!r}; available columns: {header}"
        )
    index = [header.index(c) for c in names]
    data = rows[1:]
    if not data:
        raise DataError(f"{str(path)!r} has a header but no data rows")
    values = np.empty((len(data), len(index)), dtype=np.float64)
    for i, row in enumerate(data):
        if len(row) != len(header):
            raise DataError(
                f"{str(path)!r} line {i + 2}: {len(row)} fields, the header has {len(header)}"
            )
        for j, col in enumerate(index):
            cell = row[col].strip()
            if missing and cell.lower() in _MISSING_CELLS:
                values[i, j] = np.nan
                continue
            try:
                values[i, j] = float(cell)
            except ValueError:
                hint = (
                    " (a missing value: emkit gmm --missing em and emkit impute accept them)"
                    if cell.lower() in _MISSING_CELLS
                    else ""
                )
                raise DataError(
                    f"{str(path)!r} line {i + 2}, column {names[j]!r}: {cell!r} is not a "
                    f"number{hint}"
                ) from None
            if not np.isfinite(values[i, j]):
                raise DataError(
                    f"{str(path)!r} line {i + 2}, column {names[j]!r}: {cell!r} is not finite"
                )
    return names, values
