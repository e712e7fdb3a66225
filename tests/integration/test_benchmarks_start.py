"""Every benchmark starts the way the README runs it: `python benchmarks/<name>.py`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# classifier.py has no options: it trains and measures at once
# (tests/integration/test_classifier.py).
NO_OPTIONS = {"classifier.py"}
# Data that benchmarks import, not run (customers.py: the customers intake_turns.py plays).
DATA_MODULES = {"customers.py"}
WITH_OPTIONS = sorted(
    p.name for p in BENCHMARKS.glob("*.py") if p.name not in NO_OPTIONS | DATA_MODULES
)


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


@pytest.mark.parametrize("name", sorted(DATA_MODULES))
def test_a_data_module_is_not_a_script(name: str) -> None:
    """A file left out above is data: nothing in it runs as a script, and a benchmark uses it."""
    source = (BENCHMARKS / name).read_text(encoding="utf-8")
    assert "__main__" not in source
    module = name.removesuffix(".py")
    users = [
        p.name
        for p in BENCHMARKS.glob("*.py")
        if f"benchmarks.{module} import" in p.read_text(encoding="utf-8")
    ]
    assert users, f"no benchmark imports {name}"
