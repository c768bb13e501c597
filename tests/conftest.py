"""Test-session settings."""

import os as _os

from hypothesis import settings as _settings

# CI runs the property tests on a fixed sequence of examples (reproducible landings); locally
# hypothesis explores new examples on every run.
_settings.register_profile("ci", derandomize=True, database=None)
if _os.environ.get("CI"):
    _settings.load_profile("ci")
