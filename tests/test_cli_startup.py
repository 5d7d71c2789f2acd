"""Fast start: `classifier --help` (and `score --help`) import neither scikit-learn, pandas nor rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("sklearn", "pandas", "scipy", "pyarrow", "joblib", "skops", "rich")  # rich: typer's help, turned off


@pytest.mark.parametrize("argv", [["--help"], ["score", "--help"], ["--version"]], ids=" ".join)
def test_help_imports_no_heavy_library(argv):
    code = (
        "import sys\n"
        "from classifier.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "assert not heavy, f'imported by --help: {heavy}'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "classifier" in result.stdout
