"""Test-session settings."""

import os as _os

from hypothesis import settings as _settings

# CI runs the property tests on a fixed sequence of examples (reproducible landings); locally
# hypothesis explores new examples on every run.
_settings.register_profile("ci", derandomize=True, database=None)
if _os.environ.get("CI"):
    _settings.load_profile("ci")

# The compiled kernels serve only calls with enough work (emkit._kernels.MIN_COMPILED_WORK) so
# that small command-line fits skip numba's start-up; the tests' inputs are small, and they must
# exercise the compiled paths too (each is also tested equal to its NumPy path). What the
# threshold itself changes is tested in subprocesses with the real value (tests/test_startup.py).
from emkit import _kernels as _emkit_kernels  # noqa: E402

_emkit_kernels.MIN_COMPILED_WORK = 0
