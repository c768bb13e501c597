"""Save and load fitted models safely: JSON for hyperparameters and metadata, .npz for arrays.

Nothing is unpickled on load: the JSON names the estimator class, which must be one registered
by importing it (every :class:`~emkit.base.EMEstimator` subclass registers itself), and the
arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emkit._files import atomic_write, atomic_writer
from emkit._version import __version__
from emkit.exceptions import DataError

if TYPE_CHECKING:
    from emkit.base import EMEstimator

__all__ = ["atomic_write", "atomic_writer", "load", "save"]

FORMAT = "emkit-model/1"


def _json_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot save hyperparameter value {value!r} of type {type(value).__name__}")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    return value


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    return base.with_suffix(".json"), base.with_suffix(".npz")


def save(estimator: EMEstimator[Any], path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Save a fitted estimator as ``<path>.json`` and ``<path>.npz``.

    Parameters
    ----------
    estimator : EMEstimator
        A fitted emkit estimator.
    path : path-like
        Base name; a ``.json`` or ``.npz`` suffix is replaced.

    Returns
    -------
    (json_path, npz_path)
    """
    import io

    state = dict(estimator._fitted_state())
    json_path, npz_path = _paths(path)
    params = estimator.params_
    arrays = {
        f"param.{f.name}": np.asarray(getattr(params, f.name)) for f in dataclasses.fields(params)
    }
    arrays["log_likelihood_history"] = np.asarray(estimator.log_likelihood_history_)
    meta = {
        "format": FORMAT,
        "emkit_version": __version__,
        "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "hyperparameters": {
            k: _json_value(v)
            for k, v in estimator.get_params(deep=False).items()
            if not isinstance(v, np.random.RandomState)
        },
        "fitted": state,
        "npz": npz_path.name,
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    atomic_write(npz_path, buffer.getvalue())
    atomic_write(json_path, (json.dumps(meta, indent=2) + "\n").encode())
    return json_path, npz_path


def load(path: str | os.PathLike[str]) -> EMEstimator[Any]:
    """Load an estimator saved by :func:`save`, without unpickling anything.

    Raises
    ------
    DataError
        If the files are missing, unreadable, of another format, or name an unknown class.
    """
    json_path, npz_path = _paths(path)
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read model file {str(json_path)!r}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"{str(json_path)!r} is not an emkit model file (format {FORMAT})")
    from emkit.base import REGISTRY

    module = str(meta["class"]).rpartition(".")[0]
    if meta["class"] not in REGISTRY and module.partition(".")[0] == "emkit":
        # emkit's own classes register when their module is imported: import it now
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    cls = REGISTRY.get(meta["class"])
    if cls is None:
        raise DataError(
            f"unknown model class {meta['class']!r} in {str(json_path)!r}: import the module "
            "that defines it before loading"
        )
    hyper = {k: _from_json(v) for k, v in meta["hyperparameters"].items()}
    estimator = cls(**hyper)
    try:
        with np.load(json_path.parent / meta["npz"], allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read model arrays {str(npz_path)!r}: {exc}") from exc
    params = estimator.params_type(
        **{k[len("param.") :]: v for k, v in arrays.items() if k.startswith("param.")}
    )
    for key, value in meta["fitted"].items():
        setattr(estimator, key, value)
    if not estimator.n_features_in_:
        del estimator.n_features_in_
    estimator.params_ = params
    for f in dataclasses.fields(params):
        setattr(estimator, f"{f.name}_", getattr(params, f.name))
    estimator.log_likelihood_history_ = arrays["log_likelihood_history"]
    return estimator
