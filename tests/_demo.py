"""`emkit demo` run once per test session, shared by the tests that read its report."""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path

from emkit.cli import main


@functools.cache
def demo_report_dir() -> Path:
    """Folder holding the ``report.html`` of one ``emkit demo`` run (deleted at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="emkit-demo-test-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    out = folder / "out"
    old = sys.argv
    sys.argv = ["emkit", "demo", "--output-dir", str(out)]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, f"emkit demo exited with {exc.code}"
    finally:
        sys.argv = old
    return out
