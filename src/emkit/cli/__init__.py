"""The ``emkit`` command line: one subcommand per problem.

Each subcommand lives in its own module and registers itself on :data:`app`; errors in the
user's input become a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

from emkit.cli._app import app, main

# subcommand modules register themselves on import
from emkit.cli import demo as _demo  # noqa: F401  isort: skip
from emkit.cli import fit as _fit  # noqa: F401  isort: skip
from emkit.cli import motif as _motif  # noqa: F401  isort: skip
from emkit.cli import report as _report  # noqa: F401  isort: skip
from emkit.cli import topics as _topics  # noqa: F401  isort: skip
from emkit.cli import lsh as _lsh  # noqa: F401  isort: skip
from emkit.cli import crowd as _crowd  # noqa: F401  isort: skip
from emkit.cli import segment as _segment  # noqa: F401  isort: skip
from emkit.cli import gmm as _gmm  # noqa: F401  isort: skip

__all__ = ["app", "main"]
