"""``emkit report FIT.json``: a page for a fit the user saved with :func:`emkit.save`.

Every emkit model gets the objective per iteration, the fit's diagnostics, its hyperparameters
and its fitted parameters as tables. A model family adds its own figures by registering a hook::

    @register_model_report(GaussianMixture)
    def _gmm_report(model: GaussianMixture) -> list[Section]:
        return [Section(title="Components", hidden=..., estimated=..., figures=[...])]

Hooks are looked up along the estimator's class hierarchy (its MRO), so a subclass inherits its
parent's figures unless it registers its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from emkit._version import __version__
from emkit.base import EMEstimator, MixtureEstimator
from emkit.exceptions import DataError
from emkit.report.blocks import Cell, Section, Table
from emkit.report.html import Page

__all__ = [
    "MODEL_REPORTS",
    "fit_json_path",
    "fit_page",
    "load_fit",
    "model_report_hook",
    "parameter_tables",
    "register_model_report",
]

ReportHook = Callable[[Any], list[Section]]

#: Model-specific report hooks, by estimator class.
MODEL_REPORTS: dict[type, ReportHook] = {}

_MODULE_NAME = re.compile(r"^emkit(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def register_model_report(cls: type) -> Callable[[ReportHook], ReportHook]:
    """Register ``hook(model) -> list[Section]``: the figures ``emkit report`` adds for ``cls``."""

    def decorator(hook: ReportHook) -> ReportHook:
        MODEL_REPORTS[cls] = hook
        return hook

    return decorator


def model_report_hook(model: object) -> ReportHook | None:
    """The hook registered for ``type(model)`` or its nearest base class, if any."""
    for klass in type(model).__mro__:
        if klass in MODEL_REPORTS:
            return MODEL_REPORTS[klass]
    return None


def fit_json_path(path: str | Path) -> Path:
    """The JSON file of a saved fit: ``PATH.json`` for ``PATH``, ``PATH.json`` or ``PATH.npz``."""
    given = Path(path)
    if given.suffix == ".npz":
        return given.with_suffix(".json")
    if given.suffix != ".json" and not given.is_file():
        with_json = given.with_name(given.name + ".json")
        if with_json.is_file():
            return with_json
    return given


def load_fit(path: str | Path) -> EMEstimator[Any]:
    """Load a model saved by :func:`emkit.save` (``PATH.json`` + ``PATH.npz``) for a report.

    The class named in the file is imported first when it lives in an ``emkit.*`` module (never
    another package's: loading a file must not run arbitrary code), so models of every emkit
    family load without the caller importing them.

    Raises
    ------
    DataError
        If the file is unreadable, not an emkit model (with a hint when it is the fit summary
        that ``-o`` writes), or names an unknown class.
    """
    from emkit.io import FORMAT, load

    json_path = fit_json_path(path)
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DataError(f"cannot read model file {str(json_path)!r}: {reason}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        hint = ""
        if isinstance(meta, dict) and "log_likelihood_history" in meta and "model" in meta:
            hint = (
                ": it is a fit summary (what -o writes); save the model itself with "
                "--save-model PATH or emkit.save(model, PATH) and pass PATH.json"
            )
        raise DataError(f"{str(json_path)!r} is not an emkit model file ({FORMAT}){hint}")
    class_name = meta.get("class")
    if isinstance(class_name, str) and _MODULE_NAME.match(class_name):
        module = class_name.rsplit(".", 1)[0]
        with contextlib.suppress(ImportError):  # load() then names the unknown class
            importlib.import_module(module)
    try:
        return load(json_path)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"{str(json_path)!r} is not a valid emkit model file: {type(exc).__name__}: {exc}"
        ) from exc


# -- tables ---------------------------------------------------------------------------------
def _columns(name: str, shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def parameter_tables(model: EMEstimator[Any], max_cells: int = 400) -> list[Table]:
    """The fitted parameters as tables: per component where the model has components.

    Arrays whose first axis is the number of components go into one table with a row per
    component (up to 16 columns); scalars into one name/value table; other arrays as a matrix
    when small, otherwise as a summary (shape, min, mean, max).
    """
    params = model.params_
    arrays = {f.name: np.asarray(getattr(params, f.name)) for f in dataclasses.fields(params)}
    n_components = getattr(model, "n_components", None)
    tables: list[Table] = []
    per_component: dict[str, np.ndarray] = {}
    if isinstance(n_components, int) and n_components > 0:
        width = 0
        for name, arr in arrays.items():
            if arr.ndim >= 1 and arr.shape[0] == n_components and width + arr[0].size <= 16:
                per_component[name] = arr
                width += arr[0].size
    if per_component:
        columns = ["component"]
        for name, arr in per_component.items():
            columns += _columns(name, arr.shape[1:])
        rows: list[list[Cell]] = []
        for k in range(n_components or 0):
            row: list[Cell] = [k]
            for arr in per_component.values():
                row += [float(v) for v in np.ravel(arr[k])]
            rows.append(row)
        tables.append(Table("Parameters per component", columns, rows, digits=6))
    rest = {n: a for n, a in arrays.items() if n not in per_component}
    scalars = {n: a for n, a in rest.items() if a.size == 1}
    if scalars:
        scalar_rows: list[list[Cell]] = [[n, float(a.ravel()[0])] for n, a in scalars.items()]
        tables.append(Table("Scalar parameters", ["parameter", "value"], scalar_rows, digits=6))
    summaries: list[list[Cell]] = []
    for name, arr in rest.items():
        if name in scalars:
            continue
        small = arr.ndim <= 2 and arr.size <= max_cells
        if small and (arr.ndim == 1 or arr.shape[1] <= 16):
            matrix = arr.reshape(-1, 1) if arr.ndim == 1 else arr
            cols = ["row", *([name] if matrix.shape[1] == 1 else _columns(name, arr.shape[1:]))]
            mrows: list[list[Cell]] = [
                [i, *(float(v) for v in r)] for i, r in enumerate(matrix.astype(np.float64))
            ]
            tables.append(Table(f"{name}  (shape {arr.shape})", cols, mrows, digits=6))
        elif small and arr.shape[0] <= 16:  # wide and short: one row per column instead
            cols = ["column", *(f"{name}[{i},:]" for i in range(arr.shape[0]))]
            trows: list[list[Cell]] = [
                [j, *(float(v) for v in c)] for j, c in enumerate(arr.T.astype(np.float64))
            ]
            title = f"{name}  (shape {arr.shape}, shown transposed)"
            tables.append(Table(title, cols, trows, digits=6))
        else:
            values = arr.astype(np.float64)
            summaries.append(
                [
                    name,
                    "×".join(map(str, arr.shape)),
                    float(values.min()),
                    float(values.mean()),
                    float(values.max()),
                ]
            )
    if summaries:
        tables.append(
            Table(
                "Larger parameter arrays (summary)",
                ["parameter", "shape", "min", "mean", "max"],
                summaries,
                digits=6,
            )
        )
    return tables


def _hyperparameter_table(model: EMEstimator[Any]) -> Table:
    rows: list[list[Cell]] = []
    for name, value in sorted(model.get_params(deep=False).items()):
        if isinstance(value, np.ndarray):
            text = np.array2string(value, precision=4, threshold=12, separator=", ")
        else:
            text = repr(value)
        rows.append([name, " ".join(text.split())])
    return Table("Hyperparameters", ["name", "value"], rows)


def _fit_section(model: EMEstimator[Any]) -> Section:
    from emkit.report import figures

    history = np.asarray(model.log_likelihood_history_, dtype=np.float64)
    name = "classification log-likelihood" if model.hard else "log-likelihood"
    if isinstance(model, MixtureEstimator):
        hidden = f"Which of the {model.n_components} components produced each row."
    else:
        hidden = f"The hidden variables of {type(model).__name__} (see its documentation)."
    converged = "converged" if model.converged_ else "stopped at max_iter without converging"
    estimated = (
        f"The parameters below, by {'hard' if model.hard else 'soft'} EM: "
        f"{model.n_iter_} iterations, {converged}; final {name} {model.log_likelihood_:.6g} "
        f"({model.lower_bound_:.6g} per unit of sample weight)."
    )
    diagnostics = Table(
        "Fit",
        ["quantity", "value"],
        [
            ["iterations (n_iter_)", int(model.n_iter_)],
            ["converged (converged_)", str(bool(model.converged_))],
            [f"final {name} (log_likelihood_)", float(model.log_likelihood_)],
            ["per unit of weight (lower_bound_)", float(model.lower_bound_)],
            ["starting " + name, float(history[0])],
        ],
        digits=6,
    )
    return Section(
        title="Fit",
        hidden=hidden,
        estimated=estimated,
        figures=[figures.objective_figure(history, hard=bool(model.hard))],
        tables=[diagnostics, _hyperparameter_table(model)],
        key="fit",
    )


def fit_page(model: EMEstimator[Any], source: str) -> Page:
    """The report page of a fitted model: objective, parameters, model-specific sections.

    Parameters
    ----------
    model : EMEstimator
        A fitted model (e.g. from :func:`load_fit`).
    source : str
        Where it came from (shown on the page), e.g. the file name.
    """
    from emkit.report.figures import require_matplotlib
    from emkit.report.sections import load_section_modules

    require_matplotlib()
    load_section_modules()  # model families register their report hooks there too
    sections: list[Section] = [_fit_section(model)]
    sections.append(
        Section(
            title="Parameters",
            hidden="",
            estimated="",
            tables=parameter_tables(model),
            key="parameters",
        )
    )
    hook = model_report_hook(model)
    if hook is not None:
        for i, extra in enumerate(hook(model)):
            extra.key = extra.key or f"model-{i}"
            sections.append(extra)
    doc = (type(model).__doc__ or "").strip().splitlines()
    summary = doc[0].rstrip(".") if doc else type(model).__name__
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Page(
        title=f"{type(model).__name__}: {Path(source).name}",
        lead=f"{summary}. The fit saved in {source}, as emkit sees it.",
        sections=sections,
        meta=[f"emkit {__version__}", f"generated {stamp}", f"{type(model).__module__}"],
        footer="Made by `emkit report`. Self-contained: figures are embedded, nothing is "
        "loaded from the network.",
    )


# -- hooks for the models that ship with emkit --------------------------------------------
def _coin_mixture_report(model: Any) -> list[Section]:
    from emkit.report import figures

    return [
        Section(
            title="Components",
            hidden=f"The component of each row, one of {model.n_components}.",
            estimated="Each component's weight and its probability of success per feature.",
            figures=[figures.mixture_parameters_figure(model.weights_, model.theta_)],
            key="components",
        )
    ]


def _register_builtin_hooks() -> None:
    from emkit.models import BernoulliMixture, BinomialMixture

    register_model_report(BinomialMixture)(_coin_mixture_report)
    register_model_report(BernoulliMixture)(_coin_mixture_report)


_register_builtin_hooks()
