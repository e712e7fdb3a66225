"""Every benchmark starts the way the README runs it: `python benchmarks/<name>.py`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# classifier.py has no options: it trains and measures at once
# (tests/integration/test_classifier.py).
WITH_OPTIONS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "classifier.py")


@pytest.mark.parametrize("name", WITH_OPTIONS)
def test_benchmark_starts_as_a_script(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=BENCHMARKS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
