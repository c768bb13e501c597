"""Rows that live outside memory: NumPy ``.npy`` files, Parquet files, any sliceable array.

A :class:`RowSource` knows its shape and dtype and reads a block of consecutive rows on demand;
the streamed and Dask executors (:mod:`emkit.executors`) read one block at a time, so a fit never
holds more than a few blocks in memory. Pass a source, or simply a path, wherever ``fit`` takes
``X`` (and, as 1-D sources, ``sample_weight`` or per-row data such as ``trials``)::

    model.fit("big.npy", executor="stream")
    model.fit(ParquetSource("runs/", columns=["x1", "x2"]), trials=ParquetSource("runs/", "n"))

========================  ===========================================================
input                     source
========================  ===========================================================
``*.npy`` path            :class:`NpySource`: positioned reads of the file (C order)
``*.parquet`` path / dir  :class:`ParquetSource`: all numeric columns, row group by row group
``*.npz`` path            :class:`SparseNpzSource`: a CSR matrix (``scipy.sparse.save_npz``),
                          read as CSR blocks of rows
zarr / h5py / dask array  :class:`ArraySource`: slices of the array, converted to NumPy
scipy.sparse matrix       :class:`ArraySource`: CSR blocks of rows (never densified)
========================  ===========================================================

Sources are picklable (they hold a path, never an open file), so Dask workers open the files
themselves: on a cluster the path must be visible to every worker (a shared file system, or
the same copy on every node).
"""

from __future__ import annotations

import os
import struct
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from emkit.exceptions import DataError

__all__ = [
    "ArraySource",
    "NpySource",
    "ParquetSource",
    "RowSource",
    "SparseNpzSource",
    "as_source",
    "stack_rows",
]

PathLike = str | os.PathLike[str]


def stack_rows(parts: Sequence[Any]) -> Any:
    """Blocks of rows stacked in order: a CSR matrix if they are sparse, else a NumPy array."""
    if any(sp.issparse(p) for p in parts):
        return sp.csr_matrix(sp.vstack(parts, format="csr"))
    return np.concatenate(parts)


class RowSource(ABC):
    """Rows read a block at a time; the first axis indexes rows.

    Subclasses set ``shape`` and ``dtype`` and implement :meth:`read`. Slicing rows
    (``source[a:b]``, also with a tuple of slices as ``dask.array.from_array`` uses) reads them.
    """

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    #: Whether :meth:`read` returns scipy.sparse CSR blocks rather than NumPy arrays.
    sparse: bool = False

    @property
    def ndim(self) -> int:
        """Number of dimensions (1 for a column, 2 for a feature matrix)."""
        return len(self.shape)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.shape[0])

    def __len__(self) -> int:
        return self.n_rows

    @abstractmethod
    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a NumPy array of shape ``(stop - start, *shape[1:])``."""

    def take(self, index: np.ndarray, block_rows: int = 65536) -> np.ndarray:
        """Rows at the sorted positions ``index``, reading only the blocks that hold them."""
        index = np.asarray(index, dtype=np.intp)
        parts = []
        for start in range(0, self.n_rows, block_rows):
            lo, hi = np.searchsorted(index, [start, start + block_rows])
            if hi > lo:
                stop = min(start + block_rows, self.n_rows)
                parts.append(self.read(start, stop)[index[lo:hi] - start])
        if not parts:
            return self.read(0, 0)
        return stack_rows(parts)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every row, read into memory (``np.asarray(source)``)."""
        block = self.read(0, self.n_rows)
        return block if dtype is None else block.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        rest: tuple[Any, ...] = ()
        if isinstance(key, tuple):
            key, rest = (key[0], key[1:]) if key else (slice(None), ())
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError(f"{type(self).__name__} supports only row slices, got {key!r}")
        start, stop, _ = key.indices(self.n_rows)
        block = self.read(start, max(start, stop))
        index = (slice(None),) + rest  # noqa: RUF005  (a subscript with * needs Python 3.11)
        return block[index] if rest else block

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"


class ArraySource(RowSource):
    """Any array that slices by rows (NumPy memmap, zarr, h5py, dask): blocks become NumPy.

    A scipy.sparse matrix gives CSR blocks (it is converted to CSR once, never densified).

    Parameters
    ----------
    array : array-like or sparse matrix
        An object with ``shape``, ``dtype`` and row slicing.
    """

    def __init__(self, array: Any) -> None:
        if sp.issparse(array):
            array = sp.csr_matrix(array)
            self.sparse = True
        elif not (hasattr(array, "shape") and hasattr(array, "dtype")):
            array = np.asarray(array)
        if len(array.shape) == 0:
            raise DataError("a row source needs at least one dimension, got a scalar")
        self.array = array
        self.shape = tuple(int(s) for s in array.shape)
        self.dtype = np.dtype(array.dtype)

    def read(self, start: int, stop: int) -> np.ndarray:
        if self.sparse:
            return self.array[start:stop]
        return np.asarray(self.array[start:stop])


class NpySource(RowSource):
    """A NumPy ``.npy`` file read a block of rows at a time.

    C-ordered files (what ``np.save`` writes) are read with positioned reads of exactly the
    requested rows, so, unlike a ``np.memmap``, the pages read do not stay mapped in the
    process (its resident memory stays at a few blocks however large the file).
    Fortran-ordered files fall back to a read-only memmap.

    Parameters
    ----------
    path : path-like
        The ``.npy`` file.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        try:
            with self.path.open("rb") as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    header = np.lib.format.read_array_header_2_0(fh)
                else:  # version 3 (utf-8 field names): let NumPy parse it
                    header = None
                self._offset = fh.tell()
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read {str(self.path)!r} as a .npy file: {exc}") from exc
        if header is None:
            mm = np.load(self.path, mmap_mode="r")
            shape, fortran, dtype = mm.shape, bool(np.isfortran(mm)), mm.dtype
            self._offset = int(mm.offset)
        else:
            shape, fortran, dtype = header
        if dtype.hasobject:
            raise DataError(f"{str(self.path)!r} holds Python objects; emkit reads numeric arrays")
        if len(shape) == 0:
            raise DataError(f"{str(self.path)!r} holds a scalar, not rows")
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self._fortran = bool(fortran) and len(shape) > 1
        self._row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        expected = self._offset + self.n_rows * self._row_items * self.dtype.itemsize
        size = self.path.stat().st_size
        if size < expected:
            raise DataError(
                f"{str(self.path)!r} is truncated: {size} bytes, its header promises {expected}"
            )

    def read(self, start: int, stop: int) -> np.ndarray:
        count = max(0, stop - start)
        if self._fortran:
            mm = np.load(self.path, mmap_mode="r")
            return np.array(mm[start:stop])
        with self.path.open("rb") as fh:
            fh.seek(self._offset + start * self._row_items * self.dtype.itemsize)
            flat = np.fromfile(fh, dtype=self.dtype, count=count * self._row_items)
        return flat.reshape((count, *self.shape[1:]))

    def take(self, index: np.ndarray, block_rows: int = 65536) -> np.ndarray:
        if self._fortran:
            return super().take(index, block_rows)
        index = np.asarray(index, dtype=np.intp)
        out = np.empty((index.size, *self.shape[1:]), dtype=self.dtype)
        row_bytes = self._row_items * self.dtype.itemsize
        flat = out.reshape(index.size, -1).view(np.uint8).reshape(index.size, row_bytes)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for j, i in enumerate(index):
                flat[j] = np.frombuffer(
                    os.pread(fd, row_bytes, self._offset + int(i) * row_bytes), dtype=np.uint8
                )
        finally:
            os.close(fd)
        return out

    def __repr__(self) -> str:
        return f"NpySource({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


def _import_pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading Parquet needs pyarrow: pip install 'emkit[stream]' (or pyarrow)"
        ) from exc
    return pq


class ParquetSource(RowSource):
    """Numeric columns of a Parquet file, or of a directory of Parquet files, row group by group.

    Blocks are cut from whole row groups (a group is decoded once per pass and kept while the
    reads stay inside it), so the memory of a streamed pass is about one row group plus one
    block: write large files with row groups of 10^4 to 10^6 rows.

    Parameters
    ----------
    path : path-like
        A ``.parquet`` file, or a directory whose ``*.parquet`` files (sorted by name) are read
        one after the other as one table.
    columns : str or sequence of str, optional
        The columns to read. A sequence (default: every column) gives rows of shape
        ``(len(columns),)``; a single name gives a 1-D source (for ``sample_weight``,
        ``trials`` ...). Integer and boolean columns are read as float64; nulls become NaN
        (which the models reject with a clear error).
    """

    def __init__(self, path: PathLike, columns: str | Sequence[str] | None = None) -> None:
        pq = _import_pyarrow()
        self.path = Path(path)
        if self.path.is_dir():
            files = sorted(self.path.glob("*.parquet"))
            if not files:
                raise DataError(f"no *.parquet files in directory {str(self.path)!r}")
        else:
            files = [self.path]
        self.files = files
        pieces: list[tuple[int, int, int]] = []  # (file, row group, rows)
        schema = None
        for f_index, file in enumerate(files):
            try:
                meta = pq.ParquetFile(file).metadata
            except (OSError, ValueError) as exc:
                raise DataError(f"cannot read {str(file)!r} as Parquet: {exc}") from exc
            file_schema = meta.schema.to_arrow_schema()
            if schema is None:
                schema = file_schema
            elif not schema.equals(file_schema):
                raise DataError(
                    f"{str(file)!r} has a schema different from {str(files[0])!r}: the files "
                    "of one table must share their columns and types"
                )
            pieces += [(f_index, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
        assert schema is not None
        self._squeeze = isinstance(columns, str)
        names = list(schema.names)
        if columns is None:
            wanted = names
        elif isinstance(columns, str):
            wanted = [columns]
        else:
            wanted = list(columns)
        missing = [c for c in wanted if c not in names]
        if missing:
            raise DataError(
                f"unknown column {missing[0]!r} in {str(self.path)!r}; available columns: {names}"
            )
        dtypes = []
        for name in wanted:
            arrow_type = schema.field(name).type
            try:
                dtype = np.dtype(arrow_type.to_pandas_dtype())
            except (NotImplementedError, TypeError):
                dtype = np.dtype(object)
            if dtype.kind not in "biuf":
                raise DataError(
                    f"column {name!r} of {str(self.path)!r} has type {arrow_type}; "
                    "emkit reads numeric columns only"
                )
            dtypes.append(dtype)
        self.columns = wanted
        self.dtype = (
            np.result_type(*dtypes) if all(d.kind == "f" for d in dtypes) else np.dtype(np.float64)
        )
        self._pieces = pieces
        self._starts = np.cumsum([0] + [p[2] for p in pieces])
        n_rows = int(self._starts[-1])
        self.shape = (n_rows,) if self._squeeze else (n_rows, len(wanted))
        self._cache: tuple[int, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = None  # a decoded row group is not worth shipping to a worker
        return state

    def _piece(self, p: int) -> np.ndarray:
        if self._cache is not None and self._cache[0] == p:
            return self._cache[1]
        pq = _import_pyarrow()
        f_index, group, rows = self._pieces[p]
        table = pq.ParquetFile(self.files[f_index]).read_row_group(group, columns=self.columns)
        block = np.empty((rows, len(self.columns)), dtype=self.dtype)
        for j, name in enumerate(self.columns):
            column = table.column(name).to_numpy(zero_copy_only=False)
            if column.dtype == object:  # nulls in an integer or boolean column
                column = np.array([np.nan if v is None else v for v in column], dtype=float)
            block[:, j] = column
        self._cache = (p, block)
        return block

    def read(self, start: int, stop: int) -> np.ndarray:
        parts = []
        if stop > start:
            first = int(np.searchsorted(self._starts, start, side="right")) - 1
            last = int(np.searchsorted(self._starts, stop, side="left"))
            for p in range(first, last):
                lo, hi = int(self._starts[p]), int(self._starts[p + 1])
                block = self._piece(p)
                parts.append(block[max(start, lo) - lo : min(stop, hi) - lo])
        out = (
            np.concatenate(parts)
            if len(parts) > 1
            else (parts[0].copy() if parts else np.empty((0, len(self.columns)), self.dtype))
        )
        return out[:, 0] if self._squeeze else out

    def __repr__(self) -> str:
        return f"ParquetSource({str(self.path)!r}, columns={self.columns!r}, n_rows={self.n_rows})"


def _npz_member(path: Path, zf: zipfile.ZipFile, name: str) -> tuple[int, np.dtype[Any], int]:
    """(offset, dtype, length) of the 1-D array ``name`` stored uncompressed in an .npz file."""
    info = zf.getinfo(f"{name}.npy")
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)  # the zip local file header; its name and extra field follow
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        offset = fh.tell()
    if len(shape) != 1 or dtype.hasobject:
        raise DataError(f"{str(path)!r}: {name} is not a 1-D numeric array")
    return offset, np.dtype(dtype), int(shape[0])


class SparseNpzSource(RowSource):
    """A CSR matrix saved by ``scipy.sparse.save_npz``, read a block of rows at a time.

    With ``save_npz(path, X, compressed=False)`` the arrays are stored uncompressed in the
    archive and a block of rows is two positioned reads (its slice of ``indptr``, then of
    ``indices`` and ``data``): memory stays at one block whatever the size of the file. A
    compressed archive cannot be read in parts: it is loaded whole (once per process) and
    sliced.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file, holding a CSR matrix (other formats: convert with ``.tocsr()``
        before saving).
    """

    sparse = True

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                fmt = npz["format"].item()
                shape = tuple(int(s) for s in npz["shape"])
            fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
            with zipfile.ZipFile(self.path) as zf:
                stored = all(
                    zf.getinfo(f"{k}.npy").compress_type == zipfile.ZIP_STORED
                    for k in ("indptr", "indices", "data")
                )
                members = (
                    {k: _npz_member(self.path, zf, k) for k in ("indptr", "indices", "data")}
                    if stored
                    else {}
                )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise DataError(
                f"cannot read {str(self.path)!r} as a sparse matrix saved by "
                f"scipy.sparse.save_npz: {exc}"
            ) from exc
        if fmt != "csr":
            raise DataError(
                f"{str(self.path)!r} holds a {fmt} matrix; emkit streams CSR rows: save "
                "X.tocsr() instead"
            )
        self.shape = (shape[0], shape[1])
        self._members = members
        self._whole: sp.csr_matrix | None = None
        if members:
            self.dtype = members["data"][1]
        else:
            self.dtype = self._load().dtype

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_whole"] = None  # a worker loads its own copy
        return state

    def _load(self) -> sp.csr_matrix:
        if self._whole is None:
            self._whole = sp.csr_matrix(sp.load_npz(self.path))
        return self._whole

    def _read(self, fh: Any, name: str, start: int, stop: int) -> np.ndarray:
        offset, dtype, _ = self._members[name]
        fh.seek(offset + start * dtype.itemsize)
        return np.fromfile(fh, dtype=dtype, count=max(0, stop - start))

    def read(self, start: int, stop: int) -> Any:
        stop = max(start, stop)
        if not self._members:
            return self._load()[start:stop]
        with self.path.open("rb") as fh:
            indptr = self._read(fh, "indptr", start, stop + 1)
            lo, hi = int(indptr[0]), int(indptr[-1])
            indices = self._read(fh, "indices", lo, hi)
            data = self._read(fh, "data", lo, hi)
        return sp.csr_matrix((data, indices, indptr - lo), shape=(stop - start, self.shape[1]))

    def __repr__(self) -> str:
        return f"SparseNpzSource({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


_SUFFIXES = {
    ".npz": SparseNpzSource,
    ".npy": NpySource,
    ".parquet": ParquetSource,
    ".pq": ParquetSource,
}


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a dask collection (checked without importing dask)."""
    return hasattr(obj, "__dask_graph__") and callable(obj.__dask_graph__)


def as_source(obj: Any) -> RowSource | None:
    """The :class:`RowSource` for ``obj`` if it names rows outside memory, else None.

    Paths become :class:`NpySource` (``.npy``), :class:`SparseNpzSource` (``.npz``) or
    :class:`ParquetSource` (``.parquet``, ``.pq`` or a directory); sources are returned
    unchanged; anything else (NumPy arrays, lists, sparse matrices, dask arrays) is left to the
    caller.

    Raises
    ------
    DataError
        A path that does not exist or has an unsupported suffix.
    """
    if isinstance(obj, RowSource):
        return obj
    if isinstance(obj, str | os.PathLike):
        path = Path(obj)
        if path.is_dir():
            return ParquetSource(path)
        if not path.exists():
            raise DataError(f"no such file: {str(path)!r}")
        cls = _SUFFIXES.get(path.suffix.lower())
        if cls is None:
            raise DataError(
                f"cannot stream {str(path)!r}: supported files are .npy, .npz (a sparse "
                "matrix) and .parquet (or a directory of .parquet files)"
            )
        return cls(path)
    return None
