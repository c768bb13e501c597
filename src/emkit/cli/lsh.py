"""``emkit lsh build`` and ``emkit lsh query``: random-projection LSH from the command line.

Vectors are read from ``.npy`` files (a 2-D numeric array) or from CSV files (optionally
gzipped; a header row is detected when its cells are not all numbers).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from emkit._files import atomic_write
from emkit.cli._app import UsageError, app, console, emit_json
from emkit.exceptions import DataError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["lsh_app", "read_vectors"]

lsh_app = typer.Typer(
    help="Nearest neighbours by random-projection LSH: build an index, query it.",
    no_args_is_help=True,
)
app.add_typer(lsh_app, name="lsh")

_COLUMNS = typer.Option(
    None,
    "--columns",
    "-c",
    help="Columns to use: comma-separated names (with a header) or 0-based indices / ranges "
    "like 0:64 (default: all).",
)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _select_columns(spec: str | None, header: list[str] | None, width: int) -> list[int]:
    if spec is None:
        return list(range(width))
    chosen: list[int] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if header is not None and part in header:
            chosen.append(header.index(part))
        elif ":" in part:
            lo, _, hi = part.partition(":")
            try:
                chosen.extend(range(width)[slice(int(lo) if lo else None, int(hi) if hi else None)])
            except ValueError:
                raise UsageError(f"bad column range {part!r}: expected START:STOP") from None
        elif part.lstrip("-").isdigit() and -width <= int(part) < width:
            chosen.append(int(part) % width)
        else:
            known = f"; columns: {header}" if header is not None else f" (0..{width - 1})"
            raise UsageError(f"unknown column {part!r}{known}")
    if not chosen:
        raise UsageError(f"--columns {spec!r} selects no column")
    return chosen


def read_vectors(path: Path, columns: str | None = None) -> np.ndarray:
    """Read a matrix of vectors from ``.npy`` or (gzipped) CSV.

    Parameters
    ----------
    path : Path
    columns : str, optional
        Comma-separated column names or 0-based indices / ``START:STOP`` ranges.

    Returns
    -------
    ndarray of shape (n_rows, n_columns)

    Raises
    ------
    DataError
        Unreadable file, ragged rows, non-numeric or non-finite cells.
    """
    import numpy as np

    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read {str(path)!r}: {exc}") from exc
        if arr.ndim != 2:
            raise DataError(f"{str(path)!r} holds an array of shape {arr.shape}; expected 2-D")
        return arr[:, _select_columns(columns, None, arr.shape[1])]
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from exc
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{str(path)!r} is empty")
    header = None
    if not all(_is_number(c) for c in rows[0]):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if not rows:
        raise DataError(f"{str(path)!r} has a header but no data rows")
    width = len(header) if header is not None else len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            line = i + 1 + (header is not None)
            raise DataError(f"{str(path)!r} line {line}: {len(row)} fields, expected {width}")
    index = _select_columns(columns, header, width)
    try:
        values = np.array([[float(row[j]) for j in index] for row in rows])
    except ValueError as exc:
        raise DataError(f"{str(path)!r}: a cell is not a number ({exc})") from None
    if not np.all(np.isfinite(values)):
        i, j = np.argwhere(~np.isfinite(values))[0]
        raise DataError(f"{str(path)!r} data row {i + 1}, column {index[j]}: not finite")
    return values


@lsh_app.command()
def build(
    vectors: Path = typer.Argument(..., help="Vectors to index: .npy or CSV (.csv, .csv.gz)."),
    output: Path = typer.Option(..., "-o", "--output", help="Index base path (.json + .npz)."),
    nbits: int = typer.Option(64, "--nbits", "-b", help="Bits (hyperplanes) per table."),
    tables: int = typer.Option(1, "--tables", "-t", help="Number of hash tables."),
    metric: str = typer.Option("l2", "--metric", help="Distance: l2 or cosine."),
    center: bool | None = typer.Option(
        None, "--center/--no-center", help="Hash around the mean (default: on for l2)."
    ),
    probes: int = typer.Option(
        0, "--probes", help="Buckets probed per table (0: rank every code by Hamming distance)."
    ),
    rerank: int = typer.Option(0, "--rerank", help="Re-rank this many candidates exactly."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed of the hyperplanes."),
    columns: str | None = _COLUMNS,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Build an LSH index of the rows of VECTORS and save it as OUTPUT.json + OUTPUT.npz."""
    from emkit.lsh import LSHIndex

    X = read_vectors(vectors, columns)
    index = LSHIndex(
        nbits,
        tables,
        metric=metric,
        center=center,
        n_probes=probes,
        rerank=rerank,
        random_state=seed,
    ).fit(X)
    json_path, npz_path = index.save(output)
    summary = {
        "n_samples": index.n_samples_,
        "n_features": index.n_features_in_,
        "nbits": nbits,
        "tables": tables,
        "metric": metric,
        "index": [str(json_path), str(npz_path)],
    }
    if as_json:
        emit_json(summary, None)
    else:
        console.print(
            f"indexed {index.n_samples_} vectors of {index.n_features_in_} features "
            f"({nbits} bits x {tables} table(s), {metric}) -> {json_path}, {npz_path}",
            highlight=False,
        )


def _neighbours_csv(dist: np.ndarray, ind: np.ndarray) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["query", "rank", "neighbor", "distance"])
    for q in range(ind.shape[0]):
        for r in range(ind.shape[1]):
            if ind[q, r] >= 0:
                writer.writerow([q, r, int(ind[q, r]), repr(float(dist[q, r]))])
    return out.getvalue()


def _neighbours_json(dist: np.ndarray, ind: np.ndarray) -> dict[str, Any]:
    return {
        "k": int(ind.shape[1]),
        "neighbors": [[int(i) if i >= 0 else None for i in row] for row in ind],
        "distances": [[float(d) if math.isfinite(d) else None for d in row] for row in dist],
    }


@lsh_app.command()
def query(
    index_path: Path = typer.Argument(..., help="Index base path written by `emkit lsh build`."),
    queries: Path = typer.Argument(..., help="Query vectors: .npy or CSV (.csv, .csv.gz)."),
    k: int = typer.Option(10, "-k", help="Number of neighbours per query."),
    probes: int | None = typer.Option(None, "--probes", help="Override the index's probes."),
    rerank: int | None = typer.Option(None, "--rerank", help="Override the index's rerank."),
    columns: str | None = _COLUMNS,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write neighbours here: .json, otherwise CSV."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout instead of CSV."),
) -> None:
    """The k approximate nearest neighbours of each row of QUERIES (long CSV or JSON).

    CSV columns: query (row of QUERIES, from 0), rank, neighbor (row of the indexed vectors,
    from 0), distance (exact).
    """
    from emkit.lsh import LSHIndex

    index = LSHIndex.load(index_path)
    Q = read_vectors(queries, columns)
    dist, ind = index.query(Q, k, n_probes=probes, rerank=rerank)
    if output is not None and output.suffix == ".json":
        emit_json(_neighbours_json(dist, ind), output)
    elif output is not None:
        atomic_write(output, _neighbours_csv(dist, ind).encode())
    if output is None or as_json:
        if as_json:
            emit_json(_neighbours_json(dist, ind), None)
        else:
            typer.echo(_neighbours_csv(dist, ind), nl=False)
