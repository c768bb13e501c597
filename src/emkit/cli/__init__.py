"""The ``emkit`` command line: one subcommand per problem.

Each subcommand lives in its own module, registers itself on :data:`app`, and is listed in
:data:`emkit.cli._commands.COMMANDS`; a module is imported only when its command runs, so start-up
stays fast (``benchmarks/bench_startup.py``). Errors in the user's input become a one-line
message and exit code 2, never a traceback.
"""

from __future__ import annotations

from emkit.cli._app import app, main

__all__ = ["app", "main"]
