"""Package attributes imported on first use (PEP 562), so that ``import emkit`` stays light.

``import emkit`` then costs a few milliseconds; ``emkit.GaussianMixture`` imports its module (and
NumPy, SciPy ...) when first asked for. ``tests/test_startup.py`` checks that every exported name
resolves and that the heavy libraries stay out of ``sys.modules``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose attribute ``name`` lives in the
    module ``exports[name]``."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals_ = importlib.import_module(package).__dict__
        globals_[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(exports))

    return __getattr__, __dir__
